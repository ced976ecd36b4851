"""When in the day does the center struggle? Hour-by-hour and day-by-day tables.

Built after the run from the records table and the staff's busy intervals
(both kept only with ``records=True``), so the model pays nothing for them in
a sizing search. The queue length in an hour is the time average of walk-ins
waiting (each walk-in counts from arrival to the start of desk service);
utilization in an hour is busy staff-minutes over staffed open minutes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.model.calendar import MINUTES_PER_DAY
from simulator.scenario import Scenario

HOUR = 60.0


def _spread_over_hours(start: np.ndarray, end: np.ndarray, n_bins: int) -> np.ndarray:
    """Minutes of the intervals [start, end) falling in each hour bin."""
    out = np.zeros(n_bins)
    start = np.asarray(start, dtype=float)
    end = np.minimum(np.asarray(end, dtype=float), n_bins * HOUR)
    keep = end > start
    start, end = start[keep], end[keep]
    first = np.floor(start / HOUR).astype(np.int64)
    last = np.floor(np.nextafter(end, -np.inf) / HOUR).astype(np.int64)
    same = first == last
    np.add.at(out, first[same], end[same] - start[same])
    for s, e, a, b in zip(start[~same], end[~same], first[~same], last[~same], strict=True):
        out[a] += (a + 1) * HOUR - s
        out[a + 1 : b] += HOUR
        out[b] += e - b * HOUR
    return out


def hourly_frame(
    scenario: Scenario,
    records: pd.DataFrame,
    busy_logs: list[list[tuple[str, float, float]]],
    first: int = 0,
) -> pd.DataFrame:
    """One row per (replication, measured day, hour of the working day): walk-in
    arrivals, mean queue length and utilization of each staff pool (NaN in an hour
    with no open minute, e.g. lunch or the hour after closing)."""
    warm = scenario.horizon.warmup_days
    days = warm + scenario.horizon.days
    n_bins = days * 24
    spans = scenario.calendar.open_spans_minutes()
    open_in_hour = np.zeros(24)
    for a, b in spans:
        open_in_hour += _spread_over_hours(np.array([a]), np.array([b]), 24)
    # Open hours, the lunch break between them and the hour after closing (when
    # citizens queued at closing are still served).
    hours_open = np.flatnonzero(open_in_hour > 0)
    shown_hours = list(range(hours_open[0], min(24, hours_open[-1] + 2)))
    pools = {d.name: d.count for d in scenario.staff.desks}
    if scenario.staff.back_office:
        pools["back-office"] = scenario.staff.back_office
    if scenario.staff.postal_agents:
        pools["postal-agents"] = scenario.staff.postal_agents
    frames = []
    for i, log in enumerate(busy_logs):
        rep = first + i
        mine = records[(records["replication"] == rep) & (records["channel"] == "walk_in")]
        arrival = mine["arrival_minute"].to_numpy(dtype=float)
        # Each walk-in waits from the last time it joined a queue until its desk
        # service starts, it gives up (abandoned), or the run ends. (A citizen who
        # queued twice, after a supplement or a day away, shows its last visit.)
        queued = mine["queued_minute"].to_numpy(dtype=float)
        started = queued + mine["wait_minutes"].to_numpy(dtype=float)
        gave_up = (mine["outcome"] == "abandoned").to_numpy() & np.isnan(started)
        started = np.where(gave_up, mine["resolved_minute"].to_numpy(dtype=float), started)
        started = np.where(np.isnan(started), days * MINUTES_PER_DAY, started)
        queue = _spread_over_hours(queued, started, n_bins) / HOUR
        arrivals = np.bincount(np.floor(arrival / HOUR).astype(np.int64), minlength=n_bins)
        data = {
            "replication": rep,
            "day": np.repeat(np.arange(days), 24),
            "hour": np.tile(np.arange(24), days),
            "walk_in_arrivals": arrivals[:n_bins],
            "queue_length": queue,
        }
        busy = pd.DataFrame(log, columns=["pool", "start", "end"])
        staffed = np.tile(open_in_hour, days)
        for pool, count in pools.items():
            sel = busy[busy["pool"] == pool]
            minutes = _spread_over_hours(sel["start"].to_numpy(), sel["end"].to_numpy(), n_bins)
            with np.errstate(invalid="ignore", divide="ignore"):
                data[f"utilization.{pool}"] = np.where(
                    staffed > 0, minutes / (count * staffed), np.nan
                )
        frame = pd.DataFrame(data)
        frames.append(frame[(frame["day"] >= warm) & frame["hour"].isin(shown_hours)])
    if not frames:
        return pd.DataFrame(
            columns=["replication", "day", "hour", "walk_in_arrivals", "queue_length"]
        )
    return pd.concat(frames, ignore_index=True)


def daily_frame(
    scenario: Scenario, dailies: list[list[tuple[int, int, int, int]]], first: int = 0
) -> pd.DataFrame:
    """Records in the center at the end of each working day (all, back office, queued)."""
    rows = [(first + i, *row) for i, daily in enumerate(dailies) for row in daily]
    return pd.DataFrame(rows, columns=["replication", "day", "in_center", "backlog", "waiting"])
