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
work / staff, stretched by outages that slow work down; on office hours a few
per cent less, as a service still going at closing is overtime, not counted
as open time). What a pool can do is its **capacity**: staff x availability,
where availability is the share of open time a staff member can work: the
part not absent, times the part not stopped (or slowed) by outages that
affect that kind of work. The **load ratio** work / capacity must stay below
1; at 1 or above the backlog grows without bound, whatever the horizon shows.

Left out, on purpose: walk-ins who give up waiting (offered work counts them
as served: an upper bound), records handed over on day one (a one-off, not a
rate) and work done after closing (queued citizens are served late, but that
overtime is not capacity a planner can count on). The work of a field covered
by several desk groups goes where the model's routing sends it, to balance
them: the split that minimises the highest load ratio among them. That is
what decides whether they can keep up together; the model's routing (by
shortest expected wait, and back-office work to the shortest backlog per
staff member) balances less evenly, so their measured utilizations can differ
from this split while their total agrees.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from simulator.scenario.channels import CHANNEL_KINDS
from simulator.scenario.models import Horizon, Procedure, Scenario

MINUTES_PER_DAY = 1440  # a model day, as in simulator.model.calendar
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
    record_share: float  # share of open time on duty and not on other duties
    learning_factor: float  # mean slow-down of desk and processing times over the horizon
    walk_in_per_minute: float = 0.0  # walk-in visits per open minute (Erlang C input)
    mean_intake_minutes: float = 0.0  # mean desk time per visit, slow-down included
    busy_factor: float = 1.0  # busy minutes per minute of work (slowed-down outages)

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
        """Busy share of the staff's time for records while open, when the pool keeps
        up: work / (staff x record share), stretched by outages that slow the work
        down rather than stop it."""
        if not self.staff:
            return math.nan
        return (
            (self.walk_in_erlangs + self.back_office_erlangs) * self.busy_factor
            + self.postal_erlangs
        ) / (self.staff * self.record_share)

    @property
    def keeps_up(self) -> bool:
        return self.load_ratio < 1

    def min_staff(self, max_utilization: float = 1.0) -> int:
        """Fewest staff with load ratio below 1 and utilization at most ``max_utilization``
        (rounded up: 4.66 Erlangs of work is 5 staff, never 4)."""
        work = self.work_erlangs
        if work <= 0:
            return 1
        if self.availability <= 0:
            raise ValueError(
                f"{self.pool}: no staff time is available for its work (absence_share 1, "
                "or outages that stop it all the time)"
            )
        n = math.floor(work / self.availability + 1e-9) + 1  # strictly above the work
        if max_utilization < 1:
            n = max(n, math.ceil(work / (max_utilization * self.record_share) - 1e-9))
        return max(1, n)

    def describe(self) -> str:
        """``business-land: 4.66 staff of work on 4 (117 % of capacity)``."""
        if self.staff == 0:
            return f"{self.pool}: {self.work_erlangs:.2f} staff of work on nobody"
        if not math.isfinite(self.load_ratio):
            return f"{self.pool}: {self.work_erlangs:.2f} staff of work and no time to do it"
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
            "learning_factor": self.learning_factor,
            "busy_factor": self.busy_factor,
            "record_share": self.record_share,
            "walk_in_per_minute": self.walk_in_per_minute,
            "mean_intake_minutes": self.mean_intake_minutes,
        }

    @classmethod
    def from_dict(cls, data: dict) -> PoolLoad:
        """The inverse of :meth:`to_dict` (derived figures are recomputed)."""
        import dataclasses

        names = {f.name for f in dataclasses.fields(cls)}
        values = {"learning_factor": 1.0, **{k: v for k, v in data.items() if k in names}}
        return cls(**values)


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


