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
* :meth:`Center.hand_on`: the record's route, the one place that decides where a
  record goes when a staff member is done with it (rejected, back to the
  citizen for a supplement, to processing, to another agency, to the
  leadership's signature, resolved). Channels (:mod:`simulator.scenario.channels`)
  say who takes a record in; procedures say what happens after.
* ``opening_hours``: opens and closes the sessions; arrivals only happen while
  open, citizens queued at closing are still served, back-office work pauses
  at closing and resumes at the next opening.
* the working conditions of :mod:`simulator.model.conditions`: absences, the
  new-staff learning curve, outages and other duties; the signing rounds of
  :mod:`simulator.model.signoff`. Staff pools (:mod:`simulator.model.pools`)
  own their queues and their busy-time accounting.

There is no process per citizen: staff pull from queues, a channel's filings
are one chain of events (:class:`simulator.model.events.Tick`) and statistics
accumulate as they happen, which is what makes a replication of a
commune-year take a fraction of a second.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Collection, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from simulator.model.calendar import MINUTES_PER_DAY, OpeningHours
from simulator.model.conditions import WorkingConditions
from simulator.model.demand import FilingGenerator, effective_channel_shares
from simulator.model.events import Alarm, Call, Environment, Tick
from simulator.model.pools import StaffPool
from simulator.model.record import Record
from simulator.model.recorder import Recorder
from simulator.model.signoff import SignOffRounds
from simulator.model.tables import HourlyBins, KeptTables, TableSink
from simulator.scenario.channels import CHANNEL_KINDS, HANDOVER, ChannelKind
from simulator.scenario.models import Scenario
from simulator.stats import StreamingQuantiles
from simulator.streams import RandomStreams
from simulator.workload import growth_window_start

EPSILON = 1e-9
#: Working days of filings drawn at once (bounded memory, few numpy calls).
BLOCK_DAYS = 20
#: Filings of a block turned into Python objects at once: few enough that they
#: stay in the processor's cache until they are filed (a block's would not).
SLICE_FILINGS = 1024


def _in_slices(columns: tuple[np.ndarray, ...], n: int) -> Iterator[Iterator[tuple]]:
    """The rows of ``columns`` (filing by filing, with its index), a slice at a time."""
    for lo in range(0, n, SLICE_FILINGS):
        hi = min(n, lo + SLICE_FILINGS)
        yield zip(*(c[lo:hi].tolist() for c in columns), range(lo, hi), strict=True)


@dataclass
class ReplicationOutput:
    """What one replication returns: its KPIs and, if asked for, its records."""

    kpis: dict[str, float]
    records: dict[str, list] | None = None  # columns of RECORD_COLUMNS
    hourly: dict[str, list] | None = None  # day, hour, walk_in_arrivals, queue_length, ...
    daily: dict[str, list] | None = None  # day, in_center, backlog, waiting


class Center:
    """One service center for one replication. Build, then :meth:`run`."""

    def __init__(
        self,
        scenario: Scenario,
        streams: RandomStreams,
        keep_records: bool = False,
        env: Environment | None = None,
        sink: TableSink | None = None,
    ):
        self.sc = scenario
        # Several centers of a province share one environment (and one clock).
        self.env = env if env is not None else Environment()
        # Where a walk-in goes when its own center is crowded (province models).
        self.router: Any = None
        self.center_id = scenario.name
        self.flows_to: dict[str, int] = {}  # walk-ins sent to each neighbour
        self.hours = OpeningHours(
            tuple(scenario.calendar.open_spans_minutes()), scenario.calendar.cutoff_minute
        )
        self.warmup_days = scenario.horizon.warmup_days
        self.total_days = scenario.horizon.warmup_days + scenario.horizon.days
        self.measure_from = float(self.warmup_days * MINUTES_PER_DAY)
        self.end_time = float(self.total_days * MINUTES_PER_DAY)
        procs = scenario.procedures
        self.tables = KeptTables() if keep_records and sink is None else None
        sink = sink if sink is not None else self.tables
        self.recorder = Recorder(
            self.measure_from,
            keep_records,
            [p.id for p in procs],
            [p.field for p in procs],
            scenario.demand.postal_delivery_working_days * MINUTES_PER_DAY,
            sink=sink,
            waits_by_hour=scenario.hourly_targets,
            desk_names=[d.name for d in scenario.staff.desks],
            hourly=HourlyBins(
                self.hours.spans,
                _pool_sizes(scenario),
                self.warmup_days,
                sink,
                _staffed_by_hour(scenario),
            )
            if keep_records
            else None,
        )
        window = (self.measure_from, self.end_time)
        self.desks = [
            StaffPool(d.name, d.count, *window, index=i) for i, d in enumerate(scenario.staff.desks)
        ]
        # Desk groups able to serve each procedure (by field), in scenario order.
        self.groups_for_proc = [
            [
                g
                for g, d in zip(self.desks, scenario.staff.desks, strict=True)
                if p.field in d.fields
            ]
            for p in procs
        ]
        self.only_pool_for_proc = [g[0] if len(g) == 1 else None for g in self.groups_for_proc]
        self.deadline_days = [p.deadline_working_days for p in procs]
        self.proc_index = {p.id: i for i, p in enumerate(procs)}
        n_back = scenario.staff.back_office
        self.back_office = StaffPool("back-office", n_back, *window) if n_back else None
        n_postal = scenario.staff.postal_agents
        self.postal = StaffPool("postal-agents", n_postal, *window) if n_postal else None
        self.open = self.hours.always_open
        self.session_end = math.inf if self.hours.always_open else 0.0
        self.slice_minutes = scenario.staff.back_office_slice_minutes
        self._ids = itertools.count()
        # Records outside every queue: waiting for another agency, or for a
        # citizen to come back (supplement, or after leaving the queue). The
        # value says whether the dossier is with the citizen (a supplement, or a
        # citizen who left the queue and comes back another day): its deadline
        # restarts when it comes back, so it is never overdue meanwhile.
        self.outside: dict[Record, bool] = {}  # insertion-ordered: deterministic output
        self.conditions = WorkingConditions(
            self.env,
            scenario,
            streams,
            pools=self.pools(),
            staffed=[p for p in (*self.desks, self.back_office) if p is not None],
            hours=self.hours,
            total_days=self.total_days,
            end_time=self.end_time,
        )
        self.conditions.on_change = self.wake_everyone
        self.conditions.release = self.check_in_back_office
        # Who takes a record in, by the channel's declaration.
        self.intake = {
            "desk": self.walk_in_arrives,
            "back_office": self.check_in_back_office,
            "postal_agents": self.postal_record_arrives,
        }
        # Leadership sign-off: which procedures need it, and the signing rounds.
        self.needs_signature = [False] * len(procs)
        self.sign_off: SignOffRounds | None = None
        if scenario.sign_off is not None:
            rule = scenario.sign_off
            self.needs_signature = [p.id in rule.procedures for p in procs]
            away = streams("sign-off").random(self.total_days) < rule.absence_share
            self.sign_off = SignOffRounds(self.env, rule.minutes(), (~away).tolist(), self.resolved)

        env = self.env
        shares = effective_channel_shares(scenario)
        for name, kind in CHANNEL_KINDS.items():
            if shares.get(name, 0.0) > 0:
                gen = FilingGenerator(scenario, name, self.hours, streams)
                self.filings(kind, gen)
        self.hand_over_backlog(streams)
        for pool in self.desks:
            pool.processes = [env.process(self.desk_staff(pool, i)) for i in range(pool.count)]
        if self.back_office:
            self.back_office.processes = [
                env.process(self.back_office_staff(self.back_office, i)) for i in range(n_back)
            ]
        if self.postal:
            for i in range(n_postal):
                env.process(self.postal_agent(self.postal, i))
        if not self.hours.always_open:
            env.process(self.opening_hours())
        self.in_progress_at_close: list[int] = []  # one count per working day
        env.process(self.end_of_day_count())

    # -- the calendar --------------------------------------------------------------------
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
                self.wake_everyone()
                yield env.timeout(base + end - env.now)
                self.open = False

    def wake_everyone(self) -> None:
        """Idle staff look again at their queues (opening, end of an outage, new day), and
        officers busy in the back office are called for any walk-in left waiting."""
        for pool in self.pools():
            pool.wake_for_work()
            if not self.conditions.desks_stopped:
                for _ in range(min(pool.waiting(), len(pool.interruptible))):
                    self.call_from_back_office(pool)

    def end_of_day_count(self) -> Generator[simpy.Event, Any, None]:
        """Records in progress at the end of each working day: the backlog-growth KPI
        (does the center keep up?) and, with the records, the daily table."""
        env = self.env
        keep = self.recorder.keep_records
        pools = self.pools()
        for day in range(self.total_days):
            yield env.timeout((day + 1) * MINUTES_PER_DAY - EPSILON - env.now)
            waiting = sum(p.waiting() for p in pools)
            backlog = sum(len(p.backlog) for p in pools)
            in_hand = sum(len(p.in_hand) for p in pools)
            total = waiting + backlog + in_hand + sum(len(h) for h in self.held_elsewhere())
            self.in_progress_at_close.append(total)
            if keep:
                self.recorder.day_closed(env.now, day, total, backlog, waiting, self.queued_since())

    # -- arrivals ------------------------------------------------------------------------
    def filings(self, channel: ChannelKind, gen: FilingGenerator) -> None:
        """Citizens filing records through one channel, day after day.

        Filings are drawn :data:`BLOCK_DAYS` working days at a time. Each filing is
        an occurrence of one :class:`Tick`, rescheduled at the next filing's time
        (or, when nothing else happens before it, handled at once):
        what a process yielding a timeout per filing would do, in the same event
        order, without a generator to resume or a Timeout to build per filing.
        """
        env = self.env
        recorder = self.recorder
        receive = self.intake[channel.taken_in_by]
        hourly = self.recorder.hourly if channel.taken_in_by == "desk" else None
        deadline_days = np.asarray(self.deadline_days)
        ids = self._ids
        blocks = iter(range(0, self.total_days, BLOCK_DAYS))
        rows: Any = iter(())  # the block's filings not filed yet
        optional: list[tuple[str, list]] = []
        block_end = 0.0
        upcoming: tuple | None = None  # the filing the tick occurs for next
        phase = "start"  # then "filing" or "block end"

        def next_block() -> bool:
            """Draw the next block of days; False when the horizon is over."""
            nonlocal rows, optional, block_end, upcoming
            first = next(blocks, None)
            if first is None:
                return False
            n_days = min(BLOCK_DAYS, self.total_days - first)
            batch = gen.days(first, n_days)
            times = batch.times
            measured = times >= self.measure_from
            recorder.records_filed(int(measured.sum()))
            due = self.hours.due_times(times, deadline_days[batch.procedure])
            optional = batch.optional_columns()
            if hourly is not None:
                hourly.walk_ins_filed(times)
            columns = (
                times,
                batch.procedure,
                batch.priority,
                batch.rejected,
                batch.intake_minutes,
                batch.processing_minutes,
                due,
                measured,
            )
            rows = itertools.chain.from_iterable(_in_slices(columns, len(times)))
            block_end = (first + n_days) * MINUTES_PER_DAY
            upcoming = next(rows, None)
            return True

        def occur(tick: Tick) -> None:
            nonlocal upcoming, phase
            due = phase == "filing"  # the tick occurs at the upcoming filing's time
            if phase == "block end":
                recorder.day_ended()
            if not due and not next_block():
                return  # the horizon is over
            phase = "filing"
            while True:
                while upcoming is not None:
                    if not due:
                        delay = upcoming[0] - env._now
                        if delay > 0 and not tick.next_is_first(delay):
                            return  # the tick occurs again at this filing
                    due = False
                    t, proc, prio, rej, intake, processing, due_t, meas, i = upcoming
                    rec = Record(
                        next(ids), channel, proc, prio, t, intake, processing, rej, meas, due_t
                    )
                    if optional:
                        for name, values in optional:
                            setattr(rec, name, values[i])
                    receive(rec)
                    upcoming = next(rows, None)
                if block_end > env._now:
                    phase = "block end"
                    tick.again(block_end - env._now)
                    return
                recorder.day_ended()
                if not next_block():
                    return

        Tick(env, occur)

    def hand_over_backlog(self, streams: RandomStreams) -> None:
        """Records left unresolved at the abolished district level, handed over on day one
        with part of their deadline already used [HCMC-9]. They are always measured."""
        procs = self.sc.procedures
        index = {p.id: i for i, p in enumerate(procs)}
        for item in self.sc.backlog:
            j = index[item.procedure]
            p = procs[j]
            rng = streams(f"backlog.{p.id}")
            used = item.used_working_days.sample(rng, item.count)
            work = (p.processing_minutes or p.intake_minutes).sample(rng, item.count)
            self.recorder.records_filed(item.count)
            for used_days, minutes in zip(used.tolist(), work.tolist(), strict=True):
                due = (
                    self.hours.due_time(0.0, p.deadline_working_days) - used_days * MINUTES_PER_DAY
                )
                rec = Record(
                    next(self._ids), HANDOVER, j, False, 0.0, 0.0, minutes, False, True, due
                )
                rec.remaining = minutes
                rec.processed = True
                self.to_back_office(rec, None)

    def walk_in_arrives(self, rec: Record) -> None:
        if self.router is not None and rec.visit == 0:
            target = self.router(self, rec)
            if target is not None:
                self.recorder.routed_out += 1
                target.recorder.routed_in += 1
                self.flows_to[target.center_id] = self.flows_to.get(target.center_id, 0) + 1
                rec.proc = target.proc_index[self.sc.procedures[rec.proc].id]
                rec.visit = 1  # one move at most

                def arrive_there(moved: Record, there: Center = target) -> None:
                    moved.queued = self.env.now
                    there.walk_in_arrives(moved)

                # The trip to the neighbouring center takes time; meanwhile the
                # record is "outside" (in progress) at its home center.
                self.later(self.router.travel_minutes, rec, arrive_there)
                return
        pool = self.only_pool_for_proc[rec.proc]
        if pool is None:
            pool = min(self.groups_for_proc[rec.proc], key=StaffPool.expected_wait_score)
        stopped = self.conditions.desks_stopped
        if pool.idle and self.open and not stopped:
            # An officer is free: the citizen walks straight up, without queueing.
            call = pool.idle.pop()
            call.answer_after(self.start_service(pool, call.staff_id, rec, self.env._now), rec)
            return
        # Otherwise (including a citizen back at the very instant of opening, just
        # before the opening is processed) the citizen queues.
        (pool.priority_queue if rec.priority else pool.queue).append(rec)
        self.recorder.joined_queue(self.env._now)
        if rec.patience < math.inf:
            self.env.timeout(rec.patience).callbacks.append(
                self._patience_runs_out(rec, pool, rec.visit)
            )
        if pool.idle and not stopped:
            pool.idle.pop().succeed()
        elif pool.interruptible and not stopped:
            self.call_from_back_office(pool)

    def check_in_back_office(self, rec: Record) -> None:
        """A dossier taken in by the back office (the portal): its intake time is a check
        in the back office, followed by processing in the same sitting unless it is
        rejected or incomplete (found at the check)."""
        if rec.channel.held_by_portal_outage and self.conditions.online_paused:
            self.conditions.held_online.append(rec)
            return
        only_check = rec.rejected or rec.incomplete
        rec.remaining = rec.intake if only_check else rec.intake + rec.processing
        rec.processed = not only_check
        self.to_back_office(rec, None)

    def postal_record_arrives(self, rec: Record) -> None:
        pool = self.postal
        pool.queue.append(rec)
        if pool.idle:
            pool.idle.pop().succeed()

    # -- staff ---------------------------------------------------------------------------
    def desk_staff(self, pool: StaffPool, staff_id: int) -> Generator[simpy.Event, Any, None]:
        """A desk officer: next walk-in first, back-office work when nobody waits."""
        env = self.env
        recorder = self.recorder
        conditions = self.conditions
        priority_queue, queue, in_hand = pool.priority_queue, pool.queue, pool.in_hand
        processes_back_office = self.back_office is None
        # The hourly table's busy times and waits: logged at the end of each service
        # (recorder.served), unless the row of a record resolved there holds them.
        hourly = recorder.hourly
        if hourly is not None:
            served, pool_index = recorder.served, hourly.pool_index[pool.name]
        rows_hold_services = hourly is not None and recorder.keep_records
        handle_sink, stay_sink = recorder.handle_sink, recorder.stay_sink
        timeout = env.timeout
        alarm = Alarm(env)  # this officer's desk services
        start_service = self.start_service
        record_resolved = recorder.record_resolved
        needs_signature = self.needs_signature
        duty_owed = pool.duty_owed
        while True:
            if staff_id >= pool.present:
                if staff_id >= pool.present_today:
                    yield from conditions.absent_until_tomorrow()
                else:  # off shift until the schedule changes
                    yield pool.off_shift_call(env, staff_id)
                continue
            if duty_owed and duty_owed[staff_id] > 0 and self.open:
                if pool.backlog and pool.idle:  # off to a duty: a colleague takes the work
                    pool.idle.pop().succeed()
                yield timeout(pool.take_duty(staff_id, self.session_end, env.now))
                continue
            if (priority_queue or queue) and not conditions.desks_stopped:
                rec = priority_queue.popleft() if priority_queue else queue.popleft()
                now = env._now
                recorder.left_queue(rec, now)
                if not alarm.next_is_first(start_service(pool, staff_id, rec, now)):
                    yield alarm  # else the service ends before anything else happens
            elif (
                processes_back_office
                and pool.backlog
                and self.open
                and not conditions.back_office_stopped
            ):
                rec = heapq.heappop(pool.backlog)[-1]
                yield from self.work_on(rec, pool, staff_id)
                continue
            else:
                call = Call(env, staff_id)
                pool.idle.append(call)
                rec = yield call
                if rec is None:
                    continue  # woken to look again
                # else: a walk-in was handed over on arrival, and is served now
            del in_hand[staff_id]
            pool.busy -= 1
            end = env._now
            rec.desk_end = end
            if rec.measured:
                handle_sink(end - rec.desk_start)
                stay_sink(end - rec.queued)
            if (
                rec.processing <= 0
                and not (rec.rejected or rec.incomplete or rec.steps)
                and not needs_signature[rec.proc]
            ):  # the common case, without the route's calls
                if hourly is not None and not (rows_hold_services and rec.measured):
                    served(pool_index, rec, end)
                record_resolved(rec, end, True)
            else:
                if hourly is not None:
                    served(pool_index, rec, end)
                self.hand_on(rec, pool)

    def start_service(self, pool: StaffPool, staff_id: int, rec: Record, start: float) -> float:
        """A desk officer starts serving a walk-in now (``start``, the clock's time);
        returns the service minutes. Busy time is booked at the start
        (:meth:`book_service`).
        """
        rec.desk_start = start
        rec.desk = pool.index
        if rec.measured:
            recorder = self.recorder
            recorder.wait_sink(start - rec.queued)
            if recorder.hour_waits is not None:
                hour = int(rec.queued % MINUTES_PER_DAY) // 60
                recorder.hour_waits[hour].add(start - rec.queued)
                if len(self.desks) > 1:
                    by_group = recorder.group_hour_waits
                    if pool.name not in by_group:
                        by_group[pool.name] = [StreamingQuantiles() for _ in range(24)]
                    by_group[pool.name][hour].add(start - rec.queued)
        minutes = rec.intake * self.conditions.desk_factor
        # self.book_service(pool, start, minutes), inlined: once per walk-in
        limit = self.session_end if self.open else start
        if start + minutes < limit:
            limit = start + minutes
        pool.book_busy(start, limit - start)
        pool.busy += 1
        pool.in_hand[staff_id] = rec
        return minutes

    def book_service(self, pool: StaffPool, start: float, minutes: float) -> None:
        """Book the busy time of a service starting now (never interrupted) for the
        utilization, up to the end of the session it started in: service running
        past closing is overtime, and a service started after closing, for
        citizens still queued, is all overtime."""
        limit = self.session_end if self.open else start
        end = start + minutes
        if end < limit:
            limit = end
        pool.book_busy(start, limit - start)

    def back_office_staff(
        self, pool: StaffPool, staff_id: int
    ) -> Generator[simpy.Event, Any, None]:
        """Dedicated processing staff: back-office records, earliest deadline first."""
        env = self.env
        conditions = self.conditions
        while True:
            if staff_id >= pool.present_today:
                yield from conditions.absent_until_tomorrow()
            elif staff_id >= pool.present:  # off shift until the schedule changes
                yield pool.off_shift_call(env, staff_id)
            elif pool.duty_owed and pool.duty_owed[staff_id] > 0 and self.open:
                if pool.backlog and pool.idle:  # off to a duty: a colleague takes the work
                    pool.idle.pop().succeed()
                yield env.timeout(pool.take_duty(staff_id, self.session_end, env.now))
            elif pool.backlog and self.open and not conditions.back_office_stopped:
                rec = heapq.heappop(pool.backlog)[-1]
                yield from self.work_on(rec, pool, staff_id)
            else:
                call = Call(env, staff_id)
                pool.idle.append(call)
                yield call

    def postal_agent(self, pool: StaffPool, staff_id: int) -> Generator[simpy.Event, Any, None]:
        """A VNPost / Viettel Post agent taking in postal dossiers."""
        env = self.env
        while True:
            if pool.queue:
                rec = pool.queue.popleft()
                start = env.now
                self.book_service(pool, start, rec.intake)
                pool.in_hand[staff_id] = rec
                yield env.timeout(rec.intake)
                del pool.in_hand[staff_id]
                if self.recorder.keep_records:
                    self.recorder.busy(pool.name, start, env.now)
                self.hand_on(rec)
            else:
                call = Call(env, staff_id)
                pool.idle.append(call)
                yield call

    def work_on(
        self, rec: Record, pool: StaffPool, staff_id: int
    ) -> Generator[simpy.Event, Any, None]:
        """Back-office work on one record, put down when a walk-in needs the desk.

        Desk staff look up from the dossier every ``back_office_slice_minutes``
        (0: at once): if a walk-in is waiting and nobody else is free, they put
        the record back in the backlog with the work left on it and serve the
        citizen (walk-ins first). Rather than waking every officer at every
        slice, an arriving walk-in asks the officer who looks up soonest to
        stop at that moment (:meth:`call_from_back_office`). At closing the
        work is put down until the next session (back-office work only while
        open).
        """
        env = self.env
        conditions = self.conditions
        pool.in_hand[staff_id] = rec
        pool.busy += 1
        while True:
            start = env.now
            factor = conditions.back_office_factor
            elapsed = min(rec.remaining * factor, self.session_end - start)
            interrupted = False
            # While working, an arriving walk-in (desk officers only) or a change of
            # conditions (an outage starts or ends) may interrupt this stretch.
            pool.interruptible[staff_id] = (pool.processes[staff_id], start, start + elapsed)
            pool.chunk_start[staff_id] = start
            try:
                yield env.timeout(elapsed)
            except simpy.Interrupt as stop:
                interrupted = stop.cause == "walk-in"
                elapsed = env.now - start
            pool.interruptible.pop(staff_id, None)
            pool.called.pop(staff_id, None)
            del pool.chunk_start[staff_id]
            pool.book_busy(start, elapsed)
            if self.recorder.keep_records:
                self.recorder.busy(pool.name, start, start + elapsed)
            rec.remaining -= elapsed / factor
            if (
                interrupted
                or rec.remaining <= EPSILON
                or not self.open
                or pool.priority_queue
                or pool.queue
                or conditions.back_office_stopped
                or staff_id >= pool.present
            ):
                break
        pool.busy -= 1
        del pool.in_hand[staff_id]
        if rec.remaining > EPSILON:
            heapq.heappush(pool.backlog, (rec.due, rec.arrival, rec.id, rec))
            if staff_id >= pool.present and self.open and pool.idle:
                pool.wake_for_work()  # the officer's shift ended: a colleague takes it up
        else:
            self.hand_on(rec)

    # -- the record's route --------------------------------------------------------------
    def hand_on(self, rec: Record, desk: StaffPool | None = None) -> None:
        """A staff member is done with a record (intake at a desk or by a postal agent,
        a back-office check, processing, a linked step's work): send it on.

        The route, the same for every channel: a rejected dossier ends here; an
        incomplete one goes back to the citizen for a supplement; a dossier not
        yet processed goes to processing (``desk``: the desk group that took it
        in, whose staff process it when there is no dedicated back office);
        then the steps at other agencies, the leadership's signature, and the
        result.
        """
        if rec.rejected:
            self.recorder.record_rejected(rec, self.env.now)
        elif rec.incomplete:
            self.send_back_for_supplement(rec)
        elif not rec.processed and rec.processing > 0:
            rec.processed = True
            rec.remaining = rec.processing
            self.to_back_office(rec, desk)
        else:
            rec.processed = True
            self.processing_done(rec)

    def to_back_office(self, rec: Record, desk: StaffPool | None) -> None:
        """Queue a record for processing: dedicated staff, else the desk group's staff.

        ``desk``: the group whose officer took the record in at the desk. That
        officer looks at the queues right after, and takes the record up unless
        walk-ins wait (and then nobody in the group is idle), so no colleague is
        woken for it, unless staff are absent today (the officer's service may
        have run into a day they are not at work).
        """
        if self.back_office is not None:
            pool = self.back_office
        elif desk is not None:
            heapq.heappush(desk.backlog, (rec.due, rec.arrival, rec.id, rec))
            if desk.present < desk.count and self.open and desk.idle:
                desk.idle.pop().succeed()  # the officer may be going home: wake a colleague
            return
        else:
            groups = self.groups_for_proc[rec.proc]
            pool = (
                groups[0]
                if len(groups) == 1
                else min(groups, key=lambda g: len(g.backlog) / g.count)
            )
        heapq.heappush(pool.backlog, (rec.due, rec.arrival, rec.id, rec))
        if self.open and pool.idle:
            pool.idle.pop().succeed()

    def call_from_back_office(self, pool: StaffPool) -> None:
        """Nobody is free for a new walk-in: the desk officer doing back-office work who
        looks up soonest (at the end of their current slice) will put it down then,
        if somebody is still waiting."""
        now = self.env.now
        slice_minutes = self.slice_minutes
        staff_id, at = -1, math.inf
        for i, (_, start, _) in pool.interruptible.items():
            look = (
                start + math.ceil((now - start) / slice_minutes - EPSILON) * slice_minutes
                if slice_minutes
                else now
            )
            if look < at:
                staff_id, at = i, look
        process, start, end = pool.interruptible.pop(staff_id)  # one call per officer and slice
        pool.called[staff_id] = (process, start, end)
        if end <= at:
            return  # the stretch ends first: the officer looks at the queue then anyway

        def look_up(_event: simpy.Event | None = None) -> None:
            if pool.called.get(staff_id, (None, None))[1] == start:
                del pool.called[staff_id]
            if pool.interruptible.get(staff_id, (None, start))[1] != start:
                return
            if pool.chunk_start.get(staff_id) != start:
                return  # finished that stretch of work in the meantime
            if pool.priority_queue or pool.queue:
                process.interrupt("walk-in")
            else:  # a colleague took the citizen: keep working, callable again
                pool.interruptible[staff_id] = (process, start, end)

        if at <= now:
            look_up()
        else:
            self.env.timeout(at - now).callbacks.append(look_up)

    def processing_done(self, rec: Record) -> None:
        """The center's own work is done: linked steps at other agencies, then the
        leadership's signature where the procedure needs it, then resolved."""
        if rec.steps:
            delay_days, minutes = rec.steps.pop(0)
            self.later(delay_days * MINUTES_PER_DAY, rec, self._back_from_agency(minutes))
        elif self.needs_signature[rec.proc]:
            self.sign_off.wait_for_signature(rec)
        else:
            self.resolved(rec)

    def _back_from_agency(self, minutes: float):
        def back(rec: Record) -> None:
            if minutes > 0:
                rec.remaining = minutes
                self.to_back_office(rec, None)
            else:
                self.processing_done(rec)

        return back

    def resolved(self, rec: Record) -> None:
        self.recorder.record_resolved(rec, self.env.now)

    def send_back_for_supplement(self, rec: Record) -> None:
        """An incomplete dossier: the citizen comes back with the supplement, or never.
        The statutory deadline counts again from the complete dossier."""
        rec.incomplete = False
        if not rec.comes_back:
            self.recorder.record_abandoned(rec, self.env.now)
            return
        delay = rec.rework_delay_days * MINUTES_PER_DAY
        self.later(
            delay,
            rec,
            self._resubmitted,
            snap_to_open=not rec.channel.around_the_clock,
            with_citizen=True,
        )

    def _resubmitted(self, rec: Record) -> None:
        now = self.env.now
        rec.due = self.hours.due_time(now, self.deadline_days[rec.proc])
        rec.desk_start = rec.desk_end = math.nan
        rec.queued = now
        rec.visit += 1
        self.intake[rec.channel.taken_in_by](rec)

    def _patience_runs_out(self, rec: Record, pool: StaffPool, visit: int):
        def give_up(_event: simpy.Event) -> None:
            if rec.visit != visit or not math.isnan(rec.desk_start):
                return  # already served, or this is an earlier visit's timer
            (pool.priority_queue if rec.priority else pool.queue).remove(rec)
            self.recorder.left_queue(rec, self.env.now, gone=True)
            if rec.comes_back_after_abandon:
                rec.comes_back_after_abandon = False  # comes back once at most
                # Comes back the next working day; the deadline restarts then, so
                # meanwhile the dossier is with the citizen (never overdue).
                self.later(
                    MINUTES_PER_DAY, rec, self._resubmitted, snap_to_open=True, with_citizen=True
                )
            else:
                self.recorder.record_abandoned(rec, self.env.now)

        return give_up

    def later(
        self,
        delay: float,
        rec: Record,
        then,
        snap_to_open: bool = False,
        with_citizen: bool = False,
    ) -> None:
        """Run ``then(rec)`` after ``delay`` minutes (at the next opening if closed then).
        ``with_citizen``: the dossier went back to the citizen for a supplement."""
        at = self.env.now + delay
        if snap_to_open:
            at = self.hours.during_opening(at)
        self.outside[rec] = with_citizen

        def arrive(_event: simpy.Event) -> None:
            self.outside.pop(rec, None)
            then(rec)

        self.env.timeout(at - self.env.now).callbacks.append(arrive)

    def pools(self) -> list[StaffPool]:
        return [p for p in (*self.desks, self.back_office, self.postal) if p is not None]

    # -- running -------------------------------------------------------------------------
    def queued_since(self) -> list[float]:
        """When each walk-in waiting now joined its desk queue."""
        return [
            rec.queued
            for pool in self.desks
            for q in (pool.priority_queue, pool.queue)
            for rec in q
        ]

    def held_elsewhere(self) -> list[Collection[Record]]:
        """The records in progress outside every staff pool: at another agency or back
        with the citizen (:meth:`later`), filed during a portal outage, waiting for a
        signature. The one list both in-progress counts read (:meth:`records_in_system`,
        :meth:`end_of_day_count`): a step that holds records outside the pools and
        :meth:`later` adds its holder here."""
        held: list[Collection[Record]] = [self.outside, self.conditions.held_online]
        if self.sign_off is not None:
            held.append(self.sign_off.waiting)
        return held

    def records_in_system(self) -> list[Record]:
        """Every record still waiting, being worked on, or outside waiting to come back
        (for the in-progress count)."""
        out: list[Record] = [rec for held in self.held_elsewhere() for rec in held]
        for pool in self.pools():
            out.extend(pool.priority_queue)
            out.extend(pool.queue)
            out.extend(item[-1] for item in pool.backlog)
            out.extend(pool.in_hand.values())
        return out

    def book_work_in_progress(self) -> None:
        """At the end of the run: back-office stretches still going count up to the
        horizon (services were booked when they started), and the busy log gets
        the desk and back-office work still in hand, up to the horizon, with the
        waits of the walk-ins being served (postal intakes still in hand are booked
        but not logged)."""
        end = self.env.now
        for pool in self.pools():
            for start in pool.chunk_start.values():
                pool.book_busy(start, end - start)
            if self.recorder.keep_records and pool is not self.postal:
                # (postal intakes are not logged until they end)
                for staff_id, rec in pool.in_hand.items():
                    start = pool.chunk_start.get(staff_id)
                    if start is not None:  # back-office work
                        self.recorder.busy(pool.name, start, end)
                    elif not math.isnan(rec.desk_start):  # a desk service, and its wait
                        self.recorder.served(self.recorder.hourly.pool_index[pool.name], rec, end)

    def run(self) -> ReplicationOutput:
        self.env.run_until(self.end_time)
        return self.collect()

    def collect(self) -> ReplicationOutput:
        """The replication's output once the environment has run to ``end_time``."""
        recorder = self.recorder
        self.book_work_in_progress()
        with_citizen = [rec for rec, away in self.outside.items() if away]
        recorder.run_ended(
            self.env.now, self.records_in_system(), with_citizen, self.queued_since()
        )
        sc = self.sc
        open_minutes = sc.horizon.days * self.hours.open_minutes_per_day
        # Utilization is the busy share of the open time staff had for records.
        busy = {p.name: (p.busy_minutes, p.staff_for_records(open_minutes)) for p in self.pools()}
        kpis = recorder.kpis(
            open_minutes=open_minutes,
            busy_by_pool=busy,
            staff_total=sc.staff.total,
            measured_days=sc.horizon.days,
            days_per_year=sc.calendar.days_per_year,
            in_progress_at_close=self.in_progress_at_close,
            growth_from_day=growth_window_start(sc),
        )
        if recorder.keep_records:
            recorder.tables_done(self.total_days)
        if self.tables is None:  # no tables, or handed to the caller's sink
            return ReplicationOutput(kpis)
        t = self.tables
        return ReplicationOutput(kpis, t.table("records"), t.table("hourly"), t.table("daily"))


def _pool_sizes(scenario: Scenario) -> dict[str, int]:
    """Staff pool name -> staff, in the order of the hourly table's columns."""
    pools = {d.name: d.count for d in scenario.staff.desks}
    if scenario.staff.back_office:
        pools["back-office"] = scenario.staff.back_office
    if scenario.staff.postal_agents:
        pools["postal-agents"] = scenario.staff.postal_agents
    return pools


def _staffed_by_hour(scenario: Scenario):
    """``staffed(day)``: staff-minutes on duty while open per pool and clock hour, when
    some pool has a schedule (None otherwise: every staff member in every open minute)."""
    pools = list(_pool_sizes(scenario))
    if not any(scenario.staff.schedule_of(p) is not None for p in pools):
        return None
    cache: dict[str, np.ndarray] = {}

    def staffed(day: int) -> np.ndarray:
        weekday = scenario.weekday_of(day)
        if weekday not in cache:
            cache[weekday] = np.array([scenario.on_duty_by_hour(p, weekday) for p in pools])
        return cache[weekday]

    return staffed


def simulate_replication(
    scenario: Scenario,
    seed: int,
    replication: int,
    keep_records: bool = False,
    sink: TableSink | None = None,
) -> ReplicationOutput:
    """One replication: a pure function of (scenario, seed, replication index).

    With ``keep_records`` the records, hourly and daily tables come back in the
    output, or, with ``sink``, go to it in chunks as the run goes (bounded memory).
    """
    streams = RandomStreams(seed, replication)
    return Center(scenario, streams, keep_records, sink=sink).run()


__all__ = ["Center", "ReplicationOutput", "StaffPool", "simulate_replication"]
