"""Staff schedules: who is on duty when (by session, by hour, shifts, per weekday)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from builders import assert_conserved

import simulator
from simulator.scenario import load_scenario, scenario_to_yaml
from simulator.workload import pool_loads

DAY = 1440


def office(count: Any, **staff: Any) -> dict[str, Any]:
    """One desk group on the default office calendar (07:30-11:30, 13:30-17:00)."""
    return {
        "name": "rostered",
        "horizon": {"days": 20, "warmup_days": 1},
        "demand": {"records_per_day": 40},
        "procedures": [
            {
                "id": "cert",
                "field": "general",
                "share": 1.0,
                "intake_minutes": {"dist": "fixed", "value": 20},
            }
        ],
        "staff": {"desks": [{"name": "desk", "count": count, "fields": ["general"]}], **staff},
    }


def test_a_count_given_as_a_schedule_is_the_headcount_and_round_trips():
    sc = load_scenario(office({"by_session": [3, 1]}))
    desk = sc.staff.desks[0]
    assert desk.count == 3 and desk.schedule.by_session == [3, 1]
    again = load_scenario(__import__("yaml").safe_load(scenario_to_yaml(sc)))
    assert again.staff.desks[0].count == 3 and again.staff.desks[0].schedule == desk.schedule
    # Half the open day with 3 on duty, half with 1 (240 and 210 minutes).
    assert sc.on_duty_share("desk") == pytest.approx((3 * 240 + 1 * 210) / (3 * 450))


def test_shifts_and_sessions_describing_the_same_roster_give_the_same_numbers():
    by_session = load_scenario(office({"by_session": [2, 1]}))
    shifts = load_scenario(
        office(
            {
                "shifts": [
                    {"start": "07:30", "end": "11:30", "count": 1},
                    {"start": "07:30", "end": "17:00", "count": 1},
                ]
            }
        )
    )
    a = simulator.run(by_session, 2, 4, records=False)
    b = simulator.run(shifts, 2, 4, records=False)
    assert a.kpis.equals(b.kpis)


def test_staff_leaving_mid_session_finish_the_citizen_in_hand():
    # Two on duty until 09:00, then one until 11:00, then two again. Intake is a
    # fixed 20 minutes, so a service cut short would show as a shorter handle
    # time; after 09:00 (+ 20 minutes for the service in hand) at most one
    # citizen is served at a time until 11:00.
    hours = {7: 2, 8: 2, 9: 1, 10: 1, 11: 2, 13: 2, 14: 2, 15: 2, 16: 2}
    sc = load_scenario(office({"by_hour": hours}))
    res = simulator.run(sc, 3, 2)
    assert_conserved(res.kpis)
    rec = res.records[res.records.outcome == "completed"]
    assert np.allclose(rec.handle_minutes, 20)
    start = rec.desk_end_minute - rec.handle_minutes
    minute = start % DAY
    for (rep, day), group in rec.assign(start=start, minute=minute).groupby(
        ["replication", start // DAY]
    ):
        alone = group[(group.minute >= 9 * 60 + 20) & (group.minute < 11 * 60 - 20)]
        s = np.sort(alone.start.to_numpy())
        assert (np.diff(s) >= 20 - 1e-9).all(), (rep, day)  # one at a time
    # And both desks work when two are on duty: overlapping services exist then.
    early = rec[(minute >= 7 * 60 + 30) & (minute < 8 * 60 + 40)]
    ends = early.desk_end_minute.to_numpy()
    starts = (early.desk_end_minute - early.handle_minutes).to_numpy()
    order = np.argsort(starts)
    assert (starts[order][1:] < ends[order][:-1]).any()


def test_utilization_is_the_busy_share_of_the_staff_on_duty():
    # A 24-hour calendar (no overtime): 4 staff from 08:00 to 20:00, 2 otherwise,
    # 10-minute services at 240 a day = 2,400 staff-minutes on 4 x 720 + 2 x 720 =
    # 4,320 on duty: 55.6 %. 3 standard errors of 10 replications bound the noise.
    data = office({"by_hour": {h: (4 if 8 <= h < 20 else 2) for h in range(24)}})
    data["calendar"] = {"type": "continuous"}
    data["demand"] = {"records_per_day": 240}
    data["procedures"][0]["intake_minutes"] = {"dist": "exponential", "mean": 10}
    sc = load_scenario(data)
    expected = pool_loads(sc)["desk"].expected_utilization
    assert expected == pytest.approx(2400 / 4320)
    res = simulator.run(sc, 10, 3, records=False)
    col = res.kpis["utilization.desk"]
    assert abs(col.mean() - expected) <= 3 * col.std(ddof=1) / math.sqrt(len(col))


def test_a_saturday_schedule_applies_on_saturdays_only():
    data = office(
        {"by_session": [2, 2], "weekdays": {"sat": {"by_session": [1, 1]}}},
    )
    data["calendar"] = {"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat"]}
    sc = load_scenario(data)
    assert sc.weekday_of(5) == "sat" and sc.weekday_of(6) == "mon"
    assert sum(sc.on_duty_by_hour("desk", "sat")) == 450
    assert sum(sc.on_duty_by_hour("desk", "mon")) == 900
    # Saturday afternoon closed at the desk while the calendar opens it: an error.
    data["staff"]["desks"][0]["count"]["weekdays"]["sat"] = {"by_session": [1, 0]}
    with pytest.raises(simulator.ScenarioError) as err:
        load_scenario(data)
    assert "nobody from 13:30 on sat" in str(err.value)


@pytest.mark.parametrize(
    ("count", "key", "words"),
    [
        (
            {"by_hour": {7: 1, 8: 1, 9: 1, 11: 1, 13: 1, 14: 1, 15: 1, 16: 1}},
            "staff.desks.0.schedule",
            "nobody from 10:00",
        ),
        ({"by_session": [1, 1, 1]}, "staff.desks.0.schedule.by_session", "one count per opening"),
        (
            {"shifts": [{"start": "07:00", "end": "11:30", "count": 1}]},
            "staff.desks.0.schedule.shifts.0",
            "within the opening hours 07:30-17:00",
        ),
        ({"by_session": [0, 0]}, "staff.desks.0.schedule", "nobody"),
    ],
    ids=["uncovered-hour", "sessions", "shift-outside", "nobody"],
)
def test_a_schedule_that_does_not_fit_is_a_clear_error(count, key, words):
    with pytest.raises(simulator.ScenarioError) as err:
        load_scenario(office(count))
    message = str(err.value)
    assert key in message and words in message, message


def test_an_explicit_count_below_the_schedule_is_an_error():
    data = office(2)
    data["staff"]["desks"][0]["schedule"] = {"by_session": [3, 1]}
    with pytest.raises(simulator.ScenarioError) as err:
        load_scenario(data)
    assert "staff.desks.0.count" in str(err.value) and "(3)" in str(err.value)


def test_the_back_office_may_have_a_schedule():
    data = office(2, back_office={"by_session": [0, 2]})
    data["procedures"][0]["processing_minutes"] = {"dist": "fixed", "value": 30}
    sc = load_scenario(data)
    assert sc.staff.back_office == 2
    res = simulator.run(sc, 2, 1)
    done = res.records[res.records.outcome == "completed"]
    # Processing happens only in the afternoon session, when the back office is on duty.
    minute = done.resolved_minute % DAY
    assert ((minute > 13 * 60 + 30) & (minute <= 17 * 60)).all()
