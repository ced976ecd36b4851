"""Self-contained HTML reports of a run, a sizing or a comparison.

A report is one HTML file that opens anywhere, offline, and can be mailed as
it is: pictures are PNGs embedded as base64, the style sheet is inline, there
is no script and no link to load anything. It holds what a planner needs to
trust a number and what a reviewer needs to repeat it:

* the verdict of every target, coloured as in ``pasc run``;
* every KPI with its mean and 95 % confidence interval;
* the pictures of :mod:`simulator.plots`;
* the scenario in tables (and the resolved YAML, folded);
* a model description organised like the STRESS-DES checklist (Monks et
  al., 2019, *Strengthening the reporting of empirical simulation studies*):
  objectives, logic, data, experimentation, implementation, code access.

``pasc run`` and ``pasc size`` write ``report.html`` (and the PNGs) into
their folder; :func:`rebuild_report` (``pasc report FOLDER``) draws them again
from the files in the folder, so a report can be refreshed after an upgrade
without running the simulation again.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from simulator.artifacts import (
    ENVIRONMENT_FILE,
    RunFolderError,
    folder_kind,
    load_comparison_folder,
    load_run_folder,
    load_sizing_folder,
    read_environment,
    run_metadata,
    software_versions,
    write_file_atomically,
)
from simulator.display import RUN_FIGURES, VERDICT_COLORS, run_figure_names, signed_text
from simulator.kpis import description as kpi_description
from simulator.kpis import kpi_digits, shown_interval
from simulator.results.verdicts import overall_verdict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simulator.compare import Comparison
    from simulator.results import RunResult
    from simulator.scenario import Scenario
    from simulator.sizing import SizingResult

REPORT_FILE = "report.html"
DPI = 110

#: What the source labels of docs/domain.md stand for, so that a report names its data.
DOMAIN_LABELS: dict[str, str] = {
    "NATIONAL": "Vietnam, July 2025: two-level local government, 3,321 commune-level units, "
    "one Public Administration Service Center per commune, postal agents at the centers",
    "HUE": "Hue: procedures accepted regardless of administrative boundaries; post offices "
    "place staff in dense areas",
    "TAN-THANH": "Tan Thanh commune, Lam Dong, 1–6 July 2025: 52 records received, 45 "
    "returned on time, 5 in progress, 2 rejected as duplicates; VNeID limits online filing",
    "TAN-LAP": "Tan Lap commune, first 7 days: about 30 records, 96.3 % resolved on or "
    "before the deadline",
    "LAM-DONG": "Lam Dong province: 124 communes, wards and special zones; early "
    "disruptions (equipment, network, software)",
    "HANOI": "Hanoi, first 3 weeks: 66,000 records received in 126 communes/wards; "
    "priority for vulnerable citizens",
    "HCMC-9": "Ho Chi Minh City pilot: 102 wards/communes, 9 rehearsal scenarios incl. "
    "desk processing of certified copies and records left by the district level",
    "HOI-AN": "Hoi An city, 2024: 31,022 applications, 98.17 % resolved on time",
    "QN-CONSTRUCTION": "Quang Nam Dept. of Construction, 2024: more than 60,000 records, "
    "almost 99.99 % resolved ahead of schedule",
    "QN-targets": "Quang Nam proactive-administration targets: at most 30 minutes handling "
    "and 15 minutes waiting per record; quotas of 1,600 / 1,200 / 800 records per staff "
    "member per year (urban / rural / disadvantaged)",
    "QN-2024": "Quang Nam 2024: resolution-progress index 93.08 %, province score 84.2/100",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;
  background:#fafafa;color:#222;line-height:1.45}
main{max-width:1020px;margin:0 auto;padding:1.5em 2em 4em;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}
h2{font-size:1.25em;border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.05em;margin-bottom:.3em}
.meta{color:#666;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em;vertical-align:top}
th{background:#f0f0f0;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr:nth-child(even) td{background:#fcfcfc}
.verdict{display:inline-block;padding:.05em .6em;border-radius:.8em;color:#fff;
  font-weight:bold;font-size:.9em}
.verdict.pass{background:$pass}.verdict.fail{background:$fail}
.verdict.inconclusive{background:$inconclusive;color:#222}
.banner{padding:.7em 1em;border-radius:.4em;margin:1em 0;font-size:1.05em}
.banner.pass{background:#e8f5e9;border-left:6px solid $pass}
.banner.fail{background:#ffebee;border-left:6px solid $fail}
.banner.inconclusive{background:#fff8e1;border-left:6px solid $inconclusive}
figure{margin:1.2em 0}
figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.88em;color:#444;max-width:52em}
dl.stress dt{font-weight:bold;margin-top:.6em}
dl.stress dd{margin-left:1.2em}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.82em}
.small{font-size:.85em;color:#555}
"""
for _verdict, _color in VERDICT_COLORS.items():
    _CSS = _CSS.replace(f"${_verdict}", _color)


#: A run folder that cannot be read (the artifacts layer's error, under the name
#: ``pasc report`` has always used).
ReportError = RunFolderError


# -- small pieces -------------------------------------------------------------------------


def figure_png(fig: Figure, dpi: int = DPI) -> bytes:
    """The PNG bytes of a figure (no metadata, so the bytes depend only on the picture)."""
    buffer = io.BytesIO()
    # zlib level 1: these flat-coloured pictures come out about 3 % larger than at
    # the default level 6, in a fraction of the time.
    fig.savefig(
        buffer,
        format="png",
        dpi=dpi,
        metadata={"Software": None},
        pil_kwargs={"compress_level": 1},
    )
    return buffer.getvalue()


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _num(x: Any, digits: int = 2) -> str:
    if x is None:
        return "–"
    try:
        x = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.1f}"
    return f"{x:.{digits}f}"


