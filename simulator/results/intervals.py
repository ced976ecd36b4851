"""Confidence intervals across independent replications.

Replications are independent and identically distributed by construction
(independent random streams, same scenario), so the across-replication mean of
a KPI has the Student-t interval ``mean ± t(0.975, n-1) · s / √n``. That is an
interval for the *expected* value of the KPI over a horizon of this length; a
*prediction* interval for one more replication (what a single real month could
look like) is wider by a factor √(1 + n), see :func:`t_prediction_interval`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

CONFIDENCE = 0.95


def t_quantile(probability: float | np.ndarray, df: float | np.ndarray) -> float | np.ndarray:
    """Student's t quantile: ``t_quantile(0.975, n - 1)`` is the factor of a 95 % interval.

    The same numbers as ``scipy.stats.t.ppf`` (which calls this very function,
    ``scipy.special.stdtrit``), without importing ``scipy.stats``: that import
    alone costs most of a second, more than a small run's simulation.
    """
    from scipy.special import stdtrit

    return stdtrit(df, probability)


def t_interval(
    values: np.ndarray | list[float], confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """``(mean, low, high)`` of the mean; NaN values (KPI undefined in a replication,
    e.g. no walk-in at all) are left out. Fewer than two values give NaN bounds."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = float(t_quantile(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def t_prediction_interval(
    values: np.ndarray | list[float], confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """``(mean, low, high)`` for one future replication (what one real period may show)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 2:
        return (float(x.mean()) if n else math.nan), math.nan, math.nan
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    half = float(t_quantile(0.5 + confidence / 2, n - 1)) * sd * math.sqrt(1 + 1 / n)
    return mean, mean - half, mean + half


def summarize(kpis: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per KPI: ``kpi, mean, ci_low, ci_high, sd, n`` from per-replication rows."""
    rows = []
    for name in kpis.columns:
        if name == "replication":
            continue
        col = kpis[name].to_numpy(dtype=float)
        mean, low, high = t_interval(col, confidence)
        valid = col[~np.isnan(col)]
        rows.append(
            {
                "kpi": name,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "sd": float(valid.std(ddof=1)) if valid.size > 1 else math.nan,
                "n": int(valid.size),
            }
        )
    return pd.DataFrame(rows, columns=["kpi", "mean", "ci_low", "ci_high", "sd", "n"])
