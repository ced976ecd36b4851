"""The package's layers, checked on its import graph (see docs/architecture.md).

The graph is read from the source with :mod:`ast`, not by importing: every
``import`` and ``from ... import`` counts, at module level, inside a function
(an import deferred for speed is still a dependency) or under
``TYPE_CHECKING`` (a type named is a module known). Two rules:

* **no cycle** between modules: each module can be understood, tested and
  changed knowing only the modules below it;
* **the model and the scenario format import nothing above them**: they must
  run anywhere (a Dask worker, a notebook, the web app) without the runner,
  the result tables, the run folders, the pictures, the command line or Dask.

A third test keeps the output side in order (result tables, then run
folders, then rendering, then the command line), which is what lets a new
output file or picture be added in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "simulator"

#: Known cycles that are someone else's work in progress, named here so that the
#: test says so instead of failing for the wrong reason. Empty: none is allowed.
KNOWN_CYCLES: list[set[str]] = []

#: What the model and the scenario format may never import (prefixes of module names).
ABOVE_THE_MODEL = (
    "simulator.runner",
    "simulator.backends",
    "simulator.results",
    "simulator.artifacts",
    "simulator.plots",
    "simulator.report",
    "simulator.compare",
    "simulator.sizing",
    "simulator.quota",
    "simulator.sweep",
    "simulator.province_run",
    "simulator.calibration",
    "simulator.cli",
    "simulator.web",
    "simulator.fit",
    "dask",
    "distributed",
    "matplotlib",
)
#: Outside the package: imported from ``simulator.model`` / ``simulator.scenario``
#: only if listed above (the rest, numpy, simpy, pydantic..., is fine).
EXTERNAL_CHECKED = ("dask", "distributed", "matplotlib")

#: The output side, lowest first: a module may import from its own layer or
#: below, never from a layer above. Modules not named here are not checked
#: by this rule (only by the two above).
OUTPUT_LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("result tables", ("simulator.results", "simulator.display", "simulator.kpis")),
    ("run folders", ("simulator.artifacts",)),
    ("rendering", ("simulator.plots", "simulator.report")),
    ("command line", ("simulator.cli",)),
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imported(
    node: ast.AST, module: str, is_package: bool, modules: frozenset[str] = frozenset()
) -> list[str]:
    """The module names an import statement depends on. ``from a import b`` depends
    on the module ``a.b`` when there is one, else on ``a`` (whose name ``b`` is)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    base = node.module or ""
    if node.level:  # relative: from . import x, from ..model import y
        parts = module.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    names = [f"{base}.{alias.name}" for alias in node.names]
    submodules = [n for n in names if n in modules]
    return submodules if len(submodules) == len(names) else [base, *submodules]


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """``(internal, external)``: for each module of the package, the package's modules
    it imports, and the top-level names of the other packages it imports."""
    modules = _modules()
    names = frozenset(modules)
    internal: dict[str, set[str]] = {m: set() for m in modules}
    external: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _imported(node, module, path.name == "__init__.py", names):
                if not name.startswith("simulator"):
                    external[module].add(name.split(".")[0])
                    continue
                target = name
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    internal[module].add(target)
    return internal, external


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm).

    The package itself (``simulator/__init__.py``, the public API facade) is
    left out: ``from simulator import analytic`` names a module through it
    without depending on everything it re-exports."""
    graph = {m: {t for t in ts if t != "simulator"} for m, ts in graph.items() if m != "simulator"}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _layer_of(module: str) -> int | None:
    for i, (_, prefixes) in enumerate(OUTPUT_LAYERS):
        if _within(module, prefixes):
            return i
    return None


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    return import_graph()


def test_the_walker_sees_function_level_and_relative_imports(tmp_path):
    """The walker itself: an import inside a function and a relative one both count."""
    tree = ast.parse("def f():\n    from simulator.report import x\nfrom . import common\n")
    modules = frozenset({"simulator.report", "simulator.cli.common", "simulator.cli.run"})
    found = [
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in _imported(node, "simulator.cli.run", False, modules)
    ]
    assert sorted(found) == ["simulator.cli.common", "simulator.report"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_the_package_has_no_import_cycle(graph):
    internal, _ = graph
    found = [c for c in cycles(internal) if c not in KNOWN_CYCLES]
    assert not found, "import cycles (break each by moving code down a layer): " + "; ".join(
        " <-> ".join(sorted(c)) for c in found
    )


def test_the_model_and_the_scenario_import_nothing_above_them(graph):
    internal, external = graph
    upward = []
    for module in internal:
        if not _within(module, ("simulator.model", "simulator.scenario")):
            continue
        upward += [f"{module} -> {t}" for t in internal[module] if _within(t, ABOVE_THE_MODEL)]
        upward += [f"{module} -> {t}" for t in external[module] if t in EXTERNAL_CHECKED]
    assert not upward, "the model must not depend on what is built on it: " + ", ".join(
        sorted(upward)
    )


def test_the_output_side_imports_only_downwards(graph):
    internal, _ = graph
    wrong = []
    for module, targets in internal.items():
        mine = _layer_of(module)
        if mine is None:
            continue
        for target in targets:
            theirs = _layer_of(target)
            if theirs is not None and theirs > mine:
                wrong.append(
                    f"{module} ({OUTPUT_LAYERS[mine][0]}) -> {target} ({OUTPUT_LAYERS[theirs][0]})"
                )
    assert not wrong, "imports from a higher layer: " + ", ".join(sorted(wrong))


def test_nothing_imports_the_command_line_but_the_command_line(graph):
    internal, _ = graph
    users = [
        f"{m} -> {t}"
        for m, ts in internal.items()
        if not _within(m, ("simulator.cli", "simulator.web"))
        for t in ts
        if _within(t, ("simulator.cli",))
    ]
    assert not users, "the CLI is the top layer; move shared code below it: " + ", ".join(users)
