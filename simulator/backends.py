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
decides what to do with them (a sweep writes one file per task at once;
:mod:`simulator.runner` puts replications back in order). Every command that
simulates gets its backend from :func:`make_backend`, so ``--workers``,
``--backend`` and ``--scheduler`` mean the same thing everywhere.
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

**Losing the backend.** When the backend itself goes away mid-run (the
connection to the Dask scheduler is lost, no Dask worker is left, a local worker
process dies), :meth:`Backend.run` raises :class:`BackendLost` with one sentence
saying what happened, instead of Dask's own tracebacks. Every result yielded
before stays valid: the caller has saved it and can finish the rest later.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    CancelledError,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

BackendName = Literal["serial", "processes", "dask"]
BACKENDS: tuple[BackendName, ...] = ("serial", "processes", "dask")

#: Tasks in flight per worker: enough to keep every worker busy while results
#: travel back, few enough that memory stays flat for any number of tasks.
IN_FLIGHT_PER_WORKER = 4
#: Dask: how often the result loop looks for new results (seconds) while none is ready,
POLL_S = 0.02
#: and how often it checks that the scheduler is connected and has workers.
CHECK_EVERY_S = 1.0
#: Dask: the longest wait for a client whose scheduler is gone to close.
LOST_CLOSE_TIMEOUT_S = 5.0


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


def default_workers() -> int:
    """One worker per core of this machine (at least 1)."""
    return max(1, os.cpu_count() or 1)


class BackendUnavailable(RuntimeError):
    """The backend cannot start: Dask not installed, scheduler unreachable, ..."""


class BackendLost(RuntimeError):
    """The backend went away in the middle of a run: the connection to the Dask
    scheduler was lost, every Dask worker is gone, or a local worker process died.

    The message is one sentence for the user (no Dask internals). Results already
    yielded by :meth:`Backend.run` are valid; the tasks still in flight are not
    finished and must be run again (a sweep's ``--resume`` does exactly that).
    """


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


def _call(task: Task) -> Any:
    return task()


class ProcessBackend(_ContextBackend):
    """Runs tasks on ``workers`` local processes (``concurrent.futures``).

    The pool starts on first use and stays open across :meth:`run` calls until
    :meth:`close`. A worker process that dies breaks the pool: :meth:`run` raises
    :class:`BackendLost` (fault tolerance is the Dask backend's job; here the
    finished tasks are already saved and ``--resume`` picks up the rest).
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
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        self._broken()
                        raise BackendLost(
                            "a local worker process died (killed, or out of memory?)"
                        ) from None
                    nxt = next(todo, None)
                    if nxt is not None:
                        running[pool.submit(_call, nxt)] = nxt.key
                    yield key, result
        finally:
            for future in running:
                future.cancel()

    def _broken(self) -> None:
        """Drop a broken pool (the next :meth:`run` starts a new one)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


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


