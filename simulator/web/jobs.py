"""Background jobs: one worker thread working through a queue of runs.

A simulation takes seconds to minutes, longer than a page request should, so a
request only *submits* a job and the page then follows it by its id (it
survives a reload: the job lives in the server, not in the page). One worker
thread runs jobs one at a time in the order submitted, so a second run waits
its turn instead of halving the speed of the first.

Cancelling sets a flag that the job's progress callback checks after every
replication (or sizing candidate): the callback raises :class:`Cancelled`,
which unwinds the simulation before anything is written. Run folders are
written atomically by :mod:`simulator.artifacts` (a hidden temporary
folder renamed into place), so stopping the server mid-run never leaves a
half-written folder that looks finished: :meth:`JobQueue.shutdown` cancels
what is queued or running and waits for the worker to unwind.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["queued", "running", "done", "failed", "cancelled"]


class Cancelled(Exception):
    """Raised inside a job's progress callback when someone asked it to stop."""


@dataclass
class Job:
    """One unit of work and what the pages show about it.

    ``work(job)`` does the work, calls :meth:`progress` as it goes and returns
    the result (for a run: the run folder's path relative to ``results/``).
    """

    id: str
    kind: str
    title: str
    work: Callable[[Job], Any]
    status: Status = "queued"
    done: int = 0
    total: int = 0
    result: Any = None
    error: str | None = None
    #: What the job is doing now, in the library's words (English), when it says.
    step: str = ""
    submitted: float = field(default_factory=time.time)
    finished: float | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    def progress(self, done: int, total: int) -> None:
        """Record progress; raise :class:`Cancelled` when a stop was requested."""
        self.done, self.total = done, total
        if self.cancel_requested.is_set():
            raise Cancelled()

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class JobQueue:
    """Jobs by id, worked through by a single daemon thread in submission order."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._thread = threading.Thread(target=self._work, name="pasc-web-jobs", daemon=True)
        self._thread.start()

    def submit(self, kind: str, title: str, work: Callable[[Job], Any]) -> Job:
        with self._lock:
            job = Job(
                id=f"{next(self._ids)}-{int(time.time() * 1000) % 100000}",
                kind=kind,
                title=title,
                work=work,
            )
            self._jobs[job.id] = job
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.submitted, reverse=True)

    def position(self, job: Job) -> int:
        """How many jobs run or wait before ``job`` (0: it is running or finished)."""
        if job.status != "queued":
            return 0
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.active and j.submitted < job.submitted)

    def cancel(self, job: Job) -> None:
        """Stop ``job``: at once when it waits, after the current replication when it runs."""
        job.cancel_requested.set()
        if job.status == "queued":
            job.status = "cancelled"
            job.finished = time.time()

    def wait(self, job: Job, timeout: float = 60.0) -> bool:
        """Block until ``job`` is finished (for tests and scripts); False on timeout."""
        end = time.time() + timeout
        while job.active and time.time() < end:
            time.sleep(0.05)
        return not job.active

    def shutdown(self, timeout: float = 30.0) -> None:
        """Cancel every queued or running job and wait for the worker to stop."""
        for job in self.all():
            if job.active:
                self.cancel(job)
        self._queue.put(None)
        self._thread.join(timeout)

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if job.cancel_requested.is_set():
                continue
            job.status = "running"
            try:
                job.result = job.work(job)
                job.status = "done"
            except Cancelled:
                job.status = "cancelled"
            except Exception as exc:  # shown on the job's page, never as a traceback
                job.error = _one_line(exc)
                job.status = "failed"
                traceback.print_exc()
            finally:
                job.finished = time.time()


def _one_line(exc: BaseException) -> str:
    """An exception as the message a planner can read (ScenarioError lists its problems)."""
    text = str(exc).strip() or type(exc).__name__
    return text
