"""Does the model reproduce what was reported? ``pasc check``.

A scenario may declare the figures its sources report (``calibration:``).
Each is compared with the simulation's 95 % *prediction* interval: the range
in which one more replication (one more real week, month or year like the
reported one) would fall with 95 % probability, ``mean ± t · s · √(1 + 1/n)``.
With 40 replications or more the range is the empirical 2.5 % - 97.5 %
quantiles of the replications (no normality assumed: counts of a few records
are skewed); with fewer it is the t-based interval, cut at zero since every
KPI is non-negative. A report inside the range is consistent with the model;
one outside means an assumption is off (or the report counts something else)
and the scenario's comment should say which.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulator.results import kpi_frame, t_prediction_interval
from simulator.runner import BackendChoice, run_replications
from simulator.scenario import Scenario

EMPIRICAL_FROM = 40


def prediction_range(values: np.ndarray) -> tuple[float, float, float]:
    """(mean, low, high) of the 95 % range for one more replication."""
    if values.size == 0:
        return math.nan, math.nan, math.nan
    if values.size >= EMPIRICAL_FROM:
        low, high = np.quantile(values, [0.025, 0.975])
        return float(values.mean()), float(low), float(high)
    mean, low, high = t_prediction_interval(values)
    if math.isnan(low):  # one replication: no spread to speak of
        return mean, mean, mean
    return mean, max(0.0, low), high


def check_calibration(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    *,
    workers: int = 1,
    backend: BackendChoice = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """One row per declared figure: kpi, reported, source, mean, pi_low, pi_high, inside.
    ``workers`` / ``backend`` / ``scheduler`` say where replications run, as in
    :func:`simulator.run` (the numbers do not depend on them)."""
    reps = replications or scenario.replications
    seed = scenario.seed if seed is None else seed
    outputs = run_replications(
        scenario, reps, seed, workers=workers, backend=backend, scheduler=scheduler
    )
    kpis = kpi_frame(scenario, outputs)
    rows = []
    for item in scenario.calibration:
        values = kpis[item.kpi].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        mean, low, high = prediction_range(values)
        inside = bool(low - 1e-9 <= item.reported <= high + 1e-9)
        rows.append(
            {
                "kpi": item.kpi,
                "reported": item.reported,
                "source": item.source,
                "mean": mean,
                "pi_low": low,
                "pi_high": high,
                "inside": inside,
                "note": item.note,
            }
        )
    columns = ["kpi", "reported", "source", "mean", "pi_low", "pi_high", "inside", "note"]
    return pd.DataFrame(rows, columns=columns)
