"""``pasc compare`` and ``pasc report``: results as planners and reviewers read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from simulator.cli.common import (
    VERDICT_STYLE,
    BadInput,
    execution_options,
    fmt,
    guard_run_size,
    load,
    open_backend_for,
    out_root,
    progress_bar,
    quiet_option,
)
from simulator.display import signed_text

if TYPE_CHECKING:
    from collections.abc import Callable

    from simulator.compare import Comparison

#: The languages of report.html (those of :data:`simulator.i18n.LANGUAGES`, named here
#: so that the command line starts without loading the catalogs).
REPORT_LANGUAGES = ("en", "vi")


def lang_option(command: Callable) -> Callable:
    """``--lang en|vi``: the language of the folder's ``report.html``."""
    return click.option(
        "--lang",
        type=click.Choice(REPORT_LANGUAGES),
        default=None,
        help="Language of report.html: en (the default) or vi. File names, CSV columns "
        "and JSON keys stay English.",
    )(command)


def with_language(render: Callable, lang: str | None) -> Callable:
    """``render`` drawing the report in ``lang`` (as it is when ``lang`` is None: English)."""
    import functools

    return functools.partial(render, lang=lang) if lang else render


def print_comparison(comparison: Comparison, folder: Path | None) -> None:
    """One table of KPIs side by side (mean and 95 % interval), the paired differences
    against the first scenario, then the target verdicts of each scenario."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    labels = comparison.labels
    # Short column names keep the table readable in an 80-column terminal.
    letters = [chr(ord("A") + i) if i < 26 else f"S{i + 1}" for i in range(len(labels))]
    console.print(
        f"{comparison.replications} replications each, seed {comparison.seed} "
        "(common random numbers: every scenario sees the same citizens)"
    )
    for letter, label in zip(letters, labels, strict=True):
        console.print(f"  [bold]{letter}[/bold] = {label}")
    table = Table(
        title="KPIs: mean (95% CI); differences paired, replication by replication",
        title_justify="left",
    )
    table.add_column("kpi")
    for letter in letters:
        table.add_column(letter, justify="right")
    for letter in letters[1:]:
        table.add_column(f"{letter} − {letters[0]}", justify="right")
    wide = comparison.side_by_side()
    diffs = comparison.differences().set_index(["scenario", "kpi"])
    for r in wide.to_dict("records"):
        cells = [r["kpi"]]
        for label in labels:
            mean, low, high = (r[f"{label}.{c}"] for c in ("mean", "ci_low", "ci_high"))
            cells.append(f"{fmt(mean)} ({fmt(low)}–{fmt(high)})")
        for label in labels[1:]:
            key = (label, r["kpi"])
            if key not in diffs.index:
                cells.append("–")
                continue
            d = diffs.loc[key]
            excludes_zero = d["ci_low"] > 0 or d["ci_high"] < 0
            text = (
                f"{signed_text(d['mean'])} ({signed_text(d['ci_low'])}…{signed_text(d['ci_high'])})"
            )
            cells.append(f"[bold]{text}[/]" if excludes_zero else text)
        table.add_row(*cells)
    console.print(table)
    targets = comparison.targets()
    if len(targets):
        tt = Table(title="Targets", title_justify="left")
        tt.add_column("kpi")
        tt.add_column("target", justify="right")
        for letter in letters:
            tt.add_column(letter)
        for (kpi, op, threshold), group in targets.groupby(["kpi", "op", "threshold"], sort=False):
            by = group.set_index("scenario")
            cells = [kpi, f"{op} {fmt(threshold)}"]
            for label in labels:
                if label in by.index:
                    v = by.loc[label, "verdict"]
                    cells.append(f"[{VERDICT_STYLE[v]}]{v}[/] ({fmt(by.loc[label, 'mean'])})")
                else:
                    cells.append("–")
            tt.add_row(*cells)
        console.print(tt)
    console.print("Bold differences: the 95% interval excludes 0 (a real difference).")
    if folder is not None:
        console.print(f"Run folder: {folder}")


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "-r",
    "--replications",
    type=click.IntRange(min=2),
    help="Replications per scenario (default: the largest of the scenarios').",
)
@click.option("--seed", type=click.IntRange(min=0), help="Default: the first scenario's.")
@click.option(
    "--out", type=click.Path(file_okay=False), help="Folder for compare/<timestamp>/ (results/)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON on stdout.")
@execution_options
@quiet_option
@lang_option
def compare(
    scenarios: tuple[str, ...],
    replications: int | None,
    seed: int | None,
    out: str | None,
    as_json: bool,
    workers: int | None,
    backend: str | None,
    scheduler: str | None,
    quiet: bool,
    lang: str | None = None,
) -> None:
    """Run SCENARIOS with common random numbers; KPIs side by side, paired differences.

    Every scenario runs with the same seed and replications, so replication i
    of each sees the same citizens wherever the demand is the same; the
    difference of each KPI against the first scenario is the t-interval of
    the per-replication differences. Writes results/compare/<timestamp>/.
    """
    from simulator.artifacts import write_comparison_folder
    from simulator.compare import compare as run_comparison
    from simulator.report import write_comparison_report

    if len(scenarios) < 2:
        raise BadInput(
            f"{scenarios[0]}: expected at least two scenarios to compare, found one "
            "(use pasc run for a single scenario)"
        )
    loaded = [load(p) for p in scenarios]
    for path, sc in zip(scenarios, loaded, strict=True):
        guard_run_size(
            sc, 1, keep_records=False, workers=workers or 1, max_hours=float("inf"), source=path
        )
    root = out_root(out, "compare")
    reps = replications or max(sc.replications for sc in loaded)
    if reps < 2:
        raise BadInput(
            f"{scenarios[0]}: replications: expected at least 2 to give intervals, found {reps} "
            "(pass -r N)"
        )
    with (
        open_backend_for(workers, backend, scheduler, what="compare") as runner,
        progress_bar("compare: replications", quiet or as_json) as progress,
    ):
        comparison = run_comparison(
            loaded, reps, seed, records=False, progress=progress, backend=runner
        )
    folder = write_comparison_folder(
        comparison, root, render=with_language(write_comparison_report, lang)
    )
    if as_json:
        click.echo(json.dumps({**comparison.to_dict(), "run_folder": str(folder)}, indent=2))
    else:
        print_comparison(comparison, folder)


@click.command()
@click.argument("run_folder", type=click.Path(file_okay=False))
@click.option(
    "--lang",
    type=click.Choice(REPORT_LANGUAGES),
    default=None,
    help="Language of the report: en or vi (default: the one the folder records, else en).",
)
def report(run_folder: str, lang: str | None) -> None:
    """Rebuild RUN_FOLDER's report.html (and its pictures) from the files in the folder.

    Works on the folders of pasc run, pasc size and pasc compare; nothing is
    simulated again. Without --lang the report is drawn in the language it was
    written in (recorded in the folder's environment.json); with it, in that
    language, which the folder then records.
    """
    from simulator.report import ReportError, rebuild_report

    try:
        path = rebuild_report(run_folder, lang=lang)
    except ReportError as exc:
        raise BadInput(str(exc)) from None
    click.echo(f"Report: {path}")


__all__ = [
    "REPORT_LANGUAGES",
    "compare",
    "lang_option",
    "print_comparison",
    "report",
    "with_language",
]
