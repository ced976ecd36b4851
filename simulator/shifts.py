"""Shift plans: turn "staff needed per clock hour" into who works which shift.

An hourly requirement (``{9: 4, 10: 3, 14: 2, ...}``, e.g. from
:func:`simulator.staffing_by_hour.iterative_staffing`) is not yet a plan a
commune can run: people work whole sessions or agreed shifts, not single
hours. A **pattern** is one kind of working day, a set of on-duty periods
inside the opening sessions:

* ``"full-day"``: every session (07:30-11:30 and 13:30-17:00: off over the
  lunch closure, when the center is closed anyway);
* ``"morning"``: the first session; ``"afternoon"``: the last one;
* a **split shift** ``{"name": "split", "spans": ["09:30-11:30", "13:30-15:30"]}``:
  any explicit list of periods (typically the end of the morning peak and
  the start of the afternoon);
* a **custom window** ``{"name": "peak", "start": "08:30", "end": "11:30"}``;
  with ``min_hours`` / ``max_hours`` (and ``step_minutes``, default 30) it is
  a *family*: every window inside ``start``-``end`` whose working time is
  within those bounds, starting and ending on the step.

Every period is clipped to the opening sessions: staff are on duty only while
the center is open, and a pattern's **working time** (its staff-hours) counts
only open minutes.

**Coverage of an hour** is the number of staff on duty during the whole open
part of that hour, i.e. the fewest on duty at any open minute of it. A session
ending at 11:30 leaves hour 11 open 30 minutes, and a morning shift covers it;
a window 08:00-10:30 covers hours 8 and 9 but not 10 (it leaves half-way
through an hour that is open throughout). The plan must give every open hour
``h`` coverage ``>= r_h``.

**The integer programme.** One integer variable ``x_p >= 0`` per pattern: how
many staff work it. With ``a_ph = 1`` when pattern ``p`` covers hour ``h``:

    minimise   sum_p c_p x_p
    subject to sum_p a_ph x_p >= r_h    for every open hour h
               x_p integer in [0, max_h r_h]

where ``c_p = 1`` (fewest staff, ``objective="staff"``) or ``c_p`` = the
pattern's working hours (fewest staff-hours, ``objective="staff_hours"``).
The other quantity breaks ties: a second solve keeps the first optimum and
minimises it. Both are solved by :func:`scipy.optimize.milp` (HiGHS). The
bound ``max r_h`` loses nothing: more staff on one pattern than the largest
requirement never helps. This is the classic set-covering model of shift
scheduling (Dantzig, 1954).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from simulator.staffing_by_hour import MINUTES_PER_DAY, parse_clock_minutes, parse_sessions

__all__ = [
    "DEFAULT_PATTERNS",
    "Pattern",
    "Shift",
    "ShiftPlan",
    "build_patterns",
    "coverage_by_hour",
    "plan_shifts",
]

Objective = Literal["staff", "staff_hours"]
PatternSpec = str | Mapping[str, Any]

#: The patterns of a plan when none are given.
DEFAULT_PATTERNS: tuple[str, ...] = ("full-day", "morning", "afternoon")
_NAMED = {"full-day": "full-day", "full_day": "full-day", "morning": "morning"}
_NAMED |= {"afternoon": "afternoon"}
_DEFAULT_STEP_MINUTES = 30
_TOLERANCE = 1e-6


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Pattern:
    """One kind of working day: on-duty periods in minutes after midnight.

    Attributes:
        name: what the planner calls it (``morning``, ``split``, ``peak 08:30-11:30``).
        spans: on-duty periods ``(start, end)``, inside the opening sessions, in order.
    """

    name: str
    spans: tuple[tuple[int, int], ...]

    @property
    def minutes(self) -> int:
        """Working minutes (all open, by construction)."""
        return sum(end - start for start, end in self.spans)

    @property
    def hours(self) -> float:
        """Working hours: the staff-hours of one staff member on this pattern."""
        return self.minutes / 60.0

    @property
    def start(self) -> str:
        """``HH:MM`` of the first minute on duty."""
        return _clock(self.spans[0][0])

    @property
    def end(self) -> str:
        """``HH:MM`` of the end of the last period on duty."""
        return _clock(self.spans[-1][1])

    def span_texts(self) -> list[str]:
        """The periods as ``"07:30-11:30"`` strings."""
        return [f"{_clock(a)}-{_clock(b)}" for a, b in self.spans]


def _clip(
    periods: Sequence[tuple[int, int]], sessions: Sequence[tuple[int, int]]
) -> tuple[tuple[int, int], ...]:
    pieces = []
    for a, b in periods:
        for s, e in sessions:
            lo, hi = max(a, s), min(b, e)
            if lo < hi:
                pieces.append((lo, hi))
    pieces.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in pieces:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _window(spec: Mapping[str, Any], key: str, sessions: Sequence[tuple[int, int]]) -> int:
    """The ``start`` or ``end`` of a window spec; by default the opening or the closing."""
    text = spec.get(key)
    if text is None:
        return sessions[0][0] if key == "start" else sessions[-1][1]
    return parse_clock_minutes(str(text))


def _family(
    name: str, spec: Mapping[str, Any], sessions: Sequence[tuple[int, int]]
) -> list[Pattern]:
    start, end = _window(spec, "start", sessions), _window(spec, "end", sessions)
    if start >= end:
        raise ValueError(f"pattern {name!r}: start must be before end")
    step = int(spec.get("step_minutes", _DEFAULT_STEP_MINUTES))
    if step <= 0:
        raise ValueError(f"pattern {name!r}: step_minutes must be > 0, got {step}")
    low = float(spec.get("min_hours", 0.0)) * 60
    high = float(spec.get("max_hours", math.inf)) * 60
    if low > high:
        raise ValueError(f"pattern {name!r}: min_hours is above max_hours")
    found = []
    for a in range(start, end, step):
        for b in range(a + step, end + 1, step):
            spans = _clip([(a, b)], sessions)
            minutes = sum(e - s for s, e in spans)
            if spans and low <= minutes <= high and spans[0][0] == a and spans[-1][1] == b:
                # Windows starting or ending in a closure are the same shift as the
                # clipped one; keep only the window that starts and ends on duty.
                found.append(Pattern(f"{name} {_clock(a)}-{_clock(b)}", spans))
    if not found:
        raise ValueError(
            f"pattern {name!r}: no window between {_clock(start)} and {_clock(end)} "
            f"has a working time within [{low / 60:g}, {high / 60:g}] hours"
        )
    return found


def build_patterns(
    patterns: Sequence[PatternSpec | Pattern], sessions: Sequence[str]
) -> list[Pattern]:
    """The concrete patterns of a plan, from names and specs (see the module docstring).

    Two patterns with the same on-duty periods are one (the first name is
    kept): with a single session, ``morning`` and ``full-day`` coincide.

    Raises:
        ValueError: for an unknown name, a spec with no open time, or bad bounds.
    """
    opening = parse_sessions(sessions)
    found: list[Pattern] = []
    for spec in patterns:
        if isinstance(spec, Pattern):
            new = [Pattern(spec.name, _clip(spec.spans, opening))]
        elif isinstance(spec, str):
            key = _NAMED.get(spec)
            if key is None:
                raise ValueError(
                    f"unknown shift pattern {spec!r}: use 'full-day', 'morning', "
                    "'afternoon' or a mapping with 'spans' or 'start'/'end'"
                )
            chosen = {"full-day": opening, "morning": opening[:1], "afternoon": opening[-1:]}
            new = [Pattern(key, tuple(chosen[key]))]
        elif isinstance(spec, Mapping):
            name = str(spec.get("name", "custom"))
            if "spans" in spec:
                periods = parse_sessions(list(spec["spans"]))
                new = [Pattern(name, _clip(periods, opening))]
            elif "min_hours" in spec or "max_hours" in spec:
                new = _family(name, spec, opening)
            else:
                a, b = _window(spec, "start", opening), _window(spec, "end", opening)
                if a >= b:
                    raise ValueError(f"pattern {name!r}: start must be before end")
                new = [Pattern(name, _clip([(a, b)], opening))]
        else:
            raise ValueError(f"a shift pattern is a name or a mapping, found {spec!r}")
        for p in new:
            if not p.spans:
                raise ValueError(f"pattern {p.name!r} has no time inside the opening sessions")
            if all(p.spans != q.spans for q in found):
                found.append(p)
    if not found:
        raise ValueError("at least one shift pattern is needed")
    return found


def _open_hours(opening: Sequence[tuple[int, int]]) -> dict[int, np.ndarray]:
    """Open minutes (as a boolean mask of the hour's 60 minutes) of each open clock hour."""
    mask = np.zeros(MINUTES_PER_DAY, dtype=bool)
    for a, b in opening:
        mask[a:b] = True
    by_hour = mask.reshape(24, 60)
    return {h: by_hour[h] for h in range(24) if by_hour[h].any()}


def _covers(pattern: Pattern, hour_mask: np.ndarray, hour: int) -> bool:
    duty = np.zeros(60, dtype=bool)
    for a, b in pattern.spans:
        lo, hi = max(a, hour * 60), min(b, hour * 60 + 60)
        if lo < hi:
            duty[lo - hour * 60 : hi - hour * 60] = True
    return bool(np.all(duty[hour_mask]))


def coverage_by_hour(
    counts: Sequence[tuple[Pattern, int]], sessions: Sequence[str]
) -> dict[int, int]:
    """Staff on duty during the whole open part of each open clock hour."""
    hours = _open_hours(parse_sessions(sessions))
    return {h: sum(n for p, n in counts if _covers(p, m, h)) for h, m in hours.items()}


@dataclass(frozen=True)
class Shift:
    """Staff working one pattern.

    Attributes:
        pattern: the pattern's name.
        spans: its on-duty periods ``(start, end)`` in minutes after midnight.
        count: how many staff work it.
    """

    pattern: str
    spans: tuple[tuple[int, int], ...]
    count: int

    @property
    def start(self) -> str:
        """``HH:MM`` of the first minute on duty."""
        return _clock(self.spans[0][0])

    @property
    def end(self) -> str:
        """``HH:MM`` of the end of the last period on duty."""
        return _clock(self.spans[-1][1])

    @property
    def hours(self) -> float:
        """Working hours of one staff member on this shift."""
        return sum(b - a for a, b in self.spans) / 60.0


@dataclass(frozen=True)
class ShiftPlan:
    """A shift plan that covers an hourly requirement, and how it compares with flat staffing.

    Attributes:
        shifts: the patterns worked (count >= 1), in order of start.
        requirement: staff required per open clock hour (0 where none was given).
        coverage: staff covering each open clock hour (see the module docstring).
        open_minutes: open minutes of each open clock hour.
        sessions: the opening sessions.
        objective: what was minimised first (``staff`` or ``staff_hours``).
        patterns: every concrete pattern that was allowed (windows expanded).
    """

    shifts: list[Shift]
    requirement: dict[int, int]
    coverage: dict[int, int]
    open_minutes: dict[int, float]
    sessions: tuple[str, ...]
    objective: Objective
    patterns: list[Pattern] = field(default_factory=list)

    @property
    def staff(self) -> int:
        """Staff members in the plan (each works one pattern)."""
        return sum(s.count for s in self.shifts)

    @property
    def staff_hours(self) -> float:
        """Staff-hours per day of the plan (open time on duty)."""
        return sum(s.count * s.hours for s in self.shifts)

    @property
    def flat_staff(self) -> int:
        """Flat staffing that meets the requirement: its highest hour, all day."""
        return max(self.requirement.values(), default=0)

    @property
    def flat_staff_hours(self) -> float:
        """Staff-hours per day of the flat staffing: ``flat_staff`` x open hours."""
        return self.flat_staff * sum(self.open_minutes.values()) / 60.0

    @property
    def saved_staff_hours(self) -> float:
        """Staff-hours per day the plan saves against flat staffing."""
        return self.flat_staff_hours - self.staff_hours

    @property
    def surplus(self) -> dict[int, int]:
        """Coverage above the requirement, per open hour (the plan's slack)."""
        return {h: self.coverage[h] - self.requirement.get(h, 0) for h in self.coverage}

    def roster(self) -> list[Shift]:
        """One entry per staff member (count 1), in order of start: the roster rows."""
        return [Shift(s.pattern, s.spans, 1) for s in self.shifts for _ in range(s.count)]

    def to_schedule(self) -> dict[str, list[dict[str, Any]]]:
        """The plan in the scenario's schedule format for a desk group's staff.

        ``{"shifts": [{"start": "07:30", "end": "11:30", "count": 2}, ...]}``: one
        entry per on-duty period (a full-day pattern is a morning and an
        afternoon entry, so no entry spans a closure), entries with the same
        period merged, in order of start then end.
        """
        counts: dict[tuple[int, int], int] = {}
        for s in self.shifts:
            for span in s.spans:
                counts[span] = counts.get(span, 0) + s.count
        return {
            "shifts": [
                {"start": _clock(a), "end": _clock(b), "count": n}
                for (a, b), n in sorted(counts.items())
            ]
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: shifts, coverage, totals and the flat comparison."""
        return {
            "objective": self.objective,
            "sessions": list(self.sessions),
            "shifts": [
                {
                    "pattern": s.pattern,
                    "start": s.start,
                    "end": s.end,
                    "spans": [f"{_clock(a)}-{_clock(b)}" for a, b in s.spans],
                    "count": s.count,
                }
                for s in self.shifts
            ],
            "requirement": {str(h): n for h, n in self.requirement.items()},
            "coverage": {str(h): n for h, n in self.coverage.items()},
            "staff": self.staff,
            "staff_hours": self.staff_hours,
            "flat_staff": self.flat_staff,
            "flat_staff_hours": self.flat_staff_hours,
            "saved_staff_hours": self.saved_staff_hours,
        }


def _check_requirement(
    requirement: Mapping[int, int], open_hours: Mapping[int, np.ndarray], sessions: Sequence[str]
) -> dict[int, int]:
    checked = {}
    for hour, need in requirement.items():
        if isinstance(hour, bool) or not isinstance(hour, (int, np.integer)) or not 0 <= hour < 24:
            raise ValueError(f"requirement hours are clock hours 0..23, found {hour!r}")
        if isinstance(need, bool) or int(need) != need or need < 0:
            raise ValueError(f"hour {hour}: the requirement must be an integer >= 0, got {need!r}")
        if need > 0 and hour not in open_hours:
            raise ValueError(
                f"hour {hour} requires {int(need)} staff but the center is closed then "
                f"(sessions {', '.join(sessions)})"
            )
        checked[int(hour)] = int(need)
    return {h: checked.get(h, 0) for h in open_hours}


def _solve(
    costs: np.ndarray,
    cover: np.ndarray,
    need: np.ndarray,
    upper: float,
    extra: list[LinearConstraint],
) -> np.ndarray | None:
    constraints = [LinearConstraint(cover, lb=need, ub=np.inf), *extra]
    result = milp(
        costs,
        constraints=constraints,
        integrality=np.ones(costs.size),
        bounds=Bounds(0, upper),
    )
    if not result.success:
        return None
    return np.round(result.x).astype(int)


def plan_shifts(
    requirement: Mapping[int, int],
    sessions: Sequence[str],
    patterns: Sequence[PatternSpec | Pattern] = DEFAULT_PATTERNS,
    *,
    objective: Objective = "staff",
    max_staff: int | None = None,
) -> ShiftPlan:
    """The shift plan with the fewest staff (or staff-hours) covering ``requirement``.

    Args:
        requirement: staff required per clock hour (``{9: 4, 10: 3, ...}``);
            hours left out require nobody.
        sessions: the opening sessions, e.g. ``["07:30-11:30", "13:30-17:00"]``.
        patterns: allowed patterns (names or specs, see the module docstring).
        objective: ``"staff"`` (fewest people; ties broken by staff-hours) or
            ``"staff_hours"`` (fewest staff-hours; ties broken by people).
        max_staff: at most this many staff in the plan.

    Returns:
        A :class:`ShiftPlan`.

    Raises:
        ValueError: for a requirement in a closed hour, in an hour no pattern
            covers, a bad pattern, or no plan within ``max_staff``.
    """
    if objective not in ("staff", "staff_hours"):
        raise ValueError(f"objective must be 'staff' or 'staff_hours', got {objective!r}")
    opening = parse_sessions(sessions)
    open_hours = _open_hours(opening)
    need = _check_requirement(requirement, open_hours, sessions)
    concrete = build_patterns(patterns, sessions)
    hours = list(open_hours)
    cover = np.array([[_covers(p, open_hours[h], h) for p in concrete] for h in hours], dtype=float)
    uncovered = [h for i, h in enumerate(hours) if need[h] > 0 and not cover[i].any()]
    if uncovered:
        raise ValueError(
            "no allowed shift pattern is on duty during the whole open part of hour(s) "
            + ", ".join(f"{h:02d}:00" for h in uncovered)
            + f", which require staff (patterns: {', '.join(p.name for p in concrete)})"
        )
    top = max(need.values(), default=0)
    open_minutes = {h: float(m.sum()) for h, m in open_hours.items()}
    if top == 0:
        return ShiftPlan(
            [], need, dict.fromkeys(hours, 0), open_minutes, tuple(sessions), objective, concrete
        )
    people = np.ones(len(concrete))
    work = np.array([p.hours for p in concrete])
    first, second = (people, work) if objective == "staff" else (work, people)
    needs = np.array([need[h] for h in hours], dtype=float)
    extra = []
    if max_staff is not None:
        extra.append(LinearConstraint(people[None, :], lb=0, ub=int(max_staff)))
    x = _solve(first, cover, needs, top, extra)
    if x is None:
        raise ValueError(f"no shift plan covers the requirement with at most {max_staff} staff")
    best = float(first @ x)
    keep = LinearConstraint(first[None, :], lb=0, ub=best + _TOLERANCE)
    refined = _solve(second, cover, needs, top, [*extra, keep])
    if refined is not None:
        x = refined
    chosen = [(p, int(n)) for p, n in zip(concrete, x, strict=True) if n > 0]
    chosen.sort(key=lambda pn: (pn[0].spans, pn[0].name))
    return ShiftPlan(
        shifts=[Shift(p.name, p.spans, n) for p, n in chosen],
        requirement=need,
        coverage=coverage_by_hour(chosen, sessions),
        open_minutes=open_minutes,
        sessions=tuple(sessions),
        objective=objective,
        patterns=concrete,
    )
