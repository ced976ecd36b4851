"""How much work each staff pool carries, and whether it can keep up.

A staffing can only keep up when, in every staff pool, the work arriving is
less than the staff time available to do it. This module is the one place
that adds that work up from a scenario, before anything is simulated, with
the same rules the model follows:

* **Desk groups** take walk-ins in. Each incomplete dossier brings its
  citizen back once with the supplement (with probability ``return_share``),
  so a procedure with rework costs ``1 + (1 - reject) * share * return_share``
  intakes per record. Without dedicated back-office staff, desk officers
  also do the back-office work of their fields (below).
* **The back office** (dedicated staff when ``staff.back_office`` > 0, else
  the desk groups covering the procedure's field) checks online dossiers
  (their intake time, once per submission), processes every record that is
  neither rejected nor abandoned for good (walk-in, online and postal alike)
  and the back-office minutes of each linked step at another agency.
* **Postal agents** take postal dossiers in (once per submission, like a desk).

Work is in *staff-minutes per open minute* (Erlangs): ``2.4`` means the work
of 2.4 staff kept busy all the time the center is open. It is the standard
work times multiplied by the mean learning-curve slow-down over the horizon,
so it is what the pool's measured busy time should come to (utilization =
work / staff). What a pool can do is its **capacity**: staff x availability,
where availability is the share of open time a staff member can work: the
part not absent, times the part not stopped (or slowed) by outages that
affect that kind of work. The **load ratio** work / capacity must stay below
1; at 1 or above the backlog grows without bound, whatever the horizon shows.

Left out, on purpose: walk-ins who give up waiting (offered work counts them
as served: an upper bound), records handed over on day one (a one-off, not a
rate) and work done after closing (queued citizens are served late, but that
overtime is not capacity a planner can count on). A field covered by several
desk groups is shared in proportion to their staff, as the model's routing
balances the queues per staff member.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from simulator.scenario.models import CHANNELS, Horizon, Procedure, Scenario

BACK_OFFICE = "back-office"
POSTAL_AGENTS = "postal-agents"
#: Minimum measured working days of a steady-state horizon (see :func:`steady_state_horizon`).
MIN_STEADY_DAYS = 60
#: Measured days per working day of settling time, in a steady-state horizon.
SETTLING_MULTIPLE = 4


@dataclass(frozen=True)
class PoolLoad:
    """The work offered to one staff pool and what it can do, per open minute."""

    pool: str
    kind: str  # "desk", "back-office" or "postal"
    staff: int
    walk_in_erlangs: float  # desk intake, return visits included
    back_office_erlangs: float  # online checks, processing, linked-step work
    postal_erlangs: float  # postal intake
    availability: float  # share of a staff member's open time available for this work
    learning_factor: float  # mean slow-down of desk and processing times over the horizon
    walk_in_per_minute: float = 0.0  # walk-in visits per open minute (Erlang C input)
    mean_intake_minutes: float = 0.0  # mean desk time per visit, slow-down included

    @property
    def work_erlangs(self) -> float:
        """Staff-minutes of work per open minute (what busy time comes to)."""
        return self.walk_in_erlangs + self.back_office_erlangs + self.postal_erlangs

    @property
    def capacity_erlangs(self) -> float:
        return self.staff * self.availability

    @property
    def load_ratio(self) -> float:
        """Work / capacity: below 1 the pool can keep up, at 1 or above it cannot."""
        if self.work_erlangs <= 0:
            return 0.0
        cap = self.capacity_erlangs
        return math.inf if cap <= 0 else self.work_erlangs / cap

    @property
    def expected_utilization(self) -> float:
        """Busy share of staff time while open, when the pool keeps up (work / staff)."""
        return self.work_erlangs / self.staff if self.staff else math.nan

    @property
    def keeps_up(self) -> bool:
        return self.load_ratio < 1

    def min_staff(self, max_utilization: float = 1.0) -> int:
        """Fewest staff with load ratio below 1 and utilization at most ``max_utilization``
        (rounded up: 4.66 Erlangs of work is 5 staff, never 4)."""
        work = self.work_erlangs
        if work <= 0:
            return 1
        n = math.floor(work / self.availability + 1e-9) + 1  # strictly above the work
        if max_utilization < 1:
            n = max(n, math.ceil(work / max_utilization - 1e-9))
        return max(1, n)

    def describe(self) -> str:
        """``business-land: 4.66 staff of work on 4 (117 % of capacity)``."""
        if self.staff == 0:
            return f"{self.pool}: {self.work_erlangs:.2f} staff of work on nobody"
        return (
            f"{self.pool}: {self.work_erlangs:.2f} staff of work on {self.staff} "
            f"({self.load_ratio:.0%} of capacity)"
        )

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "pool": self.pool,
            "kind": self.kind,
            "staff": self.staff,
            "work_erlangs": self.work_erlangs,
            "walk_in_erlangs": self.walk_in_erlangs,
            "back_office_erlangs": self.back_office_erlangs,
            "postal_erlangs": self.postal_erlangs,
            "availability": self.availability,
            "capacity_erlangs": self.capacity_erlangs,
            "load_ratio": self.load_ratio if math.isfinite(self.load_ratio) else None,
            "expected_utilization": self.expected_utilization,
            "keeps_up": self.keeps_up,
        }


@dataclass
class _Work:
    walk: float = 0.0
    back: float = 0.0
    postal: float = 0.0
    visits: float = 0.0  # walk-in visits per open minute
    intake: float = 0.0  # walk-in intake minutes per open minute (standard times)
    extra: dict[str, float] = field(default_factory=dict)


def submissions_per_record(p: Procedure) -> float:
    """Intakes per record: the first, plus the return with the supplement."""
    if p.rework is None:
        return 1.0
    return 1.0 + (1 - p.reject_share) * p.rework.share * p.rework.return_share


def processed_share(p: Procedure) -> float:
    """Share of records that reach processing: not rejected, and complete (at once,
    or after the citizen came back with the supplement)."""
    kept = 1 - p.reject_share
    if p.rework is None:
        return kept
    return kept * (1 - p.rework.share * (1 - p.rework.return_share))


def learning_factor(sc: Scenario, horizon: Horizon | None = None) -> float:
    """Mean learning-curve slow-down over the measured days of ``horizon``."""
    lc = sc.staff.learning_curve
    if lc is None:
        return 1.0
    h = horizon or sc.horizon
    days = range(h.warmup_days, h.warmup_days + h.days)
    return sum(lc.factor(d) for d in days) / len(days)


def _outage_availability(sc: Scenario, kind: str, horizon: Horizon) -> float:
    """Share of open time that ``kind`` of work (desks / back_office) runs at full speed
    equivalent: 1 - downtime x (1 - speed), multiplied over the disruptions."""
    spans = sc.calendar.open_spans_minutes()
    open_per_day = sum(b - a for a, b in spans)
    first, last = horizon.warmup_days, horizon.warmup_days + horizon.days
    avail = 1.0
    for d in sc.disruptions:
        if kind not in d.affects:
            continue
        down = 0.0
        if d.mean_hours_between is not None and d.mean_repair_minutes is not None:
            up = d.mean_hours_between * 60
            down += d.mean_repair_minutes / (up + d.mean_repair_minutes)
        scheduled = 0.0
        for w in d.at:
            if first <= w.day < last:
                a, b = w.start_minute, w.start_minute + w.minutes
                scheduled += sum(max(0.0, min(b, e) - max(a, s)) for s, e in spans)
        down += scheduled / (open_per_day * horizon.days)
        avail *= 1 - min(1.0, down) * (1 - d.speed)
    return avail


def _coverers(sc: Scenario, p: Procedure) -> list[tuple[str, float]]:
    """Desk groups covering ``p``'s field with their share of its work (by staff)."""
    groups = [d for d in sc.staff.desks if p.field in d.fields]
    total = sum(d.count for d in groups)
    if total == 0:  # a staffing being weighed with nobody in these groups
        return [(d.name, 1 / len(groups)) for d in groups]
    return [(d.name, d.count / total) for d in groups]


