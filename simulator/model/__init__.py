"""The SimPy model of one service center (knows nothing of files, CLI or Dask)."""

from simulator.model.center import Center, ReplicationOutput, simulate_replication
from simulator.model.tables import DAILY_COLUMNS, RECORD_COLUMNS, KeptTables, TableSink

__all__ = [
    "DAILY_COLUMNS",
    "RECORD_COLUMNS",
    "Center",
    "KeptTables",
    "ReplicationOutput",
    "TableSink",
    "simulate_replication",
]
