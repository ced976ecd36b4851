"""Tests for simulator.staffing_by_hour: hour-by-hour Erlang answers, offered loads
against their closed forms, and the iterative staffing loop with fake evaluators.

Nothing here is random: the evaluators are deterministic functions of the
schedule, so every expected value is exact and tolerances only absorb
floating-point or grid discretisation error (stated where used).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from simulator.analytic import (
    erlang_a_service_level,
    erlang_c_wait_quantile,
    min_servers_for_wait_quantile,
)
from simulator.staffing_by_hour import (
    HourMeasure,
    compare_with_flat,
    erlang_requirement,
    flat_schedule,
    iterative_staffing,
    lagged_offered_load,
    modified_offered_load,
    offered_load_by_hour,
    open_minutes_by_hour,
    staff_hours,
)

SESSIONS = ["07:30-11:30", "13:30-17:00"]
#: A morning-peaked day of an urban ward's walk-ins (citizens per clock hour).
ARRIVALS = {7: 8, 8: 30, 9: 35, 10: 25, 11: 8, 13: 6, 14: 15, 15: 15, 16: 10}
SERVICE = 12.0
TARGET = 15.0


def step_day(low_per_hour: float, high_per_hour: float) -> dict[int, float]:
    """Open round the clock: ``low`` arrivals per hour from 00:00, ``high`` from 12:00."""
    return {h: (low_per_hour if h < 12 else high_per_hour) for h in range(24)}


# ---------------------------------------------------------------------------------------
# Opening hours and SIPP
# ---------------------------------------------------------------------------------------


def test_open_minutes_by_hour_counts_half_hours_and_skips_lunch():
    assert open_minutes_by_hour(SESSIONS) == {
        7: 30.0, 8: 60.0, 9: 60.0, 10: 60.0, 11: 30.0,
        13: 30.0, 14: 60.0, 15: 60.0, 16: 60.0,
    }  # fmt: skip


def test_sipp_is_min_servers_for_wait_quantile_hour_by_hour():
    """SIPP sizes each hour alone, at the rate of its open minutes."""
    opened = open_minutes_by_hour(SESSIONS)
    got = erlang_requirement(
        ARRIVALS, SERVICE, wait_minutes=TARGET, quantile=0.9, open_minutes_per_hour=opened
    )
    expected = {
        h: min_servers_for_wait_quantile(ARRIVALS[h] / opened[h], SERVICE, 0.9, TARGET)
        for h in ARRIVALS
    }
    assert got == expected
    # The half-open hours carry their arrivals in 30 minutes: twice the rate.
    assert got[7] == min_servers_for_wait_quantile(8 / 30, SERVICE, 0.9, TARGET)
    assert got[7] > min_servers_for_wait_quantile(8 / 60, SERVICE, 0.9, TARGET)


def test_with_patience_each_hour_is_sized_by_erlang_a():
    """Erlang A with a finite patience: the fewest staff reaching the service level
    (checked against erlang_a_service_level directly); never more than Erlang C
    needs, since abandonment shortens the queue; an infinite patience is Erlang C."""
    opened = open_minutes_by_hour(SESSIONS)
    args = {"wait_minutes": TARGET, "open_minutes_per_hour": opened}
    erlang_c = erlang_requirement(ARRIVALS, SERVICE, **args)
    erlang_a = erlang_requirement(ARRIVALS, SERVICE, patience_minutes=20.0, **args)
    for h, c in erlang_a.items():
        rate = ARRIVALS[h] / opened[h]
        assert erlang_a_service_level(c, rate, SERVICE, 20.0, TARGET) >= 0.9
        if c > 1:
            assert erlang_a_service_level(c - 1, rate, SERVICE, 20.0, TARGET) < 0.9
        assert c <= erlang_c[h]
    assert erlang_requirement(ARRIVALS, SERVICE, patience_minutes=math.inf, **args) == erlang_c


def test_open_hours_without_arrivals_get_the_minimum():
    opened = {9: 60, 10: 60, 11: 30}
    got = erlang_requirement({9: 20}, SERVICE, wait_minutes=TARGET, open_minutes_per_hour=opened)
    assert got == {9: min_servers_for_wait_quantile(20 / 60, SERVICE, 0.9, TARGET), 10: 0, 11: 0}
    got = erlang_requirement(
        {9: 20}, SERVICE, wait_minutes=TARGET, open_minutes_per_hour=opened, min_staff=1
    )
    assert got[10] == got[11] == 1


def test_an_hour_with_arrivals_is_never_left_without_staff():
    """Service of 60 minutes: the lagged load of 13:30-14:00 is the arrivals of
    12:30-13:00, when the center was closed (zero), yet citizens arrive."""
    opened = open_minutes_by_hour(SESSIONS)
    loads = offered_load_by_hour(ARRIVALS, 60.0, method="lagged", open_minutes_per_hour=opened)
    assert loads[13] == 0.0
    got = erlang_requirement(
        ARRIVALS, 60.0, wait_minutes=TARGET, method="lagged", open_minutes_per_hour=opened
    )
    assert got[13] == 1


def test_arrivals_in_a_closed_hour_are_an_error():
    with pytest.raises(ValueError, match="hour 12 has 5 arrivals but no open minutes"):
        erlang_requirement({12: 5}, SERVICE, wait_minutes=TARGET, open_minutes_per_hour={9: 60})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantile": 1.0}, "quantile"),
        ({"method": "fancy"}, "method"),
        ({"wait_minutes": -1.0}, "wait_minutes"),
        ({"method": "modified", "step_minutes": 0.3}, "step_minutes must divide one minute"),
        ({"method": "lagged", "aggregate": "median"}, "aggregate"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    args = {"wait_minutes": TARGET} | kwargs
    with pytest.raises(ValueError, match=message):
        erlang_requirement(ARRIVALS, SERVICE, **args)


# ---------------------------------------------------------------------------------------
# Lagged and modified offered loads against closed forms
# ---------------------------------------------------------------------------------------


def test_modified_load_after_a_step_is_the_exponential_lag():
    """After lambda0 -> lambda1 at 12:00, m = lambda1 s - (lambda1 - lambda0) s e^{-t/s}.

    The grid update is the exact solution of dm/dt = lambda - m/s for a rate
    constant on each cell, so only rounding error remains (1e-9 relative).
    The load 12 hours after the overnight step down is lambda0 s to within
    e^{-720/20} ~ 2e-16.
    """
    s = 20.0
    low, high = 30.0 / 60, 90.0 / 60  # per minute
    times, load = modified_offered_load(step_day(30, 90), s, step_minutes=0.25)
    after = (times >= 720) & (times <= 720 + 240)
    tau = times[after] - 720
    expected = high * s - (high - low) * s * np.exp(-tau / s)
    np.testing.assert_allclose(load[after], expected, rtol=1e-9)
    assert load[times == 720][0] == pytest.approx(low * s, rel=1e-9)


def test_modified_hour_mean_after_a_step_matches_the_integral():
    """Mean of m over 12:00-13:00: lambda1 s - (lambda1 - lambda0) s (s/60)(1 - e^{-60/s}).

    The hour mean is a trapezoid over 0.25-minute cells; its error is of order
    (dt/s)^2 / 12 of the curvature term, below 1e-5 relative here.
    """
    s = 20.0
    low, high = 0.5, 1.5
    loads = offered_load_by_hour(step_day(30, 90), s, method="modified")
    expected = high * s - (high - low) * s * (s / 60) * (1 - math.exp(-60 / s))
    assert loads[12] == pytest.approx(expected, rel=1e-5)
    assert loads[13] == pytest.approx(high * s - (high - low) * s * (s / 60) * (
        math.exp(-60 / s) - math.exp(-120 / s)), rel=1e-5)  # fmt: skip
    assert loads[10] == pytest.approx(low * s, rel=1e-9)  # long after the overnight step


def test_modified_load_with_deterministic_service_is_the_moving_window():
    """With S = s exactly, m(t) = integral of lambda over [t - s, t]: a linear ramp.

    Service of 20 minutes spans 80 cells of 0.25 minute and the rate is constant
    on each, so the midpoint rule is exact.
    """
    s = 20.0
    times, load = modified_offered_load(
        step_day(30, 90), s, service_survival=lambda x: (x < s).astype(float)
    )
    after = (times >= 720) & (times <= 780)
    tau = times[after] - 720
    np.testing.assert_allclose(load[after], 0.5 * s + (1.5 - 0.5) * np.minimum(tau, s), rtol=1e-9)


def test_the_convolution_path_agrees_with_the_exponential_filter():
    """The general path (midpoint rule on P(S > x) = e^{-x/s}) against the exact
    filter: the midpoint rule's relative error per cell is about (dt/s)^2 / 24,
    7e-6 for dt = 0.25 and s = 20, hence the 1e-4 tolerance."""
    s = 20.0
    _, exact = modified_offered_load(ARRIVALS, s)
    _, general = modified_offered_load(ARRIVALS, s, service_survival=lambda x: np.exp(-x / s))
    np.testing.assert_allclose(general, exact, rtol=1e-4, atol=1e-9)
    with pytest.raises(ValueError, match="service_survival"):
        modified_offered_load(ARRIVALS, s, service_survival=lambda x: -np.ones_like(x))


def test_lagged_load_is_the_rate_one_service_time_earlier():
    s = 20.0
    times, load = lagged_offered_load(step_day(30, 90), s)
    assert load[(times >= 720) & (times < 740)] == pytest.approx(0.5 * s)
    assert load[(times >= 740) & (times < 800)] == pytest.approx(1.5 * s)
    hourly = offered_load_by_hour(step_day(30, 90), s, method="lagged")
    assert hourly[12] == pytest.approx((20 * 0.5 + 40 * 1.5) / 60 * s)
    assert hourly[0] == pytest.approx((20 * 1.5 + 40 * 0.5) / 60 * s)  # the day repeats


def test_a_steady_day_gives_the_same_answer_by_every_method():
    flat = dict.fromkeys(range(24), 24.0)
    answers = {
        method: erlang_requirement(flat, SERVICE, wait_minutes=TARGET, method=method)
        for method in ("sipp", "lagged", "modified")
    }
    assert answers["sipp"] == answers["lagged"] == answers["modified"]


def test_the_lag_lowers_the_hour_of_a_rise_and_raises_the_hour_after_a_fall():
    """Staff follow the citizens already in service: fewer right after a rise,
    more right after a fall than the hour's own arrivals say (with 30-minute service)."""
    arrivals = {h: 12.0 for h in range(8, 17)} | {10: 60.0}
    sipp = erlang_requirement(arrivals, 30.0, wait_minutes=TARGET, method="sipp")
    modified = erlang_requirement(arrivals, 30.0, wait_minutes=TARGET, method="modified")
    assert modified[10] < sipp[10]
    assert modified[11] > sipp[11]
    # "max" over the hour is at least the "mean" answer.
    cautious = erlang_requirement(
        arrivals, 30.0, wait_minutes=TARGET, method="modified", aggregate="max"
    )
    assert all(cautious[h] >= modified[h] for h in arrivals)