def _channel_mix(sc: Scenario) -> dict[str, dict[str, float]]:
    """Channel -> procedure id -> share of that channel's records."""
    out: dict[str, dict[str, float]] = {}
    for ch in CHANNELS:
        allowed = [p for p in sc.procedures if p.channels is None or ch in p.channels]
        norm = sum(p.share for p in allowed)
        out[ch] = {p.id: (p.share / norm if norm else 0.0) for p in allowed}
    return out


def pool_loads(sc: Scenario, horizon: Horizon | None = None) -> dict[str, PoolLoad]:
    """Work, availability and load ratio of every staff pool of ``sc``: each desk group,
    then ``back-office`` (dedicated staff) and ``postal-agents`` when the scenario
    has them. ``horizon`` (default: the scenario's) sets the learning-curve average
    and the share of scheduled outages."""
    h = horizon or sc.horizon
    open_minutes = sc.calendar.open_minutes_per_day
    shares = sc.channel_shares()  # after the online fallback
    mix = _channel_mix(sc)
    dedicated = sc.staff.back_office > 0
    work = {d.name: _Work() for d in sc.staff.desks}
    back_office, postal = _Work(), _Work()
    postal_intake = sc.staff.postal_intake_minutes
    for p in sc.procedures:
        per_minute = {
            ch: sc.demand.records_per_day * shares[ch] * mix[ch].get(p.id, 0.0) / open_minutes
            for ch in CHANNELS
        }
        visits = submissions_per_record(p)
        done = processed_share(p)
        processing = p.processing_minutes.mean if p.processing_minutes else 0.0
        linked = sum(s.processing_minutes.mean for s in p.linked_steps if s.processing_minutes)
        completing = sum(per_minute.values()) * done
        back_minutes = (
            per_minute["online"] * visits * p.intake_minutes.mean  # checks at the portal
            + (per_minute["walk_in"] + per_minute["online"] + per_minute["postal"])
            * done
            * processing
            + completing * linked
        )
        coverers = _coverers(sc, p)
        for name, part in coverers:
            w = work[name]
            w.visits += per_minute["walk_in"] * visits * part
            w.intake += per_minute["walk_in"] * visits * part * p.intake_minutes.mean
            if not dedicated:
                w.back += back_minutes * part
        if dedicated:
            back_office.back += back_minutes
        intake = postal_intake.mean if postal_intake is not None else p.intake_minutes.mean
        postal.postal += per_minute["postal"] * visits * intake
    slow = learning_factor(sc, h)
    absent = 1 - sc.staff.absence_share
    desk_avail = _outage_availability(sc, "desks", h)
    back_avail = _outage_availability(sc, "back_office", h)
    out: dict[str, PoolLoad] = {}

    def load(name: str, kind: str, staff: int, w: _Work, present: float) -> PoolLoad:
        walk, back = w.intake * slow, w.back * slow
        effective = walk / desk_avail + back / back_avail if walk + back > 0 else 0.0
        availability = present * ((walk + back) / effective if effective else 1.0)
        if kind == "postal":
            availability = 1.0  # postal agents are the operators' staff: no absence modelled
        return PoolLoad(
            pool=name,
            kind=kind,
            staff=staff,
            walk_in_erlangs=walk,
            back_office_erlangs=back,
            postal_erlangs=w.postal,
            availability=availability,
            learning_factor=slow,
            walk_in_per_minute=w.visits,
            mean_intake_minutes=walk / w.visits if w.visits else 0.0,
        )

    for d in sc.staff.desks:
        out[d.name] = load(d.name, "desk", d.count, work[d.name], absent)
    if dedicated:
        out[BACK_OFFICE] = load(
            BACK_OFFICE, "back-office", sc.staff.back_office, back_office, absent
        )
    if sc.staff.postal_agents > 0:
        out[POSTAL_AGENTS] = load(POSTAL_AGENTS, "postal", sc.staff.postal_agents, postal, 1.0)
    return out


