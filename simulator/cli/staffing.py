"""``pasc erlang``, ``pasc size`` and ``pasc quota``: how many staff."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from simulator.cli.common import (
    EXIT_TARGET_FAILED,
    VERDICT_STYLE,
    BadInput,
    execution_options,
    exit_if_invalid,
    fmt,
    fmt_interval,
    fmt_kpi,
    guard_run_size,
    load,
    load_each,
    open_backend_for,
    out_root,
    progress_bar,
    quiet_option,
)
from simulator.cli.report import lang_option, with_language


@click.command()
@click.option(
    "--per-hour",
    type=click.FloatRange(min=0, min_open=True),
    required=True,
    help="Walk-in arrivals per hour.",
)
@click.option(
    "--handle-minutes",
    type=click.FloatRange(min=0, min_open=True),
    required=True,
    help="Mean desk time per citizen, minutes.",
)
@click.option(
    "--wait-target", type=click.FloatRange(min=0, min_open=True), help="Wait target M, minutes."
)
@click.option(
    "--service-level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Share P that must wait at most M (needs --wait-target).",
)
@click.option(
    "--patience",
    type=click.FloatRange(min=0, min_open=True),
    help="Mean patience, minutes: Erlang A (citizens give up).",
)
@click.option("--max-staff", type=click.IntRange(min=1), help="Last row of the table.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
def erlang(
    per_hour: float,
    handle_minutes: float,
    wait_target: float | None,
    service_level: float | None,
    patience: float | None,
    max_staff: int | None,
    as_json: bool,
) -> None:
    """The analytic answer (Erlang C, or Erlang A with --patience) for a quick check.

    --wait-target M --service-level P: smallest staff with P(wait <= M) >= P;
    --wait-target M alone: smallest staff with mean wait <= M; neither: the
    smallest staff keeping occupancy at or below 85 %.
    """
    from rich.console import Console
    from rich.table import Table

    from simulator.analytic import erlang_table

    if service_level is not None and wait_target is None:
        raise BadInput("--service-level: expected --wait-target too, found none")
    try:
        table = erlang_table(
            per_hour, handle_minutes, wait_target, service_level, patience, max_staff
        )
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    console = Console()
    model = "Erlang A" if patience else "Erlang C"
    console.print(
        f"{model}: {per_hour:g} arrivals/hour × {handle_minutes:g} min = "
        f"{table['offered_load']:.2f} Erlangs offered"
    )
    t = Table()
    cols = ["staff", "P(wait)", "mean wait (min)"]
    if wait_target is not None:
        cols.append(f"P(wait ≤ {wait_target:g})")
    cols.append("occupancy")
    if patience:
        cols.append("abandon")
    for c in cols:
        t.add_column(c, justify="right")
    for r in table["rows"]:
        cells = [str(r["staff"]), fmt(r["p_wait"], 3), fmt(r["mean_wait_minutes"])]
        if wait_target is not None:
            cells.append(fmt(r["service_level"], 3))
        cells.append(fmt(r["occupancy"], 3))
        if patience:
            cells.append(fmt(r.get("abandon_share"), 3))
        style = "bold green" if r["staff"] == table["answer"] else None
        t.add_row(*cells, style=style)
    console.print(t)
    if table["answer"] is None:
        console.print("No staff count in the table meets the target.")
    else:
        console.print(f"Answer: [bold]{table['answer']}[/bold] staff")


@click.command(name="size")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option(
    "--pool",
    "--desk",
    "desks",
    multiple=True,
    help="Size only this pool: a desk group, back-office or postal-agents (repeatable; "
    "default: every desk group and the dedicated back office).",
)
@click.option("--max-staff", type=click.IntRange(min=1), help="Cap on the sized pools' total.")
@click.option(
    "--horizon-days",
    type=click.IntRange(min=2),
    help="Measured working days per candidate (default: the steady-state rule, "
    "max(60, 4 x settling time)).",
)
@click.option(
    "-r",
    "--replications",
    type=click.IntRange(min=2),
    help="Replications per candidate (default: the scenario's).",
)
@click.option(
    "--max-replications",
    type=click.IntRange(min=2),
    help="Cap when inconclusive verdicts ask for more (default 4x).",
)
@click.option("--seed", type=click.IntRange(min=0))
@click.option("--out", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True)
@execution_options
@click.option("--strict", is_flag=True, help="Exit 1 when no staffing meets the targets.")
@click.option(
    "--by-hour",
    is_flag=True,
    help="Staff per open hour for each desk group: the fewest staff-hours meeting the wait "
    "target in every hour, found and verified by simulation.",
)
@click.option(
    "--shifts",
    "shift_patterns",
    default=None,
    metavar="PATTERNS",
    help="With --by-hour: turn the answer into the fewest shifts of these patterns "
    "(comma-separated: full-day, morning, afternoon, split=09:30-11:30+13:30-15:30, "
    "window=3-5) and verify the shift plan by simulation.",
)
@quiet_option
@lang_option
def size_cmd(
    scenario: str,
    desks: tuple[str, ...],
    max_staff: int | None,
    replications: int | None,
    max_replications: int | None,
    seed: int | None,
    out: str | None,
    as_json: bool,
    workers: int | None,
    backend: str | None,
    scheduler: str | None,
    strict: bool,
    quiet: bool,
    horizon_days: int | None = None,
    by_hour: bool = False,
    shift_patterns: str | None = None,
    lang: str | None = None,
) -> None:
    """Smallest staffing of SCENARIO that keeps up and meets every target in the steady
    state, with the staffing curve. Candidates are judged after a warm-up of the
    settling time, on max(60, 4 x settling time) working days (see --horizon-days)."""
    from simulator.artifacts import write_sizing_folder
    from simulator.report import write_sizing_report
    from simulator.sizing import size

    sc = load(scenario)
    from simulator.sizing import sizing_scenario

    # Sizing keeps no records table; what must fit is each candidate's replications
    # on the steady-state horizon (the time depends on how many candidates it takes).
    guard_run_size(
        sizing_scenario(sc, horizon_days),
        1,
        keep_records=False,
        workers=workers or 1,
        max_hours=float("inf"),
        source=scenario,
    )
    root = out_root(out, sc.name)
    if shift_patterns is not None and not by_hour:
        raise BadInput("--shifts: expected --by-hour with it, found --shifts alone")
    if by_hour:
        from simulator.report import in_language

        with in_language(lang):  # the by-hour report's language
            size_by_hour_cmd(
                sc, scenario, root, desks, max_staff, replications, seed, horizon_days,
                shift_patterns, as_json, workers, backend, scheduler, quiet, strict,
            )  # fmt: skip
        return
    with (
        open_backend_for(workers, backend, scheduler, what="size") as runner,
        progress_bar(f"{sc.name}: candidates", quiet or as_json) as progress,
    ):
        count = [0]

        def tick(candidate) -> None:
            count[0] += 1
            if progress is not None:
                progress(count[0], 0)

        try:
            result = size(
                sc,
                desks=list(desks) or None,
                max_staff=max_staff,
                replications=replications,
                max_replications=max_replications,
                seed=seed,
                progress=tick,
                horizon_days=horizon_days,
                backend=runner,
            )
        except ValueError as exc:
            raise BadInput(f"{scenario}: {exc}") from None
    folder = write_sizing_folder(result, root, render=with_language(write_sizing_report, lang))
    if as_json:
        click.echo(json.dumps({**result.to_dict(), "run_folder": str(folder)}, indent=2))
    else:
        print_sizing(result, folder)
    if strict and result.answer is None:
        sys.exit(EXIT_TARGET_FAILED)


def size_by_hour_cmd(
    sc,
    source: str,
    root: Path,
    desks: tuple[str, ...],
    max_staff: int | None,
    replications: int | None,
    seed: int | None,
    horizon_days: int | None,
    shift_patterns: str | None,
    as_json: bool,
    workers: int | None,
    backend: str | None,
    scheduler: str | None,
    quiet: bool,
    strict: bool,
) -> None:
    """``pasc size --by-hour``: size each desk group hour by hour, optionally plan shifts."""
    from simulator.artifacts import write_size_by_hour_folder
    from simulator.sizing_by_hour import plan_and_verify_shifts, size_by_hour

    names = [d.name for d in sc.staff.desks]
    unknown = [d for d in desks if d not in names]
    if unknown:
        raise BadInput(
            f"{source}: --pool: expected a desk group ({', '.join(names)}) with --by-hour, "
            f"found {unknown[0]!r}"
        )
    patterns = parse_shift_patterns(shift_patterns, sc) if shift_patterns is not None else None
    say = None if (quiet or as_json) else (lambda text: click.echo(text, err=True))
    with open_backend_for(workers, backend, scheduler, what="size") as runner:
        try:
            result = size_by_hour(
                sc,
                pools=list(desks) or None,
                replications=replications,
                seed=seed,
                max_staff=max_staff or 30,
                horizon_days=horizon_days,
                backend=runner,
                progress=say,
            )
            shifts = plan_and_verify_shifts(result, patterns, backend=runner) if patterns else None
        except ValueError as exc:
            raise BadInput(f"{source}: {exc}") from None
    render = _by_hour_renderer(shifts)
    folder = write_size_by_hour_folder(result, root, shifts=shifts, render=render)
    if as_json:
        payload = {**result.to_dict(), "run_folder": str(folder)}
        if shifts is not None:
            payload["shifts"] = shifts.to_dict()
        click.echo(json.dumps(payload, indent=2))
    else:
        print_size_by_hour(result, shifts, folder)
    if strict and not result.verified:
        sys.exit(EXIT_TARGET_FAILED)


SHIFT_PATTERN_HELP = (
    "full-day, morning, afternoon, split=09:30-11:30+13:30-15:30 (a split shift: its "
    "periods), window=3-5 (any window of 3 to 5 working hours inside the opening hours)"
)


def parse_shift_patterns(text: str, sc) -> list:
    """``--shifts`` into the patterns of :func:`simulator.shifts.plan_shifts`."""
    patterns: list = []
    spans = sc.calendar.open_spans_minutes()
    for item in (p.strip() for p in text.split(",")):
        name, _, arg = item.partition("=")
        if item in ("full-day", "morning", "afternoon"):
            patterns.append(item)
        elif name == "split" and arg:
            patterns.append({"name": f"split {arg}", "spans": arg.split("+")})
        elif name == "window" and arg:
            low, _, high = arg.partition("-")
            try:
                lo_h, hi_h = float(low), float(high or low)
            except ValueError:
                lo_h = hi_h = -1.0
            if not 0 < lo_h <= hi_h:
                raise BadInput(f"--shifts: expected window=MIN-MAX hours (3-5), found {item!r}")
            first, last = spans[0][0], spans[-1][1]
            patterns.append(
                {
                    "name": f"window {arg} h",
                    "start": f"{first // 60:02d}:{first % 60:02d}",
                    "end": f"{last // 60:02d}:{last % 60:02d}",
                    "min_hours": lo_h,
                    "max_hours": hi_h,
                }
            )
        else:
            raise BadInput(
                f"--shifts: expected patterns among {SHIFT_PATTERN_HELP}, found {item!r}"
            )
    if not patterns:
        raise BadInput(f"--shifts: expected patterns among {SHIFT_PATTERN_HELP}, found {text!r}")
    return patterns


def _by_hour_renderer(shifts):
    """The by-hour report renderer, with the shift plan (when the rendering layer has it)."""
    import functools

    from simulator import report

    draw = getattr(report, "write_size_by_hour_report", None)
    return functools.partial(draw, shifts=shifts) if draw is not None else None


def print_size_by_hour(result, shifts, folder: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    sc = result.scenario
    console.print(
        f"[bold]{sc.name}[/bold]: staff by hour against {result.kpi} <= "
        f"{result.target_minutes:g} min in every open hour, {result.replications} replications "
        f"on the steady-state horizon, seed {result.seed}"
    )
    t = Table(title="Staff on duty by hour: the answer (plain hour-by-hour Erlang C)")
    t.add_column("hour", justify="right")
    for pool in result.groups:
        t.add_column(pool, justify="right")
    for row in result.table():
        cells = [f"{row['hour']:02d}:00"]
        for pool, g in result.groups.items():
            miss = " !" if row["hour"] in g.sipp_misses else ""
            cells.append(f"{row[pool]} ({row[f'{pool} (Erlang)']}{miss})")
        t.add_row(*cells)
    console.print(t)
    flat = result.flat.answer if result.flat is not None else None
    console.print(
        f"Staff-hours a day: [bold]{result.staff_hours:.1f}[/bold] by hour, "
        f"{result.flat_staff_hours:.1f} flat ({flat or 'the scenario counts'})."
    )
    if result.staff_hours > result.flat_staff_hours:
        console.print(
            "The flat answer meets the targets over the whole day; in every hour, its busiest "
            "hours need more staff than it has."
        )
    for pool, g in result.groups.items():
        if g.sipp_misses:
            hours = ", ".join(f"{h:02d}:00" for h in g.sipp_misses)
            console.print(
                f"Plain hour-by-hour Erlang C for {pool} misses the target at {hours} (!)."
            )
        if g.sipp_load_ratio >= 1:
            console.print(
                f"Plain hour-by-hour Erlang C for {pool} cannot keep up: its staff-hours carry "
                f"{g.sipp_load_ratio:.0%} of their capacity (the back-office work is not in it)."
            )
    verdict = "[green]verified[/green]" if result.verified else "[red]not verified[/red]"
    console.print(
        f"Answer {verdict} with fresh random numbers in {result.rounds} round(s): every target, "
        "the wait target in every hour and keeps-up." + "".join(f" {n}." for n in result.notes)
    )
    if shifts is not None:
        d = shifts.to_dict()
        console.print(
            f"Shift plan: {d['staff']} staff, {d['staff_hours']:.1f} staff-hours a day, "
            + ("verified by simulation." if shifts.verified else "[red]not verified[/red].")
        )
        for pool, plan in shifts.plans.items():
            parts = ", ".join(f"{s.count} x {s.pattern} {s.start}-{s.end}" for s in plan.shifts)
            console.print(f"  {pool}: {parts}")
    console.print(f"Folder: {folder} (answer.yaml runs as it is)")


def print_sizing(result, folder: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from simulator.results.verdicts import growth_tolerance

    console = Console()
    sc = result.scenario
    console.print(
        f"[bold]{sc.name}[/bold]: sizing {', '.join(result.desks)} against "
        f"{len(sc.targets)} targets and keeps-up, each candidate on {result.horizon_days} "
        f"working days after a warm-up of {result.warmup_days} days, {result.replications} "
        f"replications (common random numbers, seed {result.seed})"
    )
    table = Table(title="Staffing curve: target means and 95% intervals", title_justify="left")
    table.add_column("staff: " + " / ".join(result.desks), justify="left", no_wrap=True)
    table.add_column("reps", justify="right")
    table.add_column("work/staff", justify="right")
    for t in sc.targets:
        table.add_column(f"{t.kpi} {t.op} {fmt_kpi(t.kpi, t.threshold)}", justify="right")
    table.add_column(f"keeps up: growth/day <= {fmt(growth_tolerance(sc))}", justify="right")
    curve = sorted(result.curve, key=lambda c: (c.total, tuple(c.staff.values())))
    for c in curve:
        cells = []
        for r in c.targets.itertuples():
            cells.append(
                f"[{VERDICT_STYLE[r.verdict]}]{fmt_kpi(r.kpi, r.mean)}[/] "
                f"({fmt_interval(r.kpi, r.ci_low, r.ci_high, '–')})"
            )
        if c.over_capacity:
            cells = cells[:-1] + ["[bold red]over capacity[/]"]
        label = " / ".join(str(c.staff[d]) for d in result.desks)
        chosen = result.answer is not None and all(
            c.staff[d] == n for d, n in result.answer.items()
        )
        busy = " / ".join(f"{c.loads[d].expected_utilization:.0%}" for d in result.desks)
        table.add_row(("→ " if chosen else "  ") + label, str(c.replications), busy, *cells)
    console.print(table)
    est = ", ".join(f"{k} {v}" for k, v in result.analytic_estimate.items())
    lb = ", ".join(f"{k} {v}" for k, v in result.lower_bound.items())
    console.print(
        f"Lower bound (fewest staff below capacity, rounded up): {lb}.  Analytic estimate "
        f"(Erlang C at the peak hour + back-office work): {est}."
    )
    if result.answer is None:
        console.print(f"[bold red]No answer[/]: {result.explanation}")
    else:
        console.print(f"[bold green]Answer[/]: {result.explanation}")
    if folder is not None:
        console.print(f"Run folder: {folder}" + (" (answer.yaml)" if result.answer else ""))


@click.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-r", "--replications", type=click.IntRange(min=2))
@click.option("--max-staff", type=click.IntRange(min=1))
@execution_options
@click.option("--json", "as_json", is_flag=True)
@quiet_option
def quota(
    scenarios: tuple[str, ...],
    replications: int | None,
    max_staff: int | None,
    workers: int | None,
    backend: str | None,
    scheduler: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Annual demand, quota-implied staff and service-target staff, side by side."""
    from simulator.quota import compare_quota

    loaded, errors = load_each(scenarios)
    rows = []
    with (
        open_backend_for(workers, backend, scheduler, what="quota") as runner,
        progress_bar("quota", quiet or as_json) as progress,
    ):
        for i, (path, sc) in enumerate(loaded):
            try:
                rows.append(
                    compare_quota(
                        sc, replications=replications, max_staff=max_staff, backend=runner
                    )
                )
            except ValueError as exc:  # e.g. no targets: reported, the batch goes on
                errors.append(f"{path}: {exc}")
                click.echo(f"pasc: {path}: {exc}", err=True)
            if progress is not None:
                progress(i + 1, len(loaded))
    if rows:
        if as_json:
            click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        else:
            print_quota(rows)
    exit_if_invalid(errors)


