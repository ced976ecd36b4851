"""Small scenario builders shared by the model, runner and sizing tests."""

from __future__ import annotations

from typing import Any

from simulator.scenario import Scenario, deep_merge, load_scenario
from simulator.scenario.examples import mmc_scenario


def mmc_dict(
    servers: int,
    rho: float,
    mean_service: float = 10.0,
    days: int = 60,
    warmup_days: int = 3,
    **overrides: Any,
) -> dict[str, Any]:
    """An M/M/c queue as a continuous-calendar scenario (see simulator.scenario.examples)."""
    return mmc_scenario(servers, rho, mean_service, days, warmup_days, **overrides)


def assert_conserved(kpis) -> None:
    """Every record filed is completed, rejected, in progress or abandoned."""
    total = (
        kpis["records_completed"]
        + kpis["records_rejected"]
        + kpis["records_in_progress"]
        + kpis["records_abandoned"]
    )
    assert (kpis["records_filed"] == total).all(), "records are not conserved"


def mmc(servers: int, rho: float, mean_service: float = 10.0, **kw: Any) -> Scenario:
    return load_scenario(mmc_dict(servers, rho, mean_service, **kw))


def busy_office_dict(**overrides: Any) -> dict[str, Any]:
    """An office-calendar center using every feature of the engine: three channels,
    priority citizens, rejects, back-office processing done by desk staff, two
    desk groups with an overlapping field, a postal agent, warm-up."""
    data = {
        "name": "busy-office",
        "horizon": {"days": 10, "warmup_days": 2},
        "calendar": {"type": "office", "same_day_cutoff": "15:00"},
        "commune": {"class": "rural"},
        "demand": {
            "records_per_day": 90,
            "channels": {"walk_in": 0.6, "online": 0.3, "postal": 0.1},
            "priority_share": 0.2,
        },
        "procedures": [
            {
                "id": "birth",
                "field": "civil-status",
                "share": 0.4,
                "intake_minutes": {"dist": "lognormal", "mean": 10, "sd": 4},
                "reject_share": 0.05,
            },
            {
                "id": "copy",
                "field": "certification",
                "share": 0.3,
                "intake_minutes": {"dist": "gamma", "mean": 6, "cv": 0.5},
                "processing_minutes": {"dist": "fixed", "value": 5},
                "deadline_working_days": 1,
                "reject_share": 0.02,
            },
            {
                "id": "land",
                "field": "land",
                "share": 0.3,
                "intake_minutes": {"dist": "triangular", "min": 10, "mode": 15, "max": 30},
                "processing_minutes": {"dist": "exponential", "mean": 60},
                "deadline_working_days": 5,
                "reject_share": 0.1,
            },
        ],
        "staff": {
            "desks": [
                {"name": "one-stop", "count": 2, "fields": ["civil-status", "certification"]},
                {"name": "land", "count": 2, "fields": ["land", "certification"]},
            ],
            "postal_agents": 1,
        },
        "targets": [{"kpi": "wait_minutes.p90", "max": 15}],
    }
    return deep_merge(data, overrides)


def busy_office(**overrides: Any) -> Scenario:
    return load_scenario(busy_office_dict(**overrides))
