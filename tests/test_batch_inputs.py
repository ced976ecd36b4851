"""Batch commands and odd files (issue 10, item 5).

``pasc check a.yaml b.yaml ...`` skips a file without a ``calibration:`` list
(with a note naming it) and checks the rest; a province file given to a
one-scenario command is named as a province file, with the commands that take
one, instead of a cascade of key errors (CLI and ``load_scenario`` alike).

The CLI runs in-process (click's CliRunner): an uncaught exception would show
as ``result.exception`` and exit code 1, so ``exit_code == 2`` also means "no
traceback". Checks use two replications of a two-day scenario.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.scenario import ScenarioError, load_scenario
from simulator.sweep import plan_sweep

REPO = Path(__file__).resolve().parents[1]
PROVINCE = REPO / "scenarios" / "provinces" / "demo-province.yaml"


def pasc(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def scenario_file(tmp_path, minimal_scenario_dict, write_yaml):
    """``scenario_file(name, reported=None)``: a tiny scenario, calibrated when ``reported``."""

    def make(name: str, reported: float | None = None) -> Path:
        data = minimal_scenario_dict()
        data["name"] = name
        if reported is not None:
            data["calibration"] = [{"kpi": "records_filed", "reported": reported, "source": "T"}]
        return write_yaml(tmp_path, f"{name}.yaml", data)

    return make


@pytest.fixture
def province_file(tmp_path, write_yaml):
    """A copy of the shipped demo province in a folder of its own (bases are not read)."""
    return write_yaml(tmp_path / "provinces", "demo.yaml", PROVINCE.read_text(encoding="utf-8"))


# --- pasc check: skip, do not stop ----------------------------------------------------


def test_check_skips_a_file_without_calibration_and_checks_the_next(scenario_file):
    plain = scenario_file("plain")
    calibrated = scenario_file("calibrated", reported=80)  # 40 a day for 2 days
    result = pasc("check", "-r", "2", "--json", plain, calibrated)
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"calibrated"}
    note = f"pasc: {plain}: skipped, no calibration: list"
    assert note in result.stderr
    assert str(calibrated) not in result.stderr


def test_check_goes_on_past_several_skips(scenario_file):
    files = [
        scenario_file("first", reported=80),
        scenario_file("plain-a"),
        scenario_file("second", reported=80),
        scenario_file("plain-b"),
    ]
    result = pasc("check", "-r", "2", "--json", *files)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["first", "second"]  # the JSON shape: scenario -> rows
    assert [row["kpi"] for row in data["second"]] == ["records_filed"]
    skipped = [line for line in result.stderr.splitlines() if "skipped" in line]
    assert skipped == [
        f"pasc: {files[1]}: skipped, no calibration: list (nothing reported to check)",
        f"pasc: {files[3]}: skipped, no calibration: list (nothing reported to check)",
    ]


def test_check_table_names_the_scenario_checked_after_a_skip(scenario_file):
    result = pasc("check", "-r", "2", scenario_file("plain"), scenario_file("tabled", reported=80))
    assert result.exit_code == 0, result.output
    assert "tabled: reported vs simulated" in result.stdout


def test_check_strict_still_fails_a_figure_outside_after_a_skip(scenario_file):
    plain = scenario_file("plain")
    off = scenario_file("way-off", reported=100_000)
    assert pasc("check", "-r", "2", "--strict", plain, off).exit_code == 1
    relaxed = pasc("check", "-r", "2", "--json", plain, off)
    assert relaxed.exit_code == 0, relaxed.output
    assert json.loads(relaxed.stdout)["way-off"][0]["inside"] is False


def test_check_without_any_calibration_is_bad_input_naming_every_file(scenario_file):
    a, b = scenario_file("plain-a"), scenario_file("plain-b")
    result = pasc("check", "-r", "2", a, b)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"{a}, {b}: calibration: expected reported figures" in result.stderr
    assert "skipped" not in result.stderr


def test_check_single_file_without_calibration_keeps_its_message(scenario_file):
    plain = scenario_file("plain")
    result = pasc("check", plain)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"pasc: {plain}: calibration: expected reported figures")


# --- province files given to one-scenario commands ------------------------------------


def assert_province_message(result, path: Path) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.startswith("pasc: ")]
    assert len(lines) == 1, result.stderr  # one message, not a cascade
    line = lines[0]
    assert line.startswith(f"pasc: {path}: ")
    assert "expected a commune scenario, found a province file" in line
    assert "'communes'" in line
    assert "pasc province" in line and "pasc sweep" in line
    assert "unknown key" not in result.stderr and "missing" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["run", "-r", "2", "--out", "{tmp}"],
        ["size", "--out", "{tmp}"],
        ["validate"],
        ["check", "-r", "2"],
        ["quota"],
    ],
    ids=lambda c: c[0],
)
def test_province_file_to_one_scenario_command(command, province_file, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path / "out")) for a in command]
    result = pasc(*args, province_file)
    assert_province_message(result, province_file)
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_province_file_in_a_comparison(province_file, scenario_file, tmp_path):
    result = pasc(
        "compare", "-r", "2", "--out", tmp_path / "out", scenario_file("tiny"), province_file
    )
    assert_province_message(result, province_file)


def test_province_file_in_a_check_batch_is_bad_input(province_file, scenario_file):
    # The batch goes on: the valid file is checked, the province file reported, exit 2.
    result = pasc("check", "-r", "2", "--json", scenario_file("ok", reported=80), province_file)
    assert_province_message(result, province_file)
    assert list(json.loads(result.stdout)) == ["ok"]


def test_validate_reports_the_province_file_and_validates_the_others(
    province_file, scenario_file, minimal_scenario_dict, write_yaml, tmp_path
):
    before = scenario_file("before")
    after = scenario_file("after")
    broken = minimal_scenario_dict()
    broken["demand"]["records_per_dya"] = 3
    bad = write_yaml(tmp_path, "bad.yaml", broken)
    result = pasc("validate", before, province_file, after, bad)
    assert result.exit_code == 2, result.output
    assert f"{before}: valid (before:" in result.stdout
    assert f"{after}: valid (after:" in result.stdout
    assert str(province_file) not in result.stdout
    province_lines = [line for line in result.stderr.splitlines() if str(province_file) in line]
    assert len(province_lines) == 1
    assert "found a province file" in province_lines[0]
    assert f"{bad}: demand.records_per_dya" in result.stderr  # other mistakes still reported


def test_load_scenario_names_a_province_file(province_file):
    with pytest.raises(ScenarioError) as info:
        load_scenario(province_file)
    err = info.value
    assert err.file == str(province_file)
    assert len(err.problems) == 1
    assert "found a province file" in err.message()
    assert "load_province" in err.message()


def test_load_scenario_names_a_province_mapping():
    import yaml

    data = yaml.safe_load(PROVINCE.read_text(encoding="utf-8"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert len(info.value.problems) == 1
    assert "expected a commune scenario, found a province" in info.value.message()


def test_extending_a_province_file_names_the_province_file(province_file, write_yaml):
    child = write_yaml(province_file.parent, "child.yaml", {"extends": "demo.yaml", "name": "c"})
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.file == str(province_file)
    assert "found a province file" in info.value.message()


def test_sweep_still_takes_a_province_file():
    plan = plan_sweep(PROVINCE, replications=2)
    assert plan.kind == "province"
    assert len(plan.variants) == 3


# --- pasc quota and check: every valid file is processed, then exit 2 ------------------


def test_quota_goes_on_past_an_invalid_file_and_exits_2(
    scenario_file, tmp_path, minimal_scenario_dict, write_yaml
):
    data = minimal_scenario_dict()
    data["name"] = "sized"
    data["targets"] = [{"kpi": "wait_minutes.mean", "max": 30}]
    good = write_yaml(tmp_path, "sized.yaml", data)
    broken = write_yaml(tmp_path, "broken.yaml", {**data, "name": "Broken Name"})
    result = pasc("quota", "-r", "2", "--json", broken, good)
    assert result.exit_code == 2, result.output
    assert [row["scenario"] for row in json.loads(result.stdout)] == ["sized"]
    assert "broken.yaml" in result.stderr and "name" in result.stderr


def test_check_reports_an_invalid_file_after_checking_the_others(scenario_file, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nhorizon: {days: 0}\n", encoding="utf-8")
    result = pasc("check", "-r", "2", "--json", bad, scenario_file("fine", reported=80))
    assert result.exit_code == 2
    assert list(json.loads(result.stdout)) == ["fine"]
    assert "bad.yaml" in result.stderr