def test_partly_open_hours_are_placed_where_sessions_put_them():
    """A 30-minute hour opens at its end after a closure (07:30) and at its start
    before one (11:30): the lagged load of 07:00-08:00 sees nothing before 07:30."""
    opened = open_minutes_by_hour(SESSIONS)
    times, load = lagged_offered_load(ARRIVALS, 10.0, open_minutes_per_hour=opened)
    assert load[(times >= 450) & (times < 460)].max() == 0.0  # lag of the 07:30 opening
    assert load[(times >= 460) & (times < 480)] == pytest.approx(8 / 30 * 10)
    assert load[(times >= 700) & (times < 810)].max() == 0.0  # lunch, after the lag


# ---------------------------------------------------------------------------------------
# Staff-hours
# ---------------------------------------------------------------------------------------


def test_staff_hours_weigh_half_open_hours_by_half():
    opened = open_minutes_by_hour(SESSIONS)
    schedule = {7: 2, 8: 4, 9: 4, 10: 3, 11: 2, 13: 2, 14: 2, 15: 2, 16: 2}
    assert staff_hours(schedule, opened) == pytest.approx(1 + 4 + 4 + 3 + 1 + 1 + 2 + 2 + 2)
    assert staff_hours(schedule) == sum(schedule.values())
    comparison = compare_with_flat(schedule, opened)
    assert flat_schedule(schedule) == dict.fromkeys(schedule, 4)
    assert comparison.flat_staff == 4
    assert comparison.flat_staff_hours == pytest.approx(4 * 7.5)
    assert comparison.saved_staff_hours == pytest.approx(30 - 20)
    assert comparison.saved_share == pytest.approx(1 / 3)
    assert compare_with_flat(schedule, opened, flat_staff=5).flat_staff_hours == 37.5


