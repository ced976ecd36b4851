"""Pictures of a run, a sizing, a quota comparison and a scenario comparison.

Every function takes a result object of the Python API and returns a
:class:`matplotlib.figure.Figure`. Figures are built with the object-oriented
API (no ``pyplot``), so they never open a window, work with any backend and
are freed like any Python object. In a notebook the returned figure shows
itself; elsewhere ``fig.savefig("wait.png")`` writes it.

Conventions a planner can rely on in every picture:

* a **target** is a red dashed line, labelled with its threshold;
* a **95 % confidence interval** across replications is a shaded band (or a
  whisker where the x-axis is categorical); the line or dot is the mean;
* colours of verdicts match ``pasc run``: green *pass*, red *fail*, amber
  *inconclusive* (the interval straddles the target);
* axes carry units (minutes, records, share of staff time in %).

The functions that need the per-record tables (waits, handle times, hourly
queues, backlog, on-time share) require ``simulator.run(..., records=True)``,
the default.
"""

from __future__ import annotations

import functools
import io
import math
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from simulator.display import RUN_FIGURES, VERDICT_COLORS, run_figure_names, signed_text
from simulator.kpis import KPI_AXES, is_share
from simulator.results.intervals import CONFIDENCE, t_interval, t_quantile

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from simulator.compare import Comparison
    from simulator.quota import QuotaComparison
    from simulator.results import RunResult
    from simulator.scenario import Scenario, Target
    from simulator.sizing import Candidate, SizingResult

#: Colours shared by every figure (colour-blind safe blue/orange for series).
TARGET_COLOR = VERDICT_COLORS["fail"]
SERIES_COLORS = ("#1f77b4", "#ff7f0e", "#6a3d9a", "#17becf", "#8c564b", "#e377c2", "#7f7f7f")
BAND_ALPHA = 0.25
CLOSED_COLOR = "0.93"

_STATISTICS = {
    "mean": "mean",
    "p50": "median",
    "p90": "90th percentile",
    "p95": "95th percentile",
    "max": "maximum",
}
#: Quantile level of each percentile KPI suffix (``max`` is the 100th).
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "max": 1.0}


# -- labels and small helpers ---------------------------------------------------------------


def kpi_label(kpi: str, *, unit: bool = True) -> str:
    """A plain-words axis label for a KPI name, with its unit.

    >>> kpi_label("wait_minutes.p90")
    'walk-in wait, 90th percentile (minutes)'
    >>> kpi_label("utilization.land")
    'staff utilization: land (% of open time)'
    """
    base, _, rest = kpi.partition(".")
    words, what = KPI_AXES.get(base, (kpi, ""))
    if rest in _STATISTICS:
        words = f"{words}, {_STATISTICS[rest]}"
    elif rest:
        words = f"{words}: {rest}"
    return f"{words} ({what})" if unit and what else words


