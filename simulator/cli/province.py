"""``pasc province``: a province's communes on one clock, with cross-boundary filing."""

from __future__ import annotations

import json

import click

from simulator.cli.common import (
    BadInput,
    execution_options,
    fmt,
    open_backend_for,
    out_root,
    progress_bar,
    quiet_option,
)
from simulator.display import json_number
from simulator.scenario import ScenarioError


@click.command()
@click.argument("province_file", type=click.Path(dir_okay=False))
@click.option("-r", "--replications", type=click.IntRange(min=2))
@click.option("--seed", type=click.IntRange(min=0))
@click.option(
    "--threshold",
    type=click.FloatRange(min=0),
    default=15.0,
    show_default=True,
    help="Expected wait (minutes) at home above which a citizen considers a neighbour.",
)
@click.option(
    "--travel",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Minutes a citizen adds for going to the neighbouring center.",
)
@click.option(
    "--willing",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Share of walk-ins willing to go elsewhere.",
)
@click.option("--no-routing", is_flag=True, help="Everyone files at home (for comparison).")
@execution_options
@click.option("--out", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True)
@quiet_option
def province(
    province_file: str,
    replications: int | None,
    seed: int | None,
    threshold: float,
    travel: float,
    willing: float,
    no_routing: bool,
    workers: int | None,
    backend: str | None,
    scheduler: str | None,
    out: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Simulate every commune of PROVINCE_FILE together; walk-ins facing a long queue
    may file at a neighbouring center (procedures are accepted regardless of
    boundaries). Prints each commune's KPIs and the flows between communes."""
    from rich.console import Console
    from rich.table import Table

    from simulator.artifacts import write_province_folder
    from simulator.model.province import RoutingRule
    from simulator.province_run import run_province
    from simulator.scenario.province import load_province

    try:
        prov = load_province(province_file)
    except ScenarioError as exc:
        raise BadInput(exc.message()) from None
    root = out_root(out, prov.name)
    routing = None if no_routing else RoutingRule(threshold, travel, willing)
    with (
        open_backend_for(workers, backend, scheduler, what="province") as runner,
        progress_bar(f"{prov.name}: replications", quiet or as_json) as progress,
    ):
        try:
            result = run_province(
                prov,
                replications,
                seed,
                routing,
                backend=runner,
                progress=progress,
            )
        except ValueError as exc:
            raise BadInput(f"{province_file}: {exc}") from None
    summary = result.summary()
    folder = write_province_folder(
        prov.name, {"kpis": result.kpis, "summary": summary, "flows": result.flows}, root
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "province": prov.name,
                    "replications": result.replications,
                    "seed": result.seed,
                    "routing": None if routing is None else routing.__dict__,
                    "communes": [
                        {k: json_number(v) for k, v in row.items()}
                        for row in summary.to_dict(orient="records")
                    ],
                    "flows": result.flows.to_dict(orient="records"),
                    "run_folder": str(folder),
                },
                indent=2,
            )
        )
        return
    console = Console()
    rule = (
        "everyone files at home"
        if routing is None
        else f"walk-ins expecting > {threshold:g} min at home, {willing:.0%} willing, "
        f"+{travel:g} min travel, go to the neighbour with the shortest expected wait"
    )
    console.print(
        f"[bold]{prov.name}[/bold]: {len(prov.communes)} communes, "
        f"{result.replications} replications; {rule}"
    )
    table = Table(title="Per commune: mean (95% CI)", title_justify="left")
    for col in ("commune", "filed", "sent out", "came in", "wait p90 (min)", "utilization"):
        table.add_column(col, justify="left" if col == "commune" else "right")
    for r in summary.to_dict(orient="records"):
        table.add_row(
            r["commune"],
            fmt(r["records_filed.mean"]),
            fmt(r["records_routed_out.mean"]),
            fmt(r["records_routed_in.mean"]),
            f"{fmt(r['wait_minutes.p90.mean'])} ({fmt(r['wait_minutes.p90.ci_low'])}–"
            f"{fmt(r['wait_minutes.p90.ci_high'])})",
            fmt(r["utilization.mean"]),
        )
    console.print(table)
    if len(result.flows):
        flows = Table(
            title="Walk-ins filing across boundaries (mean per replication)", title_justify="left"
        )
        for col in ("from", "to", "walk-ins"):
            flows.add_column(col, justify="right" if col == "walk-ins" else "left")
        for f in result.flows.itertuples():
            flows.add_row(f.origin, f.destination, fmt(f.walk_ins))
        console.print(flows)
    console.print(f"Run folder: {folder}")
