"""From replication outputs to tables: KPIs, intervals, verdicts (no files: see
:mod:`simulator.artifacts`)."""

from simulator.results.intervals import summarize, t_interval, t_prediction_interval
from simulator.results.run_result import RunResult, build_run_result, kpi_frame
from simulator.results.timeline import records_frame
from simulator.results.verdicts import overall_verdict, target_table, verdict

__all__ = [
    "RunResult",
    "build_run_result",
    "kpi_frame",
    "overall_verdict",
    "records_frame",
    "summarize",
    "t_interval",
    "t_prediction_interval",
    "target_table",
    "verdict",
]
