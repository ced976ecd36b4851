"""Staffing by the hour: how many staff each clock hour needs, by formula and by simulation.

Citizens do not come evenly: the office profile peaks in the morning. One staff
count for the whole day either over-staffs the quiet hours or under-staffs the
peak. This module holds the pure mathematics of hour-by-hour staffing; it
never runs a simulation itself (the caller plugs one in, see
:func:`iterative_staffing`).

**Units.** Time of day is in *clock hours* ``0..23`` (hour 9 is 09:00-10:00) and
in *minutes after midnight* on the fine grids. ``arrivals_per_hour[h]`` is the
expected number of citizens arriving during clock hour ``h`` (what a daily
volume times the hourly profile gives), *not* a rate: when the hour is only
partly open (``open_minutes_per_hour[h] = 30`` for a session ending at 11:30),
those citizens arrive during its open minutes, at ``arrivals / open_minutes``
per minute. Service and wait times are in minutes; loads in Erlangs (busy
staff). A schedule is ``{hour: staff on duty}``.

Three formula answers (:func:`erlang_requirement`), all due to Green,
Kolesar and Soares (2001):

* **SIPP**, the *stationary independent period by period* method that every
  spreadsheet calculator uses: each hour is an M/M/c queue in steady state
  with that hour's arrival rate, sized with Erlang C. It is right when the
  hour is long against the service time and the load changes slowly. It goes
  wrong when service is long against the period or the load changes fast: a
  queue needs about one service time to follow a change in arrivals, so the
  busy staff after a rise are the citizens who arrived *earlier*, when fewer came.
* **Lagged SIPP**: the same, with the arrival rate shifted later by one mean
  service time, ``lambda(t - s)``: the crude correction for that delay.
* **Modified offered load**: the number of citizens who would be in service
  at time ``t`` with unlimited staff,
  ``m(t) = integral of lambda(u) P(S > t - u) du`` (the infinite-server queue
  ``M_t/G/inf``). For exponential service it is a first-order lag,
  ``dm/dt = lambda(t) - m(t) / s``; after a step from ``lambda0`` to
  ``lambda1`` it moves as ``lambda1 s - (lambda1 - lambda0) s exp(-t / s)``.
  Each instant is then sized with Erlang C at the effective rate ``m(t) / s``.

The formula answers are starting points. :func:`iterative_staffing` is the
simulation-based iterative staffing algorithm of Feldman, Mandelbaum, Massey
and Whitt (2008) in the discrete form a center needs: simulate the schedule,
measure each hour's wait quantile with its confidence interval, add a staff
member in each hour that does not meet the target, take one away where the
target is met with room to spare, and repeat until the schedule stops changing.

References:
    L. V. Green, P. J. Kolesar and J. Soares, "Improving the SIPP approach for
    staffing service systems that have cyclic demands", *Operations Research*
    49(4), 549-564, 2001.
    Z. Feldman, A. Mandelbaum, W. A. Massey and W. Whitt, "Staffing of
    time-varying queues to achieve time-stable performance", *Management
    Science* 54(2), 324-338, 2008.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.signal import convolve, lfilter

from simulator.analytic import erlang_a_service_level, min_servers_for_wait_quantile
from simulator.scenario.models import parse_clock, parse_session

__all__ = [
    "DEFAULT_STEP_DOWN_MARGIN",
    "MINUTES_PER_DAY",
    "FlatComparison",
    "HourMeasure",
    "Iteration",
    "IterationResult",
    "compare_with_flat",
    "erlang_requirement",
    "flat_schedule",
    "iterative_staffing",
    "lagged_offered_load",
    "modified_offered_load",
    "offered_load_by_hour",
    "open_minutes_by_hour",
    "parse_clock_minutes",
    "parse_sessions",
    "staff_hours",
]

Method = Literal["sipp", "lagged", "modified"]
Aggregate = Literal["mean", "max"]
HourVerdict = Literal["pass", "fail", "inconclusive"]
Status = Literal["converged", "cycle", "max_iterations", "at_maximum"]

MINUTES_PER_DAY = 1440
#: Step-down rule of :func:`iterative_staffing`: a staff member is taken away in an
#: hour only when the whole interval of its wait quantile is below this share of
#: the target (half: a wait p90 of at most 7.5 minutes against 15).
DEFAULT_STEP_DOWN_MARGIN = 0.5
_DEFAULT_STEP_MINUTES = 0.25


# --------------------------------------------------------------------------------------
# Opening hours on the clock
# --------------------------------------------------------------------------------------


def parse_clock_minutes(text: str) -> int:
    """``"07:30"`` -> 450 minutes after midnight (``"24:00"`` is 1440): the scenario
    format's rule (:func:`simulator.scenario.models.parse_clock`)."""
    return parse_clock(str(text).strip())


