"""Pictures of staffing by the hour: requirement against coverage, waits by hour, rosters.

These figures draw the objects of :mod:`simulator.staffing_by_hour` and
:mod:`simulator.shifts` (plain ``{hour: value}`` mappings, :class:`HourMeasure`
values, a :class:`ShiftPlan`), not run results, so they work as well on a
formula answer as on a simulated one. They follow the conventions of
:mod:`simulator.plots`: object-oriented matplotlib (no ``pyplot``), a target is
a red dashed line, verdict colours are those of ``pasc run`` (green *pass*,
red *fail*, amber *inconclusive*), closed hours are grey stripes, and every
axis carries its unit. Each function returns a
:class:`matplotlib.figure.Figure`; ``fig.savefig("coverage.png")`` writes it.

Clock hours are drawn as the interval ``[h, h + 1)`` on an axis of hours of
the day, so a staircase step is exactly one clock hour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from simulator.display import VERDICT_COLORS
from simulator.plots import CLOSED_COLOR, SERIES_COLORS, TARGET_COLOR, PascFigure, shade_closed
from simulator.shifts import ShiftPlan
from simulator.staffing_by_hour import HourMeasure, parse_sessions

__all__ = ["requirement_and_coverage", "roster", "wait_by_hour"]

_QUANTILE_NAMES = {0.5: "median", 0.9: "p90", 0.95: "p95"}


def _figure(width: float, height: float) -> Figure:
    return PascFigure(figsize=(width, height), layout="constrained")


def _clock_axis(ax, lo: int, hi: int) -> None:
    step = 1 if hi - lo <= 12 else 2
    ticks = list(range(lo, hi + 1, step))
    ax.set_xticks(ticks, [f"{h:02d}:00" for h in ticks])
    ax.set_xlim(lo, hi)


def _open_spans_from_minutes(open_minutes: Mapping[int, float]) -> list[tuple[float, float]]:
    """Open spans in hours, from open minutes per hour (placed as sessions place them)."""
    spans: list[tuple[float, float]] = []
    for h in sorted(open_minutes):
        m = float(open_minutes[h])
        if m <= 0:
            continue
        if m >= 60 or open_minutes.get(h - 1, 0) > 0:
            a, b = h, h + m / 60
        else:
            a, b = h + 1 - m / 60, h + 1
        if spans and abs(spans[-1][1] - a) < 1e-9:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def _stairs(values: Mapping[int, float], lo: int, hi: int) -> np.ndarray:
    return np.array([values.get(h, math.nan) for h in range(lo, hi)], dtype=float)


def requirement_and_coverage(
    requirement: Mapping[int, int],
    coverage: Mapping[int, int] | ShiftPlan,
    *,
    open_minutes_per_hour: Mapping[int, float] | None = None,
    others: Mapping[str, Mapping[int, int]] | None = None,
    title: str = "Staff required and scheduled, by hour",
) -> Figure:
    """The hourly requirement as a filled staircase, the scheduled coverage on top.

    Hours where the coverage falls short of the requirement are hatched red;
    the surplus is the gap between the line and the fill. ``others`` adds
    dashed staircases for comparison (``{"flat (pasc size)": {...},
    "Erlang SIPP": {...}}``). With a :class:`ShiftPlan` as ``coverage`` its
    coverage, open hours and totals are used.
    """
    plan = coverage if isinstance(coverage, ShiftPlan) else None
    if plan is not None:
        coverage = plan.coverage
        if open_minutes_per_hour is None:
            open_minutes_per_hour = plan.open_minutes
    hours = sorted(set(requirement) | set(coverage) | set(open_minutes_per_hour or {}))
    fig = _figure(8, 4.4)
    ax = fig.add_subplot()
    subtitle = ""
    if plan is not None:
        subtitle = (
            f"\n{plan.staff} staff, {plan.staff_hours:.1f} staff-hours a day "
            f"(flat: {plan.flat_staff} staff, {plan.flat_staff_hours:.1f}; "
            f"saved {plan.saved_staff_hours:.1f})"
        )
    ax.set_title(title + subtitle, loc="left", fontsize=10)
    if not hours:
        ax.text(0.5, 0.5, "no hour to show", ha="center", va="center", transform=ax.transAxes)
        return fig
    lo, hi = min(hours), max(hours) + 1
    edges = np.arange(lo, hi + 1)
    need = _stairs(requirement, lo, hi)
    have = _stairs(coverage, lo, hi)
    ax.stairs(
        np.nan_to_num(need),
        edges,
        fill=True,
        color=SERIES_COLORS[0],
        alpha=0.3,
        label="required",
        gid="requirement",
    )
    ax.stairs(have, edges, color=SERIES_COLORS[0], lw=2.2, label="scheduled", gid="coverage")
    short = np.nan_to_num(have, nan=0.0) < np.nan_to_num(need)
    for i in np.flatnonzero(short):
        ax.bar(
            lo + i + 0.5,
            need[i] - np.nan_to_num(have[i]),
            bottom=np.nan_to_num(have[i]),
            width=1.0,
            fill=False,
            hatch="///",
            edgecolor=TARGET_COLOR,
            lw=0,
            label="short" if i == np.flatnonzero(short)[0] else None,
            gid=f"short:{lo + i}",
        )
    for k, (name, values) in enumerate((others or {}).items()):
        ax.stairs(
            _stairs(values, lo, hi),
            edges,
            color=SERIES_COLORS[(k + 1) % len(SERIES_COLORS)],
            lw=1.5,
            ls="--",
            label=name,
            gid=f"other:{name}",
        )
    if open_minutes_per_hour:
        shade_closed(ax, _open_spans_from_minutes(open_minutes_per_hour), lo, hi)
    _clock_axis(ax, lo, hi)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("staff on duty (people)")
    ax.set_xlabel("hour of the day (each step is one clock hour)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return fig


def _as_measure(value: HourMeasure | float) -> HourMeasure:
    return value if isinstance(value, HourMeasure) else HourMeasure(float(value))


def wait_by_hour(
    measures: Mapping[int, HourMeasure | float] | Mapping[str, Mapping[int, HourMeasure | float]],
    target_minutes: float,
    *,
    quantile: float = 0.9,
    open_minutes_per_hour: Mapping[int, float] | None = None,
    title: str | None = None,
) -> Figure:
    """The wait quantile of each hour with its interval, against the target line.

    ``measures`` is ``{hour: HourMeasure}`` (one schedule) or ``{name: {hour:
    HourMeasure}}`` to put several side by side (e.g. the plain Erlang answer
    and the iterative one). Each hour's dot is coloured by its verdict (the
    whole interval at most the target: *pass*; wholly above: *fail*;
    otherwise *inconclusive*); the whisker is the interval; a line joins the
    hours of one schedule.
    """
    first = next(iter(measures), None)
    series: Mapping[str, Mapping[int, HourMeasure | float]]
    series = measures if isinstance(first, str) else {"": measures}  # type: ignore[assignment]
    name = _QUANTILE_NAMES.get(quantile, f"{100 * quantile:g}th percentile")
    fig = _figure(8, 4.4)
    ax = fig.add_subplot()
    ax.set_title(
        title or f"Walk-in wait ({name}) by hour of arrival, against the target",
        loc="left",
        fontsize=10,
    )
    hours = sorted({h for s in series.values() for h in s})
    if not hours:
        ax.text(0.5, 0.5, "no hour to show", ha="center", va="center", transform=ax.transAxes)
        return fig
    lo, hi = min(hours), max(hours) + 1
    width = 0.6 / max(len(series), 1)
    top = target_minutes
    for k, (label, values) in enumerate(series.items()):
        color = SERIES_COLORS[k % len(SERIES_COLORS)]
        hs = sorted(values)
        xs = np.array(hs, dtype=float) + 0.5 + (k - (len(series) - 1) / 2) * width
        ms = [_as_measure(values[h]) for h in hs]
        ys = np.array([m.value for m in ms])
        # The line breaks where hours are missing (a lunch closure): no wait there.
        gaps = np.flatnonzero(np.diff(hs) > 1) + 1 if hs else []
        line_x, line_y = np.insert(xs, gaps, np.nan), np.insert(ys, gaps, np.nan)
        ax.plot(
            line_x, line_y, "-", color=color, lw=1.2, label=label or None, gid=f"series:{label}"
        )
        for x, m in zip(xs, ms, strict=True):
            if not m.measured:
                continue
            verdict = m.verdict(target_minutes)
            ax.errorbar(
                [x],
                [m.value],
                yerr=[[m.value - m.ci_low], [m.ci_high - m.value]],
                fmt="o",
                color=VERDICT_COLORS[verdict],
                ecolor="0.2",
                capsize=3,
                ms=6,
                lw=1,
            )
            top = max(top, m.ci_high if math.isfinite(m.ci_high) else m.value)
    ax.axhline(
        target_minutes,
        color=TARGET_COLOR,
        ls="--",
        lw=1.6,
        label=f"target: {name} ≤ {target_minutes:g} min",
        gid="target",
    )
    if open_minutes_per_hour:
        shade_closed(ax, _open_spans_from_minutes(open_minutes_per_hour), lo, hi)
    handles, labels = ax.get_legend_handles_labels()
    for verdict in ("pass", "inconclusive", "fail"):
        handles.append(Patch(color=VERDICT_COLORS[verdict]))
        labels.append(verdict)
    ax.legend(handles, labels, fontsize=8, loc="upper right", ncols=2)
    _clock_axis(ax, lo, hi)
    ax.set_ylim(0, top * 1.15 if math.isfinite(top) and top > 0 else 1)
    ax.set_ylabel(f"{name} of the wait (minutes)")
    ax.set_xlabel("hour of arrival (whiskers: 95 % interval across replications)")
    ax.grid(alpha=0.3)
    return fig


def roster(plan: ShiftPlan, *, title: str = "Roster: who is on duty when") -> Figure:
    """One row per staff member, a bar for each period on duty, coloured by pattern.

    Above the rows, the number covering each hour (see :mod:`simulator.shifts`
    for the definition) is written against the requirement, ``3/3``.
    """
    rows = plan.roster()
    fig = _figure(8, 1.6 + 0.32 * max(len(rows), 1))
    ax = fig.add_subplot()
    ax.set_title(
        f"{title}\n{plan.staff} staff, {plan.staff_hours:.1f} staff-hours a day "
        f"(flat staffing: {plan.flat_staff_hours:.1f})",
        loc="left",
        fontsize=10,
    )
    spans = [(a / 60, b / 60) for a, b in parse_sessions(plan.sessions)]
    lo, hi = math.floor(spans[0][0]), math.ceil(spans[-1][1])
    patterns = list(dict.fromkeys(r.pattern for r in rows))
    colors = {p: SERIES_COLORS[i % len(SERIES_COLORS)] for i, p in enumerate(patterns)}
    for i, r in enumerate(rows):
        ax.broken_barh(
            [(a / 60, (b - a) / 60) for a, b in r.spans],
            (i + 0.15, 0.7),
            facecolors=colors[r.pattern],
            gid=f"staff:{i + 1}",
        )
    shade_closed(ax, spans, lo, hi)
    for h, n in plan.coverage.items():
        need = plan.requirement.get(h, 0)
        ax.text(
            h + 0.5,
            -0.15,
            f"{n}/{need}",
            ha="center",
            va="top",
            fontsize=7.5,
            color=TARGET_COLOR if n < need else "0.3",
        )
    ax.set_ylim(len(rows) + 0.2, -1.0)
    ax.set_yticks([i + 0.5 for i in range(len(rows))], [f"staff {i + 1}" for i in range(len(rows))])
    ax.tick_params(axis="y", labelsize=7.5)
    _clock_axis(ax, lo, hi)
    ax.set_xlabel("time of day (top: staff covering each hour / required)")
    ax.grid(axis="x", alpha=0.3)
    handles = [Patch(color=colors[p], label=p) for p in patterns]
    handles.append(Patch(color=CLOSED_COLOR, label="closed"))
    fig.legend(handles=handles, fontsize=7.5, loc="outside lower center", ncols=4, frameon=False)
    return fig
