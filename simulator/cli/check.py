"""``pasc check``: simulated figures against the ones the scenario's sources report."""

from __future__ import annotations

import json
import sys

import click

from simulator.cli.common import (
    EXIT_TARGET_FAILED,
    BadInput,
    execution_options,
    exit_if_invalid,
    fmt,
    load_each,
    open_backend_for,
    progress_bar,
    quiet_option,
)


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-r", "--replications", type=click.IntRange(min=2), help="Default: the scenario's.")
@click.option("--seed", type=click.IntRange(min=0))
@execution_options
@click.option("--json", "as_json", is_flag=True)
@click.option("--strict", is_flag=True, help="Exit 1 when a reported figure is outside.")
@quiet_option
def check(
    scenarios: tuple[str, ...],
    replications: int | None,
    seed: int | None,
    workers: int | None,
    backend: str | None,
    scheduler: str | None,
    as_json: bool,
    strict: bool,
    quiet: bool,
) -> None:
    """Is each reported figure inside the simulation's 95% prediction range?

    A file without a calibration: list is skipped with a note on stderr; the
    others are checked (exit 2 only when none of the files has one)."""
    from rich.console import Console
    from rich.table import Table

    from simulator.calibration import check_calibration

    loaded, errors = load_each(scenarios)
    if not loaded:
        exit_if_invalid(errors)
    missing = [path for path, sc in loaded if not sc.calibration]
    if len(missing) == len(loaded) and not errors:
        in_any = "" if len(missing) == 1 else " in at least one file"
        raise BadInput(
            f"{', '.join(missing)}: calibration: expected reported figures to check{in_any}, "
            "found none (add a calibration: list)"
        )
    # A batch goes on past a file with nothing to check; the note says which
    # (on stderr, so that --json output keeps one key per checked scenario).
    for path in missing:
        click.echo(
            f"pasc: {path}: skipped, no calibration: list (nothing reported to check)", err=True
        )
    loaded = [(path, sc) for path, sc in loaded if sc.calibration]
    if not loaded:
        exit_if_invalid(errors)
    results = {}
    with (
        open_backend_for(workers, backend, scheduler, what="check") as runner,
        progress_bar("check", quiet or as_json) as progress,
    ):
        for i, (_path, sc) in enumerate(loaded):
            results[sc.name] = check_calibration(sc, replications, seed, backend=runner)
            if progress is not None:
                progress(i + 1, len(loaded))
    outside = any(not df["inside"].all() for df in results.values())
    if as_json:
        click.echo(
            json.dumps(
                {name: df.to_dict(orient="records") for name, df in results.items()}, indent=2
            )
        )
    else:
        console = Console()
        for name, df in results.items():
            table = Table(
                title=f"{name}: reported vs simulated (95% prediction range)", title_justify="left"
            )
            for col in ("kpi", "source", "reported", "simulated", "range", "verdict"):
                table.add_column(
                    col, justify="left" if col in ("kpi", "source", "verdict") else "right"
                )
            for r in df.itertuples():
                verdict = "[bold green]inside[/]" if r.inside else "[bold red]outside[/]"
                d = 4 if abs(r.reported) < 1 else 2  # shares need more digits than counts
                table.add_row(
                    r.kpi,
                    r.source,
                    fmt(r.reported, d),
                    fmt(r.mean, d),
                    f"{fmt(r.pi_low, d)} – {fmt(r.pi_high, d)}",
                    verdict,
                )
            console.print(table)
    exit_if_invalid(errors)
    if strict and outside:
        sys.exit(EXIT_TARGET_FAILED)
