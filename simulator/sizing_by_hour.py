"""Sizing by the hour: the fewest staff-hours per desk group that meet the wait
target in every open hour, found by simulation (``pasc size --by-hour``).

Citizens come in a morning peak; one count per group for the whole day either
over-staffs the afternoon or lets the morning queue grow. For each desk group,
in turn (the others as the scenario has them):

1. **Start** from the hour-by-hour Erlang C answer on the *modified offered
   load* (:func:`simulator.staffing_by_hour.erlang_requirement`), with the
   group's walk-ins per hour from the work-load accounting and the scenario's
   hourly profile, and its mean intake time. The plain answer of every
   spreadsheet calculator (SIPP: each hour on its own) is computed too and
   simulated once, to say in which hours it misses the target.
2. **Iterate** (:func:`simulator.staffing_by_hour.iterative_staffing`):
   simulate the schedule on the steady-state horizon of ``pasc size``, measure
   each hour's wait quantile of the group's citizens with its 95 % interval, add
   one staff member in each hour that does not pass, remove one where the
   whole interval is well under the target, until nothing changes.
3. **Verify** the final schedules together, with fresh random numbers, against
   every target of the scenario, the wait target in every hour and keeps-up;
   an hour that misses gets one more staff member and the verification runs
   again (at most three times).

The answer is a scenario whose groups have ``by_hour`` schedules
(:meth:`HourlySizing.answer_scenario`), with its staff-hours against the flat
staffing of the same scenario.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.results import build_run_result
from simulator.results.run_result import RunResult
from simulator.results.verdicts import KEEPS_UP
from simulator.runner import BackendChoice, open_backend, run_jobs
from simulator.scenario import Scenario
from simulator.scenario.models import hourly_kpi
from simulator.shifts import DEFAULT_PATTERNS, ShiftPlan, plan_shifts
from simulator.sizing import SizingResult, size
from simulator.staffing_by_hour import (
    HourMeasure,
    IterationResult,
    erlang_requirement,
    iterative_staffing,
    staff_hours,
)
from simulator.workload import pool_loads, steady_state_horizon

#: Seed offset of the verification: fresh random numbers, not those tuned on.
VERIFY_SEED_OFFSET = 1_000_003
WAIT_QUANTILES = {"wait_minutes.p50": 0.5, "wait_minutes.p90": 0.9, "wait_minutes.p95": 0.95}


@dataclass
class GroupByHour:
    """One desk group's hourly answer and how it was found."""

    pool: str
    flat_staff: int
    sipp: dict[int, int]
    sipp_measures: dict[int, HourMeasure]
    start: dict[int, int]
    search: IterationResult
    schedule: dict[int, int]
    sipp_load_ratio: float = math.nan  # the plain answer's work / capacity (>= 1: falls behind)

    @property
    def sipp_misses(self) -> list[int]:
        """Hours in which the plain hour-by-hour Erlang answer misses the target."""
        t = self.search.target_minutes
        return sorted(h for h, m in self.sipp_measures.items() if m.verdict(t) != "pass")


@dataclass
class HourlySizing:
    """The outcome of :func:`size_by_hour`."""

    scenario: Scenario
    seed: int
    replications: int
    kpi: str
    target_minutes: float
    open_minutes: dict[int, float]
    groups: dict[str, GroupByHour]
    verification: RunResult | None = None
    verified: bool = False
    rounds: int = 0
    notes: list[str] = field(default_factory=list)
    flat: SizingResult | None = None  # the flat answer of ``pasc size``, side by side

    @property
    def staff_hours(self) -> float:
        """Staff-hours a day of the answer (open minutes only), over every sized group."""
        return sum(staff_hours(g.schedule, self.open_minutes) for g in self.groups.values())

    @property
    def flat_staff_hours(self) -> float:
        """Staff-hours a day of the same groups at the flat answer of ``pasc size``
        (at the scenario's counts when there is none)."""
        day = sum(self.open_minutes.values()) / 60
        answer = (self.flat.answer if self.flat is not None else None) or {}
        return sum(answer.get(p, g.flat_staff) * day for p, g in self.groups.items())

    def verified_measures(self, pool: str) -> dict[int, HourMeasure]:
        """The verification's wait quantile by hour for one group's citizens."""
        if self.verification is None:
            return {}
        several = len(self.scenario.staff.desks) > 1
        return hour_measures(self.verification, self.kpi, pool if several else None)

    def answer_scenario(self) -> Scenario:
        return with_schedules(self.scenario, {p: g.schedule for p, g in self.groups.items()})

    def table(self) -> list[dict[str, Any]]:
        """One row per open hour: each group's answer, SIPP answer and flat count."""
        rows = []
        for h in sorted(self.open_minutes):
            row: dict[str, Any] = {"hour": h}
            for p, g in self.groups.items():
                row[p] = g.schedule.get(h, 0)
                row[f"{p} (Erlang)"] = g.sipp.get(h, 0)
            rows.append(row)
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "replications": self.replications,
            "kpi": self.kpi,
            "target_minutes": self.target_minutes,
            "answer": {
                p: {str(h): n for h, n in g.schedule.items()} for p, g in self.groups.items()
            },
            "staff_hours": self.staff_hours,
            "flat_staff_hours": self.flat_staff_hours,
            "flat_answer": self.flat.answer if self.flat is not None else None,
            "verified": self.verified,
            "verification_rounds": self.rounds,
            "erlang": {p: {str(h): n for h, n in g.sipp.items()} for p, g in self.groups.items()},
            "erlang_misses": {p: g.sipp_misses for p, g in self.groups.items()},
            "erlang_load_ratio": {p: g.sipp_load_ratio for p, g in self.groups.items()},
            "search": {p: g.search.to_dict() for p, g in self.groups.items()},
            "notes": self.notes,
        }


