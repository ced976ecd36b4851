"""The record's route, one step at a time, and the two keys built on it.

Each route test puts one record into an otherwise empty center at a chosen
minute, with fixed times, and checks when and how it ends: the route is
deterministic then, so the expected minute is exact. Then: the leadership's
sign-off rounds, staff availability against the work-load accounting, and a
channel added through its declaration only.
"""

from __future__ import annotations

import math
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.fit.columns import read_export
from simulator.fit.export import export_log, write_table
from simulator.model.center import Center
from simulator.model.record import Record
from simulator.model.signoff import SignOffRounds
from simulator.scenario import load_scenario
from simulator.scenario.channels import (
    CHANNEL_KINDS,
    CHANNELS_BY_CODE,
    ONLINE,
    POSTAL,
    WALK_IN,
    ChannelKind,
    declare_channel,
)
from simulator.streams import RandomStreams
from simulator.web.forms import editor_groups
from simulator.workload import pool_loads

REPO = Path(__file__).resolve().parent.parent

DAY = 1440
OPEN = 7 * 60 + 30  # 07:30, the default calendar's first session


def fixed(minutes: float) -> dict[str, Any]:
    return {"dist": "fixed", "value": minutes}


def quiet_center_dict(**procedure: Any) -> dict[str, Any]:
    """An office center with (practically) no filings of its own: the test's record is
    alone. One procedure, one desk, a postal agent; overrides go to the procedure."""
    proc = {
        "id": "cert",
        "field": "general",
        "share": 1.0,
        "intake_minutes": fixed(30),
        "deadline_working_days": 3,
        **procedure,
    }
    return {
        "name": "quiet",
        "horizon": {"days": 10, "warmup_days": 0},
        "demand": {
            "records_per_day": 1e-9,
            "channels": {"walk_in": 0.5, "online": 0.25, "postal": 0.25},
        },
        "procedures": [proc],
        "staff": {
            "desks": [{"name": "desk", "count": 1, "fields": ["general"]}],
            "postal_agents": 1,
        },
    }


def route_of_one(
    data: dict[str, Any],
    channel: ChannelKind,
    at: float,
    *,
    processing: float = 0.0,
    rejected: bool = False,
    **attributes: Any,
) -> pd.Series:
    """File one record through ``channel`` at minute ``at``; its row of the records table."""
    sc = load_scenario(data)
    center = Center(sc, RandomStreams(1, 0), keep_records=True)
    intake = sc.procedures[0].intake_minutes.mean
    due = center.hours.due_time(at, sc.procedures[0].deadline_working_days)
    rec = Record(10**6, channel, 0, False, at, intake, processing, rejected, True, due)
    for name, value in attributes.items():
        setattr(rec, name, value)

    def file_it():
        yield center.env.timeout(at)
        center.intake[channel.taken_in_by](rec)

    center.env.process(file_it())
    out = center.run()
    rows = pd.DataFrame(out.records)
    assert out.kpis["records_filed"] == 0  # nobody else filed: the record was alone
    (row,) = [r for _, r in rows.iterrows() if r["record"] == 10**6]
    return row


# -- one test per route step ----------------------------------------------------------
def test_a_walk_in_without_processing_is_resolved_at_the_end_of_its_intake():
    row = route_of_one(quiet_center_dict(), WALK_IN, DAY + 9 * 60)
    assert row["outcome"] == "completed"
    assert row["wait_minutes"] == 0
    assert row["resolved_minute"] == DAY + 9 * 60 + 30


def test_a_rejected_dossier_ends_at_the_desk():
    row = route_of_one(quiet_center_dict(), WALK_IN, DAY + 9 * 60, processing=60, rejected=True)
    assert row["outcome"] == "rejected"
    assert row["resolved_minute"] == DAY + 9 * 60 + 30


