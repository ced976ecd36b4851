"""Targets that must hold in every hour (``per: hour``)."""

from __future__ import annotations

from typing import Any

import pytest

import simulator
from simulator.results.verdicts import hour_verdicts
from simulator.scenario import load_scenario


def opening(per: str, first_hour_staff: int) -> dict[str, Any]:
    """60 walk-ins a day, evenly spread, at a desk of 3, except that only
    ``first_hour_staff`` are on duty from 07:30 to 08:00: over the day the wait is
    short, in that first half hour it may not be."""
    hours = {h: 3 for h in (8, 9, 10, 11, 13, 14, 15, 16)} | {7: first_hour_staff}
    return {
        "name": "opening",
        "horizon": {"days": 30, "warmup_days": 1},
        "demand": {"records_per_day": 60, "hourly_profile": "flat"},
        "procedures": [
            {
                "id": "cert",
                "field": "general",
                "share": 1.0,
                "intake_minutes": {"dist": "exponential", "mean": 12},
            }
        ],
        "staff": {"desks": [{"name": "desk", "count": {"by_hour": hours}, "fields": ["general"]}]},
        "targets": [{"kpi": "wait_minutes.p90", "max": 15, "per": per}],
    }


def test_an_understaffed_hour_fails_a_per_hour_target_that_the_whole_day_passes():
    # One officer for the first half hour: its citizens (1 in 15 of the day's)
    # wait about 18 minutes at the 90th percentile, the day's p90 is about 10.
    day = simulator.run(load_scenario(opening("run", 1)), 10, 1, records=False)
    hour = simulator.run(load_scenario(opening("hour", 1)), 10, 1, records=False)
    assert day.targets().iloc[0]["verdict"] == "pass"
    row = hour.targets().iloc[0]
    assert row["verdict"] == "fail" and row["hour"] == 7
    # The same citizens: the day's KPIs are identical, only the verdict reads by hour.
    assert day.kpis["wait_minutes.p90"].equals(hour.kpis["wait_minutes.p90"])
    by_hour = hour_verdicts(hour.scenario.targets[0], hour.summary()).set_index("hour")
    assert by_hour.loc[7, "ci_low"] > 15 > by_hour.loc[9, "ci_high"]
    assert set(by_hour.index) == {7, 8, 9, 10, 11, 13, 14, 15, 16}
    assert hour.to_dict()["targets"][0]["hour"] == 7


def test_staffing_the_first_hour_meets_the_per_hour_target():
    res = simulator.run(load_scenario(opening("hour", 3)), 10, 1, records=False)
    assert res.targets().iloc[0]["verdict"] == "pass"


def test_per_hour_needs_a_kpi_measured_by_hour():
    data = opening("hour", 3)
    data["targets"][0]["kpi"] = "on_time_rate"
    data["targets"][0]["max"] = None
    data["targets"][0]["min"] = 0.9
    with pytest.raises(simulator.ScenarioError) as err:
        load_scenario(data)
    assert "targets.0.kpi" in str(err.value) and "hour by hour" in str(err.value)
