"""Scenarios from a center's own records: ``pasc fit`` and ``pasc export-log``.

Every commune center records each dossier in its one-stop information system
(received at, procedure, channel, due date, returned at, status) and many
issue numbered tickets at a kiosk (issued, called, served, by counter). This
package reads such exports (:mod:`simulator.fit.columns`), estimates what a
scenario needs from them with its uncertainty (:mod:`simulator.fit.estimate`),
writes a runnable scenario with a comment on every fitted value
(:mod:`simulator.fit.scenario_out`) and a self-contained HTML report
(:mod:`simulator.fit.report`). :mod:`simulator.fit.export` goes the other way:
a simulated run's records in the same export format, to try it all without
real data.

The heavy libraries (scipy, matplotlib, openpyxl) load inside the functions
that need them; nothing in :mod:`simulator.model` imports this package.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> the module that defines it (imported on first use, so that
#: ``import simulator.fit`` stays quick).
_WHERE = {
    "ExportError": "columns",
    "read_export": "columns",
    "read_tickets": "columns",
    "FitOptions": "estimate",
    "FittedExport": "estimate",
    "fit_export": "estimate",
    "export_log": "export",
    "export_run_folder": "export",
    "fitted_scenario_yaml": "scenario_out",
    "write_fit_report": "report",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"simulator.fit.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'simulator.fit' has no attribute {name!r}")
