"""What a replication measures, attached from outside the model's logic.

The center reports what happens (a walk-in starts service, a record is
resolved, the queue changes); the :class:`Recorder` decides what to keep. By
default it keeps only streaming statistics, so memory does not grow with the
horizon; with ``keep_records=True`` it also produces the records, hourly and
daily tables (:mod:`simulator.model.tables`), handed to a sink in chunks.

Counts follow the *cohort* of records filed in the measured horizon (after
warm-up): each is, at the end of the run, completed, rejected, abandoned or
still in progress, so ``filed = completed + rejected + in_progress + abandoned``
holds by construction of the model, and the test suite checks it against the
center's own queues.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from simulator.model.calendar import MINUTES_PER_DAY
from simulator.model.record import Record
from simulator.model.tables import (
    CHUNK_ROWS,
    DAILY_COLUMNS,
    RECORD_COLUMNS,
    WAIT,
    HourlyBins,
    KeptTables,
    TableSink,
)
from simulator.scenario.channels import CHANNELS_BY_CODE
from simulator.stats import StreamingQuantiles

#: Values kept in plain lists before they are folded into the statistics.
BUFFERED_VALUES = 8192
#: A record's row in the row buffer, packed as it happens: id, procedure (index),
#: arrival, desk start, desk end, resolved, due, queued, waited from (the part of
#: its last wait not logged for the hourly table yet), then the desk group (index,
#: -1: none), priority, served (served at a desk and resolved there: the row holds
#: that service and wait for the hourly table), outcome (index in :data:`OUTCOMES`),
#: on time (1, 0, -1: not applicable) and the channel (its code, see
#: :data:`~simulator.scenario.channels.CHANNELS_BY_CODE`); 80 bytes, so every number
#: stays aligned.
ROW = struct.Struct("@qq7dh??bbh")  # native: the fast packers; no padding needed
_ROW_FIELDS = {
    "record": "=i8",
    "procedure": "=i8",
    "arrival": "=f8",
    "desk_start": "=f8",
    "desk_end": "=f8",
    "resolved": "=f8",
    "due": "=f8",
    "queued": "=f8",
    "waited_from": "=f8",
    "desk": "=i2",
    "priority": "?",
    "served": "?",
    "outcome": "i1",
    "on_time": "i1",
    "channel": "=i2",
}
#: The same row as numpy reads it (fields one after the other: each is at an offset
#: its size divides, so native alignment adds no padding).
ROW_DTYPE = np.dtype(
    {"names": list(_ROW_FIELDS), "formats": list(_ROW_FIELDS.values()), "itemsize": ROW.size}
)
#: A record's outcome, by its code in the row.
OUTCOMES = ("completed", "rejected", "abandoned", "in_progress")
COMPLETED, REJECTED, ABANDONED, IN_PROGRESS = range(len(OUTCOMES))


class Recorder:
    """Streaming KPIs of one replication (and optionally the records table)."""

    def __init__(
        self,
        measure_from: float,
        keep_records: bool,
        procedure_ids: list[str],
        procedure_fields: list[str],
        postal_delivery_minutes: float = 0.0,
        *,
        sink: TableSink | None = None,
        hourly: HourlyBins | None = None,
        waits_by_hour: bool = False,
        desk_names: list[str] = (),
    ):
        self.postal_delivery_minutes = postal_delivery_minutes
        self.measure_from = measure_from
        self.keep_records = keep_records
        # Rows are buffered as they happen, packed (:data:`ROW`: read back as arrays
        # without visiting one Python object each); they are handed out as columns,
        # CHUNK_ROWS at a time.
        self.sink: TableSink = sink if sink is not None else KeptTables()
        self.rows = bytearray()
        # the bytes of a full chunk's rows
        self._full = getattr(self.sink, "chunk_rows", CHUNK_ROWS) * ROW.size
        self._fed = 0  # rows of the buffer whose services the hourly table has
        self._desk_names = np.array([*desk_names, None], dtype=object)  # index -1: none
        self.daily_rows: list[tuple[int, int, int, int]] = []
        self.hourly = hourly
        # Hourly queue: each wait is logged (start, end) at the end of its service (or
        # as the walk-in gives up), unless its row holds it, and the waits still
        # going on at a day's close up to then (waits before this are logged).
        self._queue_logged_until = 0.0
        self._queue_log = hourly.queue if hourly is not None else None
        self._proc_ids_a = np.array(procedure_ids, dtype=object)
        self._proc_fields_a = np.array(procedure_fields, dtype=object)
        self.waits = StreamingQuantiles(batch=BUFFERED_VALUES)
        self.handles = StreamingQuantiles(batch=BUFFERED_VALUES)
        self.time_in_center_total = 0.0
        self.time_in_center_n = 0
        self.filed = 0
        self.completed = 0
        self.on_time = 0
        self.rejected = 0
        self.abandoned = 0
        self.in_progress = 0
        self.overdue = 0
        self.with_citizen = 0
        self.routed_out = 0  # walk-ins who went to a neighbouring center (province models)
        self.routed_in = 0
        # The walk-ins waiting now (all desk groups), the most at once, and the queue
        # length's integral over the measured window: the sum of every wait's part in it.
        self.waiting = 0
        self.queue_max = 0
        self.queue_area = 0.0
        self._stays: list[float] = []
        self.wait_sink = self.waits.buffer.append
        # Waits by the clock hour the citizen joined the queue (per-hour targets).
        self.hour_waits: list[StreamingQuantiles] | None = (
            [StreamingQuantiles(batch=BUFFERED_VALUES) for _ in range(24)]
            if waits_by_hour
            else None
        )
        # ... and by desk group (``<kpi>@HH/<group>``), for sizing each group by hour.
        self.group_hour_waits: dict[str, list[StreamingQuantiles]] = {}
        self.handle_sink = self.handles.buffer.append
        self.stay_sink = self._stays.append

    # -- events reported by the center -------------------------------------------------
    # The three sinks are plain list appends (the cheapest thing per walk-in);
    # the lists are folded into bounded-memory histograms at the end of each day.
    def records_filed(self, n: int) -> None:
        """``n`` records of the measured horizon were filed today."""
        self.filed += n

    def day_ended(self) -> None:
        """A block of days is over: fold full buffers (memory stays bounded)."""
        self.waits.flush_if_full()
        self.handles.flush_if_full()
        for hw in self.hour_waits or ():
            hw.flush_if_full()
        for hws in self.group_hour_waits.values():
            for hw in hws:
                hw.flush_if_full()
        if len(self._stays) >= BUFFERED_VALUES:
            self._fold_stays()

    def _fold_stays(self) -> None:
        self.time_in_center_total += sum(self._stays)
        self.time_in_center_n += len(self._stays)
        self._stays.clear()

    def joined_queue(self, now: float) -> None:
        """A walk-in joined a desk queue at ``now``."""
        self.waiting += 1
        if self.waiting > self.queue_max and now >= self.measure_from:
            self.queue_max = self.waiting

    def left_queue(self, rec: Record, now: float, *, gone: bool = False) -> None:
        """A walk-in who joined a desk queue at ``rec.queued`` left it at ``now``: called
        to a desk (the wait goes to the hourly table with the service,
        :meth:`served`), or ``gone``."""
        queued = rec.queued
        self.waiting -= 1
        measure_from = self.measure_from
        if now > measure_from:
            self.queue_area += now - (queued if queued > measure_from else measure_from)
        if self._queue_log is not None:
            since = self._queue_logged_until  # the wait was logged up to then
            rec.waited_from = queued if queued > since else since
            if gone and now > queued:
                self._queue_log += WAIT.pack(rec.waited_from, now)

    def served(self, pool_index: int, rec: Record, end: float) -> None:
        """A walk-in's desk service (at pool ``pool_index``) ended at ``end``: its busy
        time and its wait, for the hourly table, when its row does not hold them."""
        start = rec.desk_start
        self.hourly.busy_interval(pool_index, start, end)
        if start > rec.queued:
            self._queue_log += WAIT.pack(rec.waited_from, start)

    def _still_waiting(self, queued: list[float], now: float) -> None:
        """The waits still going on at ``now`` (joined at ``queued``): their part so far."""
        if self._queue_log is not None:
            since = self._queue_logged_until
            for q in queued:
                if now > q:
                    self._queue_log += WAIT.pack(q if q > since else since, now)
            self._queue_logged_until = now

    def busy(self, pool: str, start: float, end: float) -> None:
        """Staff of ``pool`` worked from ``start`` to ``end`` (for the hourly table)."""
        self.hourly.busy_interval(self.hourly.pool_index[pool], start, end)

    def day_closed(
        self, now: float, day: int, in_center: int, backlog: int, waiting: int, queued: list[float]
    ) -> None:
        """The end (``now``) of working day ``day``, records table kept: its daily row,
        and the hourly rows of the day before (final now). ``queued``: when each walk-in
        still waiting joined the queue."""
        self.daily_rows.append((day, in_center, backlog, waiting))
        if len(self.daily_rows) >= CHUNK_ROWS:
            self._hand_out_daily()
        if self.hourly is not None:
            self._still_waiting(queued, now)
            if self.hourly.hands_out(day):
                self._feed_hourly()
                self.hourly.day_over(day)

    def _feed_hourly(self) -> None:
        """The services and waits held by the rows packed since the last feed go to the
        hourly table."""
        if self.hourly is None or self._fed * ROW.size == len(self.rows):
            return
        rows = np.frombuffer(self.rows, dtype=ROW_DTYPE)[self._fed :]
        self._fed += len(rows)
        served = rows["served"]
        # Copies, column by column (the buffer is then free to grow again).
        # (A desk group's index is its pool's in the hourly table: desks come first.)
        fields = ("desk", "desk_start", "desk_end", "queued", "waited_from")
        self.hourly.served(*(rows[f][served] for f in fields))

    def _hand_out_records(self) -> None:
        if not self.rows:
            return
        self._feed_hourly()
        rows = np.frombuffer(self.rows, dtype=ROW_DTYPE)
        self.rows, self._fed = bytearray(), 0
        # Columns are views of the one buffer where they can be (the sink or the
        # DataFrame makes its own copy).
        proc = rows["procedure"]
        arrival, start, end = rows["arrival"], rows["desk_start"], rows["desk_end"]
        resolved, queued = rows["resolved"], rows["queued"]
        outcome, channel = rows["outcome"], rows["channel"]
        kinds = CHANNELS_BY_CODE  # as declared now (a channel may be declared at any time)
        # A walk-in's wait counts from the last time it joined the queue (a citizen
        # coming back with a supplement queues again); results going back by post
        # reach the citizen the delivery days later.
        returned = resolved.copy()
        if self.postal_delivery_minutes:
            by_post = np.array([k.result_by_post for k in kinds])[channel]
            returned[by_post & (outcome == COMPLETED)] += self.postal_delivery_minutes
        columns = {
            "record": rows["record"],
            "channel": np.array([k.name for k in kinds], dtype=object)[channel].tolist(),
            "procedure": self._proc_ids_a[proc],
            "field": self._proc_fields_a[proc],
            "priority": rows["priority"],
            "desk": self._desk_names[rows["desk"]].tolist(),
            "arrival_minute": arrival,
            "day": (arrival // MINUTES_PER_DAY).astype(np.int64),
            "wait_minutes": start - queued,
            "handle_minutes": end - start,
            "desk_end_minute": end,
            "resolved_minute": resolved,
            "due_minute": rows["due"],
            "outcome": _OUTCOME_NAMES[outcome].tolist(),
            "on_time": _ON_TIME_VALUES[rows["on_time"] + 1].tolist(),
            "returned_minute": returned,
            "queued_minute": queued,
        }
        assert tuple(columns) == RECORD_COLUMNS
        self.sink("records", columns)

    def _hand_out_daily(self) -> None:
        if self.daily_rows:
            columns = list(zip(*self.daily_rows, strict=True))
            self.sink("daily", {c: list(v) for c, v in zip(DAILY_COLUMNS, columns, strict=True)})
            self.daily_rows = []

    def tables_done(self, total_days: int) -> None:
        """The run is over: hand out what is left of every table."""
        self._hand_out_records()
        self._hand_out_daily()
        if self.hourly is not None:
            self.hourly.finish(total_days)

    def record_resolved(self, rec: Record, now: float, served: bool = False) -> None:
        """``rec`` is resolved at ``now``; ``served``: at the end of its desk service,
        whose busy time and wait its row holds (else they were logged, :meth:`served`)."""
        if rec.measured:
            self.completed += 1
            on_time = now <= rec.due
            self.on_time += on_time
            if self.keep_records:  # self._row(rec, now, COMPLETED, on_time), inlined
                self.rows += ROW.pack(
                    rec.id,
                    rec.proc,
                    rec.arrival,
                    rec.desk_start,
                    rec.desk_end,
                    now,
                    rec.due,
                    rec.queued,
                    rec.waited_from,
                    rec.desk,
                    rec.priority,
                    served,
                    COMPLETED,
                    on_time,
                    rec.channel.code,
                )
                if len(self.rows) >= self._full:
                    self._hand_out_records()

    def record_rejected(self, rec: Record, now: float) -> None:
        if rec.measured:
            self.rejected += 1
            if self.keep_records:
                self._row(rec, now, REJECTED)

    def record_abandoned(self, rec: Record, now: float) -> None:
        if rec.measured:
            self.abandoned += 1
            if self.keep_records:
                self._row(rec, now, ABANDONED)

    def run_ended(
        self,
        now: float,
        in_system: list[Record],
        with_citizen: list[Record] = (),
        queued: list[float] = (),
    ) -> None:
        """The records still in progress when the run stops: in queues, in someone's
        hands, at another agency, or (``with_citizen``, a subset) back with the citizen
        for a supplement, whose deadline restarts on return: those are never overdue.
        ``queued``: when each walk-in still waiting joined the queue."""
        self.waits.flush()
        self.handles.flush()
        self._fold_stays()
        measure_from = self.measure_from
        if now > measure_from:
            self.queue_area += sum(now - (q if q > measure_from else measure_from) for q in queued)
        self._still_waiting(list(queued), now)
        away = {rec.id for rec in with_citizen}
        for rec in in_system:
            if rec.measured:
                self.in_progress += 1
                if rec.id in away:
                    self.with_citizen += 1
                else:
                    self.overdue += rec.due < now
                if self.keep_records:
                    self._row(rec, math.nan, IN_PROGRESS)

    def _row(self, rec: Record, resolved: float, outcome: int, on_time: int = -1) -> None:
        # What the record's row needs, as it is now; the derived columns (names,
        # wait, handle, day, return by post) are computed per chunk, with numpy.
        self.rows += ROW.pack(
            rec.id,
            rec.proc,
            rec.arrival,
            rec.desk_start,
            rec.desk_end,
            resolved,
            rec.due,
            rec.queued,
            rec.waited_from,
            rec.desk,
            rec.priority,
            False,
            outcome,
            on_time,
            rec.channel.code,
        )
        if len(self.rows) >= self._full:
            self._hand_out_records()

    # -- the replication's KPIs --------------------------------------------------------
    def kpis(
        self,
        *,
        open_minutes: float,
        busy_by_pool: dict[str, tuple[float, int]],
        staff_total: int,
        measured_days: int,
        days_per_year: int,
        in_progress_at_close: list[int] | None = None,
        growth_from_day: int = 0,
    ) -> dict[str, float]:
        """KPI name -> value. ``busy_by_pool`` maps pool name -> (busy minutes, staff);
        ``in_progress_at_close`` the records in progress at each working day's close,
        fitted from day ``growth_from_day`` on for ``backlog_growth_per_day``."""
        nan = math.nan
        waits, handles = self.waits, self.handles
        out: dict[str, float] = {
            "wait_minutes.mean": waits.mean(),
            "wait_minutes.p50": waits.quantile(0.5),
            "wait_minutes.p90": waits.quantile(0.9),
            "wait_minutes.p95": waits.quantile(0.95),
            "wait_minutes.max": waits.max(),
            "handle_minutes.mean": handles.mean(),
            "handle_minutes.p90": handles.quantile(0.9),
            "time_in_center_minutes.mean": (
                self.time_in_center_total / self.time_in_center_n if self.time_in_center_n else nan
            ),
            "on_time_rate": self.on_time / self.completed if self.completed else nan,
            "records_filed": float(self.filed),
            "records_completed": float(self.completed),
            "records_rejected": float(self.rejected),
            "records_in_progress": float(self.in_progress),
            "records_abandoned": float(self.abandoned),
            "records_overdue": float(self.overdue),
            "records_with_citizen": float(self.with_citizen),
            "backlog_growth_per_day": backlog_slope(in_progress_at_close or [], growth_from_day),
        }
        center_busy = center_staff = 0.0
        per_pool: dict[str, float] = {}
        for name, (busy, staff) in busy_by_pool.items():
            per_pool[f"utilization.{name}"] = busy / (staff * open_minutes) if staff else nan
            if name != "postal-agents":
                center_busy += busy
                center_staff += staff
        out["utilization"] = center_busy / (center_staff * open_minutes) if center_staff else nan
        out.update(per_pool)
        out["records_per_staff_year"] = (
            self.completed / staff_total / measured_days * days_per_year if staff_total else nan
        )
        if self.hour_waits is not None:
            groups = [("", self.hour_waits)] + [
                (f"/{g}", hws) for g, hws in self.group_hour_waits.items()
            ]
            for suffix, hws in groups:
                for hour, hw in enumerate(hws):
                    hw.flush()
                    if hw.count:
                        at = f"@{hour:02d}{suffix}"
                        out[f"wait_minutes.mean{at}"] = hw.mean()
                        out[f"wait_minutes.p50{at}"] = hw.quantile(0.5)
                        out[f"wait_minutes.p90{at}"] = hw.quantile(0.9)
                        out[f"wait_minutes.p95{at}"] = hw.quantile(0.95)
                        out[f"wait_minutes.max{at}"] = hw.max()
                        out[f"wait_probability{at}"] = hw.share_positive()
        out["queue_length.mean"] = self.queue_area / open_minutes
        out["queue_length.max"] = float(self.queue_max)
        out["wait_probability"] = waits.share_positive()
        return out


#: Column values by code: outcome names, and on time (code + 1: not applicable, no, yes).
_OUTCOME_NAMES = np.array(OUTCOMES, dtype=object)
_ON_TIME_VALUES = np.array([None, False, True], dtype=object)


def backlog_slope(counts: list[int], first_day: int) -> float:
    """Least-squares slope of ``counts[first_day:]`` against the day: records in progress
    gained per working day (about 0 when the center keeps up). NaN below two days."""
    y = counts[first_day:]
    n = len(y)
    if n < 2:
        return math.nan
    x_mean = (n - 1) / 2
    y_mean = sum(y) / n
    sxy = sum((i - x_mean) * (v - y_mean) for i, v in enumerate(y))
    sxx = n * (n * n - 1) / 12
    return sxy / sxx
