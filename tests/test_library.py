"""The scenario library: every shipped scenario validates, runs, and reproduces
the figures its sources report (``pasc check``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import assert_conserved

import simulator
from simulator.calibration import check_calibration, prediction_range
from simulator.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))
LABELS = (
    "QN-targets",
    "QN-2024",
    "TAN-THANH",
    "TAN-LAP",
    "LAM-DONG",
    "HANOI",
    "HCMC-9",
    "HOI-AN",
    "QN-CONSTRUCTION",
    "NATIONAL",
    "HUE",
)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_validates_and_runs_quickly(path):
    sc = load_scenario(path)
    assert sc.name == path.stem, "the file name and the scenario name should agree"
    assert sc.source and all(label in LABELS for label in sc.source)
    assert path.read_text().startswith("#"), "a comment block says what is reported/assumed"
    short = sc.model_copy(
        update={"horizon": sc.horizon.model_copy(update={"days": min(sc.horizon.days, 5)})}
    )
    result = simulator.run(short, replications=2, seed=1, records=False)
    k = result.kpis
    assert_conserved(k)
    assert (k["records_filed"] > 0).all()


CALIBRATED = [p for p in SCENARIOS if load_scenario(p).calibration]


def test_the_library_declares_reported_figures():
    names = {p.stem for p in CALIBRATED}
    assert {
        "tan-thanh-first-week",
        "tan-lap-first-week",
        "hoi-an-year",
        "hanoi-ward-first-weeks",
    } <= names


@pytest.mark.parametrize("path", CALIBRATED, ids=lambda p: p.stem)
def test_reported_figures_lie_inside_the_prediction_range(path):
    sc = load_scenario(path)
    reps = min(sc.replications, 60)
    table = check_calibration(sc, replications=reps, workers=2)
    outside = table[~table["inside"]]
    assert outside.empty, outside.to_string()


def test_prediction_range_is_empirical_for_many_replications_and_never_negative():
    import numpy as np

    values = np.arange(100, dtype=float)
    mean, low, high = prediction_range(values)
    assert (low, high) == pytest.approx((2.475, 96.525))
    mean, low, high = prediction_range(np.array([0.0, 0.0, 1.0, 0.0]))
    assert low == 0.0 and high > 1.0