# ---------------------------------------------------------------------------------------
# Measures and verdicts
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(2.0, 9.0, "pass"), (9.0, 10.0, "pass"), (9.0, 11.0, "inconclusive"),
     (10.5, 20.0, "fail"), (math.nan, math.nan, "inconclusive")],
)  # fmt: skip
def test_hour_verdicts_follow_the_pasc_rule(low, high, expected):
    """The same three-valued rule as simulator.results.verdicts.verdict for a maximum."""
    verdicts = pytest.importorskip("simulator.results.verdicts")
    measure = HourMeasure((low + high) / 2, low, high)
    assert measure.verdict(10.0) == expected
    assert verdicts.verdict("<=", 10.0, low, high) == expected


def test_a_plain_number_is_a_zero_width_interval():
    assert HourMeasure(4.0) == HourMeasure(4.0, 4.0, 4.0)
    with pytest.raises(ValueError, match="ci_low"):
        HourMeasure(1.0, 3.0, 2.0)


# ---------------------------------------------------------------------------------------
# Iterative staffing with deterministic evaluators
# ---------------------------------------------------------------------------------------

RISE = {8: 10.0, 9: 10.0, 10: 60.0, 11: 60.0, 12: 20.0, 13: 10.0}
RISE_SERVICE = 10.0
PENALISED = 10  # the hour of the fast rise


