"""Tests for simulator.plots_by_hour: each figure draws what it says, without pyplot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest

from simulator.display import VERDICT_COLORS
from simulator.plots_by_hour import requirement_and_coverage, roster, wait_by_hour
from simulator.shifts import plan_shifts
from simulator.staffing_by_hour import HourMeasure, open_minutes_by_hour

SESSIONS = ["07:30-11:30", "13:30-17:00"]
REQUIREMENT = {7: 2, 8: 3, 9: 3, 10: 3, 11: 2, 13: 1, 14: 2, 15: 2, 16: 1}


def _gids(ax) -> set[str]:
    return {a.get_gid() for a in ax.get_children() if a.get_gid()}


def test_requirement_and_coverage_marks_short_hours():
    coverage = dict(REQUIREMENT) | {9: 2}
    fig = requirement_and_coverage(
        REQUIREMENT,
        coverage,
        open_minutes_per_hour=open_minutes_by_hour(SESSIONS),
        others={"flat": dict.fromkeys(REQUIREMENT, 3)},
    )
    gids = _gids(fig.axes[0])
    assert {"requirement", "coverage", "short:9", "other:flat"} <= gids
    assert not any(g.startswith("short:") and g != "short:9" for g in gids)


def test_requirement_and_coverage_of_a_plan_says_the_totals():
    plan = plan_shifts(REQUIREMENT, SESSIONS)
    fig = requirement_and_coverage(REQUIREMENT, plan)
    assert "saved 3.5" in fig.axes[0].get_title(loc="left")
    assert not any(g.startswith("short:") for g in _gids(fig.axes[0]))


def test_wait_by_hour_colours_dots_by_verdict():
    measures = {
        9: HourMeasure(8.0, 6.0, 10.0),
        10: HourMeasure(15.0, 13.0, 17.0),
        11: HourMeasure(25.0, 20.0, 30.0),
    }
    fig = wait_by_hour({"erlang": measures, "iterative": {h: 5.0 for h in measures}}, 14.0)
    ax = fig.axes[0]
    colors = [
        matplotlib.colors.to_hex(line.get_color())
        for line in ax.get_lines()
        if line.get_marker() == "o"
    ]
    for verdict in ("pass", "inconclusive", "fail"):
        assert VERDICT_COLORS[verdict] in colors
    assert "target" in _gids(ax)
    assert ax.get_ylim()[1] >= 30.0


def test_roster_draws_one_row_per_staff_member(tmp_path):
    plan = plan_shifts(REQUIREMENT, SESSIONS)
    fig = roster(plan)
    assert {f"staff:{i + 1}" for i in range(plan.staff)} <= _gids(fig.axes[0])
    fig.savefig(tmp_path / "roster.png")
    assert (tmp_path / "roster.png").stat().st_size > 1000


@pytest.mark.parametrize("figure", ["coverage", "wait"])
def test_empty_inputs_draw_a_message(figure):
    fig = requirement_and_coverage({}, {}) if figure == "coverage" else wait_by_hour({}, 10.0)
    assert fig.axes[0].texts
