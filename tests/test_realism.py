"""What the 2025 transition reports describe, each feature in the right direction.

Each comparison runs the same seed with and without a feature (common random
numbers: the citizens are the same), so even a few replications show the
direction; conservation of records is checked on every run.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import assert_conserved, busy_office_dict, mmc

import simulator
from simulator import analytic
from simulator.model.calendar import MINUTES_PER_DAY
from simulator.results import t_interval
from simulator.scenario import load_scenario


def run(data: dict, reps: int = 4, seed: int = 3, records: bool = True):
    result = simulator.run(load_scenario(data), reps, seed=seed, records=records)
    k = result.kpis
    assert_conserved(k)
    return result


def mean(result, kpi: str) -> float:
    return result.kpi(kpi)[0]


def test_abandonment_matches_erlang_a():
    # M/M/3+M at offered load 3 (rho = 1: only abandonment keeps it stable).
    # Three comparisons with one run: each uses a 99 % interval (Bonferroni for
    # three at 97 % overall), still narrow enough to catch a 5 % bias.
    c, s, patience = 3, 10.0, 15.0
    sc = mmc(
        c,
        1.0,
        s,
        days=30,
        warmup_days=2,
        demand={"patience_minutes": {"dist": "exponential", "mean": patience}},
    )
    result = simulator.run(sc, 20, seed=5, records=False, workers=2)
    theory = analytic.erlang_a(c, c / s, s, patience)
    k = result.kpis
    share = k["records_abandoned"] / k["records_filed"]
    checks = [
        (share, theory.abandon_probability),
        # Little's law over everyone who queued, served or not
        (k["queue_length.mean"], theory.mean_queue_length),
        (k["utilization"], theory.occupancy),
    ]
    for values, expected in checks:
        mean, low, high = t_interval(values.to_numpy(), confidence=0.99)
        assert (high - low) / 2 <= 0.05 * expected
        assert low <= expected <= high, (expected, low, high)


def test_citizens_who_leave_may_come_back_next_day():
    base = busy_office_dict(demand={"patience_minutes": {"dist": "exponential", "mean": 5}})
    gone = run(base)
    assert mean(gone, "records_abandoned") > 0
    back = run(
        busy_office_dict(
            demand={
                "patience_minutes": {"dist": "exponential", "mean": 5},
                "return_after_abandon_share": 1.0,
            }
        )
    )
    assert mean(back, "records_abandoned") < mean(gone, "records_abandoned")


def test_more_online_fallback_means_longer_walk_in_waits():
    none = run(busy_office_dict(demand={"online_fallback_share": 0.0}))
    most = run(busy_office_dict(demand={"online_fallback_share": 0.8}))
    share = {
        r: res.records["channel"].eq("walk_in").mean() for r, res in (("n", none), ("m", most))
    }
    assert share["n"] == pytest.approx(0.6, abs=0.03)
    assert share["m"] == pytest.approx(0.6 + 0.3 * 0.8, abs=0.03)
    assert mean(most, "wait_minutes.mean") > mean(none, "wait_minutes.mean")
    assert mean(most, "queue_length.mean") > mean(none, "queue_length.mean")


def test_postal_agents_intake_time_and_delivery_delay():
    quick = run(busy_office_dict(staff={"postal_intake_minutes": {"dist": "fixed", "value": 2}}))
    slow = run(
        busy_office_dict(
            staff={"postal_intake_minutes": {"dist": "fixed", "value": 20}},
            demand={"postal_delivery_working_days": 2},
        )
    )
    assert mean(slow, "utilization.postal-agents") > 5 * mean(quick, "utilization.postal-agents")
    post = slow.records.query("channel == 'postal' and outcome == 'completed'")
    assert len(post) > 0
    np.testing.assert_allclose(
        post["returned_minute"] - post["resolved_minute"], 2 * MINUTES_PER_DAY
    )
    walk = slow.records.query("channel == 'walk_in' and outcome == 'completed'")
    assert (walk["returned_minute"] == walk["resolved_minute"]).all()


def _with_rework(share: float, return_share: float) -> dict:
    data = busy_office_dict()
    data["procedures"][0]["rework"] = {
        "share": share,
        "return_share": return_share,
        "delay_working_days": {"dist": "uniform", "min": 1, "max": 3},
    }
    return data


def test_incomplete_dossiers_come_back_and_some_never_do():
    clean = run(_with_rework(0.0, 1.0))
    rework = run(_with_rework(0.4, 0.5))
    births = rework.records.query("procedure == 'birth'")
    abandoned = (births["outcome"] == "abandoned").mean()
    # 40 % incomplete, half of them never return
    assert abandoned == pytest.approx(0.2, abs=0.04)
    assert mean(rework, "records_abandoned") > mean(clean, "records_abandoned") == 0
    # the ones who return queue again: more desk visits than births filed
    assert mean(rework, "utilization.one-stop") > mean(clean, "utilization.one-stop")
    returned = births[
        (births["outcome"] == "completed")
        & (births["resolved_minute"] - births["arrival_minute"] > MINUTES_PER_DAY)
    ]
    assert len(returned) > 0
    # deadline counts from the complete dossier: the due time moved with the return
    assert (returned["due_minute"] > returned["arrival_minute"] + MINUTES_PER_DAY).all()


def test_transition_backlog_lowers_on_time_share():
    base = busy_office_dict(horizon={"days": 10, "warmup_days": 0})
    without = run(base)
    with_backlog = dict(base)
    with_backlog["backlog"] = [
        {
            "procedure": "land",
            "count": 60,
            "used_working_days": {"dist": "uniform", "min": 2, "max": 6},
        }
    ]
    handed = run(with_backlog)
    assert mean(handed, "on_time_rate") < mean(without, "on_time_rate")
    rec = handed.records
    over = rec[rec["channel"] == "handover"]
    assert len(over) == 60 * 4
    assert (mean(handed, "records_filed") - mean(without, "records_filed")) == 60
    assert (over["due_minute"] < 5 * MINUTES_PER_DAY + 17 * 60).all()


def test_linked_steps_add_the_external_delay():
    base = busy_office_dict()
    linked = busy_office_dict()
    linked["procedures"][1]["linked_steps"] = [
        {
            "agency": "tax",
            "delay_working_days": {"dist": "fixed", "value": 2},
            "processing_minutes": {"dist": "fixed", "value": 10},
        },
    ]
    plain, chained = run(base), run(linked)

    def days_to_result(result):
        c = result.records.query("procedure == 'copy' and outcome == 'completed'")
        return ((c["resolved_minute"] - c["arrival_minute"]) / MINUTES_PER_DAY).mean()

    assert days_to_result(chained) > days_to_result(plain) + 1.9
    # the copy's deadline is 1 working day: two days at the tax office break it
    on_time = chained.records.query("procedure == 'copy' and outcome == 'completed'")["on_time"]
    assert on_time.mean() < 0.2
    assert mean(chained, "records_in_progress") > mean(plain, "records_in_progress")


def test_scheduled_outage_stops_the_desks_that_morning():
    outage = {"name": "network", "at": [{"day": 4, "start": "08:00", "minutes": 120}]}
    base = run(busy_office_dict())
    down = run(busy_office_dict(disruptions=[outage]))
    rec = down.records
    start = rec["arrival_minute"] + rec["wait_minutes"]
    window = (start > 4 * MINUTES_PER_DAY + 480 + 1e-6) & (start < 4 * MINUTES_PER_DAY + 600)
    assert not window.any(), "a desk service started during the outage"

    def completed_on_day(result, day):
        r = result.records
        done = r[(r["outcome"] == "completed")]
        return (done["resolved_minute"] // MINUTES_PER_DAY == day).sum()

    assert completed_on_day(down, 4) < completed_on_day(base, 4)
    assert mean(down, "wait_minutes.max") > mean(base, "wait_minutes.max")
    # online filings made during the outage wait for the portal to come back
    online = rec[(rec["channel"] == "online") & (rec["outcome"] == "completed")]
    during = online[
        (online["arrival_minute"] > 4 * MINUTES_PER_DAY + 480)
        & (online["arrival_minute"] < 4 * MINUTES_PER_DAY + 600)
    ]
    assert (during["resolved_minute"] > 4 * MINUTES_PER_DAY + 600).all()


def test_random_outages_at_half_speed_lengthen_handle_times():
    slow = {
        "name": "power",
        "speed": 0.5,
        "affects": ["desks"],
        "mean_hours_between": 4,
        "mean_repair_minutes": 60,
    }
    base = run(busy_office_dict(), records=False)
    hit = run(busy_office_dict(disruptions=[slow]), records=False)
    assert mean(hit, "handle_minutes.mean") > 1.1 * mean(base, "handle_minutes.mean")


def test_learning_curve_slows_the_first_weeks():
    data = busy_office_dict(
        horizon={"days": 20, "warmup_days": 0},
        staff={"learning_curve": {"initial_factor": 2.0, "working_days": 10}},
    )
    rec = run(data).records
    served = rec.dropna(subset=["handle_minutes"])
    early = served[served["day"] < 3]["handle_minutes"].mean()
    late = served[served["day"] >= 10]["handle_minutes"].mean()
    assert early > 1.5 * late


def test_staff_absence_lengthens_waits():
    base = run(busy_office_dict(), records=False)
    away = run(busy_office_dict(staff={"absence_share": 0.25}), records=False)
    assert mean(away, "wait_minutes.mean") > mean(base, "wait_minutes.mean")


def test_everything_at_once_conserves_records():
    data = _with_rework(0.2, 0.7)
    data["demand"].update(
        {
            "patience_minutes": {"dist": "gamma", "mean": 30, "cv": 1},
            "return_after_abandon_share": 0.3,
            "online_fallback_share": 0.3,
            "postal_delivery_working_days": 1,
        }
    )
    data["staff"].update(
        {
            "absence_share": 0.1,
            "back_office": 1,
            "learning_curve": {"initial_factor": 1.5, "working_days": 5},
        }
    )
    data["procedures"][2]["linked_steps"] = [
        {"agency": "land-office", "delay_working_days": {"dist": "uniform", "min": 1, "max": 4}}
    ]
    data["backlog"] = [{"procedure": "land", "count": 10}]
    data["disruptions"] = [{"name": "net", "mean_hours_between": 10, "mean_repair_minutes": 30}]
    result = run(data, reps=3)
    rec = result.records
    for i, k in result.kpis.iterrows():
        counts = rec[rec["replication"] == i]["outcome"].value_counts()
        assert counts.get("in_progress", 0) == k["records_in_progress"]
        assert counts.get("abandoned", 0) == k["records_abandoned"]
