"""Sweeps: a grid of scenario variants (or every commune of a province), resumable.

A sweep answers "what if?" over many variants at once::

    pasc sweep scenarios/quang-nam-urban-ward.yaml \\
        --set staff.desks.civil-status.count=2,3,4 --set demand.records_per_day=50,60,70

builds the 3 × 3 cartesian grid of overrides, validates every variant (a bad
value is reported with its key path before anything runs) and simulates each
variant's replications. A province file (see :mod:`simulator.scenario.province`)
makes one variant per commune; ``--set`` on top crosses each commune with the
grid. Linked keys move together: ``--set
demand.channels.online,demand.channels.walk_in=0.3/0.65,0.5/0.45`` makes two
variants whose channel shares still sum to 1.

**Tasks.** The unit of work is a pure function call: replication ``r`` of
variant ``v`` is ``simulate_replication(scenario_v, seed, r)`` and its KPIs
depend on nothing else; with ``size`` each variant also gets a sizing task
(``simulator.sizing.size``). A backend (:mod:`simulator.backends`) runs the
tasks anywhere, in any order.

**Run folder.** ``results/<name>/<timestamp>-sweep/`` holds::

    sweep.json     the spec: source, grid, seed, replications, sizing, and a hash of
                   every variant's resolved scenario (checked on resume)
    variants.csv   one row per variant: its overrides or commune columns
    tasks/         one small JSON file per finished task, written at once, atomically,
                   with a checksum (v00003-r0007.json: variant 3, replication 7;
                   v00003-size.json)
    kpis.csv       every replication's KPIs (variant, replication, kpi...)
    summary.csv    one row per variant: columns, verdicts, minimal staffing, KPI
                   mean / ci_low / ci_high
    sweep.png      a KPI against the swept value, with interval bands and targets

**Resume and fault tolerance.** Each task file appears complete or not at all:
it is written under a temporary name, flushed to the disk (``fsync``), renamed
into place and its folder synced, so an interrupted sweep (Ctrl-C, a killed
job, a power cut) loses only the tasks in flight. A task file holds
``{"task", "result", "sha256"}``, the checksum being over the canonical JSON of
the task and its result. :func:`run_sweep` on the same folder skips every task
whose file reads back whole; a file that does not (empty, truncated, not JSON, a
checksum that does not match) is set aside as ``<name>.json.unreadable``,
reported and computed again. Files written before checksums existed (no
``sha256``) are accepted when they parse. The final tables are always built
from the task files, sorted by (variant, replication), so a resumed run, a run
on one process and a run on a Dask cluster of any size write identical numbers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from simulator.artifacts import (
    new_folder,
    pasc_version,
    sync_folder,
    timestamp,
    write_file_atomically,
)
from simulator.backends import Backend, SerialBackend, Task
from simulator.model import ReplicationOutput, simulate_replication
from simulator.results import kpi_frame, summarize, target_table
from simulator.results.verdicts import overall_verdict
from simulator.scenario import (
    Problem,
    Scenario,
    ScenarioError,
    load_scenario,
    scenario_to_dict,
    scenario_to_yaml,
)
from simulator.scenario.province import is_province_file, load_province

SPEC_FORMAT = "pasc-sweep/1"
SPEC_FILE = "sweep.json"
TASKS_DIR = "tasks"
#: Keys of the spec that must match for a resume (the rest is information).
SPEC_CHECKED = ("kind", "sets", "where", "seed", "replications", "size", "variants_sha256")
#: The command-line option behind each checked key (named when a resume is refused).
SPEC_OPTIONS = {
    "kind": "SOURCE",
    "sets": "--set",
    "where": "--where",
    "seed": "--seed",
    "replications": "--replications",
    "size": "--size/--desk/--max-staff",
    "variants_sha256": "SOURCE",
}
#: Suffix given to a task file that does not read back (kept to look at, then recomputed).
UNREADABLE_SUFFIX = ".unreadable"

ProgressCallback = Callable[[int, int], None]


class SweepError(ValueError):
    """A sweep that cannot run as asked: a bad ``--set``, a folder that does not match."""


# -- the grid ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One ``--set``: key paths that move together, and their values.

    ``staff.desks.civil-status.count=2,3`` is one path with values ``(2,), (3,)``;
    ``a,b=1/2,3/4`` two linked paths with values ``(1, 2), (3, 4)``.
    """

    paths: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    def points(self) -> list[dict[str, Any]]:
        return [dict(zip(self.paths, v, strict=True)) for v in self.values]

    def to_json(self) -> dict[str, Any]:
        return {"paths": list(self.paths), "values": [list(v) for v in self.values]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Axis:
        return cls(tuple(data["paths"]), tuple(tuple(v) for v in data["values"]))


def parse_value(text: str) -> Any:
    """A ``--set`` value as a YAML scalar: ``3`` -> 3, ``0.4`` -> 0.4, ``1e3`` -> 1000.0,
    ``urban`` -> "urban"; quotes keep a string (``'3'`` -> "3")."""
    text = text.strip()
    if not text:
        raise SweepError("expected a value, found an empty string")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str) and value == text:
        try:  # YAML 1.1 reads 1e3 as a string; a planner means a number
            number = float(text)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    if isinstance(value, dict | list) or value is None:
        raise SweepError(f"expected a single value (number or word), found {text!r}")
    return value


