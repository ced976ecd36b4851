"""How many staff does this commune need? The smallest staffing that keeps up and
meets every target, in the steady state, for every staff pool.

An answer is only right if it holds over a year of operation, so every
candidate staffing is judged the same way:

1. **Work-load accounting first** (:mod:`simulator.workload`). A staffing
   whose work reaches the capacity of any pool (desk group, dedicated back
   office, postal agents) cannot keep up, whatever a short run shows: it is
   rejected without simulating. The search starts from the fewest staff below
   capacity in every pool (and under the utilization targets), rounded *up*
   (4.66 staff of work is 5); where desk groups share a field, from the
   balanced split of its work (:func:`starting_staffing`), and trimming may go
   down to each pool's floor, the work only it can do (:func:`staffing_floor`).
2. **A steady-state horizon.** Candidates are simulated on
   :func:`simulator.workload.steady_state_horizon`: a warm-up of at least
   the settling time S (longest deadline + mean days at other agencies or
   with the citizen + 1) and at least max(60, 4 x S) measured days, whatever
   the scenario's own horizon (``horizon_days`` overrides the measured days).
   Because each replication is longer, fewer are needed for the same
   precision: by default the scenario's replications x its days / the
   sizing days, at least ``MIN_SIZING_REPLICATIONS`` (or the scenario's own
   replications, when fewer).
3. **"Keeps up" is a target.** Every candidate must pass the keeps-up
   verdict (:class:`simulator.results.verdicts.KeepsUp`: no pool over
   capacity, backlog growth per day at most one day's filings a year) as
   well as every scenario target.
4. **Reachability.** If the targets fail even at ``max_staff``, no staffing
   meets them: the answer is ``None`` and the failing targets are named.
5. **Greedy marginal allocation.** From the lower bound, add one staff
   member at a time where it reduces the failing targets' shortfall most,
   until all verdicts pass; then **trim**: remove one staff member from any
   pool where everything still passes. What fails on removal is the
   *binding* constraint.

Every candidate is first screened with 3, then 5 replications: one whose
interval already misses a target is a valid ``fail`` and costs no more. The
others get the full count. An ``inconclusive`` verdict (the interval straddles
the threshold) is never guessed: the candidate gets more replications
(doubling, up to ``max_replications``); if still inconclusive it counts as not
passing. Each look is a 95 % verdict, so a staffing whose mean truly meets a
target can be failed at one of the looks with a small probability (about
2.5 % per look that could fail it); that only ever makes the answer larger.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from simulator import analytic
from simulator.backends import Backend
from simulator.model import ReplicationOutput
from simulator.results import kpi_frame, summarize, target_table
from simulator.results.verdicts import KEEPS_UP, KeepsUp, keeps_up
from simulator.runner import BackendChoice, open_backend, run_jobs
from simulator.scenario import Scenario
from simulator.workload import (
    BACK_OFFICE,
    POSTAL_AGENTS,
    PoolLoad,
    overloaded,
    pool_loads,
    steady_state_horizon,
)

Staffing = dict[str, int]
#: Replications of the first looks at each candidate (see StaffingEvaluator.evaluate).
SCREENING_REPLICATIONS = (3, 5)
#: Fewest replications of a full look on the steady-state horizon.
MIN_SIZING_REPLICATIONS = 8
WAIT_QUANTILES = {"wait_minutes.p50": 0.5, "wait_minutes.p90": 0.9, "wait_minutes.p95": 0.95}


@dataclass
class Candidate:
    """One judged staffing: its KPIs (mean, interval), work per pool and verdicts.

    ``targets`` holds the scenario's targets and, last, the ``keeps_up`` row.
    A candidate with ``replications == 0`` was rejected by the work-load
    accounting alone (a pool over capacity), without simulating.
    """

    staff: Staffing
    replications: int
    summary: pd.DataFrame
    targets: pd.DataFrame
    loads: dict[str, PoolLoad] = field(default_factory=dict)
    keeps: KeepsUp | None = None

    @property
    def total(self) -> int:
        return sum(self.staff.values())

    @property
    def passes(self) -> bool:
        return bool((self.targets["verdict"] == "pass").all())

    @property
    def over_capacity(self) -> bool:
        return self.replications == 0

    def not_passing(self) -> list[str]:
        return self.targets.loc[self.targets["verdict"] != "pass", "kpi"].tolist()

    def shortfall(self) -> float:
        """Sum of relative distances of the mean to the threshold, over targets not passing
        (an inconclusive target whose mean already meets it counts a little)."""
        if self.over_capacity:
            return math.inf  # never preferred to a simulated candidate
        total = 0.0
        for t in self.targets.itertuples():
            if t.verdict == "pass":
                continue
            scale = abs(t.threshold) or 1.0
            gap = (t.mean - t.threshold) if t.op == "<=" else (t.threshold - t.mean)
            total += max(gap / scale, 0.0) if not math.isnan(gap) else 1.0
            total += 1e-3
        return total

    def slack(self, kpi: str) -> float:
        row = self.targets[self.targets["kpi"] == kpi].iloc[0]
        scale = abs(row.threshold) or 1.0
        gap = (row.threshold - row.ci_high) if row.op == "<=" else (row.ci_low - row.threshold)
        return gap / scale if not math.isnan(gap) else -math.inf

    def constraint_text(self, kpi: str, detail: bool = False) -> str:
        """How a failing constraint reads in an explanation (``detail``: with its mean)."""
        if kpi == KEEPS_UP and self.keeps is not None:
            return self.keeps.binding_text()
        if detail:
            row = self.targets[self.targets["kpi"] == kpi].iloc[0]
            if not math.isnan(row["mean"]):
                return f"{kpi} (mean {row['mean']:.3g}, target {row['op']} {row['threshold']:g})"
        return kpi

    def row(self) -> dict[str, Any]:
        """The ``curve`` entry of ``pasc size --json``."""
        kpis = {
            r.kpi: {"mean": _num(r.mean), "ci_low": _num(r.ci_low), "ci_high": _num(r.ci_high)}
            for r in self.summary.itertuples()
        }
        targets = [
            {
                "kpi": r.kpi,
                "op": r.op,
                "threshold": r.threshold,
                "mean": _num(r.mean),
                "ci_low": _num(r.ci_low),
                "ci_high": _num(r.ci_high),
                "verdict": r.verdict,
            }
            for r in self.targets.itertuples()
        ]
        return {
            "staff": dict(self.staff),
            "replications": self.replications,
            "kpis": kpis,
            "targets": targets,
            "keeps_up": self.keeps.to_dict() if self.keeps is not None else None,
            "pools": {name: pl.to_dict() for name, pl in self.loads.items()},
        }


def _num(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


@dataclass
class SizingResult:
    """The answer of :func:`size` and the staffing curve behind it.

    ``desks`` lists the sized pools (desk groups, ``back-office``); ``horizon``
    is the steady-state horizon every candidate was judged on.
    """

    scenario: Scenario
    desks: list[str]
    answer: Staffing | None
    binding_target: str | None
    curve: list[Candidate]
    lower_bound: Staffing
    analytic_estimate: Staffing
    unreachable: list[str] = field(default_factory=list)
    explanation: str = ""
    horizon_days: int | None = None
    warmup_days: int | None = None
    replications: int | None = None
    seed: int | None = None

    @property
    def pools(self) -> list[str]:
        return self.desks

    @property
    def answer_total(self) -> int | None:
        return None if self.answer is None else sum(self.answer.values())

    @property
    def chosen(self) -> Candidate | None:
        if self.answer is None:
            return None
        return next(c for c in self.curve if all(c.staff[d] == n for d, n in self.answer.items()))

    def answer_scenario(self) -> Scenario | None:
        """The input scenario with the answer's staff counts (``answer.yaml``)."""
        if self.answer is None:
            return None
        return with_staff(self.scenario, self.answer)

    def curve_frame(self) -> pd.DataFrame:
        """One row per candidate: staff per pool, work / utilization per pool, backlog
        growth, each target's mean/interval/verdict."""
        rows = []
        for c in sorted(self.curve, key=lambda c: (c.total, tuple(c.staff.values()))):
            row: dict[str, Any] = {f"staff.{k}": v for k, v in c.staff.items()}
            row["staff_total"] = c.total
            row["replications"] = c.replications
            by_kpi = c.summary.set_index("kpi") if len(c.summary) else None
            for name, pl in c.loads.items():
                row[f"work.{name}"] = pl.work_erlangs
                row[f"load_ratio.{name}"] = pl.load_ratio
                key = f"utilization.{name}"
                has = by_kpi is not None and key in by_kpi.index
                row[f"{key}.mean"] = float(by_kpi.loc[key, "mean"]) if has else math.nan
            for t in c.targets.itertuples():
                row[f"{t.kpi}.mean"] = t.mean
                row[f"{t.kpi}.ci_low"] = t.ci_low
                row[f"{t.kpi}.ci_high"] = t.ci_high
                row[f"{t.kpi}.verdict"] = t.verdict
            row["all_pass"] = c.passes
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The documented ``--json`` shape, plus bounds, horizon and explanation."""
        curve = sorted(self.curve, key=lambda c: (c.total, tuple(c.staff.values())))
        chosen = self.chosen
        return {
            "scenario": self.scenario.name,
            "answer": self.answer,
            "binding_target": self.binding_target,
            "analytic_estimate": self.analytic_estimate,
            "lower_bound": self.lower_bound,
            "pools": list(self.desks),
            "horizon": {"days": self.horizon_days, "warmup_days": self.warmup_days},
            "replications": self.replications,
            "seed": self.seed,
            "keeps_up": chosen.keeps.to_dict() if chosen and chosen.keeps else None,
            "unreachable_targets": self.unreachable,
            "explanation": self.explanation,
            "curve": [c.row() for c in curve],
        }


# -- staffings and their analytic bounds ---------------------------------------------------


def sizable_pools(sc: Scenario) -> list[str]:
    """Pools that :func:`size` can size: every desk group, the dedicated back office
    (when the scenario has one) and the postal agents (when it has them)."""
    names = [d.name for d in sc.staff.desks]
    if sc.staff.back_office > 0:
        names.append(BACK_OFFICE)
    if sc.staff.postal_agents > 0:
        names.append(POSTAL_AGENTS)
    return names


def default_pools(sc: Scenario) -> list[str]:
    """What ``pasc size`` sizes by default: the desk groups and the dedicated back office."""
    return [p for p in sizable_pools(sc) if p != POSTAL_AGENTS]


def staff_of(sc: Scenario) -> Staffing:
    """Every pool's staff count in ``sc``."""
    out = {d.name: d.count for d in sc.staff.desks}
    if sc.staff.back_office > 0:
        out[BACK_OFFICE] = sc.staff.back_office
    if sc.staff.postal_agents > 0:
        out[POSTAL_AGENTS] = sc.staff.postal_agents
    return out


