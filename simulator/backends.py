"""Where pure tasks run: in this process, on local processes, or on a Dask cluster.

A *task* is a call of a pure, importable function with picklable arguments,
named by a key that says what it computes (``v00003-r0007``: variant 3,
replication 7). Because the function is pure, it does not matter where or in
which order tasks run, nor whether one runs twice: the numbers are the same.
That is what lets a sweep spread over many machines, survive a killed worker
(Dask simply runs the task again elsewhere) and resume after an interruption.

Every backend has the same one-method interface::

    with make_backend("dask", workers=4) as backend:
        for key, result in backend.run(tasks):   # as each task finishes
            save(key, result)

Results stream back in completion order, each with its key; the caller
decides what to do with them (a sweep writes one file per task at once).
Only a bounded number of tasks is in flight at any time, so a national sweep of
tens of thousands of tasks neither floods the scheduler nor holds every
argument in memory.

Backends:

- :class:`SerialBackend`: in this process, one after another (the default for a
  small run; no start-up cost, easiest to debug).
- :class:`ProcessBackend`: ``concurrent.futures`` processes on this machine.
- :class:`DaskBackend`: Dask distributed, either a local cluster it starts
  (``workers=N``: N single-threaded worker processes) or an existing one
  (``scheduler="tcp://host:port"``). Tasks are submitted with their key (so
  the same task has the same key on every run) and ``retries``. When a worker
  dies, the scheduler reassigns its tasks to the remaining workers. Dask is
  imported only when this backend is used (``pip install "pasc[dask]"``).
"""

from __future__ import annotations

import itertools
import logging
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

BackendName = Literal["serial", "processes", "dask"]
BACKENDS: tuple[BackendName, ...] = ("serial", "processes", "dask")

#: Tasks in flight per worker: enough to keep every worker busy while results
#: travel back, few enough that memory stays flat for any number of tasks.
IN_FLIGHT_PER_WORKER = 4


@dataclass(frozen=True)
class Task:
    """One pure function call: ``fn(*args)``, named ``key``.

    ``fn`` must be importable by name (a module-level function) so that other
    processes and machines can run it; ``args`` must pickle.
    """

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()

    def __call__(self) -> Any:
        return self.fn(*self.args)


