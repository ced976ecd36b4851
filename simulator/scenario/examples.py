"""Scenarios built in code, for checks against queueing theory.

``mmc_scenario(4, 0.9)`` is an M/M/4 queue at utilization 0.9 written as a
pasc scenario: a continuous (24 h) calendar, Poisson walk-ins, one procedure
with exponential desk time, one desk group. Tests, benchmarks and notebooks
use it to compare the engine with Erlang C (:mod:`simulator.analytic`).
"""

from __future__ import annotations

from typing import Any

from simulator.scenario.loader import deep_merge


def mmc_scenario(
    servers: int,
    rho: float,
    mean_service: float = 10.0,
    days: int = 60,
    warmup_days: int = 3,
    **overrides: Any,
) -> dict[str, Any]:
    """An M/M/c queue with utilization ``rho`` as a scenario mapping (for
    :func:`simulator.load_scenario`); ``overrides`` are merged in (e.g.
    ``demand={"priority_share": 0.3}``)."""
    per_minute = rho * servers / mean_service
    data = {
        "name": "mmc",
        "horizon": {"days": days, "warmup_days": warmup_days},
        "calendar": {"type": "continuous"},
        "demand": {"records_per_day": per_minute * 1440},
        "procedures": [
            {
                "id": "p",
                "field": "f",
                "share": 1,
                "intake_minutes": {"dist": "exponential", "mean": mean_service},
            }
        ],
        "staff": {"desks": [{"name": "desk", "count": servers, "fields": ["f"]}]},
    }
    return deep_merge(data, overrides)