def _interval(low: Any, high: Any) -> str:
    return f"{_num(low)} – {_num(high)}"


def _badge(verdict: str) -> str:
    return f'<span class="verdict {_e(verdict)}">{_e(verdict)}</span>'


def _op(op: str) -> str:
    return {"<=": "≤", ">=": "≥"}.get(op, op)


def _table(
    header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()
) -> str:
    """An HTML table; cells are escaped unless they are already ``_Raw`` HTML."""
    out = ["<table><thead><tr>"]
    out += [f"<th>{_e(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            text = cell if isinstance(cell, _Raw) else _e(cell)
            cls = ' class="num"' if i in numeric else ""
            out.append(f"<td{cls}>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


class _Raw(str):
    """HTML that must not be escaped again."""


def _img(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}">'
        f"<figcaption><b>{_e(alt)}.</b> {_e(caption)}</figcaption></figure>"
    )


def _page(title: str, body: Sequence[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


#: How to read each picture, in a planner's words (the plot functions' docstrings say more).
CAPTIONS: dict[str, str] = {
    "wait": "The share of walk-ins who waited at most x minutes, all replications pooled "
    "(band: 95 % interval across replications). The red dashed line is the wait target, the "
    "dotted line the share the target asks for (90 % for a 90th-percentile target): the target "
    "is met when the curve is above the dotted line where it crosses the dashed one.",
    "handle": "For each procedure field, the handle-time statistic the target is about (bar, "
    "with its 95 % interval) and the mean handle time (dot). Each bar is coloured by that "
    "field's own verdict against the target: red or amber fields are where the 30-minute "
    "promise is at risk.",
    "hourly": "Each clock hour, averaged over the measured days and the replications (bands and "
    "whiskers: 95 % intervals): walk-in arrivals, walk-ins waiting (time average) and the busy "
    "share of each staff group. Grey stripes are closed periods; walk-ins queued at closing are "
    "still served, which can push utilization above 100 % in the hour of closing.",
    "queue-heatmap": "Walk-ins waiting (time average) in each hour of each measured working "
    "day, averaged over replications. A dark column on every day points to the hourly "
    "staffing profile; darkening down the rows points to work carried over from day to day.",
    "backlog": "Records filed but not yet resolved at the close of each working day (mean over "
    "replications, band: 95 % interval). A level line means the staff keep up; a rising line "
    "is a backlog that grows every day, whatever the waits at the desk show. Warm-up days are "
    "shaded.",
    "on-time": "For each procedure (with its statutory deadline), the share of resolved "
    "records returned on time, with its 95 % interval, coloured by that procedure's own verdict "
    "against the on-time target (red dashed line).",
    "staffing-curve": "Each target's KPI against the number of staff on the sized desks. Dots "
    "are simulated candidates (coloured by verdict, whiskers: 95 % intervals; labels give the "
    "staff per desk group), the red dashed line the target, the star the answer, the grey "
    "dotted line the lower bound (offered load). Dotted stretches of the curve were not "
    "simulated.",
    "compare": "Each panel one KPI, each row one scenario: dot the mean, whisker the 95 % "
    "interval, red dashed line the target. With two scenarios the panel title gives the paired "
    "difference B − A and its interval: it is a real difference when that interval excludes 0, "
    "even where the whiskers overlap, because both scenarios saw the same citizens.",
}


# -- scenario and model description -------------------------------------------------------


def _dist(d: Any) -> str:
    if d is None:
        return "–"
    data = d.model_dump(by_alias=True) if hasattr(d, "model_dump") else dict(d)
    kind = data.pop("dist", "?")
    if "values" in data:
        return f"{kind} ({len(data['values'])} values, mean {_num(d.mean)})"
    return f"{kind} (" + ", ".join(f"{k} {v:g}" for k, v in data.items()) + ")"


def _deadline(days: int) -> str:
    return "same day" if days == 0 else f"{days} working day{'s' if days != 1 else ''}"


def _sources(sc: Scenario) -> str:
    if not sc.source:
        return "<p>The scenario names no source: every value is an assumption.</p>"
    rows = []
    for label in sc.source:
        rows.append((f"[{label}]", DOMAIN_LABELS.get(label, "a citation given by the scenario")))
    return _table(("label (docs/domain.md)", "what it reports"), rows)


def scenario_section(sc: Scenario) -> str:
    """The scenario as tables: commune, calendar, demand, staff, procedures, targets."""
    cal = sc.calendar
    sessions = "open 24 h (continuous)" if cal.type == "continuous" else ", ".join(cal.sessions)
    channels = ", ".join(
        f"{c.replace('_', '-')} {100 * s:.0f} %" for c, s in sc.demand.channels.as_dict().items()
    )
    general = [
        (
            "commune class",
            f"{sc.commune.class_} (quota {sc.commune.quota:,.0f} records "
            "per staff member per year)",
        ),
        (
            "calendar",
            f"{cal.type}; {', '.join(cal.weekdays)}; {sessions}; "
            f"{cal.open_minutes_per_day} open minutes a day",
        ),
        ("same-day cut-off", cal.same_day_cutoff or "closing time"),
        (
            "horizon",
            f"{sc.horizon.days} measured working days after {sc.horizon.warmup_days} warm-up days",
        ),
        ("demand", f"{sc.demand.records_per_day:g} records per working day; {channels}"),
        ("priority citizens", f"{100 * sc.demand.priority_share:.0f} % of walk-ins"),
        ("hourly profile", _profile_text(sc)),
        (
            "staff",
            f"{sc.staff.total} center staff; "
            + "; ".join(f"{d.name}: {d.count} ({', '.join(d.fields)})" for d in sc.staff.desks)
            + f"; back office {sc.staff.back_office}; postal agents "
            f"{sc.staff.postal_agents}",
        ),
    ]
    procs = [
        (
            p.id,
            p.field,
            f"{100 * p.share:.0f} %",
            _dist(p.intake_minutes),
            _dist(p.processing_minutes),
            _deadline(p.deadline_working_days),
            f"{100 * p.reject_share:.0f} %",
            ", ".join(p.channels) if p.channels else "all",
        )
        for p in sc.procedures
    ]
    targets = [(t.kpi, f"{_op(t.op)} {_num(t.threshold)}") for t in sc.targets]
    from simulator.scenario import scenario_to_yaml

    parts = [
        "<h2>Scenario</h2>",
        f"<p>{_e(sc.description)}</p>" if sc.description else "",
        _table(("item", "value"), general),
        "<h3>Procedures</h3>",
        _table(
            (
                "procedure",
                "field",
                "share",
                "intake (min, at the desk)",
                "processing (min, back office)",
                "deadline",
                "rejected",
                "channels",
            ),
            procs,
        ),
    ]
    if targets:
        parts += ["<h3>Targets</h3>", _table(("kpi", "target"), targets)]
    parts.append(
        "<details><summary>The resolved scenario (as stored in scenario.yaml)</summary>"
        f"<pre>{_e(scenario_to_yaml(sc))}</pre></details>"
    )
    return "".join(parts)


def _profile_text(sc: Scenario) -> str:
    weights = sc.profile_weights()
    if len(set(weights.values())) <= 1:
        return "flat over the open hours"
    total = sum(weights.values()) or 1.0
    peak = max(weights, key=weights.get)
    return (
        f"{'office-default' if sc.demand.hourly_profile in (None, 'office-default') else 'custom'}"
        f"; busiest hour {peak:02d}:00 ({100 * weights[peak] / total:.0f} % of a day's walk-ins)"
    )


def _features(sc: Scenario) -> tuple[list[str], list[str]]:
    """(what this scenario switches on, simplifications that hold for it).

    Read with ``getattr`` so that a report of an older or newer scenario
    format still renders."""
    on: list[str] = []
    off: list[str] = []
    demand, staff = sc.demand, sc.staff
    if getattr(demand, "patience_minutes", None) is not None:
        back = getattr(demand, "return_after_abandon_share", 0.0)
        on.append(
            f"walk-ins leave when their wait exceeds their patience "
            f"({_dist(demand.patience_minutes)}); {100 * back:.0f} % of them come back the "
            "next working day"
        )
    else:
        off.append("no citizen leaves the queue (no patience set: no abandonment)")
    fallback = getattr(demand, "online_fallback_share", 0.0)
    if fallback:
        on.append(f"{100 * fallback:.0f} % of would-be online filers walk in instead [TAN-THANH]")
    if any(getattr(p, "rework", None) for p in sc.procedures):
        on.append("incomplete dossiers are sent back and some return with a supplement")
    else:
        off.append("every dossier accepted at intake is complete (no rework)")
    if any(getattr(p, "linked_steps", None) for p in sc.procedures):
        on.append("interconnected procedures wait for steps at other agencies")
    absence = getattr(staff, "absence_share", 0.0)
    if absence:
        on.append(f"each staff member is absent on {100 * absence:.0f} % of working days")
    else:
        off.append("staff are always present while open (no absences)")
    if getattr(staff, "learning_curve", None) is not None:
        lc = staff.learning_curve
        on.append(
            f"newly assigned staff are slower: times × {lc.initial_factor:g} on day one, "
            f"falling to × 1 after {lc.working_days} working days [TAN-THANH]"
        )
    if getattr(sc, "backlog", None):
        n = sum(item.count for item in sc.backlog)
        on.append(f"{n} records handed over from the district level on day one [HCMC-9]")
    if getattr(sc, "disruptions", None):
        on.append(
            "outages: " + ", ".join(d.name for d in sc.disruptions) + " [TAN-THANH] [LAM-DONG]"
        )
    else:
        off.append("no equipment, network or power outage")
    off.append("weekends and holidays are not simulated: working days run back to back")
    return on, off


def model_description(
    sc: Scenario,
    *,
    purpose: str,
    experimentation: Sequence[tuple[str, str]],
    versions: Mapping[str, str],
    reproduce: str,
) -> str:
    """The STRESS-DES sections: objectives, logic, data, experimentation, implementation,
    code access. ``experimentation`` lists (item, text) pairs specific to the kind of study."""
    staff = ", ".join(f"{d.name} {d.count}" for d in sc.staff.desks)
    slice_minutes = getattr(sc.staff, "back_office_slice_minutes", 15)
    back_office = (
        f"{sc.staff.back_office} dedicated back-office staff"
        if sc.staff.back_office
        else f"desk staff when no walk-in waits, in slices of {slice_minutes:g} minutes"
    )
    targets = "; ".join(f"{t.kpi} {_op(t.op)} {_num(t.threshold)}" for t in sc.targets) or "none"
    on, off = _features(sc)

    def dl(items: Sequence[tuple[str, str]]) -> str:
        return (
            "<dl class='stress'>"
            + "".join(
                f"<dt>{_e(k)}</dt><dd>{v if isinstance(v, _Raw) else _e(v)}</dd>" for k, v in items
            )
            + "</dl>"
        )

    version_text = ", ".join(
        f"{k} {v}" for k, v in versions.items() if k not in ("platform", "cpus")
    )
    parts = [
        "<h2>Model description (STRESS-DES)</h2>",
        "<p class='small'>Organised like the STRESS-DES reporting checklist for discrete-event "
        "simulation (Monks et al., 2019).</p>",
        "<h3>1. Objectives</h3>",
        dl(
            [
                ("Purpose", purpose),
                (
                    "Outputs",
                    "walk-in wait (mean and percentiles), handle time at the desk, "
                    "time in center, on-time share, records filed/completed/rejected/in progress/"
                    "abandoned, staff utilization, records per staff-year, queue length; each "
                    "as a mean over replications with a 95 % confidence interval",
                ),
                (
                    "Experimentation aims",
                    f"a verdict for each target: {targets}. A target "
                    "passes when the whole interval meets it, fails when the whole interval "
                    "misses it, and is inconclusive otherwise",
                ),
            ]
        ),
        "<h3>2. Logic</h3>",
        dl(
            [
                (
                    "Overview",
                    "citizens file records by three channels (walk-in, online, "
                    "postal) → walk-ins queue at a desk group covering the procedure's field → "
                    "intake at the desk (the handle time) → records needing processing join the "
                    "back-office queue → the result is returned; rejected records end at intake",
                ),
                ("Entities", "records (one filing of one procedure) and walk-in citizens"),
                (
                    "Activities",
                    "intake at the desk (intake_minutes), back-office processing "
                    "(processing_minutes), postal intake by the postal agents",
                ),
                (
                    "Resources",
                    f"desk groups: {staff}; back office: {back_office}; postal "
                    f"agents: {sc.staff.postal_agents}",
                ),
                (
                    "Queues",
                    "walk-ins: priority citizens first, then first come first served, "
                    "non-preemptive, at the desk group with the shortest expected wait; back "
                    "office: earliest deadline first, worked only while open",
                ),
                (
                    "Entry and exit",
                    "walk-in and postal records arrive while open following "
                    "the hourly profile (non-homogeneous Poisson process), online records around "
                    "the clock; citizens queued at closing are still served; a record leaves at "
                    "its result or its rejection",
                ),
                (
                    "Switched on in this scenario",
                    "; ".join(on)
                    or "none of the optional "
                    "mechanisms (abandonment, rework, absences, outages, handed-over backlog)",
                ),
                ("Simplifications", "; ".join(off)),
            ]
        ),
        "<h3>3. Data</h3>",
        _sources(sc),
        dl(
            [
                (
                    "Input parameters",
                    "the tables of the Scenario section; times in minutes, "
                    "deadlines in working days",
                ),
                (
                    "Assumptions",
                    "values that no source label above reports are the scenario "
                    "author's assumptions (the scenario file's comments say which)",
                ),
                (
                    "Pre-processing",
                    "none: the scenario is validated and used as written, "
                    "and stored resolved (after extends:) as scenario.yaml",
                ),
            ]
        ),
        "<h3>4. Experimentation</h3>",
        dl(experimentation),
        "<h3>5. Implementation</h3>",
        dl(
            [
                ("Software", version_text),
                (
                    "Random sampling",
                    "NumPy PCG64 generators, one per source of randomness "
                    "(arrivals per channel, procedure mix, each procedure's times, ...), spawned "
                    "from SeedSequence(seed, (replication, crc32(source name))): a replication is "
                    "a pure function of (scenario, seed, replication), and changing staff never "
                    "shifts the citizens (common random numbers)",
                ),
                (
                    "Model execution",
                    "SimPy discrete-event simulation (process interaction); "
                    "replications may run in parallel processes without changing any number; "
                    "percentiles from a log histogram with relative error below 0.25 %",
                ),
                ("System", f"{versions.get('platform', '?')}, {versions.get('cpus', '?')} CPUs"),
            ]
        ),
        "<h3>6. Code access</h3>",
        f"<p>pasc {_e(versions.get('pasc', '?'))}. To repeat: <code>{_e(reproduce)}</code>. "
        "To redraw this report from its folder: <code>pasc report FOLDER</code>.</p>",
    ]
    return "".join(parts)


# -- run reports --------------------------------------------------------------------------


def _header(title: str, subtitle: str, meta: Mapping[str, Any]) -> str:
    created = meta.get("created") or datetime.now().isoformat(timespec="seconds")
    version_text = meta.get("versions", {}).get("pasc") or meta.get("pasc_version", "?")
    return (
        f"<h1>{_e(title)}</h1><p class='meta'>{_e(subtitle)} · created {_e(created)} · "
        f"pasc {_e(version_text)}</p>"
    )


def _targets_table(targets: pd.DataFrame) -> str:
    rows = [
        (
            "keeps up (backlog growth per day)" if r.kpi == "keeps_up" else r.kpi,
            f"{_op(r.op)} {_kpi_num(r.kpi, r.threshold)}",
            _kpi_num(r.kpi, r.mean),
            _kpi_interval(r.kpi, r.ci_low, r.ci_high),
            _Raw(_badge(r.verdict)),
        )
        for r in targets.itertuples()
    ]
    return _table(("kpi", "target", "mean", "95 % interval", "verdict"), rows, numeric=(1, 2, 3))


def _verdict_banner(targets: pd.DataFrame) -> str:
    if targets.empty:
        return "<div class='banner inconclusive'>The scenario declares no targets.</div>"
    overall = overall_verdict(list(targets["verdict"]))
    counts = targets["verdict"].value_counts()
    detail = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("pass", "fail", "inconclusive"))
    text = {
        "pass": "Every target is met: each confidence interval lies on the right side.",
        "fail": "At least one target is missed: its whole confidence interval is on the "
        "wrong side.",
        "inconclusive": "No target fails, but at least one interval straddles its threshold: "
        "run more replications before deciding.",
    }[overall]
    return (
        f"<div class='banner {overall}'>{_badge(overall)} {_e(text)} "
        f"<span class='small'>({_e(detail)})</span></div>"
    )


def _kpi_table(summary: pd.DataFrame) -> str:
    rows = [
        (
            r.kpi,
            kpi_description(r.kpi),
            _kpi_num(r.kpi, r.mean),
            _kpi_interval(r.kpi, r.ci_low, r.ci_high),
            _num(r.sd, kpi_digits(r.kpi)),
            int(r.n),
        )
        for r in summary.itertuples()
    ]
    return _table(
        ("kpi", "meaning", "mean", "95 % interval", "sd", "n"), rows, numeric=(2, 3, 4, 5)
    )


#: Environment variable: processes drawing a run's pictures (1: in this process).
PICTURE_PROCESSES_ENV = "PASC_PICTURE_PROCESSES"


def picture_processes() -> int:
    """How many processes draw a run's pictures: ``PASC_PICTURE_PROCESSES``, else two
    on a machine with two cores or more. Drawing six pictures takes longer than
    simulating a small scenario, and the pictures are independent, so two
    processes halve that wait."""
    text = os.environ.get(PICTURE_PROCESSES_ENV)
    if text:
        try:
            return max(1, int(text))
        except ValueError:
            return 1
    return min(2, os.cpu_count() or 1)


def _can_fork() -> bool:
    """Forking is safe here: a POSIX system, the main thread, no other thread running
    (a forked copy of a threaded program, a web server or a notebook kernel, may
    inherit a lock held by a thread that does not exist in the copy)."""
    import multiprocessing
    import threading

    return (
        "fork" in multiprocessing.get_all_start_methods()
        and threading.current_thread() is threading.main_thread()
        and threading.active_count() == 1
    )


def _drawer_ready() -> None:
    """A drawing process: loads matplotlib and the pictures' module at once (while
    its parent is still simulating), leaves Ctrl-C to the parent (which stops it)
    and ends quietly on SIGTERM (it inherits the handlers of ``pasc``, which print)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from simulator import plots  # noqa: F401


def _draw_pngs(result: RunResult, names: list[str]) -> list[bytes]:
    from simulator import plots

    return [figure_png(plots.run_figure(result, name)) for name in names]


class PictureDrawers:
    """Processes that draw a run's pictures while the rest of the run goes on.

    The pictures of a small run take longer to draw than the run takes to
    simulate, and they are independent of each other and of the files, so
    ``pasc run`` starts the drawers *before* simulating (they load matplotlib
    on the core the simulation leaves idle), hands them the finished run with
    :meth:`start`, writes its tables meanwhile, and collects the PNGs in
    :meth:`write_run_report` (a ``render`` for
    :func:`simulator.artifacts.write_run_folder`)::

        with PictureDrawers() as drawers:
            result = simulator.run(sc)
            drawers.start(result)
            write_run_folder(result, root, render=drawers.write_run_report)

    The drawers are forked processes, and only where forking is safe (see
    :func:`_can_fork`) and ``processes`` (default :func:`picture_processes`)
    is above 1; otherwise the pictures are drawn in this process, one after
    the other. The bytes are the same either way.
    """

    def __init__(self, processes: int | None = None):
        self.processes = picture_processes() if processes is None else processes
        self._pool: Any = None
        # (run, its pictures in report order, the order they are drawn in, the work)
        self._pending: tuple[RunResult, list[str], list[str], Any] | None = None

    def __enter__(self) -> PictureDrawers:
        if self.processes > 1 and _can_fork():
            import multiprocessing

            context = multiprocessing.get_context("fork")
            self._pool = context.Pool(self.processes, initializer=_drawer_ready)
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        pool, self._pool, self._pending = self._pool, None, None
        if pool is None:
            return
        if exc_type is None:
            pool.close()
        else:
            pool.terminate()
        pool.join()

    def start(self, result: RunResult) -> None:
        """Start drawing every picture of ``result`` (returns at once)."""
        if self._pool is None:
            return
        # One share of the pictures per process, so the run is sent to each only once
        # (every other picture: the costly hourly one shares with two cheap ones).
        names = run_figure_names(result)
        shares = [names[i :: self.processes] for i in range(self.processes)]
        work = self._pool.starmap_async(
            _draw_pngs, [(result, share) for share in shares if share], chunksize=1
        )
        self._pending = (result, names, [n for share in shares for n in share], work)

    def images(self, result: RunResult) -> dict[str, bytes]:
        """The PNG bytes of every picture of ``result``, keyed as
        :data:`simulator.plots.RUN_FIGURES` (those started, or drawn now)."""
        if self._pending is None or self._pending[0] is not result:
            self.start(result)
        if self._pending is None:  # no drawing process: draw here
            from simulator import plots

            names = run_figure_names(result)
            return {name: figure_png(plots.run_figure(result, name)) for name in names}
        _, names, order, work = self._pending
        self._pending = None
        drawn = dict(zip(order, [png for share in work.get() for png in share], strict=True))
        return {name: drawn[name] for name in names}

    def write_run_report(
        self, result: RunResult, folder: Path, meta: Mapping[str, Any] | None = None
    ) -> Path:
        """:func:`write_run_report` with the pictures of these drawers."""
        return write_run_report(result, folder, meta, images=self.images(result))


def run_images(result: RunResult, *, processes: int | None = None) -> dict[str, bytes]:
    """PNG bytes of every picture of a run, keyed as :data:`simulator.plots.RUN_FIGURES`,
    drawn by ``processes`` forked processes (default :func:`picture_processes`)
    where that is safe, else here (see :class:`PictureDrawers`)."""
    n = min(picture_processes() if processes is None else processes, len(run_figure_names(result)))
    with PictureDrawers(n) as drawers:
        return drawers.images(result)


def run_report_html(
    result: RunResult,
    *,
    images: Mapping[str, bytes] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> str:
    """The HTML report of a run: verdicts, KPIs, pictures, scenario, STRESS-DES description.

    ``images`` (name -> PNG bytes) default to :func:`run_images`; ``meta`` may
    carry ``created`` and ``versions`` (as stored in ``run.json``), else the
    current ones are used.
    """
    meta = dict(meta or {})
    versions = meta.get("versions") or software_versions()
    sc = result.scenario
    images = run_images(result) if images is None else images
    targets = result.targets()
    keeps = result.keeps_up()
    note = result.horizon_note()
    pictures = [
        _img(images[name], title, CAPTIONS[name])
        for name, title in RUN_FIGURES.items()
        if name in images
    ]
    if not pictures:
        pictures = ["<p>No pictures: the run kept no per-record table (--no-records).</p>"]
    experimentation = [
        (
            "Initialisation",
            f"the center starts empty and idle; {sc.horizon.warmup_days} "
            "warm-up working days are simulated first and not measured",
        ),
        (
            "Run length",
            f"{sc.horizon.days} measured working days per replication "
            f"({sc.calendar.open_minutes_per_day} open minutes a day)",
        ),
        (
            "Estimation",
            f"{result.replications} independent replications; each KPI's mean "
            "with a 95 % Student-t confidence interval across replications",
        ),
        (
            "Seeds",
            f"seed {result.seed}; replication i uses replication index i "
            f"(0 … {result.replications - 1})",
        ),
    ]
    body = [
        _header(
            f"Run report: {sc.name}",
            f"{result.replications} replications × {sc.horizon.days} working days "
            f"(+{sc.horizon.warmup_days} warm-up), seed {result.seed}",
            meta,
        ),
        "<h2>Targets</h2>",
        _verdict_banner(targets),
        _targets_table(pd.concat([targets, pd.DataFrame([keeps.target_row()])], ignore_index=True)),
        f"<p class='small'><b>Keeps up: {_e(keeps.verdict)}</b> ({_e(keeps.reason())}). "
        "Fails when a staff pool's work reaches its capacity, or when the records in "
        "progress at each day's close grow by more than one day's filings a year; the "
        "slope is fitted after the settling time.</p>",
        f"<p class='small'><b>Note</b>: {_e(note)}.</p>" if note else "",
        "<h2>KPIs</h2>",
        "<p class='small'>Mean over replications and 95 % confidence interval of the mean; "
        "sd is the spread between replications, n the replications where the KPI is "
        "defined.</p>",
        _kpi_table(result.summary()),
        "<h2>Pictures</h2>",
        *pictures,
        scenario_section(sc),
        model_description(
            sc,
            purpose=f"judge whether the service center {sc.name} ({sc.commune.class_}) meets "
            f"its service targets with {sc.staff.total} center staff, and at what productivity",
            experimentation=experimentation,
            versions=versions,
            reproduce=f"pasc run scenario.yaml -r {result.replications} --seed {result.seed}",
        ),
    ]
    return _page(f"pasc run report: {sc.name}", body)


def _save_report(folder: Path, images: Mapping[str, bytes], html: str) -> Path:
    """Write each picture as ``<name>.png`` and the report as ``report.html`` in
    ``folder`` (each file atomically); return the report's path."""
    for name, png in images.items():
        write_file_atomically(folder / f"{name}.png", png, durable=False)
    path = folder / REPORT_FILE
    write_file_atomically(path, html, durable=False)
    return path


def write_run_report(
    result: RunResult,
    folder: Path,
    meta: Mapping[str, Any] | None = None,
    *,
    images: Mapping[str, bytes] | None = None,
) -> Path:
    """Save the run's pictures as ``<name>.png`` and ``report.html`` in ``folder``
    (``images``: the PNGs already drawn, by default :func:`run_images`)."""
    folder = Path(folder)
    images = run_images(result) if images is None else images
    return _save_report(folder, images, run_report_html(result, images=images, meta=meta))


# -- sizing reports -----------------------------------------------------------------------


def sizing_report_html(
    result: SizingResult,
    *,
    images: Mapping[str, bytes] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> str:
    """The HTML report of ``pasc size``: the answer, the staffing curve (table and picture),
    the scenario and the STRESS-DES description."""
    from simulator import plots

    meta = dict(meta or {})
    versions = meta.get("versions") or software_versions()
    sc = result.scenario
    if images is None:
        images = {"staffing-curve": figure_png(plots.staffing_curve(result))}
    seed = getattr(result, "seed", None) or meta.get("seed") or sc.seed
    if result.answer is None:
        banner = (
            f"<div class='banner fail'>{_badge('fail')} No answer: {_e(result.explanation)}</div>"
        )
    else:
        banner = f"<div class='banner pass'>{_badge('pass')} {_e(result.explanation)}</div>"

    def sized(c) -> int:  # staff on the sized desk groups; the others stay fixed
        return sum(c.staff[d] for d in result.desks)

    curve = sorted(result.curve, key=lambda c: (sized(c), tuple(c.staff.values())))
    from simulator.results.verdicts import growth_tolerance

    # A size folder written before the steady-state sizing has no horizon, no
    # keeps-up row and no pool loads: its report says what that sizing did.
    steady = result.horizon_days is not None
    header = (
        ["staff: " + " / ".join(result.desks), "total", "reps", "work / staff"]
        + [f"{t.kpi} {_op(t.op)} {_kpi_num(t.kpi, t.threshold)}" for t in sc.targets]
        + ([f"keeps up: backlog growth/day ≤ {_num(growth_tolerance(sc))}"] if steady else [])
    )
    rows = []
    for c in curve:
        chosen = result.answer is not None and all(
            c.staff.get(d) == n for d, n in result.answer.items()
        )
        cells: list[Any] = [
            ("→ " if chosen else "") + " / ".join(str(c.staff[d]) for d in result.desks),
            sized(c),
            c.replications,
            " / ".join(
                f"{c.loads[d].expected_utilization:.0%}" if d in c.loads else "–"
                for d in result.desks
            ),
        ]
        for r in c.targets.itertuples():
            text = f"{_kpi_num(r.kpi, r.mean)} ({_kpi_interval(r.kpi, r.ci_low, r.ci_high)}) "
            if c.over_capacity and r.kpi == "keeps_up":
                text = "over capacity, not simulated "
            cells.append(_Raw(text + _badge(r.verdict)))
        cells += ["–"] * (len(header) - len(cells))
        rows.append(cells[: len(header)])
    bounds = _table(
        ("pool", "lower bound (fewest below capacity)", "analytic estimate (Erlang C)", "answer"),
        [
            (
                d,
                result.lower_bound.get(d, "–"),
                result.analytic_estimate.get(d, "–"),
                "–" if result.answer is None else result.answer.get(d, "–"),
            )
            for d in result.desks
        ],
        numeric=(1, 2, 3),
    )
    reps = sorted({c.replications for c in result.curve if c.replications})
    warmup = result.warmup_days if result.warmup_days is not None else sc.horizon.warmup_days
    days = result.horizon_days if result.horizon_days is not None else sc.horizon.days
    rule = (
        " (the steady-state rule: max(60, 4 × settling time), never less than the "
        "scenario's own horizon)"
        if steady
        else " (the scenario's own horizon: this folder predates the steady-state sizing)"
    )
    experimentation = [
        (
            "Initialisation",
            f"each candidate starts empty; {warmup} warm-up working days"
            f"{' (at least the settling time)' if steady else ''} are not measured",
        ),
        ("Run length", f"{days} measured working days per replication{rule}"),
        (
            "Estimation",
            f"{', '.join(map(str, reps))} replications per candidate (more when a "
            "verdict is inconclusive); 95 % Student-t intervals; a candidate passes when every "
            + (
                "target passes and it keeps up; a staffing with a pool over capacity is "
                "rejected without simulating"
                if steady
                else "target passes"
            ),
        ),
        (
            "Search",
            "from the offered-load lower bound, check that the targets are reachable "
            "at the staff limit, add one staff member where it reduces the shortfall most, then "
            "trim any staff member the targets do not need",
        ),
        (
            "Seeds",
            f"seed {seed} for every candidate (common random numbers: every candidate "
            "sees the same citizens)",
        ),
    ]
    body = [
        _header(
            f"Sizing report: {sc.name}",
            f"sizing {', '.join(result.desks)} against {len(sc.targets)} targets",
            meta,
        ),
        "<h2>Answer</h2>",
        banner,
        bounds,
        _steady_state_text(sc, warmup, days) if steady else "",
        "<h2>Staffing curve</h2>",
        "<p class='small'>Each simulated candidate: target KPI mean (95 % interval) and "
        "verdict; → marks the answer.</p>",
        _table(header, rows, numeric=(1, 2)),
        *(_img(png, "Staffing curve", CAPTIONS["staffing-curve"]) for name, png in images.items()),
        scenario_section(sc),
        model_description(
            sc,
            purpose=f"find the smallest staffing of {', '.join(result.desks)} at {sc.name} "
            "that meets every service target",
            experimentation=experimentation,
            versions=versions,
            reproduce=f"pasc size scenario.yaml --seed {seed}",
        ),
    ]
    return _page(f"pasc sizing report: {sc.name}", body)


def _steady_state_text(sc: Scenario, warmup: int, days: int) -> str:
    """How the sizing judged each staffing: the horizon rule and the keeps-up target."""
    from simulator.results.verdicts import growth_tolerance
    from simulator.workload import settling_days

    s = settling_days(sc)
    return (
        "<p class='small'><b>Steady state.</b> A staffing is only right if it holds over a "
        "year, in every staff pool. Records of this scenario take up to "
        f"{s} working days to settle (the longest deadline, plus the mean days at other "
        "agencies or with the citizen, plus one), so every candidate was simulated for "
        f"{_e(days)} working days after a {_e(warmup)}-day warm-up, whatever the scenario's own "
        f"horizon ({sc.horizon.days} + {sc.horizon.warmup_days}). <b>Keeps up</b> is a target "
        "every answer must pass: no pool's work (walk-ins with their return visits, online "
        "checks, processing, linked-step work, postal intake, over the staff's availability "
        "after absence and outages) may reach its capacity, and the records in progress at "
        "each day's close may grow by at most one day's filings a year "
        f"({_num(growth_tolerance(sc))} a day).</p>"
    )


def _kpi_num(kpi: str, x: Any) -> str:
    return _num(x, kpi_digits(kpi))


def _kpi_interval(kpi: str, low: Any, high: Any) -> str:
    """An interval for display, kept in the KPI's natural range."""
    try:
        lo, hi = shown_interval(kpi, float(low), float(high))
    except (TypeError, ValueError):
        return _interval(low, high)
    if math.isnan(lo) or math.isnan(hi):
        return _interval(low, high)
    return f"{_kpi_num(kpi, lo)} – {_kpi_num(kpi, hi)}"


def write_sizing_report(
    result: SizingResult, folder: Path, meta: Mapping[str, Any] | None = None
) -> Path:
    """Save ``staffing-curve.png`` and ``report.html`` in ``folder``."""
    from simulator import plots

    folder = Path(folder)
    images = {"staffing-curve": figure_png(plots.staffing_curve(result))}
    return _save_report(folder, images, sizing_report_html(result, images=images, meta=meta))


# -- comparison reports -------------------------------------------------------------------


def comparison_report_html(
    comparison: Comparison,
    *,
    images: Mapping[str, bytes] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> str:
    """The HTML report of ``pasc compare``: KPIs side by side, paired differences,
    target verdicts per scenario, the comparison picture and each scenario's sources."""
    from simulator import plots

    meta = dict(meta or {})
    versions = meta.get("versions") or software_versions()
    labels = comparison.labels
    if images is None:
        images = {"compare": figure_png(plots.compare_kpis(comparison))}
    wide = comparison.side_by_side()
    diffs = comparison.differences()
    header = ["kpi"] + [f"{label}: mean (95 % interval)" for label in labels]
    header += [f"{label} − {labels[0]} (paired)" for label in labels[1:]]
    rows = []
    for r in wide.to_dict("records"):
        cells: list[Any] = [r["kpi"]]
        for label in labels:
            mean, low, high = (r[f"{label}.{c}"] for c in ("mean", "ci_low", "ci_high"))
            cells.append(f"{_num(mean)} ({_interval(low, high)})")
        for label in labels[1:]:
            d = diffs[(diffs["scenario"] == label) & (diffs["kpi"] == r["kpi"])]
            if d.empty:
                cells.append("–")
            else:
                x = d.iloc[0]
                cells.append(
                    f"{signed_text(x['mean'])} ({signed_text(x['ci_low'])} "
                    f"to {signed_text(x['ci_high'])})"
                )
        rows.append(cells)
    targets = comparison.targets()
    target_rows = [
        (
            r.scenario,
            r.kpi,
            f"{_op(r.op)} {_num(r.threshold)}",
            _num(r.mean),
            _interval(r.ci_low, r.ci_high),
            _Raw(_badge(r.verdict)),
        )
        for r in targets.itertuples()
    ]
    scenario_rows = [
        (
            label,
            r.scenario.description or "–",
            ", ".join(r.scenario.source) or "–",
            r.scenario.staff.total,
        )
        for label, r in zip(labels, comparison.results, strict=True)
    ]
    experimentation = [
        (
            "Initialisation and run length",
            "; ".join(
                f"{label}: {r.scenario.horizon.warmup_days} warm-up + "
                f"{r.scenario.horizon.days} measured working days"
                for label, r in zip(labels, comparison.results, strict=True)
            ),
        ),
        (
            "Estimation",
            f"{comparison.replications} replications per scenario; 95 % "
            "Student-t intervals; differences from the per-replication differences (paired)",
        ),
        (
            "Seeds",
            f"seed {comparison.seed} for every scenario: replication i of each sees "
            "the same citizens wherever the demand is the same (common random numbers)",
        ),
    ]
    body = [
        _header(
            "Comparison report: " + " vs ".join(labels),
            f"{len(labels)} scenarios, {comparison.replications} replications each, "
            f"seed {comparison.seed}",
            meta,
        ),
        "<h2>Scenarios</h2>",
        _table(("scenario", "description", "sources", "center staff"), scenario_rows, numeric=(3,)),
        "<h2>KPIs side by side</h2>",
        "<p class='small'>A paired difference whose interval excludes 0 is a real "
        "difference, even when the two scenarios' own intervals overlap: both saw the same "
        "citizens.</p>",
        _table(header, rows),
        "<h2>Targets</h2>",
        _table(("scenario", "kpi", "target", "mean", "95 % interval", "verdict"), target_rows)
        if target_rows
        else "<p>No scenario declares targets.</p>",
        "<h2>Picture</h2>",
        *(_img(png, "Scenarios compared", CAPTIONS["compare"]) for png in images.values()),
        "<h2>Data sources</h2>",
        *(
            f"<h3>{_e(label)}</h3>{_sources(r.scenario)}"
            for label, r in zip(labels, comparison.results, strict=True)
        ),
        "<h2>Experimentation and implementation</h2>",
        "<dl class='stress'>"
        + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in experimentation)
        + "</dl>",
        f"<p>Software: {_e(', '.join(f'{k} {v}' for k, v in versions.items()))}.</p>",
        f"<p>To repeat: <code>pasc compare {_e(' '.join(f'{x}.yaml' for x in labels))} "
        f"-r {comparison.replications} --seed {comparison.seed}</code> (the scenarios are "
        "stored in this folder).</p>",
    ]
    return _page("pasc comparison report", body)


def write_comparison_report(
    comparison: Comparison, folder: Path, meta: Mapping[str, Any] | None = None
) -> Path:
    """Save ``compare.png`` and ``report.html`` in ``folder``."""
    from simulator import plots

    folder = Path(folder)
    images = {"compare": figure_png(plots.compare_kpis(comparison))}
    html = comparison_report_html(comparison, images=images, meta=meta)
    return _save_report(folder, images, html)


# -- drawing a folder again ---------------------------------------------------------------


def rebuild_report(folder: str | Path) -> Path:
    """Draw the pictures and ``report.html`` of a run, sizing or comparison folder again
    from its files (no simulation is run); return the report's path."""
    folder = Path(folder)
    kind = folder_kind(folder)
    environment = read_environment(folder)
    if kind == "run":
        result, meta = load_run_folder(folder)
        return write_run_report(result, folder, {**meta, **environment})
    if kind == "size":
        sizing, meta = load_sizing_folder(folder)
        return write_sizing_report(sizing, folder, {**meta, **environment})
    comparison, meta = load_comparison_folder(folder)
    return write_comparison_report(comparison, folder, {**meta, **environment})


__all__ = [
    "CAPTIONS",
    "DOMAIN_LABELS",
    "ENVIRONMENT_FILE",
    "REPORT_FILE",
    "ReportError",
    "comparison_report_html",
    "figure_png",
    "folder_kind",
    "load_comparison_folder",
    "load_run_folder",
    "load_sizing_folder",
    "model_description",
    "rebuild_report",
    "PictureDrawers",
    "picture_processes",
    "run_images",
    "run_metadata",
    "run_report_html",
    "scenario_section",
    "sizing_report_html",
    "software_versions",
    "write_comparison_report",
    "write_run_report",
    "write_sizing_report",
]
