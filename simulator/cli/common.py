"""Shared pieces of the command line: errors, loading, formatting, progress.

Exit codes: 0 success (targets may still fail: that is a result),
1 a failed target with ``--strict``, 2 bad input, with one message naming the
file, the key path, what was expected and what was found.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from simulator.display import VERDICT_COLORS
from simulator.scenario import ScenarioError

EXIT_TARGET_FAILED = 1
#: The backend went away mid-run (scheduler connection or every worker lost): the
#: generic failure code, as no other fits (1 is also a failed target with --strict).
EXIT_BACKEND_LOST = 1
EXIT_BAD_INPUT = 2
#: Stopped by Ctrl-C (SIGINT) or SIGTERM: 128 + the signal number, as shells report it.
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, batch schedulers, ``docker stop``), raised in the main
    thread like Ctrl-C, so every clean-up written for an interruption runs too."""

    exit_code = EXIT_TERMINATED


def interrupt_exit_code(exc: BaseException) -> int:
    """143 for SIGTERM, 130 for Ctrl-C."""
    return getattr(exc, "exit_code", EXIT_INTERRUPTED)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


def _skip_last_collection() -> None:
    """Have this process's exit skip the interpreter's last garbage collection
    (``gc.freeze`` at exit): ``pasc`` ends right after its command, and that
    collection would walk every object still there (a tenth of a second after a
    small ``pasc run``) only to free memory that the end of the process frees anyway."""
    import atexit
    import gc

    atexit.unregister(gc.freeze)  # registered once, however many commands run here
    atexit.register(gc.freeze)


class PascGroup(click.Group):
    """The ``pasc`` group: a SIGTERM stops a command the way Ctrl-C does, and either
    ends with one line and exit code 130 (Ctrl-C) or 143 (SIGTERM), not click's
    "Aborted!" and exit 1 (the code of a failed target under ``--strict``); the
    process's exit then skips its last garbage collection (see
    :func:`_skip_last_collection`)."""

    def invoke(self, ctx: click.Context) -> Any:
        import signal
        import threading

        _skip_last_collection()
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _raise_terminated)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            what = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"
            click.echo(
                f"pasc: stopped ({what}); nothing half-written is left: a run folder "
                "appears only once complete",
                err=True,
            )
            ctx.exit(interrupt_exit_code(exc))
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


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


def guard_run_size(
    sc: Any,
    replications: int,
    *,
    keep_records: bool,
    workers: int,
    max_memory_gb: float | None = None,
    max_hours: float | None = None,
    source: str = "",
    streamed: bool = False,
):
    """The run's size estimate; bad input (exit 2, naming the keys) when it exceeds
    the limits, before anything is simulated (``streamed``: the records table goes
    to disk as the run goes, so it does not count against memory)."""
    from simulator.runsize import (
        DEFAULT_MAX_HOURS,
        DEFAULT_MAX_MEMORY_GB,
        estimate_run,
        limit_problems,
    )

    est = estimate_run(
        sc, replications, keep_records=keep_records, workers=workers, streamed=streamed
    )
    problems = limit_problems(
        est,
        DEFAULT_MAX_MEMORY_GB if max_memory_gb is None else max_memory_gb,
        DEFAULT_MAX_HOURS if max_hours is None else max_hours,
    )
    if problems:
        raise BadInput(f"{source or sc.name}: {problems[0]}")
    return est


#: ``--dry-run``, ``--max-memory-gb``, ``--max-hours``: the run-size guard's options.
def size_options(command: Callable) -> Callable:
    for option in reversed(
        (
            click.option(
                "--dry-run",
                is_flag=True,
                help="Print the estimated records, memory and time; run nothing.",
            ),
            click.option(
                "--max-memory-gb",
                type=click.FloatRange(min=0, min_open=True),
                help="Refuse a run estimated above this memory (default 8).",
            ),
            click.option(
                "--max-hours",
                type=click.FloatRange(min=0, min_open=True),
                help="Refuse a run estimated above this time (default 2).",
            ),
        )
    ):
        command = option(command)
    return command


def load_each(paths: Sequence[str]) -> tuple[list[tuple[str, Any]], list[str]]:
    """Load every file of a batch: ``(path, scenario)`` for the valid ones, and one
    message per invalid one, printed on stderr at once (the batch goes on; the
    command exits 2 at the end, see :func:`exit_if_invalid`)."""
    from simulator.scenario import load_scenario

    loaded, errors = [], []
    for path in paths:
        try:
            loaded.append((path, load_scenario(path)))
        except ScenarioError as exc:
            errors.append(exc.message())
            click.echo(f"pasc: {exc.message()}", err=True)
    return loaded, errors


def exit_if_invalid(errors: Sequence[str]) -> None:
    """End a batch with exit code 2 when a file of it was invalid (already reported)."""
    if errors:
        sys.exit(EXIT_BAD_INPUT)


def fmt(x: float | None, digits: int = 2) -> str:
    """A number for a terminal table: thousands separated, no '-0.00'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if abs(x) < 0.5 * 10**-digits:
        x = 0.0
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}" if abs(x) < 100 else f"{x:.1f}"


def fmt_kpi(kpi: str, x: float | None) -> str:
    """A KPI's value with its decimals (3 for shares)."""
    from simulator.kpis import kpi_digits

    return fmt(x, kpi_digits(kpi))