def _outage_factors(sc: Scenario, kind: str, horizon: Horizon) -> tuple[float, float]:
    """``(availability, busy factor)`` of ``kind`` of work (desks / back_office).

    Availability: the share of open time the work runs at full-speed
    equivalent, 1 - downtime x (1 - speed), multiplied over the disruptions
    that affect it. Busy factor: measured busy time per minute of work. A
    stopped outage adds no busy time (factor 1); a slow-down (speed s > 0)
    stretches the work done meanwhile, about 1 / availability when staff are
    as busy during the outage as outside it.
    """
    spans = sc.calendar.open_spans_minutes()
    open_per_day = sum(b - a for a, b in spans)
    first, last = horizon.warmup_days, horizon.warmup_days + horizon.days
    avail = busy = 1.0
    for d in sc.disruptions:
        if kind not in d.affects:
            continue
        down = 0.0
        if d.mean_hours_between is not None and d.mean_repair_minutes is not None:
            up = d.mean_hours_between * 60
            down += d.mean_repair_minutes / (up + d.mean_repair_minutes)
        scheduled = 0.0
        for w in d.at:
            a = w.day * MINUTES_PER_DAY + w.start_minute
            b = a + w.minutes  # an outage may last past closing, and for days
            for day in range(max(first, w.day), min(last, math.ceil(b / MINUTES_PER_DAY))):
                base = day * MINUTES_PER_DAY
                scheduled += sum(max(0.0, min(b, base + e) - max(a, base + s)) for s, e in spans)
        down += scheduled / (open_per_day * horizon.days)
        factor = 1 - min(1.0, down) * (1 - d.speed)
        avail *= factor
        if d.speed > 0:
            busy /= factor
    return avail, busy


@dataclass
class _FieldWork:
    """One field's work per open minute (standard times x learning slow-down)."""

    visits: float = 0.0  # walk-in visits
    walk: float = 0.0  # desk intake
    back: float = 0.0  # back-office work, when desk groups do it


def _taken_in(channel: str, pool: str) -> bool:
    return CHANNEL_KINDS[channel].taken_in_by == pool


def _channel_mix(sc: Scenario) -> dict[str, dict[str, float]]:
    """Channel -> procedure id -> share of that channel's records."""
    out: dict[str, dict[str, float]] = {}
    for ch in CHANNEL_KINDS:
        weights = sc.procedure_weights(ch)
        norm = sum(weights)
        out[ch] = {
            p.id: (w / norm if norm else 0.0)
            for p, w in zip(sc.procedures, weights, strict=True)
            if w > 0
        }
    return out


def _split_shared(
    fields: dict[str, float], coverers: dict[str, list[str]], capacity: dict[str, float]
) -> dict[tuple[str, str], float]:
    """Fraction of each field's work done by each group covering it.

    A field with one coverer goes to it. Work of fields covered by several
    groups goes where the model's routing (the shortest expected wait) sends
    it: to balance the groups, i.e. the split that minimises the highest load
    ratio (work / capacity), a small linear programme solved with HiGHS.
    """
    split: dict[tuple[str, str], float] = {}
    shared = [f for f, gs in coverers.items() if len(gs) > 1 and fields.get(f, 0) > 0]
    for f, gs in coverers.items():
        if f not in shared:
            for g in gs:
                split[f, g] = 1.0 / len(gs) if len(gs) > 1 else 1.0
    if not shared:
        return split
    from scipy.optimize import linprog

    fixed = {g: 0.0 for g in capacity}
    for f, gs in coverers.items():
        if f not in shared and len(gs) == 1:
            fixed[gs[0]] += fields.get(f, 0.0)
    pairs = [(f, g) for f in shared for g in coverers[f]]
    n = len(pairs)  # variables: each pair's fraction, then t
    groups = sorted({g for _, g in pairs})
    a_ub, b_ub = [], []
    for g in groups:  # load(g) - t x capacity(g) <= -fixed work(g)
        row = [fields[f] if gg == g else 0.0 for f, gg in pairs] + [-capacity[g]]
        a_ub.append(row)
        b_ub.append(-fixed[g])
    a_eq = [[1.0 if ff == f else 0.0 for ff, _ in pairs] + [0.0] for f in shared]
    res = linprog(
        [0.0] * n + [1.0],
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=[1.0] * len(shared),
        bounds=[(0, 1)] * n + [(0, None)],
        method="highs",
    )
    if res.status != 0:  # a group with no capacity at all: split by nothing but coverage
        for f, g in pairs:
            has = [gg for gg in coverers[f] if capacity[gg] > 0] or coverers[f]
            split[f, g] = 1.0 / len(has) if g in has else 0.0
        return split
    # The lowest highest ratio t* leaves the split of groups below t* open; among
    # the splits reaching t*, take the one closest to sharing by capacity, so the
    # answer is unique and, when nothing binds, proportional to staff.
    t_star = float(res.x[n]) * (1 + 1e-9) + 1e-12
    total_cap = {f: sum(capacity[g] for g in coverers[f]) for f in shared}
    prop = [capacity[g] / total_cap[f] if total_cap[f] else 0.0 for f, g in pairs]
    eye = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    a_ub2 = [row[:n] + [0.0] * (2 * n) for row in a_ub]
    b_ub2 = [b + t_star * capacity[g] for b, g in zip(b_ub, groups, strict=True)]
    a_eq2 = [row[:n] + [0.0] * (2 * n) for row in a_eq]
    a_eq2 += [eye[i] + [-x for x in eye[i]] + eye[i] for i in range(n)]  # y - d+ + d- = p
    res2 = linprog(
        [0.0] * n + [1.0] * (2 * n),
        A_ub=a_ub2,
        b_ub=b_ub2,
        A_eq=a_eq2,
        b_eq=[1.0] * len(shared) + prop,
        bounds=[(0, 1)] * n + [(0, None)] * (2 * n),
        method="highs",
    )
    x = res2.x[:n] if res2.status == 0 else res.x[:n]
    for (f, g), value in zip(pairs, x, strict=True):
        split[f, g] = float(value)
    return split


