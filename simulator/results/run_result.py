"""The outcome of ``simulator.run``: per-replication KPIs, summary, verdicts, records."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from simulator.display import json_number
from simulator.kpis import kpi_names_for
from simulator.model import ReplicationOutput
from simulator.results.intervals import CONFIDENCE, summarize
from simulator.results.verdicts import ONE_REPLICATION_NOTE, KeepsUp, keeps_up, target_table
from simulator.scenario import Scenario


def kpi_frame(scenario: Scenario, outputs: list[ReplicationOutput], first: int = 0) -> pd.DataFrame:
    """Per-replication KPIs, one row per replication, columns in display order."""
    names = kpi_names_for(
        [d.name for d in scenario.staff.desks],
        scenario.staff.back_office > 0,
        scenario.staff.postal_agents > 0,
    )
    # Hour-by-hour KPIs (``wait_minutes.p90@08``), measured for per-hour targets:
    # by KPI, then hour.
    hourly = sorted(
        {k for out in outputs for k in out.kpis if "@" in k},
        key=lambda k: (k.split("@")[0], k.split("@")[1]),
    )
    names = [*names, *hourly]
    rows = [
        {"replication": first + i, **{k: out.kpis.get(k, math.nan) for k in names}}
        for i, out in enumerate(outputs)
    ]
    return pd.DataFrame(rows, columns=["replication", *names])


@dataclass
class RunResult:
    """Replications of one scenario.

    ``kpis`` has one row per replication; :meth:`summary` gives each KPI's mean
    and 95 % confidence interval; :meth:`targets` the scenario's targets with
    their verdicts; ``records`` one row per record (when kept).
    """

    scenario: Scenario
    seed: int
    replications: int
    kpis: pd.DataFrame
    records_table: pd.DataFrame | None = None
    hourly_table: pd.DataFrame | None = None
    daily_table: pd.DataFrame | None = None
    # The records table streamed to disk: the first records of each replication,
    # enough for the pictures (``records_table`` is then None).
    records_sample: pd.DataFrame | None = None
    confidence: float = CONFIDENCE
    _summary: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def records(self) -> pd.DataFrame:
        if self.records_table is None:
            raise ValueError("records were not kept: run with records=True to get them")
        return self.records_table

    @property
    def hourly(self) -> pd.DataFrame:
        """Per replication, measured day and open hour: walk-in arrivals, mean queue
        length, utilization of each staff pool (needs ``records=True``)."""
        if self.hourly_table is None:
            raise ValueError("hourly tables need the records: run with records=True")
        return self.hourly_table

    @property
    def daily(self) -> pd.DataFrame:
        """Records in the center at the end of each working day (needs ``records=True``)."""
        if self.daily_table is None:
            raise ValueError("daily tables need the records: run with records=True")
        return self.daily_table

    def summary(self) -> pd.DataFrame:
        """kpi, mean, ci_low, ci_high, sd, n."""
        if self._summary is None:
            self._summary = summarize(self.kpis, self.confidence)
        return self._summary.copy()

    def targets(self) -> pd.DataFrame:
        """kpi, op, threshold, mean, ci_low, ci_high, verdict."""
        return target_table(self.scenario.targets, self.summary())

    def keeps_up(self) -> KeepsUp:
        """Does the center keep up with its work? (pass / inconclusive / fail, the
        backlog growth and every pool's work, capacity and measured utilization)."""
        return keeps_up(self.scenario, self.summary())

    def horizon_note(self) -> str | None:
        """A line when the horizon is too short for the steady state to show."""
        from simulator.workload import horizon_note

        return horizon_note(self.scenario)

    def kpi(self, name: str) -> tuple[float, float, float]:
        """``(mean, ci_low, ci_high)`` of one KPI."""
        row = self.summary().set_index("kpi").loc[name]
        return float(row["mean"]), float(row["ci_low"]), float(row["ci_high"])

    def to_dict(self) -> dict[str, Any]:
        """The documented ``--json`` shape (NaN becomes null)."""

        num = json_number

        kpis = {
            r.kpi: {"mean": num(r.mean), "ci_low": num(r.ci_low), "ci_high": num(r.ci_high)}
            for r in self.summary().itertuples()
        }
        targets = [
            {
                "kpi": r.kpi,
                "op": r.op,
                "threshold": num(r.threshold),
                "mean": num(r.mean),
                "ci_low": num(r.ci_low),
                "ci_high": num(r.ci_high),
                "verdict": r.verdict,
                # A per-hour target: its figures are the worst hour's.
                **({"per": "hour", "hour": _hour(r.hour)} if r.per == "hour" else {}),
            }
            for r in self.targets().itertuples()
        ]
        return {
            "scenario": self.scenario.name,
            "replications": self.replications,
            "seed": self.seed,
            "kpis": kpis,
            "targets": targets,
            "keeps_up": self.keeps_up().to_dict(),
            "horizon_note": self.horizon_note(),
            "note": ONE_REPLICATION_NOTE if self.replications < 2 else None,
        }


def _hour(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)


def build_run_result(
    scenario: Scenario,
    seed: int,
    outputs: list[ReplicationOutput],
    *,
    records: bool = True,
    spool: Any = None,
    sample_rows: int = 200_000,
) -> RunResult:
    """The :class:`RunResult` of replications ``0 .. len(outputs)-1`` of ``scenario``.

    With ``records`` (outputs simulated with ``keep_records``) it also holds the
    per-record table and the hourly and daily tables built from it; with ``spool``
    (tables written to disk as the replications ran) the hourly and daily tables
    and a sample of the records (``sample_rows`` in all) are read back from it."""
    from simulator.results.timeline import daily_frame, hourly_frame, records_frame

    result = RunResult(
        scenario=scenario, seed=seed, replications=len(outputs), kpis=kpi_frame(scenario, outputs)
    )
    if spool is not None:  # the tables went to disk as the replications ran
        n = len(outputs)
        sample_rows = int(os.environ.get("PASC_PICTURE_SAMPLE_ROWS", sample_rows))
        result.hourly_table = spool.read("hourly", n)
        result.daily_table = spool.read("daily", n)
        result.records_sample = spool.read("records", n, max(1, sample_rows // max(1, n)))
    elif records:
        result.records_table = records_frame(outputs)
        result.hourly_table = hourly_frame(outputs)
        result.daily_table = daily_frame(outputs)
    return result