def _fmt(x: float, share: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if share:
        return f"{100 * x:.1f} %"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


def _op(op: str) -> str:
    return {"<=": "≤", ">=": "≥"}.get(op, op)


class PascFigure(Figure):
    """A matplotlib Figure that shows itself in Jupyter as a PNG, with or without pyplot.

    Figures made without ``pyplot`` are not known to Jupyter's inline backend;
    ``_repr_png_`` is the hook IPython looks for on any object it displays.

    A figure given a :class:`_Column` (``fig.column``) places its axes itself at
    each draw, in margins computed from its texts (see :class:`_Column`), instead
    of using a matplotlib layout engine.
    """

    column: _Column | None = None

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def draw(self, renderer) -> None:
        if self.column is not None and self.get_layout_engine() is None:
            self.column.place(self)
        super().draw(renderer)


def _figure(width: float, height: float) -> Figure:
    return PascFigure(figsize=(width, height), layout="constrained")


# -- fixed margins for the pictures of a run -------------------------------------------------
#
# The pictures of a run are laid out by _Column, not by matplotlib's constrained
# layout, for speed: constrained layout measured every artist of every axes twice
# (``get_tightbbox``) and made ``savefig`` draw the whole figure once more beforehand,
# about a third of the drawing time of ``pasc run``. These pictures are simple (one
# column of axes, maybe a colorbar or a legend above one of them), so the margins
# can be computed from what the figure holds: the width of the tick labels actually
# shown, the number of lines of each title and axis label, the labels that overhang
# the ends of an axis. Text sizes are measured once per string (in points, cached),
# and the placement runs at each draw, so a figure edited after it is made (a new
# title, another y-label) is laid out again.

#: Space (points) around the decorations of an axes: at the edges of the figure (twice
#: that between two panels); a little more than the rounding of text sizes at any dpi.
_EDGE = 5.0
_TITLE_SIZE = 10.0
_MEASURE_LOCK = threading.Lock()
_MEASURE: list[Any] = []


@functools.lru_cache(maxsize=4096)
def _text_size(text: str, size: float, weight: str = "normal") -> tuple[float, float]:
    """Width and height (points) of a text, as matplotlib lays it out unrotated."""
    if not text:
        return 0.0, 0.0
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    with _MEASURE_LOCK:
        if not _MEASURE:
            # At 720 dpi (10 pixels a point) glyph widths are hardly rounded to pixels.
            fig = Figure(figsize=(1, 1), dpi=720)
            _MEASURE.extend([fig, FigureCanvasAgg(fig).get_renderer()])
        fig, renderer = _MEASURE
        label = Text(0, 0, text, fontsize=size, fontweight=weight)
        label.set_figure(fig)
        box = label.get_window_extent(renderer)
    return float(box.width) / 10 * 1.02, float(box.height) / 10  # 2 %: hinting at low dpi


def _tick_extent(axis: Any, length: float) -> tuple[float, float, float]:
    """How far the tick labels of an axis reach out of the axes, across the axis
    (points, with the ticks and their pad), and how far they overhang its two
    ends along it (at the start and the end of the axis, points)."""
    ticks = axis.majorTicks  # its first tick is made now; the drawing reuses it
    if not ticks:
        return 0.0, 0.0, 0.0
    tick = ticks[0]
    if not (tick.label1.get_visible() or tick.label2.get_visible()):
        # Labels hidden (an inner panel of a shared axis): room for the tick marks.
        shown = tick.tick1line.get_visible() or tick.tick2line.get_visible()
        return (tick.get_tick_padding() if shown else 0.0), 0.0, 0.0
    v0, v1 = axis.get_view_interval()
    locs = axis.get_majorticklocs()
    labels = axis.get_major_formatter().format_ticks(locs)
    size = tick.label1.get_fontsize()
    vertical = axis.axis_name == "y"
    across = before = after = 0.0
    span = (v1 - v0) or 1.0
    for loc, text in zip(locs, labels, strict=False):
        frac = (loc - v0) / span
        if not -1e-9 <= frac <= 1 + 1e-9:
            continue  # not drawn
        width, height = _text_size(text, size)
        along = height if vertical else width
        across = max(across, width if vertical else height)
        before = max(before, along / 2 - frac * length)
        after = max(after, along / 2 - (1 - frac) * length)
    if not across:
        return 0.0, before, after
    return across + tick.get_tick_padding() + tick.get_pad(), before, after


def _label_extent(axis: Any) -> float:
    """The thickness (points) of an axis label and its pad, 0 without a label."""
    label = axis.label
    if not label.get_visible() or not label.get_text():
        return 0.0
    return axis.labelpad + _text_size(label.get_text(), label.get_fontsize())[1]


class _Column:
    """Axes stacked in one column, placed in margins computed from their texts.

    ``axes`` top to bottom get equal heights; ``title`` is the text above them all
    (a suptitle, fontsize ``_TITLE_SIZE``); ``above`` maps an axes to the room
    (points) a legend drawn above it needs; ``colorbar`` is a colorbar axes drawn
    to the right of ``axes[0]`` (its width 1/20 of its height, as matplotlib does).
    Each axes title is read at ``_TITLE_SIZE``.
    """

    def __init__(
        self,
        axes: Sequence[Axes],
        *,
        title: str = "",
        above: Mapping[Axes, float] | None = None,
        colorbar: Axes | None = None,
    ) -> None:
        self.axes = list(axes)
        self.title = title
        self.above = dict(above or {})
        self.colorbar = colorbar

    def _margins(self, width: float, height: float) -> list[float]:
        """The room (points) the texts around the axes need: at the left and the
        right of the column, right of the colorbar, above and below each axes.
        Read at the current positions (the axes' lengths set the tick locations)."""
        left = right = 0.0
        tops, bottoms = [], []
        for ax in self.axes:
            box = ax.get_position()
            y_across, y_before, y_after = _tick_extent(ax.yaxis, box.height * height)
            x_across, x_before, x_after = _tick_extent(ax.xaxis, box.width * width)
            left = max(left, y_across + _label_extent(ax.yaxis), x_before)
            right = max(right, x_after)
            title = max(
                (
                    _text_size(ax.get_title(loc), _TITLE_SIZE)[1]
                    for loc in ("left", "center", "right")
                ),
                default=0.0,
            )
            top = (title + mpl.rcParams["axes.titlepad"] if title else 0.0) + self.above.get(
                ax, 0.0
            )
            tops.append(max(top, y_after))
            bottoms.append(max(x_across + _label_extent(ax.xaxis), y_before))
        bar = 0.0
        if self.colorbar is not None:
            cax = self.colorbar
            across, _, _ = _tick_extent(cax.yaxis, cax.get_position().height * height)
            bar = across + _label_extent(cax.yaxis)
        return [left, right, bar, *tops, *bottoms]

    def _set(self, margins: list[float], width: float, height: float) -> None:
        left, right, bar, *rest = margins
        n = len(self.axes)
        tops, bottoms = rest[:n], rest[n:]
        suptitle = _text_size(self.title, _TITLE_SIZE)[1] + _EDGE if self.title else 0.0
        x0 = (_EDGE + left) / width
        x1 = 1 - (_EDGE + right) / width
        y1 = 1 - (_EDGE + suptitle + tops[0]) / height
        y0 = (_EDGE + bottoms[-1]) / height
        gaps = sum(bottoms[i] + tops[i + 1] + 2 * _EDGE for i in range(n - 1)) / height
        each = max((y1 - y0 - gaps) / n, 0.01)
        if self.colorbar is not None:
            # The colorbar: as tall as the axes, 1/20 as wide, after a gap of 5 % of
            # the figure width, or more if the last x tick label overhangs further.
            thick = each * height / 20 / width
            cb0 = 1 - (_EDGE + bar) / width - thick
            x1 = cb0 - max(0.05 * width, _EDGE + right) / width
            self.colorbar.set_position([cb0, y1 - each, thick, each])
        top = y1
        for i, ax in enumerate(self.axes):
            if i:
                top -= (bottoms[i - 1] + tops[i] + 2 * _EDGE) / height
            ax.set_position([x0, top - each, max(x1 - x0, 0.01), each])
            top -= each

    def place(self, fig: Figure) -> None:
        width, height = fig.get_size_inches() * 72
        margins = None
        for _ in range(3):  # tick locations follow the axes' lengths: settle them
            new = self._margins(width, height)
            if new == margins:
                break
            margins = new
            self._set(margins, width, height)


def _title(ax: Axes, text: str) -> None:
    """The title of a run picture, at the left above the axes.

    Given at ``y=1`` (just above the axes, where matplotlib puts it anyway when
    no tick label is on top) so that matplotlib does not measure both axes at
    each draw to check whether the title clears them.
    """
    ax.set_title(text, loc="left", fontsize=_TITLE_SIZE, y=1.0)


def _column_figure(width: float, height: float) -> PascFigure:
    """A figure without layout engine: its axes are placed by a :class:`_Column`."""
    return PascFigure(figsize=(width, height))


def _run_title(result: RunResult) -> str:
    sc = result.scenario
    return (
        f"{sc.name} · {result.replications} replications × {sc.horizon.days} working days, "
        f"seed {result.seed}"
    )


def _band(matrix: np.ndarray, confidence: float = CONFIDENCE):
    """Column-wise mean and t-interval across rows (replications); NaN left out.

    The same interval as :func:`simulator.results.t_interval`, vectorised over
    the columns (hours, days, grid points); a column with fewer than two values
    gets NaN bounds (no band drawn there).
    """
    m = np.asarray(matrix, dtype=float)
    if m.ndim == 1:
        m = m[None, :]
    n = np.sum(~np.isnan(m), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(m, axis=0)
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        dev = np.where(np.isnan(m), 0.0, m - mean)
        sd = np.sqrt(np.sum(dev**2, axis=0) / np.maximum(n - 1, 1))
        tq = t_quantile(0.5 + confidence / 2, np.maximum(n - 1, 1))
        half = np.where(n >= 2, tq * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return mean, mean - half, mean + half


def _targets_on(scenario: Scenario, prefix: str) -> list[Target]:
    return [t for t in scenario.targets if t.kpi == prefix or t.kpi.startswith(prefix + ".")]


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _percent_axis(ax: Axes, which: str = "y") -> None:
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _records(result: RunResult) -> pd.DataFrame:
    if result.records_table is None and result.records_sample is not None:
        return result.records_sample  # the table is on disk: its first records per replication
    return result.records  # raises a clear ValueError when records were not kept


# -- waits and handle times -----------------------------------------------------------------


def wait_distribution(result: RunResult, *, target_minutes: float | None = None) -> Figure:
    """Walk-in waits as an empirical distribution function (ECDF), with the wait target.

    The curve answers "what share of walk-ins waited at most *x* minutes?"; it
    pools every replication. The shaded band is the 95 % interval of that share
    across replications. The red dashed line is the wait target (from the
    scenario's ``wait_minutes.*`` target, or ``target_minutes``); a dotted line
    marks the share the target asks for (90 % for a ``p90`` target), and the
    share actually reached at the target is written beside it.
    """
    sc = result.scenario
    fig = _column_figure(8, 4.6)
    ax = fig.add_subplot()
    fig.column = _Column([ax])
    _title(ax, f"Walk-in waiting time\n{_run_title(result)}")
    rec = _records(result)
    walk = rec[(rec["channel"] == "walk_in") & rec["wait_minutes"].notna()]
    targets = _targets_on(sc, "wait_minutes")
    threshold = target_minutes
    quantile = None
    if targets and threshold is None:
        threshold = targets[0].threshold
    if targets:
        quantile = QUANTILES.get(targets[0].kpi.partition(".")[2])
    if walk.empty:
        _no_data(ax, "no walk-in was served in this run")
        return fig
    waits = np.sort(walk["wait_minutes"].to_numpy(dtype=float))
    n = waits.size
    x = np.concatenate([[0.0], waits])
    y = np.concatenate([[0.0], np.arange(1, n + 1) / n])
    right = max(waits[-1], threshold or 0.0) * 1.05 or 1.0
    grid = np.linspace(0.0, right, 300)
    per_rep = []
    for _, g in walk.groupby("replication"):
        w = np.sort(g["wait_minutes"].to_numpy(dtype=float))
        per_rep.append(np.searchsorted(w, grid, side="right") / w.size)
    if len(per_rep) >= 2:
        _, low, high = _band(np.array(per_rep))
        ax.fill_between(
            grid, low, np.minimum(high, 1.0), color=SERIES_COLORS[0], alpha=BAND_ALPHA, lw=0
        )
        band_note = "band: 95 % interval across replications"
    else:
        band_note = "one replication: no interval"
    ax.step(
        x,
        y,
        where="post",
        color=SERIES_COLORS[0],
        lw=2,
        label=f"share who waited at most x ({n:,} walk-ins; {band_note})",
        gid="ecdf",
    )
    if threshold is not None:
        reached = np.searchsorted(waits, threshold, side="right") / n
        what = f"target: wait ≤ {threshold:g} min"
        if quantile is not None and quantile < 1:
            what += f" for {100 * quantile:.0f} % of walk-ins"
        elif quantile == 1:
            what += " for every walk-in"
        elif targets and targets[0].kpi == "wait_minutes.mean":
            what = f"target: mean wait ≤ {threshold:g} min"
            mean = float(waits.mean())
            ax.axvline(
                mean,
                color=SERIES_COLORS[0],
                ls=":",
                lw=1.4,
                gid="mean",
                label=f"mean wait: {mean:.1f} min",
            )
        ax.axvline(threshold, color=TARGET_COLOR, ls="--", lw=1.6, label=what, gid="target")
        if quantile is not None and quantile < 1:
            ax.axhline(quantile, color=TARGET_COLOR, ls=":", lw=1, gid="target-share")
        ax.plot([threshold], [reached], "o", color=TARGET_COLOR, ms=6)
        ax.annotate(
            f"{100 * reached:.1f} % waited ≤ {threshold:g} min",
            (threshold, reached),
            xytext=(8, -16),
            textcoords="offset points",
            fontsize=9,
            color=TARGET_COLOR,
        )
    ax.set_xlim(0, right)
    ax.set_ylim(0, 1.02)
    _percent_axis(ax)
    ax.set_xlabel("wait from arrival (ticket) to start of desk service (minutes)")
    ax.set_ylabel("share of walk-ins")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8.5)
    return fig


def _field_order(scenario: Scenario) -> list[str]:
    seen: list[str] = []
    for p in scenario.procedures:
        if p.field not in seen:
            seen.append(p.field)
    return seen


def _verdict_of(op: str, threshold: float, low: float, high: float) -> str:
    from simulator.results.verdicts import verdict

    return verdict(op, threshold, low, high)


def handle_time_by_field(result: RunResult, *, target_minutes: float | None = None) -> Figure:
    """Handle time at the desk per procedure field, against the handle-time target.

    One bar per field: the statistic the target is about (the 90th percentile
    for a ``handle_minutes.p90`` target; the 90th percentile when there is no
    target), averaged over replications, with its 95 % interval as a whisker.
    A black dot marks the field's mean handle time. Bars are coloured by the
    verdict of that field alone against the target: a field in red or amber is
    where the 30-minute promise is at risk.
    """
    sc = result.scenario
    fig = _column_figure(8, 4.6)
    ax = fig.add_subplot()
    fig.column = _Column([ax])
    _title(ax, f"Handle time at the desk, by procedure field\n{_run_title(result)}")
    rec = _records(result)
    desk = rec[rec["handle_minutes"].notna()]
    targets = _targets_on(sc, "handle_minutes")
    stat = targets[0].kpi.partition(".")[2] if targets else "p90"
    threshold = (
        target_minutes
        if target_minutes is not None
        else (targets[0].threshold if targets else None)
    )
    op = targets[0].op if targets else "<="
    if desk.empty:
        _no_data(ax, "no record was handled at a desk in this run")
        return fig
    rows = desk.groupby("field").indices  # one pass over the table, not one per field
    fields = [f for f in _field_order(sc) if f in rows]
    q = QUANTILES.get(stat)
    grouped = desk.groupby(["field", "replication"])["handle_minutes"]
    per_rep = grouped.quantile(q) if q is not None else grouped.mean()
    minutes = desk["handle_minutes"].to_numpy(dtype=float)
    means, lows, highs, dots, counts, colors = [], [], [], [], [], []
    for f in fields:
        m, lo, hi = t_interval(per_rep.loc[f].to_numpy())
        means.append(m)
        lows.append(lo)
        highs.append(hi)
        dots.append(float(minutes[rows[f]].mean()))
        counts.append(len(rows[f]))
        if threshold is None:
            colors.append(SERIES_COLORS[0])
        else:
            colors.append(VERDICT_COLORS[_verdict_of(op, threshold, lo, hi)])
    xs = np.arange(len(fields))
    yerr = np.array(
        [
            [m - lo if not math.isnan(lo) else 0.0 for m, lo in zip(means, lows, strict=True)],
            [hi - m if not math.isnan(hi) else 0.0 for m, hi in zip(means, highs, strict=True)],
        ]
    )
    statistic = _STATISTICS.get(stat, stat)
    ax.bar(
        xs,
        means,
        color=colors,
        width=0.6,
        label=f"{statistic} (bar) with 95 % interval",
        gid="fields",
    )
    ax.errorbar(xs, means, yerr=yerr, fmt="none", ecolor="black", capsize=5, lw=1.2)
    if stat != "mean":
        ax.plot(xs, dots, "o", color="black", ms=5, label="mean", gid="means")
    for x, m in zip(xs, means, strict=True):
        ax.annotate(_fmt(m), (x, m), xytext=(14, 3), textcoords="offset points", fontsize=9)
    if threshold is not None:
        ax.axhline(
            threshold,
            color=TARGET_COLOR,
            ls="--",
            lw=1.6,
            label=f"target: {statistic} {_op(op)} {threshold:g} min",
            gid="target",
        )
    ax.set_xticks(xs, [f"{f}\n({c:,} records)" for f, c in zip(fields, counts, strict=True)])
    ax.set_xlabel("procedure field (records handled at a desk, all replications)")
    ax.set_ylabel(f"handle time, {statistic} (minutes)")
    top = max([h for h in highs if not math.isnan(h)] + means + [threshold or 0.0])
    ax.set_ylim(0, top * 1.18)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8.5)
    return fig


# -- sizing ---------------------------------------------------------------------------------


def _sized_total(result: SizingResult, c: Candidate) -> int:
    """Staff on the sized desk groups only (the others stay as in the scenario)."""
    return sum(c.staff[d] for d in result.desks)


def _representatives(result: SizingResult) -> list[Candidate]:
    """One candidate per staff total, for the curve's line and band: the chosen one, else
    one that passes, else the one closest to passing."""
    chosen = result.chosen
    by_total: dict[int, list[Candidate]] = {}
    for c in result.curve:
        by_total.setdefault(_sized_total(result, c), []).append(c)
    reps = []
    for total in sorted(by_total):
        group = by_total[total]
        if chosen is not None and chosen in group:
            reps.append(chosen)
        else:
            reps.append(min(group, key=lambda c: (not c.passes, c.shortfall())))
    return reps


def _runs(xs: np.ndarray) -> list[slice]:
    """Slices of consecutive integers in a sorted array: [4, 5, 6, 24] -> [0:3], [3:4]."""
    breaks = np.flatnonzero(np.diff(xs) > 1) + 1
    edges = [0, *breaks.tolist(), len(xs)]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _unit_of(kpi: str) -> str:
    return KPI_AXES.get(kpi.partition(".")[0], ("", ""))[1]


def staffing_curve(result: SizingResult) -> Figure:
    """The staffing curve of ``pasc size``: each target's KPI against the staff count.

    One panel per target. The x-axis is the total of the sized desk groups.
    Every simulated candidate is a dot (coloured by its verdict on that
    target) with its 95 % interval as a whisker; when several splits of the
    same total were tried (several desk groups), each dot is labelled with the
    split (staff per group) and the line and band follow the best split of
    each total. Totals that were not simulated (the search jumps to the
    largest staffing once, to check that the targets can be met at all) are
    bridged by a thin dotted line, not a band: nothing is known in between.
    The red dashed line is the target, the green star and vertical line the
    chosen staffing, the grey dotted line the lower bound (offered load).
    """
    from matplotlib.lines import Line2D

    sc = result.scenario
    targets = sc.targets
    n = max(1, len(targets))
    fig = _figure(8, 2.3 * n + 1.3)
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    curve = sorted(result.curve, key=lambda c: (_sized_total(result, c), tuple(c.staff.values())))
    reps = _representatives(result)
    chosen = result.chosen
    several = len(result.desks) > 1
    answer = (
        "no staffing up to the limit meets every target"
        if result.answer is None
        else f"answer: {result.answer_total} staff ({_staff_text(result.answer)})"
    )
    fig.suptitle(
        f"Staffing curve of {sc.name}: targets against staff on {' / '.join(result.desks)}"
        f"\n{answer}; binding target: {result.binding_target or '–'}",
        x=0.01,
        ha="left",
        fontsize=10,
    )
    lb_total = sum(result.lower_bound.values())
    for ax, target in zip(axes, targets, strict=False):
        kpi = target.kpi

        def row(c: Candidate, kpi: str = kpi) -> tuple[float, float, float, str]:
            r = c.targets.set_index("kpi").loc[kpi]
            return float(r["mean"]), float(r["ci_low"]), float(r["ci_high"]), str(r["verdict"])

        pts = [row(c) for c in curve]
        xs = np.array([_sized_total(result, c) for c in curve], dtype=float)
        mean = np.array([p[0] for p in pts])
        low = np.array([p[1] for p in pts])
        high = np.array([p[2] for p in pts])
        rx = np.array([_sized_total(result, c) for c in reps], dtype=float)
        rr = np.array([row(c)[:3] for c in reps])
        if is_share(kpi):
            # A t-interval of a share can poke past 0 or 100 %; a share cannot.
            low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
            rr[:, 1:] = np.clip(rr[:, 1:], 0, 1)
        ax.plot(rx, rr[:, 0], ":", color=SERIES_COLORS[0], lw=0.9, gid="curve")
        for part in _runs(rx):
            ax.fill_between(
                rx[part], rr[part, 1], rr[part, 2], color=SERIES_COLORS[0], alpha=BAND_ALPHA, lw=0
            )
            ax.plot(rx[part], rr[part, 0], "-", color=SERIES_COLORS[0], lw=1.6)
        yerr = np.vstack([np.nan_to_num(mean - low), np.nan_to_num(high - mean)])
        ax.errorbar(xs, mean, yerr=yerr, fmt="none", ecolor="0.35", capsize=3, lw=1)
        ax.scatter(
            xs,
            mean,
            c=[VERDICT_COLORS[p[3]] for p in pts],
            s=36,
            zorder=3,
            edgecolors="black",
            linewidths=0.5,
            gid="candidates",
        )
        if several:
            # Splits of the same total get staggered labels so that equal values stay legible.
            nth: dict[int, int] = {}
            for c, x, m in zip(curve, xs, mean, strict=True):
                k = nth[int(x)] = nth.get(int(x), -1) + 1
                ax.annotate(
                    "/".join(str(c.staff[d]) for d in result.desks),
                    (x, m),
                    xytext=(6, -3 - 9 * k),
                    textcoords="offset points",
                    fontsize=7.5,
                    color="0.3",
                    va="top",
                )
        ax.axhline(target.threshold, color=TARGET_COLOR, ls="--", lw=1.5, gid="target")
        if chosen is not None:
            ax.axvline(_sized_total(result, chosen), color=VERDICT_COLORS["pass"], lw=1, alpha=0.6)
            ax.plot(
                [_sized_total(result, chosen)],
                [row(chosen)[0]],
                marker="*",
                ms=15,
                color=VERDICT_COLORS["pass"],
                markeredgecolor="black",
                ls="none",
                zorder=4,
                gid="chosen",
            )
        ax.axvline(lb_total, color="0.5", ls=":", lw=1)
        share = is_share(kpi)
        ax.set_title(
            f"{kpi_label(kpi, unit=False)}: target {_op(target.op)} "
            f"{_fmt(target.threshold, share)}",
            loc="left",
            fontsize=9,
        )
        ax.set_ylabel(_unit_of(kpi) or kpi)
        ax.margins(y=0.12)
        if share:
            _percent_axis(ax)
        ax.grid(alpha=0.3)
    if not targets:
        _no_data(axes[0], "the scenario has no targets")
    handles = [
        Line2D([], [], color=SERIES_COLORS[0], lw=6, alpha=BAND_ALPHA + 0.1),
        *(
            Line2D([], [], marker="o", ls="none", color=VERDICT_COLORS[v], markeredgecolor="black")
            for v in ("pass", "inconclusive", "fail")
        ),
        Line2D([], [], color=TARGET_COLOR, ls="--"),
        Line2D(
            [],
            [],
            marker="*",
            ms=12,
            ls="none",
            color=VERDICT_COLORS["pass"],
            markeredgecolor="black",
        ),
        Line2D([], [], color="0.5", ls=":"),
    ]
    labels = [
        "95 % interval",
        "candidate: pass",
        "inconclusive",
        "fail",
        "target",
        "chosen",
        "lower bound",
    ]
    fig.legend(handles, labels, loc="outside lower center", ncols=7, fontsize=7.5, frameon=False)
    split = " / ".join(result.desks)
    axes[-1].set_xlabel(
        "staff on the sized desks" + (f" (labels: {split})" if several else f" ({split})")
    )
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def _staff_text(staff: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in staff.items())


# -- time of day and the horizon ------------------------------------------------------------


def _hour_axis(ax: Axes, scenario: Scenario, hours: Sequence[int]) -> None:
    lo, hi = min(hours), max(hours) + 1
    step = 1 if hi - lo <= 12 else 2
    ticks = list(range(lo, hi + 1, step))
    ax.set_xticks(ticks, [f"{h:02d}:00" for h in ticks])
    ax.set_xlim(lo, hi)
    if scenario.calendar.type == "continuous":
        return
    shade_closed(ax, [(a / 60, b / 60) for a, b in scenario.calendar.open_spans_minutes()], lo, hi)


def shade_closed(ax: Axes, spans: Sequence[tuple[float, float]], lo: float, hi: float) -> None:
    """Grey stripes between the open spans (in hours of the day), labelled once."""
    edge = lo
    first = True
    for a, b in [*spans, (hi, hi)]:
        if a > edge:
            ax.axvspan(
                edge,
                min(a, hi),
                color=CLOSED_COLOR,
                lw=0,
                zorder=0,
                label="closed" if first else None,
            )
            first = False
        edge = max(edge, b)


def _per_hour(hourly: pd.DataFrame, column: str, hours: list[int]) -> np.ndarray:
    """Replications × hours: the column averaged over the measured days."""
    table = hourly.groupby(["replication", "hour"])[column].mean().unstack("hour")
    return table.reindex(columns=hours).to_numpy(dtype=float)


def hourly_profile(result: RunResult) -> Figure:
    """When in the day the center is under pressure: arrivals, queue and utilization by hour.

    Three panels share the clock-hour axis, each value averaged over the
    measured days, then over replications (band: 95 % interval across
    replications): walk-in arrivals per hour, the time-average number of
    walk-ins waiting, and the busy share of each staff pool's open time.
    Grey stripes are closed hours (lunch, after closing); citizens queued at
    closing are still served, so the hour after closing can show a queue.
    """
    sc = result.scenario
    hourly = result.hourly
    fig = _column_figure(8, 7.2)
    axes = fig.subplots(3, 1, sharex=True)
    title = f"By hour of the day (mean over days and replications)\n{_run_title(result)}"
    width, height = fig.get_size_inches() * 72
    fig.suptitle(title, x=_EDGE / width, y=1 - _EDGE / height, ha="left", fontsize=_TITLE_SIZE)
    fig.column = _Column(axes, title=title)
    if hourly.empty:
        for ax in axes:
            _no_data(ax, "no hourly data in this run")
        return fig
    hours = sorted(int(h) for h in hourly["hour"].unique())
    mid = np.array(hours, dtype=float) + 0.5
    arrivals, a_low, a_high = _band(_per_hour(hourly, "walk_in_arrivals", hours))
    axes[0].bar(mid, arrivals, width=0.8, color=SERIES_COLORS[0], alpha=0.8, gid="arrivals")
    yerr = np.vstack([np.nan_to_num(arrivals - a_low), np.nan_to_num(a_high - arrivals)])
    axes[0].errorbar(mid, arrivals, yerr=yerr, fmt="none", ecolor="black", capsize=3, lw=1)
    axes[0].set_ylabel("walk-in arrivals\n(citizens per hour)")
    queue, q_low, q_high = _band(_per_hour(hourly, "queue_length", hours))
    axes[1].fill_between(mid, q_low, q_high, color=SERIES_COLORS[0], alpha=BAND_ALPHA, lw=0)
    axes[1].plot(mid, queue, "o-", color=SERIES_COLORS[0], ms=4, gid="queue")
    axes[1].set_ylabel("walk-ins waiting\n(time average, citizens)")
    axes[1].set_ylim(bottom=0)
    pools = [c for c in hourly.columns if c.startswith("utilization.")]
    top = 1.0
    for i, col in enumerate(pools):
        color = SERIES_COLORS[i % len(SERIES_COLORS)]
        u, u_low, u_high = _band(_per_hour(hourly, col, hours))
        axes[2].fill_between(mid, u_low, u_high, color=color, alpha=BAND_ALPHA, lw=0)
        axes[2].plot(
            mid, u, "o-", color=color, ms=4, label=col.partition(".")[2], gid=f"util:{col}"
        )
        top = max(top, float(np.nanmax(u, initial=0.0)))
    axes[2].set_ylim(0, top * 1.05)
    if top > 1.0:
        # Busy minutes are counted against open minutes: serving the queue left at closing
        # (or the lunch break) shows as more than 100 % in the hour of closing.
        axes[2].axhline(1.0, color="0.4", lw=0.8)
        axes[2].annotate(
            "above 100 %: working past closing",
            (0.99, 1.0),
            xycoords=("axes fraction", "data"),
            ha="right",
            va="bottom",
            fontsize=7.5,
            color="0.3",
        )
    _percent_axis(axes[2])
    axes[2].set_ylabel("staff busy\n(% of open time)")
    axes[2].set_xlabel("hour of the day (each value covers one clock hour, drawn at its middle)")
    for ax in axes:
        ax.grid(alpha=0.3)  # before the ticks are made, not an update of each of them
        _hour_axis(ax, sc, hours)
    if pools or sc.calendar.type != "continuous":
        legend = axes[2].legend(
            fontsize=8,
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncols=len(pools) + 1,
            frameon=False,
        )
        # One row of entries above the panel: its pads around one line of text.
        pads = mpl.rcParams["legend.borderaxespad"] + 2 * mpl.rcParams["legend.borderpad"]
        line = max(_text_size(t.get_text(), 8)[1] for t in legend.get_texts())
        fig.column.above[axes[2]] = pads * 8 + line
    return fig


HEATMAP_COLUMNS = {
    "queue_length": "walk-ins waiting (time average, citizens)",
    "walk_in_arrivals": "walk-in arrivals (citizens per hour)",
}


def hourly_heatmap(result: RunResult, column: str = "queue_length") -> Figure:
    """A day × hour map of one hourly column, averaged over replications.

    Rows are the measured working days (1 = first day after warm-up), columns
    the clock hours; ``column`` is ``queue_length`` (default),
    ``walk_in_arrivals`` or ``utilization.<pool>``. Empty cells are hours with
    no open minute (utilization is undefined there). Useful to spot whether
    queues build up on particular days (a backlog carried over) or every day
    at the same hour (a staffing-profile problem).
    """
    sc = result.scenario
    hourly = result.hourly
    if column not in hourly.columns:
        raise ValueError(
            f"expected a column among {', '.join(hourly.columns[3:])}, found {column!r}"
        )
    fig = _column_figure(8, 4.8)
    ax = fig.add_subplot()
    fig.column = _Column([ax])
    label = HEATMAP_COLUMNS.get(column) or f"{column.partition('.')[2]} busy (% of open time)"
    _title(ax, f"{label}, day × hour\n{_run_title(result)}")
    if hourly.empty:
        _no_data(ax, "no hourly data in this run")
        return fig
    table = hourly.groupby(["day", "hour"])[column].mean().unstack("hour")
    days = table.index.to_numpy() - sc.horizon.warmup_days + 1
    hours = table.columns.to_numpy()
    data = np.ma.masked_invalid(table.to_numpy(dtype=float))
    share = column.startswith("utilization.")
    image = ax.pcolormesh(
        np.append(hours, hours[-1] + 1),
        np.append(days, days[-1] + 1) - 0.5,
        data,
        cmap="viridis" if share else "YlOrRd",
        vmin=0,
        vmax=1 if share else None,
        shading="flat",
    )
    fig.column.colorbar = fig.add_axes((0.9, 0.1, 0.02, 0.8))  # placed by the column
    bar = fig.colorbar(image, cax=fig.column.colorbar)
    bar.set_label(label)
    if share:
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ticks = list(range(int(hours[0]), int(hours[-1]) + 2, 1 if len(hours) <= 12 else 2))
    ax.set_xticks(ticks, [f"{h:02d}:00" for h in ticks])
    ax.set_xlabel("hour of the day")
    ax.set_ylabel("measured working day")
    ax.invert_yaxis()
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def backlog_over_horizon(result: RunResult) -> Figure:
    """Records in the center at the close of each working day, over the whole horizon.

    The line is the mean over replications of records filed but not yet
    resolved (in the back-office queue, in someone's hands, or walk-ins still
    queued), the band its 95 % interval. A level line means the staff keep up;
    a rising one is a backlog that grows day after day (the staffing cannot
    absorb the work, whatever the waits at the desk show). Warm-up days, not
    measured, are shaded.
    """
    sc = result.scenario
    daily = result.daily
    fig = _column_figure(8, 4.2)
    ax = fig.add_subplot()
    fig.column = _Column([ax])
    _title(ax, f"Records in progress at the close of each working day\n{_run_title(result)}")
    if daily.empty:
        _no_data(ax, "no daily data in this run")
        return fig
    days = sorted(int(d) for d in daily["day"].unique())
    x = np.array(days, dtype=float) + 1
    warm = sc.horizon.warmup_days
    if warm:
        ax.axvspan(0.5, warm + 0.5, color=CLOSED_COLOR, lw=0, label="warm-up (not measured)")
    series = [("in_center", SERIES_COLORS[0], "records filed, not yet resolved")]
    if not np.allclose(daily["in_center"], daily["backlog"]):
        # Only worth a second line when some records are at a desk or walk-ins still queue.
        series.append(("backlog", SERIES_COLORS[1], "of which in the back-office queue"))
    for col, color, label in series:
        table = daily.pivot_table(index="replication", columns="day", values=col)
        m, lo, hi = _band(table.reindex(columns=days).to_numpy(dtype=float))
        ax.fill_between(x, lo, hi, color=color, alpha=BAND_ALPHA, lw=0)
        ax.plot(x, m, "o-" if len(x) <= 40 else "-", ms=3, color=color, label=label, gid=col)
    ax.set_xlabel("working day (1 = first simulated day)")
    ax.set_ylabel("records in progress at closing (records)")
    ax.set_xlim(0.5, x[-1] + 0.5)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, loc="upper left")
    return fig


