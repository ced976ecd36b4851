"""How big is a run? Records, memory and time, estimated from the scenario before it starts.

A scenario can be valid and still impossible to run on a laptop:
``records_per_day: 1e9`` or ``horizon.days: 100000`` validate, then grow
without bound. The estimate below is cheap (no simulation) and deliberately
on the safe side; commands print it with ``--dry-run`` and refuse a run whose
estimate exceeds the limits, naming the keys that drive it.

The per-record costs were measured on the 2-core CI machine (urban ward,
60 records a day): about 40,000 records a second per core, about 1.5 KB per
record kept for the records table (the model's rows, the busy log, the
DataFrame and its CSV), and a fixed ~200 MB for the interpreter and libraries.
Without the records table a replication's memory does not grow with the
horizon (statistics are streamed; filings are drawn 20 days at a time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.scenario.models import Scenario
from simulator.workload import submissions_per_record

RECORDS_PER_SECOND = 40_000
BYTES_PER_KEPT_RECORD = 1_500
BASE_BYTES = 200 * 2**20
#: Filings drawn at once by the model (see ``simulator.model.center.BLOCK_DAYS``).
BLOCK_DAYS = 20
BYTES_PER_FILING_IN_BLOCK = 120

#: Streamed tables (``pasc run``): what stays in memory whatever the horizon.
STREAM_CHUNK_ROWS = 65_536  # simulator.model.tables.CHUNK_ROWS
SAMPLE_ROWS = 200_000  # simulator.artifacts.PICTURE_SAMPLE_ROWS
HOURLY_ROWS_PER_DAY = 12
BYTES_PER_HOURLY_ROW = 400

#: ``pasc run`` streams the tables to disk when keeping them would take more memory.
STREAM_ABOVE_BYTES = 512 * 2**20

#: Default limits (``--max-memory-gb``, ``--max-hours`` raise them).
DEFAULT_MAX_MEMORY_GB = 8.0
DEFAULT_MAX_HOURS = 2.0


@dataclass(frozen=True)
class RunEstimate:
    """What a run of ``replications`` of a scenario will cost, about."""

    records_per_replication: float
    replications: int
    days: int  # simulated working days per replication, warm-up included
    keep_records: bool
    workers: int = 1
    streamed: bool = False  # the records table goes to disk in chunks as the run goes

    @property
    def records_total(self) -> float:
        return self.records_per_replication * self.replications

    @property
    def memory_bytes(self) -> float:
        """Peak memory: the records table when kept (all replications), else the
        largest block of filings a replication draws at once, per worker."""
        per_day = self.records_per_replication / max(1, self.days)
        block = per_day * BLOCK_DAYS * BYTES_PER_FILING_IN_BLOCK * self.workers
        if not self.keep_records:
            kept = 0.0
        elif self.streamed:  # a chunk per worker, the hourly rows, the pictures' sample
            hourly = self.days * HOURLY_ROWS_PER_DAY * self.replications * BYTES_PER_HOURLY_ROW
            kept = (STREAM_CHUNK_ROWS * self.workers + SAMPLE_ROWS) * BYTES_PER_KEPT_RECORD
            kept += hourly
        else:
            kept = self.records_total * BYTES_PER_KEPT_RECORD
        return BASE_BYTES + block + kept

    @property
    def seconds(self) -> float:
        return self.records_total / RECORDS_PER_SECOND / max(1, self.workers)

    def _records_text(self) -> str:
        if not self.keep_records:
            return ""
        return " with the records table" + (" written as it goes" if self.streamed else "")

    def describe(self) -> str:
        """``about 36,000 records (30 x 1,200), 0.3 GB, 1 s on 2 workers``."""
        return (
            f"about {self.records_total:,.0f} records ({self.replications} x "
            f"{self.records_per_replication:,.0f}), {self.memory_bytes / 2**30:.1f} GB of memory"
            f"{self._records_text()}, "
            f"{_duration(self.seconds)} on {self.workers} worker{'s' if self.workers > 1 else ''}"
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, math.ceil(seconds))} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def estimate_run(
    sc: Scenario,
    replications: int,
    *,
    keep_records: bool = True,
    workers: int = 1,
    streamed: bool = False,
) -> RunEstimate:
    """Records, memory and time of ``replications`` of ``sc`` (warm-up included)."""
    days = sc.horizon.warmup_days + sc.horizon.days
    returns = sum(p.share * submissions_per_record(p) for p in sc.procedures) / sum(
        p.share for p in sc.procedures
    )
    handover = sum(item.count for item in sc.backlog)
    per_rep = sc.demand.records_per_day * days * returns + handover
    return RunEstimate(per_rep, replications, days, keep_records, workers, streamed)


def limit_problems(
    est: RunEstimate,
    max_memory_gb: float = DEFAULT_MAX_MEMORY_GB,
    max_hours: float = DEFAULT_MAX_HOURS,
) -> list[str]:
    """Why ``est`` is too big, naming the scenario keys and options that drive it."""
    drivers = "demand.records_per_day x (horizon.days + horizon.warmup_days)"
    out = []
    gb = est.memory_bytes / 2**30
    if gb > max_memory_gb:
        fix = "--no-records, " if est.keep_records else ""
        out.append(
            f"{drivers} x replications: expected a run within {max_memory_gb:g} GB of memory, "
            f"found an estimate of {gb:,.1f} GB ({est.describe()}); lower them, use {fix}"
            "or raise --max-memory-gb"
        )
    hours = est.seconds / 3600
    if hours > max_hours:
        out.append(
            f"{drivers} x replications: expected a run within {max_hours:g} h, found an "
            f"estimate of {hours:,.1f} h ({est.describe()}); lower them, add --workers, "
            "or raise --max-hours"
        )
    return out
