"""When in the day does the center struggle? The records, hour-by-hour and day-by-day
tables of a run, as DataFrames.

The model builds the rows while it runs (:mod:`simulator.model.tables`): one
row per record, per measured day and hour (walk-in arrivals, the mean number
of walk-ins waiting, each staff pool's busy share of its open minutes in that
hour), and per working day (records in the center at its close). This module
only puts the replications' columns side by side, with a ``replication``
column first.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from simulator.model import DAILY_COLUMNS, RECORD_COLUMNS, ReplicationOutput

HOURLY_COLUMNS = ("day", "hour", "walk_in_arrivals", "queue_length")


def table_frame(
    tables: Sequence[dict[str, list] | None], columns: Sequence[str], first: int = 0
) -> pd.DataFrame:
    """One DataFrame of replication ``first + i``'s columns ``tables[i]`` (``None``:
    not kept), ``replication`` first; ``columns`` when no replication has a row."""
    frames = []
    for i, table in enumerate(tables):
        if not table:
            continue
        df = pd.DataFrame(table)
        df.insert(0, "replication", first + i)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["replication", *columns])
    return pd.concat(frames, ignore_index=True)


def records_frame(outputs: Sequence[ReplicationOutput], first: int = 0) -> pd.DataFrame:
    """One row per record of the measured horizon, for every replication."""
    return table_frame([o.records for o in outputs], RECORD_COLUMNS, first)


def hourly_frame(outputs: Sequence[ReplicationOutput], first: int = 0) -> pd.DataFrame:
    """One row per (replication, measured day, hour of the working day): walk-in
    arrivals, mean queue length and utilization of each staff pool (NaN in an hour
    with no open minute, e.g. lunch or the hour after closing)."""
    return table_frame([o.hourly for o in outputs], HOURLY_COLUMNS, first)


def daily_frame(outputs: Sequence[ReplicationOutput], first: int = 0) -> pd.DataFrame:
    """Records in the center at the end of each working day (all, back office, queued)."""
    return table_frame([o.daily for o in outputs], DAILY_COLUMNS, first)