@dataclass
class ShiftPlans:
    """Shift plans covering an hourly answer, and their own verification."""

    plans: dict[str, ShiftPlan]
    verification: RunResult
    target_minutes: float

    @property
    def verified(self) -> bool:
        table = self.verification.targets()
        return bool((table["verdict"] == "pass").all()) and (
            self.verification.keeps_up().verdict == "pass"
        )

    def scenario(self) -> Scenario:
        """The scenario with each group's shifts (``count: {shifts: [...]}``)."""
        return with_shift_plans(self.verification.scenario, self.plans)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plans": {p: plan.to_dict() for p, plan in self.plans.items()},
            "verified": self.verified,
            "staff": sum(plan.staff for plan in self.plans.values()),
            "staff_hours": sum(plan.staff_hours for plan in self.plans.values()),
        }


def with_shift_plans(sc: Scenario, plans: dict[str, ShiftPlan]) -> Scenario:
    """A copy of ``sc`` whose desk groups work the shifts of ``plans``."""
    data = sc.model_dump(mode="python", by_alias=True)
    for desk in data["staff"]["desks"]:
        if desk["name"] in plans:
            desk["schedule"] = plans[desk["name"]].to_schedule()
            desk["count"] = None
    return Scenario.model_validate(data)


def plan_and_verify_shifts(
    result: HourlySizing,
    patterns: Sequence[Any] = DEFAULT_PATTERNS,
    *,
    objective: str = "staff",
    workers: int | None = None,
    backend: BackendChoice = None,
    scheduler: str | None = None,
) -> ShiftPlans:
    """Turn each group's hourly answer into shifts (:func:`simulator.shifts.plan_shifts`:
    the fewest staff, or staff-hours, covering the answer in every open hour with the
    allowed patterns), then simulate the shift plan itself, with fresh random
    numbers, against every target, the wait target in every hour and keeps-up."""
    sc = result.scenario
    sessions = sc.calendar.sessions
    plans = {
        p: plan_shifts(g.schedule, sessions, patterns, objective=objective)
        for p, g in result.groups.items()
    }
    judged = _judged(sc, result.kpi, result.target_minutes, None)
    planned = with_shift_plans(judged, plans)
    seed = result.seed + 2 * VERIFY_SEED_OFFSET
    with open_backend(backend, workers=workers, scheduler=scheduler) as b:
        outputs = run_jobs([(planned, seed, i) for i in range(result.replications)], b)
    return ShiftPlans(
        plans, build_run_result(planned, seed, outputs, records=False), result.target_minutes
    )


def hour_measures(res: RunResult, kpi: str, pool: str | None = None) -> dict[int, HourMeasure]:
    """Each open hour's ``kpi`` (a wait quantile) with its interval, of the citizens
    of one desk group (``pool``) or of the whole center."""
    summary = res.summary().set_index("kpi")
    out = {}
    for h in range(24):
        name = hourly_kpi(kpi, h) + (f"/{pool}" if pool else "")
        if name in summary.index:
            r = summary.loc[name]
            out[h] = HourMeasure(float(r["mean"]), float(r["ci_low"]), float(r["ci_high"]))
    return out


