"""Reading finished run, sizing and comparison folders for the pages and downloads.

The pages never hold a result only in memory: a job writes its folder with
:mod:`simulator.artifacts` (atomically) and the result page reads it back
from ``run.json`` / ``size.json`` / ``compare.json`` and the pictures beside
them. So a result survives a page reload and a server restart, and what the
page shows is exactly what the folder holds.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

from simulator.web.i18n import Translator

#: Files a result page may serve from a run folder, by suffix.
SERVED_SUFFIXES = {
    ".png": "image/png",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".yaml": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".gz": "application/gzip",
}


def folder_kind(folder: Path) -> str | None:
    """``run``, ``size`` or ``compare`` by the summary file the folder holds (None: not
    a results folder); the rule is :func:`simulator.artifacts.folder_kind`'s."""
    from simulator.artifacts import RunFolderError
    from simulator.artifacts import folder_kind as kind_of

    try:
        return kind_of(folder)
    except RunFolderError:
        return None


def read_meta(folder: Path) -> dict[str, Any]:
    kind = folder_kind(folder)
    if kind is None:
        raise FileNotFoundError(folder)
    return json.loads((folder / f"{kind}.json").read_text(encoding="utf-8"))


def is_by_hour(meta: dict[str, Any]) -> bool:
    """Whether a sizing folder's ``size.json`` is that of ``pasc size --by-hour``."""
    return "staff_hours" in meta and isinstance(meta.get("answer"), dict) and "erlang" in meta


def by_hour_context(meta: dict[str, Any], folder: Path) -> dict[str, Any]:
    """What the page of a sizing by the hour shows, from its ``size.json``: one row per
    open hour with each desk group's answer, plain Erlang C answer (``missed`` when it
    misses the wait target in that hour, simulated) and flat answer; the shift plan."""
    answer: dict[str, dict[str, int]] = meta.get("answer") or {}
    erlang: dict[str, dict[str, int]] = meta.get("erlang") or {}
    misses = {p: set(hours) for p, hours in (meta.get("erlang_misses") or {}).items()}
    flat = meta.get("flat_answer") or {}
    pools = list(answer)
    hours = sorted({int(h) for p in pools for h in answer[p]})
    rows = [
        {
            "hour": h,
            "cells": [
                {
                    "pool": p,
                    "answer": answer[p].get(str(h), 0),
                    "erlang": erlang.get(p, {}).get(str(h), 0),
                    "missed": h in misses.get(p, set()),
                    "flat": flat.get(p),
                }
                for p in pools
            ],
        }
        for h in hours
    ]
    staff_hours = float(meta.get("staff_hours") or 0.0)
    flat_hours = float(meta.get("flat_staff_hours") or 0.0)
    return {
        "pools": pools,
        "hour_rows": rows,
        "missed_hours": {p: sorted(misses.get(p, set())) for p in pools},
        "staff_hours": staff_hours,
        "flat_staff_hours": flat_hours,
        "saved_staff_hours": flat_hours - staff_hours,
        "shifts": meta.get("shifts"),
        "has_shifts_yaml": (folder / "shifts.yaml").is_file(),
    }


def pictures(folder: Path) -> list[str]:
    """The folder's ``*.png`` file names, in a stable reading order."""
    order = ["wait", "handle", "hourly", "queue-heatmap", "backlog", "on-time"]
    order += ["by-hour-", "wait-by-hour", "roster-"]  # sizing by the hour

    def rank(name: str) -> int:
        stem = name[:-4]
        for i, key in enumerate(order):
            if stem == key or (key.endswith("-") and stem.startswith(key)):
                return i
        return 99

    names = sorted(p.name for p in folder.glob("*.png"))
    return sorted(names, key=lambda n: (rank(n), n))


def zip_folder(folder: Path) -> bytes:
    """The whole folder as a zip archive whose top folder is the run's name."""
    buffer = io.BytesIO()
    top = f"{folder.parent.name}-{folder.name}"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


def _num(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def excel_workbook(folder: Path, t: Translator) -> bytes:
    """The KPI and target tables as an Excel workbook (``.xlsx``, via openpyxl).

    Sheets ``KPIs`` (every KPI with its mean and 95 % interval) and ``Targets``
    (each target with its verdict, then keeps-up) for a run; the staffing curve
    for a sizing; KPIs side by side and paired differences for a comparison.
    Column headers keep the stable English keys; a second column gives each
    KPI's display name in the page's language.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    meta = read_meta(folder)
    kind = folder_kind(folder)
    book = Workbook()
    sheets: list[tuple[str, list[str], list[list[Any]]]] = []
    if kind == "run":
        rows = [
            [k, t.kpi_name(k), _num(v["mean"]), _num(v["ci_low"]), _num(v["ci_high"])]
            for k, v in meta["kpis"].items()
        ]
        sheets.append(("KPIs", ["kpi", "name", "mean", "ci_low", "ci_high"], rows))
        targets = [
            [
                r["kpi"],
                t.kpi_name(r["kpi"]),
                r["op"],
                _num(r["threshold"]),
                _num(r["mean"]),
                _num(r["ci_low"]),
                _num(r["ci_high"]),
                r["verdict"],
                t.verdict(r["verdict"]),
            ]
            for r in meta["targets"]
        ]
        keeps = meta.get("keeps_up") or {}
        if keeps:
            growth = keeps.get("backlog_growth_per_day") or {}
            targets.append(
                [
                    "keeps_up",
                    t("Keeps up with the work"),
                    "<=",
                    _num(keeps.get("tolerance")),
                    _num(growth.get("mean")),
                    _num(growth.get("ci_low")),
                    _num(growth.get("ci_high")),
                    keeps.get("verdict"),
                    t.verdict(keeps.get("verdict")),
                ]
            )
        header = ["kpi", "name", "op", "threshold", "mean", "ci_low", "ci_high", "verdict"]
        sheets.append(("Targets", [*header, "verdict_shown"], targets))
    elif kind == "size" and is_by_hour(meta):
        import pandas as pd

        table = pd.read_csv(folder / "by_hour.csv")
        sheets.append(("By hour", list(table.columns), table.values.tolist()))
        hours = [
            ["staff_hours", _num(meta.get("staff_hours"))],
            ["flat_staff_hours", _num(meta.get("flat_staff_hours"))],
            ["verified", bool(meta.get("verified"))],
        ]
        sheets.append(("Staff-hours", ["key", "value"], hours))
    elif kind == "size":
        import pandas as pd

        curve = pd.read_csv(folder / "curve.csv")
        sheets.append(("Curve", list(curve.columns), curve.values.tolist()))
        answer = meta.get("answer") or {}
        sheets.append(("Answer", ["pool", "staff"], [[k, v] for k, v in answer.items()]))
    else:
        import pandas as pd

        for name, file in (("KPIs", "side_by_side.csv"), ("Differences", "differences.csv")):
            table = pd.read_csv(folder / file)
            sheets.append((name, list(table.columns), table.values.tolist()))
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.append(header)
        for row in rows:
            sheet.append([_num(v) for v in row])
        for i, _ in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = 18 if i > 2 else 34
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