def parse_sessions(sessions: Sequence[str]) -> list[tuple[int, int]]:
    """``["07:30-11:30", "13:30-17:00"]`` -> ``[(450, 690), (810, 1020)]``, checked with
    the scenario format's rule (:func:`simulator.scenario.models.parse_session`).

    Sessions are opening periods in minutes after midnight; they must be in
    order and must not overlap (the gap between two is a closure, e.g. lunch).
    """
    spans: list[tuple[int, int]] = []
    for text in sessions:
        start, end = parse_session(str(text))
        if spans and start < spans[-1][1]:
            raise ValueError(f"sessions must be in order and not overlap, found {text!r}")
        spans.append((start, end))
    if not spans:
        raise ValueError("at least one session is needed")
    return spans


def open_minutes_by_hour(sessions: Sequence[str]) -> dict[int, float]:
    """Open minutes of each clock hour that the sessions touch.

    ``["07:30-11:30", "13:30-17:00"]`` gives ``{7: 30, 8: 60, 9: 60, 10: 60,
    11: 30, 13: 30, 14: 60, 15: 60, 16: 60}``: hour 12 is closed for lunch.
    """
    minutes = _open_mask_from_spans(parse_sessions(sessions))
    per_hour = minutes.reshape(24, 60).sum(axis=1)
    return {h: float(per_hour[h]) for h in range(24) if per_hour[h] > 0}


