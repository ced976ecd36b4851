"""Writing run, sizing and comparison folders (with their pictures and report).

The folder writers live in :mod:`simulator.artifacts` and take the report
renderer as an argument; the web pages want exactly what ``pasc run``,
``pasc size`` and ``pasc compare`` write, so they pass the same renderers.
Writers are atomic: a folder appears whole or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_run(result: Any, root: Path) -> Path:
    """``root/<scenario>/<timestamp>/`` with the pictures and ``report.html``."""
    from simulator.artifacts import write_run_folder
    from simulator.report import write_run_report

    return write_run_folder(result, root, render=write_run_report)


def write_sizing(result: Any, root: Path) -> Path:
    """``root/<scenario>/<timestamp>-size/`` with the staffing curve and its report."""
    from simulator.artifacts import write_sizing_folder
    from simulator.report import write_sizing_report

    return write_sizing_folder(result, root, render=write_sizing_report)


def write_comparison(comparison: Any, root: Path) -> Path:
    """``root/compare/<timestamp>/`` with the comparison picture and its report."""
    from simulator.artifacts import write_comparison_folder
    from simulator.report import write_comparison_report

    return write_comparison_folder(comparison, root, render=write_comparison_report)