def test_processing_follows_intake_at_the_same_desk_group():
    # No dedicated back office: the officer who took the dossier in processes it
    # right after (nobody else waits): 09:00 + 30 intake + 60 processing.
    row = route_of_one(quiet_center_dict(), WALK_IN, DAY + 9 * 60, processing=60)
    assert row["outcome"] == "completed"
    assert row["resolved_minute"] == DAY + 9 * 60 + 90


def test_processing_is_put_down_at_closing_and_resumed_at_the_next_opening():
    # Filed at 11:00: intake to 11:30 (closing), processing from 13:30 to 14:30.
    row = route_of_one(quiet_center_dict(), WALK_IN, DAY + 11 * 60, processing=60)
    assert row["resolved_minute"] == DAY + 14 * 60 + 30


def test_a_portal_dossier_is_checked_and_processed_in_the_back_office():
    # Filed online at 06:00 (closed): checked (30) and processed (60) from 07:30.
    row = route_of_one(quiet_center_dict(), ONLINE, DAY + 6 * 60, processing=60)
    assert math.isnan(row["wait_minutes"])
    assert row["resolved_minute"] == DAY + OPEN + 90


def test_an_incomplete_dossier_goes_back_to_the_citizen_and_restarts_its_deadline():
    # Intake 09:00-09:30 finds it incomplete; the citizen comes back 2 working
    # days later (at 09:30) and is served again: resolved at 10:00 that day.
    row = route_of_one(
        quiet_center_dict(),
        WALK_IN,
        DAY + 9 * 60,
        incomplete=True,
        comes_back=True,
        rework_delay_days=2.0,
    )
    assert row["outcome"] == "completed"
    assert row["resolved_minute"] == 3 * DAY + 10 * 60
    assert row["queued_minute"] == 3 * DAY + 9 * 60 + 30  # the second visit's queue
    assert row["due_minute"] > 3 * DAY  # counted again from the complete dossier


def test_a_postal_dossier_goes_through_processing_and_the_linked_steps():
    # Postal agent 09:00-09:30, processing 09:30-10:30, then 2 working days at
    # another agency and 15 minutes of work when it comes back (12:30 → closed,
    # so at 13:30): resolved at 13:45, and delivered by post afterwards.
    data = quiet_center_dict()
    data["demand"]["postal_delivery_working_days"] = 1
    row = route_of_one(data, POSTAL, DAY + 9 * 60, processing=60, steps=[(2.0 + 2 / 24, 15.0)])
    assert row["resolved_minute"] == 3 * DAY + 13 * 60 + 30 + 15
    assert row["returned_minute"] == row["resolved_minute"] + DAY


# -- sign-off -------------------------------------------------------------------------
def signed(times: list[str] = ["10:30", "16:30"], absence_share: float = 0.0) -> dict:  # noqa: B006
    data = quiet_center_dict()
    data["sign_off"] = {"procedures": ["cert"], "times": times, "absence_share": absence_share}
    return data


def test_a_result_processed_at_eleven_is_signed_at_the_afternoon_round():
    # 09:30 + 30 intake = 10:00, + 60 processing = 11:00: after the 10:30 round,
    # so it waits for 16:30.
    row = route_of_one(signed(), WALK_IN, DAY + 9 * 60 + 30, processing=60)
    assert row["outcome"] == "completed"
    assert row["resolved_minute"] == DAY + 16 * 60 + 30


def test_a_result_ready_before_a_round_is_signed_at_that_round():
    row = route_of_one(signed(), WALK_IN, DAY + 8 * 60, processing=0)
    assert row["resolved_minute"] == DAY + 10 * 60 + 30


def test_nobody_signs_on_a_day_the_signer_is_away():
    import simpy

    env = simpy.Environment()
    done: list[tuple[int, float]] = []
    rounds = SignOffRounds(
        env, [630, 990], [True, False, True], lambda r: done.append((r, env.now))
    )

    def ready_at(minute: float, name: int):
        yield env.timeout(minute)
        rounds.wait_for_signature(name)

    env.process(ready_at(16 * 60 + 45, 1))  # day 0, after the last round
    env.process(ready_at(DAY + 9 * 60, 2))  # day 1: the signer is away
    env.run()
    assert done == [(1, 2 * DAY + 630), (2, 2 * DAY + 630)]


