"""simulator.compare and ``pasc compare``: common random numbers and paired differences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli import main
from simulator.compare import Comparison, compare, paired_difference, unique_labels
from simulator.results import t_interval


@pytest.fixture()
def tiny(minimal_scenario_dict):
    data = minimal_scenario_dict()
    data["targets"] = [{"kpi": "wait_minutes.mean", "max": 30}]
    return data


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(tiny):
    sc = simulator.load_scenario(tiny)
    comparison = compare([sc, sc], replications=4, seed=3)
    assert comparison.labels == ["tiny", "tiny#2"]
    diffs = comparison.differences()
    defined = diffs.dropna(subset=["mean"])
    assert len(defined) == len(comparison.kpi_names())
    assert (defined["mean"] == 0).all()
    assert (defined["ci_low"] == 0).all() and (defined["ci_high"] == 0).all()
    wide = comparison.side_by_side()
    np.testing.assert_array_equal(wide["tiny.mean"], wide["tiny#2.mean"])


def test_more_staff_same_citizens(tiny):
    """Common random numbers: changing staff changes waits, never the demand."""
    tiny["demand"]["records_per_day"] = 150  # desk alpha about 60 % busy with one staff
    a = simulator.load_scenario(tiny)
    tiny["staff"]["desks"][0]["count"] = 3
    tiny["name"] = "more-staff"
    b = simulator.load_scenario(tiny)
    comparison = compare([a, b], replications=5, seed=8)
    diffs = comparison.differences().set_index("kpi")
    assert diffs.loc["records_filed", "mean"] == 0
    assert diffs.loc["records_filed", "ci_high"] == 0
    # Paired: the difference is the t-interval of B_i - A_i, not of two independent means.
    ka, kb = (r.kpis["wait_minutes.mean"].to_numpy() for r in comparison.results)
    mean, low, high = t_interval(kb - ka)
    assert diffs.loc["wait_minutes.mean", ["mean", "ci_low", "ci_high"]].tolist() == pytest.approx(
        [mean, low, high]
    )
    assert high < 0  # three desks instead of one: walk-ins on that desk wait less
    assert comparison.to_dict()["differences"][0]["kpis"]["records_filed"]["mean"] == 0


def test_paired_difference_leaves_out_undefined_pairs():
    mean, low, high, n = paired_difference([1.0, 2.0, np.nan, 4.0], [2.0, 2.5, 7.0, 5.0])
    assert n == 3
    assert mean == pytest.approx((1 + 0.5 + 1) / 3)
    assert low < mean < high
    with pytest.raises(ValueError, match="as many replications"):
        paired_difference([1.0, 2.0], [1.0])


def test_unique_labels():
    assert unique_labels(["a", "b", "a", "a"]) == ["a", "b", "a#2", "a#3"]


def test_defaults_come_from_the_scenarios(tiny):
    a = simulator.load_scenario(tiny)
    tiny["replications"] = 4
    tiny["seed"] = 99
    b = simulator.load_scenario(tiny)
    ticks: list[tuple[int, int]] = []
    comparison = compare([a, b], progress=lambda done, total: ticks.append((done, total)))
    assert isinstance(comparison, Comparison)
    assert comparison.replications == 4 and comparison.seed == a.seed
    assert ticks[-1] == (8, 8) and len(ticks) == 8


def _invoke(args: list[str]):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_compare_json_and_folder(tiny, write_yaml, tmp_path):
    path = write_yaml(tmp_path, "tiny.yaml", tiny)
    result = _invoke(
        ["compare", path, path, "-r", 3, "--seed", 4, "--out", tmp_path / "o", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["scenarios"] == ["tiny", "tiny#2"] and payload["replications"] == 3
    for kpi, value in payload["differences"][0]["kpis"].items():
        if value["mean"] is not None:
            assert value == {"mean": 0.0, "ci_low": 0.0, "ci_high": 0.0}, kpi
    folder = Path(payload["run_folder"])
    assert folder.parent == tmp_path / "o" / "compare"
    names = {p.name for p in folder.iterdir()}
    assert {
        "compare.json",
        "kpis.csv",
        "summary.csv",
        "side_by_side.csv",
        "differences.csv",
        "targets.csv",
        "compare.png",
        "report.html",
        "scenarios",
    } <= names
    assert sorted(p.name for p in (folder / "scenarios").iterdir()) == [
        "1-tiny.yaml",
        "2-tiny#2.yaml",
    ]


def test_cli_compare_table(tiny, write_yaml, tmp_path):
    path = write_yaml(tmp_path, "tiny.yaml", tiny)
    result = _invoke(["compare", path, path, "-r", 2, "--out", tmp_path / "o", "-q"])
    assert result.exit_code == 0, result.output
    assert "A = tiny" in result.output and "B = tiny#2" in result.output
    assert "wait_minutes.mean" in result.output and "B − A" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["one"], "expected at least two scenarios"),
        (["one", "missing.yaml"], "missing.yaml"),
        (["one", "one", "-r", "1"], "1"),
    ],
)
def test_cli_compare_bad_input_exits_2(tiny, write_yaml, tmp_path, args, message):
    path = write_yaml(tmp_path, "one.yaml", tiny)
    args = [
        str(path) if a == "one" else str(tmp_path / a) if a.endswith(".yaml") else a for a in args
    ]
    result = _invoke(["compare", *args, "--out", tmp_path / "o"])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o" / "compare").exists()