def parse_set(text: str) -> Axis:
    """``PATH=V1,V2,...`` (or ``P1,P2=a1/a2,b1/b2`` for linked keys) -> :class:`Axis`."""
    if "=" not in text:
        raise SweepError(f"--set {text}: expected PATH=V1,V2,..., found no '='")
    lhs, rhs = text.split("=", 1)
    paths = tuple(p.strip() for p in lhs.split(","))
    if not all(paths) or any(" " in p for p in paths):
        raise SweepError(f"--set {text}: expected dotted key paths before '=', found {lhs!r}")
    values = []
    for item in rhs.split(","):
        parts = item.split("/") if len(paths) > 1 else [item]
        if len(parts) != len(paths):
            raise SweepError(
                f"--set {text}: expected {len(paths)} values joined by '/' for "
                f"{', '.join(paths)}, found {item!r}"
            )
        try:
            values.append(tuple(parse_value(p) for p in parts))
        except SweepError as exc:
            raise SweepError(f"--set {text}: {exc}") from None
    if len(set(values)) != len(values):
        raise SweepError(f"--set {text}: expected each value once, found a repeat")
    return Axis(paths, tuple(values))


def grid_points(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    """The cartesian product of the axes (the first axis varies slowest)."""
    points: list[dict[str, Any]] = []
    for combo in itertools.product(*(a.points() for a in axes)):
        merged: dict[str, Any] = {}
        for part in combo:
            merged.update(part)
        points.append(merged)
    return points


# -- variants and the plan -----------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One row of the sweep: a validated scenario, its seed and replications, and the
    columns that describe it (its overrides, or its commune's id, class, demand...)."""

    index: int
    scenario: Scenario
    columns: dict[str, Any]
    seed: int
    replications: int

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.columns.items()) or self.scenario.name

    def task_name(self, replication: int) -> str:
        return f"v{self.index:05d}-r{replication:04d}"

    @property
    def size_task_name(self) -> str:
        return f"v{self.index:05d}-size"


@dataclass(frozen=True)
class SizeOptions:
    """What ``--size`` asks of each variant: which desks, up to how many staff."""

    desks: tuple[str, ...] = ()
    max_staff: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"desks": list(self.desks), "max_staff": self.max_staff}


