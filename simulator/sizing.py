"""How many staff does this commune need? The smallest staffing meeting every target.

The search simulates candidate staffings with common random numbers (the same
seed, so every candidate sees the same citizens) and judges each with the
same three-valued verdicts as ``pasc run``:

1. **Bounds.** Queueing theory gives a lower bound (the desk cannot do less
   work than arrives: staff >= offered load) and an *analytic estimate*
   (Erlang C at the peak hour plus the back-office load), shown beside the
   simulated answer.
2. **Reachability.** If the targets fail even at ``max_staff``, no staffing
   meets them (a handle-time target that the procedure itself exceeds, say):
   the answer is ``None`` and the failing targets are named.
3. **Greedy marginal allocation.** From the lower bound, add one staff member
   at a time where it reduces the failing targets' shortfall most, until all
   verdicts pass. With one desk group this is a plain upward search.
4. **Trim.** Remove one staff member from any group where the targets still
   pass without them; what fails on removal is the *binding* target.

Every candidate is first screened with 3, then 5 replications: one whose
interval already misses a target is a valid ``fail`` and costs no more. The
others get the full count. An ``inconclusive`` verdict (the interval straddles
the threshold) is never guessed: the candidate gets more replications
(doubling, up to ``max_replications``); if still inconclusive it counts as not
passing. Each look is a 95 % verdict, so a staffing whose mean truly meets a
target can be failed at one of the looks with a small probability (about
2.5 % per look that could fail it); that only ever makes the answer larger.
The reachability check at ``max_staff`` takes the full count only when the
screening looks neither pass nor clearly fail it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from simulator import analytic
from simulator.model import ReplicationOutput
from simulator.results import kpi_frame, summarize, target_table
from simulator.runner import ReplicationPool
from simulator.scenario import Scenario
from simulator.scenario.models import CHANNELS

Staffing = dict[str, int]
#: Replications of the first looks at each candidate (see StaffingEvaluator.evaluate).
SCREENING_REPLICATIONS = (3, 5)
WAIT_QUANTILES = {"wait_minutes.p50": 0.5, "wait_minutes.p90": 0.9, "wait_minutes.p95": 0.95}


@dataclass
class Candidate:
    """One simulated staffing: its KPIs (mean, interval) and target verdicts."""

    staff: Staffing
    replications: int
    summary: pd.DataFrame
    targets: pd.DataFrame

    @property
    def total(self) -> int:
        return sum(self.staff.values())

    @property
    def passes(self) -> bool:
        return bool((self.targets["verdict"] == "pass").all())

    def not_passing(self) -> list[str]:
        return self.targets.loc[self.targets["verdict"] != "pass", "kpi"].tolist()

    def shortfall(self) -> float:
        """Sum of relative distances of the mean to the threshold, over targets not passing
        (an inconclusive target whose mean already meets it counts a little)."""
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
        return gap / scale

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
        }


def _num(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


@dataclass
class SizingResult:
    """The answer of :func:`size` and the staffing curve behind it."""

    scenario: Scenario
    desks: list[str]
    answer: Staffing | None
    binding_target: str | None
    curve: list[Candidate]
    lower_bound: Staffing
    analytic_estimate: Staffing
    unreachable: list[str] = field(default_factory=list)
    explanation: str = ""

    @property
    def answer_total(self) -> int | None:
        return None if self.answer is None else sum(self.answer.values())

    @property
    def chosen(self) -> Candidate | None:
        if self.answer is None:
            return None
        return next(c for c in self.curve if all(c.staff[d] == n for d, n in self.answer.items()))

    def curve_frame(self) -> pd.DataFrame:
        """One row per candidate: staff per desk, each target's mean/interval/verdict."""
        rows = []
        for c in sorted(self.curve, key=lambda c: (c.total, tuple(c.staff.values()))):
            row: dict[str, Any] = {f"staff.{k}": v for k, v in c.staff.items()}
            row["staff_total"] = c.total
            row["replications"] = c.replications
            for t in c.targets.itertuples():
                row[f"{t.kpi}.mean"] = t.mean
                row[f"{t.kpi}.ci_low"] = t.ci_low
                row[f"{t.kpi}.ci_high"] = t.ci_high
                row[f"{t.kpi}.verdict"] = t.verdict
            row["all_pass"] = c.passes
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape of SPEC.md, plus bounds and explanation."""
        curve = sorted(self.curve, key=lambda c: (c.total, tuple(c.staff.values())))
        return {
            "scenario": self.scenario.name,
            "answer": self.answer,
            "binding_target": self.binding_target,
            "analytic_estimate": self.analytic_estimate,
            "lower_bound": self.lower_bound,
            "unreachable_targets": self.unreachable,
            "explanation": self.explanation,
            "curve": [c.row() for c in curve],
        }


# -- analytic side -----------------------------------------------------------------------


@dataclass(frozen=True)
class DeskLoad:
    """Work arriving at one desk group, in staff-minutes per open minute (Erlangs)."""

    walk_in_per_minute_mean: float  # over open hours
    walk_in_per_minute_peak: float  # in the busiest hour
    mean_intake_minutes: float
    back_office_erlangs: float

    @property
    def walk_in_erlangs(self) -> float:
        return self.walk_in_per_minute_mean * self.mean_intake_minutes

    @property
    def total_erlangs(self) -> float:
        return self.walk_in_erlangs + self.back_office_erlangs


def desk_loads(sc: Scenario) -> dict[str, DeskLoad]:
    """Offered load per desk group; a field covered by several groups is split evenly."""
    open_minutes = sc.calendar.open_minutes_per_day
    shares = sc.channel_shares()  # after the online fallback
    weights = sc.profile_weights()
    spans = sc.calendar.open_spans_minutes()
    hour_minutes: dict[int, int] = {}
    for a, b in spans:
        for m in range(a, b):
            hour_minutes[m // 60] = hour_minutes.get(m // 60, 0) + 1
    if sc.calendar.type == "continuous" and sc.demand.hourly_profile is None:
        peak_factor = 1.0
    else:
        mass = {h: weights.get(h, 0.0) * n for h, n in hour_minutes.items()}
        total_mass = sum(mass.values())
        peak_factor = max(
            (mass[h] / total_mass) / (hour_minutes[h] / open_minutes) for h in mass if mass[h] > 0
        )
    coverers = {
        p.id: [d.name for d in sc.staff.desks if p.field in d.fields] for p in sc.procedures
    }
    walk = {d.name: 0.0 for d in sc.staff.desks}
    walk_work = {d.name: 0.0 for d in sc.staff.desks}
    back = {d.name: 0.0 for d in sc.staff.desks}
    for p in sc.procedures:
        groups = coverers[p.id]
        processing = p.processing_minutes.mean if p.processing_minutes else 0.0
        keep = 1 - p.reject_share
        per_day = {ch: sc.demand.records_per_day * shares[ch] for ch in CHANNELS}
        allowed = {ch: p.channels is None or ch in p.channels for ch in CHANNELS}
        mix = {}
        for ch in CHANNELS:
            norm = sum(q.share for q in sc.procedures if q.channels is None or ch in q.channels)
            mix[ch] = p.share / norm if allowed[ch] and norm else 0.0
        walk_rate = per_day["walk_in"] * mix["walk_in"] / open_minutes
        bo_minutes_per_day = (
            per_day["walk_in"] * mix["walk_in"] * keep * processing
            + per_day["online"] * mix["online"] * (p.intake_minutes.mean + keep * processing)
            + per_day["postal"] * mix["postal"] * keep * processing
        )
        for g in groups:
            walk[g] += walk_rate / len(groups)
            walk_work[g] += walk_rate / len(groups) * p.intake_minutes.mean
            back[g] += bo_minutes_per_day / open_minutes / len(groups)
    dedicated = sc.staff.back_office > 0
    return {
        name: DeskLoad(
            walk_in_per_minute_mean=walk[name],
            walk_in_per_minute_peak=walk[name] * peak_factor,
            mean_intake_minutes=walk_work[name] / walk[name] if walk[name] else 0.0,
            back_office_erlangs=0.0 if dedicated else back[name],
        )
        for name in walk
    }


def _max_utilization(sc: Scenario, desk: str) -> float:
    caps = [
        t.max
        for t in sc.targets
        if t.kpi in ("utilization", f"utilization.{desk}") and t.max is not None
    ]
    return min(caps) if caps else 1.0


def lower_bound(sc: Scenario, desk: str, load: DeskLoad) -> int:
    """No fewer staff than the work arriving (offered load / max occupancy), at least 1."""
    return max(1, math.floor(load.total_erlangs / _max_utilization(sc, desk) + 1e-9))


def analytic_estimate(sc: Scenario, desk: str, load: DeskLoad) -> int:
    """Erlang C at the peak hour for the wait targets, plus the back-office load."""
    lam, s = load.walk_in_per_minute_peak, load.mean_intake_minutes
    back = math.ceil(load.back_office_erlangs - 1e-9)
    if lam <= 0 or s <= 0:
        return max(1, back)
    wait_counts = []
    for t in sc.targets:
        if t.max is not None and t.kpi in WAIT_QUANTILES:
            q = WAIT_QUANTILES[t.kpi]
            wait_counts.append(analytic.min_servers_for_wait_quantile(lam, s, q, t.max))
        elif t.max is not None and t.kpi == "wait_minutes.mean":
            wait_counts.append(analytic.min_servers_for_wait(lam, s, t.max))
    if not wait_counts:
        wait_counts = [analytic.min_servers_for_occupancy(lam, s, analytic.DEFAULT_MAX_OCCUPANCY)]
    return max(1, max(wait_counts) + back)


# -- the search --------------------------------------------------------------------------


class StaffingEvaluator:
    """Simulates staffings with common random numbers, caching replications."""

    def __init__(
        self,
        sc: Scenario,
        seed: int,
        replications: int,
        max_replications: int,
        pool: ReplicationPool,
        progress: Callable[[Candidate], None] | None,
        screen: bool = True,
    ):
        self.sc, self.seed = sc, seed
        self.screen = screen
        self.replications, self.max_replications = replications, max_replications
        self.pool, self.progress = pool, progress
        self.outputs: dict[tuple, list[ReplicationOutput]] = {}
        self.candidates: dict[tuple, Candidate] = {}
        self.screened: dict[tuple, Candidate] = {}  # screen-only looks (see evaluate)

    def scenario_for(self, staff: Staffing) -> Scenario:
        sc = self.sc.model_copy(deep=True)
        for desk in sc.staff.desks:
            if desk.name in staff:
                desk.count = staff[desk.name]
        return sc

    def _judge(self, staff: Staffing, sc: Scenario) -> Candidate:
        outs = self.outputs[_key(staff)]
        summary = summarize(kpi_frame(sc, outs))
        return Candidate(dict(staff), len(outs), summary, target_table(sc.targets, summary))

    def evaluate(self, staffs: list[Staffing], screen_only: bool = False) -> list[Candidate]:
        """Candidates for each staffing (new ones run together on the pool).

        Replications come in stages: the screening looks of
        ``SCREENING_REPLICATIONS`` first, then the full count, then doubling while
        a target is inconclusive (up to ``max_replications``). A candidate leaves
        at the first look where its interval misses a target: that ``fail`` is a
        valid 95 % verdict however few the replications. With ``screen_only`` the
        candidates stop after the screening looks, whatever their verdicts: a
        cheap test of a staffing that only matters if it clearly fails (a fail is
        final; other screen-only results are kept apart until a full evaluation).
        """
        seen = self.screened if screen_only else {}
        todo = [s for s in staffs if _key(s) not in self.candidates and _key(s) not in seen]
        todo = list({_key(s): s for s in todo}.values())
        scenarios = {_key(s): self.scenario_for(s) for s in todo}
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
            for k, out in zip(owners, self.pool.map(jobs), strict=True):
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
) -> SizingResult:
    """The smallest staffing of ``desks`` (default: every desk group) meeting every target.

    ``max_staff`` caps the total of the sized desks (default: lower bound + 20
    or twice it). Other desks, back-office staff and postal agents stay as in
    the scenario. Returns the answer (``None`` when unreachable), the binding
    target and every simulated candidate.
    """
    sc = scenario
    names = [d.name for d in sc.staff.desks]
    sized = list(desks) if desks else names
    unknown = [d for d in sized if d not in names]
    if unknown:
        raise ValueError(f"expected desk names among {', '.join(names)}, found {unknown}")
    if not sc.targets:
        raise ValueError("the scenario has no targets to size against (add a targets: list)")
    loads = desk_loads(sc)
    lb = {d: lower_bound(sc, d, loads[d]) for d in sized}
    estimate = {d: analytic_estimate(sc, d, loads[d]) for d in sized}
    limit = max_staff if max_staff is not None else max(2 * sum(lb.values()), sum(lb.values()) + 20)
    if limit < sum(lb.values()):
        raise ValueError(
            f"--max-staff {limit} is below the lower bound {sum(lb.values())} "
            f"(the work arriving needs at least that many staff)"
        )
    reps = replications or sc.replications
    max_reps = max_replications or max(4 * reps, reps)
    seed = sc.seed if seed is None else seed
    fixed = {d.name: d.count for d in sc.staff.desks if d.name not in sized}

    def full(staff: Staffing) -> Staffing:
        return {**fixed, **staff}

    def no_answer(failing: list[str], why: str) -> SizingResult:
        return SizingResult(
            sc,
            sized,
            None,
            None,
            list(ev.candidates.values()),
            lb,
            estimate,
            unreachable=failing,
            explanation=why,
        )

    with ReplicationPool(workers) as pool:
        ev = StaffingEvaluator(sc, seed, reps, max_reps, pool, progress)
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
                return no_answer(
                    failing,
                    f"No staffing up to {limit} staff on {', '.join(sized)} meets every "
                    f"target: {', '.join(failing)} still "
                    f"{'fails' if len(failing) == 1 else 'fail'} at {ceiling}.",
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
            return no_answer(
                failing,
                f"The greedy search reached {limit} staff without meeting {', '.join(failing)}.",
            )
        binding: dict[str, int] = {}
        while True:
            trials = [{**current, d: current[d] - 1} for d in sized if current[d] > lb[d]]
            if not trials:
                break
            cands = ev.evaluate([full(t) for t in trials])
            for c in cands:
                for kpi in c.not_passing():
                    binding[kpi] = binding.get(kpi, 0) + 1
            passing = [i for i, c in enumerate(cands) if c.passes]
            if not passing:
                break
            best = max(passing, key=lambda i: min(cands[i].slack(k) for k in cands[i].targets.kpi))
            current, cand = trials[best], cands[best]
            binding.clear()
        if binding:
            bind = max(binding, key=lambda k: (binding[k], -cand.slack(k)))
            why = f"removing any one staff member makes {bind} miss its target"
        else:
            bind = min(cand.targets.kpi, key=cand.slack)
            why = f"the lower bound already meets every target; {bind} has the least slack"
        return SizingResult(
            sc,
            sized,
            dict(current),
            bind,
            list(ev.candidates.values()),
            lb,
            estimate,
            explanation=f"{sum(current.values())} staff ({_fmt_staff(current)}): {why}.",
        )


def _spread(lb: Staffing, loads: dict[str, DeskLoad], total: int) -> Staffing:
    """``total`` staff over the sized desks: the lower bounds plus the rest by load."""
    out = dict(lb)
    spare = total - sum(lb.values())
    weights = {d: max(loads[d].total_erlangs, 1e-6) for d in lb}
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
