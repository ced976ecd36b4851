"""The SimPy model of one commune service center.

Processes, in the words of the domain:

* ``filings`` (one per channel): citizens file records through the day;
  walk-ins join the queue of a desk group able to serve their procedure's
  field (the one with the shortest expected wait when several can), online
  records go straight to the back office, postal records to a postal agent.
* ``desk_staff`` (one per staff member): a long-lived process that serves the
  next walk-in (priority citizens first, then first come first served) and,
  when no walk-in is waiting and the center is open, works on back-office
  records of its group (earliest deadline first). Service is non-preemptive.
* ``back_office_staff``: dedicated processing staff, when the scenario has them.
* ``postal_agent``: takes in postal records and hands them to processing.
* ``opening_hours``: opens and closes the sessions; arrivals only happen while
  open, citizens queued at closing are still served, back-office work pauses
  at closing and resumes at the next opening.

There is no process per citizen: staff pull from queues, arrivals come from
one generator per channel and statistics accumulate as they happen, which is
what makes a replication of a commune-year take a fraction of a second.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from simulator.model.calendar import MINUTES_PER_DAY, OpeningHours
from simulator.model.demand import FilingGenerator
from simulator.model.recorder import CHANNEL_NAMES, Record, Recorder
from simulator.scenario.models import Scenario
from simulator.streams import RandomStreams

WALK_IN, ONLINE, POSTAL = 0, 1, 2
EPSILON = 1e-9


class StaffPool:
    """Staff with the same job: a desk group, the back office or the postal agents."""

    def __init__(self, name: str, count: int):
        self.name = name
        self.count = count
        self.priority_queue: deque[Record] = deque()  # walk-ins served first
        self.queue: deque[Record] = deque()  # everyone else, first come first served
        self.backlog: list[tuple[float, int, Record]] = []  # back office, earliest due first
        self.idle: list[simpy.Event] = []
        self.busy = 0  # staff currently working (desk or back office)
        self.busy_minutes = 0.0  # measured busy time while open
        self.in_hand: dict[int, Record] = {}

    def waiting(self) -> int:
        return len(self.priority_queue) + len(self.queue)

    def expected_wait_score(self) -> float:
        """Proportional to the expected wait of a walk-in joining now (<= 0: a desk is free)."""
        return (self.waiting() + self.busy + 1 - self.count) / self.count

    def wake_one(self) -> None:
        if self.idle:
            self.idle.pop().succeed()


@dataclass
class ReplicationOutput:
    """What one replication returns: its KPIs and, if asked for, its records."""

    kpis: dict[str, float]
    records: list[tuple] | None
    busy_log: list[tuple[str, float, float]] | None = None  # (pool, start, end) minutes
    daily: list[tuple[int, int, int, int]] | None = None  # (day, in system, backlog, waiting)


class Center:
    """One service center for one replication. Build, then :meth:`run`."""

    def __init__(self, scenario: Scenario, streams: RandomStreams, keep_records: bool = False):
        self.sc = scenario
        self.env = simpy.Environment()
        self.hours = OpeningHours(
            tuple(scenario.calendar.open_spans_minutes()), scenario.calendar.cutoff_minute
        )
        self.warmup_days = scenario.horizon.warmup_days
        self.total_days = scenario.horizon.warmup_days + scenario.horizon.days
        self.measure_from = float(self.warmup_days * MINUTES_PER_DAY)
        self.end_time = float(self.total_days * MINUTES_PER_DAY)
        procs = scenario.procedures
        self.recorder = Recorder(
            self.measure_from, keep_records, [p.id for p in procs], [p.field for p in procs]
        )
        self.desks = [StaffPool(d.name, d.count) for d in scenario.staff.desks]
        # Desk groups able to serve each procedure (by field), in scenario order.
        self.groups_for_proc = [
            [
                g
                for g, d in zip(self.desks, scenario.staff.desks, strict=True)
                if p.field in d.fields
            ]
            for p in procs
        ]
        self.deadline_days = [p.deadline_working_days for p in procs]
        n_back = scenario.staff.back_office
        self.back_office = StaffPool("back-office", n_back) if n_back else None
        n_postal = scenario.staff.postal_agents
        self.postal = StaffPool("postal-agents", n_postal) if n_postal else None
        self.open = self.hours.always_open
        self.session_end = math.inf if self.hours.always_open else 0.0
        self.slice_minutes = scenario.staff.back_office_slice_minutes
        self._ids = itertools.count()

        env = self.env
        shares = scenario.demand.channels.as_dict()
        for code, channel in enumerate(CHANNEL_NAMES):
            if shares[channel] > 0:
                gen = FilingGenerator(scenario, channel, self.hours, streams)
                env.process(self.filings(code, gen))
        for pool in self.desks:
            for i in range(pool.count):
                env.process(self.desk_staff(pool, i))
        if self.back_office:
            for i in range(n_back):
                env.process(self.back_office_staff(self.back_office, i))
        if self.postal:
            for i in range(n_postal):
                env.process(self.postal_agent(self.postal, i))
        if not self.hours.always_open:
            env.process(self.opening_hours())
        self.daily: list[tuple[int, int, int, int]] = []
        if keep_records:
            env.process(self.end_of_day_count())

    # -- processes -----------------------------------------------------------------------
    def opening_hours(self) -> Generator[simpy.Event, Any, None]:
        """Open and close the sessions of every working day."""
        env = self.env
        spans = self.hours.spans
        for day in range(self.total_days):
            base = day * MINUTES_PER_DAY
            for start, end in spans:
                yield env.timeout(base + start - env.now)
                self.open = True
                self.session_end = base + end
                for pool in self._back_office_pools():
                    for _ in range(min(len(pool.backlog), len(pool.idle))):
                        pool.wake_one()
                yield env.timeout(base + end - env.now)
                self.open = False

    def end_of_day_count(self) -> Generator[simpy.Event, Any, None]:
        """Records in the center at the end of each working day (for backlog plots)."""
        env = self.env
        for day in range(self.total_days):
            yield env.timeout((day + 1) * MINUTES_PER_DAY - EPSILON - env.now)
            waiting = sum(p.waiting() for p in self._pools())
            backlog = sum(len(p.backlog) for p in self._pools())
            in_hand = sum(len(p.in_hand) for p in self._pools())
            self.daily.append((day, waiting + backlog + in_hand, backlog, waiting))

    def filings(self, channel: int, gen: FilingGenerator) -> Generator[simpy.Event, Any, None]:
        """Citizens filing records through one channel, day after day."""
        env = self.env
        recorder = self.recorder
        receive = (self.walk_in_arrives, self.online_record_arrives, self.postal_record_arrives)[
            channel
        ]
        deadline_days = np.asarray(self.deadline_days)
        timeout = env.timeout
        ids = self._ids
        for day in range(self.total_days):
            batch = gen.day(day)
            measured = day * MINUTES_PER_DAY >= self.measure_from
            if measured:
                recorder.records_filed(len(batch))
            due = self.hours.due_times(batch.times, deadline_days[batch.procedure])
            for t, proc, prio, rej, intake, processing, due_t in zip(
                batch.times.tolist(),
                batch.procedure.tolist(),
                batch.priority.tolist(),
                batch.rejected.tolist(),
                batch.intake_minutes.tolist(),
                batch.processing_minutes.tolist(),
                due.tolist(),
                strict=True,
            ):
                delay = t - env.now
                if delay > 0:
                    yield timeout(delay)
                receive(
                    Record(
                        next(ids),
                        channel,
                        proc,
                        prio,
                        t,
                        day,
                        intake,
                        processing,
                        rej,
                        measured,
                        due_t,
                    )
                )
            next_day = (day + 1) * MINUTES_PER_DAY
            if next_day > env.now:
                yield timeout(next_day - env.now)
            recorder.day_ended()

    def walk_in_arrives(self, rec: Record) -> None:
        groups = self.groups_for_proc[rec.proc]
        pool = groups[0] if len(groups) == 1 else min(groups, key=StaffPool.expected_wait_score)
        (pool.priority_queue if rec.priority else pool.queue).append(rec)
        self.recorder.queue_changed(self.env.now, 1)
        if pool.idle:
            pool.idle.pop().succeed()

    def online_record_arrives(self, rec: Record) -> None:
        # The portal dossier is checked in the back office: its intake time is
        # back-office time, followed by processing unless it is rejected.
        rec.remaining = rec.intake if rec.rejected else rec.intake + rec.processing
        self.to_back_office(rec, None)

    def postal_record_arrives(self, rec: Record) -> None:
        pool = self.postal
        pool.queue.append(rec)
        if pool.idle:
            pool.idle.pop().succeed()

    def desk_staff(self, pool: StaffPool, staff_id: int) -> Generator[simpy.Event, Any, None]:
        """A desk officer: next walk-in first, back-office work when nobody waits."""
        env = self.env
        recorder = self.recorder
        measure_from = self.measure_from
        priority_queue, queue, in_hand = pool.priority_queue, pool.queue, pool.in_hand
        log_busy = recorder.busy_log.append if recorder.keep_records else None
        wait_sink, handle_sink, stay_sink = (
            recorder.wait_sink,
            recorder.handle_sink,
            recorder.stay_sink,
        )
        processes_back_office = self.back_office is None
        timeout = env.timeout
        while True:
            if priority_queue or queue:
                rec = priority_queue.popleft() if priority_queue else queue.popleft()
                start = env.now
                recorder.queue_changed(start, -1)
                rec.desk_start = start
                rec.group = pool
                if rec.measured:
                    wait_sink(start - rec.arrival)
                limit = self.session_end if self.open else start
                pool.busy += 1
                in_hand[staff_id] = rec
                yield timeout(rec.intake)
                del in_hand[staff_id]
                pool.busy -= 1
                end = env.now
                if start >= measure_from:
                    pool.busy_minutes += (end if end < limit else limit) - start
                rec.desk_end = end
                if log_busy is not None:
                    log_busy((pool.name, start, end))
                if rec.measured:
                    handle_sink(end - start)
                    stay_sink(end - rec.arrival)
                self.after_desk(rec, pool)
            elif processes_back_office and pool.backlog and self.open:
                rec = heapq.heappop(pool.backlog)[2]
                yield from self.work_on(rec, pool, staff_id)
            else:
                wake = env.event()
                pool.idle.append(wake)
                yield wake

    def back_office_staff(
        self, pool: StaffPool, staff_id: int
    ) -> Generator[simpy.Event, Any, None]:
        """Dedicated processing staff: back-office records, earliest deadline first."""
        env = self.env
        while True:
            if pool.backlog and self.open:
                rec = heapq.heappop(pool.backlog)[2]
                yield from self.work_on(rec, pool, staff_id)
            else:
                wake = env.event()
                pool.idle.append(wake)
                yield wake

    def postal_agent(self, pool: StaffPool, staff_id: int) -> Generator[simpy.Event, Any, None]:
        """A VNPost / Viettel Post agent taking in postal dossiers."""
        env = self.env
        while True:
            if pool.queue:
                rec = pool.queue.popleft()
                start = env.now
                limit = self.session_end if self.open else start
                pool.in_hand[staff_id] = rec
                yield env.timeout(rec.intake)
                del pool.in_hand[staff_id]
                if start >= self.measure_from:
                    pool.busy_minutes += min(env.now, limit) - start
                if self.recorder.keep_records:
                    self.recorder.busy_log.append((pool.name, start, env.now))
                if rec.rejected:
                    self.recorder.record_rejected(rec, env.now)
                elif rec.processing > 0:
                    rec.remaining = rec.processing
                    self.to_back_office(rec, None)
                else:
                    self.recorder.record_resolved(rec, env.now)
            else:
                wake = env.event()
                pool.idle.append(wake)
                yield wake

    # -- record routing ------------------------------------------------------------------
    def after_desk(self, rec: Record, pool: StaffPool) -> None:
        now = self.env.now
        if rec.rejected:
            self.recorder.record_rejected(rec, now)
        elif rec.processing > 0:
            rec.remaining = rec.processing
            self.to_back_office(rec, pool)
        else:
            self.recorder.record_resolved(rec, now)

    def to_back_office(self, rec: Record, desk: StaffPool | None) -> None:
        """Queue a record for processing: dedicated staff, else the desk group's staff."""
        if self.back_office is not None:
            pool = self.back_office
        elif desk is not None:
            pool = desk
        else:
            groups = self.groups_for_proc[rec.proc]
            pool = (
                groups[0]
                if len(groups) == 1
                else min(groups, key=lambda g: len(g.backlog) / g.count)
            )
        heapq.heappush(pool.backlog, (rec.due, rec.id, rec))
        if self.open and pool.idle:
            pool.idle.pop().succeed()

    def work_on(
        self, rec: Record, pool: StaffPool, staff_id: int
    ) -> Generator[simpy.Event, Any, None]:
        """Back-office work on one record, in slices.

        Desk staff look up between slices: if a walk-in is waiting, or the
        session has closed, the record goes back to the backlog with the work
        left on it (walk-ins first; back-office work only while open).
        """
        env = self.env
        slice_minutes = self.slice_minutes
        pool.in_hand[staff_id] = rec
        pool.busy += 1
        while True:
            start = env.now
            chunk = min(rec.remaining, self.session_end - start, slice_minutes)
            yield env.timeout(chunk)
            if start >= self.measure_from:
                pool.busy_minutes += chunk
            if self.recorder.keep_records:
                self.recorder.busy_log.append((pool.name, start, start + chunk))
            rec.remaining -= chunk
            if rec.remaining <= EPSILON or not self.open or pool.priority_queue or pool.queue:
                break
        pool.busy -= 1
        del pool.in_hand[staff_id]
        if rec.remaining > EPSILON:
            heapq.heappush(pool.backlog, (rec.due, rec.id, rec))
        elif rec.rejected:
            self.recorder.record_rejected(rec, env.now)
        else:
            self.recorder.record_resolved(rec, env.now)

    def _back_office_pools(self) -> list[StaffPool]:
        return [self.back_office] if self.back_office is not None else self.desks

    def _pools(self) -> list[StaffPool]:
        return [p for p in (*self.desks, self.back_office, self.postal) if p is not None]

    # -- running -------------------------------------------------------------------------
    def records_in_system(self) -> list[Record]:
        """Every record still waiting or being worked on (for the in-progress count)."""
        out: list[Record] = []
        for pool in self._pools():
            out.extend(pool.priority_queue)
            out.extend(pool.queue)
            out.extend(item[2] for item in pool.backlog)
            out.extend(pool.in_hand.values())
        return out

    def run(self) -> ReplicationOutput:
        self.env.run(until=self.end_time)
        recorder = self.recorder
        recorder.run_ended(self.env.now, self.records_in_system())
        sc = self.sc
        busy = {p.name: (p.busy_minutes, p.count) for p in self._pools()}
        kpis = recorder.kpis(
            open_minutes=sc.horizon.days * self.hours.open_minutes_per_day,
            busy_by_pool=busy,
            staff_total=sc.staff.total,
            measured_days=sc.horizon.days,
            days_per_year=sc.calendar.days_per_year,
        )
        if not recorder.keep_records:
            return ReplicationOutput(kpis, None)
        return ReplicationOutput(kpis, recorder.rows, recorder.busy_log, self.daily)


def simulate_replication(
    scenario: Scenario, seed: int, replication: int, keep_records: bool = False
) -> ReplicationOutput:
    """One replication: a pure function of (scenario, seed, replication index)."""
    streams = RandomStreams(seed, replication)
    return Center(scenario, streams, keep_records).run()
