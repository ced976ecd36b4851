"""Defects found in review, each pinned by a test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import assert_conserved, busy_office, busy_office_dict, mmc_dict
from click.testing import CliRunner

import simulator
from simulator.cli import main
from simulator.model.calendar import MINUTES_PER_DAY, OpeningHours
from simulator.model.center import Center
from simulator.model.conditions import merge_windows
from simulator.scenario import ScenarioError, load_scenario
from simulator.streams import RandomStreams


def test_overlapping_outage_windows_merge_into_one():
    assert merge_windows([(480, 60), (510, 180), (900, 10)]) == [(480, 210), (900, 10)]


def test_outage_stops_back_office_work_already_in_hand():
    windows = [{"day": d, "start": "08:00", "minutes": 180} for d in range(12)]
    sc = busy_office(
        staff={"back_office": 3},
        disruptions=[{"name": "sw", "affects": ["back_office"], "at": windows}],
    )
    result = simulator.run(sc, 3, seed=1)
    hourly = result.hourly
    during = hourly[hourly["hour"].isin([8, 9, 10])]["utilization.back-office"]
    after = hourly[hourly["hour"].isin([13, 14, 15])]["utilization.back-office"]
    assert during.max() == 0.0 and after.mean() > 0.5
    assert_conserved(result.kpis)


def test_a_cutoff_after_closing_never_makes_a_record_due_before_it_is_filed():
    sc = busy_office(calendar={"same_day_cutoff": "23:00"})
    rec = simulator.run(sc, 2, seed=1).records
    assert (rec["due_minute"] >= rec["arrival_minute"]).all()


def test_online_fallback_needs_a_procedure_that_walk_ins_may_file():
    data = busy_office_dict(
        demand={
            "channels": {"walk_in": 0.0, "online": 0.9, "postal": 0.1},
            "online_fallback_share": 0.5,
        }
    )
    for p in data["procedures"]:
        p["channels"] = ["online", "postal"]
    with pytest.raises(ScenarioError, match="demand.channels.walk_in"):
        load_scenario(data)


def test_citizens_come_back_during_the_next_working_days_opening_hours():
    hours = OpeningHours(((450, 690), (810, 1020)))
    day3_after_close = 3 * MINUTES_PER_DAY + 1030
    back = hours.during_opening(day3_after_close + MINUTES_PER_DAY)
    assert 4 * MINUTES_PER_DAY + 810 <= back < 4 * MINUTES_PER_DAY + 1020
    lunch = 4 * MINUTES_PER_DAY + 720
    assert hours.during_opening(lunch) == 4 * MINUTES_PER_DAY + 810


def test_hourly_queue_counts_citizens_who_gave_up_only_until_they_left():
    sc = busy_office(
        demand={"records_per_day": 110, "patience_minutes": {"dist": "exponential", "mean": 15}}
    )
    result = simulator.run(sc, 2, seed=1)
    open_minutes = sc.calendar.open_minutes_per_day
    for rep, group in result.hourly.groupby("replication"):
        rebuilt = group["queue_length"].sum() * 60 / (open_minutes * sc.horizon.days)
        assert rebuilt == pytest.approx(result.kpis.loc[rep, "queue_length.mean"], rel=1e-9)


def test_records_table_is_identical_run_after_run():
    sc = busy_office(
        demand={
            "patience_minutes": {"dist": "exponential", "mean": 10},
            "return_after_abandon_share": 0.5,
        }
    )
    first = simulator.run(sc, 2, seed=3).records
    _garbage = [object() for _ in range(10_000)]  # shift memory addresses
    second = simulator.run(sc, 2, seed=3).records
    assert first.equals(second)


def test_slowdown_does_not_hold_online_filings():
    slow = {"name": "power", "speed": 0.5, "at": [{"day": 3, "start": "08:00", "minutes": 240}]}
    rec = simulator.run(busy_office(disruptions=[slow]), 2, seed=1).records
    online = rec[(rec["channel"] == "online") & (rec["outcome"] == "completed")]
    during = online[
        (online["arrival_minute"] > 3 * MINUTES_PER_DAY + 480)
        & (online["arrival_minute"] < 3 * MINUTES_PER_DAY + 720)
    ]
    assert (during["resolved_minute"] < 3 * MINUTES_PER_DAY + 720).any()


@pytest.mark.parametrize(
    "bad",
    [
        {"demand": {"hourly_profile": {25: 5, 8: 1}}},
        {"disruptions": [{"name": "x", "at": [{"day": 99, "start": "08:00", "minutes": 10}]}]},
        {
            "disruptions": [
                {"name": "x", "mean_hours_between": 5, "mean_repair_minutes": 5},
                {"name": "x", "mean_hours_between": 5, "mean_repair_minutes": 5},
            ]
        },
    ],
)
def test_settings_that_would_be_ignored_are_errors(bad):
    with pytest.raises(ScenarioError):
        load_scenario(busy_office_dict(**bad))


def test_procedure_channels_may_not_be_empty():
    data = busy_office_dict()
    data["procedures"][0]["channels"] = []
    with pytest.raises(ScenarioError, match=r"procedures\.0\.channels"):
        load_scenario(data)


def test_working_days_per_year_follow_the_weekdays():
    six = load_scenario(
        busy_office_dict(calendar={"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat"]})
    )
    assert six.calendar.days_per_year == 300
    assert load_scenario(busy_office_dict()).calendar.days_per_year == 250


def test_schema_output_errors_are_bad_input(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(main, ["schema", "-o", str(tmp_path / "no" / "x.json")])
    assert missing.exit_code == 2 and "cannot write" in missing.output
    existing = tmp_path / "keep.json"
    existing.write_text("mine")
    kept = runner.invoke(main, ["schema", "-o", str(existing)])
    assert kept.exit_code == 2 and existing.read_text() == "mine"
    assert runner.invoke(main, ["schema", "-o", str(existing), "--force"]).exit_code == 0
    assert np.char.startswith(existing.read_text(), "{")


def test_desk_busy_time_is_the_open_hours_part_of_every_service():
    # Walk-ins only, no back-office work: the desks' busy minutes must be exactly the
    # services (started in the measured days) clipped to the session they started in.
    # Citizens who give up come back at an opening instant (the case that once lost
    # its busy time when handed straight to an idle officer before the opening).
    data = {
        "name": "walk-ins",
        "horizon": {"days": 8, "warmup_days": 0},  # every service is in the records table
        "calendar": {"type": "office"},
        "demand": {
            "records_per_day": 120,
            "channels": {"walk_in": 1.0, "online": 0.0, "postal": 0.0},
            "patience_minutes": {"dist": "exponential", "mean": 10},
            "return_after_abandon_share": 1.0,
        },
        "procedures": [
            {
                "id": "p",
                "field": "f",
                "share": 1,
                "intake_minutes": {"dist": "exponential", "mean": 10},
            }
        ],
        "staff": {"desks": [{"name": "desk", "count": 2, "fields": ["f"]}]},
    }
    sc = load_scenario(data)
    spans = sc.calendar.open_spans_minutes()
    out = simulator.model.simulate_replication(sc, 7, 0, keep_records=True)
    busy = 0.0
    returns_at_opening = 0
    for end, handle in zip(
        out.records["desk_end_minute"], out.records["handle_minutes"], strict=True
    ):
        if np.isnan(end):
            continue
        start = end - handle
        day, minute = divmod(start, MINUTES_PER_DAY)
        # (start is rebuilt as end - handle: allow for rounding at the opening instant)
        returns_at_opening += any(abs(minute - a) < 1e-6 for a, _ in spans)
        session_end = next((b for a, b in spans if a - 1e-6 <= minute < b), None)
        if session_end is not None:
            busy += min(end, day * MINUTES_PER_DAY + session_end) - start
    assert returns_at_opening > 0  # the case is exercised
    open_minutes = sc.horizon.days * sc.calendar.open_minutes_per_day
    assert out.kpis["utilization.desk"] * 2 * open_minutes == pytest.approx(busy, rel=1e-9)


@pytest.mark.parametrize("back_office", [0, 2])
def test_utilization_is_the_busy_log_inside_the_measured_window(back_office):
    # A 24-hour center with warm-up: services and back-office stretches that
    # straddle the end of the warm-up or the horizon count for their part inside.
    data = {
        "name": "round-the-clock",
        "horizon": {"days": 3, "warmup_days": 1},
        "calendar": {"type": "continuous"},
        "demand": {
            "records_per_day": 300,
            "channels": {"walk_in": 0.6, "online": 0.4, "postal": 0.0},
        },
        "procedures": [
            {
                "id": "p",
                "field": "f",
                "share": 1,
                "intake_minutes": {"dist": "exponential", "mean": 8},
                "processing_minutes": {"dist": "exponential", "mean": 20},
            }
        ],
        "staff": {"desks": [{"name": "desk", "count": 3, "fields": ["f"]}]},
    }
    if back_office:
        data["staff"]["back_office"] = back_office
    sc = load_scenario(data)
    out = simulator.model.simulate_replication(sc, 11, 0, keep_records=True)
    minutes = sc.horizon.days * MINUTES_PER_DAY
    hourly = pd.DataFrame(out.hourly)
    assert sorted(set(hourly["day"])) == [1, 2, 3]  # the measured days, every hour
    assert (hourly.groupby("day").size() == 24).all()
    for pool, count in [("desk", 3), ("back-office", back_office)]:
        if not count:
            continue
        # Busy minutes of every measured hour (a busy share of 60 staffed minutes
        # per staff member) add up to the measured busy time of the KPI.
        logged = (hourly[f"utilization.{pool}"] * count * 60).sum()
        kpi = out.kpis[f"utilization.{pool}"]
        assert kpi * count * minutes == pytest.approx(logged, rel=1e-9)


def test_no_record_waits_in_the_backlog_while_a_colleague_is_idle():
    # 24-hour desks with absences: an officer whose service runs into a day they are
    # absent must not leave the record they took in waiting while a colleague idles.
    data = mmc_dict(4, 0.2, days=20, staff={"absence_share": 0.3})
    data["procedures"][0]["processing_minutes"] = {"dist": "exponential", "mean": 10}
    sc = load_scenario(data)
    for rep in range(4):
        center = Center(sc, RandomStreams(7, rep))
        env, pool, last = center.env, center.desks[0], 0.0
        while env.peek() < center.end_time:
            if env.peek() > last:  # all events at `last` processed: a settled state
                idle_present = [c for c in pool.idle if c.staff_id < pool.present]
                assert not (pool.backlog and idle_present), f"rep {rep}, minute {last:.2f}"
                last = env.peek()
            env.step()


def test_an_officer_already_called_for_a_walk_in_still_stops_at_an_outage(monkeypatch):
    # A desk officer asked to look up at the end of a 30-minute slice (a walk-in
    # waits) must still put back-office work down when an outage stops the back
    # office: no back-office stretch may overlap the outage windows.
    import inspect

    from simulator.model import pools

    day = 1440
    outages = [(d * day + 9 * 60, d * day + 10 * 60) for d in range(21)]
    sc = load_scenario(
        {
            "name": "outage",
            "horizon": {"days": 20, "warmup_days": 1},
            "demand": {
                "records_per_day": 60,
                "channels": {"walk_in": 0.5, "online": 0.5},
                "patience_minutes": {"dist": "fixed", "value": 5},
            },
            "procedures": [
                {
                    "id": "cert",
                    "field": "general",
                    "share": 1.0,
                    "intake_minutes": {"dist": "fixed", "value": 10},
                    "processing_minutes": {"dist": "fixed", "value": 90},
                }
            ],
            "staff": {
                "desks": [{"name": "desk", "count": 2, "fields": ["general"]}],
                "back_office_slice_minutes": 30,
            },
            "disruptions": [
                {
                    "name": "server",
                    "affects": ["back_office"],
                    "speed": 0,
                    "at": [{"day": d, "start": "09:00", "minutes": 60} for d in range(21)],
                }
            ],
        }
    )
    inside = []
    stretches = []
    book = pools.StaffPool.book_busy

    def booked(self, start, minutes, *, other_duty=False):
        if inspect.currentframe().f_back.f_code.co_name == "work_on":
            stretches.append(start)
            inside.extend(
                (start, a) for a, b in outages if start < b and start + minutes > a + 1e-6
            )
        return book(self, start, minutes, other_duty=other_duty)

    monkeypatch.setattr(pools.StaffPool, "book_busy", booked)
    for rep in range(3):
        simulator.model.simulate_replication(sc, 1, rep)
    assert len(stretches) > 1000  # plenty of back-office work, and walk-ins calling
    assert inside == []


def test_a_flat_staffing_replaces_a_schedule():
    from simulator.scenario import deep_merge, set_key
    from simulator.sizing import with_staff

    data = mmc_dict(2, 0.5, days=5)
    data["staff"]["desks"][0]["count"] = {"by_hour": {h: 2 for h in range(24)}}
    sc = load_scenario(data)
    flat = with_staff(sc, {sc.staff.desks[0].name: 4})
    assert flat.staff.desks[0].schedule is None and flat.staff.desks[0].count == 4
    # --set ...count=N means the same whether the file gave the schedule as the count
    # or, as a stored scenario does, beside it.
    stored = simulator.scenario.scenario_to_dict(sc)
    for raw in (deep_merge(data, {}), stored):
        set_key(raw, "staff.desks.0.count", 3)
        again = load_scenario(raw)
        assert again.staff.desks[0].schedule is None and again.staff.desks[0].count == 3


def test_a_schedule_on_a_24_hour_calendar_counts_every_weekday():
    data = mmc_dict(2, 0.5, days=5)
    data["staff"]["desks"][0]["count"] = {
        "by_session": [2],
        "weekdays": {"sun": {"by_session": [5]}},
    }
    sc = load_scenario(data)
    assert sc.staff.desks[0].count == 5