def overloaded(loads: Iterable[PoolLoad]) -> list[PoolLoad]:
    """The pools whose work reaches their capacity (load ratio >= 1)."""
    return [pl for pl in loads if not pl.keeps_up]


# -- horizons --------------------------------------------------------------------------


def settling_days(sc: Scenario) -> int:
    """Working days a center started empty needs before its records in progress settle.

    The longest a record can be in progress without anybody being late: the
    longest statutory deadline, plus the mean days it spends outside the
    center (steps at other agencies, the citizen bringing a supplement), plus
    one day. A learning curve is not part of it: slower new staff are part of
    the work a staffing must carry (their mean slow-down over the horizon is
    in :func:`pool_loads`), and the backlog they leave shrinks afterwards.
    """
    longest = 0.0
    for p in sc.procedures:
        outside = sum(s.delay_working_days.mean for s in p.linked_steps)
        if p.rework is not None:
            outside += p.rework.delay_working_days.mean
        longest = max(longest, p.deadline_working_days + outside)
    if sc.demand.return_after_abandon_share > 0:
        longest += 1
    return math.ceil(longest - 1e-9) + 1


def steady_state_horizon(sc: Scenario, days: int | None = None) -> Horizon:
    """The horizon on which a staffing is judged for the steady state.

    Warm-up: at least the settling time S (:func:`settling_days`), so the
    measured days start from a center already full of the records it
    normally holds. Measured days: at least ``SETTLING_MULTIPLE`` x S and at
    least ``MIN_STEADY_DAYS`` (60), so a backlog that grows shows as growth
    and as lateness. ``days`` overrides the measured days. Never shorter than
    the scenario's own horizon (unless ``days`` says otherwise).
    """
    s = settling_days(sc)
    warmup = max(sc.horizon.warmup_days, s)
    if days is None:
        days = max(MIN_STEADY_DAYS, SETTLING_MULTIPLE * s, sc.horizon.days)
    return Horizon(days=days, warmup_days=warmup)


def horizon_note(sc: Scenario) -> str | None:
    """One line when the scenario's horizon is too short for its verdicts to reach the
    steady state (warm-up below the settling time, or measured days below twice it)."""
    s = settling_days(sc)
    h = sc.horizon
    if h.warmup_days >= s and h.days >= 2 * s:
        return None
    return (
        f"horizon {h.days} days (+{h.warmup_days} warm-up) is short for the steady state: "
        f"records take up to {s} working days to settle (longest deadline and time at other "
        f"agencies), so a growing backlog may not show yet; `pasc size` judges staffings "
        f"on {steady_state_horizon(sc).days} days after a {s}-day warm-up"
    )
