"""The SimPy model of one service center (knows nothing of files, CLI or Dask)."""

from simulator.model.center import Center, ReplicationOutput, simulate_replication
from simulator.model.recorder import RECORD_COLUMNS

__all__ = ["RECORD_COLUMNS", "Center", "ReplicationOutput", "simulate_replication"]