def print_quota(rows) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Quota staffing vs service-target staffing", title_justify="left")
    table.add_column("")
    for r in rows:
        table.add_column(r.scenario, justify="right")

    def line(label: str, values: list[str]) -> None:
        table.add_row(label, *values)

    line("commune class", [r.commune_class for r in rows])
    line("quota (records/staff-year)", [f"{r.quota:,.0f}" for r in rows])
    line("annual demand (records)", [f"{r.annual_demand:,.0f}" for r in rows])
    line("quota-implied staff", [f"{r.quota_staff} ({r.quota_staff_exact:.1f})" for r in rows])
    line(
        "service-target staff",
        ["–" if r.service_staff is None else str(r.service_staff) for r in rows],
    )
    line(
        "which binds",
        [
            "service targets: quota staff too few"
            if r.binding == "service targets"
            else "quota: targets met with fewer"
            if r.binding == "quota"
            else r.binding
            for r in rows
        ],
    )
    line("binding target", [r.sizing.binding_target or "–" for r in rows])
    line(
        "targets met at quota staffing",
        ["yes" if r.service_targets_met_at_quota else "no" for r in rows],
    )
    line(
        "records/staff-year at quota staffing",
        [fmt(r.records_per_staff_year_at_quota) for r in rows],
    )
    line(
        "records/staff-year at service staffing",
        [fmt(r.records_per_staff_year_at_service) for r in rows],
    )
    Console().print(table)
