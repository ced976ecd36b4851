"""``pasc sweep``: a grid of variants, or every commune of a province, on any backend."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from simulator.cli.common import (
    EXIT_BACKEND_LOST,
    VERDICT_STYLE,
    BadInput,
    execution_options,
    fmt,
    interrupt_exit_code,
    out_root,
    progress_bar,
    quiet_option,
)

SHOWN_ROWS = 40


def _pairs(items: tuple[str, ...], option: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise BadInput(f"{option} {item}: expected KEY=VALUE, found no '='")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def resume_command(
    folder: Path,
    *,
    backend: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    retries: int = 3,
    plot_kpi: str | None = None,
) -> str:
    """The command that finishes the sweep in ``folder`` on the same backend: the
    folder holds the plan, so only the options of where it runs are repeated."""
    args = ["pasc", "sweep", "--resume", str(folder)]
    if backend is not None:
        args += ["--backend", backend]
    if workers is not None:
        args += ["--workers", str(workers)]
    if scheduler is not None:
        args += ["--scheduler", scheduler]
    if retries != 3:
        args += ["--retries", str(retries)]
    if plot_kpi is not None:
        args += ["--plot-kpi", plot_kpi]
    return shlex.join(args)


@click.command()
@click.argument("source", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="PATH=V1,V2,...",
    help="Swept key and its values (repeatable: the grid is the cartesian product). "
    "Linked keys: P1,P2=a1/a2,b1/b2.",
)
@click.option(
    "--where",
    "where",
    multiple=True,
    metavar="KEY=VALUE",
    help="Province files: keep the communes whose id, province or class equals VALUE.",
)
@click.option("-r", "--replications", type=click.IntRange(min=2), help="Default: each scenario's.")
@click.option("--seed", type=click.IntRange(min=0), help="Default: each scenario's.")
@click.option("--size", "do_size", is_flag=True, help="Also find each variant's minimal staffing.")
@click.option("--desk", "desks", multiple=True, help="With --size: size only this desk group.")
@click.option("--max-staff", type=click.IntRange(min=1), help="With --size: cap on sized staff.")
@execution_options
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Dask: times a failed task is retried.",
)
@click.option("--out", type=click.Path(file_okay=False), help="Folder for the run folder.")
@click.option(
    "--resume",
    type=click.Path(file_okay=False),
    metavar="FOLDER",
    help="Finish the sweep in FOLDER: skip the tasks already saved there.",
)
@click.option("--plot-kpi", metavar="KPI", help="KPI of sweep.png (default wait_minutes.p90).")
@quiet_option
def sweep(
    source: str | None,
    sets: tuple[str, ...],
    where: tuple[str, ...],
    replications: int | None,
    seed: int | None,
    do_size: bool,
    desks: tuple[str, ...],
    max_staff: int | None,
    backend: str | None,
    workers: int | None,
    scheduler: str | None,
    retries: int,
    out: str | None,
    resume: str | None,
    plot_kpi: str | None,
    quiet: bool,
) -> None:
    """Sweep SOURCE (a scenario or a province file) over a grid of --set values.

    One summary row per variant (each commune of a province is a variant):
    KPI means with 95% intervals, target verdicts and, with --size, the
    minimal staffing. Every finished task is saved at once in the run folder;
    after an interruption, `pasc sweep --resume FOLDER` (or the first command
    plus `--resume FOLDER`) computes only what is missing and gives the same
    table. The numbers do not depend on the backend or the number of workers.
    """
    from simulator.backends import BackendLost, BackendUnavailable, make_backend
    from simulator.scenario import ScenarioError
    from simulator.sweep import (
        SizeOptions,
        SweepError,
        SweepFolder,
        new_sweep_folder,
        plan_from_spec,
        plan_sweep,
        run_sweep,
    )

    if (desks or max_staff) and not do_size:
        raise BadInput("--desk/--max-staff: expected --size too, found none")
    size = SizeOptions(tuple(desks), max_staff) if do_size else None

    def plan_from_options():
        return plan_sweep(
            source,
            sets,
            seed=seed,
            replications=replications,
            size=size,
            where=_pairs(where, "--where"),
        )

    try:
        if resume:
            folder = Path(resume)
            store = SweepFolder(folder)
            spec = store.read_spec()
            if source is None:
                if sets or where or replications or seed is not None or do_size:
                    raise BadInput(
                        "--resume FOLDER alone reruns the stored sweep; to check options, "
                        "give the scenario too (the same command as the first run)"
                    )
                plan = plan_from_spec(spec)
            else:
                plan = plan_from_options()
            store.check(plan)
            if out and Path(out).resolve() != folder.resolve().parent.parent:
                # The first command's --out is where FOLDER already is: nothing to say.
                click.echo(
                    f"pasc: sweep: --out {out} ignored: a resumed sweep writes into {folder}",
                    err=True,
                )
        else:
            if source is None:
                raise BadInput("expected a SCENARIO or PROVINCE file, or --resume FOLDER")
            plan = plan_from_options()
            root = out_root(out)
        if plot_kpi is not None and plot_kpi not in plan.kpi_names():
            names = plan.kpi_names()
            raise BadInput(
                f"--plot-kpi: expected a KPI such as {', '.join(names[:5])}, ..., "
                f"found {plot_kpi!r}"
            )
        runner = make_backend(
            backend,  # type: ignore[arg-type]
            workers=workers,
            scheduler=scheduler,
            retries=retries,
            key_prefix=plan.key_prefix(),
        )
        runner.start()  # an unreachable scheduler fails here, before any folder is made
        if not resume:
            try:
                folder = new_sweep_folder(root, plan.name)
            except BaseException:
                runner.close()
                raise
    except ScenarioError as exc:
        raise BadInput(exc.message()) from None
    except BackendUnavailable as exc:
        raise BadInput(str(exc)) from None
    except (SweepError, ValueError) as exc:
        raise BadInput(str(exc)) from None

    total = len(plan.task_names())
    reps = sorted({v.replications for v in plan.variants})
    click.echo(
        f"{plan.name}: {len(plan.variants)} variants × "
        f"{'/'.join(map(str, reps))} replications"
        f"{' + sizing' if plan.size else ''} = {total} tasks; run folder {folder}",
        err=True,
    )
    finish = resume_command(
        folder,
        backend=backend,
        workers=workers,
        scheduler=scheduler,
        retries=retries,
        plot_kpi=plot_kpi,
    )

    def on_resume(saved) -> None:
        click.echo(f"resuming: {len(saved.done)} of {saved.total} tasks already saved", err=True)
        message = saved.unreadable_message()
        if message:
            click.echo(f"pasc: {message}", err=True)

    def saved_count() -> int:
        return len(SweepFolder(folder).done() & set(plan.task_names()))

    try:
        with runner, progress_bar(f"{plan.name}: tasks", quiet) as progress:
            result = run_sweep(
                plan,
                folder,
                runner,
                resume=bool(resume),
                plot_kpi=plot_kpi,
                progress=progress,
                on_resume=on_resume,
            )
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
        click.echo(
            f"pasc: interrupted; {saved_count()} of {total} tasks are saved in {folder}. "
            f"Finish with: {finish}",
            err=True,
        )
        sys.exit(interrupt_exit_code(exc))
    except BackendLost as exc:
        click.echo(
            f"pasc: sweep: {exc}; {saved_count()} of {total} tasks are saved in {folder}. "
            f"{'When the scheduler and its workers are back, f' if scheduler else 'F'}inish "
            f"with: {finish}",
            err=True,
        )
        sys.exit(EXIT_BACKEND_LOST)
    except BackendUnavailable as exc:
        raise BadInput(str(exc)) from None
    except SweepError as exc:
        raise BadInput(str(exc)) from None
    print_sweep(result)


def print_sweep(result) -> None:
    """The summary table (first rows) and where the files are."""
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from simulator.sweep import default_plot_kpi

    plan, summary = result.plan, result.summary
    console = Console()
    kpi = default_plot_kpi(plan, summary)
    if plan.kind == "province":
        lead = ["id", "class", "records_per_day", "staff_total", *plan.swept_paths]
    else:
        lead = list(plan.swept_paths)
    table = Table(title=f"{plan.name}: one row per variant", title_justify="left")
    for col in lead:
        table.add_column(col, justify="right" if col != "id" else "left", no_wrap=col == "id")
    table.add_column(f"{kpi} (95% CI)", justify="right", no_wrap=True)
    has_size = "min_staff_total" in summary.columns
    if has_size:
        table.add_column("min staff", justify="right")
    table.add_column("verdict")
    for row in summary.head(SHOWN_ROWS).to_dict("records"):
        cells = [fmt(row[c]) if isinstance(row[c], float) else str(row[c]) for c in lead]
        cells.append(
            f"{fmt(row[f'{kpi}.mean'])} ({fmt(row[f'{kpi}.ci_low'])}–{fmt(row[f'{kpi}.ci_high'])})"
        )
        if has_size:
            total = row["min_staff_total"]
            cells.append("–" if total is None or total != total else str(int(total)))
        verdict = row.get("verdict") or ""
        cells.append(f"[{VERDICT_STYLE[verdict]}]{verdict}[/]" if verdict else "–")
        table.add_row(*cells)
    console.print(table)
    if len(summary) > SHOWN_ROWS:
        console.print(f"... {len(summary) - SHOWN_ROWS} more rows in summary.csv")
    verdicts = summary["verdict"] if "verdict" in summary else pd.Series(dtype=str)
    counts = verdicts[verdicts.astype(bool)].value_counts().to_dict()
    if counts:
        console.print("Verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k))
    console.print(
        f"Computed {result.computed} tasks, reused {result.skipped}. "
        f"Run folder: {result.folder} (summary.csv, kpis.csv, variants.csv, sweep.png)"
    )