def pool_loads(
    sc: Scenario, horizon: Horizon | None = None, *, shared_fields: bool = True
) -> dict[str, PoolLoad]:
    """Work, availability and load ratio of every staff pool of ``sc``: each desk group,
    then ``back-office`` (dedicated staff) and ``postal-agents`` when the scenario
    has them. ``horizon`` (default: the scenario's) sets the learning-curve average
    and the share of scheduled outages. With ``shared_fields=False`` the work of a
    field several desk groups cover is left out (each group's own work only: a floor
    for its staff)."""
    h = horizon or sc.horizon
    open_minutes = sc.calendar.open_minutes_per_day
    shares = sc.channel_shares()  # after the online fallback
    mix = _channel_mix(sc)
    dedicated = sc.staff.back_office > 0
    slow = learning_factor(sc, h)
    fields: dict[str, _FieldWork] = {}
    bo_work = postal_work = 0.0
    postal_intake = sc.staff.postal_intake_minutes
    for p in sc.procedures:
        per_minute = {
            ch: sc.demand.records_per_day * shares[ch] * mix[ch].get(p.id, 0.0) / open_minutes
            for ch in CHANNEL_KINDS
        }
        # Who takes each channel's records in (the channels' declarations).
        at_desk = sum(per_minute[ch] for ch in CHANNEL_KINDS if _taken_in(ch, "desk"))
        checked = sum(per_minute[ch] for ch in CHANNEL_KINDS if _taken_in(ch, "back_office"))
        by_post = sum(per_minute[ch] for ch in CHANNEL_KINDS if _taken_in(ch, "postal_agents"))
        visits = submissions_per_record(p)
        done = processed_share(p)
        processing = p.processing_minutes.mean if p.processing_minutes else 0.0
        linked = sum(s.processing_minutes.mean for s in p.linked_steps if s.processing_minutes)
        back_minutes = (
            checked * visits * p.intake_minutes.mean  # checks of portal dossiers
            + sum(per_minute.values()) * done * (processing + linked)
        ) * slow
        fw = fields.setdefault(p.field, _FieldWork())
        fw.visits += at_desk * visits
        fw.walk += at_desk * visits * p.intake_minutes.mean * slow
        if dedicated:
            bo_work += back_minutes
        else:
            fw.back += back_minutes
        intake = postal_intake.mean if postal_intake is not None else p.intake_minutes.mean
        postal_work += by_post * visits * intake
    present = 1 - sc.staff.absence_share
    desk_avail, desk_busy = _outage_factors(sc, "desks", h)
    back_avail, back_busy = _outage_factors(sc, "back_office", h)

    def effective(walk: float, back: float) -> float:
        """Staff-minutes of available time the work takes (0 availability: infinite)."""
        total = 0.0
        for work, avail in ((walk, desk_avail), (back, back_avail)):
            if work > 0:
                total += work / avail if avail > 0 else math.inf
        return total

    coverers = {f: [d.name for d in sc.staff.desks if f in d.fields] for f in fields}
    capacity = {d.name: d.count * present for d in sc.staff.desks}
    eff = {f: effective(fw.walk, fw.back) for f, fw in fields.items()}
    finite = {f: (e if math.isfinite(e) else 1e12) for f, e in eff.items()}
    if shared_fields:
        split = _split_shared(finite, coverers, capacity)
    else:
        split = {(f, g): 1.0 for f, gs in coverers.items() if len(gs) == 1 for g in gs}

    def load(
        name: str,
        kind: str,
        staff: int,
        visits: float,
        walk: float,
        back: float,
        postal: float = 0.0,
    ) -> PoolLoad:
        # Open time for records: on duty by the schedule, less other duties.
        share = sc.staff.availability_of(name) * sc.on_duty_share(name)
        if kind == "postal":
            availability = 1.0  # the operators' staff: no absence or outage modelled
        else:
            need = effective(walk, back)
            availability = present * share * ((walk + back) / need if need else 1.0)
            if not math.isfinite(need):
                availability = 0.0
        return PoolLoad(
            pool=name,
            kind=kind,
            staff=staff,
            walk_in_erlangs=walk,
            back_office_erlangs=back,
            postal_erlangs=postal,
            availability=availability,
            record_share=share,
            learning_factor=slow,
            walk_in_per_minute=visits,
            mean_intake_minutes=walk / visits if visits else 0.0,
            busy_factor=(
                (walk * desk_busy + back * back_busy) / (walk + back) if walk + back else 1.0
            ),
        )

    out: dict[str, PoolLoad] = {}
    for d in sc.staff.desks:
        parts = [(fields[f], split.get((f, d.name), 0.0)) for f in fields if d.name in coverers[f]]
        out[d.name] = load(
            d.name,
            "desk",
            d.count,
            sum(fw.visits * x for fw, x in parts),
            sum(fw.walk * x for fw, x in parts),
            sum(fw.back * x for fw, x in parts),
        )
    if dedicated:
        out[BACK_OFFICE] = load(BACK_OFFICE, "back-office", sc.staff.back_office, 0, 0, bo_work)
    if sc.staff.postal_agents > 0:
        out[POSTAL_AGENTS] = load(
            POSTAL_AGENTS, "postal", sc.staff.postal_agents, 0, 0, 0, postal_work
        )
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
    if sc.sign_off is not None:  # up to a day to the next round, longer when the signer is away
        longest += 1 / (1 - sc.sign_off.absence_share)
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
        f"on {steady_state_horizon(sc).days} days after a warm-up of "
        f"{steady_state_horizon(sc).warmup_days} days"
    )


#: Fewest day closes the backlog-growth slope is fitted on (the last ones when the
#: measured horizon is shorter than the settling time).
MIN_GROWTH_DAYS = 5


def growth_window_start(sc: Scenario) -> int:
    """First working day whose close counts in ``backlog_growth_per_day``: the first
    measured day after the settling time (the center first fills up with the records
    it normally holds), or the last ``MIN_GROWTH_DAYS`` measured days when the
    horizon is too short for that (see :func:`growth_window_settled`)."""
    total = sc.horizon.warmup_days + sc.horizon.days
    start = max(sc.horizon.warmup_days, settling_days(sc))
    return min(start, total - min(MIN_GROWTH_DAYS, sc.horizon.days))


def growth_window_settled(sc: Scenario) -> bool:
    """Does the growth slope start after the settling time? If not, the center may
    still be filling up, and a positive slope does not show a growing backlog."""
    return growth_window_start(sc) >= max(sc.horizon.warmup_days, settling_days(sc))