def test_sign_off_names_an_unknown_procedure():
    data = signed()
    data["sign_off"]["procedures"] = ["cert", "land"]
    with pytest.raises(simulator.ScenarioError) as err:
        load_scenario(data)
    assert "sign_off.procedures.1" in str(err.value) and "'land'" in str(err.value)


def test_signer_absence_makes_results_later_and_is_counted_in_progress():
    # Same citizens (common random numbers), signer away 40 % of days: later
    # results, never more completed; the records waiting are in progress.
    base = quiet_center_dict(processing_minutes=fixed(20), deadline_working_days=1)
    base["demand"]["records_per_day"] = 20
    base["horizon"] = {"days": 40, "warmup_days": 5}
    base["staff"]["desks"][0]["count"] = 3
    away = dict(base, sign_off={"procedures": ["cert"], "times": ["16:30"], "absence_share": 0.4})
    r0 = simulator.run(load_scenario(base), 4, 3)
    r1 = simulator.run(load_scenario(away), 4, 3)
    done0 = r0.records[r0.records.outcome == "completed"]
    done1 = r1.records[r1.records.outcome == "completed"]
    late0 = (done0.resolved_minute - done0.arrival_minute).mean()
    late1 = (done1.resolved_minute - done1.arrival_minute).mean()
    assert late1 > late0 + 0.5 * DAY  # a round a day, 40 % of days missed
    assert r1.kpis["on_time_rate"].mean() < r0.kpis["on_time_rate"].mean()
    assert (r1.kpis["records_filed"] == r0.kpis["records_filed"]).all()
    total = r1.kpis[["records_completed", "records_rejected", "records_in_progress"]].sum(axis=1)
    assert (total + r1.kpis["records_abandoned"] == r1.kpis["records_filed"]).all()


# -- staff availability ---------------------------------------------------------------
def availability_dict(availability: float, per_day: float) -> dict[str, Any]:
    return {
        "name": "duties",
        "horizon": {"days": 60, "warmup_days": 5},
        "demand": {"records_per_day": per_day},
        "procedures": [
            {
                "id": "cert",
                "field": "general",
                "share": 1.0,
                "intake_minutes": {"dist": "exponential", "mean": 12},
            }
        ],
        "staff": {
            "desks": [{"name": "desk", "count": 4, "fields": ["general"]}],
            "availability": availability,
        },
    }


def test_availability_raises_utilization_as_the_work_load_accounting_says():
    # A 24-hour calendar (no closing, so no overtime) with 4 staff and 144 records
    # x 12 min = 1,728 staff-minutes a day: 30 % of the staff's time at
    # availability 1, 60 % of the half they have for records at 0.5. Measured
    # utilization (busy share of the time for records) must equal work / (staff x
    # availability); 3 standard errors of 10 independent replications bound the
    # noise (t-quantile ~2.3 for one check at 95 %; 3 keeps the pair of checks
    # well under a 1 % false alarm).
    for share, expected in ((1.0, 0.3), (0.5, 0.6)):
        data = availability_dict(share, 144)
        data["calendar"] = {"type": "continuous"}
        sc = load_scenario(data)
        assert pool_loads(sc)["desk"].expected_utilization == pytest.approx(expected)
        res = simulator.run(sc, 10, 5, records=False)
        col = res.kpis["utilization.desk"]
        se = col.std(ddof=1) / math.sqrt(len(col))
        assert abs(col.mean() - expected) <= 3 * se, (share, col.mean(), se)


