"""Work-load accounting per staff pool against what the simulation measures."""

from __future__ import annotations

import math

import pytest
from builders import busy_office_dict, mmc_dict

import simulator
from simulator.scenario import load_scenario
from simulator.workload import (
    BACK_OFFICE,
    POSTAL_AGENTS,
    pool_loads,
    processed_share,
    settling_days,
    steady_state_horizon,
    submissions_per_record,
)


def every_feature_dict(dedicated: bool, calendar: dict) -> dict:
    """Rework (returns), absence, learning curve, random outages, online, postal,
    linked steps with back-office work, two desk groups with their own fields and,
    with ``dedicated``, a back office; loaded at 30-80 % of capacity."""
    data = busy_office_dict(
        horizon={"days": 120, "warmup_days": 10},
        demand={"records_per_day": 60},
        calendar=calendar,
    )
    birth, copy, land = data["procedures"]

    # Whole days of delay: the citizen comes back at the same time of day (open).
    def days(n: int) -> dict:
        return {"dist": "fixed", "value": n}

    birth["rework"] = {"share": 0.3, "return_share": 0.8, "delay_working_days": days(2)}
    land["rework"] = {"share": 0.2, "return_share": 0.5, "delay_working_days": days(3)}
    land["linked_steps"] = [
        {
            "agency": "tax",
            "delay_working_days": {"dist": "fixed", "value": 2},
            "processing_minutes": {"dist": "exponential", "mean": 20},
        }
    ]
    copy["linked_steps"] = [
        {
            "agency": "police",
            "delay_working_days": {"dist": "fixed", "value": 1},
            "processing_minutes": {"dist": "fixed", "value": 10},
        }
    ]
    data["staff"].update(
        desks=[
            {"name": "one-stop", "count": 3, "fields": ["civil-status", "certification"]},
            {"name": "land", "count": 5, "fields": ["land"]},
        ],
        absence_share=0.1,
        learning_curve={"initial_factor": 1.5, "working_days": 30},
        back_office=4 if dedicated else 0,
    )
    if dedicated and calendar["type"] == "office":
        data["staff"]["back_office"] = 5
    data["disruptions"] = [
        {
            "name": "network",
            "affects": ["desks", "back_office"],
            "mean_hours_between": 30,
            "mean_repair_minutes": 60,
        }
    ]
    return data


def test_intakes_and_processing_per_record_follow_rework():
    sc = load_scenario(every_feature_dict(False, {"type": "office"}))
    birth = sc.procedures[0]  # reject 0.05, rework 0.3, return 0.8
    assert submissions_per_record(birth) == pytest.approx(1 + 0.95 * 0.3 * 0.8)
    assert processed_share(birth) == pytest.approx(0.95 * (1 - 0.3 * 0.2))


@pytest.mark.parametrize("dedicated", [False, True], ids=["desks-do-back-office", "back-office"])
def test_work_per_pool_matches_measured_utilization_continuous(dedicated):
    # A 24-hour calendar has no closing, so every minute of work is busy time
    # measured while open: utilization must equal work / staff. 20 independent
    # replications of 120 days; each pool is checked against its mean with
    # 3 standard errors (t-quantile ~ 2.1 for one 95 % check; 3 keeps the
    # family of 8 checks at a false-alarm rate well under 1 %).
    sc = load_scenario(every_feature_dict(dedicated, {"type": "continuous"}))
    loads = pool_loads(sc)
    assert set(loads) == {"one-stop", "land", POSTAL_AGENTS} | (
        {BACK_OFFICE} if dedicated else set()
    )
    res = simulator.run(sc, 20, 11, workers=2, records=False)
    for name, pl in loads.items():
        col = res.kpis[f"utilization.{name}"]
        se = col.std(ddof=1) / math.sqrt(len(col))
        assert abs(col.mean() - pl.expected_utilization) <= 3 * se, (name, col.mean(), pl)
    assert all(pl.keeps_up for pl in loads.values())


def test_work_per_pool_matches_measured_utilization_office_hours():
    # Office hours: a service still going at a session's end runs into
    # overtime, which utilization (busy share of *open* time) does not count,
    # so the measured share sits a little under work / staff: by about
    # E[S^2] / (2 E[S]) minutes per session end per busy server, 2-4 % here.
    # Never above it (beyond noise), and never more than 5 % under it.
    sc = load_scenario(every_feature_dict(False, {"type": "office"}))
    loads = pool_loads(sc)
    res = simulator.run(sc, 20, 11, workers=2, records=False)
    for name, pl in loads.items():
        col = res.kpis[f"utilization.{name}"]
        se = col.std(ddof=1) / math.sqrt(len(col))
        expected = pl.expected_utilization
        assert expected * 0.95 - 3 * se <= col.mean() <= expected + 3 * se, (name, col.mean(), pl)


def test_an_overloaded_pool_shows_its_capacity_as_utilization():
    # Dedicated back office of 4 on about 4.7 staff of work: work / capacity > 1.
    # It is then busy whenever it can work: availability = present share x
    # outage uptime, about 0.9 x 0.967.
    data = every_feature_dict(True, {"type": "office"})
    data["staff"]["back_office"] = 4
    sc = load_scenario(data)
    bo = pool_loads(sc)[BACK_OFFICE]
    assert bo.load_ratio > 1 and not bo.keeps_up
    res = simulator.run(sc, 10, 11, workers=2, records=False)
    measured = res.kpis[f"utilization.{BACK_OFFICE}"].mean()
    assert measured == pytest.approx(bo.availability, abs=0.02)
    assert res.keeps_up().verdict == "fail"


def test_learning_curve_and_absence_in_the_accounting():
    sc = load_scenario(every_feature_dict(False, {"type": "office"}))
    pl = pool_loads(sc)["land"]
    # 1.5 falling to 1 over 30 days, measured days 10..129: mean factor
    factor = sum(1 + 0.5 * max(0, 1 - d / 30) for d in range(10, 130)) / 120
    assert pl.learning_factor == pytest.approx(factor)
    up = 30 * 60 / (30 * 60 + 60)
    assert pl.availability == pytest.approx(0.9 * up)


def test_min_staff_rounds_up_and_respects_a_utilization_cap():
    sc = load_scenario(mmc_dict(1, 4.66, 10.0))
    pl = pool_loads(sc)["desk"]
    assert pl.work_erlangs == pytest.approx(4.66)
    assert pl.min_staff() == 5
    assert pl.min_staff(max_utilization=0.85) == 6  # 4.66 / 0.85 = 5.48
    assert pool_loads(sc)["desk"].load_ratio == pytest.approx(4.66)


def test_settling_time_and_steady_state_horizon():
    data = every_feature_dict(False, {"type": "office"})
    sc = load_scenario(data)
    # land: deadline 5 + tax 2 days + supplement 3 days, + 1
    assert settling_days(sc) == 11
    h = steady_state_horizon(sc)
    assert (h.warmup_days, h.days) == (11, 120)  # the scenario's 120 > max(60, 44)
    assert steady_state_horizon(sc, days=30).days == 30
    short = load_scenario({**data, "horizon": {"days": 5, "warmup_days": 0}})
    assert steady_state_horizon(short).days == 60
