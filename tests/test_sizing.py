"""Sizing against Erlang C, monotonicity, unreachable targets, quotas."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from builders import busy_office_dict, mmc_dict

from simulator import analytic
from simulator.quota import annual_demand, compare_quota, quota_staffing
from simulator.scenario import load_scenario
from simulator.sizing import SCREENING_REPLICATIONS, lower_bound, size
from simulator.workload import pool_loads


def _mmc_sized(
    per_hour: float, mean_service: float, target: dict, days: int = 40, replications: int = 20
):
    servers = 1  # the count in the file does not matter: sizing replaces it
    rho = per_hour / 60 * mean_service / servers
    data = mmc_dict(servers, rho, mean_service, days=days, warmup_days=2, targets=[target])
    sc = load_scenario(data)
    return size(sc, replications=replications, max_replications=4 * replications, workers=2)


@pytest.mark.parametrize(
    "per_hour,mean_service,target",
    [
        (21.0, 10.0, {"kpi": "wait_minutes.mean", "max": 3.0}),
        (30.0, 8.0, {"kpi": "wait_minutes.p90", "max": 10.0}),
    ],
)
def test_size_matches_erlang_c_on_continuous_mmc(per_hour, mean_service, target):
    # The simulated answer is the smallest staff whose *whole* 95 % interval
    # meets the target. Where the analytic value at the Erlang C answer sits
    # close to the threshold the interval can straddle it even after the extra
    # replications, and the search moves one up: hence +-1 (never more).
    result = _mmc_sized(per_hour, mean_service, target)
    lam = per_hour / 60
    if target["kpi"] == "wait_minutes.mean":
        expected = analytic.min_servers_for_wait(lam, mean_service, target["max"])
    else:
        expected = analytic.min_servers_for_wait_quantile(lam, mean_service, 0.9, target["max"])
    assert abs(result.answer["desk"] - expected) <= 1, (result.answer, expected)
    assert result.analytic_estimate["desk"] == expected
    assert result.binding_target == target["kpi"]
    # the candidate just below the answer does not pass
    below = [c for c in result.curve if c.staff["desk"] == result.answer["desk"] - 1]
    assert all(not c.passes for c in below)


def test_more_demand_never_needs_fewer_staff():
    answers = []
    for per_hour in (12.0, 18.0, 24.0, 30.0):
        r = _mmc_sized(
            per_hour, 10.0, {"kpi": "wait_minutes.p90", "max": 10.0}, days=8, replications=10
        )
        answers.append(r.answer["desk"])
    assert answers == sorted(answers)
    assert answers[-1] > answers[0]


def test_several_desk_groups_greedy_then_trim():
    data = busy_office_dict(
        targets=[{"kpi": "wait_minutes.p90", "max": 15}, {"kpi": "on_time_rate", "min": 0.9}]
    )
    sc = load_scenario(data)
    result = size(sc, replications=10, max_replications=20, workers=2)
    assert result.answer is not None
    chosen = result.chosen
    assert chosen.passes
    # minimality: removing one staff member from any sized group does not pass
    for desk, n in result.answer.items():
        if n > result.lower_bound[desk]:
            fewer = [c for c in result.curve if c.staff == {**chosen.staff, desk: n - 1}]
            assert fewer and not fewer[0].passes
    assert result.binding_target in ("wait_minutes.p90", "on_time_rate", "keeps_up")
    assert all(result.answer[d] >= result.lower_bound[d] for d in result.answer)


def test_screening_stops_clear_failures_early_and_spends_full_count_on_the_answer():
    # M/M/c with offered load 3.6: 4 servers fail by far, 6 pass.
    data = mmc_dict(4, 0.9, 10.0, days=5, targets=[{"kpi": "wait_minutes.p90", "max": 10}])
    result = size(load_scenario(data), replications=10, max_replications=20)
    first, second = SCREENING_REPLICATIONS
    by_staff = {c.staff["desk"]: c for c in result.curve}
    # 3.6 Erlangs: 3 servers are over capacity, below the lower bound, never simulated;
    # 4 (90 % busy, p90 about 50 minutes by Erlang C) fails at the first look.
    assert result.lower_bound["desk"] == 4 and 3 not in by_staff
    assert by_staff[4].replications == first and not by_staff[4].passes
    assert result.chosen.replications >= 10
    for c in result.curve:
        if c.replications < 10:  # left at a screening look: only ever for a fail
            assert c.replications in (first, second)
            assert (c.targets["verdict"] == "fail").any()
    # The reachability look at the ceiling (lower bound + 20 staff) did not fail,
    # so it stays out of the curve.
    assert max(by_staff) < result.lower_bound["desk"] + 20


def test_unreachable_handle_time_target_is_a_result_not_a_crash():
    # Desk time is lognormal with mean 40: no staffing brings its p90 under 30.
    data = mmc_dict(2, 0.5, 10.0, days=5, targets=[{"kpi": "handle_minutes.p90", "max": 30}])
    data["procedures"][0]["intake_minutes"] = {"dist": "lognormal", "mean": 40, "sd": 10}
    result = size(load_scenario(data), replications=5, max_staff=12)
    assert result.answer is None
    assert result.unreachable == ["handle_minutes.p90"]
    assert "handle_minutes.p90 (mean" in result.explanation  # with how far it is
    assert result.to_dict()["answer"] is None


def test_an_undecided_ceiling_gets_the_full_look_and_ends_the_search():
    # Desk time has mean exactly 10: a target of 10 is inconclusive at any staffing.
    # The ceiling's screening looks cannot tell, so it gets the full count, stays
    # not passing, and the search stops there instead of climbing to max_staff.
    data = mmc_dict(
        2, 0.5, 10.0, days=2, warmup_days=1, targets=[{"kpi": "handle_minutes.mean", "max": 10}]
    )
    result = size(load_scenario(data), replications=10, max_replications=40, max_staff=12)
    assert result.answer is None
    assert result.unreachable == ["handle_minutes.mean"]
    assert len(result.curve) == 2  # the lower bound and the ceiling, nothing in between


def test_lower_bound_is_the_offered_load_rounded_up():
    data = mmc_dict(3, 0.9, 10.0)  # 2.7 Erlangs
    sc = load_scenario(data)
    loads = pool_loads(sc)
    assert loads["desk"].walk_in_erlangs == pytest.approx(2.7)
    assert lower_bound(sc, "desk", loads["desk"]) == 3
    # exactly 3 Erlangs on 3 staff is 100 % of capacity: that cannot keep up either
    sc = load_scenario(mmc_dict(3, 1.0, 10.0))
    assert lower_bound(sc, "desk", pool_loads(sc)["desk"]) == 4


def test_back_office_load_counts_online_and_processing():
    sc = load_scenario(busy_office_dict())
    loads = pool_loads(sc)
    # land: 90/day x 0.3 share; walk-in 0.6 -> processing 60 min x (1 - 0.1 rejected)
    open_minutes = 450
    land_walk = 90 * 0.6 * 0.3
    land_online = 90 * 0.3 * 0.3
    land_postal = 90 * 0.1 * 0.3
    expected = (
        land_walk * 0.9 * 60 + land_online * (55 / 3 + 0.9 * 60) + land_postal * 0.9 * 60
    ) / open_minutes
    copy = 90 * 0.3 * (0.6 * 0.98 * 5 + 0.3 * (6 + 0.98 * 5) + 0.1 * 0.98 * 5) / open_minutes
    birth_checks = 90 * 0.3 * 0.4 * 10 / open_minutes  # online births, checked in the back
    # certification is shared by both groups; land is already the busier one, so the
    # balanced split (the model's routing by shortest wait) leaves all of it to one-stop
    assert loads["land"].load_ratio > loads["one-stop"].load_ratio
    assert loads["land"].back_office_erlangs == pytest.approx(expected)
    assert loads["one-stop"].back_office_erlangs == pytest.approx(copy + birth_checks)
    # and a land group twice as large takes its share of certification again
    bigger = load_scenario(
        busy_office_dict(
            staff={
                "desks": [
                    {"name": "one-stop", "count": 1, "fields": ["civil-status", "certification"]},
                    {"name": "land", "count": 6, "fields": ["land", "certification"]},
                ]
            }
        )
    )
    both = pool_loads(bigger)
    assert both["land"].back_office_erlangs > expected
    assert both["land"].load_ratio == pytest.approx(both["one-stop"].load_ratio)


def test_quota_table_for_three_classes():
    rows = {}
    for cls, per_day in (("urban", 40), ("rural", 25), ("disadvantaged", 10)):
        data = busy_office_dict(
            commune={"class": cls},
            demand={"records_per_day": per_day},
            targets=[{"kpi": "wait_minutes.p90", "max": 15}],
        )
        sc = load_scenario(data)
        rows[cls] = compare_quota(sc, replications=6, workers=2)
    quotas = {"urban": 1600, "rural": 1200, "disadvantaged": 800}
    for cls, r in rows.items():
        assert r.quota == quotas[cls]
        assert r.annual_demand == pytest.approx(r.quota * r.quota_staff_exact)
        assert r.quota_staff == max(4, -(-r.annual_demand // r.quota))
        assert sum(r.quota_staffing.values()) == r.quota_staff
        assert r.service_staff is not None
        expected = "service targets" if r.service_staff > r.quota_staff else "quota"
        assert r.binding == expected
        # more staff for the same demand -> fewer records per staff member
        if r.quota_staff > r.service_staff:
            assert r.records_per_staff_year_at_quota < r.records_per_staff_year_at_service


def test_quota_override_in_scenario():
    sc = load_scenario(
        busy_office_dict(commune={"class": "urban", "quota_records_per_staff_year": 2000})
    )
    assert sc.commune.quota == 2000
    assert annual_demand(sc) == 90 * 250


def test_quota_staffing_spreads_by_load():
    sc = load_scenario(busy_office_dict())
    staffing = quota_staffing(sc, 9)
    assert sum(staffing.values()) == 9
    assert staffing["land"] > staffing["one-stop"]  # land carries the heavy processing


def _write(tmp_path, name, data):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_cli_size_json_and_exit_codes(tmp_path):
    data = mmc_dict(2, 0.5, 10.0, days=5, targets=[{"kpi": "handle_minutes.p90", "max": 30}])
    data["procedures"][0]["intake_minutes"] = {"dist": "lognormal", "mean": 40, "sd": 10}
    data["replications"] = 4
    bad = _write(tmp_path, "unreachable", data)
    cmd = [
        sys.executable,
        "-m",
        "simulator.cli",
        "size",
        bad,
        "--max-staff",
        "6",
        "--out",
        str(tmp_path / "out"),
        "--json",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["answer"] is None and payload["unreachable_targets"] == ["handle_minutes.p90"]
    assert {"answer", "binding_target", "curve"} <= payload.keys()
    strict = subprocess.run([*cmd, "--strict"], capture_output=True, text=True)
    assert strict.returncode == 1
    folders = list((tmp_path / "out" / "mmc").iterdir())
    assert len(folders) == 2 and all((f / "curve.csv").exists() for f in folders)


def test_cli_erlang_json():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator.cli",
            "erlang",
            "--per-hour",
            "60",
            "--handle-minutes",
            "10",
            "--wait-target",
            "0.333",
            "--service-level",
            "0.8",
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    answer = payload["answer"]
    rows = {r["staff"]: r for r in payload["rows"]}
    assert rows[answer]["service_level"] >= 0.8 > rows[answer - 1]["service_level"]
    row = rows[answer]
    assert set(row) >= {"staff", "p_wait", "mean_wait_minutes", "service_level", "occupancy"}


def test_cli_erlang_bad_input_exit_2():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator.cli",
            "erlang",
            "--per-hour",
            "10",
            "--handle-minutes",
            "5",
            "--service-level",
            "0.8",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "--wait-target" in proc.stderr and "Traceback" not in proc.stderr
