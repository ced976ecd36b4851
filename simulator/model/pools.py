"""Staff pools: the resources of the center, and the rules they own.

A pool is a group of staff with the same job: a desk group (counters with
the same skills), the back office, or the postal agents. Like a SimPy
resource it keeps its own waiting lines and decides who takes the next piece
of work; unlike ``simpy.Resource`` its staff are long-lived processes that
*pull* work (a citizen, a back-office record, another duty) when free, which
is cheaper than a process per citizen and lets one officer mix desk and
back-office work.

What the pool owns, and no other module writes:

* its queues: walk-ins (priority citizens first, then first come first
  served), the back-office backlog (earliest due first), and idle staff
  (:meth:`StaffPool.idle_staff_member`, :meth:`wake_for_work`, :meth:`wake`);
* who is at work today (:meth:`set_present`) and the other duties each staff
  member owes (:meth:`owe_duty`, :meth:`take_duty`);
* busy-time accounting for the utilization KPI (:meth:`book_busy`): busy
  minutes (and minutes on other duties) inside the measured window, up to the horizon;
* putting back-office work down when conditions change (:meth:`put_down_work`).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import simpy

from simulator.model.events import Call

if TYPE_CHECKING:
    from simulator.model.record import Record


class StaffPool:
    """Staff with the same job: a desk group, the back office or the postal agents.

    ``measure_from`` / ``end_time``: the measured window (minutes) in which busy
    time counts towards the utilization. ``index``: a desk group's position among
    the center's desk groups (what a record keeps of the group that served it);
    -1 for the back office and the postal agents.
    """

    def __init__(
        self,
        name: str,
        count: int,
        measure_from: float = 0.0,
        end_time: float = math.inf,
        *,
        index: int = -1,
    ):
        self.name = name
        self.index = index
        self.count = count
        self.present = count  # staff at work now: not absent today, and on duty
        self.present_today = count  # not absent today
        self.on_duty = count  # on duty now by the pool's schedule
        self.off_shift: list[Call] = []  # staff waiting for their shift to start
        self.staff_open_minutes: float | None = None  # measured on-duty time (schedules)
        self.measure_from = measure_from
        self.end_time = end_time
        self.priority_queue: deque[Record] = deque()  # walk-ins served first
        self.queue: deque[Record] = deque()  # everyone else, first come first served
        # Back office: earliest due first, then first filed.
        self.backlog: list[tuple[float, float, int, Record]] = []
        self.idle: list[Call] = []  # staff waiting for work, last idle first
        self.busy = 0  # staff currently working (desk or back office)
        self.busy_minutes = 0.0  # measured busy time while open
        self.in_hand: dict[int, Record] = {}
        self.processes: list[simpy.Process] = []
        # Desk staff doing back-office work who would put it down for a walk-in,
        # with the times the current stretch of it started and will end.
        self.interruptible: dict[int, tuple[simpy.Process, float, float]] = {}
        # ... and those already asked to look up at the end of their slice (not called
        # twice), who must still put the work down when conditions or shifts change.
        self.called: dict[int, tuple[simpy.Process, float, float]] = {}
        self.chunk_start: dict[int, float] = {}
        # Minutes of other duties each staff member owes (empty: no such duties).
        self.duty_owed: list[float] = []
        self.duty_minutes = 0.0  # measured time spent on them

    # -- queues --------------------------------------------------------------------------
    def waiting(self) -> int:
        return len(self.priority_queue) + len(self.queue)

    def expected_wait_score(self) -> float:
        """Proportional to the expected wait of a walk-in joining now (<= 0: a desk is free)."""
        if self.present == 0:
            return math.inf
        return (self.waiting() + self.busy + 1 - self.present) / self.present

    def wake_for_work(self) -> None:
        """Idle staff look again at their queues: as many as there are walk-ins and
        records waiting (the others would only go back to waiting), and anyone no
        longer at work today (to go home)."""
        idle = self.idle
        if not idle:
            return
        if self.present < self.count:
            for call in [c for c in idle if c.staff_id >= self.present]:
                idle.remove(call)
                call.succeed()
        for _ in range(min(len(idle), self.waiting() + len(self.backlog))):
            idle.pop().succeed()

    def wake(self, staff_id: int) -> None:
        """Staff member ``staff_id``, if idle, looks at the queues again."""
        for call in self.idle:
            if call.staff_id == staff_id:
                self.idle.remove(call)
                call.succeed()
                return

    # -- who is at work ------------------------------------------------------------------
    def set_present(self, n: int) -> None:
        """``n`` of the pool's staff (ids 0 .. n-1) are at work today."""
        self.present_today = n
        self.present = min(n, self.on_duty)

    def off_shift_call(self, env: simpy.Environment, staff_id: int) -> Call:
        """What a staff member off shift waits for: the next change of the schedule."""
        call = Call(env, staff_id)
        self.off_shift.append(call)
        return call

    def set_on_duty(self, n: int) -> None:
        """The schedule puts ``n`` staff on duty from now: those leaving finish the
        citizen in hand and put back-office work down (the next on duty picks it up);
        those arriving look at the queues."""
        self.on_duty = n
        self.present = min(self.present_today, n)
        self._interrupt_stretches("shift", lambda staff_id: staff_id >= self.present)
        waiting, self.off_shift = self.off_shift, []
        for call in waiting:
            call.succeed()

    def owe_duty(self, staff_id: int, minutes: float) -> None:
        """Staff member ``staff_id`` has ``minutes`` of other duties to do next."""
        if not self.duty_owed:  # in place: staff processes hold the list
            self.duty_owed.extend([0.0] * self.count)
        self.duty_owed[staff_id] += minutes
        self.wake(staff_id)

    def take_duty(self, staff_id: int, until: float, now: float) -> float:
        """Minutes of owed duties staff member ``staff_id`` does now (until ``until``);
        the part in the measured window is booked as time not available for records."""
        minutes = min(self.duty_owed[staff_id], until - now)
        self.duty_owed[staff_id] -= minutes
        self.book_busy(now, minutes, other_duty=True)
        return minutes

    # -- accounting ----------------------------------------------------------------------
    def book_busy(self, start: float, minutes: float, *, other_duty: bool = False) -> None:
        """``minutes`` of busy time (or, ``other_duty``, time on other duties) from
        ``start``: the part inside the measured window (after the warm-up, before the
        horizon) counts towards the utilization. Runs once per service: no calls."""
        end = start + minutes
        if end > self.end_time:
            end = self.end_time
            minutes = end - start
        if start < self.measure_from:  # started in the warm-up
            minutes = end - self.measure_from if end > self.measure_from else 0.0
        if other_duty:
            self.duty_minutes += minutes
        else:
            self.busy_minutes += minutes

    def staff_for_records(self, open_minutes: float) -> float:
        """Staff-equivalents who had the measured ``open_minutes`` for records: the
        pool's staff (on duty, with a schedule) less the time its other duties took
        (the utilization's base)."""
        if not open_minutes:
            return self.count
        on_duty = (
            self.count
            if self.staff_open_minutes is None
            else self.staff_open_minutes / open_minutes
        )
        return on_duty - self.duty_minutes / open_minutes

    # -- conditions ----------------------------------------------------------------------
    def put_down_work(self, cause: str) -> None:
        """Everyone doing back-office work stops the current stretch (its busy time is
        booked, the rest goes back to the backlog or on at the new speed)."""
        self._interrupt_stretches(cause, lambda staff_id: True)

    def _interrupt_stretches(self, cause: str, who) -> None:
        """Interrupt the back-office stretch in hand of every staff member ``who`` picks,
        whether or not a walk-in already asked them to look up."""
        for staff_id in [i for i in self.interruptible if who(i)]:
            self.interruptible.pop(staff_id)[0].interrupt(cause)
        for staff_id in [i for i in self.called if who(i)]:
            process, start, _ = self.called.pop(staff_id)
            if self.chunk_start.get(staff_id) == start:  # still in that stretch
                process.interrupt(cause)
