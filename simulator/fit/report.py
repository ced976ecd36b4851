"""``fit-report.html``: the curves and tables behind a fitted scenario, in one file.

Self-contained (pictures are PNG embedded as base64, no scripts, no links), so
it can be mailed or archived with the scenario. It shows the arrival heatmap
by weekday and hour, records per weekday with their Poisson intervals and the
dispersion check, for every intake fit a histogram with the candidate
densities, the ECDF and a Q-Q plot of the chosen family, a table of the
candidates (AIC, goodness-of-fit p-value), Kaplan-Meier curves of time to
result beside the naive curve of resolved records only, and the bad rows.
"""

from __future__ import annotations

import base64
import html
import io
import math

import numpy as np

from simulator.fit.estimate import FittedExport, IntakeFit, _frozen
from simulator.scenario.models import WEEKDAYS

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;
font-size:90%}th{background:#f3f3f3}td.n{text-align:right}img{max-width:100%}
pre{background:#f7f7f7;padding:1em;overflow-x:auto;font-size:80%}.chosen{font-weight:bold}
"""


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _heatmap(fit: FittedExport) -> str:
    import matplotlib.pyplot as plt

    cells = fit.arrivals.cells
    channels = sorted(cells["channel"].unique())
    fig, axes = plt.subplots(1, len(channels), figsize=(4.2 * len(channels), 3.2), squeeze=False)
    for ax, ch in zip(axes[0], channels, strict=True):
        sub = cells[cells["channel"] == ch]
        grid = np.zeros((7, 24))
        for r in sub.itertuples():
            grid[WEEKDAYS.index(r.weekday), r.hour] = r.per_day
        hours = np.nonzero(grid.sum(0))[0]
        lo, hi = (hours.min(), hours.max() + 1) if hours.size else (0, 24)
        im = ax.imshow(grid[:, lo:hi], aspect="auto", cmap="viridis")
        ax.set_yticks(range(7), WEEKDAYS)
        ax.set_xticks(range(hi - lo), [str(h) for h in range(lo, hi)], fontsize=7)
        ax.set_title(f"{ch}: records per day by hour")
        fig.colorbar(im, ax=ax, shrink=0.8)
    return _png(fig)


def _weekdays(fit: FittedExport) -> str:
    import matplotlib.pyplot as plt

    w = fit.arrivals.weekday_rates
    fig, ax = plt.subplots(figsize=(6, 3))
    err = np.vstack([w["per_day"] - w["ci_low"], w["ci_high"] - w["per_day"]])
    colors = ["tab:blue" if x else "tab:gray" for x in w["working"]]
    ax.bar(w["weekday"], w["per_day"], yerr=err, color=colors, capsize=3)
    ax.set_ylabel("records per day")
    ax.set_title("records per day by weekday (95% Poisson CI; grey: closed)")
    return _png(fig)


def _quantile_points(x: np.ndarray, most: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """(sorted values, plotting positions (i - 1/2) / n), thinned to ``most`` evenly
    spaced quantiles for large samples (a plot of a million points says no more)."""
    x = np.sort(np.asarray(x, dtype=float))
    p = (np.arange(1, x.size + 1) - 0.5) / x.size
    if x.size > most:
        p = (np.arange(most) + 0.5) / most
        x = np.quantile(x, p)
    return x, p


def _intake_figure(f: IntakeFit) -> str:
    import matplotlib.pyplot as plt

    x = f.values
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(12, 3.2))
    top = np.quantile(x, 0.995) if x.size else 1
    bins = np.arange(0, top + 1.0, 1.0) if f.resolution_minutes else 40
    a1.hist(x[x <= top], bins=bins, density=True, color="#ccc", label=f"{x.size} tickets")
    grid = np.linspace(max(top / 500, 1e-3), top, 300)
    for c in f.candidates:
        style = "-" if c.family == f.chosen else "--"
        a1.plot(
            grid, _frozen(c.family, c.params).pdf(grid), style, label=f"{c.family} AIC {c.aic:.0f}"
        )
    a1.set_xlabel("intake minutes")
    a1.legend(fontsize=7)
    a1.set_title(f"{f.level} {f.group}: histogram and fits")
    xs, p = _quantile_points(x)
    a2.step(xs, p, where="post", label="ECDF", color="k")
    for c in f.candidates:
        a2.plot(
            grid,
            _frozen(c.family, c.params).cdf(grid),
            "-" if c.family == f.chosen else "--",
            label=c.family,
        )
    a2.set_title("ECDF and fitted CDFs")
    a2.legend(fontsize=7)
    best = next(
        (c for c in f.candidates if c.family == f.chosen), min(f.candidates, key=lambda c: c.aic)
    )
    theo = _frozen(best.family, best.params).ppf(p)
    a3.plot(theo, xs, ".", ms=3)
    m = max(float(theo[-1]) if theo.size else 1, float(xs[-1]) if xs.size else 1)
    a3.plot([0, m], [0, m], "k:")
    a3.set_xlabel(f"{best.family} quantiles")
    a3.set_ylabel("observed")
    a3.set_title(f"Q-Q plot, {best.family}")
    return _png(fig)


def _result_times(fit: FittedExport) -> str:
    import matplotlib.pyplot as plt

    procs = [p for p in fit.procedures if p.result_time is not None][:12]
    if not procs:
        return "<p>No result dates in the export.</p>"
    cols = min(3, len(procs))
    rows = math.ceil(len(procs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    for ax, p in zip(axes.flat, procs, strict=False):
        rt = p.result_time
        ax.step(rt.km_times, 1 - rt.km_sf, where="post", label="Kaplan-Meier")
        if rt.resolved.size:
            done, share = _quantile_points(rt.resolved)
            ax.step(done, share, where="post", ls="--", label="resolved only")
        ax.set_title(f"{p.id} ({rt.open_.size} open)", fontsize=9)
        ax.set_xlabel("working days to result")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(procs) :]:
        ax.axis("off")
    return _png(fig)


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for r in rows:
        cells = []
        for v in r:
            cls = ' class="n"' if isinstance(v, (int, float)) else ""
            text = f"{v:.4g}" if isinstance(v, float) else str(v)
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def fit_report_html(fit: FittedExport, scenario_text: str) -> str:
    """The whole report as one HTML string."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    arr = fit.arrivals
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>pasc fit: {html.escape(fit.name)}</title>"
    ]
    parts.append(f"<style>{_CSS}</style></head><body>")
    parts.append(f"<h1>pasc fit: {html.escape(fit.name)}</h1>")
    parts.append(
        f"<p>From {html.escape(', '.join(fit.files))}: <b>{fit.records_used}</b> records used of "
        f"{fit.records_read} read; window {fit.first} to {fit.as_of:%Y-%m-%d %H:%M}, "
        f"{arr.working_days} working days. "
        + (
            f"Ticket log {html.escape(fit.tickets_file)}: {fit.tickets_used} tickets."
            if fit.tickets_file
            else "No ticket log."
        )
        + "</p>"
    )
    for note in fit.notes:
        parts.append(f"<p><i>Note: {html.escape(note)}</i></p>")
    parts.append("<h2>Arrivals</h2>")
    lo, hi = arr.per_day_interval
    parts.append(
        f"<p>{arr.records_per_day:.2f} records per working day "
        f"(95% Poisson CI {lo:.2f}-{hi:.2f}).</p>"
    )
    parts.append(_heatmap(fit))
    parts.append(_weekdays(fit))
    parts.append(
        "<p>Dispersion check (index of dispersion of hourly counts within weekday × hour cells; "
        "χ² under a Poisson process; see Kim and Whitt, MSOM 2014):</p>"
    )
    parts.append(
        _table(
            ["channel", "ratio", "statistic", "dof", "p-value", "verdict"],
            [
                [d.channel, d.ratio, d.statistic, d.dof, d.p_value, d.verdict]
                for d in arr.dispersion
            ],
        )
    )
    parts.append("<h3>Channels</h3>")
    parts.append(
        _table(
            ["channel", "records", "share", "95% CI"],
            [
                [ch, s.count, s.value, f"{s.interval[0]:.3f}-{s.interval[1]:.3f}"]
                for ch, s in fit.channels.items()
            ],
        )
    )
    parts.append("<h2>Procedures</h2>")
    rows = []
    for p in fit.procedures:
        rt = p.result_time
        rows.append(
            [
                p.id,
                p.name,
                p.count,
                p.share.value,
                p.reject.value,
                p.supplement.value,
                "–" if p.deadline_working_days is None else p.deadline_working_days,
                rt.median if rt else "–",
                rt.naive_median if rt else "–",
                int(rt.open_.size) if rt else 0,
            ]
        )
    parts.append(
        _table(
            [
                "id",
                "name",
                "records",
                "share",
                "rejected",
                "supplement",
                "deadline (wd)",
                "KM median (wd)",
                "naive median",
                "open",
            ],
            rows,
        )
    )
    parts.append("<h2>Desk intake times</h2>")
    seen: list[IntakeFit] = []
    for p in fit.procedures:
        if p.intake is not None and not any(p.intake is s for s in seen):
            seen.append(p.intake)
    if not seen:
        parts.append(
            "<p>No ticket log: intake times come from the base scenario or are assumed.</p>"
        )
    for f in seen:
        users = [p.id for p in fit.procedures if p.intake is f]
        parts.append(
            f"<h3>{html.escape(f.level)} {html.escape(f.group)}</h3>"
            f"<p>Used by {html.escape(', '.join(users))}. {html.escape(f.comment())}</p>"
        )
        best = min(c.aic for c in f.candidates)
        parts.append(
            _table(
                [
                    "family",
                    "scenario form",
                    "log-likelihood",
                    "AIC",
                    "ΔAIC",
                    "AD p-value",
                    "chosen",
                ],
                [
                    [
                        c.family,
                        str(c.distribution()),
                        c.loglik,
                        c.aic,
                        c.aic - best,
                        c.p_value,
                        "yes" if c.family == f.chosen else "",
                    ]
                    for c in f.candidates
                ],
            )
        )
        parts.append(_intake_figure(f))
    parts.append("<h2>Time to result</h2>")
    parts.append(
        "<p>Working days from receipt to result; records open at the export date are "
        "right-censored (Kaplan-Meier). The dashed curve drops them, and so looks quicker.</p>"
    )
    parts.append(_result_times(fit))
    parts.append("<h2>Bad rows</h2>")
    if fit.bad_rows.empty and not fit.ticket_bad_summary:
        parts.append("<p>None.</p>")
    else:
        for line in fit.bad_summary + fit.ticket_bad_summary:
            parts.append(f"<p>{html.escape(line)}</p>")
        parts.append(_table(list(fit.bad_rows.columns), fit.bad_rows.head(50).values.tolist()))
    parts.append("<h2>The fitted scenario</h2>")
    parts.append(f"<pre>{html.escape(scenario_text)}</pre></body></html>")
    return "\n".join(parts)


def write_fit_report(fit: FittedExport, scenario_text: str, path: str) -> None:
    """Write :func:`fit_report_html` to ``path``."""
    from pathlib import Path

    Path(path).write_text(fit_report_html(fit, scenario_text), encoding="utf-8")