def with_staff(sc: Scenario, staff: Staffing) -> Scenario:
    """A copy of ``sc`` with the pools of ``staff`` set to those counts (flat: a pool's
    schedule, if it had one, is dropped; ``pasc size --by-hour`` sizes schedules)."""
    out = sc.model_copy(deep=True)
    for desk in out.staff.desks:
        if desk.name in staff:
            desk.count = staff[desk.name]
            desk.schedule = None  # a flat count: all of them whenever open
    if BACK_OFFICE in staff:
        out.staff.back_office = staff[BACK_OFFICE]
        out.staff.back_office_schedule = None
    if POSTAL_AGENTS in staff:
        out.staff.postal_agents = staff[POSTAL_AGENTS]
    return out


def _max_utilization(sc: Scenario, pool: str) -> float:
    """The pool's own utilization target (``utilization.<pool>: {max: ...}``), else 1."""
    caps = [t.max for t in sc.targets if t.kpi == f"utilization.{pool}" and t.max is not None]
    return min(caps) if caps else 1.0


def _center_utilization_cap(sc: Scenario) -> float:
    """The center-wide ``utilization`` target (all pools but the postal agents), else 1."""
    caps = [t.max for t in sc.targets if t.kpi == "utilization" and t.max is not None]
    return min(caps) if caps else 1.0