def test_availability_a_quarter_lowers_throughput_to_the_capacity_left():
    # Back-office work is done only while open (citizens queued at closing are
    # still served, so desk work alone never caps throughput). 120 records a day
    # with 10 minutes of processing each = 1,200 staff-minutes on a dedicated
    # back office of 4 x 450 open minutes: it keeps up at availability 1 (1,800
    # available) and not at 0.25 (450 available), where it processes what its time
    # for records allows: 450 / 10 = 45 records a day, and is busy all that time.
    def scenario(share: float):
        data = availability_dict(share, 120)
        data["procedures"][0]["intake_minutes"] = fixed(2)
        data["procedures"][0]["processing_minutes"] = fixed(10)
        data["staff"]["back_office"] = 4
        # No warm-up: every record processed is one of the measured cohort (with a
        # warm-up, an overloaded back office works on the warm-up's backlog first).
        data["horizon"] = {"days": 60, "warmup_days": 0}
        return load_scenario(data)

    full = simulator.run(scenario(1.0), 3, 2, records=False)
    quarter = simulator.run(scenario(0.25), 3, 2, records=False)
    days = 60
    assert pool_loads(scenario(1.0))["back-office"].keeps_up
    assert not pool_loads(scenario(0.25))["back-office"].keeps_up
    per_day_full = full.kpis["records_completed"].mean() / days
    per_day_quarter = quarter.kpis["records_completed"].mean() / days
    assert per_day_full > 0.97 * 120
    # Duties come as a Poisson process, so the time they take varies: about 11
    # blocks a staff member and day, a relative sd of 2 % over 240 staff-days per
    # replication, so the time left for records (a quarter) varies by about 6 %:
    # 10 % around 45 is more than 3 sd of the mean of 3 replications.
    assert 0.9 * 45 <= per_day_quarter <= 1.1 * 45, per_day_quarter
    # Busy whenever it can be: utilization is the busy share of the time left.
    assert quarter.kpis["utilization.back-office"].mean() == pytest.approx(1.0, abs=0.01)
    assert quarter.kpis["backlog_growth_per_day"].mean() > 60


def test_a_desk_group_may_have_its_own_availability():
    data = availability_dict(1.0, 50)
    data["staff"]["desks"][0]["availability"] = 0.5
    sc = load_scenario(data)
    assert sc.staff.availability_of("desk") == 0.5
    assert pool_loads(sc)["desk"].capacity_erlangs == pytest.approx(2.0)


def test_availability_must_be_a_share_above_zero():
    with pytest.raises(simulator.ScenarioError) as err:
        load_scenario(availability_dict(0.0, 50))
    assert "staff.availability" in str(err.value)


# -- a channel added through its declaration only -------------------------------------
@pytest.fixture
def kiosk():
    """A self-service kiosk in the center's hall: dossiers dropped during opening
    hours and checked in the back office, like portal dossiers but not around the
    clock and not held by a portal outage."""
    kind = declare_channel(
        ChannelKind("kiosk", "back_office", label_vi="Ki-ốt", log_words=("máy tự phục vụ",))
    )
    yield kind
    del CHANNEL_KINDS["kiosk"]
    CHANNELS_BY_CODE.remove(kind)


def test_a_toy_channel_declared_as_data_is_filed_routed_accounted_and_named(kiosk):
    data = availability_dict(1.0, 40)
    data["horizon"] = {"days": 20, "warmup_days": 2}
    data["demand"]["channels"] = {"walk_in": 0.5, "kiosk": 0.5}
    data["procedures"][0]["processing_minutes"] = fixed(10)
    data["staff"]["back_office"] = 1
    sc = load_scenario(data)
    res = simulator.run(sc, 2, 1)
    rec = res.records
    kiosk_rows = rec[rec.channel == "kiosk"]
    assert 0.4 < len(kiosk_rows) / len(rec) < 0.6
    minute = kiosk_rows.arrival_minute % DAY
    assert ((minute >= OPEN) & (minute < 17 * 60)).all()  # filed while open only
    assert kiosk_rows.wait_minutes.isna().all()  # nobody queues at a desk
    # The work-load accounting charges the back office with the kiosk checks,
    # exactly as it would the same share of portal dossiers.
    online = dict(data, demand=dict(data["demand"], channels={"walk_in": 0.5, "online": 0.5}))
    as_online = pool_loads(load_scenario(online))["back-office"].back_office_erlangs
    assert pool_loads(sc)["back-office"].back_office_erlangs == pytest.approx(as_online)
    assert np.isfinite(res.kpis["utilization.back-office"]).all()