@dataclass
class SweepPlan:
    """Everything a sweep will compute, before anything runs."""

    kind: str  # "scenario" or "province"
    source: Path
    name: str
    axes: list[Axis]
    variants: list[Variant]
    seed: int | None = None
    replications: int | None = None
    size: SizeOptions | None = None
    where: dict[str, str] = field(default_factory=dict)
    neighbours: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _sha256: str | None = field(default=None, repr=False, compare=False)

    @property
    def swept_paths(self) -> list[str]:
        return [p for a in self.axes for p in a.paths]

    def task_names(self) -> list[str]:
        names = []
        for v in self.variants:
            if self.size is not None:
                names.append(v.size_task_name)
            names.extend(v.task_name(r) for r in range(v.replications))
        return names

    def tasks(self, skip: set[str] | frozenset[str] = frozenset()) -> Iterator[Task]:
        """Every task not in ``skip``; sizing first (the long ones), then replications."""
        if self.size is not None:
            for v in self.variants:
                if v.size_task_name not in skip:
                    yield Task(
                        v.size_task_name,
                        minimal_staffing,
                        (v.scenario, v.seed, v.replications, self.size.desks, self.size.max_staff),
                    )
        for v in self.variants:
            for r in range(v.replications):
                name = v.task_name(r)
                if name not in skip:
                    yield Task(name, replication_kpis, (v.scenario, v.seed, r))

    def variants_sha256(self) -> str:
        """A hash of every variant's resolved scenario, seed and replications."""
        if self._sha256 is not None:
            return self._sha256
        digest = hashlib.sha256()
        for v in self.variants:
            item = {
                "scenario": scenario_to_dict(v.scenario),
                "seed": v.seed,
                "replications": v.replications,
                "columns": v.columns,
            }
            digest.update(json.dumps(item, sort_keys=True, default=str).encode())
        self._sha256 = digest.hexdigest()
        return self._sha256

    def spec(self) -> dict[str, Any]:
        """What ``sweep.json`` stores (JSON-ready)."""
        spec = {
            "format": SPEC_FORMAT,
            "kind": self.kind,
            "source": str(self.source.resolve()),
            "name": self.name,
            "sets": [a.to_json() for a in self.axes],
            "where": dict(self.where),
            "seed": self.seed,
            "replications": self.replications,
            "size": None if self.size is None else self.size.to_json(),
            "variants": len(self.variants),
            "tasks": len(self.task_names()),
            "variants_sha256": self.variants_sha256(),
            "pasc_version": pasc_version(),
        }
        return json.loads(json.dumps(spec))

    def kpi_names(self) -> list[str]:
        """Every KPI some variant reports, in display order."""
        from simulator.kpis import kpi_names_for

        names: dict[str, None] = {}
        for v in self.variants:
            staff = v.scenario.staff
            desks = [d.name for d in staff.desks]
            for name in kpi_names_for(desks, staff.back_office > 0, staff.postal_agents > 0):
                names.setdefault(name)
        return list(names)

    def key_prefix(self) -> str:
        """A prefix naming this sweep's tasks on a shared Dask scheduler."""
        return f"pasc-{self.variants_sha256()[:12]}"


def _variant_error(exc: ScenarioError, point: Mapping[str, Any]) -> ScenarioError:
    label = ", ".join(f"{k}={v}" for k, v in point.items())
    problems = [Problem(p.path, f"{p.message} (in the variant {label})") for p in exc.problems]
    return ScenarioError(exc.file, problems)


