"""Working conditions: absences, new staff, outages and duties other than records.

The 2025 transition reports describe centers whose newly assigned staff did
not yet know the work, where staff were away for training, and where network,
power or software failures stopped the desks [TAN-THANH] [LAM-DONG]; and
commune officers spend part of their day in meetings, field checks and
reporting. Each is a scenario key; this module turns them into the state the
staff processes read, and tells the staff pools when it changes:

* ``desk_factor`` / ``back_office_factor``: multipliers of desk and
  processing times (learning curve x outage slow-down);
* ``desks_stopped`` / ``back_office_stopped`` / ``online_paused``: outages
  that stop the work outright (portal filings are held until the portal
  is back);
* each pool's staff at work today (:meth:`StaffPool.set_present`);
* other duties (``staff.availability`` below 1): blocks of
  ``staff.other_duties_block_minutes`` owed by a staff member at random times
  of the open hours (:meth:`StaffPool.owe_duty`), which they take as soon as
  they finish what they have in hand.

The conditions know the pools and two callbacks (``on_change``: staff look at
their queues again; ``release``: a held portal filing arrives), never the
center itself.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from simulator.model.calendar import MINUTES_PER_DAY, OpeningHours
from simulator.model.pools import StaffPool
from simulator.scenario.models import Disruption, Scenario
from simulator.streams import RandomStreams

if TYPE_CHECKING:
    from simulator.model.record import Record


def merge_windows(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(start, minutes) windows sorted, overlapping ones merged into one outage."""
    merged: list[list[float]] = []
    for start, minutes in sorted(windows):
        end = start + minutes
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b - a) for a, b in merged]