def _deadline_text(days: int) -> str:
    return "same day" if days == 0 else f"{days} working day{'s' if days > 1 else ''}"


def on_time_by_procedure(result: RunResult, *, target: float | None = None) -> Figure:
    """Share of resolved records returned within the statutory deadline, per procedure.

    One horizontal bar per procedure (label: its deadline), the mean over
    replications with its 95 % interval; bars are coloured by the verdict of
    that procedure alone against the ``on_time_rate`` target (red dashed
    line). Procedures with no record resolved in the horizon (long deadlines
    in a short run) are marked as such rather than drawn as zero.
    """
    sc = result.scenario
    rec = _records(result)
    done = rec[rec["outcome"] == "completed"]
    targets = _targets_on(sc, "on_time_rate")
    threshold = target if target is not None else (targets[0].threshold if targets else None)
    op = targets[0].op if targets else ">="
    procs = [p for p in sc.procedures]
    fig = _column_figure(8, 1.2 + 0.45 * len(procs))
    ax = fig.add_subplot()
    fig.column = _Column([ax])
    overall = result.kpi("on_time_rate")[0] if "on_time_rate" in set(result.kpis.columns) else None
    wanted = "" if threshold is None else f"; target {_op(op)} {_fmt(threshold, True)}, red dashed"
    _title(
        ax,
        f"On-time share by procedure (overall {_fmt(overall, True)}{wanted})\n{_run_title(result)}",
    )
    # One grouping of the table for all procedures (not a filter and a groupby each).
    per_rep = done["on_time"].astype(float).groupby([done["procedure"], done["replication"]])
    per_rep = per_rep.mean()
    resolved = done["procedure"].value_counts()
    with_records = set(per_rep.index.get_level_values(0))
    means, lows, highs, colors, labels = [], [], [], [], []
    for p in procs:
        values = per_rep.loc[p.id].to_numpy() if p.id in with_records else np.array([])
        m, lo, hi = t_interval(values) if len(values) else (math.nan,) * 3
        means.append(m)
        lows.append(lo)
        highs.append(hi)
        if threshold is None or math.isnan(m):
            colors.append(SERIES_COLORS[0])
        else:
            colors.append(VERDICT_COLORS[_verdict_of(op, threshold, lo, hi)])
        n = int(resolved.get(p.id, 0))
        labels.append(f"{p.id}\n({_deadline_text(p.deadline_working_days)}, {n:,} resolved)")
    ys = np.arange(len(procs))[::-1]
    ax.barh(ys, np.nan_to_num(means), color=colors, height=0.6, gid="procedures")
    xerr = np.vstack(
        [
            np.nan_to_num(np.array(means) - np.clip(np.array(lows), 0, 1)),
            np.nan_to_num(np.clip(np.array(highs), 0, 1) - np.array(means)),
        ]
    )
    ax.errorbar(np.nan_to_num(means), ys, xerr=xerr, fmt="none", ecolor="black", capsize=3)
    for y, m in zip(ys, means, strict=True):
        text = "no record resolved" if math.isnan(m) else _fmt(m, True)
        ax.text(
            0.01 if math.isnan(m) else 0.015,
            y,
            text,
            va="center",
            fontsize=8.5,
            color="0.3" if math.isnan(m) else "white",
            fontweight="bold",
        )
    if threshold is not None:
        ax.axvline(threshold, color=TARGET_COLOR, ls="--", lw=1.6, gid="target")
    ax.set_yticks(ys, labels, fontsize=8.5)
    ax.set_xlim(0, 1.0)
    _percent_axis(ax, "x")
    ax.set_xlabel("resolved records returned within the deadline (% of resolved)")
    ax.grid(axis="x", alpha=0.3)
    return fig


