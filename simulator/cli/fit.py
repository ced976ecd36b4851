"""``pasc fit`` (a calibrated scenario from a one-stop export) and ``pasc export-log``."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.common import BadInput, fmt, load


def write_new_file(path: Path, text: str, force: bool) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed into place);
    an existing file is bad input unless ``force``."""
    if path.exists() and not force:
        raise BadInput(
            f"{path}: expected a new file, found one already (use --force to replace it)"
        )
    if path.exists() and path.is_dir():
        raise BadInput(f"{path}: expected a file name, found a folder")
    from simulator.artifacts import write_file_atomically

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomically(path, text, durable=False)
    except OSError as exc:
        raise BadInput(f"{path}: cannot write there ({exc.strerror})") from None


def report_path_for(out: Path) -> Path:
    """``fitted.yaml`` -> ``fitted-fit-report.html`` beside it."""
    return out.with_name(f"{out.stem}-fit-report.html")


@click.command()
@click.argument("exports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--tickets", type=click.Path(dir_okay=False), help="The kiosk's ticket log (CSV/XLSX)."
)
@click.option(
    "--columns",
    "columns_map",
    type=click.Path(dir_okay=False),
    help="A column map (YAML) for other headings, status or channel words.",
)
@click.option(
    "--base",
    type=click.Path(dir_okay=False),
    help="A scenario giving what the export cannot tell: staff, hours, processing times, targets.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False),
    help="The scenario to write (default: <first export>-fitted.yaml).",
)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("--sheet", help="The sheet of an XLSX export with several sheets.")
@click.option("--tickets-sheet", help="The sheet of an XLSX ticket log with several sheets.")
@click.option(
    "--as-of",
    help="The export date: records open then are right-censored "
    "(default: the latest time in the export).",
)
@click.option(
    "--holiday", "holidays", multiple=True, help="A closing day (YYYY-MM-DD), e.g. Tết; repeatable."
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Procedures kept by name; the rest pooled per field.",
)
@click.option(
    "--staff",
    type=click.IntRange(min=1),
    help="Desk staff when neither --base nor the ticket log tells.",
)
@click.option("--name", help="The scenario's name (default: from the output file).")
@click.option(
    "--gof-samples",
    type=click.IntRange(min=19),
    default=99,
    show_default=True,
    help="Bootstrap samples of the goodness-of-fit test.",
)
@click.option("--no-report", is_flag=True, help="Skip the HTML report.")
def fit(
    exports: tuple[str, ...],
    tickets: str | None,
    columns_map: str | None,
    base: str | None,
    out: str | None,
    force: bool,
    sheet: str | None,
    tickets_sheet: str | None,
    as_of: str | None,
    holidays: tuple[str, ...],
    top: int,
    staff: int | None,
    name: str | None,
    gof_samples: int,
    no_report: bool,
) -> None:
    """A calibrated scenario from an export of the one-stop system's records.

    Reads EXPORT... (CSV or XLSX, one row per dossier; Vietnamese headings and
    status words accepted) and optionally the kiosk's ticket log; writes a
    runnable scenario with a comment on every fitted value, its calibration:
    block (for pasc check), and an HTML report of the fits. Bad rows are
    counted and listed by row number; a file that cannot be used is exit 2."""
    import pandas as pd

    from simulator.fit.columns import (
        ExportError,
        parse_holidays,
        read_column_map,
        read_export,
        read_tickets,
    )
    from simulator.fit.estimate import FitOptions, fit_export, slug
    from simulator.fit.scenario_out import fitted_scenario_yaml
    from simulator.scenario import ScenarioError

    out_path = Path(out) if out else Path(f"{Path(exports[0]).name.split('.')[0]}-fitted.yaml")
    report_path = report_path_for(out_path)
    for p in (out_path, *(() if no_report else (report_path,))):
        if p.exists() and not force:
            raise BadInput(
                f"{p}: expected a new file, found one already (use --force to replace it)"
            )
    try:
        cmap = read_column_map(columns_map) if columns_map else None
        extra = parse_holidays(holidays, "--holiday") + parse_holidays(
            cmap.holidays if cmap else [], str(columns_map)
        )
        when = None
        if as_of:
            from simulator.fit.columns import parse_times

            parsed, bad = parse_times(pd.Series([as_of]))
            if bad.iloc[0] or pd.isna(parsed.iloc[0]):
                raise ExportError(
                    f"--as-of: expected a date-time like 2025-08-01 17:00, found {as_of!r}"
                )
            when = parsed.iloc[0]
        base_sc = load(base) if base else None
        records = read_export(exports, cmap, sheet)
        ticket_table = read_tickets(tickets, cmap, tickets_sheet) if tickets else None
        options = FitOptions(
            top=top,
            gof_samples=gof_samples,
            as_of=when,
            holidays=extra,
            base=base_sc,
            staff=staff,
            name=slug(name or out_path.stem, "fitted"),
            procedure_ids=cmap.procedures if cmap else {},
            field_ids=cmap.fields if cmap else {},
        )
        result = fit_export(records, ticket_table, options)
        text = fitted_scenario_yaml(result)
    except ExportError as exc:
        raise BadInput(str(exc)) from None
    except ScenarioError as exc:
        raise BadInput(exc.message()) from None
    write_new_file(out_path, text, force)
    print_fit(result)
    click.echo(f"wrote {out_path}")
    if not no_report:
        from simulator.fit.report import fit_report_html

        write_new_file(report_path, fit_report_html(result, text), force)
        click.echo(f"wrote {report_path}")


