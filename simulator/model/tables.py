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


def spread_over_hours(
    start: np.ndarray, end: np.ndarray, weight: np.ndarray | None, n_bins: int
) -> np.ndarray:
    """Weighted minutes of the intervals [start, end) (in minutes from bin 0) that fall
    in each of ``n_bins`` hour bins; parts outside the bins are dropped."""
    out = np.zeros(n_bins)
    start = np.maximum(np.asarray(start, dtype=float), 0.0)
    end = np.minimum(np.asarray(end, dtype=float), n_bins * HOUR)
    w = np.ones(len(start)) if weight is None else np.asarray(weight, dtype=float)
    keep = end > start
    if not keep.all():
        start, end, w = start[keep], end[keep], w[keep]
    first = np.floor(start / HOUR).astype(np.int64)
    last = np.floor(np.nextafter(end, -np.inf) / HOUR).astype(np.int64)
    same = first == last
    # Intervals across one hour boundary (most of the others): both parts at once.
    one = last == first + 1
    first_one, last_one, w_one = first[one], last[one], w[one]
    # One weighted bincount adds the parts in the order three successive
    # ``np.add.at`` calls would (within an hour, interval by interval), many times
    # faster.
    out += np.bincount(
        np.concatenate([first[same], first_one, last_one]),
        weights=np.concatenate(
            [
                (end[same] - start[same]) * w[same],
                ((first_one + 1) * HOUR - start[one]) * w_one,
                (end[one] - last_one * HOUR) * w_one,
            ]
        ),
        minlength=n_bins,
    )[:n_bins]
    longer = ~(same | one)
    if longer.any():
        # The rest, interval by interval, each over its hours a .. b: the first and
        # last hours in part, full hours between (np.add.at adds in order, as a loop
        # over the intervals would).
        s, e, a, b, x = start[longer], end[longer], first[longer], last[longer], w[longer]
        hours = b - a + 1
        at = np.cumsum(hours) - hours  # where each interval's hours begin
        n = int(hours.sum())
        bins = np.repeat(a - at, hours) + np.arange(n)
        values = np.repeat(HOUR * x, hours)
        values[at] = ((a + 1) * HOUR - s) * x
        values[at + hours - 1] = (e - b * HOUR) * x
        np.add.at(out, bins, values)
    return out


#: A logged interval of the hourly table: (start, end, weight) or (pool, start, end).
SEGMENT = struct.Struct("3d")


def _segments(log: bytearray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three columns of a log of SEGMENT doubles, copied once (the log is then
    changed in place, which a view of it would forbid)."""
    rows = np.frombuffer(log, dtype=float).reshape(-1, 3).copy()
    return rows[:, 0], rows[:, 1], rows[:, 2]


class HourlyBins:
    """Hour-by-hour figures of one replication, built while it runs.

    The center reports walk-in arrivals, the walk-in queue's length over time
    and the staff's busy intervals; at the end of each working day the bins of
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
        # Queue segments (start, end, walk-ins waiting) and busy intervals (pool index,
        # start, end) logged since the last hand-out, packed as SEGMENT doubles; the
        # buffers are changed in place, so the center may append to them directly.
        self.queue = bytearray()
        self.busy = bytearray()
        self.pool_index = self._pool_index

    def busy_interval(self, pool: str, start: float, end: float) -> None:
        self.busy += SEGMENT.pack(self._pool_index[pool], start, end)

    def walk_ins_filed(self, times: np.ndarray) -> None:
        self.arrivals = np.concatenate([self.arrivals, times])

    def day_over(self, day: int) -> None:
        """Working day ``day`` has ended: the days before it are final; their rows are
        handed out a block of :data:`HAND_OUT_DAYS` at a time (fewer numpy calls)."""
        if day - self.next_day >= HAND_OUT_DAYS:
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
        qs, qe, ql = _segments(self.queue)
        queue = spread_over_hours(qs - origin, qe - origin, ql, n_bins) / HOUR
        busy = np.zeros((len(self.pools), n_bins))
        pool_at, bs, be = _segments(self.busy)
        which = pool_at.astype(np.int64)
        # Busy time counts while open, as the utilization KPI counts it: a service
        # running past closing is overtime (the hour's share never exceeds 1).
        day0 = np.floor(bs / MINUTES_PER_DAY) * MINUTES_PER_DAY
        pieces = [
            (np.maximum(bs, day0 + off + a), np.minimum(be, day0 + off + b))
            for off in (0.0, MINUTES_PER_DAY)
            for a, b in self.spans
        ]
        for i in range(len(self.pools)):
            sel = which == i
            if sel.any():
                busy[i] = sum(
                    spread_over_hours(s[sel] - origin, e[sel] - origin, None, n_bins)
                    for s, e in pieces
                )
        # Keep what falls at or after until_day for the next hand-out.
        cut = until_day * MINUTES_PER_DAY
        self.arrivals = self.arrivals[self.arrivals >= cut]
        keep_q = qe > cut
        self.queue[:] = np.column_stack(
            (np.maximum(qs[keep_q], cut), qe[keep_q], ql[keep_q])
        ).tobytes()
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