def plan_sweep(
    source: str | Path,
    sets: Sequence[str | Axis] = (),
    *,
    seed: int | None = None,
    replications: int | None = None,
    size: SizeOptions | None = None,
    where: Mapping[str, str] | None = None,
) -> SweepPlan:
    """Build and validate every variant of a sweep over a scenario or a province file.

    ``sets`` are ``--set`` texts (or :class:`Axis`). ``seed`` and ``replications``
    default to each variant's own scenario (so every grid variant sees the same
    citizens: common random numbers). ``where`` keeps only the communes whose
    column equals the value (``{"province": "ha-noi"}``). Raises
    :class:`ScenarioError` (with the key path) for a variant that does not
    validate and :class:`SweepError` for a bad option.
    """
    file = Path(source)
    axes = [a if isinstance(a, Axis) else parse_set(a) for a in sets]
    paths = [p for a in axes for p in a.paths]
    dup = sorted({p for p in paths if paths.count(p) > 1})
    if dup:
        raise SweepError(f"--set: expected each key path once, found {', '.join(dup)} twice")
    points = grid_points(axes)
    where = dict(where or {})

    def finish(scenario: Scenario, columns: dict[str, Any], index: int) -> Variant:
        return Variant(
            index=index,
            scenario=scenario,
            columns=columns,
            seed=scenario.seed if seed is None else int(seed),
            replications=scenario.replications if replications is None else int(replications),
        )

    variants: list[Variant] = []
    neighbours: dict[str, tuple[str, ...]] = {}
    if is_province_file(file):
        province = load_province(file)
        communes = province.communes
        for key, value in where.items():
            if key not in ("id", "province", "class"):
                raise SweepError(f"--where {key}={value}: expected id, province or class")
            attr = "commune_class" if key == "class" else key
            communes = [c for c in communes if str(getattr(c, attr)) == value]
        if not communes:
            found = ", ".join(f"{k}={v}" for k, v in where.items())
            raise SweepError(f"{file}: expected some commune matching {found}, found none")
        neighbours = {c.id: c.neighbours for c in communes}
        for commune in communes:
            base = scenario_to_dict(commune.scenario)
            desks = [d.name for d in commune.scenario.staff.desks]
            for point in points:
                try:
                    sc = load_scenario(base, overrides=point) if point else commune.scenario
                except ScenarioError as exc:
                    raise _variant_error(exc, {"commune": commune.id, **point}) from None
                columns: dict[str, Any] = {
                    "id": commune.id,
                    "name": commune.name,
                    "province": commune.province or "",
                    "class": commune.commune_class,
                    "records_per_day": sc.demand.records_per_day,
                    **{f"staff.{d}": sc.desk(d).count for d in desks},
                    "staff_total": sc.staff.total,
                    **point,
                }
                variants.append(finish(sc, columns, len(variants)))
        kind, name = "province", province.name
    else:
        if where:
            raise SweepError("--where selects communes: expected a province file")
        base_sc = load_scenario(file)
        for point in points:
            try:
                sc = load_scenario(file, overrides=point) if point else base_sc
            except ScenarioError as exc:
                raise _variant_error(exc, point) from None
            variants.append(finish(sc, dict(point), len(variants)))
        kind, name = "scenario", base_sc.name
    if size is not None:
        for v in variants:
            if not v.scenario.targets:
                raise SweepError(
                    f"--size: expected targets to size against, found none in {v.scenario.name}"
                )
            names = [d.name for d in v.scenario.staff.desks]
            unknown = [d for d in size.desks if d not in names]
            if unknown:
                raise SweepError(
                    f"--desk: expected desk names among {', '.join(names)} "
                    f"({v.scenario.name}), found {', '.join(unknown)}"
                )
    return SweepPlan(
        kind=kind,
        source=file,
        name=name,
        axes=axes,
        variants=variants,
        seed=seed,
        replications=replications,
        size=size,
        where=where,
        neighbours=neighbours,
    )


def plan_from_spec(spec: Mapping[str, Any]) -> SweepPlan:
    """Rebuild the plan a ``sweep.json`` describes (``pasc sweep --resume FOLDER``)."""
    size = spec.get("size")
    return plan_sweep(
        spec["source"],
        [Axis.from_json(a) for a in spec.get("sets", [])],
        seed=spec.get("seed"),
        replications=spec.get("replications"),
        size=None if size is None else SizeOptions(tuple(size["desks"]), size["max_staff"]),
        where=spec.get("where") or {},
    )


# -- the pure tasks ------------------------------------------------------------------------


