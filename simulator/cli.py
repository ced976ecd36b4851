"""The ``pasc`` command line: parse, call the Python API, print. No model logic here.

Exit codes (SPEC.md): 0 success (targets may still fail: that is a result),
1 a failed target with ``--strict``, 2 bad input, with one message naming the
file, the key path, what was expected and what was found.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from simulator.scenario import ScenarioError

EXIT_TARGET_FAILED = 1
EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """A user mistake: printed as one message, exit code 2, no traceback."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"pasc: {self.message}", err=True)


def load(path: str):
    """Load a scenario or raise BadInput with every problem and its key path."""
    from simulator.scenario import load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        raise BadInput(exc.message()) from None


def _fmt(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}" if abs(x) < 100 else f"{x:.1f}"


@contextmanager
def progress_bar(description: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on a terminal; nothing when piped or ``--quiet``."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _out_root(out: str | None) -> Path:
    from simulator.results.folder import DEFAULT_ROOT

    root = Path(out) if out else DEFAULT_ROOT
    if root.exists() and not root.is_dir():
        raise BadInput(f"--out {root}: expected a folder, found a file")
    return root


VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "inconclusive": "bold yellow"}


def print_run(result, folder: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    sc = result.scenario
    console.print(
        f"[bold]{sc.name}[/bold]: {result.replications} replications × {sc.horizon.days} "
        f"working days (+{sc.horizon.warmup_days} warm-up), seed {result.seed}"
    )
    table = Table(title="KPIs: mean and 95% confidence interval", title_justify="left")
    table.add_column("kpi")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    for r in result.summary().itertuples():
        table.add_row(r.kpi, _fmt(r.mean), f"{_fmt(r.ci_low)} – {_fmt(r.ci_high)}")
    console.print(table)
    targets = result.targets()
    if len(targets):
        tt = Table(title="Targets", title_justify="left")
        for col in ("kpi", "target", "mean", "95% CI", "verdict"):
            tt.add_column(col, justify="left" if col in ("kpi", "verdict") else "right")
        for r in targets.itertuples():
            tt.add_row(
                r.kpi,
                f"{r.op} {_fmt(r.threshold)}",
                _fmt(r.mean),
                f"{_fmt(r.ci_low)} – {_fmt(r.ci_high)}",
                f"[{VERDICT_STYLE[r.verdict]}]{r.verdict}[/]",
            )
        console.print(tt)
    if folder is not None:
        console.print(f"Run folder: {folder}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pasc")
def main() -> None:
    """Simulate commune Public Administration Service Centers and size their staff."""


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-r", "--replications", type=click.IntRange(min=1), help="Default: the scenario's.")
@click.option("--seed", type=click.IntRange(min=0), help="Default: the scenario's.")
@click.option(
    "--out", type=click.Path(file_okay=False), help="Folder for the run folder (default: results/)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local processes running replications (numbers do not change).",
)
@click.option("--no-records", is_flag=True, help="Do not keep the per-record table.")
@click.option("--strict", is_flag=True, help="Exit 1 when a target fails.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def run(
    scenario: str,
    replications: int | None,
    seed: int | None,
    out: str | None,
    as_json: bool,
    workers: int,
    no_records: bool,
    strict: bool,
    quiet: bool,
) -> None:
    """Run replications of SCENARIO, print KPIs and verdicts, write the run folder."""
    import simulator
    from simulator.results.folder import write_run_folder

    sc = load(scenario)
    root = _out_root(out)
    with progress_bar(f"{sc.name}: replications", quiet or as_json) as progress:
        result = simulator.run(
            sc, replications, seed, workers=workers, records=not no_records, progress=progress
        )
    folder = write_run_folder(result, root)
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "run_folder": str(folder)}, indent=2))
    else:
        print_run(result, folder)
    if strict and "fail" in set(result.targets()["verdict"]):
        sys.exit(EXIT_TARGET_FAILED)


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(scenarios: tuple[str, ...]) -> None:
    """Check scenario files without running them; exit 0 when all are valid."""
    from simulator.scenario import load_scenario

    errors = []
    for path in scenarios:
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            errors.append(exc.message())
            continue
        click.echo(
            f"{path}: valid ({sc.name}: {len(sc.procedures)} procedures, "
            f"{sc.staff.total} staff, {len(sc.targets)} targets)"
        )
    if errors:
        for message in errors:
            click.echo(f"pasc: {message}", err=True)
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file.")
def schema(output: str | None) -> None:
    """Print the JSON Schema of the scenario format (for editor completion)."""
    from simulator.scenario.schema import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
