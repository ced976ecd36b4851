"""Three-valued verdicts of targets against confidence intervals.

A target is met (``pass``) when the whole confidence interval of the KPI's
mean meets the threshold, missed (``fail``) when the whole interval misses it,
and ``inconclusive`` otherwise: more replications would be needed to say.
A planner should never read a point estimate that sits 0.1 minute under the
target as "met".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from simulator.display import json_number
from simulator.scenario import Scenario, Target
from simulator.workload import PoolLoad, growth_window_settled, overloaded, pool_loads

Verdict = Literal["pass", "fail", "inconclusive"]
VERDICTS: tuple[Verdict, ...] = ("pass", "fail", "inconclusive")
#: What a verdict says when a run has a single replication (no interval exists).
ONE_REPLICATION_NOTE = (
    "one replication: no confidence interval can be computed, so no target can be "
    "judged; run at least 2 replications (-r 2)"
)


def shown_verdict(verdict: str, replications: int) -> str:
    """A verdict as printed: with one replication, ``needs >= 2 replications``."""
    return "needs ≥ 2 replications" if replications < 2 else verdict


def verdict(op: str, threshold: float, ci_low: float, ci_high: float) -> Verdict:
    """``op`` is ``<=`` (a maximum) or ``>=`` (a minimum)."""
    if math.isnan(ci_low) or math.isnan(ci_high):
        return "inconclusive"
    if op == "<=":
        if ci_high <= threshold:
            return "pass"
        return "fail" if ci_low > threshold else "inconclusive"
    if ci_low >= threshold:
        return "pass"
    return "fail" if ci_high < threshold else "inconclusive"


VERDICT_RANK = {"pass": 0, "inconclusive": 1, "fail": 2}


def hour_verdicts(target: Target, summary: pd.DataFrame) -> pd.DataFrame:
    """A ``per: hour`` target hour by hour: hour, mean, ci_low, ci_high, verdict, for
    every hour with walk-ins measured (the KPIs ``<kpi>@HH``)."""
    prefix = f"{target.kpi}@"
    rows = []
    for r in summary.itertuples():
        hour_text = r.kpi[len(prefix) :] if isinstance(r.kpi, str) else ""
        if r.kpi.startswith(prefix) and hour_text.isdigit():  # not a group's (``@08/land``)
            low, high = float(r.ci_low), float(r.ci_high)
            rows.append(
                {
                    "hour": int(hour_text),
                    "mean": float(r.mean),
                    "ci_low": low,
                    "ci_high": high,
                    "verdict": verdict(target.op, target.threshold, low, high),
                }
            )
    return pd.DataFrame(rows, columns=["hour", "mean", "ci_low", "ci_high", "verdict"])


def target_table(targets: list[Target], summary: pd.DataFrame) -> pd.DataFrame:
    """One row per target: kpi, op, threshold, mean, ci_low, ci_high, verdict, per, hour.

    A ``per: hour`` target holds only if it holds in every hour: its row is the
    worst hour's (a fail before an inconclusive, then the mean furthest on the
    wrong side of the threshold), and ``hour`` names it."""
    by_kpi = summary.set_index("kpi")
    rows = []
    for t in targets:
        hour = None
        if t.per == "hour":
            hours = hour_verdicts(t, summary)
            if hours.empty:
                mean = low = high = math.nan
            else:
                sign = 1 if t.op == "<=" else -1
                worst = max(
                    hours.itertuples(),
                    key=lambda h: (VERDICT_RANK[h.verdict], sign * h.mean),
                )
                mean, low, high, hour = worst.mean, worst.ci_low, worst.ci_high, worst.hour
        elif t.kpi in by_kpi.index:
            s = by_kpi.loc[t.kpi]
            mean, low, high = float(s["mean"]), float(s["ci_low"]), float(s["ci_high"])
        else:
            mean = low = high = math.nan
        rows.append(
            {
                "kpi": t.kpi,
                "op": t.op,
                "threshold": t.threshold,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "verdict": verdict(t.op, t.threshold, low, high),
                "per": t.per,
                "hour": hour,
            }
        )
    columns = ["kpi", "op", "threshold", "mean", "ci_low", "ci_high", "verdict", "per", "hour"]
    table = pd.DataFrame(rows, columns=columns)
    table["hour"] = table["hour"].astype("Int64")  # empty for whole-run targets
    return table


def overall_verdict(verdicts: list[str]) -> Verdict:
    """``fail`` if any target fails, else ``inconclusive`` if any is, else ``pass``."""
    if "fail" in verdicts:
        return "fail"
    return "inconclusive" if "inconclusive" in verdicts else "pass"


# -- does the center keep up? ------------------------------------------------------------

#: The KPI the keeps-up verdict reads, and the name of its row in target tables.
GROWTH_KPI = "backlog_growth_per_day"
KEEPS_UP = "keeps_up"


def growth_tolerance(sc: Scenario) -> float:
    """Backlog growth that still counts as keeping up: one day's filings over a working
    year (records per day / working days per year), e.g. 0.24 records a day at 60 a day."""
    return sc.demand.records_per_day / sc.calendar.days_per_year


@dataclass(frozen=True)
class KeepsUp:
    """Does the center keep up with its work, or does the backlog grow?

    ``fail`` when a staff pool's work reaches its capacity (the work-load
    accounting of :mod:`simulator.workload`: no horizon can hide that), or
    when the whole interval of ``backlog_growth_per_day`` lies above the
    tolerance (:func:`growth_tolerance`) on days after the settling time (on
    a horizon too short for that, the center may still be filling up, so
    growth alone gives at most ``inconclusive``); ``pass`` when every pool is below
    capacity and the whole interval lies at or below the tolerance;
    ``inconclusive`` otherwise (more replications or a longer horizon would
    tell).
    """

    verdict: Verdict
    growth_mean: float
    growth_low: float
    growth_high: float
    tolerance: float
    loads: dict[str, PoolLoad]
    utilization: dict[str, float]  # measured, per pool

    @property
    def overloaded(self) -> list[PoolLoad]:
        return overloaded(self.loads.values())

    def reason(self) -> str:
        """One line: why the verdict is what it is."""
        if self.overloaded:
            return "over capacity: " + "; ".join(pl.describe() for pl in self.overloaded)
        if math.isnan(self.growth_mean):
            growth = "backlog growth not measured"
        else:
            growth = (
                f"backlog {'grows' if self.growth_mean > 0 else 'changes'} by "
                f"{self.growth_mean:.2f} records a day"
            )
        if not math.isnan(self.growth_low):
            growth += f" ({self.growth_low:.2f} to {self.growth_high:.2f})"
        growth += f", tolerance {self.tolerance:.2f}"
        busiest = max(self.utilization.items(), key=lambda kv: kv[1], default=None)
        if busiest is not None and not math.isnan(busiest[1]):
            growth += f"; busiest pool {busiest[0]} {busiest[1]:.0%} busy"
        return growth

    def binding_text(self) -> str:
        """``keeps up: business-land 100 % busy``, for a sizing answer's binding constraint."""
        if self.overloaded:
            pl = max(self.overloaded, key=lambda p: p.load_ratio)
            return f"keeps up: {pl.pool} {pl.load_ratio:.0%} of capacity"
        busiest = max(self.utilization.items(), key=lambda kv: kv[1], default=None)
        if busiest is None or math.isnan(busiest[1]):
            return KEEPS_UP
        return f"keeps up: {busiest[0]} {busiest[1]:.0%} busy"

    def target_row(self) -> dict[str, Any]:
        """The verdict as a row of a target table (kpi ``keeps_up``)."""
        return {
            "kpi": KEEPS_UP,
            "op": "<=",
            "threshold": self.tolerance,
            "mean": self.growth_mean,
            "ci_low": self.growth_low,
            "ci_high": self.growth_high,
            "verdict": self.verdict,
        }

    def to_dict(self) -> dict[str, Any]:
        num = json_number

        return {
            "verdict": self.verdict,
            "reason": self.reason(),
            GROWTH_KPI: {
                "mean": num(self.growth_mean),
                "ci_low": num(self.growth_low),
                "ci_high": num(self.growth_high),
            },
            "tolerance": self.tolerance,
            "pools": {
                name: {**pl.to_dict(), "utilization": num(self.utilization.get(name, math.nan))}
                for name, pl in self.loads.items()
            },
        }


def keeps_up(sc: Scenario, summary: pd.DataFrame) -> KeepsUp:
    """The keeps-up verdict of a run of ``sc`` from its KPI summary."""
    by_kpi = summary.set_index("kpi")
    loads = pool_loads(sc)

    def kpi(name: str) -> tuple[float, float, float]:
        if name not in by_kpi.index:
            return math.nan, math.nan, math.nan
        row = by_kpi.loc[name]
        return float(row["mean"]), float(row["ci_low"]), float(row["ci_high"])

    mean, low, high = kpi(GROWTH_KPI)
    tol = growth_tolerance(sc)
    if overloaded(loads.values()):
        v: Verdict = "fail"
    else:
        v = verdict("<=", tol, low, high)
        if v == "fail" and not growth_window_settled(sc):
            v = "inconclusive"  # the center may still be filling up: no proof of growth
    return KeepsUp(
        v, mean, low, high, tol, loads, {name: kpi(f"utilization.{name}")[0] for name in loads}
    )