def staffing_floor(sc: Scenario, pools: list[str]) -> Staffing:
    """Per pool, the fewest staff for the work only it can do (its own fields, under its
    own utilization target), at least 1: no staffing below this can keep up."""
    own = pool_loads(sc, shared_fields=False)
    return {d: lower_bound(sc, d, own[d]) for d in pools}


def starting_staffing(sc: Scenario, floor: Staffing, fixed: Staffing) -> Staffing:
    """From ``floor``, add staff where the load ratio is highest until every pool is
    below capacity and under its utilization targets (per pool and center-wide).
    Without shared fields or a center-wide target this is the floor itself."""
    staff = dict(floor)
    center_cap = _center_utilization_cap(sc)
    for _ in range(10_000):
        loads = pool_loads(with_staff(sc, {**fixed, **staff}))
        short = [
            d
            for d in staff
            if not loads[d].keeps_up or loads[d].expected_utilization > _max_utilization(sc, d)
        ]
        center = [pl for name, pl in loads.items() if name != POSTAL_AGENTS]
        busy = sum(pl.expected_utilization * pl.staff for pl in center)
        total = sum(pl.staff for pl in center)
        if not short and (center_cap >= 1 or busy <= center_cap * total + 1e-9):
            return staff
        pick = short or [d for d in staff if d != POSTAL_AGENTS] or list(staff)
        d = max(pick, key=lambda name: (loads[name].load_ratio, name))
        staff[d] += 1
    raise ValueError("no staffing keeps up: the work-load accounting did not converge")


