"""Three-valued verdicts of targets against confidence intervals.

A target is met (``pass``) when the whole confidence interval of the KPI's
mean meets the threshold, missed (``fail``) when the whole interval misses it,
and ``inconclusive`` otherwise: more replications would be needed to say.
A planner should never read a point estimate that sits 0.1 minute under the
target as "met".
"""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd

from simulator.scenario import Target

Verdict = Literal["pass", "fail", "inconclusive"]
VERDICTS: tuple[Verdict, ...] = ("pass", "fail", "inconclusive")


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


def target_table(targets: list[Target], summary: pd.DataFrame) -> pd.DataFrame:
    """One row per target: kpi, op, threshold, mean, ci_low, ci_high, verdict."""
    by_kpi = summary.set_index("kpi")
    rows = []
    for t in targets:
        if t.kpi in by_kpi.index:
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
            }
        )
    columns = ["kpi", "op", "threshold", "mean", "ci_low", "ci_high", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def overall_verdict(verdicts: list[str]) -> Verdict:
    """``fail`` if any target fails, else ``inconclusive`` if any is, else ``pass``."""
    if "fail" in verdicts:
        return "fail"
    return "inconclusive" if "inconclusive" in verdicts else "pass"