def _open_mask_from_spans(spans: Sequence[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(MINUTES_PER_DAY, dtype=bool)
    for start, end in spans:
        mask[start:end] = True
    return mask


def _check_hour(hour: object) -> int:
    if isinstance(hour, bool) or not isinstance(hour, (int, np.integer)) or not 0 <= hour < 24:
        raise ValueError(f"hours are clock hours 0..23, found {hour!r}")
    return int(hour)


def _hour_inputs(
    arrivals_per_hour: Mapping[int, float], open_minutes_per_hour: Mapping[int, float] | None
) -> tuple[dict[int, float], dict[int, float]]:
    """Checked arrivals and open minutes, over the hours that count (arrivals or open)."""
    arrivals = {}
    for hour, value in arrivals_per_hour.items():
        value = float(value)
        if not (value >= 0 and math.isfinite(value)):
            raise ValueError(f"arrivals in hour {hour} must be a finite number >= 0, got {value}")
        arrivals[_check_hour(hour)] = value
    if open_minutes_per_hour is None:
        opened = {h: 60.0 for h, v in arrivals.items() if v > 0}
    else:
        opened = {}
        for hour, value in open_minutes_per_hour.items():
            value = float(value)
            if not 0 <= value <= 60:
                raise ValueError(f"open minutes of hour {hour} must be in [0, 60], got {value}")
            if value > 0:
                opened[_check_hour(hour)] = value
    for hour, value in arrivals.items():
        if value > 0 and hour not in opened:
            raise ValueError(f"hour {hour} has {value:g} arrivals but no open minutes")
    hours = sorted(set(opened) | {h for h, v in arrivals.items() if v > 0})
    return {h: arrivals.get(h, 0.0) for h in hours}, {h: opened.get(h, 0.0) for h in hours}


def _open_mask(open_minutes: Mapping[int, float]) -> np.ndarray:
    """Which minutes of the day are open, from open minutes per clock hour.

    Where an hour is only partly open, its open part is placed at the *start*
    of the hour when the hour before is open (a session ending at 11:30) and
    at its *end* otherwise (a session starting at 07:30): what sessions
    starting and ending on the hour or the half hour give.
    """
    mask = np.zeros(MINUTES_PER_DAY, dtype=bool)
    for hour, minutes in open_minutes.items():
        n = round(minutes)
        if n <= 0:
            continue
        start = hour * 60
        if n >= 60 or open_minutes.get((hour - 1) % 24, 0) > 0:
            mask[start : start + n] = True
        else:
            mask[start + 60 - n : start + 60] = True
    return mask


# --------------------------------------------------------------------------------------
# Offered loads on a fine grid
# --------------------------------------------------------------------------------------


def _rate_grid(
    arrivals: Mapping[int, float], opened: Mapping[int, float], step_minutes: float
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival rate (per minute) and openness on cells of ``step_minutes``, one day."""
    per_minute_cells = round(1.0 / step_minutes) if 0 < step_minutes <= 1 else 0
    if per_minute_cells == 0 or abs(per_minute_cells * step_minutes - 1) > 1e-9:
        raise ValueError(
            f"step_minutes must divide one minute (1, 0.5, 0.25...), got {step_minutes}"
        )
    mask = _open_mask(opened)
    rate = np.zeros(MINUTES_PER_DAY)
    for hour, count in arrivals.items():
        if count > 0:
            minutes = mask[hour * 60 : hour * 60 + 60]
            rate[hour * 60 : hour * 60 + 60] = np.where(minutes, count / minutes.sum(), 0.0)
    return np.repeat(rate, per_minute_cells), np.repeat(mask, per_minute_cells)


def modified_offered_load(
    arrivals_per_hour: Mapping[int, float],
    mean_service_minutes: float,
    *,
    open_minutes_per_hour: Mapping[int, float] | None = None,
    service_survival: Callable[[np.ndarray], np.ndarray] | None = None,
    step_minutes: float = _DEFAULT_STEP_MINUTES,
) -> tuple[np.ndarray, np.ndarray]:
    """The modified offered load ``m(t)`` over one day, in Erlangs, on a fine grid.

    ``m(t) = integral of lambda(u) P(S > t - u) du`` is the mean number of
    citizens in service at ``t`` if nobody ever waited (the ``M_t/G/inf``
    queue): the load the staff actually face, which trails the arrival rate.
    The day is taken as repeating (computed over two days, the second kept),
    so load left at midnight carries over; on an office calendar the load has
    died out overnight and each day starts empty.

    With exponential service (the default) ``m`` solves ``dm/dt = lambda - m/s``;
    the rate is constant within each grid cell, so the update
    ``m <- m e^{-dt/s} + lambda s (1 - e^{-dt/s})`` is exact at the grid points.
    With ``service_survival`` (``P(S > x)`` for an array of minutes ``x``) the
    integral is a discrete convolution (midpoint rule in each cell).

    Args:
        arrivals_per_hour: expected arrivals in each clock hour.
        mean_service_minutes: mean service time ``s``.
        open_minutes_per_hour: open minutes of each clock hour (default: 60
            in every hour with arrivals); arrivals fall in the open minutes.
        service_survival: ``P(S > x)``; default ``exp(-x / s)``.
        step_minutes: grid step, a divisor of one minute.

    Returns:
        ``(times_minutes, load_erlangs)``: grid points ``0, dt, ..., 1440``
        (minutes after midnight) and ``m`` at each.
    """
    s = _check_service(mean_service_minutes)
    arrivals, opened = _hour_inputs(arrivals_per_hour, open_minutes_per_hour)
    rate, _ = _rate_grid(arrivals, opened, step_minutes)
    two_days = np.concatenate([rate, rate])
    n = rate.size
    if service_survival is None:
        # m[k + 1] = m[k] e^{-dt/s} + lambda[k] s (1 - e^{-dt/s}): a first-order filter.
        decay = math.exp(-step_minutes / s)
        steps = lfilter([s * (1.0 - decay)], [1.0, -decay], two_days)
        load = np.concatenate([[0.0], steps])
    else:
        ages = (np.arange(two_days.size) + 0.5) * step_minutes
        kernel = np.asarray(service_survival(ages), dtype=float) * step_minutes
        if kernel.shape != ages.shape or not np.all(np.isfinite(kernel)) or kernel.min() < 0:
            raise ValueError("service_survival must return P(S > x) >= 0 for each x")
        # A survival function only falls: drop the tail once it is negligible.
        alive = np.flatnonzero(kernel > 1e-15 * kernel.max(initial=0.0))
        kernel = kernel[: alive[-1] + 1] if alive.size else kernel[:1]
        convolved = convolve(two_days, kernel, method="auto")[: two_days.size]
        load = np.concatenate([[0.0], convolved])
    times = np.arange(n + 1) * step_minutes
    return times, load[n:]


def lagged_offered_load(
    arrivals_per_hour: Mapping[int, float],
    mean_service_minutes: float,
    *,
    open_minutes_per_hour: Mapping[int, float] | None = None,
    step_minutes: float = _DEFAULT_STEP_MINUTES,
) -> tuple[np.ndarray, np.ndarray]:
    """The lagged offered load ``lambda(t - s) s`` over one day, in Erlangs.

    The arrival rate shifted later by one mean service time (rounded to the
    grid), times that service time; the day repeats, so the first ``s``
    minutes after midnight see the end of the day before.

    Returns:
        ``(times_minutes, load_erlangs)`` at the start of each grid cell
        (``0, dt, ..., 1440 - dt``); the load is constant within a cell.
    """
    s = _check_service(mean_service_minutes)
    arrivals, opened = _hour_inputs(arrivals_per_hour, open_minutes_per_hour)
    rate, _ = _rate_grid(arrivals, opened, step_minutes)
    shift = round(s / step_minutes)
    return np.arange(rate.size) * step_minutes, np.roll(rate, shift) * s


def _check_service(mean_service_minutes: float) -> float:
    s = float(mean_service_minutes)
    if not (s > 0 and math.isfinite(s)):
        raise ValueError(f"mean_service_minutes must be a positive number, got {s!r}")
    return s


def offered_load_by_hour(
    arrivals_per_hour: Mapping[int, float],
    mean_service_minutes: float,
    *,
    method: Method = "sipp",
    open_minutes_per_hour: Mapping[int, float] | None = None,
    aggregate: Aggregate = "mean",
    service_survival: Callable[[np.ndarray], np.ndarray] | None = None,
    step_minutes: float = _DEFAULT_STEP_MINUTES,
) -> dict[int, float]:
    """The offered load each hour is sized for, in Erlangs, over its open minutes.

    ``sipp``: ``arrivals / open_minutes * s``. ``lagged`` and ``modified``:
    the grid loads of :func:`lagged_offered_load` and
    :func:`modified_offered_load`, averaged (``aggregate="mean"``) or at their
    highest (``"max"``, Green et al.'s "Max" variants, more cautious) over the
    open minutes of the hour. A closed hour counts only if it has arrivals,
    which is an error (see :func:`erlang_requirement`).
    """
    s = _check_service(mean_service_minutes)
    arrivals, opened = _hour_inputs(arrivals_per_hour, open_minutes_per_hour)
    if aggregate not in ("mean", "max"):
        raise ValueError(f"aggregate must be 'mean' or 'max', got {aggregate!r}")
    if method == "sipp":
        return {h: (arrivals[h] / opened[h] * s if arrivals[h] > 0 else 0.0) for h in arrivals}
    if method == "lagged":
        _, cells = lagged_offered_load(
            arrivals, s, open_minutes_per_hour=opened, step_minutes=step_minutes
        )
    elif method == "modified":
        _, points = modified_offered_load(
            arrivals,
            s,
            open_minutes_per_hour=opened,
            service_survival=service_survival,
            step_minutes=step_minutes,
        )
        # Cell value for the mean: the trapezoid of its two ends; for the max,
        # the higher end (m is monotone within a cell of constant rate).
        cells = (
            (points[:-1] + points[1:]) / 2
            if aggregate == "mean"
            else np.maximum(points[:-1], points[1:])
        )
    else:
        raise ValueError(f"method must be 'sipp', 'lagged' or 'modified', got {method!r}")
    _, mask = _rate_grid(arrivals, opened, step_minutes)
    per_hour = cells.size // 24
    loads = {}
    for h in arrivals:
        part = slice(h * per_hour, (h + 1) * per_hour)
        values = cells[part][mask[part]]
        if values.size == 0:
            loads[h] = 0.0
        else:
            loads[h] = float(values.mean() if aggregate == "mean" else values.max())
    return loads


def _min_servers_erlang_a(
    per_minute: float, s: float, patience: float, quantile: float, wait: float
) -> int:
    """Fewest staff whose Erlang A (virtual) wait quantile is at most ``wait``.

    The service level rises with staff, so the first count reaching ``quantile``
    is the answer; commune desks have a few staff, so the walk starts at one.
    """
    servers = 1
    while erlang_a_service_level(servers, per_minute, s, patience, wait) < quantile:
        servers += 1
    return servers


def erlang_requirement(
    arrivals_per_hour: Mapping[int, float],
    mean_service_minutes: float,
    *,
    wait_minutes: float,
    quantile: float = 0.9,
    method: Method = "sipp",
    open_minutes_per_hour: Mapping[int, float] | None = None,
    aggregate: Aggregate = "mean",
    min_staff: int = 0,
    patience_minutes: float | None = None,
    service_survival: Callable[[np.ndarray], np.ndarray] | None = None,
    step_minutes: float = _DEFAULT_STEP_MINUTES,
) -> dict[int, int]:
    """Staff needed in each clock hour for "the ``quantile`` of the wait is at most
    ``wait_minutes``", by Erlang C (or Erlang A) on that hour's offered load.

    Each hour is sized on its own as a steady-state M/M/c queue
    (:func:`simulator.analytic.min_servers_for_wait_quantile`) with the load of
    ``method`` (see :func:`offered_load_by_hour` and the module docstring):
    ``sipp`` the hour's own arrivals, ``lagged`` the arrivals one service time
    earlier, ``modified`` the infinite-server load. Only hours with arrivals or
    open minutes appear; an hour with arrivals needs at least one staff member
    (the lagged load of the first minutes after an opening is zero), an open
    hour with no load needs ``min_staff``.

    Args:
        arrivals_per_hour: expected arrivals in each clock hour (citizens).
        mean_service_minutes: mean service (intake) time at the desk.
        wait_minutes: the wait target (minutes), e.g. 15.
        quantile: which wait quantile must meet it (0.9: the p90).
        method: ``"sipp"``, ``"lagged"`` or ``"modified"``.
        open_minutes_per_hour: open minutes of each clock hour; default 60 in
            every hour with arrivals.
        aggregate: ``"mean"`` or ``"max"`` of the load over the hour's open
            minutes (lagged and modified; SIPP's load is flat within the hour).
        min_staff: the fewest staff in any counted hour (1 keeps a desk staffed
            whenever it is open).
        patience_minutes: mean patience of waiting citizens; with it each hour is
            sized with Erlang A (M/M/c+M) on the *virtual* wait, the wait of a
            citizen who would never give up
            (:func:`simulator.analytic.erlang_a_service_level`), instead of Erlang C.
        service_survival: ``P(S > x)`` for the modified load (default exponential).
        step_minutes: grid step of the lagged and modified loads.

    Returns:
        ``{hour: staff}`` in clock-hour order.

    Raises:
        ValueError: for arrivals in a closed hour, a quantile outside (0, 1), a
            negative wait target or non-positive service time.
    """
    s = _check_service(mean_service_minutes)
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be strictly between 0 and 1, got {quantile!r}")
    if not wait_minutes >= 0:
        raise ValueError(f"wait_minutes must be >= 0, got {wait_minutes!r}")
    loads = offered_load_by_hour(
        arrivals_per_hour,
        s,
        method=method,
        open_minutes_per_hour=open_minutes_per_hour,
        aggregate=aggregate,
        service_survival=service_survival,
        step_minutes=step_minutes,
    )
    arrivals, opened = _hour_inputs(arrivals_per_hour, open_minutes_per_hour)
    if patience_minutes is not None and not patience_minutes > 0:
        raise ValueError(f"patience_minutes must be > 0, got {patience_minutes!r}")
    requirement = {}
    for hour, load in loads.items():
        if patience_minutes is not None:
            per_minute = (
                arrivals[hour] / opened[hour] if method == "sipp" and arrivals[hour] else load / s
            )
            staff = (
                _min_servers_erlang_a(per_minute, s, patience_minutes, quantile, wait_minutes)
                if per_minute > 0
                else 0
            )
        elif method == "sipp" and arrivals[hour] > 0:
            # The exact per-minute rate, so SIPP is min_servers_for_wait_quantile itself.
            staff = min_servers_for_wait_quantile(
                arrivals[hour] / opened[hour], s, quantile, wait_minutes
            )
        elif load > 0:
            staff = min_servers_for_wait_quantile(load / s, s, quantile, wait_minutes)
        else:
            staff = 0
        if arrivals[hour] > 0:
            # A lagged load can be zero just after an opening although citizens
            # arrive: somebody must be at the desk to serve them.
            staff = max(staff, 1)
        requirement[hour] = max(staff, int(min_staff))
    return requirement


# --------------------------------------------------------------------------------------
# Staff-hours and the flat comparison
# --------------------------------------------------------------------------------------


def staff_hours(
    schedule: Mapping[int, int], open_minutes_per_hour: Mapping[int, float] | None = None
) -> float:
    """Staff-hours of a schedule in one day: ``sum of staff x open minutes / 60``.

    A staff member on duty in hour 11 of a session ending at 11:30 works half a
    staff-hour there. Without ``open_minutes_per_hour`` every hour is 60 minutes.
    An hour of the schedule with no open minutes counts nothing.
    """
    if open_minutes_per_hour is None:
        return float(sum(schedule.values()))
    return float(
        sum(count * float(open_minutes_per_hour.get(h, 0.0)) for h, count in schedule.items())
        / 60.0
    )


def flat_schedule(schedule: Mapping[int, int]) -> dict[int, int]:
    """The flat staffing that meets the same hourly counts: the highest, every hour."""
    top = max(schedule.values(), default=0)
    return {h: top for h in schedule}


@dataclass(frozen=True)
class FlatComparison:
    """An hour-by-hour schedule against the flat staffing of its busiest hour.

    Attributes:
        staff_hours: staff-hours per day of the schedule.
        flat_staff: staff of the flat schedule (the highest hourly count).
        flat_staff_hours: staff-hours per day of the flat schedule.
    """

    staff_hours: float
    flat_staff: int
    flat_staff_hours: float

    @property
    def saved_staff_hours(self) -> float:
        """Staff-hours per day the schedule saves against flat staffing."""
        return self.flat_staff_hours - self.staff_hours

    @property
    def saved_share(self) -> float:
        """The saving as a share of the flat staff-hours (0 when flat is 0)."""
        return self.saved_staff_hours / self.flat_staff_hours if self.flat_staff_hours else 0.0


def compare_with_flat(
    schedule: Mapping[int, int],
    open_minutes_per_hour: Mapping[int, float] | None = None,
    *,
    flat_staff: int | None = None,
) -> FlatComparison:
    """Staff-hours of ``schedule`` against flat staffing over the same hours.

    ``flat_staff`` is the flat count to compare with (``pasc size``'s answer);
    by default the schedule's busiest hour, the flat staffing that meets the
    same hourly counts.
    """
    flat = max(schedule.values(), default=0) if flat_staff is None else int(flat_staff)
    return FlatComparison(
        staff_hours=staff_hours(schedule, open_minutes_per_hour),
        flat_staff=flat,
        flat_staff_hours=staff_hours({h: flat for h in schedule}, open_minutes_per_hour),
    )


# --------------------------------------------------------------------------------------
# Simulation-based iterative staffing
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HourMeasure:
    """A measured wait quantile of one clock hour (minutes), with its interval.

    ``value`` is the estimate (mean over replications of the hour's wait
    quantile), ``ci_low``/``ci_high`` its confidence interval. A plain number
    is an interval of zero width (a deterministic evaluator). NaN means the
    hour had no citizen to measure.
    """

    value: float
    ci_low: float | None = None
    ci_high: float | None = None

    def __post_init__(self) -> None:
        value = float(self.value)
        low = value if self.ci_low is None else float(self.ci_low)
        high = value if self.ci_high is None else float(self.ci_high)
        if low > high:
            raise ValueError(f"ci_low {low} is above ci_high {high}")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "ci_low", low)
        object.__setattr__(self, "ci_high", high)

    @property
    def measured(self) -> bool:
        """Whether the hour had anything to measure (its interval is not NaN)."""
        return not (math.isnan(self.ci_low) or math.isnan(self.ci_high))

    def verdict(self, target_minutes: float) -> HourVerdict:
        """``pass`` when the whole interval is at most the target, ``fail`` when
        the whole interval is above it, ``inconclusive`` otherwise (or unmeasured):
        the rule of every pasc target verdict."""
        if not self.measured:
            return "inconclusive"
        if self.ci_high <= target_minutes:
            return "pass"
        return "fail" if self.ci_low > target_minutes else "inconclusive"


def _json_number(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _as_measure(value: HourMeasure | float) -> HourMeasure:
    return value if isinstance(value, HourMeasure) else HourMeasure(float(value))


@dataclass(frozen=True)
class Iteration:
    """One step of :func:`iterative_staffing`: a schedule and what it gave.

    Attributes:
        schedule: staff per clock hour that was evaluated.
        measures: the wait quantile measured in each hour.
        verdicts: pass / fail / inconclusive per measured hour.
        feasible: every measured hour passes.
        staff_hours: staff-hours per day (weighted by open minutes when given).
    """

    schedule: dict[int, int]
    measures: dict[int, HourMeasure]
    verdicts: dict[int, HourVerdict]
    feasible: bool
    staff_hours: float


@dataclass(frozen=True)
class IterationResult:
    """What :func:`iterative_staffing` found.

    Attributes:
        schedule: the answer: the feasible schedule with the fewest staff-hours
            seen (the later one on a tie), or the last one evaluated if none was
            feasible.
        feasible: whether ``schedule`` met the target in every measured hour.
        status: ``converged`` (the schedule stopped changing), ``cycle`` (it
            went round schedules already evaluated), ``max_iterations``, or
            ``at_maximum`` (an hour still misses the target with its maximum
            staff, and nothing else would change).
        iterations: every step, in order, for the report.
        best_index: index in ``iterations`` of ``schedule``.
        target_minutes: the target every hour was judged against.
        quantile: the wait quantile measured (0.9: the p90).
    """

    schedule: dict[int, int]
    feasible: bool
    status: Status
    iterations: list[Iteration] = field(default_factory=list)
    best_index: int = 0
    target_minutes: float = math.nan
    quantile: float = 0.9

    @property
    def measures(self) -> dict[int, HourMeasure]:
        """The measures of the answer."""
        return self.iterations[self.best_index].measures

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of the answer and of every iteration (NaN as ``None``)."""

        def measure(m: HourMeasure) -> dict[str, Any]:
            return {
                "value": _json_number(m.value),
                "ci_low": _json_number(m.ci_low),
                "ci_high": _json_number(m.ci_high),
                "verdict": m.verdict(self.target_minutes),
            }

        return {
            "schedule": {str(h): n for h, n in self.schedule.items()},
            "feasible": self.feasible,
            "status": self.status,
            "best_index": self.best_index,
            "target_minutes": self.target_minutes,
            "quantile": self.quantile,
            "iterations": [
                {
                    "schedule": {str(h): n for h, n in it.schedule.items()},
                    "staff_hours": it.staff_hours,
                    "feasible": it.feasible,
                    "measures": {str(h): measure(m) for h, m in it.measures.items()},
                }
                for it in self.iterations
            ],
        }


def _per_hour_limit(
    limit: int | Mapping[int, int] | None, hours: Sequence[int], default: int | None
) -> dict[int, int | None]:
    if limit is None or isinstance(limit, int):
        value = default if limit is None else limit
        return dict.fromkeys(hours, value)
    return {h: limit.get(h, default) for h in hours}


def iterative_staffing(
    initial: Mapping[int, int],
    evaluate: Callable[[dict[int, int]], Mapping[int, HourMeasure | float]],
    *,
    target_minutes: float,
    quantile: float = 0.9,
    max_iterations: int = 12,
    step_down: bool = True,
    step_down_margin: float = DEFAULT_STEP_DOWN_MARGIN,
    minimum: int | Mapping[int, int] = 1,
    maximum: int | Mapping[int, int] | None = None,
    open_minutes_per_hour: Mapping[int, float] | None = None,
    remember_failures: bool = True,
) -> IterationResult:
    """Hour-by-hour staffing by repeated simulation (Feldman et al. 2008, discrete form).

    The hours of ``initial`` are the hours the desk is staffed (the open hours).
    Each iteration:

    1. ``evaluate(schedule)`` measures the wait ``quantile`` of the citizens
       arriving in each hour (a plain number or an :class:`HourMeasure` with
       its confidence interval); an hour left out or NaN had nobody to measure
       and is neither raised nor lowered.
    2. Every hour that does not *pass* (the whole interval at most
       ``target_minutes``; an inconclusive hour does not pass) gets one more
       staff member, up to its ``maximum``.
    3. With ``step_down``, every hour that passes with room to spare (the whole
       interval below ``step_down_margin x target_minutes``) loses one, down to
       its ``minimum``: the next iteration re-checks it. An hour is never
       stepped down to a count at which it has already failed
       (``remember_failures``), so an hour whose staff are just enough
       settles there.

    A schedule met again is not evaluated again: its stored measures decide
    the next step (``evaluate`` is taken as a function of the schedule, which
    a simulation with fixed seeds is). With the memory of failures the count
    of an hour can only fall for a while and then rise, so the iteration
    always ends. Without it (``remember_failures=False``: only a step down
    that failed in its own hour is remembered, for a noisy ``evaluate`` where
    one failure should not lock an hour), the staff of one hour shape the
    queue the next hour inherits, and the iteration can come back to a
    schedule it has already evaluated: a cycle, where it stops.

    In every case the answer is the feasible schedule with the fewest
    staff-hours among all evaluated, so a feasible schedule once seen is never
    traded for an infeasible one. With fixed seeds that answer is tuned to
    those seeds: verify it with new ones, and if an hour then misses, run the
    iteration again from it with the new measures and ``step_down=False``.

    Args:
        initial: starting staff per clock hour (e.g. :func:`erlang_requirement`).
        evaluate: the measurement, e.g. a batch of simulation replications.
        target_minutes: the ceiling of the wait quantile in every hour.
        quantile: which quantile ``evaluate`` measures (kept in the result).
        max_iterations: the most evaluations.
        step_down: also take staff away where the target is comfortably met.
        step_down_margin: the share of the target below which an hour is
            "comfortable", in (0, 1].
        minimum: fewest staff per hour (an int for all hours or per hour);
            1 keeps a desk open whenever the center is.
        maximum: most staff per hour (desks available), default unlimited.
        open_minutes_per_hour: weights of the staff-hours used to pick the best.
        remember_failures: never step an hour down to a count that failed there.

    Returns:
        An :class:`IterationResult` with the history of every iteration.
    """
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be strictly between 0 and 1, got {quantile!r}")
    if not target_minutes >= 0:
        raise ValueError(f"target_minutes must be >= 0, got {target_minutes!r}")
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be >= 1, got {max_iterations!r}")
    if not 0 < step_down_margin <= 1:
        raise ValueError(f"step_down_margin must be in (0, 1], got {step_down_margin!r}")
    hours = sorted(_check_hour(h) for h in initial)
    lows = _per_hour_limit(minimum, hours, 0)
    highs = _per_hour_limit(maximum, hours, None)
    for h in hours:
        if highs[h] is not None and highs[h] < lows[h]:
            raise ValueError(f"hour {h}: maximum {highs[h]} is below minimum {lows[h]}")

    def clamp(h: int, count: int) -> int:
        count = max(count, lows[h])
        return count if highs[h] is None else min(count, highs[h])

    def propose(it: Iteration, floors: Mapping[int, int]) -> tuple[dict[int, int], set[int]]:
        proposal = dict(it.schedule)
        lowered = set()
        for h, v in it.verdicts.items():
            if v != "pass":
                proposal[h] = clamp(h, it.schedule[h] + 1)
            elif (
                step_down
                and it.measures[h].ci_high < step_down_margin * target_minutes
                and it.schedule[h] - 1 >= floors[h]
            ):
                proposal[h] = it.schedule[h] - 1
                lowered.add(h)
        return proposal, lowered

    schedule = {h: clamp(h, int(initial[h])) for h in hours}
    floors = dict(lows)  # raised by failures (see remember_failures)
    stepped_down: set[int] = set()
    evaluated: dict[tuple[tuple[int, int], ...], int] = {}
    walked: set[tuple[tuple[int, int], ...]] = set()  # known schedules since the last evaluation
    iterations: list[Iteration] = []
    status: Status = "max_iterations"
    while True:
        key = tuple(schedule.items())
        if key in evaluated:
            # evaluate is taken as a function of the schedule: a schedule met again
            # is not re-simulated, its stored measures are used.
            it = iterations[evaluated[key]]
            walked.add(key)
        else:
            if len(iterations) == max_iterations:
                break
            raw = evaluate(dict(schedule))
            measures = {h: _as_measure(raw[h]) for h in hours if h in raw}
            verdicts = {h: m.verdict(target_minutes) for h, m in measures.items() if m.measured}
            it = Iteration(
                schedule=dict(schedule),
                measures=measures,
                verdicts=verdicts,
                feasible=all(v == "pass" for v in verdicts.values()),
                staff_hours=staff_hours(schedule, open_minutes_per_hour),
            )
            evaluated[key] = len(iterations)
            iterations.append(it)
            walked = {key}
        for h, v in it.verdicts.items():
            if v != "pass" and (remember_failures or h in stepped_down):
                floors[h] = max(floors[h], it.schedule[h] + 1)
        proposal, stepped_down = propose(it, floors)
        if proposal == schedule:
            status = "converged" if it.feasible else "at_maximum"
            break
        if tuple(proposal.items()) in walked:
            status = "cycle"
            break
        schedule = proposal

    feasible_steps = [i for i, it in enumerate(iterations) if it.feasible]
    if feasible_steps:
        best = min(feasible_steps, key=lambda i: (iterations[i].staff_hours, -i))
    else:
        best = len(iterations) - 1
    return IterationResult(
        schedule=dict(iterations[best].schedule),
        feasible=iterations[best].feasible,
        status=status,
        iterations=iterations,
        best_index=best,
        target_minutes=float(target_minutes),
        quantile=float(quantile),
    )
