"""Replications: serial or on local processes, always the same numbers.

Replication ``i`` of a run with seed ``s`` is ``simulate_replication(scenario,
s, i)``: a pure function, so it can run anywhere, in any order, on any number
of processes, and give the same result. The runner only decides *where* each
replication runs and hands results back in replication order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed

from simulator.model import ReplicationOutput, simulate_replication
from simulator.scenario import Scenario

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each replication."""


def default_workers() -> int:
    """One process per core: the machine's cores (2 on the CI machine)."""
    return max(1, os.cpu_count() or 1)


def _one(args: tuple[Scenario, int, int, bool]) -> tuple[int, ReplicationOutput]:
    scenario, seed, index, keep_records = args
    return index, simulate_replication(scenario, seed, index, keep_records)


def iter_replications(
    scenario: Scenario,
    replications: int,
    seed: int,
    *,
    first: int = 0,
    workers: int = 1,
    keep_records: bool = False,
) -> Iterator[tuple[int, ReplicationOutput]]:
    """Yield ``(index, output)`` for replications ``first .. first+replications-1``
    as they finish (in any order when ``workers > 1``)."""
    tasks = [(scenario, seed, i, keep_records) for i in range(first, first + replications)]
    if workers <= 1 or replications <= 1:
        for task in tasks:
            yield _one(task)
        return
    with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
        futures = [pool.submit(_one, task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()


def run_replications(
    scenario: Scenario,
    replications: int,
    seed: int,
    *,
    first: int = 0,
    workers: int = 1,
    keep_records: bool = False,
    progress: ProgressCallback | None = None,
) -> list[ReplicationOutput]:
    """All replications' outputs, in replication order."""
    done: dict[int, ReplicationOutput] = {}
    for index, output in iter_replications(
        scenario, replications, seed, first=first, workers=workers, keep_records=keep_records
    ):
        done[index] = output
        if progress is not None:
            progress(len(done), replications)
    return [done[i] for i in sorted(done)]


class ReplicationPool:
    """Run batches of (scenario, seed, index) jobs on a pool kept open across batches.

    Sizing evaluates many candidate staffings one after another; starting
    processes once rather than per candidate saves a few tenths of a second
    each time. ``workers=1`` runs in this process. Use as a context manager.
    """

    def __init__(self, workers: int = 1):
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> ReplicationPool:
        if self.workers > 1:
            self._executor = ProcessPoolExecutor(max_workers=self.workers)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None

    def map(self, jobs: Iterable[tuple[Scenario, int, int]]) -> list[ReplicationOutput]:
        """Outputs of the jobs, in job order (records are never kept)."""
        tasks = [(sc, seed, i, False) for sc, seed, i in jobs]
        if self._executor is None or len(tasks) <= 1:
            return [_one(t)[1] for t in tasks]
        return [out for _, out in self._executor.map(_one, tasks, chunksize=1)]


def run_many(
    jobs: Iterable[tuple[Scenario, int, int]], *, workers: int = 1
) -> list[ReplicationOutput]:
    """Outputs of arbitrary (scenario, seed, index) jobs, in job order."""
    with ReplicationPool(workers) as pool:
        return pool.map(jobs)