def replication_kpis(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    """One replication's KPIs: a pure function of (scenario, seed, replication)."""
    kpis = simulate_replication(scenario, seed, replication).kpis
    return {name: float(value) for name, value in kpis.items()}


def minimal_staffing(
    scenario: Scenario,
    seed: int,
    replications: int,
    desks: Sequence[str] = (),
    max_staff: int | None = None,
) -> dict[str, Any]:
    """The smallest staffing meeting every target (``simulator.sizing.size``), as JSON data."""
    from simulator.sizing import size

    result = size(
        scenario,
        desks=list(desks) or None,
        max_staff=max_staff,
        replications=replications,
        seed=seed,
        workers=1,
    )
    return {
        "answer": result.answer,
        "answer_total": result.answer_total,
        "binding_target": result.binding_target,
        "unreachable_targets": list(result.unreachable),
        "explanation": result.explanation,
        "candidates": len(result.curve),
    }


# -- the run folder ------------------------------------------------------------------------


def canonical_json(data: Any) -> str:
    """The one JSON text of ``data`` a checksum is taken over: sorted keys, no spaces."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def task_checksum(name: str, result: Any) -> str:
    """sha256 of the canonical JSON of ``{"task": name, "result": result}``, taken over
    the data as it reads back from JSON (tuples as lists), so writer and reader agree."""
    payload = json.loads(json.dumps({"task": name, "result": result}))
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


class UnreadableTask(SweepError):
    """A task file that does not read back whole: empty, truncated, not JSON, the wrong
    task, or a checksum that does not match its content."""


@dataclass(frozen=True)
class SavedTasks:
    """What a resumed sweep finds in its ``tasks/`` folder: the tasks that read back
    whole (skipped), and the files that did not (set aside and computed again)."""

    done: frozenset[str]
    unreadable: tuple[str, ...]  # relative to the run folder: "tasks/v00001-r0002.json"
    total: int

    def unreadable_message(self, shown: int = 5) -> str | None:
        """One line naming the unreadable files, or None when every file read back."""
        n = len(self.unreadable)
        if not n:
            return None
        names = ", ".join(self.unreadable[:shown])
        if n > shown:
            names += f", ... {n - shown} more"
        task, it = ("task", "it") if n == 1 else ("tasks", "them")
        return f"sweep: {n} saved {task} unreadable ({names}), recomputing {it}"


def new_sweep_folder(root: Path, name: str) -> Path:
    """Create ``root/<name>/<timestamp>-sweep`` (``-2``, ``-3``... if taken); never reuse one."""
    return new_folder(Path(root) / name, f"{timestamp()}-sweep")


class SweepFolder:
    """A sweep's run folder: its spec, its task files, its final tables."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.tasks_dir = self.path / TASKS_DIR

    @property
    def spec_file(self) -> Path:
        return self.path / SPEC_FILE

    def read_spec(self) -> dict[str, Any]:
        try:
            spec = json.loads(self.spec_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SweepError(
                f"{self.path}: expected a sweep folder (with {SPEC_FILE}), found none"
            ) from None
        except (OSError, json.JSONDecodeError) as exc:
            raise SweepError(f"{self.spec_file}: expected the sweep's spec, found {exc}") from None
        if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
            found = spec.get("format") if isinstance(spec, dict) else type(spec).__name__
            raise SweepError(f"{self.spec_file}: format: expected {SPEC_FORMAT}, found {found!r}")
        return spec

    def start(self, plan: SweepPlan) -> None:
        """Write the spec and the variant table of a new sweep."""
        self.tasks_dir.mkdir(parents=True, exist_ok=True)
        write_file_atomically(self.spec_file, json.dumps(plan.spec(), indent=2) + "\n")
        write_file_atomically(self.path / "variants.csv", variants_frame(plan).to_csv(index=False))
        if plan.kind == "scenario":
            base = load_scenario(plan.source)
            write_file_atomically(self.path / "scenario.yaml", scenario_to_yaml(base))

    def check(self, plan: SweepPlan) -> None:
        """Raise :class:`SweepError` when ``plan`` is not the sweep this folder holds,
        naming the spec key and the command-line option that differ."""
        stored = self.read_spec()
        new = plan.spec()
        for key in SPEC_CHECKED:
            if stored.get(key) != new.get(key):
                if key == "variants_sha256":
                    raise SweepError(
                        f"{self.spec_file}: the scenarios differ from those the sweep started "
                        f"with (a changed file under {new['source']}?); expected the same "
                        f"resolved variants, found different ones. Start a new sweep instead."
                    )
                raise SweepError(
                    f"{self.spec_file}: {key}: expected {_spec_value(key, stored.get(key))} "
                    f"(as the sweep started), found {_spec_value(key, new.get(key))}; "
                    f"{SPEC_OPTIONS[key]} differs from the first run (give its options "
                    f"again, or --resume {self.path} alone)"
                )

    def done(self) -> set[str]:
        """Names of the finished tasks (their files exist)."""
        if not self.tasks_dir.is_dir():
            return set()
        return {
            p.name.removesuffix(".json")
            for p in self.tasks_dir.iterdir()
            if p.suffix == ".json" and not p.name.startswith(".")
        }

    def clean_partial(self) -> int:
        """Remove temporary files left by an interrupted writer; returns how many."""
        if not self.tasks_dir.is_dir():
            return 0
        stale = [p for p in self.tasks_dir.iterdir() if p.name.startswith(".")]
        for p in stale:
            p.unlink(missing_ok=True)
        return len(stale)

    def task_file(self, name: str) -> Path:
        return self.tasks_dir / f"{name}.json"

    def write_task(self, name: str, result: Any) -> None:
        """Save one task's result durably, with the checksum of its content."""
        payload = {"task": name, "result": result, "sha256": task_checksum(name, result)}
        write_file_atomically(self.task_file(name), json.dumps(payload) + "\n")

    def read_task(self, name: str) -> Any:
        """A saved task's result; :class:`UnreadableTask` (naming the file and what is
        wrong) when the file does not read back whole. A file without ``sha256`` (a
        sweep saved before checksums) is accepted when it parses."""
        path = self.task_file(name)
        where = f"{TASKS_DIR}/{path.name}"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UnreadableTask(f"{where}: expected a saved task, found no file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UnreadableTask(f"{where}: expected a saved task, found {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            found = "an empty file" if not text.strip() else f"no JSON ({exc})"
            raise UnreadableTask(f"{where}: expected a saved task, found {found}") from None
        if not isinstance(data, dict) or "result" not in data or data.get("task") != name:
            raise UnreadableTask(
                f"{where}: expected the result of task {name}, found something else"
            )
        stored = data.get("sha256")
        if stored is not None and stored != task_checksum(name, data["result"]):
            raise UnreadableTask(
                f"{where}: expected content matching its sha256, found a different one"
            )
        return data["result"]

    def scan(self, names: Iterable[str]) -> SavedTasks:
        """Read back every saved task among ``names``; set aside (rename to
        ``<name>.json.unreadable``) each file that does not read whole, so that it is
        computed again and no count takes it for finished work."""
        names = list(names)
        done, unreadable = set(), []
        present = self.done()
        for name in names:
            if name not in present:
                continue
            try:
                self.read_task(name)
            except UnreadableTask:
                path = self.task_file(name)
                unreadable.append(f"{TASKS_DIR}/{path.name}")
                os.replace(path, path.with_name(path.name + UNREADABLE_SUFFIX))
            else:
                done.add(name)
        if unreadable:
            sync_folder(self.tasks_dir)
        return SavedTasks(frozenset(done), tuple(unreadable), len(names))


# -- tables --------------------------------------------------------------------------------


def variants_frame(plan: SweepPlan) -> pd.DataFrame:
    """One row per variant: index, scenario name, seed, replications, its columns."""
    rows = []
    for v in plan.variants:
        row: dict[str, Any] = {"variant": v.index, "scenario": v.scenario.name}
        row.update(v.columns)
        if plan.kind == "province":
            row["neighbours"] = ";".join(plan.neighbours.get(str(v.columns.get("id")), ()))
        row["seed"] = v.seed
        row["replications"] = v.replications
        rows.append(row)
    return pd.DataFrame(rows)


def _verdict_columns(targets: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in targets.itertuples():
        name = f"{t.kpi}.verdict"
        k = 2
        while name in out:
            name = f"{t.kpi}.verdict.{k}"
            k += 1
        out[name] = t.verdict
    return out


def summary_row(variant: Variant, kpis: list[dict[str, float]], sizing: Any = None) -> dict:
    """One summary row from a variant's per-replication KPI dicts (in replication order)."""
    frame = kpi_frame(variant.scenario, [ReplicationOutput(kpis=k, records=None) for k in kpis])
    summary = summarize(frame)
    targets = target_table(variant.scenario.targets, summary)
    row: dict[str, Any] = {"variant": variant.index, "scenario": variant.scenario.name}
    row.update(variant.columns)
    row["replications"] = len(kpis)
    row["verdict"] = overall_verdict(list(targets["verdict"])) if len(targets) else ""
    row.update(_verdict_columns(targets))
    if sizing is not None:
        row["min_staff_total"] = sizing["answer_total"]
        for desk, count in (sizing["answer"] or {}).items():
            row[f"min_staff.{desk}"] = count
        row["binding_target"] = sizing["binding_target"] or ""
    for s in summary.itertuples():
        row[f"{s.kpi}.mean"] = s.mean
        row[f"{s.kpi}.ci_low"] = s.ci_low
        row[f"{s.kpi}.ci_high"] = s.ci_high
    return row


def _spec_value(key: str, value: Any) -> str:
    """A spec value as the user typed it: ``--set`` syntax for the grid, JSON otherwise."""
    if value is None:
        return "each scenario's own" if key in ("seed", "replications") else "none"
    if key == "sets" and isinstance(value, list):
        try:
            axes = [Axis.from_json(a) for a in value]
        except (KeyError, TypeError):
            return json.dumps(value)
        if not axes:
            return "no --set"
        return " ".join(
            f"--set {','.join(a.paths)}=" + ",".join("/".join(map(str, v)) for v in a.values)
            for a in axes
        )
    return json.dumps(value)


def build_tables(plan: SweepPlan, folder: SweepFolder) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(summary, kpis)`` from the task files, sorted by (variant, replication)."""
    rows, kpi_rows = [], []
    for v in plan.variants:
        kpis = [folder.read_task(v.task_name(r)) for r in range(v.replications)]
        for r, k in enumerate(kpis):
            kpi_rows.append({"variant": v.index, "replication": r, **k})
        sizing = folder.read_task(v.size_task_name) if plan.size is not None else None
        rows.append(summary_row(v, kpis, sizing))
    summary = pd.DataFrame(rows)
    # Verdict and sizing columns first after the variant's own, then KPI statistics.
    stat_suffixes = (".mean", ".ci_low", ".ci_high")
    front = [c for c in summary.columns if not c.endswith(stat_suffixes)]
    summary = summary[front + [c for c in summary.columns if c.endswith(stat_suffixes)]]
    return summary, pd.DataFrame(kpi_rows)


# -- running -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """A finished sweep: its plan, folder, summary table and what this run computed."""

    plan: SweepPlan
    folder: Path
    summary: pd.DataFrame
    kpis: pd.DataFrame
    computed: int
    skipped: int
    plot: Path | None = None
    #: Task files found unreadable on resume (set aside and computed again).
    unreadable: tuple[str, ...] = ()


def run_sweep(
    plan: SweepPlan,
    folder: str | Path,
    backend: Backend | None = None,
    *,
    resume: bool = False,
    plot_kpi: str | None = None,
    progress: ProgressCallback | None = None,
    on_resume: Callable[[SavedTasks], None] | None = None,
) -> SweepResult:
    """Run (or finish) a sweep in ``folder`` and write its final tables.

    A new sweep needs an empty or missing folder; ``resume=True`` requires the
    folder's spec to match ``plan`` (:class:`SweepError` otherwise) and skips
    every task whose file reads back whole; an unreadable one is set aside and
    computed again. ``on_resume`` is told what was found before anything runs
    (the command line prints it). Each result is written the moment it arrives.
    If the backend goes away (:class:`~simulator.backends.BackendLost`), every
    task finished until then is saved and the exception propagates.
    """
    folder = Path(folder)
    store = SweepFolder(folder)
    saved = SavedTasks(frozenset(), (), len(plan.task_names()))
    if resume:
        store.check(plan)
        store.clean_partial()
        saved = store.scan(plan.task_names())
        if on_resume is not None:
            on_resume(saved)
    else:
        if folder.exists() and any(folder.iterdir()):
            raise SweepError(
                f"{folder}: expected a new, empty folder for the sweep, found files "
                f"(use --resume to finish that sweep)"
            )
        folder.mkdir(parents=True, exist_ok=True)
        store.start(plan)
    done = set(saved.done)
    total = saved.total
    backend = backend or SerialBackend()
    count = len(done)
    if progress is not None:
        progress(count, total)
    computed = 0
    for name, result in backend.run(plan.tasks(skip=done)):
        store.write_task(name, result)
        computed += 1
        count += 1
        if progress is not None:
            progress(count, total)
    summary, kpis = build_tables(plan, store)
    write_file_atomically(folder / "kpis.csv", kpis.to_csv(index=False))
    write_file_atomically(folder / "summary.csv", summary.to_csv(index=False))
    plot = plot_sweep(plan, summary, folder / "sweep.png", kpi=plot_kpi)
    return SweepResult(plan, folder, summary, kpis, computed, len(done), plot, saved.unreadable)


# -- the plot ------------------------------------------------------------------------------


def default_plot_kpi(plan: SweepPlan, summary: pd.DataFrame) -> str:
    """``wait_minutes.p90`` when present, else the first target's KPI, else the first KPI."""
    names = [c.removesuffix(".mean") for c in summary.columns if c.endswith(".mean")]
    if "wait_minutes.p90" in names:
        return "wait_minutes.p90"
    for v in plan.variants:
        for t in v.scenario.targets:
            if t.kpi in names:
                return t.kpi
    return names[0]


def plot_sweep(
    plan: SweepPlan, summary: pd.DataFrame, path: Path, kpi: str | None = None
) -> Path | None:
    """A KPI's mean and 95 % interval against the first swept value (one line per
    combination of the other swept values), or against demand for a province,
    with the targets on that KPI as horizontal lines. Returns the file, or None
    when there is nothing to plot."""
    if summary.empty:
        return None
    kpi = kpi or default_plot_kpi(plan, summary)
    if f"{kpi}.mean" not in summary.columns:
        raise SweepError(f"--plot-kpi: expected a KPI of the summary, found {kpi!r}")
    from simulator.plots import sweep_figure
    from simulator.report import figure_png

    fig = sweep_figure(plan, summary, kpi)
    write_file_atomically(path, figure_png(fig, dpi=110))
    return path


__all__ = [
    "Axis",
    "SavedTasks",
    "SizeOptions",
    "SweepError",
    "SweepFolder",
    "SweepPlan",
    "SweepResult",
    "UnreadableTask",
    "Variant",
    "build_tables",
    "grid_points",
    "minimal_staffing",
    "new_sweep_folder",
    "parse_set",
    "parse_value",
    "plan_from_spec",
    "plan_sweep",
    "plot_sweep",
    "replication_kpis",
    "run_sweep",
    "summary_row",
    "task_checksum",
    "variants_frame",
]