class Backend(Protocol):
    """Runs tasks somewhere and yields ``(key, result)`` as each one finishes."""

    name: str
    workers: int

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[str, Any]]: ...

    def start(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Backend: ...

    def __exit__(self, *exc: object) -> None: ...


class BackendUnavailable(RuntimeError):
    """The backend cannot start: Dask not installed, scheduler unreachable, ..."""


class _ContextBackend:
    name = "base"
    workers = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start workers or connect now, so that a failure shows before any work."""

    def close(self) -> None:
        """Release workers and connections (idempotent)."""


class SerialBackend(_ContextBackend):
    """Runs each task in this process, in the order given."""

    name = "serial"
    workers = 1

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[str, Any]]:
        for task in tasks:
            yield task.key, task()

    def describe(self) -> str:
        return "serial (this process)"


def _call(task: Task) -> Any:
    return task()


class ProcessBackend(_ContextBackend):
    """Runs tasks on ``workers`` local processes (``concurrent.futures``).

    The pool starts on first use and stays open across :meth:`run` calls until
    :meth:`close`. A worker process that dies breaks the pool (``BrokenProcessPool``):
    fault tolerance is the Dask backend's job; here the finished tasks are
    already saved and ``--resume`` picks up the rest.
    """

    name = "processes"

    def __init__(self, workers: int):
        if workers < 1:
            raise ValueError(f"expected at least 1 worker, found {workers}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[str, Any]]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers)
        pool = self._pool
        todo = iter(tasks)
        window = self.workers * IN_FLIGHT_PER_WORKER
        running: dict[Future, str] = {}
        for task in itertools.islice(todo, window):
            running[pool.submit(_call, task)] = task.key
        try:
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                # Yield in key order within a batch: cosmetic, the caller sorts anyway.
                for future in sorted(finished, key=running.__getitem__):
                    key = running.pop(future)
                    result = future.result()
                    nxt = next(todo, None)
                    if nxt is not None:
                        running[pool.submit(_call, nxt)] = nxt.key
                    yield key, result
        finally:
            for future in running:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def describe(self) -> str:
        return f"{self.workers} local processes"


@contextmanager
def _children_ignore_sigint() -> Iterator[None]:
    """Processes started inside ignore Ctrl-C (an ignored signal stays ignored in a
    child), so that Ctrl-C reaches only ``pasc``, which then shuts the cluster down
    cleanly instead of every worker printing its own traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _import_distributed():
    try:
        import distributed
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise BackendUnavailable(
            'the Dask backend needs dask.distributed: pip install "pasc[dask]"'
        ) from None
    return distributed


class DaskBackend(_ContextBackend):
    """Runs tasks on a Dask distributed cluster.

    ``workers=N`` starts a ``LocalCluster`` of N single-threaded worker
    *processes* on 127.0.0.1 (the simulation holds the GIL, so threads would
    not run in parallel); ``scheduler="tcp://host:port"`` connects to a
    running scheduler instead (``dask scheduler`` plus ``dask worker`` on each
    machine). Each task is submitted under its own key with ``retries``, so a
    task that raised is retried, and a task lost with a killed worker is
    rescheduled on another one by the scheduler. Results are gathered as they
    complete (``distributed.as_completed``) and released at once.
    """

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        *,
        retries: int = 3,
        key_prefix: str = "pasc",
        connect_timeout_s: float = 30.0,
    ):
        if (workers is None) == (scheduler is None):
            raise ValueError("expected exactly one of workers or scheduler")
        if workers is not None and workers < 1:
            raise ValueError(f"expected at least 1 worker, found {workers}")
        self.retries = retries
        self.key_prefix = key_prefix
        self._scheduler = scheduler
        self._requested_workers = workers
        self._connect_timeout_s = connect_timeout_s
        self._cluster: Any = None
        self._client: Any = None
        self._generation = 0
        self.workers = workers or 1

    @property
    def client(self) -> Any:
        """The ``distributed.Client``, started (and the local cluster with it) on first use."""
        if self._client is None:
            self._start()
        return self._client

    def start(self) -> None:
        """Connect (or start the local cluster) now; raises :class:`BackendUnavailable`."""
        if self._client is None:
            self._start()

    def _start(self) -> None:
        distributed = _import_distributed()
        try:
            if self._scheduler is not None:
                self._client = distributed.Client(
                    self._scheduler, timeout=self._connect_timeout_s, set_as_default=False
                )
                n = len(self._client.scheduler_info().get("workers", {}))
                self.workers = max(n, 1)
            else:
                with _children_ignore_sigint():
                    self._cluster = distributed.LocalCluster(
                        n_workers=self._requested_workers,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address="127.0.0.1:0",  # any free port, this machine only
                        silence_logs=logging.ERROR,
                    )
                self._client = distributed.Client(self._cluster, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            self.close()
            where = self._scheduler or "a local cluster"
            raise BackendUnavailable(f"cannot reach the Dask scheduler at {where}: {exc}") from None

    def _submit(self, task: Task) -> Any:
        # The key names the computation: the same task gets the same key on every
        # run (what pure=True would derive from a hash, but readable in the dashboard).
        # After a cancelled run the scheduler may still be forgetting the old keys,
        # so later runs of this client use a generation suffix.
        key = f"{self.key_prefix}-{task.key}"
        if self._generation:
            key += f"-g{self._generation}"
        return self.client.submit(task.fn, *task.args, key=key, retries=self.retries)

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[str, Any]]:
        distributed = _import_distributed()
        todo = iter(tasks)
        running: dict[str, tuple[Any, str]] = {}  # dask key -> (future, task key)
        window = max(self.workers, 1) * IN_FLIGHT_PER_WORKER
        completed = distributed.as_completed(loop=self.client.loop)

        def submit(task: Task) -> None:
            future = self._submit(task)
            running[future.key] = (future, task.key)
            completed.add(future)

        for task in itertools.islice(todo, window):
            submit(task)
        try:
            for future in completed:
                result = future.result()
                _, key = running.pop(future.key)
                future.release()
                nxt = next(todo, None)
                if nxt is not None:
                    submit(nxt)
                yield key, result
        finally:
            # Stopped early (an error, Ctrl-C, a consumer that broke off): free the cluster.
            if running and self._client is not None:
                completed.clear()
                self._client.cancel([f for f, _ in running.values()])
                self._generation += 1

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None
        if self._cluster is not None:
            try:
                self._cluster.close()
            finally:
                self._cluster = None

    def describe(self) -> str:
        if self._scheduler is not None:
            return f"Dask scheduler {self._scheduler} ({self.workers} workers)"
        return f"local Dask cluster ({self.workers} worker processes)"


def make_backend(
    name: BackendName | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    retries: int = 3,
    key_prefix: str = "pasc",
) -> SerialBackend | ProcessBackend | DaskBackend:
    """The backend for a command line's options.

    ``name=None`` picks one: Dask when a scheduler or ``workers`` is given,
    serial otherwise. ``"processes"`` needs ``workers`` (default: 2).
    """
    if name is None:
        name = "dask" if (scheduler is not None or workers is not None) else "serial"
    if name == "serial":
        if scheduler is not None:
            raise ValueError("--scheduler needs the dask backend, found serial")
        return SerialBackend()
    if name == "processes":
        if scheduler is not None:
            raise ValueError("--scheduler needs the dask backend, found processes")
        return ProcessBackend(workers or 2)
    if name == "dask":
        if scheduler is not None and workers is not None:
            raise ValueError("expected --workers (a local cluster) or --scheduler, found both")
        return DaskBackend(
            workers=None if scheduler is not None else (workers or 2),
            scheduler=scheduler,
            retries=retries,
            key_prefix=key_prefix,
        )
    raise ValueError(f"expected a backend among {', '.join(BACKENDS)}, found {name!r}")


__all__ = [
    "BACKENDS",
    "Backend",
    "BackendUnavailable",
    "DaskBackend",
    "ProcessBackend",
    "SerialBackend",
    "Task",
    "make_backend",
]