def fmt_interval(kpi: str, low: float | None, high: float | None, sep: str = " – ") -> str:
    """``low – high``, kept in the KPI's natural range (files keep the raw bounds)."""
    from simulator.kpis import shown_interval

    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return f"{fmt(low)}{sep}{fmt(high)}"
    lo, hi = shown_interval(kpi, low, high)
    return f"{fmt_kpi(kpi, lo)}{sep}{fmt_kpi(kpi, hi)}"


#: Seconds between progress lines when stderr is not a terminal (a log, a batch job).
PROGRESS_LINE_SECONDS = 10.0


@contextmanager
def progress_bar(description: str, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback: a bar on a terminal; when stderr is a file or a pipe, one
    line every ``PROGRESS_LINE_SECONDS`` (env ``PASC_PROGRESS_SECONDS``); nothing with
    ``--quiet``."""
    if quiet:
        yield None
        return
    if not sys.stderr.isatty():
        import time

        every = float(os.environ.get("PASC_PROGRESS_SECONDS", PROGRESS_LINE_SECONDS))
        start = time.monotonic()
        last = [start]

        def line(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] < every:
                return
            last[0] = now
            of = f"/{total}" if total else ""
            click.echo(f"{description}: {done}{of} done, {now - start:.0f} s", err=True)

        yield line
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
            bar.update(task, completed=done, total=total or None)

        yield update


def out_root(out: str | None, *inside: str) -> Path:
    """The folder that will hold run folders, checked before any simulation runs.

    ``inside`` names the sub-folders the command writes into (the scenario's
    name, ``compare``, ...): each is created and checked too, so that a file
    or a read-only folder in the way is a bad input before the work, not an
    error after it (when the results would be lost)."""
    from simulator.artifacts import DEFAULT_ROOT

    root = Path(out) if out else DEFAULT_ROOT
    target = root.joinpath(*inside)
    for parent in (target, *target.parents):
        if parent.exists() and not parent.is_dir():
            raise BadInput(f"--out {root}: expected a folder at {parent}, found a file")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(
            f"--out {root}: cannot create the folder {target} ({exc.strerror})"
        ) from None
    if not os.access(target, os.W_OK | os.X_OK):
        raise BadInput(f"--out {root}: expected a writable folder, found {target} read-only")
    return root


#: ``--workers N``, ``--backend``, ``--scheduler``: where replications run, the same in
#: every command that simulates (see :func:`simulator.backends.make_backend`).
BACKEND_CHOICES = ("serial", "processes", "dask")


def execution_options(command: Callable) -> Callable:
    """Add ``--workers``, ``--backend`` and ``--scheduler`` to a command.

    ``--workers N`` alone means N local processes; ``--backend dask`` a local
    Dask cluster (of ``--workers`` processes); ``--scheduler ADDR`` a running
    Dask cluster. The numbers never depend on these options."""
    for option in reversed(
        (
            click.option(
                "--workers",
                type=click.IntRange(min=1),
                help="Processes running replications: N local processes, or with "
                "--backend dask a local Dask cluster of N (default 1: this process). "
                "The numbers do not change.",
            ),
            click.option(
                "--backend",
                type=click.Choice(BACKEND_CHOICES),
                help="Where replications run (default: processes with --workers N > 1, "
                "dask with --scheduler, serial otherwise).",
            ),
            click.option(
                "--scheduler",
                metavar="ADDRESS",
                help="Run on a running Dask cluster (tcp://host:8786); implies --backend dask.",
            ),
        )
    ):
        command = option(command)
    return command


@contextmanager
def open_backend_for(
    workers: int | None,
    backend: str | None,
    scheduler: str | None,
    *,
    retries: int = 3,
    key_prefix: str = "pasc",
    what: str = "run",
) -> Iterator[Any]:
    """The backend the options ask for, started now (an unreachable scheduler or a
    contradiction is bad input, exit 2, before anything runs) and closed at the end.
    A backend lost in the middle (scheduler gone, worker killed) ends the command
    with one line and exit code 1."""
    from simulator.backends import BackendLost, BackendUnavailable, make_backend

    try:
        runner = make_backend(
            backend,  # type: ignore[arg-type]
            workers=workers,
            scheduler=scheduler,
            retries=retries,
            key_prefix=key_prefix,
        )
        runner.start()
    except (ValueError, BackendUnavailable) as exc:
        raise BadInput(str(exc)) from None
    try:
        with runner:
            yield runner
    except BackendLost as exc:
        click.echo(f"pasc: {what}: {exc}; nothing was written", err=True)
        sys.exit(EXIT_BACKEND_LOST)


#: ``-q/--quiet``: no progress bar (there is none when output is not a terminal either).
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bar.")

#: Rich styles of the verdicts: the colours of the pictures and reports.
VERDICT_STYLE = {verdict: f"bold {color}" for verdict, color in VERDICT_COLORS.items()}
