"""Writing run, sizing and comparison folders (with their pictures and report).

The folder writers live in :mod:`simulator.artifacts` and take the report
renderer as an argument; the web pages want exactly what ``pasc run``,
``pasc size`` and ``pasc compare`` write, so they pass the same renderers.
Writers are atomic: a folder appears whole or not at all.

``lang`` (``en`` or ``vi``) is the language of the page that asked: the
folder's ``report.html`` is written in it from the start (and recorded as the
folder's ``report_lang``), so the report the page links to needs no second
drawing. ``None`` leaves the renderers' default (English).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any


def write_run(result: Any, root: Path, lang: str | None = None) -> Path:
    """``root/<scenario>/<timestamp>/`` with the pictures and ``report.html``."""
    from simulator.artifacts import write_run_folder
    from simulator.report import write_run_report

    return write_run_folder(result, root, render=functools.partial(write_run_report, lang=lang))


def write_sizing(result: Any, root: Path, lang: str | None = None) -> Path:
    """``root/<scenario>/<timestamp>-size/`` with the staffing curve and its report."""
    from simulator.artifacts import write_sizing_folder
    from simulator.report import write_sizing_report

    render = functools.partial(write_sizing_report, lang=lang)
    return write_sizing_folder(result, root, render=render)


def write_size_by_hour(
    result: Any, root: Path, shifts: Any = None, lang: str | None = None
) -> Path:
    """``root/<scenario>/<timestamp>-size-by-hour/``: the staffing by hour
    (``answer.yaml``, ``by_hour.csv``, ``size.json``), with ``shifts`` the shift
    plan (``shifts.yaml``, ``shifts.json``), the pictures and ``report.html``."""
    from simulator.artifacts import write_size_by_hour_folder
    from simulator.report import write_size_by_hour_report

    render = functools.partial(write_size_by_hour_report, shifts=shifts, lang=lang)
    return write_size_by_hour_folder(result, root, shifts=shifts, render=render)


def write_comparison(comparison: Any, root: Path, lang: str | None = None) -> Path:
    """``root/compare/<timestamp>/`` with the comparison picture and its report."""
    from simulator.artifacts import write_comparison_folder
    from simulator.report import write_comparison_report

    render = functools.partial(write_comparison_report, lang=lang)
    return write_comparison_folder(comparison, root, render=render)