def with_schedules(sc: Scenario, schedules: dict[str, dict[int, int]]) -> Scenario:
    """A copy of ``sc`` whose desk groups named in ``schedules`` have ``by_hour``
    schedules (staff on duty in each open hour; their count the most at once)."""
    data = sc.model_dump(mode="python", by_alias=True)
    for desk in data["staff"]["desks"]:
        if desk["name"] in schedules:
            hours = {int(h): int(n) for h, n in schedules[desk["name"]].items()}
            desk["schedule"] = {"by_hour": hours}
            desk["count"] = max(hours.values())
    return Scenario.model_validate(data)


def walk_ins_by_hour(sc: Scenario, pool: str) -> tuple[dict[int, float], dict[int, float]]:
    """(expected walk-ins per clock hour of a working day for one desk group, open
    minutes per clock hour), from the work-load accounting and the hourly profile."""
    load = pool_loads(sc)[pool]
    spans = sc.calendar.open_spans_minutes()
    weights = sc.profile_weights()
    mass: dict[int, float] = {}
    open_minutes: dict[int, float] = {}
    for a, b in spans:
        for m in range(a, b):
            h = m // 60
            open_minutes[h] = open_minutes.get(h, 0.0) + 1
            mass[h] = mass.get(h, 0.0) + weights.get(h, 0.0)
    total = sum(mass.values())
    per_day = load.walk_in_per_minute * sc.calendar.open_minutes_per_day
    return {h: per_day * w / total for h, w in mass.items()}, open_minutes


#: Work / capacity the floor of :func:`keep_up_floor` leaves a pool at, at most.
KEEP_UP_LOAD = 0.95


def keep_up_floor(
    sc: Scenario, pool: str, schedule: dict[int, int], arrivals: dict[int, float]
) -> dict[int, int]:
    """At least one staff member in every open hour, and enough staff-hours for the
    group's whole work (desk and back office) at a load ratio under
    :data:`KEEP_UP_LOAD`: staff are added one at a time where back-office work
    gets done, between citizens; staff are
    added in turn to the hours from the quietest (per open minute) up."""
    floor = {h: 1 for h in schedule}
    trial = dict(schedule)
    _, open_minutes = walk_ins_by_hour(sc, pool)
    order = sorted(trial, key=lambda h: (arrivals.get(h, 0.0) / open_minutes.get(h, 60), h))
    for step in range(50 * len(trial)):
        if pool_loads(with_schedules(sc, {pool: trial}))[pool].load_ratio < KEEP_UP_LOAD:
            break
        h = order[step % len(order)]
        trial[h] += 1
        floor[h] = trial[h]
    return floor


def _wait_target(sc: Scenario) -> tuple[str, float]:
    for t in sc.targets:
        if t.kpi in WAIT_QUANTILES and t.max is not None:
            return t.kpi, t.max
    raise ValueError(
        "sizing by hour needs a wait target (wait_minutes.p50, .p90 or .p95 with max:), "
        "found none in targets"
    )


def _judged(sc: Scenario, kpi: str, target: float, horizon_days: int | None) -> Scenario:
    """The scenario on the steady-state horizon, with the wait target per hour."""
    horizon = steady_state_horizon(sc, horizon_days)
    data = sc.model_dump(mode="python", by_alias=True)
    data["horizon"] = horizon.model_dump()
    data["targets"] = [
        t for t in data["targets"] if not (t["kpi"] == kpi and t.get("per") == "hour")
    ]
    data["targets"].append({"kpi": kpi, "max": target, "per": "hour"})
    return Scenario.model_validate(data)