def lower_bound(sc: Scenario, pool: str, load: PoolLoad) -> int:
    """Fewest staff whose capacity exceeds the pool's work (and keeps its utilization
    under a utilization target), rounded up: 4.66 staff of work is 5, never 4."""
    return load.min_staff(_max_utilization(sc, pool))


def analytic_estimate(sc: Scenario, pool: str, load: PoolLoad) -> int:
    """Erlang C at the peak hour for the walk-in wait targets, plus the back-office and
    postal work, over the pool's availability; never below the lower bound."""
    lb = lower_bound(sc, pool, load)
    lam, s = load.walk_in_per_minute * _peak_factor(sc), load.mean_intake_minutes
    other = load.back_office_erlangs + load.postal_erlangs
    if lam <= 0 or s <= 0:
        return max(lb, math.ceil(other / load.availability - 1e-9))
    wait_counts = []
    for t in sc.targets:
        if t.max is not None and t.kpi in WAIT_QUANTILES:
            q = WAIT_QUANTILES[t.kpi]
            wait_counts.append(analytic.min_servers_for_wait_quantile(lam, s, q, t.max))
        elif t.max is not None and t.kpi == "wait_minutes.mean":
            wait_counts.append(analytic.min_servers_for_wait(lam, s, t.max))
    if not wait_counts:
        wait_counts = [analytic.min_servers_for_occupancy(lam, s, analytic.DEFAULT_MAX_OCCUPANCY)]
    return max(lb, math.ceil((max(wait_counts) + other) / load.availability - 1e-9))