@contextmanager
def _quiet_distributed_logs() -> Iterator[None]:
    """Silence Dask's loggers (their tracebacks about a lost connection, a cancelled
    reconnection...) while a lost backend is shut down: :class:`BackendLost` has
    already said what happened, in one sentence."""
    names = [
        name
        for name in ("distributed", *logging.root.manager.loggerDict)
        if name == "distributed" or name.startswith(("distributed.", "tornado"))
    ]
    loggers = [logging.getLogger(name) for name in dict.fromkeys(names)]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


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

    A lost connection to the scheduler, a cluster left without any worker for
    ``no_workers_timeout_s`` seconds (once it had one), or a task whose every
    worker died (``KilledWorker``) ends :meth:`run` with :class:`BackendLost`.
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
        no_workers_timeout_s: float = 60.0,
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
        self.no_workers_timeout_s = no_workers_timeout_s
        self._lost = False  # the scheduler or every worker went away during run()
        self._seen_workers = False
        self._no_workers_since: float | None = None
        self._last_check = 0.0

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
        """Yield ``(key, result)`` as tasks complete; raise :class:`BackendLost` when the
        scheduler connection or every worker is lost (after yielding what did finish)."""
        distributed = _import_distributed()
        client = self.client
        todo = iter(tasks)
        running: dict[str, tuple[Any, str]] = {}  # dask key -> (future, task key)
        window = max(self.workers, 1) * IN_FLIGHT_PER_WORKER
        completed = distributed.as_completed(loop=client.loop)

        def submit(task: Task) -> None:
            future = self._submit(task)
            running[future.key] = (future, task.key)
            completed.add(future)

        try:
            for task in itertools.islice(todo, window):
                submit(task)
            while not completed.is_empty():
                batch = completed.next_batch(block=False)
                if not batch:
                    self._check_alive()
                    time.sleep(POLL_S)
                    continue
                for future in batch:
                    result = future.result()
                    _, key = running.pop(future.key)
                    future.release()
                    nxt = next(todo, None)
                    if nxt is not None:
                        submit(nxt)
                    yield key, result
        except BackendLost:
            self._lost = True
            raise
        except Exception as exc:
            reason = self._lost_reason(exc)
            if reason is None:
                raise
            self._lost = True
            raise BackendLost(reason) from None
        finally:
            # Stopped early (an error, Ctrl-C, a consumer that broke off): free the
            # cluster. A lost scheduler cannot be told anything: leave it.
            if running and self._client is not None and not self._lost:
                completed.clear()
                self._client.cancel([f for f, _ in running.values()])
                self._generation += 1

    @property
    def _where(self) -> str:
        return f"at {self._scheduler}" if self._scheduler else "of the local cluster"

    def _check_alive(self) -> None:
        """While waiting for results (at most once per second): raise
        :class:`BackendLost` when the client is no longer connected, or when the
        cluster has had no worker for ``no_workers_timeout_s`` (only after a worker
        was seen: workers may join a new scheduler after the sweep starts)."""
        now = time.monotonic()
        if now - self._last_check < CHECK_EVERY_S:
            return
        self._last_check = now
        if self._client.status != "running":
            raise BackendLost(f"lost the connection to the Dask scheduler {self._where}")
        try:
            n = int(self._client.scheduler_info(n_workers=0).get("n_workers", 0))
        except (OSError, TimeoutError):
            raise BackendLost(f"lost the connection to the Dask scheduler {self._where}") from None
        if n > 0:
            self._seen_workers, self._no_workers_since = True, None
        elif self._seen_workers:
            if self._no_workers_since is None:
                self._no_workers_since = now
            elif now - self._no_workers_since >= self.no_workers_timeout_s:
                raise BackendLost(
                    f"every Dask worker of the scheduler {self._where} is gone "
                    f"(none for {self.no_workers_timeout_s:g} s)"
                )

    def _lost_reason(self, exc: BaseException) -> str | None:
        """The user's sentence when ``exc`` means the cluster went away, else None
        (a task's own error, raised again as it is)."""
        from distributed.client import ClosedClientError, FutureCancelledError
        from distributed.scheduler import KilledWorker

        connected = self._client is not None and self._client.status == "running"
        lost = f"lost the connection to the Dask scheduler {self._where}"
        if isinstance(exc, FutureCancelledError) and exc.reason == "scheduler-connection-lost":
            return lost
        if isinstance(exc, KilledWorker):
            task = str(exc.task).removeprefix(f"{self.key_prefix}-")
            return (
                f"Dask workers died while running the task {task} (each worker that "
                f"ran it was lost: killed, or out of memory?)"
            )
        if isinstance(exc, ClosedClientError) or (
            not connected and isinstance(exc, OSError | TimeoutError | CancelledError)
        ):
            return lost
        return None

    def close(self) -> None:
        # After a loss, Dask would log tracebacks about the dead connection while
        # closing: BackendLost has said it already.
        quiet = _quiet_distributed_logs() if self._lost else contextlib.nullcontext()
        with quiet:
            if self._client is not None:
                try:
                    if self._lost:
                        with contextlib.suppress(Exception):
                            self._client.close(timeout=LOST_CLOSE_TIMEOUT_S)
                    else:
                        self._client.close()
                finally:
                    self._client = None
            if self._cluster is not None:
                try:
                    self._cluster.close()
                finally:
                    self._cluster = None
        self._lost = False


def make_backend(
    name: BackendName | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    retries: int = 3,
    key_prefix: str = "pasc",
) -> SerialBackend | ProcessBackend | DaskBackend:
    """The backend for a command's ``--backend``, ``--workers`` and ``--scheduler``.

    The same options mean the same thing in every command:

    ============================================  =====================================
    options                                       backend
    ============================================  =====================================
    (none), or ``--workers 1``                    serial: this process
    ``--workers N`` (N > 1)                       N local processes
    ``--backend processes [--workers N]``         N local processes (default: one per core)
    ``--backend dask [--workers N]``              a local Dask cluster of N processes
    ``--scheduler ADDR`` (``--backend dask``)     the running Dask cluster at ADDR
    ============================================  =====================================

    ``name=None`` picks by the other options as in the table. A contradiction
    (``--scheduler`` with another backend, or with ``--workers``) is a
    :class:`ValueError` whose message names the options.
    """
    if name is None:
        if scheduler is not None:
            name = "dask"
        elif workers is not None and workers > 1:
            name = "processes"
        else:
            name = "serial"
    if name == "serial":
        if scheduler is not None:
            raise ValueError("--scheduler needs the dask backend, found serial")
        if workers is not None and workers > 1:
            raise ValueError(
                f"--backend serial runs in this process, found --workers {workers} "
                "(drop one of them)"
            )
        return SerialBackend()
    if name == "processes":
        if scheduler is not None:
            raise ValueError("--scheduler needs the dask backend, found processes")
        return ProcessBackend(workers or default_workers())
    if name == "dask":
        if scheduler is not None and workers is not None:
            raise ValueError("expected --workers (a local cluster) or --scheduler, found both")
        return DaskBackend(
            workers=None if scheduler is not None else (workers or default_workers()),
            scheduler=scheduler,
            retries=retries,
            key_prefix=key_prefix,
        )
    raise ValueError(f"expected a backend among {', '.join(BACKENDS)}, found {name!r}")


__all__ = [
    "BACKENDS",
    "Backend",
    "BackendLost",
    "BackendUnavailable",
    "DaskBackend",
    "ProcessBackend",
    "SerialBackend",
    "Task",
    "default_workers",
    "make_backend",
]
