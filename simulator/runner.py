"""Replications as tasks: the one way every command runs the simulation.

Replication ``i`` of a run with seed ``s`` is ``simulate_replication(scenario,
s, i)``: a pure function of (scenario, seed, i). The runner turns replications
into :class:`~simulator.backends.Task` objects and hands them to a backend
(:mod:`simulator.backends`), which decides *where* they run: in this process,
on local processes, on a local Dask cluster or on a running one. Results come
back in any order and are put back in replication order, so the numbers are
the same on every backend, with any number of workers.

Two ways to say where::

    run_replications(sc, 30, seed, workers=4)           # a backend made and closed here
    with open_backend(backend="dask", workers=4) as b:  # one backend for many calls
        for staffing in candidates:
            run_jobs([(with_staff(sc, staffing), seed, i) for i in range(30)], b)

Every public function that simulates (``simulator.run``, ``size``,
``compare``, ``compare_quota``, ``run_province``, ``run_sweep``) takes the
same ``workers`` / ``backend`` / ``scheduler`` arguments and passes them to
:func:`open_backend`; the command line's ``--workers``, ``--backend`` and
``--scheduler`` map onto them one to one (see :func:`simulator.backends.make_backend`).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from simulator.backends import (
    Backend,
    BackendName,
    DaskBackend,
    ProcessBackend,
    SerialBackend,
    Task,
    default_workers,
    make_backend,
)
from simulator.model import ReplicationOutput, simulate_replication
from simulator.scenario import Scenario

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each replication."""

OutputCallback = Callable[[int, ReplicationOutput], None]
"""Called as ``each(index, output)`` with each replication's output as it finishes
(in replication order on the serial backend, in any order on the others)."""

BackendChoice = BackendName | SerialBackend | ProcessBackend | DaskBackend | None
"""A backend's name (``"serial"``, ``"processes"``, ``"dask"``), an open backend
(used as it is and left open), or ``None`` (chosen from ``workers`` / ``scheduler``)."""

Job = tuple[Scenario, int, int]
"""One replication to run: (scenario, seed, replication index)."""

# A batch number makes the task keys of different calls differ, and a token drawn
# once per process those of different processes sharing one Dask scheduler: a
# cluster must never mistake replication 3 of one candidate staffing for another's.
_batches = itertools.count()
_PROCESS_TOKEN = secrets.token_hex(3)


def replication_output(
    scenario: Scenario, seed: int, index: int, keep_records: bool = False, spool: Any = None
) -> ReplicationOutput:
    """Replication ``index`` of ``scenario`` with ``seed``: the function every task calls.

    ``spool``: where the replication's tables go while it runs, instead of into its
    output (an object with ``open(index) -> sink`` and ``close(index, sink)``, such
    as :class:`simulator.artifacts.TableSpool`): memory then stays bounded."""
    if spool is None:
        return simulate_replication(scenario, seed, index, keep_records)
    sink = spool.open(index)
    try:
        return simulate_replication(scenario, seed, index, True, sink=sink)
    finally:
        spool.close(index, sink)


@contextmanager
def open_backend(
    backend: BackendChoice = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
) -> Iterator[Backend]:
    """The backend to run on, closed on leaving unless it was passed in open.

    ``backend`` is a name, an open backend, or ``None``: then ``workers > 1``
    means that many local processes and ``scheduler`` a running Dask cluster
    (:func:`simulator.backends.make_backend` has the whole table)."""
    if isinstance(backend, SerialBackend | ProcessBackend | DaskBackend):
        yield backend
        return
    made = make_backend(backend, workers=workers, scheduler=scheduler)
    with made:
        yield made


def iter_jobs(
    jobs: Sequence[Job], backend: Backend, *, keep_records: bool = False, spool: Any = None
) -> Iterator[tuple[int, ReplicationOutput]]:
    """Yield ``(position in jobs, output)`` as each job finishes (in any order)."""
    batch = next(_batches)
    tasks = [
        Task(
            key=f"{scenario.name}-{_PROCESS_TOKEN}b{batch}-{pos:06d}-r{index:05d}",
            fn=replication_output,
            args=(scenario, seed, index, keep_records, spool),
        )
        for pos, (scenario, seed, index) in enumerate(jobs)
    ]
    if len(tasks) <= 1 and isinstance(backend, ProcessBackend):
        # One task gains nothing from another process: run it here (same numbers).
        backend = SerialBackend()
    for key, output in backend.run(tasks):
        yield int(key.rsplit("-", 2)[1]), output


def run_jobs(
    jobs: Iterable[Job],
    backend: Backend,
    *,
    keep_records: bool = False,
    progress: ProgressCallback | None = None,
    spool: Any = None,
    each: OutputCallback | None = None,
) -> list[ReplicationOutput]:
    """The outputs of arbitrary (scenario, seed, index) jobs, in job order (``each``
    is called with every job's replication index and output as it finishes)."""
    jobs = list(jobs)
    done: dict[int, ReplicationOutput] = {}
    for pos, output in iter_jobs(jobs, backend, keep_records=keep_records, spool=spool):
        done[pos] = output
        if each is not None:
            each(jobs[pos][2], output)
        if progress is not None:
            progress(len(done), len(jobs))
    return [done[pos] for pos in range(len(jobs))]


def iter_replications(
    scenario: Scenario,
    replications: int,
    seed: int,
    *,
    first: int = 0,
    workers: int = 1,
    keep_records: bool = False,
    backend: BackendChoice = None,
    scheduler: str | None = None,
) -> Iterator[tuple[int, ReplicationOutput]]:
    """Yield ``(index, output)`` for replications ``first .. first+replications-1``
    as they finish (in any order on a parallel backend)."""
    jobs = [(scenario, seed, i) for i in range(first, first + replications)]
    with open_backend(backend, workers=workers, scheduler=scheduler) as b:
        for pos, output in iter_jobs(jobs, b, keep_records=keep_records):
            yield first + pos, output


def run_replications(
    scenario: Scenario,
    replications: int,
    seed: int,
    *,
    first: int = 0,
    workers: int = 1,
    keep_records: bool = False,
    progress: ProgressCallback | None = None,
    backend: BackendChoice = None,
    scheduler: str | None = None,
    spool: Any = None,
    each: OutputCallback | None = None,
) -> list[ReplicationOutput]:
    """All replications' outputs, in replication order, whatever the backend (with
    ``spool``, the tables go to it as the replications run; see
    :func:`replication_output`; ``each``: see :func:`run_jobs`)."""
    jobs = [(scenario, seed, i) for i in range(first, first + replications)]
    with open_backend(backend, workers=workers, scheduler=scheduler) as b:
        return run_jobs(
            jobs, b, keep_records=keep_records, progress=progress, spool=spool, each=each
        )


__all__ = [
    "BackendChoice",
    "Job",
    "OutputCallback",
    "ProgressCallback",
    "default_workers",
    "iter_jobs",
    "iter_replications",
    "open_backend",
    "replication_output",
    "run_jobs",
    "run_replications",
]