def rise_evaluator(schedule: dict[int, int]) -> dict[int, float]:
    """Erlang C's p90 each hour, plus a full target's worth of extra wait in the hour
    of the fast rise unless it has one staff more than SIPP gives it: the queue
    the simulation would show there and SIPP does not see."""
    sipp = erlang_requirement(RISE, RISE_SERVICE, wait_minutes=TARGET)
    waits = {}
    for h, c in schedule.items():
        wait = erlang_c_wait_quantile(c, RISE[h] / 60 * RISE_SERVICE, RISE_SERVICE, 0.9)
        if h == PENALISED and c < sipp[h] + 1:
            wait += TARGET
        waits[h] = wait
    return waits


def fewest_passing() -> dict[int, int]:
    """The known fixed point: per hour, the fewest staff whose measure meets the target."""
    answer = {}
    for h in RISE:
        c = 1
        while rise_evaluator({h: c})[h] > TARGET:
            c += 1
        answer[h] = c
    return answer


def test_from_sipp_the_iteration_adds_staff_where_sipp_misses_and_stops():
    sipp = erlang_requirement(RISE, RISE_SERVICE, wait_minutes=TARGET)
    result = iterative_staffing(sipp, rise_evaluator, target_minutes=TARGET, step_down=False)
    expected = fewest_passing()
    assert expected == sipp | {PENALISED: sipp[PENALISED] + 1}
    assert result.status == "converged"
    assert result.feasible
    assert result.schedule == expected
    assert [it.feasible for it in result.iterations] == [False, True]
    assert result.iterations[0].verdicts[PENALISED] == "fail"
    assert result.measures == {h: HourMeasure(v) for h, v in rise_evaluator(expected).items()}


