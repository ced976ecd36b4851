"""``pasc run``, ``pasc validate`` and ``pasc schema``."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

import click

from simulator.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_TARGET_FAILED,
    VERDICT_STYLE,
    BadInput,
    execution_options,
    fmt,
    fmt_interval,
    fmt_kpi,
    guard_run_size,
    load,
    open_backend_for,
    out_root,
    progress_bar,
    quiet_option,
    size_options,
)
from simulator.cli.report import lang_option, with_language
from simulator.results.verdicts import KEEPS_UP, ONE_REPLICATION_NOTE, shown_verdict
from simulator.scenario import ScenarioError


def print_run(result) -> None:
    """The KPIs, targets and verdicts of a run (its folder is printed once written)."""
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
        if "@" in r.kpi:
            continue  # hour-by-hour KPIs (per-hour targets): in kpis.csv and summary.csv
        table.add_row(r.kpi, fmt_kpi(r.kpi, r.mean), fmt_interval(r.kpi, r.ci_low, r.ci_high))
    console.print(table)
    targets = result.targets()
    keeps = result.keeps_up()
    # An over-capacity fail needs no interval; anything else does.
    keeps_text = keeps.verdict
    if keeps.verdict != "fail":
        keeps_text = shown_verdict(keeps.verdict, result.replications)
    tt = Table(title="Targets", title_justify="left")
    for col in ("kpi", "target", "mean", "95% CI", "verdict"):
        tt.add_column(col, justify="left" if col in ("kpi", "verdict") else "right")
    for r in targets.itertuples():
        tt.add_row(
            r.kpi + _worst_hour(r),
            f"{r.op} {fmt_kpi(r.kpi, r.threshold)}",
            fmt_kpi(r.kpi, r.mean),
            fmt_interval(r.kpi, r.ci_low, r.ci_high),
            f"[{VERDICT_STYLE[r.verdict]}]{shown_verdict(r.verdict, result.replications)}[/]",
        )
    tt.add_row(
        "keeps up (backlog growth/day)",
        f"<= {fmt(keeps.tolerance)}",
        fmt(keeps.growth_mean),
        fmt_interval(KEEPS_UP, keeps.growth_low, keeps.growth_high),
        f"[{VERDICT_STYLE[keeps.verdict]}]{keeps_text}[/]",
    )
    console.print(tt)
    if result.replications < 2:
        console.print(f"[yellow]Note[/]: {ONE_REPLICATION_NOTE}.")
    console.print(
        f"Keeps up: [{VERDICT_STYLE[keeps.verdict]}]{keeps.verdict}[/] ({keeps.reason()})"
    )
    note = result.horizon_note()
    if note:
        console.print(f"[yellow]Note[/]: {note}")


def print_folder(folder: Path) -> None:
    from rich.console import Console

    Console().print(f"Run folder: {folder}")


def _worst_hour(r) -> str:
    """`` (every hour; worst 08:00)`` for a per-hour target's row."""
    if getattr(r, "per", "run") != "hour":
        return ""
    try:
        return f" (every hour; worst {int(r.hour):02d}:00)"
    except (TypeError, ValueError):  # no hour measured
        return " (every hour)"


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-r", "--replications", type=click.IntRange(min=1), help="Default: the scenario's.")
@click.option("--seed", type=click.IntRange(min=0), help="Default: the scenario's.")
@click.option(
    "--out", type=click.Path(file_okay=False), help="Folder for the run folder (default: results/)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@execution_options
@click.option("--no-records", is_flag=True, help="Do not keep the per-record table.")
@click.option("--strict", is_flag=True, help="Exit 1 when a target fails.")
@quiet_option
@size_options
@lang_option
def run(
    scenario: str,
    replications: int | None,
    seed: int | None,
    out: str | None,
    as_json: bool,
    workers: int | None,
    backend: str | None,
    scheduler: str | None,
    no_records: bool,
    strict: bool,
    quiet: bool,
    dry_run: bool = False,
    max_memory_gb: float | None = None,
    max_hours: float | None = None,
    lang: str | None = None,
) -> None:
    """Run replications of SCENARIO, print KPIs and verdicts, write the run folder.

    Before anything runs, the run's records, memory and time are estimated
    (``--dry-run`` prints them); a run above the limits is refused."""
    import simulator
    from simulator.artifacts import TableSpool, write_run_folder
    from simulator.report import PictureDrawers

    sc = load(scenario)
    reps = sc.replications if replications is None else replications
    # On local backends the tables of a big run go to disk as the replications run
    # (bounded memory); a small one keeps them in memory, which is quicker.
    from simulator.runsize import STREAM_ABOVE_BYTES, estimate_run

    in_memory = estimate_run(sc, reps, keep_records=True, workers=workers or 1).memory_bytes
    streamed = (
        not no_records
        and not scheduler
        and backend in (None, "serial", "processes")
        and (in_memory > STREAM_ABOVE_BYTES or os.environ.get("PASC_STREAM_TABLES") == "1")
    )
    est = guard_run_size(
        sc,
        reps,
        keep_records=not no_records,
        workers=workers or 1,
        max_memory_gb=max_memory_gb,
        max_hours=max_hours,
        source=scenario,
        streamed=streamed,
    )
    if dry_run:
        click.echo(f"{scenario}: {est.describe()} (estimate; nothing was run)")
        return
    root = out_root(out, sc.name)
    # The pictures take longer than a small run's simulation: the first drawing process
    # starts now and loads matplotlib on the core a serial simulation leaves idle (with
    # other backends, whose workers take every core, it is forked once they are gone);
    # either way the tables are written while the pictures are drawn.
    serial = (workers or 1) == 1 and backend in (None, "serial") and not scheduler
    early, late = not no_records and serial, not no_records and not serial
    spool = TableSpool.beside(root / sc.name) if streamed else None
    try:
        with contextlib.ExitStack() as stack:
            drawers = stack.enter_context(
                PictureDrawers(None if early else 1, records_dir=root / sc.name)
            )
            with (
                open_backend_for(workers, backend, scheduler, what="run") as runner,
                progress_bar(f"{sc.name}: replications", quiet or as_json) as progress,
            ):
                result = simulator.run(
                    sc,
                    replications,
                    seed,
                    records=not no_records,
                    progress=progress,
                    backend=runner,
                    spool=spool,
                    # the records table is written by the drawer while the run simulates
                    each=drawers.write_records if early and spool is None else None,
                )
            if late:
                drawers = stack.enter_context(PictureDrawers())
            drawers.start(result)
            unprinted: BaseException | None = None
            if not as_json:  # the answer first, while the pictures are being drawn
                try:
                    print_run(result)
                except (OSError, SystemExit) as exc:  # stdout closed (``| head``; rich
                    unprinted = exc  # exits then): the run folder all the same, then that
            render = with_language(drawers.write_run_report, lang)
            folder = write_run_folder(
                result, root, render=render, spool=spool, records=drawers.write_records_table
            )
    finally:
        if spool is not None:
            spool.remove()
    if unprinted is not None:
        raise unprinted
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "run_folder": str(folder)}, indent=2))
    else:
        print_folder(folder)
    if strict and "fail" in set(result.targets()["verdict"]):
        sys.exit(EXIT_TARGET_FAILED)


@click.command()
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


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file.")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def schema(output: str | None, force: bool) -> None:
    """Print the JSON Schema of the scenario format (for editor completion)."""
    from simulator.scenario.schema import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if not output:
        click.echo(text, nl=False)
        return
    path = Path(output)
    if path.exists() and not force:
        raise BadInput(f"-o {path}: expected a new file, found an existing one (use --force)")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"-o {path}: cannot write the file ({exc.strerror})") from None