# -- quotas and comparisons -----------------------------------------------------------------


def quota_comparison(comparisons: Sequence[QuotaComparison]) -> Figure:
    """Records per staff member per year against each commune's class quota.

    For each commune, two bars: the productivity the simulation gives at the
    *quota staffing* (annual demand / quota, rounded up) and at the
    *service-target staffing* (the smallest staff meeting every target, from
    ``pasc size``), each labelled with its staff count. The red dashed segment
    over each commune is its class quota (1,600 urban, 1,200 rural, 800
    disadvantaged [QN-targets]). A service bar far above the quota means the
    targets are met with fewer staff than the quota implies; a quota staffing
    that fails the targets is hatched.
    """
    rows = list(comparisons)
    fig = _figure(max(6.0, 2.4 * len(rows) + 2), 4.8)
    ax = fig.add_subplot()
    ax.set_title(
        "Productivity: records per staff member per year, at two staffings\n"
        "quota staffing = annual demand / quota, rounded up: its productivity sits at or below "
        "the quota\n(rejected records and records still in progress do not count as completed)",
        loc="left",
        fontsize=9,
    )
    if not rows:
        _no_data(ax, "no commune to compare")
        return fig
    xs = np.arange(len(rows), dtype=float)
    width = 0.36
    at_quota = [r.records_per_staff_year_at_quota for r in rows]
    at_service = [
        math.nan
        if r.records_per_staff_year_at_service is None
        else r.records_per_staff_year_at_service
        for r in rows
    ]
    bars_q = ax.bar(
        xs - width / 2,
        at_quota,
        width,
        color=SERIES_COLORS[0],
        label="at quota staffing (demand / quota; hatched: targets missed)",
        gid="at-quota",
    )
    for bar, r in zip(bars_q, rows, strict=True):
        if not r.service_targets_met_at_quota:
            bar.set_hatch("///")
            bar.set_edgecolor("white")
    bars_s = ax.bar(
        xs + width / 2,
        np.nan_to_num(at_service),
        width,
        color=SERIES_COLORS[1],
        label="at service-target staffing",
        gid="at-service",
    )

    # Staff counts inside the bars, at their foot, where no quota line can cross them.
    def label_bar(bar, text: str, inside: bool = True) -> None:
        ax.annotate(
            text,
            (bar.get_x() + width / 2, 0),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            color="white" if inside else "0.3",
            fontweight="bold" if inside else "normal",
        )

    for bar, r in zip(bars_q, rows, strict=True):
        met = "targets met" if r.service_targets_met_at_quota else "targets missed"
        label_bar(bar, f"{r.quota_staff} staff\n{met}")
    for bar, r, v in zip(bars_s, rows, at_service, strict=True):
        if math.isnan(v):
            label_bar(bar, "no staffing\nmeets the targets", inside=False)
        else:
            label_bar(bar, f"{r.service_staff} staff")
    ax.hlines(
        [r.quota for r in rows],
        xs - 2 * width * 0.75,
        xs + 2 * width * 0.75,
        colors=TARGET_COLOR,
        linestyles="--",
        lw=2,
        label="class quota",
        gid="quota",
    )
    for x, r in zip(xs, rows, strict=True):
        ax.annotate(
            f"quota {r.quota:,.0f}",
            (x - 1.5 * width, r.quota),
            xytext=(0, 3),
            textcoords="offset points",
            fontsize=8,
            color=TARGET_COLOR,
            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    ax.set_xticks(xs, [f"{r.scenario}\n({r.commune_class})" for r in rows], fontsize=8.5)
    ax.set_xlim(-0.7, len(rows) - 0.3)
    top = np.nanmax([*at_quota, *at_service, *(r.quota for r in rows)])
    ax.set_ylim(0, top * 1.2)
    ax.set_ylabel("completed records per staff member per year\n(records / staff-year)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8.5, loc="upper right")
    return fig


#: KPIs shown by :func:`compare_kpis` besides the scenarios' targets.
COMPARE_KPIS = (
    "wait_minutes.mean",
    "wait_minutes.p90",
    "handle_minutes.p90",
    "on_time_rate",
    "utilization",
    "records_per_staff_year",
)


def compare_kpis(comparison: Comparison, kpis: Sequence[str] | None = None) -> Figure:
    """KPIs of several scenarios side by side (common random numbers).

    One panel per KPI (default: every target KPI, then the main waits,
    handle time, on-time share, utilization and productivity); in each panel
    one row per scenario, a dot for the mean and a whisker for its 95 %
    interval, and the target as a red dashed line. With two scenarios each
    panel's title also gives the paired difference (second − first) and its
    interval: when that interval excludes 0 the difference is real, even if
    the two whiskers overlap, because both scenarios saw the same citizens.
    """
    labels = comparison.labels
    summary = comparison.summary()
    if kpis is None:
        wanted: list[str] = []
        for r in comparison.results:
            wanted += [t.kpi for t in r.scenario.targets]
        wanted += list(COMPARE_KPIS)
        kpis = [k for i, k in enumerate(wanted) if k not in wanted[:i]]
    kpis = [k for k in kpis if k in set(summary["kpi"])]
    ncols = 2 if len(kpis) > 1 else 1
    nrows = max(1, math.ceil(len(kpis) / ncols))
    fig = _figure(9.5, 0.9 + nrows * (0.55 + 0.32 * len(labels)))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    fig.suptitle(
        f"Scenarios compared with common random numbers · {comparison.replications} "
        f"replications, seed {comparison.seed}\ndot: mean; whisker: 95 % interval"
        + (
            f"; A = {labels[0]}, B = {labels[1]}; B − A: paired difference"
            if len(labels) == 2
            else ""
        ),
        x=0.01,
        ha="left",
        fontsize=10,
    )
    diffs = comparison.differences()
    ys = np.arange(len(labels))[::-1]
    for ax, kpi in zip(axes, kpis, strict=False):
        rows = summary[summary["kpi"] == kpi].set_index("scenario").reindex(labels)
        m = rows["mean"].to_numpy(dtype=float)
        lo = rows["ci_low"].to_numpy(dtype=float)
        hi = rows["ci_high"].to_numpy(dtype=float)
        if is_share(kpi):
            lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
        xerr = np.vstack([np.nan_to_num(m - lo), np.nan_to_num(hi - m)])
        ax.errorbar(m, ys, xerr=xerr, fmt="none", ecolor="0.3", capsize=4)
        ax.scatter(
            m, ys, c=[SERIES_COLORS[i % 7] for i in range(len(labels))], zorder=3, s=40, gid="means"
        )
        thresholds = {
            (t.op, t.threshold)
            for r in comparison.results
            for t in r.scenario.targets
            if t.kpi == kpi
        }
        for op, thr in sorted(thresholds):
            ax.axvline(thr, color=TARGET_COLOR, ls="--", lw=1.4, gid="target")
            ax.annotate(
                f" target {_op(op)} {_fmt(thr, is_share(kpi))}",
                (thr, 0.98),
                xycoords=("data", "axes fraction"),
                fontsize=7.5,
                color=TARGET_COLOR,
                ha="left",
                va="top",
            )
        title = kpi_label(kpi)
        if len(labels) == 2:
            d = diffs[diffs["kpi"] == kpi]
            if len(d):
                dm, dl, dh = (float(d.iloc[0][c]) for c in ("mean", "ci_low", "ci_high"))
                share = is_share(kpi)
                title += (
                    f"\nB − A = {signed_text(dm, share=share)} "
                    f"(95 % interval {signed_text(dl, share=share)} "
                    f"to {signed_text(dh, share=share)})"
                )
        ax.set_title(title, fontsize=8.5, loc="left")
        ax.set_yticks(ys, labels, fontsize=8)
        ax.set_ylim(ys[-1] - 0.6, ys[0] + 0.9)
        if is_share(kpi):
            _percent_axis(ax, "x")
        ax.grid(axis="x", alpha=0.3)
        ax.margins(x=0.15)
    for ax in axes[len(kpis) :]:
        ax.set_visible(False)
    if not kpis:
        axes[0].set_visible(True)
        _no_data(axes[0], "no common KPI to show")
    return fig


# -- sweeps ----------------------------------------------------------------------------------


def sweep_figure(plan: Any, summary: pd.DataFrame, kpi: str) -> Figure:
    """A KPI's mean and 95 % interval over a sweep's variants (``sweep.png``).

    ``plan`` is the :class:`simulator.sweep.SweepPlan` (its ``axes``, ``kind``,
    ``name`` and the variants' targets), ``summary`` its one-row-per-variant
    table. Against the first swept value, one line per combination of the other
    swept values; for a province without ``--set``, each commune against its
    demand, coloured by commune class. Targets on the KPI are red dashed lines.
    """
    fig = _figure(8, 4.8)
    ax = fig.add_subplot()
    mean, low, high = (summary[f"{kpi}.{s}"].astype(float) for s in ("mean", "ci_low", "ci_high"))
    varying = [a for a in plan.axes if len(a.values) > 1]
    if varying or (plan.axes and plan.kind != "province"):
        x_col = (varying or plan.axes)[0].paths[0]
        group_cols = [p for a in varying for p in a.paths if p != x_col]
        if plan.kind == "province":
            group_cols = ["id", *group_cols]
        xs = summary[x_col]
        numeric = pd.api.types.is_numeric_dtype(xs)
        positions = {v: i for i, v in enumerate(dict.fromkeys(xs))}
        groups = summary.groupby(group_cols, sort=False) if group_cols else [("", summary)]
        for label, g in groups:
            x = g[x_col] if numeric else g[x_col].map(positions)
            order = x.argsort().to_numpy()
            xo = x.to_numpy()[order]
            name = label if isinstance(label, str) else ", ".join(map(str, label))
            ax.plot(xo, mean[g.index].to_numpy()[order], marker="o", label=name or kpi)
            ax.fill_between(
                xo, low[g.index].to_numpy()[order], high[g.index].to_numpy()[order], alpha=0.2
            )
        if not numeric:
            ax.set_xticks(list(positions.values()), [str(v) for v in positions])
        elif pd.api.types.is_integer_dtype(xs):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(x_col)
        if group_cols and 1 < len(summary.groupby(group_cols)) <= 12:
            ax.legend(title=", ".join(group_cols), fontsize="small")
    else:
        x = summary["records_per_day"] if "records_per_day" in summary else summary["variant"]
        classes = summary["class"] if "class" in summary else pd.Series([""] * len(summary))
        for cls in dict.fromkeys(classes):
            m = (classes == cls).to_numpy()
            ax.errorbar(
                x[m],
                mean[m],
                yerr=[(mean - low)[m].fillna(0), (high - mean)[m].fillna(0)],
                fmt="o",
                markersize=3,
                elinewidth=0.8,
                label=cls or None,
            )
        ax.set_xlabel("records per day" if "records_per_day" in summary else "variant")
        if any(classes):
            ax.legend(title="class", fontsize="small")
    thresholds = sorted(
        {(t.op, t.threshold) for v in plan.variants for t in v.scenario.targets if t.kpi == kpi}
    )
    for op, threshold in thresholds:
        ax.axhline(threshold, color="red", linestyle="--", linewidth=1)
        ax.annotate(
            f"target {'≤' if op == '<=' else '≥'} {threshold:g}",
            (1, threshold),
            xycoords=("axes fraction", "data"),
            ha="right",
            va="bottom",
            color="red",
            fontsize="small",
        )
    ax.set_ylabel(f"{kpi} (mean, 95% CI)")
    ax.set_title(f"{plan.name}: {kpi} over {len(plan.variants)} variants")
    ax.grid(alpha=0.3)
    return fig


# -- everything for a folder ----------------------------------------------------------------


def run_figure(result: RunResult, name: str) -> Figure:
    """One picture of a run by its file name (a key of :data:`RUN_FIGURES`)."""
    makers = {
        "wait": wait_distribution,
        "handle": handle_time_by_field,
        "hourly": hourly_profile,
        "queue-heatmap": lambda r: hourly_heatmap(r, "queue_length"),
        "backlog": backlog_over_horizon,
        "on-time": on_time_by_procedure,
    }
    return makers[name](result)


def warm_up(dpi: int = 110) -> None:
    """Draw a throwaway picture with what the pictures of a run use (titles, tick and
    axis labels, bold text, a legend, bars, error bars, bands, steps, a colour map
    with its colorbar) and render it at ``dpi``, so that loading the fonts and
    the renderer's first-use work are paid now: in a drawing process, while its
    run is still being simulated (its forked siblings inherit what it loaded).
    The pictures drawn afterwards are the same bytes."""
    fig = _column_figure(3, 2)
    ax, cax = fig.add_subplot(), fig.add_axes((0.9, 0.1, 0.02, 0.8))
    fig.column = _Column([ax], colorbar=cax)
    _title(ax, "0123456789 · ×\nabc")
    ax.bar([0, 1], [1, 2], color=SERIES_COLORS[0], label="a")
    ax.errorbar([0, 1], [1, 2], yerr=[0.5, 0.5], fmt="none", ecolor="black", capsize=3)
    ax.fill_between([0, 1], [0, 1], [1, 2], alpha=BAND_ALPHA, lw=0)
    ax.step([0, 1], [2, 1], where="post")
    ax.text(0.5, 1, "%", fontweight="bold")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncols=2, frameon=False)
    fig.colorbar(ax.pcolormesh([[0.0, 1.0]], cmap="viridis"), cax=cax).set_label("z")
    _percent_axis(ax)
    fig.savefig(io.BytesIO(), format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    fig.clear()


def run_figures(result: RunResult) -> dict[str, Figure]:
    """Every picture of a run, keyed by the file name ``pasc run`` saves it under
    (empty when the run kept no records, see :func:`run_figure_names`)."""
    return {name: run_figure(result, name) for name in run_figure_names(result)}


def save_figures(figures: Mapping[str, Figure], folder: Path, dpi: int = 110) -> dict[str, Path]:
    """Save each figure as ``folder/<name>.png``; return the paths by name."""
    paths = {}
    for name, fig in figures.items():
        path = Path(folder) / f"{name}.png"
        fig.savefig(path, dpi=dpi, metadata={"Software": None})
        paths[name] = path
    return paths


__all__ = [
    "COMPARE_KPIS",
    "RUN_FIGURES",
    "PascFigure",
    "backlog_over_horizon",
    "compare_kpis",
    "handle_time_by_field",
    "hourly_heatmap",
    "hourly_profile",
    "kpi_label",
    "on_time_by_procedure",
    "quota_comparison",
    "run_figure",
    "run_figure_names",
    "run_figures",
    "warm_up",
    "save_figures",
    "staffing_curve",
    "sweep_figure",
    "wait_distribution",
]