@pytest.mark.parametrize("extra", [0, 3])
def test_with_step_down_the_iteration_reaches_the_fewest_passing_staff(extra):
    """With a margin of 1 (step down whenever the target is met with any room)
    the iteration walks down to the fewest passing staff from above, tries one
    fewer, sees it fail, puts it back and stops there."""
    sipp = erlang_requirement(RISE, RISE_SERVICE, wait_minutes=TARGET)
    start = {h: c + extra for h, c in sipp.items()}
    result = iterative_staffing(
        start, rise_evaluator, target_minutes=TARGET, step_down_margin=1.0, max_iterations=12
    )
    assert result.status == "converged"
    assert result.schedule == fewest_passing()
    assert result.iterations[-1].schedule == result.schedule
    assert all(it.schedule[h] >= 1 for it in result.iterations for h in it.schedule)


def test_the_default_margin_keeps_staff_where_the_target_is_only_just_met():
    """At the default margin (half the target) an hour steps down only while its
    p90 is below 7.5 minutes, and keeps the count at which it first is not:
    the expected answer is that walk, done here hour by hour (the evaluator's
    hours do not interact)."""
    sipp = erlang_requirement(RISE, RISE_SERVICE, wait_minutes=TARGET)
    start = {h: c + 2 for h, c in sipp.items()}
    expected = {}
    for h, c in start.items():
        while c > 1 and rise_evaluator({h: c})[h] < 0.5 * TARGET:
            c -= 1
            if rise_evaluator({h: c})[h] > TARGET:
                c += 1
                break
        expected[h] = c
    result = iterative_staffing(start, rise_evaluator, target_minutes=TARGET)
    assert result.status == "converged"
    assert result.schedule == expected
    low = fewest_passing()
    assert all(expected[h] >= low[h] for h in RISE)


@pytest.mark.parametrize(("margin", "expected"), [(0.5, 3), (1.0, 2)])
def test_the_margin_decides_where_stepping_down_stops(margin, expected):
    """p90 by staff 1..5: 20, 12, 9, 6, 2 minutes against 15. At margin 0.5 the
    walk down from 5 stops at 3 (9 minutes is not below 7.5); at margin 1 it
    goes to 2, tries 1 (fails), and returns to 2."""
    waits = {1: 20.0, 2: 12.0, 3: 9.0, 4: 6.0, 5: 2.0}
    result = iterative_staffing(
        {9: 5}, lambda s: {9: waits[s[9]]}, target_minutes=15.0, step_down_margin=margin
    )
    assert result.schedule == {9: expected}
    assert result.status == "converged"


def coupled_evaluator(schedule: dict[int, int]) -> dict[int, float]:
    """Hour 9 is always quiet; hour 10 inherits hour 9's queue: it fails with one
    staff in each, is fine (8 minutes) with two at 9, comfortable with two at 10."""
    c9, c10 = schedule[9], schedule[10]
    if c10 >= 2:
        return {9: 0.0, 10: 0.0}
    return {9: 0.0, 10: 8.0 if c9 >= 2 else 20.0}


def test_a_cycle_is_detected_and_a_feasible_schedule_returned():
    """Without the memory of failures: {9: 2, 10: 1} -> step down 9 -> 10 fails ->
    {9: 1, 10: 2} -> step down 10 -> {9: 1, 10: 1} again, a cycle that a rule
    looking at one hour at a time cannot see."""
    result = iterative_staffing(
        {9: 2, 10: 1}, coupled_evaluator, target_minutes=10.0, remember_failures=False
    )
    assert result.status == "cycle"
    assert [it.schedule for it in result.iterations] == [
        {9: 2, 10: 1}, {9: 1, 10: 1}, {9: 1, 10: 2}
    ]  # fmt: skip
    assert result.feasible
    assert result.schedule == {9: 1, 10: 2}  # tie on staff-hours: the later one
    assert result.best_index == 2