def print_fit(result) -> None:
    """The fit in a terminal: rows used, bad rows, one line per procedure."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    bad = result.records_read - result.records_used
    console.print(
        f"[bold]{', '.join(result.files)}[/]: {result.records_used} records used of "
        f"{result.records_read} read, {bad} bad rows left out; "
        f"{result.arrivals.working_days} working days to {result.as_of:%Y-%m-%d}"
    )
    for line in result.bad_summary:
        console.print(f"  [yellow]bad rows[/]: {line}", soft_wrap=True)
    if result.tickets_file:
        console.print(f"[bold]{result.tickets_file}[/]: {result.tickets_used} tickets used")
        for line in result.ticket_bad_summary:
            console.print(f"  [yellow]bad rows[/]: {line}", soft_wrap=True)
    arr = result.arrivals
    lo, hi = arr.per_day_interval
    console.print(f"records per working day: {arr.records_per_day:.2f} (95% CI {lo:.2f}–{hi:.2f})")
    for d in arr.dispersion:
        console.print(f"  {d.channel}: dispersion {d.ratio:.2f}, p={d.p_value:.3f}: {d.verdict}")
    table = Table(title="procedures", title_justify="left")
    for col in (
        "procedure",
        "records",
        "share",
        "intake",
        "mean min",
        "AD p",
        "deadline",
        "rejected",
        "median days",
    ):
        table.add_column(col, justify="left" if col in ("procedure", "intake") else "right")
    for p in result.procedures:
        intake = p.intake
        rt = p.result_time
        table.add_row(
            p.id,
            str(p.count),
            fmt(p.share.value, 3),
            intake.chosen if intake else "–",
            fmt(intake.mean_interval[0]) if intake else "–",
            fmt(intake.p_value, 3) if intake else "–",
            "–" if p.deadline_working_days is None else str(p.deadline_working_days),
            fmt(p.reject.value, 3),
            fmt(rt.median) if rt else "–",
        )
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]Note[/]: {note}")


@click.command("export-log")
@click.argument("run_folder", type=click.Path(file_okay=False))
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False),
    help="The export to write (.csv or .xlsx; default RUN_FOLDER/export.csv); "
    "the ticket log goes beside it as <name>-tickets.csv.",
)
@click.option(
    "--replication", type=click.IntRange(min=0), help="Which replication (default: the first)."
)
@click.option(
    "--start-date", default="2025-07-07", show_default=True, help="The date of working day 0."
)
@click.option(
    "--language",
    type=click.Choice(["en", "vi"]),
    default="en",
    show_default=True,
    help="Headings and words in English or Vietnamese.",
)
@click.option("--force", is_flag=True, help="Replace existing files.")
def export_log(
    run_folder: str,
    out: str | None,
    replication: int | None,
    start_date: str,
    language: str,
    force: bool,
) -> None:
    """A run's records in the export format that pasc fit reads (and its ticket log),
    so that pasc fit can be tried without real data."""
    from simulator.fit.export import export_run_folder
    from simulator.scenario import ScenarioError

    try:
        import numpy as np

        np.datetime64(start_date, "D")
    except ValueError:
        raise BadInput(
            f"--start-date: expected a date like 2025-07-07, found {start_date!r}"
        ) from None
    try:
        written = export_run_folder(
            run_folder,
            out,
            replication=replication,
            start_date=start_date,
            language=language,
            force=force,
        )
    except (FileNotFoundError, FileExistsError) as exc:
        raise BadInput(str(exc)) from None
    except ScenarioError as exc:
        raise BadInput(exc.message()) from None
    except ValueError as exc:
        raise BadInput(f"{run_folder}: {exc}") from None
    for p in written:
        click.echo(f"wrote {p}")