def size_by_hour(
    scenario: Scenario,
    *,
    pools: list[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    max_staff: int = 30,
    horizon_days: int | None = None,
    workers: int | None = None,
    backend: BackendChoice = None,
    scheduler: str | None = None,
    progress: Callable[[str], None] | None = None,
    flat: bool = True,
) -> HourlySizing:
    """The fewest staff per open hour for each desk group (``pools``: default all)
    meeting the scenario's wait target in every hour, verified by simulation; with
    ``flat``, also the flat answer of :func:`simulator.sizing.size`, to compare."""
    kpi, target = _wait_target(scenario)
    if not math.isfinite(target):
        raise ValueError(f"the wait target must be a number of minutes, found {target}")
    quantile = WAIT_QUANTILES[kpi]
    seed = scenario.seed if seed is None else seed
    reps = replications or max(scenario.replications, 10)
    judged = _judged(scenario, kpi, target, horizon_days)
    names = pools or [d.name for d in scenario.staff.desks]
    several = len(scenario.staff.desks) > 1
    say = progress or (lambda _text: None)
    current: dict[str, dict[int, int]] = {}
    groups: dict[str, GroupByHour] = {}
    with open_backend(backend, workers=workers, scheduler=scheduler) as b:

        def run(sc: Scenario, run_seed: int) -> RunResult:
            outputs = run_jobs([(sc, run_seed, i) for i in range(reps)], b)
            return build_run_result(sc, run_seed, outputs, records=False)

        def measures(res: RunResult, pool: str) -> dict[int, HourMeasure]:
            return hour_measures(res, kpi, pool if several else None)

        for pool in names:
            arrivals, open_minutes = walk_ins_by_hour(scenario, pool)
            load = pool_loads(scenario)[pool]
            kwargs = dict(
                wait_minutes=target,
                quantile=quantile,
                open_minutes_per_hour=open_minutes,
                min_staff=1,
            )
            sipp = erlang_requirement(arrivals, load.mean_intake_minutes, method="sipp", **kwargs)
            start = erlang_requirement(
                arrivals, load.mean_intake_minutes, method="modified", **kwargs
            )
            sipp = {h: max(1, sipp.get(h, 1)) for h in open_minutes}
            start = {h: max(1, start.get(h, 1)) for h in open_minutes}
            # The group's back-office work is done between citizens: enough staff-hours
            # for all of it (in the quietest hours) is the floor of every hour.
            floor = keep_up_floor(with_schedules(scenario, current), pool, start, arrivals)
            start = {h: max(start[h], floor[h]) for h in start}

            def evaluate(schedule: dict[int, int], pool: str = pool) -> dict[int, HourMeasure]:
                say(f"{pool}: simulating {dict(sorted(schedule.items()))}")
                sc = with_schedules(judged, {**current, pool: schedule})
                return measures(run(sc, seed), pool)

            sipp_measures = evaluate(sipp)
            search = iterative_staffing(
                start,
                evaluate,
                target_minutes=target,
                quantile=quantile,
                minimum=floor,
                maximum=max_staff,
                open_minutes_per_hour=open_minutes,
            )
            sipp_ratio = pool_loads(with_schedules(scenario, {**current, pool: sipp}))[
                pool
            ].load_ratio
            current[pool] = dict(search.schedule)
            groups[pool] = GroupByHour(
                pool,
                next(d.count for d in scenario.staff.desks if d.name == pool),
                sipp,
                sipp_measures,
                start,
                search,
                dict(search.schedule),
                sipp_ratio,
            )
        result = HourlySizing(scenario, seed, reps, kpi, target, open_minutes, groups)
        if flat:
            say("the flat answer, for comparison")
            result.flat = size(scenario, seed=seed, horizon_days=horizon_days, backend=b)
        # Verification with fresh random numbers, every target and keeps-up.
        rounds_max = 3
        for rounds in range(1, rounds_max + 1):
            result.rounds = rounds
            say(f"verifying (round {rounds})")
            verified_schedules = {p: dict(current[p]) for p in names}
            res = run(with_schedules(judged, current), seed + VERIFY_SEED_OFFSET)
            result.verification = res
            table = res.targets()
            keeps = res.keeps_up()
            others = table[(table["kpi"] != KEEPS_UP) & (table["per"] != "hour")]
            failing = others.loc[others["verdict"] != "pass", "kpi"].tolist()
            if failing:
                result.notes.append(f"round {rounds}: other targets not passing: {failing}")
            missing = [
                (p, h)
                for p in names
                for h, m in measures(res, p).items()
                if m.verdict(target) != "pass" and current[p][h] < max_staff
            ]
            if keeps.verdict != "pass":
                result.notes.append(f"round {rounds}: did not keep up ({keeps.verdict})")
            if not missing and keeps.verdict == "pass":
                result.verified = not failing
                break
            if rounds == rounds_max:
                current = verified_schedules  # report what was verified, not untried bumps
                break
            for p, h in missing:
                current[p][h] += 1
            if keeps.verdict != "pass":
                # Back-office work is done between citizens: more staff in the
                # quietest hour of each group gives the time for it.
                for p in names:
                    arrivals = walk_ins_by_hour(scenario, p)[0]
                    room = [h for h in current[p] if current[p][h] < max_staff]
                    if room:
                        current[p][min(room, key=lambda h: arrivals[h])] += 1
        for pool in names:
            groups[pool].schedule = dict(current[pool])
    return result