def test_with_the_memory_of_failures_the_coupled_case_settles():
    """Hour 10 failed with one staff, so it is not stepped back down to one."""
    result = iterative_staffing({9: 2, 10: 1}, coupled_evaluator, target_minutes=10.0)
    assert result.status == "converged"
    assert result.schedule == {9: 1, 10: 2}
    assert len(result.iterations) == 3


def test_the_history_is_json_ready():
    def evaluate(schedule):
        return {9: HourMeasure(20.0 / schedule[9], 18.0 / schedule[9], 22.0 / schedule[9]),
                10: HourMeasure(math.nan, math.nan, math.nan)}  # fmt: skip

    result = iterative_staffing({9: 1, 10: 1}, evaluate, target_minutes=10.0)
    record = json.loads(json.dumps(result.to_dict()))
    assert record["schedule"] == {"9": 3, "10": 1}
    assert [it["schedule"]["9"] for it in record["iterations"]] == [1, 2, 3]
    assert record["iterations"][1]["measures"]["9"] == {
        "value": 10.0, "ci_low": 9.0, "ci_high": 11.0, "verdict": "inconclusive"
    }  # fmt: skip
    assert record["iterations"][0]["measures"]["10"]["value"] is None


def test_a_feasible_schedule_seen_is_never_traded_for_an_infeasible_one():
    result = iterative_staffing(
        {9: 2, 10: 1}, coupled_evaluator, target_minutes=10.0, max_iterations=2
    )
    assert result.status == "max_iterations"
    assert not result.iterations[-1].feasible
    assert result.feasible
    assert result.schedule == {9: 2, 10: 1}


def test_the_best_schedule_weighs_staff_by_open_minutes():
    """With hour 10 open only 30 minutes, {9: 1, 10: 2} costs 2 staff-hours and
    {9: 2, 10: 1} 2.5: the cheaper one wins whatever the order."""
    result = iterative_staffing(
        {9: 2, 10: 1},
        coupled_evaluator,
        target_minutes=10.0,
        open_minutes_per_hour={9: 60, 10: 30},
    )
    assert result.schedule == {9: 1, 10: 2}
    assert result.iterations[0].staff_hours == pytest.approx(2.5)


def test_an_hour_failing_at_its_maximum_stops_the_iteration_infeasible():
    result = iterative_staffing(
        {9: 1, 10: 1}, lambda s: dict.fromkeys(s, 99.0), target_minutes=10.0, maximum=3
    )
    assert result.status == "at_maximum"
    assert not result.feasible
    assert result.schedule == {9: 3, 10: 3}
    assert len(result.iterations) == 3


def test_inconclusive_hours_get_staff_and_unmeasured_hours_are_left_alone():
    def evaluate(schedule):
        return {
            9: HourMeasure(9.0, 7.0, 11.0) if schedule[9] < 3 else HourMeasure(3.0, 2.5, 3.5),
            10: HourMeasure(math.nan, math.nan, math.nan),
        }

    result = iterative_staffing({9: 2, 10: 2, 11: 4}, evaluate, target_minutes=10.0)
    # 3 staff are comfortable at 09:00, but 2 were inconclusive: no step back down.
    assert result.iterations[0].verdicts == {9: "inconclusive"}
    assert result.schedule == {9: 3, 10: 2, 11: 4}
    assert result.status == "converged"


def test_minimum_and_maximum_clamp_the_start():
    result = iterative_staffing(
        {9: 0, 10: 9}, lambda s: dict.fromkeys(s, 8.0), target_minutes=10.0,
        minimum={9: 1}, maximum=4,
    )  # fmt: skip
    assert result.iterations[0].schedule == {9: 1, 10: 4}
    with pytest.raises(ValueError, match="below minimum"):
        iterative_staffing({9: 1}, lambda s: {}, target_minutes=10.0, minimum=3, maximum=2)
