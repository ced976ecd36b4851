"""The per-record and per-hour tables of a replication, handed out in chunks.

With ``keep_records`` the recorder produces three tables besides the KPIs:

* ``records``: one row per record of the measured cohort (:data:`RECORD_COLUMNS`);
* ``hourly``: one row per measured working day and hour of the day: walk-in
  arrivals, the mean number of walk-ins waiting, each staff pool's busy share;
* ``daily``: records in the center at the end of each working day.

They are handed to a *sink*, a callable ``sink(table, columns)`` receiving a
chunk of rows as columns (``{column: list}``), as soon as a chunk is complete
(:data:`CHUNK_ROWS` records; an hour's row once its day is over), so that what a
replication holds stays bounded whatever the horizon: a sink that writes the
chunks to disk keeps memory flat. :class:`KeptTables`, the default, keeps the
chunks in memory (what ``simulator.run(..., records=True)`` returns). The model
never knows where the chunks go.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulator.model.calendar import MINUTES_PER_DAY

Column = list | np.ndarray
"""A column of a chunk: a numpy array for numbers, a list for names and flags."""
TableSink = Callable[[str, dict[str, Column]], None]
"""``sink(table, columns)``: a chunk of rows of ``records``, ``hourly`` or ``daily``."""

#: Records buffered before a chunk is handed to the sink.
CHUNK_ROWS = 65_536

RECORD_COLUMNS = (
    "record",
    "channel",
    "procedure",
    "field",
    "priority",
    "desk",
    "arrival_minute",
    "day",
    "wait_minutes",
    "handle_minutes",
    "desk_end_minute",
    "resolved_minute",
    "due_minute",
    "outcome",
    "on_time",
    "returned_minute",
    "queued_minute",
)
DAILY_COLUMNS = ("day", "in_center", "backlog", "waiting")
HOUR = 60.0
#: Final days of hourly rows handed out together.
HAND_OUT_DAYS = 16


@dataclass
class KeptTables:
    """A sink that keeps every chunk in memory. It takes the records in one chunk
    (:attr:`chunk_rows`): they are all kept anyway, and one chunk spares joining
    them at the end."""

    #: Records per chunk this sink wants (a sink without the attribute gets
    #: :data:`CHUNK_ROWS`, which bounds what a replication buffers).
    chunk_rows: int = 2**62

    chunks: dict[str, list[dict[str, Column]]] = field(
        default_factory=lambda: {"records": [], "hourly": [], "daily": []}
    )

    def __call__(self, table: str, columns: dict[str, Column]) -> None:
        self.chunks[table].append(columns)

    def table(self, name: str) -> dict[str, Column]:
        """The whole table as columns (empty columns when no row was produced)."""
        chunks = self.chunks[name]
        if not chunks:
            return {}
        if len(chunks) == 1:
            return chunks[0]
        return {c: _joined([ch[c] for ch in chunks]) for c in chunks[0]}


def _joined(parts: list[Column]) -> Column:
    """One column of its chunks, in order: an array of arrays, else a list."""
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    out = list(parts[0])
    for part in parts[1:]:
        out.extend(part)
    return out


#: The hourly table adds minutes in whole units of 2**-30 minute (about 56
#: nanoseconds): sums of whole numbers below 2**53 are exact in floating point,
#: so a bin's total does not depend on the order its parts are added in.
QUANTUM = 2.0**-30


def spread_over_hours(
    start: np.ndarray,
    end: np.ndarray,
    weight: np.ndarray | None,
    n_bins: int,
    group: np.ndarray | None = None,
    n_groups: int = 1,
) -> np.ndarray:
    """Weighted minutes of the intervals [start, end) (in minutes from bin 0) that fall
    in each of ``n_bins`` hour bins; parts outside the bins are dropped. With
    ``group`` (each interval's, 0 .. ``n_groups`` - 1), one row of bins per group:
    an array (n_groups, n_bins).

    Each interval's part in each hour is rounded to a whole number of
    :data:`QUANTUM` before it is added, so every sum is exact: the result is the
    same whatever the order of the intervals (the recorder logs them as they
    end, or takes them from the records table). Exact while an hour holds less
    than 2**53 quanta (2**23 minutes: about 140,000 staff busy, or walk-ins
    waiting, at once).
    """
    start = np.maximum(np.asarray(start, dtype=float), 0.0)
    end = np.minimum(np.asarray(end, dtype=float), n_bins * HOUR)
    w = None if weight is None else np.asarray(weight, dtype=float)
    keep = end > start
    if not keep.all():
        start, end = start[keep], end[keep]
        w = None if w is None else w[keep]
        group = None if group is None else group[keep]
    first = np.floor(start / HOUR).astype(np.int64)
    last = np.floor(np.nextafter(end, -np.inf) / HOUR).astype(np.int64)
    size = n_bins * n_groups
    # Each interval: its part of the first hour and of the last (the whole of it
    # when both are the same hour), and every full hour between.
    same = first == last
    head = np.where(same, end, (first + 1) * HOUR) - start
    tail = np.where(same, 0.0, end - last * HOUR)
    if w is not None:
        head, tail = head * w, tail * w
    between = last - first - 1
    if group is not None:  # group g's bins follow the groups before it
        offset = group * n_bins
        first, last = first + offset, last + offset
    # In quanta (times 2**30: exact), rounded; the sums are exact, in any order.
    per_minute = 1.0 / QUANTUM
    head *= per_minute
    tail *= per_minute
    units = np.bincount(first, weights=np.rint(head, out=head), minlength=size)[:size]
    units += np.bincount(last, weights=np.rint(tail, out=tail), minlength=size)[:size]
    if (between > 0).any():
        # Full hours first+1 .. last-1 (of the same group): +1 from first+1, -1 from
        # last, summed up.
        many = between > 0
        full = np.rint(HOUR * per_minute * (np.ones(many.sum()) if w is None else w[many]))
        steps = np.bincount(first[many] + 1, weights=full, minlength=size + 1)
        steps -= np.bincount(last[many], weights=full, minlength=size + 1)
        units += np.cumsum(steps)[:size]
    minutes = units * QUANTUM
    return minutes if group is None else minutes.reshape(n_groups, n_bins)


#: A logged interval of the hourly table: a busy one (pool, start, end) ...
SEGMENT = struct.Struct("3d")
#: ... or a walk-in's wait (start, end).
WAIT = struct.Struct("2d")


def _columns(log: bytearray, n: int) -> tuple[np.ndarray, ...]:
    """The ``n`` columns of a log of packed doubles, copied once (the log is then
    changed in place, which a view of it would forbid)."""
    rows = np.frombuffer(log, dtype=float).reshape(-1, n).copy()
    return tuple(rows[:, i] for i in range(n))


class HourlyBins:
    """Hour-by-hour figures of one replication, built while it runs.

    The recorder reports walk-in arrivals, the walk-ins' waits and the staff's
    busy intervals (logged as they end, or, for walk-ins served and resolved at
    their desk, taken from their rows: :meth:`served`); at the end of each
    working day the bins of
    the day before (a service may run past midnight in a 24-hour calendar) are
    final and handed to the sink as that day's rows. Only the shown hours are
    kept: the open hours, the breaks between them, and the hour after closing,
    when citizens queued at closing are still served. Utilization in an hour is
    busy staff-minutes over the staff-minutes on duty while open in that hour
    (NaN in an hour with no open minute).
    """

    def __init__(
        self,
        spans: tuple[tuple[int, int], ...],
        pools: dict[str, int],
        first_day: int,
        sink: TableSink,
        staffed: Callable[[int], np.ndarray] | None = None,
    ):
        self.sink = sink
        self.first_day = first_day  # the first measured day: earlier days are not kept
        self.pools = list(pools)
        self.counts = np.array([pools[p] for p in self.pools], dtype=float)
        # staffed(day): staff-minutes on duty while open, per pool and clock hour
        # (default: every staff member in every open minute).
        self.staffed = staffed
        self.spans = tuple(spans)
        self.open_in_hour = np.zeros(24)
        for a, b in spans:
            self.open_in_hour += spread_over_hours(np.array([a]), np.array([b]), None, 24)
        hours_open = np.flatnonzero(self.open_in_hour > 0)
        self.shown_hours = np.arange(hours_open[0], min(24, hours_open[-1] + 2))
        self._pool_index = {p: i for i, p in enumerate(self.pools)}
        self.next_day = 0  # days before it were handed out
        self.arrivals = np.zeros(0)
        # Waits (start, end: WAIT) and busy intervals (pool index, start, end: SEGMENT)
        # logged since the last hand-out, packed as doubles; the buffers are changed
        # in place, so their writers may keep them.
        self.queue = bytearray()
        self.busy = bytearray()
        self.pool_index = self._pool_index
        # ... and the same, taken from records served at a desk and resolved there
        # (their rows hold their service and wait): (pool index, start, end) and
        # (start, end) columns, added in :meth:`_hand_out` (order does not matter).
        self._served_busy: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._served_waits: list[tuple[np.ndarray, np.ndarray]] = []

    def busy_interval(self, pool_index: int, start: float, end: float) -> None:
        """Staff of pool ``pool_index`` (see :attr:`pool_index`) worked from ``start``
        to ``end``: the one place a busy interval is logged."""
        self.busy += SEGMENT.pack(pool_index, start, end)

    def walk_ins_filed(self, times: np.ndarray) -> None:
        self.arrivals = np.concatenate([self.arrivals, times])

    def served(
        self,
        desk: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        queued: np.ndarray,
        waited_from: np.ndarray,
    ) -> None:
        """Walk-ins served at desk group ``desk`` (its pool index) from ``start`` to
        ``end``, who joined the queue at ``queued`` (no wait when it is ``start``),
        the wait logged up to ``waited_from``: what their records' rows say."""
        self._served_busy.append((desk.astype(float), start, end))
        waited = start > queued
        self._served_waits.append((waited_from[waited], start[waited]))

    def hands_out(self, day: int) -> bool:
        """Whether the end of working day ``day`` hands out rows (:meth:`day_over`)."""
        return day - self.next_day >= HAND_OUT_DAYS

    def day_over(self, day: int) -> None:
        """Working day ``day`` has ended: the days before it are final; their rows are
        handed out a block of :data:`HAND_OUT_DAYS` at a time (fewer numpy calls)."""
        if self.hands_out(day):
            self._hand_out(day)

    def finish(self, total_days: int) -> None:
        """The run is over: hand out every remaining day."""
        self._hand_out(total_days)

    def _hand_out(self, until_day: int) -> None:
        """Rows of days ``next_day .. until_day - 1``; work logged so far that falls in
        later days is kept for them."""
        lo, hi = self.next_day, until_day
        if hi <= lo:
            return
        origin = lo * MINUTES_PER_DAY
        later = max(hi + 1, lo + 2)
        n_bins = (later - lo) * 24
        arrivals = self.arrivals - origin
        arr = np.bincount(
            np.floor(arrivals[(arrivals >= 0) & (arrivals < n_bins * HOUR)] / HOUR).astype(
                np.int64
            ),
            minlength=n_bins,
        )[:n_bins]
        qs, qe = _columns(self.queue, 2)
        pool_at, bs, be = _columns(self.busy, 3)
        if self._served_waits:  # the waits and services the records' rows hold
            waits = zip(*self._served_waits, strict=True)
            services = zip(*self._served_busy, strict=True)
            qs, qe = (np.concatenate([x, *c]) for x, c in zip((qs, qe), waits, strict=True))
            pool_at, bs, be = (
                np.concatenate([x, *c]) for x, c in zip((pool_at, bs, be), services, strict=True)
            )
            self._served_waits, self._served_busy = [], []
        # Busy time counts while open, as the utilization KPI counts it: a service
        # running past closing is overtime (the hour's share never exceeds 1). So a
        # busy interval counts in pieces, one per opening span of its day and the next.
        day0 = np.floor(bs / MINUTES_PER_DAY) * MINUTES_PER_DAY
        pieces = [
            (np.maximum(bs, day0 + off + a), np.minimum(be, day0 + off + b))
            for off in (0.0, MINUTES_PER_DAY)
            for a, b in self.spans
        ]
        # One exact sum for all: each pool's busy pieces (group = pool index), then
        # the waits (the last group).
        n_pools = len(self.pools)
        which = pool_at.astype(np.int64)
        minutes = spread_over_hours(
            np.concatenate([qs, *(s for s, _ in pieces)]) - origin,
            np.concatenate([qe, *(e for _, e in pieces)]) - origin,
            None,
            n_bins,
            np.concatenate([np.full(len(qs), n_pools), *([which] * len(pieces))]),
            n_pools + 1,
        )
        busy, queue = minutes[:n_pools], minutes[n_pools] / HOUR
        # Keep what falls at or after until_day for the next hand-out.
        cut = until_day * MINUTES_PER_DAY
        self.arrivals = self.arrivals[self.arrivals >= cut]
        keep_q = qe > cut
        self.queue[:] = np.column_stack((np.maximum(qs[keep_q], cut), qe[keep_q])).tobytes()
        keep_b = be > cut
        self.busy[:] = np.column_stack(
            (pool_at[keep_b], np.maximum(bs[keep_b], cut), be[keep_b])
        ).tobytes()
        self.next_day = until_day
        days = [d for d in range(lo, hi) if d >= self.first_day]
        if not days:
            return
        hours = self.shown_hours
        rows_day = np.repeat(days, len(hours))
        rows_hour = np.tile(hours, len(days))
        idx = (rows_day - lo) * 24 + rows_hour
        if self.staffed is None:
            staffed = self.counts[:, None] * self.open_in_hour[rows_hour][None, :]
        else:
            staffed = np.concatenate([self.staffed(d)[:, hours] for d in days], axis=1)
        columns: dict[str, Column] = {
            "day": rows_day,
            "hour": rows_hour,
            "walk_in_arrivals": arr[idx],
            "queue_length": queue[idx],
        }
        with np.errstate(invalid="ignore", divide="ignore"):
            for i, pool in enumerate(self.pools):
                util = np.where(staffed[i] > 0, busy[i][idx] / staffed[i], np.nan)
                columns[f"utilization.{pool}"] = util
        self.sink("hourly", columns)
