"""The engine against queueing theory and against the rules of the office.

Statistical tolerances: each comparison uses the simulation's own 95 %
t-interval across independent replications (fixed seeds, so a run is
reproducible); the runs are sized so that the interval's half-width is at
most 5 % of the mean, which the tests assert too, so a bias of a few percent
would be caught. Warm-up days remove the empty-and-idle start.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from builders import assert_conserved, busy_office, busy_office_dict, mmc

import simulator
from simulator import analytic
from simulator.model.calendar import MINUTES_PER_DAY


@pytest.fixture(scope="module")
def mm4():
    """M/M/4 at rho = 0.8, 10-minute service: 30 replications x 60 days (~830k walk-ins)."""
    servers, rho, mean_service = 4, 0.8, 10.0
    result = simulator.run(
        mmc(servers, rho, mean_service), replications=30, seed=11, records=False, workers=2
    )
    return result, servers, rho * servers, mean_service


def _inside(result, kpi: str, expected: float, max_rel_half_width: float = 0.05) -> None:
    mean, low, high = result.kpi(kpi)
    assert (high - low) / 2 <= max_rel_half_width * abs(mean), (
        f"{kpi}: interval [{low:.4f}, {high:.4f}] too wide for a meaningful test"
    )
    assert low <= expected <= high, f"{kpi}: theory {expected:.4f} outside [{low:.4f}, {high:.4f}]"


def test_mmc_mean_wait_matches_erlang_c(mm4):
    result, c, a, s = mm4
    _inside(result, "wait_minutes.mean", analytic.erlang_c_mean_wait(c, a, s))


def test_mmc_wait_probability_matches_erlang_c(mm4):
    result, c, a, _ = mm4
    _inside(result, "wait_probability", analytic.erlang_c_wait_probability(c, a))


def test_mmc_wait_p90_matches_erlang_c_quantile(mm4):
    result, c, a, s = mm4
    _inside(result, "wait_minutes.p90", analytic.erlang_c_wait_quantile(c, a, s, 0.9))


def test_mmc_utilization_is_offered_load_per_server(mm4):
    result, c, a, _ = mm4
    _inside(result, "utilization", a / c, max_rel_half_width=0.01)


def test_littles_law_queue_length_equals_arrival_rate_times_wait(mm4):
    # L_q = lambda * W_q holds per replication up to edge effects (the few
    # walk-ins still queued at the end); 1 % is far above those here.
    result, *_ = mm4
    kpis = result.kpis
    open_minutes = result.scenario.horizon.days * MINUTES_PER_DAY
    served = kpis["records_completed"] + kpis["records_in_progress"]
    arrival_rate = served / open_minutes
    little = arrival_rate * kpis["wait_minutes.mean"]
    np.testing.assert_allclose(kpis["queue_length.mean"], little, rtol=0.01)


def test_littles_law_on_time_in_center(mm4):
    # W = W_q + E[S]: the time in the center is the wait plus the desk time. The
    # populations differ only by the walk-ins in service when the run stops
    # (counted in the wait, not yet in the handle time): a few in ~28,000.
    result, *_ = mm4
    kpis = result.kpis
    np.testing.assert_allclose(
        kpis["time_in_center_minutes.mean"],
        kpis["wait_minutes.mean"] + kpis["handle_minutes.mean"],
        rtol=1e-3,
    )


@pytest.mark.slow
@pytest.mark.parametrize("servers,rho", [(1, 0.7), (2, 0.85), (8, 0.9)])
def test_mmc_grid_against_erlang_c(servers, rho):
    """The same check over more loads (a long run, so only in the full suite)."""
    result = simulator.run(
        mmc(servers, rho, 10.0, days=120, warmup_days=5), 40, seed=3, records=False, workers=2
    )
    a = rho * servers
    _inside(result, "wait_minutes.mean", analytic.erlang_c_mean_wait(servers, a, 10.0), 0.08)
    _inside(result, "wait_probability", analytic.erlang_c_wait_probability(servers, a))


def test_conservation_of_records_every_replication():
    # in_progress is counted by scanning the queues, backlogs and staff hands at
    # the end of the run, independently of the other counters.
    result = simulator.run(busy_office(), 8, seed=5, records=False)
    k = result.kpis
    assert_conserved(k)
    assert (k["records_in_progress"] > 0).any()  # the land desk is overloaded on purpose


def test_records_table_agrees_with_counts():
    result = simulator.run(busy_office(), 3, seed=2)
    rec = result.records
    for i, row in result.kpis.iterrows():
        mine = rec[rec["replication"] == i]
        counts = mine["outcome"].value_counts()
        assert counts.get("completed", 0) == row["records_completed"]
        assert counts.get("rejected", 0) == row["records_rejected"]
        assert counts.get("in_progress", 0) == row["records_in_progress"]
        assert len(mine) == row["records_filed"]
        walk = mine[(mine["channel"] == "walk_in") & mine["wait_minutes"].notna()]
        assert walk["wait_minutes"].mean() == pytest.approx(row["wait_minutes.mean"], rel=1e-9)
        # percentiles come from a bounded-memory sketch: within its 0.25 % error
        exact = np.quantile(walk["wait_minutes"], 0.9, method="inverted_cdf")
        assert row["wait_minutes.p90"] == pytest.approx(exact, rel=0.003, abs=1e-6)


def test_channel_shares_and_demand_volume():
    result = simulator.run(busy_office(), 10, seed=8)
    rec = result.records
    shares = rec["channel"].value_counts(normalize=True)
    assert shares["walk_in"] == pytest.approx(0.6, abs=0.02)
    assert shares["online"] == pytest.approx(0.3, abs=0.02)
    assert shares["postal"] == pytest.approx(0.1, abs=0.015)
    mean, low, high = result.kpi("records_filed")
    assert low <= 90 * 10 <= high


def test_priority_citizens_wait_less():
    result = simulator.run(busy_office(), 6, seed=4)
    walk = result.records.query("channel == 'walk_in' and wait_minutes == wait_minutes")
    prio = walk[walk["priority"]]["wait_minutes"].mean()
    other = walk[~walk["priority"]]["wait_minutes"].mean()
    # Desk staff finish their back-office slice before serving anyone, so the
    # gap is smaller than in a pure queue (see the Cobham test below).
    assert prio < 0.8 * other
    assert walk["priority"].mean() == pytest.approx(0.2, abs=0.03)


def test_non_preemptive_priority_matches_cobham_formula():
    # M/M/c with two classes, same service time, non-preemptive priority:
    # W_high = W0 / (1 - s1), W_low = W0 / ((1 - s1)(1 - rho)), where
    # W0 = C(c, a) * E[S] / c and s1 = rho * priority share (Cobham 1954).
    c, rho, share, s = 3, 0.85, 0.3, 10.0
    result = simulator.run(
        mmc(c, rho, s, days=80, demand={"priority_share": share}), 30, seed=21, workers=2
    )
    w0 = analytic.erlang_c_wait_probability(c, rho * c) * s / c
    sigma1 = rho * share
    expected = {True: w0 / (1 - sigma1), False: w0 / ((1 - sigma1) * (1 - rho))}
    waits = result.records.dropna(subset=["wait_minutes"])
    per_rep = waits.groupby(["priority", "replication"])["wait_minutes"].mean()
    for cls, theory in expected.items():
        mean, low, high = simulator.results.t_interval(per_rep.loc[cls].to_numpy())
        assert (high - low) / 2 <= 0.05 * mean
        assert low <= theory <= high, (cls, theory, low, high)


def test_priority_share_zero_means_no_priority():
    result = simulator.run(busy_office(demand={"priority_share": 0.0}), 2, seed=4)
    assert not result.records["priority"].any()


def _open(minute_of_day: np.ndarray, spans) -> np.ndarray:
    return np.any([(minute_of_day >= a) & (minute_of_day < b) for a, b in spans], axis=0)


def test_office_calendar_arrivals_and_service_only_while_open():
    sc = busy_office()
    spans = sc.calendar.open_spans_minutes()
    rec = simulator.run(sc, 4, seed=9).records
    walk = rec[rec["channel"] == "walk_in"]
    arrival_min = walk["arrival_minute"].to_numpy() % MINUTES_PER_DAY
    assert _open(arrival_min, spans).all()
    served = walk.dropna(subset=["wait_minutes"])
    start = (served["arrival_minute"] + served["wait_minutes"]).to_numpy()
    start_min = start % MINUTES_PER_DAY
    closed = ~_open(start_min, spans)
    # Services that start while closed are citizens queued at closing: they
    # arrived in the session that just ended and are served before the next.
    assert closed.any(), "expected some citizens queued at closing in a busy center"
    arr = served["arrival_minute"].to_numpy()[closed]
    st = start[closed]
    day = np.floor(st / MINUTES_PER_DAY)
    last_close = np.array(
        [
            max(d * MINUTES_PER_DAY + b for a, b in spans if d * MINUTES_PER_DAY + b <= s)
            for d, s in zip(day, st, strict=True)
        ]
    )
    assert (arr < last_close).all()
    assert (arr >= last_close - max(b - a for a, b in spans)).all()
    # Back-office work stops at closing: records resolved in the back office
    # are resolved while open (or exactly at closing).
    back = rec[(rec["outcome"] == "completed") & (rec["channel"] == "online")]
    res_min = back["resolved_minute"].to_numpy() % MINUTES_PER_DAY
    at_close = np.isin(np.round(res_min, 6), [b for _, b in spans])
    assert (_open(res_min, spans) | at_close).all()


def test_online_records_take_back_office_time_not_desk_time():
    result = simulator.run(busy_office(), 2, seed=1)
    online = result.records[result.records["channel"] == "online"]
    assert online["desk"].isna().all() and online["wait_minutes"].isna().all()
    assert (online["outcome"] == "completed").any()


def test_same_day_cutoff_moves_the_deadline_to_next_working_day():
    rec = simulator.run(busy_office(), 2, seed=3).records
    births = rec[rec["procedure"] == "birth"]
    minute = births["arrival_minute"] % MINUTES_PER_DAY
    day = births["arrival_minute"] // MINUTES_PER_DAY
    closing = 17 * 60
    expected_day = day + (minute >= 15 * 60)
    assert (births["due_minute"] == expected_day * MINUTES_PER_DAY + closing).all()


def test_warmup_days_are_not_measured():
    rec = simulator.run(busy_office(), 2, seed=3).records
    assert rec["arrival_minute"].min() >= 2 * MINUTES_PER_DAY


def test_more_staff_never_increases_wait_with_common_random_numbers():
    base = busy_office_dict()
    fewer = simulator.run(simulator.load_scenario(base), 5, seed=12, records=False)
    base["staff"]["desks"][0]["count"] = 3
    more = simulator.run(simulator.load_scenario(base), 5, seed=12, records=False)
    # Same seed, same citizens: the arrivals do not depend on staffing.
    assert (fewer.kpis["records_filed"] == more.kpis["records_filed"]).all()
    assert more.kpi("wait_minutes.mean")[0] < fewer.kpi("wait_minutes.mean")[0]


def test_records_per_staff_year_scales_completed_records():
    result = simulator.run(busy_office(), 2, seed=3, records=False)
    sc = result.scenario
    k = result.kpis
    expected = k["records_completed"] / sc.staff.total / sc.horizon.days * 250
    np.testing.assert_allclose(k["records_per_staff_year"], expected)


def test_no_walk_ins_gives_undefined_waits_not_zero():
    sc = busy_office(demand={"channels": {"walk_in": 0.0, "online": 0.9, "postal": 0.1}})
    result = simulator.run(sc, 2, seed=1, records=False)
    assert math.isnan(result.kpi("wait_minutes.mean")[0])
    assert result.targets()["verdict"].tolist() == ["inconclusive"]


def test_hourly_tables_agree_with_the_kpis():
    # The hour-by-hour tables are rebuilt from the records and busy intervals:
    # the queue integrated over the day, divided by the open minutes, gives back
    # the queue_length.mean KPI (which counts citizens queued after closing too).
    result = simulator.run(busy_office(), 3, seed=6)
    open_minutes = result.scenario.calendar.open_minutes_per_day
    for rep, group in result.hourly.groupby("replication"):
        rebuilt = group["queue_length"].sum() * 60 / (open_minutes * 10)
        assert rebuilt == pytest.approx(result.kpis.loc[rep, "queue_length.mean"], rel=1e-6)
    daily = result.daily
    assert len(daily) == 3 * 12
    assert (daily["in_center"] >= daily["backlog"] + daily["waiting"]).all()
    # the overloaded land desk leaves a growing backlog
    by_day = daily.groupby("day")["backlog"].mean()
    assert by_day.iloc[-1] > by_day.iloc[0]


def test_hourly_utilization_agrees_with_the_kpi_when_open_all_day():
    # The KPI counts a service from its start (after warm-up) to its end (before
    # the run stops); the hourly table counts the minutes inside each hour. They
    # differ only by the services that straddle the warm-up or the end: < 1 %.
    result = simulator.run(mmc(2, 0.7, days=5, warmup_days=1), 2, seed=6)
    for rep, group in result.hourly.groupby("replication"):
        assert group["utilization.desk"].mean() == pytest.approx(
            result.kpis.loc[rep, "utilization.desk"], rel=0.01
        )


def test_desk_staff_put_back_office_work_down_for_walk_ins():
    # Looking up at once (0) vs every 30 minutes: same citizens, same work.
    at_once = simulator.run(
        busy_office(staff={"back_office_slice_minutes": 0}), 4, seed=2, records=False
    )
    slow = simulator.run(
        busy_office(staff={"back_office_slice_minutes": 30}), 4, seed=2, records=False
    )
    assert at_once.kpi("wait_minutes.mean")[0] < 0.7 * slow.kpi("wait_minutes.mean")[0]
    # A walk-in never waits longer than one slice for an officer in the back office
    # unless every officer is at the desk: the max wait grows with the slice.
    assert at_once.kpi("wait_minutes.max")[0] < slow.kpi("wait_minutes.max")[0]
    for result in (at_once, slow):
        k = result.kpis
        assert (
            k["records_filed"]
            == k["records_completed"]
            + k["records_rejected"]
            + k["records_in_progress"]
            + k["records_abandoned"]
        ).all()