def _peak_factor(sc: Scenario) -> float:
    """Walk-in rate in the busiest open hour / the mean rate over open hours."""
    if sc.calendar.type == "continuous" and sc.demand.hourly_profile is None:
        return 1.0
    weights = sc.profile_weights()
    hour_minutes: dict[int, int] = {}
    for a, b in sc.calendar.open_spans_minutes():
        for m in range(a, b):
            hour_minutes[m // 60] = hour_minutes.get(m // 60, 0) + 1
    open_minutes = sum(hour_minutes.values())
    mass = {h: weights.get(h, 0.0) * n for h, n in hour_minutes.items()}
    total = sum(mass.values())
    return max((mass[h] / total) / (hour_minutes[h] / open_minutes) for h in mass if mass[h] > 0)


def sizing_scenario(sc: Scenario, horizon_days: int | None = None) -> Scenario:
    """``sc`` on its steady-state horizon (:func:`simulator.workload.steady_state_horizon`)."""
    out = sc.model_copy(deep=True)
    out.horizon = steady_state_horizon(sc, horizon_days)
    return out


def sizing_replications(sc: Scenario, judged: Scenario) -> int:
    """Full-look replications on the steady-state horizon: as many replication-days as the
    scenario's own run (``replications x days``), at least ``MIN_SIZING_REPLICATIONS``
    and never more than the scenario's replications."""
    days = sc.replications * sc.horizon.days
    n = math.ceil(days / judged.horizon.days)
    return max(min(MIN_SIZING_REPLICATIONS, sc.replications), min(sc.replications, n))


# -- the search --------------------------------------------------------------------------


class StaffingEvaluator:
    """Judges staffings with common random numbers, caching replications.

    ``sc`` is the scenario as judged (on its steady-state horizon, see
    :func:`sizing_scenario`). A staffing with a pool over capacity is rejected
    by the work-load accounting without simulating.
    """

    def __init__(
        self,
        sc: Scenario,
        seed: int,
        replications: int,
        max_replications: int,
        backend: Backend,
        progress: Callable[[Candidate], None] | None,
        screen: bool = True,
    ):
        self.sc, self.seed = sc, seed
        self.screen = screen
        self.replications, self.max_replications = replications, max_replications
        self.backend, self.progress = backend, progress
        self.outputs: dict[tuple, list[ReplicationOutput]] = {}
        self.candidates: dict[tuple, Candidate] = {}
        self.screened: dict[tuple, Candidate] = {}  # screen-only looks (see evaluate)

    def scenario_for(self, staff: Staffing) -> Scenario:
        return with_staff(self.sc, staff)

    def _judge(self, staff: Staffing, sc: Scenario) -> Candidate:
        outs = self.outputs.get(_key(staff), [])
        summary = summarize(kpi_frame(sc, outs))
        return self._candidate(staff, sc, summary, len(outs))

    def _candidate(
        self, staff: Staffing, sc: Scenario, summary: pd.DataFrame, replications: int
    ) -> Candidate:
        keeps = keeps_up(sc, summary)
        targets = target_table(sc.targets, summary)
        targets = pd.concat([targets, pd.DataFrame([keeps.target_row()])], ignore_index=True)
        return Candidate(dict(staff), replications, summary, targets, keeps.loads, keeps)

    def evaluate(self, staffs: list[Staffing], screen_only: bool = False) -> list[Candidate]:
        """Candidates for each staffing (new ones run together on the backend).

        A staffing with a pool over capacity is a ``fail`` at once (no
        replication). Replications of the others come in stages: the
        screening looks of ``SCREENING_REPLICATIONS`` first, then the full
        count, then doubling while a verdict is inconclusive (up to
        ``max_replications``). A candidate leaves at the first look where its
        interval misses a target: that ``fail`` is a valid 95 % verdict
        however few the replications. With ``screen_only`` the candidates stop
        after the screening looks, whatever their verdicts: a cheap test of a
        staffing that only matters if it clearly fails (a fail is final; other
        screen-only results are kept apart until a full evaluation).
        """
        seen = self.screened if screen_only else {}
        todo = [s for s in staffs if _key(s) not in self.candidates and _key(s) not in seen]
        todo = list({_key(s): s for s in todo}.values())
        scenarios = {_key(s): self.scenario_for(s) for s in todo}
        hopeless = [s for s in todo if overloaded(pool_loads(scenarios[_key(s)]).values())]
        for s in hopeless:
            cand = self._judge(s, scenarios[_key(s)])
            self.candidates[_key(s)] = cand
            if self.progress is not None:
                self.progress(cand)
        todo = [s for s in todo if _key(s) not in self.candidates]
        stages = [r for r in SCREENING_REPLICATIONS if r < self.replications] if self.screen else []
        if not screen_only or not stages:
            stages.append(self.replications)
        stage = {_key(s): 0 for s in todo}
        reps = {_key(s): stages[0] for s in todo} if stages else {}
        pending = todo if stages else []
        while pending:
            jobs, owners = [], []
            for s in pending:
                k = _key(s)
                have = len(self.outputs.get(k, []))
                for i in range(have, reps[k]):
                    jobs.append((scenarios[k], self.seed, i))
                    owners.append(k)
            for k, out in zip(owners, run_jobs(jobs, self.backend), strict=True):
                self.outputs.setdefault(k, []).append(out)
            still = []
            for s in pending:
                k = _key(s)
                cand = self._judge(s, scenarios[k])
                undecided = (cand.targets["verdict"] == "inconclusive").any()
                failed = (cand.targets["verdict"] == "fail").any()
                if not failed and stage[k] + 1 < len(stages):
                    stage[k] += 1
                    reps[k] = stages[stage[k]]
                    still.append(s)
                elif (
                    undecided and not failed and not screen_only and reps[k] < self.max_replications
                ):
                    reps[k] = min(2 * reps[k], self.max_replications)
                    still.append(s)
                else:
                    # A fail is final even after a screen-only look.
                    final = failed or not screen_only
                    (self.candidates if final else self.screened)[k] = cand
                    if self.progress is not None and final:
                        self.progress(cand)
            pending = still
        return [self.candidates.get(_key(s)) or self.screened[_key(s)] for s in staffs]


def _key(staff: Staffing) -> tuple:
    return tuple(sorted(staff.items()))


def size(
    scenario: Scenario,
    *,
    desks: list[str] | None = None,
    max_staff: int | None = None,
    replications: int | None = None,
    max_replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: Callable[[Candidate], None] | None = None,
    horizon_days: int | None = None,
    backend: BackendChoice = None,
    scheduler: str | None = None,
) -> SizingResult:
    """The smallest staffing of the pools ``desks`` (default: every desk group and the
    dedicated back office) that keeps up and meets every target in the steady state.

    ``max_staff`` caps the total of the sized pools (default: lower bound + 20
    or twice it). Other pools stay as in the scenario. Candidates are judged
    on the steady-state horizon (``horizon_days`` overrides its measured
    days) with ``replications`` per full look (default:
    :func:`sizing_replications`). Returns the answer (``None`` when
    unreachable), the binding constraint and every judged candidate.
    ``workers`` / ``backend`` / ``scheduler`` say where replications run
    (:func:`simulator.runner.open_backend`); one backend serves every candidate.
    """
    names = sizable_pools(scenario)
    sized = list(dict.fromkeys(desks)) if desks else default_pools(scenario)
    unknown = [d for d in sized if d not in names]
    if unknown:
        raise ValueError(f"expected pool names among {', '.join(names)}, found {unknown}")
    if not scenario.targets:
        raise ValueError("the scenario has no targets to size against (add a targets: list)")
    sc = sizing_scenario(scenario, horizon_days)
    fixed = {k: v for k, v in staff_of(sc).items() if k not in sized}
    floor = staffing_floor(sc, sized)
    lb = starting_staffing(sc, floor, fixed)
    loads = pool_loads(with_staff(sc, {**fixed, **lb}))
    estimate = {d: analytic_estimate(sc, d, loads[d]) for d in sized}
    limit = max_staff if max_staff is not None else max(2 * sum(lb.values()), sum(lb.values()) + 20)
    if limit < sum(lb.values()):
        raise ValueError(
            f"--max-staff {limit} is below the lower bound {sum(lb.values())} "
            f"(the work arriving needs at least that many staff: {_fmt_staff(lb)})"
        )
    reps = replications or sizing_replications(scenario, sc)
    max_reps = max_replications or max(4 * reps, reps)
    seed = scenario.seed if seed is None else seed

    def full(staff: Staffing) -> Staffing:
        return {**fixed, **staff}

    def result(answer: Staffing | None, binding: str | None, why: str, failing=()) -> SizingResult:
        return SizingResult(
            scenario,
            sized,
            answer,
            binding,
            list(ev.candidates.values()),
            lb,
            estimate,
            unreachable=list(failing),
            explanation=why,
            horizon_days=sc.horizon.days,
            warmup_days=sc.horizon.warmup_days,
            replications=reps,
            seed=seed,
        )

    with open_backend(backend, workers=workers, scheduler=scheduler) as runner:
        ev = StaffingEvaluator(sc, seed, reps, max_reps, runner, progress)
        stuck = [pl for pl in overloaded(loads.values()) if pl.pool not in sized]
        if stuck:
            return result(
                None,
                None,
                "No staffing of "
                + ", ".join(sized)
                + " keeps up: "
                + "; ".join(pl.describe() for pl in stuck)
                + f", which is not sized here (add --pool {stuck[0].pool}).",
                [KEEPS_UP],
            )
        start = ev.evaluate([full(lb)])[0]
        if not start.passes:
            # Reachability: a target still failing at the ceiling means no answer.
            # Only a clear failure matters here, so a screening look is enough.
            ceiling = _spread(lb, loads, limit)
            top = ev.evaluate([full(ceiling)], screen_only=True)[0]
            if not top.passes and not (top.targets["verdict"] == "fail").any():
                top = ev.evaluate([full(ceiling)])[0]  # undecided at a glance: the full look
            if not top.passes:
                failing = top.not_passing()
                return result(
                    None,
                    None,
                    f"No staffing up to {limit} staff on {', '.join(sized)} meets every "
                    f"target: {', '.join(top.constraint_text(k, True) for k in failing)} still "
                    f"{'fails' if len(failing) == 1 else 'fail'} at {_fmt_staff(ceiling)}.",
                    failing,
                )
        current = lb
        cand = start
        while not cand.passes:
            if sum(current.values()) >= limit:
                break
            trials = [{**current, d: current[d] + 1} for d in sized]
            cands = ev.evaluate([full(t) for t in trials])
            best = min(
                range(len(trials)), key=lambda i: (not cands[i].passes, cands[i].shortfall(), i)
            )
            current, cand = trials[best], cands[best]
        if not cand.passes:
            failing = cand.not_passing()
            return result(
                None,
                None,
                f"The greedy search reached {limit} staff without meeting "
                f"{', '.join(cand.constraint_text(k) for k in failing)}.",
                failing,
            )
        binding: dict[str, int] = {}
        texts: dict[str, str] = {}
        while True:
            trials = [{**current, d: current[d] - 1} for d in sized if current[d] > floor[d]]
            if not trials:
                break
            cands = ev.evaluate([full(t) for t in trials])
            for c in cands:
                for kpi in c.not_passing():
                    binding[kpi] = binding.get(kpi, 0) + 1
                    texts.setdefault(kpi, c.constraint_text(kpi))
            passing = [i for i, c in enumerate(cands) if c.passes]
            if not passing:
                break
            best = max(passing, key=lambda i: min(cands[i].slack(k) for k in cands[i].targets.kpi))
            current, cand = trials[best], cands[best]
            binding.clear()
            texts.clear()
        if binding:
            bind = max(binding, key=lambda k: (binding[k], -cand.slack(k)))
            why = f"removing any one staff member makes {texts[bind]} fail"
        else:  # every pool at its floor: say what one fewer would break, pool by pool
            bind, reasons = _floor_reasons(sc, current, full)
            why = "one staff member fewer in any pool is not possible: " + "; ".join(reasons)
        return result(
            dict(current),
            bind,
            f"{sum(current.values())} staff ({_fmt_staff(current)}): {why}.",
        )


def _floor_reasons(sc: Scenario, current: Staffing, full) -> tuple[str, list[str]]:
    """Why no pool of ``current`` (all at their floor) can lose a staff member, and the
    binding constraint: ``keeps_up`` when a pool would be over capacity."""
    reasons, over = [], False
    for d, n in current.items():
        if n <= 1:
            reasons.append(f"{d} has 1, the fewest a pool can have")
            continue
        pl = pool_loads(with_staff(sc, full({**current, d: n - 1})))[d]
        if not pl.keeps_up:
            over = True
            reasons.append(f"{pl.describe()} with one fewer")
        else:
            cap = _max_utilization(sc, d)
            reasons.append(
                f"{d} would be {pl.expected_utilization:.0%} busy with one fewer, above its "
                f"utilization target {cap:.0%}"
            )
    if over:
        return KEEPS_UP, reasons
    caps = [t.kpi for t in sc.targets if t.kpi.startswith("utilization")]
    return (caps[0] if caps else KEEPS_UP), reasons


def _spread(lb: Staffing, loads: dict[str, PoolLoad], total: int) -> Staffing:
    """``total`` staff over the sized pools: the lower bounds plus the rest by work."""
    out = dict(lb)
    spare = total - sum(lb.values())
    weights = {d: max(loads[d].work_erlangs, 1e-6) for d in lb}
    norm = sum(weights.values())
    shares = {d: spare * w / norm for d, w in weights.items()}
    for d in out:
        out[d] += math.floor(shares[d])
    rest = total - sum(out.values())
    for d in sorted(shares, key=lambda d: shares[d] - math.floor(shares[d]), reverse=True)[:rest]:
        out[d] += 1
    return out


def _fmt_staff(staff: Staffing) -> str:
    return ", ".join(f"{k} {v}" for k, v in staff.items())