class WorkingConditions:
    """Today's conditions at one center, updated by their own SimPy processes.

    ``pools``: every staff pool (work in hand is put down when the back-office
    speed changes); ``staffed``: the pools whose staff can be absent or on
    other duties (desk groups and the back office: the postal agents are the
    operators' staff). ``availability``: pool name -> share of open time for
    records.
    """

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        streams: RandomStreams,
        *,
        pools: list[StaffPool],
        staffed: list[StaffPool],
        hours: OpeningHours,
        total_days: int,
        end_time: float,
    ):
        self.env = env
        self.pools = pools
        self.staffed = staffed
        self.hours = hours
        self.total_days = total_days
        self.end_time = end_time
        self.on_change: Callable[[], None] = lambda: None
        self.release: Callable[[Record], None] = lambda rec: None
        self.learning = scenario.staff.learning_curve
        self.absence_share = scenario.staff.absence_share
        self.learning_factor = self.learning.factor(0) if self.learning else 1.0
        self.desk_factor = self.learning_factor
        self.back_office_factor = self.learning_factor
        self.desks_stopped = False
        self.back_office_stopped = False
        self.online_paused = False
        self.held_online: list[Record] = []
        self._active: list[Disruption] = []
        self._absence_rng = streams("absence")
        if self.learning is not None or self.absence_share > 0:
            env.process(self.each_working_day())
        for outage in scenario.disruptions:
            env.process(self.outages(outage, streams(f"outage.{outage.name}")))
        self.scenario = scenario
        for pool in staffed:
            schedule = scenario.staff.schedule_of(pool.name)
            if schedule is not None:
                self._start_roster(pool)
        block = scenario.staff.other_duties_block_minutes
        for pool in staffed:
            share = scenario.staff.availability_of(pool.name)
            if share < 1:
                env.process(self.other_duties(pool, share, block, streams(f"duties.{pool.name}")))

    # -- days --------------------------------------------------------------------------
    def each_working_day(self) -> Generator[simpy.Event, Any, None]:
        """At the start of each working day: who is at work, how practised they are."""
        env = self.env
        for day in range(self.total_days):
            yield env.timeout(day * MINUTES_PER_DAY - env.now)
            if self.learning is not None:
                self.learning_factor = self.learning.factor(day)
            if self.absence_share > 0:
                for pool in self.staffed:
                    pool.set_present(
                        int(self._absence_rng.binomial(pool.count, 1 - self.absence_share))
                    )
            self._update()
            self.on_change()

    def absent_until_tomorrow(self) -> Generator[simpy.Event, Any, None]:
        """An absent staff member's day: nothing until the next working day starts."""
        now = self.env.now
        tomorrow = (now // MINUTES_PER_DAY + 1) * MINUTES_PER_DAY
        yield self.env.timeout(tomorrow - now)

    def other_duties(
        self, pool: StaffPool, share: float, block: float, rng
    ) -> Generator[simpy.Event, Any, None]:
        """Meetings, field checks, reporting: each staff member at work owes a block of
        ``block`` minutes at the times of a Poisson process over the open hours with
        rate (1 - share) / block, so that in the long run a share 1 - share of their
        open time goes to these duties (what is not done by closing is done at the
        next opening)."""
        env = self.env
        rate = (1 - share) / block
        for day in range(self.total_days):
            base = day * MINUTES_PER_DAY
            calls: list[tuple[float, int]] = []
            for start, end in self.hours.spans:
                counts = rng.poisson(rate * (end - start), size=pool.count)
                for staff_id, k in enumerate(counts.tolist()):
                    times = base + start + rng.random(k) * (end - start)
                    calls.extend((t, staff_id) for t in times.tolist())
            calls.sort()
            for t, staff_id in calls:
                yield env.timeout(t - env.now)
                if staff_id < pool.present:
                    pool.owe_duty(staff_id, block)

    # -- schedules ----------------------------------------------------------------------
    def _start_roster(self, pool: StaffPool) -> None:
        sc = self.scenario
        spans = self.hours.spans
        schedule = sc.staff.schedule_of(pool.name)
        changes = {
            w: schedule.for_weekday(w).changes(list(spans), w)
            for w in {sc.weekday_of(d) for d in range(7)}
        }
        first = int(pool.measure_from // MINUTES_PER_DAY)
        pool.staff_open_minutes = sum(
            sum(sc.on_duty_by_hour(pool.name, sc.weekday_of(d)))
            for d in range(first, self.total_days)
        )
        pool.set_on_duty(changes[sc.weekday_of(0)][0][1])
        self.env.process(self.roster(pool, changes))

    def roster(
        self, pool: StaffPool, changes: dict[str, list[tuple[int, int]]]
    ) -> Generator[simpy.Event, Any, None]:
        """Staff on duty through each working day, by the pool's schedule."""
        env = self.env
        for day in range(self.total_days):
            base = day * MINUTES_PER_DAY
            for minute, n in changes[self.scenario.weekday_of(day)]:
                if base + minute > env.now:
                    yield env.timeout(base + minute - env.now)
                if n != pool.on_duty:
                    pool.set_on_duty(n)
                    self.on_change()

    # -- outages -----------------------------------------------------------------------
    def outages(self, outage: Disruption, rng) -> Generator[simpy.Event, Any, None]:
        """Scheduled windows and/or random failures (exponential up and repair times)."""
        env = self.env
        events: list[tuple[float, float]] = [
            (w.day * MINUTES_PER_DAY + w.start_minute, w.minutes) for w in outage.at
        ]
        if outage.mean_hours_between is not None:
            t = 0.0
            end = self.end_time
            while True:
                t += rng.exponential(outage.mean_hours_between * 60)
                if t >= end:
                    break
                repair = rng.exponential(outage.mean_repair_minutes)
                events.append((t, repair))
                t += repair
        for start, minutes in merge_windows(events):
            yield env.timeout(start - env.now)
            self._active.append(outage)
            self._update()
            yield env.timeout(minutes)
            self._active.remove(outage)
            self._update()
            self.on_change()

    def _update(self) -> None:
        before = (self.back_office_stopped, self.back_office_factor)
        self._recompute()
        if (self.back_office_stopped, self.back_office_factor) != before:
            # Work in hand stops, or goes on at the new speed, from now on.
            for pool in self.pools:
                pool.put_down_work("conditions")

    def _recompute(self) -> None:
        desk_speed = min((o.speed for o in self._active if "desks" in o.affects), default=1.0)
        back_speed = min((o.speed for o in self._active if "back_office" in o.affects), default=1.0)
        self.desks_stopped = desk_speed == 0
        self.back_office_stopped = back_speed == 0
        self.desk_factor = self.learning_factor / (desk_speed or 1.0)
        self.back_office_factor = self.learning_factor / (back_speed or 1.0)
        # The portal is either up or down: a slow-down does not hold filings.
        paused = any("online" in o.affects and o.speed == 0 for o in self._active)
        if self.online_paused and not paused:
            held, self.held_online = self.held_online, []
            self.online_paused = False
            for rec in held:
                self.release(rec)
        self.online_paused = paused