def test_a_toy_channel_is_written_and_read_in_a_records_log_and_has_an_editor_input(
    kiosk, tmp_path
):
    data = availability_dict(1.0, 40)
    data["horizon"] = {"days": 10, "warmup_days": 0}
    data["demand"]["channels"] = {"walk_in": 0.5, "kiosk": 0.5}
    data["staff"]["back_office"] = 1
    sc = load_scenario(data)
    res = simulator.run(sc, 1, 3)
    export, _ = export_log(res.records, sc, language="vi")
    assert set(export["Hình thức nộp"]) == {"Trực tiếp", "Ki-ốt"}
    kiosk_rows = export.index[export["Hình thức nộp"] == "Ki-ốt"]
    export.loc[kiosk_rows[::2], "Hình thức nộp"] = "MÁY TỰ PHỤC VỤ"  # a log's own word
    write_table(export, tmp_path / "export.csv")
    table = read_export([tmp_path / "export.csv"])
    assert table.bad.empty
    # Read back channel by channel, the log's own word too: the simulated counts.
    read = table.frame["channel"].astype(str).value_counts()
    assert read.to_dict() == res.records["channel"].value_counts().to_dict()
    (field,) = [f for g in editor_groups(data) for f in g.fields if f.key == "kiosk"]
    assert (field.path, field.label, field.value) == (
        "demand.channels.kiosk",
        "kiosk (Ki-ốt)",
        "0.5",
    )


def test_a_channel_may_not_take_another_channels_log_word():
    with pytest.raises(ValueError, match="'Direct', a word of channel 'walk_in'"):
        declare_channel(ChannelKind("booth", "back_office", log_words=("Direct",)))
    assert "booth" not in CHANNEL_KINDS


def test_a_share_of_a_channel_not_declared_in_a_worker_process_is_an_error_not_lost(kiosk):
    """A worker that starts a fresh interpreter (spawn, a Dask worker) has not run the
    declaration: the scenario it unpickles names a channel it does not know. Its
    filings must not vanish from the run in silence."""
    data = availability_dict(1.0, 40)
    data["demand"]["channels"] = {"walk_in": 0.5, "kiosk": 0.5}
    data["staff"]["back_office"] = 1
    sc = load_scenario(data)
    code = (
        "import pickle, sys\n"
        "from simulator.model import simulate_replication\n"
        "simulate_replication(pickle.load(sys.stdin.buffer), 1, 0)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(sc), capture_output=True, check=False
    )
    assert out.returncode != 0
    assert b"channel 'kiosk' has a share but is not declared in this process" in out.stderr


def test_a_channel_declared_before_the_scenario_models_are_imported_loads_every_scenario():
    """A contributor's ``declare_channel`` in a module imported first (as a plug-in
    would be): the shipped scenarios, which do not name it, still load."""
    code = (
        "from simulator.scenario.channels import ChannelKind, declare_channel\n"
        "declare_channel(ChannelKind('booth', 'back_office'))\n"
        "from simulator.scenario import load_scenario\n"
        "sc = load_scenario('scenarios/quang-nam-urban-ward.yaml')\n"
        "print(sc.demand.channels.as_dict()['booth'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0.0"


def test_a_channel_share_must_name_a_declared_channel():
    data = availability_dict(1.0, 40)
    data["demand"]["channels"] = {"walk_in": 0.5, "kiosk": 0.5}
    with pytest.raises(simulator.ScenarioError) as err:
        load_scenario(data)
    assert "demand.channels" in str(err.value) and "'kiosk'" in str(err.value)
