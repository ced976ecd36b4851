"""Tests for simulator.shifts: coverage of partial hours, the MILP plan against brute
force over every combination of pattern counts, the two objectives, the scenario
schedule shape and the errors for impossible inputs.

Everything is exact (integer programmes, no randomness beyond a seeded choice of
requirements), so no tolerance is needed except for sums of staff-hours.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from simulator.shifts import Pattern, build_patterns, coverage_by_hour, plan_shifts

SESSIONS = ["07:30-11:30", "13:30-17:00"]
OPEN_HOURS = [7, 8, 9, 10, 11, 13, 14, 15, 16]
SPLIT = {"name": "split", "spans": ["09:30-11:30", "13:30-15:30"]}
PEAK = {"name": "peak", "start": "08:00", "end": "10:30"}


def independent_cover(pattern_spans: list[list[tuple[int, int]]]) -> np.ndarray:
    """Patterns x open hours: 1 when on duty at every open minute of the hour.

    Written minute by minute, independently of the module, from the definition.
    """
    open_minutes = [m for a, b in [(450, 690), (810, 1020)] for m in range(a, b)]
    table = np.zeros((len(pattern_spans), len(OPEN_HOURS)), dtype=int)
    for i, spans in enumerate(pattern_spans):
        duty = {m for a, b in spans for m in range(a, b)}
        for j, h in enumerate(OPEN_HOURS):
            in_hour = [m for m in open_minutes if h * 60 <= m < h * 60 + 60]
            table[i, j] = all(m in duty for m in in_hour)
    return table


def brute_force(cover: np.ndarray, hours_each: np.ndarray, need: np.ndarray, top: int = 4):
    """Fewest (staff, staff-hours) and fewest (staff-hours, staff) over all counts 0..top."""
    combos = np.array(list(itertools.product(range(top + 1), repeat=cover.shape[0])))
    ok = np.all(combos @ cover >= need, axis=1)
    staff = combos[ok].sum(axis=1)
    work = combos[ok] @ hours_each
    by_staff = min(zip(staff, work, strict=True))
    by_work = min(zip(work, staff, strict=True))
    return by_staff, by_work


# ---------------------------------------------------------------------------------------
# Patterns and coverage
# ---------------------------------------------------------------------------------------


def test_named_patterns_follow_the_sessions():
    full, morning, afternoon = build_patterns(["full-day", "morning", "afternoon"], SESSIONS)
    assert full.spans == ((450, 690), (810, 1020))
    assert full.hours == 7.5
    assert (morning.start, morning.end, morning.hours) == ("07:30", "11:30", 4.0)
    assert (afternoon.start, afternoon.end, afternoon.hours) == ("13:30", "17:00", 3.5)


def test_windows_are_clipped_to_the_opening_and_duplicates_dropped():
    (window,) = build_patterns([{"name": "long", "start": "10:00", "end": "15:00"}], SESSIONS)
    assert window.span_texts() == ["10:00-11:30", "13:30-15:00"]
    assert window.hours == 3.0  # lunch is not working time
    # With one session, the morning is the full day.
    assert [p.name for p in build_patterns(["full-day", "morning"], ["07:30-11:30"])] == [
        "full-day"
    ]


def test_a_window_family_respects_its_length_and_step():
    family = build_patterns(
        [{"name": "flex", "start": "07:30", "end": "11:30", "min_hours": 2, "max_hours": 3}],
        SESSIONS,
    )
    assert all(2 <= p.hours <= 3 for p in family)
    assert all(a % 30 == 0 for p in family for span in p.spans for a in span)
    assert "flex 07:30-09:30" in {p.name for p in family}
    assert len(family) == len({p.spans for p in family})


def test_coverage_of_an_hour_needs_the_whole_open_part():
    """A session ending at 11:30 leaves hour 11 half open: the morning covers it.
    A window leaving at 10:30 does not cover hour 10, open throughout."""
    patterns = build_patterns(
        ["morning", PEAK, {"name": "early", "start": "07:30", "end": "09:00"}], SESSIONS
    )
    morning, peak, early = patterns
    coverage = coverage_by_hour([(morning, 2), (peak, 1), (early, 1)], SESSIONS)
    assert coverage == {7: 3, 8: 4, 9: 3, 10: 2, 11: 2, 13: 0, 14: 0, 15: 0, 16: 0}


# ---------------------------------------------------------------------------------------
# The plan is minimal: brute force on small cases
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "patterns",
    [["full-day", "morning", "afternoon", SPLIT], ["morning", "afternoon", PEAK, SPLIT]],
    ids=["with-full-day", "with-peak"],
)
def test_the_plan_covers_every_hour_and_matches_brute_force(patterns):
    rng = np.random.default_rng(13)
    concrete = build_patterns(patterns, SESSIONS)
    cover = independent_cover([list(p.spans) for p in concrete])
    hours_each = np.array([p.hours for p in concrete])
    for _ in range(25):
        need = rng.integers(0, 5, size=len(OPEN_HOURS))
        requirement = dict(zip(OPEN_HOURS, need.tolist(), strict=True))
        by_staff, by_work = brute_force(cover, hours_each, need)
        for objective, (first, second) in (("staff", by_staff), ("staff_hours", by_work)):
            plan = plan_shifts(requirement, SESSIONS, patterns, objective=objective)
            assert all(plan.coverage[h] >= requirement[h] for h in OPEN_HOURS)
            got = (plan.staff, plan.staff_hours)
            if objective == "staff_hours":
                got = got[::-1]
            assert got[0] == pytest.approx(first)
            assert got[1] == pytest.approx(second)  # the tie-break is optimal too
            # The plan's own coverage agrees with the independent definition.
            counts = np.zeros(len(concrete), dtype=int)
            for s in plan.shifts:
                counts[[p.spans for p in concrete].index(s.spans)] += s.count
            assert (counts @ cover).tolist() == [plan.coverage[h] for h in OPEN_HOURS]


def test_the_two_objectives_differ_when_short_shifts_save_hours():
    """Needs at 09:00 and at 14:00 only: one full-day person (7.5 staff-hours) or two
    one-hour windows (2 staff, 2 staff-hours)."""
    patterns = [
        "full-day",
        "morning",
        "afternoon",
        {"name": "hour", "min_hours": 1, "max_hours": 1},
    ]
    requirement = {9: 1, 14: 1}
    fewest_staff = plan_shifts(requirement, SESSIONS, patterns, objective="staff")
    fewest_hours = plan_shifts(requirement, SESSIONS, patterns, objective="staff_hours")
    assert (fewest_staff.staff, fewest_staff.staff_hours) == (1, 7.5)
    assert [s.pattern for s in fewest_staff.shifts] == ["full-day"]
    assert (fewest_hours.staff, fewest_hours.staff_hours) == (2, 2.0)
    assert {s.pattern for s in fewest_hours.shifts} == {"hour 09:00-10:00", "hour 14:00-15:00"}


def test_totals_and_the_flat_comparison():
    requirement = {7: 2, 8: 3, 9: 3, 10: 3, 11: 2, 13: 1, 14: 2, 15: 2, 16: 1}
    plan = plan_shifts(requirement, SESSIONS, ["full-day", "morning", "afternoon"])
    assert plan.staff == 3  # 2 all day and 1 more in the morning
    assert plan.staff_hours == pytest.approx(2 * 7.5 + 4)
    assert plan.flat_staff == 3
    assert plan.flat_staff_hours == pytest.approx(3 * 7.5)
    assert plan.saved_staff_hours == pytest.approx(22.5 - 19.0)
    assert plan.surplus == {7: 1, 8: 0, 9: 0, 10: 0, 11: 1, 13: 1, 14: 0, 15: 0, 16: 1}
    assert [r.pattern for r in plan.roster()] == ["morning", "full-day", "full-day"]
    summary = plan.to_dict()
    assert summary["staff_hours"] == pytest.approx(19.0)
    assert summary["coverage"]["9"] == 3


def test_to_schedule_has_the_scenario_shape():
    requirement = {7: 3, 8: 3, 9: 3, 10: 3, 11: 3, 13: 2, 14: 2, 15: 2, 16: 2}
    plan = plan_shifts(requirement, SESSIONS, ["full-day", "morning", "afternoon"])
    assert plan.to_schedule() == {
        "shifts": [
            {"start": "07:30", "end": "11:30", "count": 3},
            {"start": "13:30", "end": "17:00", "count": 2},
        ]
    }
    split_plan = plan_shifts({10: 1, 11: 1, 14: 1}, SESSIONS, [SPLIT])
    schedule = split_plan.to_schedule()
    assert schedule == {
        "shifts": [
            {"start": "09:30", "end": "11:30", "count": 1},
            {"start": "13:30", "end": "15:30", "count": 1},
        ]
    }
    assert all(set(entry) == {"start", "end", "count"} for entry in schedule["shifts"])


def test_a_plan_with_nothing_required_is_empty():
    plan = plan_shifts({}, SESSIONS)
    assert plan.staff == 0
    assert plan.to_schedule() == {"shifts": []}


# ---------------------------------------------------------------------------------------
# Impossible inputs
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requirement", "patterns", "kwargs", "message"),
    [
        ({12: 1}, ["full-day"], {}, "hour 12 requires 1 staff but the center is closed"),
        ({9: 2}, ["afternoon"], {}, r"hour\(s\) 09:00"),
        ({10: 1}, [PEAK], {}, r"hour\(s\) 10:00"),  # leaves at 10:30
        ({9: -1}, ["full-day"], {}, "integer >= 0"),
        ({9: 1.5}, ["full-day"], {}, "integer >= 0"),
        ({25: 1}, ["full-day"], {}, "clock hours"),
        ({9: 3, 14: 3}, ["morning", "afternoon"], {"max_staff": 5}, "at most 5 staff"),
        ({9: 1}, ["night"], {}, "unknown shift pattern 'night'"),
        ({9: 1}, [{"name": "lunch", "start": "11:30", "end": "13:30"}], {}, "no time inside"),
        ({9: 1}, [{"name": "f", "min_hours": 3, "max_hours": 2}], {}, "min_hours is above"),
        ({9: 1}, [{"name": "f", "start": "08:00", "end": "09:00", "min_hours": 2}], {},
         "no window"),
        ({9: 1}, ["full-day"], {"objective": "cost"}, "objective"),
    ],
)  # fmt: skip
def test_impossible_inputs_are_clear_errors(requirement, patterns, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plan_shifts(requirement, SESSIONS, patterns, **kwargs)


def test_bad_sessions_are_errors():
    with pytest.raises(ValueError, match="not overlap"):
        plan_shifts({9: 1}, ["07:30-11:30", "11:00-17:00"])
    with pytest.raises(ValueError, match="session like"):
        plan_shifts({9: 1}, ["07:30"])


def test_a_pattern_object_is_accepted_and_clipped():
    (pattern,) = build_patterns([Pattern("odd", ((420, 600),))], SESSIONS)
    assert pattern.spans == ((450, 600),)
