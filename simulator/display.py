"""How results look wherever they are shown: verdict colours, signed numbers, JSON values.

One definition for the terminal (:mod:`simulator.cli`), the pictures
(:mod:`simulator.plots`) and the HTML reports (:mod:`simulator.report`), so a
*pass* is the same green in all three and a difference reads the same way.
"""

from __future__ import annotations

import math
from typing import Any

#: Verdict colours: green *pass*, red *fail*, amber *inconclusive* (Material 800/800/700).
VERDICT_COLORS: dict[str, str] = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "inconclusive": "#f9a825",
}


#: A run's pictures: file name (without ``.png``) -> what it shows, in report order.
#: Listed here, apart from :mod:`simulator.plots`, so that knowing which pictures a
#: run has does not load matplotlib.
RUN_FIGURES: dict[str, str] = {
    "wait": "Walk-in waiting time",
    "handle": "Handle time by procedure field",
    "hourly": "By hour of the day",
    "queue-heatmap": "Queue by day and hour",
    "backlog": "Records in progress over the horizon",
    "on-time": "On-time share by procedure",
}


def run_figure_names(result: Any) -> list[str]:
    """The pictures a :class:`~simulator.results.RunResult` has, in report order:
    none without records (all are drawn from the per-record tables), the hourly
    ones only with the hourly table, the backlog only with the daily table."""
    if result.records_table is None and getattr(result, "records_sample", None) is None:
        return []
    names = ["wait", "handle"]
    if result.hourly_table is not None:
        names += ["hourly", "queue-heatmap"]
    if result.daily_table is not None:
        names.append("backlog")
    names.append("on-time")
    return names


def json_number(x: Any) -> Any:
    """``x`` ready for JSON: a NaN (a KPI undefined in every replication) becomes
    ``None`` (``null``), numpy numbers become Python ``float`` / ``int``, and
    anything else (strings, ints, ``None``) is returned as it is."""
    if isinstance(x, bool) or x is None:
        return x
    if isinstance(x, float) or (type(x).__module__ == "numpy" and hasattr(x, "dtype")):
        if getattr(x, "dtype", None) is not None and x.dtype.kind in "iu":
            return int(x)
        value = float(x)
        return None if math.isnan(value) else value
    return x


def signed_text(x: Any, *, share: bool = False) -> str:
    """A difference with its sign: ``+1.25``, ``−0.40``, ``+12.5 pt`` for a share.

    The minus is the typographic one (U+2212). A value that rounds to zero gets
    no sign (it is the floating-point noise of a sum, not a direction); NaN and
    non-numbers are a dash. Decimals follow the size of the number: two below
    100, one below 1,000, none (with thousands separators) above.
    """
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "–"
    if math.isnan(x):
        return "–"
    if share:
        text = f"{100 * abs(x):.1f} pt"
    elif abs(x) >= 1000:
        text = f"{abs(x):,.0f}"
    elif abs(x) >= 100:
        text = f"{abs(x):.1f}"
    else:
        text = f"{abs(x):.2f}"
    if text.removesuffix(" pt").strip("0.,") == "":
        return text
    return ("+" if x >= 0 else "−") + text


__all__ = ["RUN_FIGURES", "VERDICT_COLORS", "json_number", "run_figure_names", "signed_text"]
