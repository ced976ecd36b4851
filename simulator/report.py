"""Self-contained HTML reports of a run, a sizing or a comparison, in English or Vietnamese.

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

The HTML is made by the Jinja2 templates of ``simulator/templates/report/``
(autoescaped, so a scenario's own text can never inject markup), shared with
the web pages; this module computes what they show. Every word a reader reads
is an English msgid translated from the catalogs of :mod:`simulator.i18n`
(``lang="vi"`` or ``"en"``); file names, CSV columns and JSON keys stay English.

``pasc run`` and ``pasc size`` write ``report.html`` (and the PNGs) into
their folder and record the report's language in ``environment.json``
(``report_lang``); :func:`rebuild_report` (``pasc report FOLDER``) draws them
again from the files in the folder, in that language unless told another, so a
report can be refreshed after an upgrade without running the simulation again.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from markupsafe import Markup

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
from simulator.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    N_,
    Translator,
    translator_for,
)
from simulator.kpis import description as kpi_description
from simulator.kpis import kpi_digits, shown_interval
from simulator.results.verdicts import overall_verdict

if TYPE_CHECKING:
    import jinja2
    from matplotlib.figure import Figure

    from simulator.compare import Comparison
    from simulator.results import RunResult
    from simulator.scenario import Scenario
    from simulator.sizing import SizingResult
    from simulator.sizing_by_hour import HourlySizing, ShiftPlans

REPORT_FILE = "report.html"
DPI = 110
#: Where the report templates are (shared with the web pages' Jinja2 environment).
TEMPLATES = Path(__file__).parent / "templates"
#: The key of ``environment.json`` that records the language of ``report.html``.
LANGUAGE_KEY = "report_lang"

#: What the source labels of docs/domain.md stand for, so that a report names its data.
DOMAIN_LABELS: dict[str, str] = {
    "NATIONAL": N_(
        "Vietnam, July 2025: two-level local government, 3,321 commune-level units, "
        "one Public Administration Service Center per commune, postal agents at the centers"
    ),
    "HUE": N_(
        "Hue: procedures accepted regardless of administrative boundaries; post offices "
        "place staff in dense areas"
    ),
    "TAN-THANH": N_(
        "Tan Thanh commune, Lam Dong, 1–6 July 2025: 52 records received, 45 "
        "returned on time, 5 in progress, 2 rejected as duplicates; VNeID limits online filing"
    ),
    "TAN-LAP": N_(
        "Tan Lap commune, first 7 days: about 30 records, 96.3 % resolved on or before the deadline"
    ),
    "LAM-DONG": N_(
        "Lam Dong province: 124 communes, wards and special zones; early "
        "disruptions (equipment, network, software)"
    ),
    "HANOI": N_(
        "Hanoi, first 3 weeks: 66,000 records received in 126 communes/wards; "
        "priority for vulnerable citizens"
    ),
    "HCMC-9": N_(
        "Ho Chi Minh City pilot: 102 wards/communes, 9 rehearsal scenarios incl. "
        "desk processing of certified copies and records left by the district level"
    ),
    "HOI-AN": N_("Hoi An city, 2024: 31,022 applications, 98.17 % resolved on time"),
    "QN-CONSTRUCTION": N_(
        "Quang Nam Dept. of Construction, 2024: more than 60,000 records, "
        "almost 99.99 % resolved ahead of schedule"
    ),
    "QN-targets": N_(
        "Quang Nam proactive-administration targets: at most 30 minutes handling "
        "and 15 minutes waiting per record; quotas of 1,600 / 1,200 / 800 records per staff "
        "member per year (urban / rural / disadvantaged)"
    ),
    "QN-2024": N_("Quang Nam 2024: resolution-progress index 93.08 %, province score 84.2/100"),
}

#: The verdict words of the reports (the CLI's words in English).
VERDICT_WORDS: dict[str, str] = {
    "pass": N_("pass"),
    "fail": N_("fail"),
    "inconclusive": N_("inconclusive"),
}

#: What the sizing by the hour's verification found (verified or not).
VERIFIED_TEXT: dict[bool, str] = {
    True: N_(
        "Verified with fresh random numbers against every target, the wait target in "
        "every open hour and keeps-up (%(rounds)s rounds)."
    ),
    False: N_(
        "Not verified: with fresh random numbers some target, open hour or keeps-up "
        "still misses after %(rounds)s rounds."
    ),
}

#: The commune classes as the report names them (their keys in English).
CLASS_NAMES: dict[str, str] = {
    "urban": N_("urban"),
    "rural": N_("rural"),
    "disadvantaged": N_("disadvantaged"),
}

#: The titles of the run pictures (:data:`simulator.display.RUN_FIGURES`), as msgids.
FIGURE_TITLES: dict[str, str] = {
    "wait": N_("Walk-in waiting time"),
    "handle": N_("Handle time by procedure field"),
    "hourly": N_("By hour of the day"),
    "queue-heatmap": N_("Queue by day and hour"),
    "backlog": N_("Records in progress over the horizon"),
    "on-time": N_("On-time share by procedure"),
    "staffing-curve": N_("Staffing curve"),
    "compare": N_("Scenarios compared"),
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


# -- language and templates ---------------------------------------------------------------

_TRANSLATOR: ContextVar[Translator | None] = ContextVar("pasc_report_translator", default=None)


def _tr() -> Translator:
    return _TRANSLATOR.get() or translator_for(DEFAULT_LANGUAGE)


def t(message: str, **values: object) -> str:
    """``message`` in the language of the report being drawn (``%(name)s`` filled)."""
    return _tr().gettext(message, **values)


def report_language(lang: str | None = None, meta: Mapping[str, Any] | None = None) -> str:
    """``lang`` if it is one of :data:`simulator.i18n.LANGUAGES`, else the one ``meta``
    records (``report_lang``, as ``environment.json`` keeps it), else that of the
    enclosing :func:`in_language` block, else English."""
    current = _TRANSLATOR.get()
    for candidate in (lang, (meta or {}).get(LANGUAGE_KEY), current and current.lang):
        if candidate in LANGUAGES:
            return str(candidate)
    return DEFAULT_LANGUAGE


@contextlib.contextmanager
def in_language(lang: str | None) -> Iterator[Translator]:
    """Draw the reports of this block in ``lang`` (the default of the functions below)."""
    token = _TRANSLATOR.set(translator_for(report_language(lang)))
    try:
        yield _tr()
    finally:
        _TRANSLATOR.reset(token)


@functools.cache
def template_environment() -> jinja2.Environment:
    """The reports' Jinja2 environment: autoescape on, unknown names an error, ``_()``
    the catalogs' gettext in the language being drawn. (Jinja2 loads here, when a
    report is first drawn: ``pasc run`` needs it only once it has simulated.)"""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["_"] = t
    env.globals["current_lang"] = lambda: _tr().lang
    return env


def _render(template: str, lang: str | None, **context: Any) -> str:
    with in_language(lang) as tr:
        text = (
            template_environment()
            .get_template(template)
            .render(lang=tr.lang, css=Markup(_CSS), **context)
        )
    return text + "\n"


def _fragment(source: str, **context: Any) -> str:
    return template_environment().from_string(source).render(**context)


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


def _local(text: str) -> str:
    """An English-formatted number in the report's language (``1,234.5`` -> ``1.234,5``)."""
    if _tr().lang == "vi":
        return text.translate(str.maketrans(",.", ".,"))
    return text


def _num(x: Any, digits: int = 2) -> str:
    if x is None:
        return "–"
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if abs(x) >= 1000:
        return _local(f"{x:,.0f}")
    if abs(x) >= 100:
        return _local(f"{x:.1f}")
    return _local(f"{x:.{digits}f}")


def _g(x: float) -> str:
    return _local(f"{x:g}")


def _signed(x: Any) -> str:
    return _local(signed_text(x))


def _interval(low: Any, high: Any) -> str:
    return f"{_num(low)} – {_num(high)}"


def _percent(share: float) -> str:
    """A share as a whole percent, without the sign (``0.123`` -> ``12``)."""
    return f"{100 * share:.0f}"


def _hour(hour: int) -> str:
    return f"{hour:02d}"


def _op(op: str) -> str:
    return {"<=": "≤", ">=": "≥"}.get(op, op)


def verdict_word(verdict: str) -> str:
    """The verdict as the report writes it (``pass`` / ``đạt``)."""
    return t(VERDICT_WORDS[verdict]) if verdict in VERDICT_WORDS else str(verdict)


@dataclass(frozen=True)
class Verdict:
    """A table cell: ``text`` followed by a coloured verdict badge."""

    verdict: str
    text: str = ""

    @property
    def word(self) -> str:
        return verdict_word(self.verdict)


def _badge(verdict: str) -> Verdict:
    return Verdict(verdict)


def _picture(png: bytes, title: str, caption: str) -> dict[str, str]:
    data = base64.b64encode(png).decode("ascii")
    return {"src": f"data:image/png;base64,{data}", "title": title, "caption": caption}


def _class_name(commune_class: str) -> str:
    """The commune class: its key in English (as the CLI prints it), its name otherwise."""
    return t(CLASS_NAMES[commune_class]) if commune_class in CLASS_NAMES else commune_class


def _meaning(kpi: str) -> str:
    """What a KPI measures; in a language other than English led by its display name
    (the web pages' name: *Thời gian chờ, phân vị 90 (phút)*)."""
    text = kpi_description(kpi)
    meaning = t(text) if text else ""
    if _tr().lang == DEFAULT_LANGUAGE:
        return meaning
    name = _tr().kpi_name(kpi)
    return meaning if name == kpi else f"{name}: {meaning}" if meaning else name


def _kpi_label(kpi: str) -> str:
    """A KPI in a target row: its key in English (as the files have it), its display
    name and key in another language (``Thời gian chờ, phân vị 90 (phút) (wait_minutes.p90)``)."""
    if _tr().lang == DEFAULT_LANGUAGE:
        return kpi
    name = _tr().kpi_name(kpi)
    return kpi if name == kpi else f"{name} ({kpi})"


#: How to read each picture, in a planner's words (the plot functions' docstrings say more).
CAPTIONS: dict[str, str] = {
    "wait": N_(
        "The share of walk-ins who waited at most x minutes, all replications pooled "
        "(band: 95 % interval across replications). The red dashed line is the wait target, the "
        "dotted line the share the target asks for (90 % for a 90th-percentile target): the "
        "target is met when the curve is above the dotted line where it crosses the dashed one."
    ),
    "handle": N_(
        "For each procedure field, the handle-time statistic the target is about (bar, "
        "with its 95 % interval) and the mean handle time (dot). Each bar is coloured by that "
        "field's own verdict against the target: red or amber fields are where the 30-minute "
        "promise is at risk."
    ),
    "hourly": N_(
        "Each clock hour, averaged over the measured days and the replications (bands and "
        "whiskers: 95 % intervals): walk-in arrivals, walk-ins waiting (time average) and the "
        "busy share of each staff group. Grey stripes are closed periods; walk-ins queued at "
        "closing are still served, which can push utilization above 100 % in the hour of closing."
    ),
    "queue-heatmap": N_(
        "Walk-ins waiting (time average) in each hour of each measured working "
        "day, averaged over replications. A dark column on every day points to the hourly "
        "staffing profile; darkening down the rows points to work carried over from day to day."
    ),
    "backlog": N_(
        "Records filed but not yet resolved at the close of each working day (mean over "
        "replications, band: 95 % interval). A level line means the staff keep up; a rising line "
        "is a backlog that grows every day, whatever the waits at the desk show. Warm-up days are "
        "shaded."
    ),
    "on-time": N_(
        "For each procedure (with its statutory deadline), the share of resolved "
        "records returned on time, with its 95 % interval, coloured by that procedure's own "
        "verdict against the on-time target (red dashed line)."
    ),
    "staffing-curve": N_(
        "Each target's KPI against the number of staff on the sized desks. Dots "
        "are simulated candidates (coloured by verdict, whiskers: 95 % intervals; labels give the "
        "staff per desk group), the red dashed line the target, the star the answer, the grey "
        "dotted line the lower bound (offered load). Dotted stretches of the curve were not "
        "simulated."
    ),
    "compare": N_(
        "Each panel one KPI, each row one scenario: dot the mean, whisker the 95 % "
        "interval, red dashed line the target. With two scenarios the panel title gives the "
        "paired difference B − A and its interval: it is a real difference when that interval "
        "excludes 0, even where the whiskers overlap, because both scenarios saw the same citizens."
    ),
    "by-hour": N_(
        "For one desk group, the staff each open hour needs (bars: the answer, found by "
        "simulation) against the plain hour-by-hour Erlang C answer and the staff scheduled. "
        "Grey stripes are closed hours."
    ),
    "wait-by-hour": N_(
        "The wait quantile of the target in each open hour, with its 95 % interval, for "
        "the answer verified with fresh random numbers; the red dashed line is the target. An "
        "hour whose whole interval is below the line passes."
    ),
    "roster": N_(
        "The shift plan of one desk group: each row one shift, the bars the hours its "
        "staff are on duty, against the staff each hour needs."
    ),
}


# -- scenario and model description -------------------------------------------------------


def _dist(d: Any) -> str:
    if d is None:
        return "–"
    data = d.model_dump(by_alias=True) if hasattr(d, "model_dump") else dict(d)
    kind = data.pop("dist", "?")
    if "values" in data:
        return t(
            "%(kind)s (%(n)s values, mean %(mean)s)",
            kind=kind,
            n=len(data["values"]),
            mean=_num(d.mean),
        )
    return f"{kind} (" + ", ".join(f"{k} {_g(v)}" for k, v in data.items()) + ")"


def _deadline(days: int) -> str:
    if days == 0:
        return t("same day")
    if days == 1:
        return t("1 working day")
    return t("%(n)s working days", n=days)


def _sources(sc: Scenario) -> dict[str, Any]:
    rows = [
        (
            f"[{label}]",
            t(DOMAIN_LABELS[label])
            if label in DOMAIN_LABELS
            else t("a citation given by the scenario"),
        )
        for label in sc.source or ()
    ]
    return {"rows": rows}


def _scenario_tables(sc: Scenario) -> dict[str, Any]:
    from simulator.scenario import scenario_to_yaml

    cal = sc.calendar
    sessions = t("open 24 h (continuous)") if cal.type == "continuous" else ", ".join(cal.sessions)
    channels = ", ".join(
        f"{c.replace('_', '-')} {100 * s:.0f} %" for c, s in sc.demand.channels.as_dict().items()
    )
    staff_desks = "; ".join(f"{d.name}: {d.count} ({', '.join(d.fields)})" for d in sc.staff.desks)
    general = [
        (
            t("commune class"),
            t(
                "%(cls)s (quota %(quota)s records per staff member per year)",
                cls=_class_name(sc.commune.class_),
                quota=_local(f"{sc.commune.quota:,.0f}"),
            ),
        ),
        (
            t("calendar"),
            t(
                "%(type)s; %(weekdays)s; %(sessions)s; %(minutes)s open minutes a day",
                type=cal.type,
                weekdays=", ".join(cal.weekdays),
                sessions=sessions,
                minutes=cal.open_minutes_per_day,
            ),
        ),
        (t("same-day cut-off"), cal.same_day_cutoff or t("closing time")),
        (
            t("horizon"),
            t(
                "%(days)s measured working days after %(warmup)s warm-up days",
                days=sc.horizon.days,
                warmup=sc.horizon.warmup_days,
            ),
        ),
        (
            t("demand"),
            t(
                "%(n)s records per working day; %(channels)s",
                n=_g(sc.demand.records_per_day),
                channels=channels,
            ),
        ),
        (
            t("priority citizens"),
            t("%(share)s %% of walk-ins", share=_percent(sc.demand.priority_share)),
        ),
        (t("hourly profile"), _profile_text(sc)),
        (
            t("staff"),
            t(
                "%(total)s center staff; %(desks)s; back office %(back)s; postal agents %(postal)s",
                total=sc.staff.total,
                desks=staff_desks,
                back=sc.staff.back_office,
                postal=sc.staff.postal_agents,
            ),
        ),
    ]
    procedures = [
        (
            p.id,
            p.field,
            f"{100 * p.share:.0f} %",
            _dist(p.intake_minutes),
            _dist(p.processing_minutes),
            _deadline(p.deadline_working_days),
            f"{100 * p.reject_share:.0f} %",
            ", ".join(p.channels) if p.channels else t("all"),
        )
        for p in sc.procedures
    ]
    targets = [
        (_kpi_label(tg.kpi), f"{_op(tg.op)} {_kpi_num(tg.kpi, tg.threshold)}") for tg in sc.targets
    ]
    return {
        "description": sc.description,
        "general": general,
        "procedures": procedures,
        "targets": targets,
        "yaml": scenario_to_yaml(sc),
    }


def scenario_section(sc: Scenario, lang: str | None = None) -> str:
    """The scenario as tables: commune, calendar, demand, staff, procedures, targets."""
    with in_language(lang or _tr().lang):
        return _fragment(
            '{% from "report/_scenario.html" import scenario %}{{ scenario(s) }}',
            s=_scenario_tables(sc),
        )


def _profile_text(sc: Scenario) -> str:
    weights = sc.profile_weights()
    if len(set(weights.values())) <= 1:
        return t("flat over the open hours")
    total = sum(weights.values()) or 1.0
    peak = max(weights, key=weights.get)
    kind = (
        t("office-default") if sc.demand.hourly_profile in (None, "office-default") else t("custom")
    )
    return t(
        "%(kind)s; busiest hour %(hour)s:00 (%(share)s %% of a day's walk-ins)",
        kind=kind,
        hour=_hour(peak),
        share=_percent(weights[peak] / total),
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
            t(
                "walk-ins leave when their wait exceeds their patience (%(dist)s); "
                "%(share)s %% of them come back the next working day",
                dist=_dist(demand.patience_minutes),
                share=_percent(back),
            )
        )
    else:
        off.append(t("no citizen leaves the queue (no patience set: no abandonment)"))
    fallback = getattr(demand, "online_fallback_share", 0.0)
    if fallback:
        on.append(
            t(
                "%(share)s %% of would-be online filers walk in instead [TAN-THANH]",
                share=_percent(fallback),
            )
        )
    if any(getattr(p, "rework", None) for p in sc.procedures):
        on.append(t("incomplete dossiers are sent back and some return with a supplement"))
    else:
        off.append(t("every dossier accepted at intake is complete (no rework)"))
    if any(getattr(p, "linked_steps", None) for p in sc.procedures):
        on.append(t("interconnected procedures wait for steps at other agencies"))
    absence = getattr(staff, "absence_share", 0.0)
    if absence:
        on.append(
            t(
                "each staff member is absent on %(share)s %% of working days",
                share=_percent(absence),
            )
        )
    else:
        off.append(t("staff are always present while open (no absences)"))
    if getattr(staff, "learning_curve", None) is not None:
        lc = staff.learning_curve
        on.append(
            t(
                "newly assigned staff are slower: times × %(factor)s on day one, falling to "
                "× 1 after %(days)s working days [TAN-THANH]",
                factor=_g(lc.initial_factor),
                days=lc.working_days,
            )
        )
    if getattr(sc, "backlog", None):
        n = sum(item.count for item in sc.backlog)
        on.append(t("%(n)s records handed over from the district level on day one [HCMC-9]", n=n))
    if getattr(sc, "disruptions", None):
        on.append(
            t(
                "outages: %(names)s [TAN-THANH] [LAM-DONG]",
                names=", ".join(d.name for d in sc.disruptions),
            )
        )
    else:
        off.append(t("no equipment, network or power outage"))
    off.append(t("weekends and holidays are not simulated: working days run back to back"))
    return on, off


def _model(
    sc: Scenario,
    *,
    purpose: str,
    experimentation: Sequence[tuple[str, str]],
    versions: Mapping[str, str],
    reproduce: str,
) -> dict[str, Any]:
    staff = ", ".join(f"{d.name} {d.count}" for d in sc.staff.desks)
    slice_minutes = getattr(sc.staff, "back_office_slice_minutes", 15)
    back_office = (
        t("%(n)s dedicated back-office staff", n=sc.staff.back_office)
        if sc.staff.back_office
        else t(
            "desk staff when no walk-in waits, in slices of %(minutes)s minutes",
            minutes=_g(slice_minutes),
        )
    )
    targets = "; ".join(
        f"{tg.kpi} {_op(tg.op)} {_kpi_num(tg.kpi, tg.threshold)}" for tg in sc.targets
    ) or t("none")
    on, off = _features(sc)
    version_text = ", ".join(
        f"{k} {v}" for k, v in versions.items() if k not in ("platform", "cpus")
    )
    return {
        "objectives": [
            (t("Purpose"), purpose),
            (
                t("Outputs"),
                t(
                    "walk-in wait (mean and percentiles), handle time at the desk, time in "
                    "center, on-time share, records filed/completed/rejected/in progress/"
                    "abandoned, staff utilization, records per staff-year, queue length; each "
                    "as a mean over replications with a 95 % confidence interval"
                ),
            ),
            (
                t("Experimentation aims"),
                t(
                    "a verdict for each target: %(targets)s. A target passes when the whole "
                    "interval meets it, fails when the whole interval misses it, and is "
                    "inconclusive otherwise",
                    targets=targets,
                ),
            ),
        ],
        "logic": [
            (
                t("Overview"),
                t(
                    "citizens file records by three channels (walk-in, online, postal) → "
                    "walk-ins queue at a desk group covering the procedure's field → intake at "
                    "the desk (the handle time) → records needing processing join the "
                    "back-office queue → the result is returned; rejected records end at intake"
                ),
            ),
            (t("Entities"), t("records (one filing of one procedure) and walk-in citizens")),
            (
                t("Activities"),
                t(
                    "intake at the desk (intake_minutes), back-office processing "
                    "(processing_minutes), postal intake by the postal agents"
                ),
            ),
            (
                t("Resources"),
                t(
                    "desk groups: %(staff)s; back office: %(back)s; postal agents: %(postal)s",
                    staff=staff,
                    back=back_office,
                    postal=sc.staff.postal_agents,
                ),
            ),
            (
                t("Queues"),
                t(
                    "walk-ins: priority citizens first, then first come first served, "
                    "non-preemptive, at the desk group with the shortest expected wait; back "
                    "office: earliest deadline first, worked only while open"
                ),
            ),
            (
                t("Entry and exit"),
                t(
                    "walk-in and postal records arrive while open following the hourly "
                    "profile (non-homogeneous Poisson process), online records around the "
                    "clock; citizens queued at closing are still served; a record leaves at "
                    "its result or its rejection"
                ),
            ),
            (
                t("Switched on in this scenario"),
                "; ".join(on)
                or t(
                    "none of the optional mechanisms (abandonment, rework, absences, outages, "
                    "handed-over backlog)"
                ),
            ),
            (t("Simplifications"), "; ".join(off)),
        ],
        "sources": _sources(sc),
        "data": [
            (
                t("Input parameters"),
                t(
                    "the tables of the Scenario section; times in minutes, deadlines in "
                    "working days"
                ),
            ),
            (
                t("Assumptions"),
                t(
                    "values that no source label above reports are the scenario author's "
                    "assumptions (the scenario file's comments say which)"
                ),
            ),
            (
                t("Pre-processing"),
                t(
                    "none: the scenario is validated and used as written, and stored resolved "
                    "(after extends:) as scenario.yaml"
                ),
            ),
        ],
        "experimentation": list(experimentation),
        "implementation": [
            (t("Software"), version_text),
            (
                t("Random sampling"),
                t(
                    "NumPy PCG64 generators, one per source of randomness (arrivals per "
                    "channel, procedure mix, each procedure's times, ...), spawned from "
                    "SeedSequence(seed, (replication, crc32(source name))): a replication is a "
                    "pure function of (scenario, seed, replication), and changing staff never "
                    "shifts the citizens (common random numbers)"
                ),
            ),
            (
                t("Model execution"),
                t(
                    "SimPy discrete-event simulation (process interaction); replications may "
                    "run in parallel processes without changing any number; percentiles from a "
                    "log histogram with relative error below 0.25 %"
                ),
            ),
            (
                t("System"),
                t(
                    "%(platform)s, %(cpus)s CPUs",
                    platform=versions.get("platform", "?"),
                    cpus=versions.get("cpus", "?"),
                ),
            ),
        ],
        "version": versions.get("pasc", "?"),
        "reproduce": reproduce,
    }


def model_description(
    sc: Scenario,
    *,
    purpose: str,
    experimentation: Sequence[tuple[str, str]],
    versions: Mapping[str, str],
    reproduce: str,
    lang: str | None = None,
) -> str:
    """The STRESS-DES sections: objectives, logic, data, experimentation, implementation,
    code access. ``experimentation`` lists (item, text) pairs specific to the kind of study."""
    with in_language(lang or _tr().lang):
        return _fragment(
            '{% from "report/_model.html" import model %}{{ model(m) }}',
            m=_model(
                sc,
                purpose=purpose,
                experimentation=experimentation,
                versions=versions,
                reproduce=reproduce,
            ),
        )


# -- run reports --------------------------------------------------------------------------


def _header(title: str, subtitle: str, meta: Mapping[str, Any]) -> dict[str, str]:
    created = meta.get("created") or datetime.now().isoformat(timespec="seconds")
    version_text = meta.get("versions", {}).get("pasc") or meta.get("pasc_version", "?")
    return {"title": title, "subtitle": subtitle, "created": created, "version": version_text}


def _whole_run(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary without the hour-by-hour KPIs (``wait_minutes.p90@08``), which stay
    in the folder's files; per-hour targets show their worst hour instead."""
    return summary[~summary["kpi"].astype(str).str.contains("@", regex=False)]


def _target_label(r: Any) -> str:
    label = t("keeps up (backlog growth per day)") if r.kpi == "keeps_up" else _kpi_label(r.kpi)
    hour = getattr(r, "hour", None)
    if getattr(r, "per", "run") == "hour" and hour is not None and not pd.isna(hour):
        label += f" [{int(hour):02d}:00]"  # a per-hour target: its worst hour
    return label


def _targets_table(targets: pd.DataFrame) -> dict[str, Any]:
    rows = [
        (
            _target_label(r),
            f"{_op(r.op)} {_kpi_num(r.kpi, r.threshold)}",
            _kpi_num(r.kpi, r.mean),
            _kpi_interval(r.kpi, r.ci_low, r.ci_high),
            _badge(r.verdict),
        )
        for r in targets.itertuples()
    ]
    header = (t("kpi"), t("target"), t("mean"), t("95 % interval"), t("verdict"))
    return {"header": header, "rows": rows}


def _verdict_banner(targets: pd.DataFrame) -> dict[str, str]:
    if targets.empty:
        return {
            "verdict": "inconclusive",
            "word": "",
            "detail": "",
            "text": t("The scenario declares no targets."),
        }
    overall = overall_verdict(list(targets["verdict"]))
    counts = targets["verdict"].value_counts()
    detail = ", ".join(
        f"{counts.get(v, 0)} {verdict_word(v)}" for v in ("pass", "fail", "inconclusive")
    )
    text = {
        "pass": N_("Every target is met: each confidence interval lies on the right side."),
        "fail": N_(
            "At least one target is missed: its whole confidence interval is on the wrong side."
        ),
        "inconclusive": N_(
            "No target fails, but at least one interval straddles its threshold: run more "
            "replications before deciding."
        ),
    }[overall]
    return {"verdict": overall, "word": verdict_word(overall), "text": t(text), "detail": detail}


def _kpi_table(summary: pd.DataFrame) -> dict[str, Any]:
    rows = [
        (
            r.kpi,
            _meaning(r.kpi),
            _kpi_num(r.kpi, r.mean),
            _kpi_interval(r.kpi, r.ci_low, r.ci_high),
            _num(r.sd, kpi_digits(r.kpi)),
            int(r.n),
        )
        for r in summary.itertuples()
    ]
    header = (t("kpi"), t("meaning"), t("mean"), t("95 % interval"), t("sd"), t("n"))
    return {"header": header, "rows": rows}


#: Environment variable: processes drawing a run's pictures (1: in this process).
PICTURE_PROCESSES_ENV = "PASC_PICTURE_PROCESSES"


def picture_processes() -> int:
    """How many processes draw a run's pictures: ``PASC_PICTURE_PROCESSES``, else two
    where two cores are free right now. Drawing six pictures takes longer than
    simulating a small scenario, and the pictures are independent, so two
    processes halve that wait; but forked copies cost CPU of their own (a third
    more in all: each copies the memory pages it touches), which is time lost
    when no core is idle: then this process draws them."""
    text = os.environ.get(PICTURE_PROCESSES_ENV)
    if text:
        try:
            return max(1, int(text))
        except ValueError:
            return 1
    return max(1, min(2, (os.cpu_count() or 1) - _others_running()))


def _others_running() -> int:
    """How many other processes (or threads) are running or ready to run right now:
    Linux's ``/proc/loadavg`` (whose count includes this one); 0 where it cannot
    be read."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            running = int(f.read().split()[3].partition("/")[0])
    except (OSError, ValueError, IndexError):
        return 0
    return max(0, running - 1)


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


def _stop_signals() -> set[int]:
    """The signals held back while a drawer is forked (see :meth:`PictureDrawers.__enter__`)."""
    import signal

    return {signal.SIGINT, signal.SIGTERM}


def _drawer_ready() -> None:
    """A drawing process: leaves Ctrl-C to the parent (which stops it), ends quietly on
    SIGTERM (it inherits the handlers of ``pasc``, which raise and print), and only
    then lets those signals in (they were held back while it was forked, so that
    no inherited handler can ever run here), and loads matplotlib and the
    pictures' module at once (while its parent is still simulating), then puts
    all it holds out of reach of the garbage collector (see :func:`_frozen_heap`)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _stop_signals())
    # What it loads (and has inherited) lives as long as it does: out of reach of its
    # collections (they walk only what drawing makes) and of its siblings'.
    from simulator.lifetime import kept_for_life

    with kept_for_life():
        from simulator import plots
    with contextlib.suppress(Exception):  # only ever a gain of time
        plots.warm_up(DPI)


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """While this process forks: all it holds out of reach of the garbage collector
    (``gc.freeze``), so that the copy's collections never walk, and so never copy,
    the memory pages it shares with this process (each walk writes to every object
    it visits: a fraction of a second of page copies in a copy of a loaded
    ``pasc``); this process's own collections take them in again at once. Not in
    a process that keeps frozen objects of its own (``pasc`` freezes what it
    loads), which this would take in again too: there the copy walks only what
    was made since."""
    import gc

    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _draw_pngs(result: RunResult, names: list[str]) -> list[bytes]:
    from simulator import plots

    return [figure_png(plots.run_figure(result, name)) for name in names]


#: The templates of the run report (``run.html`` and what it extends and imports).
_RUN_TEMPLATES = (
    "report/run.html",
    "report/base.html",
    "report/_macros.html",
    "report/_scenario.html",
    "report/_model.html",
)


def _prepare_run_report(lang: str) -> None:
    """Compile the run report's templates and load the catalog of ``lang`` (both kept:
    :func:`template_environment` caches templates, :func:`translator_for` catalogs),
    work the report needs anyway, done while the drawers draw rather than after."""
    import jinja2

    env = template_environment()
    for name in _RUN_TEMPLATES:
        with contextlib.suppress(jinja2.TemplateNotFound):
            env.get_template(name)
    translator_for(lang)


class _DrawerTraceback(Exception):
    """The traceback of an exception raised in a drawing process (its ``__cause__``
    in this one, as :mod:`multiprocessing.pool` does)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def _failure(exc: BaseException) -> tuple[str, BaseException, str]:
    """A drawing process's exception as a message: the exception itself when it can be
    pickled, else a :class:`RuntimeError` naming it, and its traceback's text."""
    import pickle
    import traceback

    text = "".join(traceback.format_exception(exc))
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    return ("error", exc, text)


def _answer(conn: Any, work: Any, *args: Any) -> None:
    """Send ``("ok", work(*args))`` on ``conn``, or the failure if ``work`` raises; a
    reader that has gone (its end closed: the parent stopped) is no error."""
    try:
        message: tuple[Any, ...] = ("ok", work(*args))
    except Exception as exc:
        message = _failure(exc)
    with contextlib.suppress(OSError):
        conn.send(message)


def _draw_with_siblings(result: RunResult, first: list[str], readers: list[Any]) -> list[Any]:
    """The first drawer's share of ``result`` drawn here, then each sibling's answer
    (read from ``readers``), in share order; a sibling's failure is raised again."""
    drawn = [_draw_pngs(result, first)]
    for reader in readers:
        try:
            status, *answer = reader.recv()
        except EOFError:
            raise RuntimeError("a picture drawer stopped without an answer") from None
        if status != "ok":
            exc, text = answer
            raise exc from _DrawerTraceback(text)
        drawn.append(answer[0])
    return drawn


def _fork_sibling(result: RunResult, names: list[str], keep: Any) -> tuple[int, Any]:
    """Fork a copy of this drawer that draws ``names`` of ``result`` (both inherited,
    so nothing is imported or sent again) and answers on a pipe of its own; return
    its process id and the pipe's reading end. ``keep`` are the connections the
    copy must close (its parent's and its elder siblings'), so that an end of file
    on any of them still means that their writer has gone."""
    import multiprocessing
    import signal

    reader, writer = multiprocessing.Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the sibling: draw, answer, leave without running any exit handler
        code = 1
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            for conn in (*keep, reader):
                conn.close()
            _answer(writer, _draw_pngs, result, names)
            code = 0
        finally:
            os._exit(code)
    writer.close()
    return pid, reader


def _drawer_main(conn: Any, other_end: Any) -> None:
    """The first drawing process, forked before the simulation: loads the pictures'
    module (matplotlib) while its parent simulates, then serves runs until its
    parent closes the connection or sends ``None``.

    For each run (``(result, shares)``, the run pickled once) it forks one
    sibling per share after the first, which inherits matplotlib and the run by
    copy-on-write, draws its share itself, and answers with every share's PNGs.
    Before that, while the run simulates, it may be handed the run's records a
    replication at a time (``(RECORDS, index, columns, path)``), which it
    writes to ``path`` as the run folder's records table, and ``(RECORDS_END,)``,
    which it answers with ``(RECORDS_END, written)``.
    A SIGTERM (:meth:`PictureDrawers.__exit__` on Ctrl-C) stops the siblings
    too, quietly: none outlives its drawer."""
    import signal

    other_end.close()  # the parent's end: an end of file means the parent has gone
    _drawer_ready()
    siblings: list[int] = []
    records = _RecordsWriter()

    def stop(signum: int, frame: Any) -> None:
        records.abandon()
        for pid in siblings:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        for pid in siblings:
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            job = None  # the parent has gone
        if job is None:
            records.abandon()
            return
        tag = job[0] if isinstance(job[0], str) else None
        if tag == RECORDS:
            records.add(*job[1:])
            continue
        if tag == RECORDS_END:
            with contextlib.suppress(OSError):
                conn.send((RECORDS_END, records.finish()))
            continue
        result, shares = job
        readers = []
        # SIGTERM waits while a sibling is forked, so that none escapes `stop`.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        try:
            for share in shares[1:]:
                pid, reader = _fork_sibling(result, share, (conn, *readers))
                siblings.append(pid)
                readers.append(reader)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        try:
            _answer(conn, _draw_with_siblings, result, shares[0], readers)
        finally:
            for pid in siblings:  # done, or not needed after a failure
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGTERM)
                    os.waitpid(pid, 0)
            siblings.clear()
            for reader in readers:
                reader.close()


#: The tags of the records' messages to a drawer and of its answer (see _drawer_main).
RECORDS, RECORDS_END = "records", "records-end"
#: Records handed over to a drawer (pickled bytes) beyond which the rest of the table is
#: written by the main process: the drawer must not hold much more in waiting.
RECORDS_HANDED_OVER_MAX = 128 * 2**20


class _RecordsWriter:
    """A drawer's records table: the replications' records, written as they come
    (:class:`simulator.artifacts.RecordsTableFile`), in replication order from 0;
    any trouble (a replication out of order, a table it cannot write, an error)
    abandons the file, and the parent then writes the table itself."""

    def __init__(self) -> None:
        self.file: Any = None
        self.next = 0  # the replication expected next
        self.rows = 0  # written so far
        self.failed = False

    def add(self, index: int, columns: dict[str, Any], path: str) -> None:
        if self.failed:
            return
        try:
            from simulator.artifacts import RecordsTableFile
            from simulator.model import RECORD_COLUMNS
            from simulator.results.timeline import table_frame

            if self.file is None:
                self.file = RecordsTableFile(path)
            part = table_frame([columns], RECORD_COLUMNS, index)
            if index != self.next or not self.file.add(part):
                raise ValueError(f"replication {index}'s records cannot be written here")
            self.next += 1
            self.rows += len(part)
        except Exception:
            self.failed = True
            self.abandon()

    def finish(self) -> int:
        """Close the file; the rows it holds (-1: it was abandoned, or never begun)."""
        file, self.file = self.file, None
        rows = -1 if self.failed or file is None else self.rows
        self.failed, self.next, self.rows = False, 0, 0
        if rows >= 0:
            try:
                file.close()
            except Exception:
                file.abandon()
                rows = -1
        return rows

    def abandon(self) -> None:
        """Delete the file being written, if any (the parent will not take it)."""
        file, self.file = self.file, None
        if file is not None:
            with contextlib.suppress(Exception):
                file.abandon()


def _send_all(conn: Any, outbox: Any) -> None:
    """Write the payloads of ``outbox`` to a drawer, in order, until ``None`` (a drawer
    gone is no error here: the rest are dropped, and it is
    :meth:`PictureDrawers.images` that says so)."""
    gone = False
    while (payload := outbox.get()) is not None:
        if not gone:
            try:
                conn.send_bytes(payload)
            except OSError:
                gone = True


class PictureDrawers:
    """Processes that draw a run's pictures while the rest of the run goes on.

    The pictures of a small run take longer to draw than the run takes to
    simulate, and they are independent of each other and of the files, so
    ``pasc run`` starts drawing *before* simulating, hands the finished run
    over with :meth:`start`, writes its tables meanwhile, and collects the
    PNGs in :meth:`write_run_report` (a ``render`` for
    :func:`simulator.artifacts.write_run_folder`)::

        with PictureDrawers() as drawers:
            result = simulator.run(sc)
            drawers.start(result)
            write_run_folder(result, root, render=drawers.write_run_report)

    **One drawer, forked early; its siblings forked late.** Entering forks a
    single drawing process, which imports matplotlib (about a second of CPU) on
    the core the simulation leaves idle. :meth:`start` pickles the run to it
    once; only then does it fork its ``processes - 1`` siblings, which inherit
    matplotlib and the run by copy-on-write: no second import competing with
    the simulation for the cores, no second copy of the run through a pipe.
    The pictures are split among them (every ``processes``-th one, so the
    costly hourly picture shares with cheap ones) and come back to this
    process through the first drawer.

    Ctrl-C or SIGTERM here ends the drawers (:meth:`__exit__` sends them
    SIGTERM; the first drawer takes its siblings with it), quietly; an
    exception raised while drawing is raised again here, by :meth:`images`,
    with the drawer's traceback as its cause; a drawer that dies makes
    :meth:`images` raise :class:`RuntimeError`. Nothing waits forever.

    The drawers are forked only where forking is safe (see :func:`_can_fork`)
    and ``processes`` (default :func:`picture_processes`) is above 1;
    otherwise the pictures are drawn in this process, one after the other.
    The bytes are the same either way.
    """

    def __init__(self, processes: int | None = None, *, records_dir: Path | None = None):
        self.processes = picture_processes() if processes is None else processes
        self._drawer: Any = None  # the first drawing process
        self._conn: Any = None  # this process's end of its connection
        # (run, its pictures in report order, the order they are drawn in)
        self._pending: tuple[RunResult, list[str], list[str]] | None = None
        self._stale = 0  # answers still to come for runs no longer wanted
        self._sender: Any = None  # the thread writing this process's messages to the drawer
        self._outbox: Any = None  # the messages it writes, in order
        self._records: str | None = None  # the records table the drawer is writing
        self._records_next = 0  # the replication whose records it expects next
        self._records_answer: tuple[Any, ...] | None = None  # (RECORDS_END, rows written)
        self._records_ended = False  # RECORDS_END sent
        self._records_spoiled = False  # the drawer's table is not to be taken
        self._records_bytes = 0  # handed over so far
        #: Where the drawer writes the records table before it goes into the run folder
        #: (best beside it: the same file system; None: the system's temporary folder).
        self.records_dir = records_dir
        self._early: list[tuple[Any, ...]] = []  # pictures' answers read before their turn

    @property
    def _pool(self) -> Any:
        """The first drawing process, or None when the pictures are drawn here (the
        name is that of the multiprocessing pool that came before it)."""
        return self._drawer

    def __enter__(self) -> PictureDrawers:
        if self.processes > 1 and _can_fork():
            import multiprocessing
            import signal

            context = multiprocessing.get_context("fork")
            mine, theirs = context.Pipe()
            drawer = context.Process(
                target=_drawer_main, args=(theirs, mine), name="pasc-drawer", daemon=True
            )
            # Ctrl-C and SIGTERM wait while the drawer is forked: a copy of this process
            # must never run the handlers it inherits (``pasc``'s raise, and the raise
            # would unwind this process's code in the copy); _drawer_ready lets them in.
            held = signal.pthread_sigmask(signal.SIG_BLOCK, _stop_signals())
            try:
                with _frozen_heap():
                    drawer.start()
                self._drawer, self._conn = drawer, mine
            finally:
                theirs.close()  # so that the drawer's end of file is seen here
                try:
                    signal.pthread_sigmask(signal.SIG_SETMASK, held)  # one held back: now
                except BaseException as exc:  # it raised: stop the drawer, then go on
                    self.__exit__(type(exc), exc, None)
                    raise
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        drawer, conn, pending = self._drawer, self._conn, self._pending
        self._drawer = self._conn = self._pending = None
        records, self._records = self._records, None
        if drawer is None:
            return
        try:
            if exc_type is None and pending is None and not self._stale and records is None:
                self._finish_sending()  # ends once the drawer has read it all
                with contextlib.suppress(OSError):
                    conn.send(None)  # idle: let it end by itself
            else:  # interrupted, or work nobody will collect: stop now
                drawer.terminate()
            drawer.join()
        finally:
            self._finish_sending()  # ends once the drawer has read it, or has gone
            conn.close()
            if records is not None:  # a records table nobody took
                with contextlib.suppress(OSError):
                    os.unlink(records)

    def write_records(self, index: int, output: Any) -> None:
        """Hand the records of replication ``index`` (its raw output, as
        :func:`simulator.run`'s ``each`` gives it) to the drawer, which writes them as
        the run folder's records table while the next replications simulate (the
        second core is idle then); :meth:`write_records_table` collects the file.

        For one run at a time whose replications finish in order from 0, handed
        over before the run itself (:meth:`start`); anything else (and any
        trouble here) leaves the table to :meth:`write_records_table`, which then
        writes it in this process. Never raises: the run goes on."""
        table = getattr(output, "records", None)
        if self._drawer is None or table is None:
            return
        try:
            if index == 0 and self._records is not None:
                self._records_spoiled = True  # a second run: its table is written here
            if self._records is None:
                if index != 0 or self._pending is not None or self._stale:
                    return
                self._open_records()
            if self._records_spoiled or index != self._records_next:
                self._records_spoiled = True  # out of order: written here
                return
            size = self._post((RECORDS, index, table, self._records))
            self._records_next += 1
            self._records_bytes += size
            if self._records_bytes > RECORDS_HANDED_OVER_MAX:
                self._records_spoiled = True  # more than the drawer should hold in waiting
        except Exception:
            self._records_spoiled = True

    def _open_records(self) -> None:
        import tempfile

        directory = self.records_dir
        if directory is not None:
            Path(directory).mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix=".pasc-records-", suffix=".csv.gz", dir=directory)
        os.close(fd)
        self._records, self._records_next, self._records_bytes = path, 0, 0
        self._records_answer, self._records_ended, self._records_spoiled = None, False, False

    def write_records_table(self, folder: Path, table: Any) -> Path:
        """``folder/records.csv.gz``: the file the drawer wrote (:meth:`write_records`),
        when it holds every record of ``table``, else written here (the same bytes
        either way: :func:`simulator.artifacts.write_records_table`)."""
        import shutil

        from simulator.artifacts import RECORDS_FILE, umask, write_records_table

        path = self._records
        if path is None:
            return write_records_table(folder, table)
        answer = self._records_done()  # None: no answer (the drawer has gone)
        # The drawer has closed the file, or is gone: this process may take it now.
        self._records = None
        try:
            # Every replication with records was handed over (those after the last one
            # with records add no line), and every row written.
            whole = table.empty or int(table["replication"].max()) < self._records_next
            if answer is not None and answer == len(table) and whole and not self._records_spoiled:
                os.chmod(path, 0o666 & ~umask())  # as any new file (mkstemp made it 0600)
                return Path(shutil.move(path, folder / RECORDS_FILE))
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return write_records_table(folder, table)

    def _end_records(self) -> None:
        """Tell the drawer that the run's records are all handed over (once)."""
        if self._records is not None and not self._records_ended:
            self._records_ended = True
            self._post((RECORDS_END,))

    def _records_done(self) -> int | None:
        """The rows the drawer wrote to its records table (-1: it gave up; None: it has
        gone without answering)."""
        self._end_records()
        try:
            return int(self._receive(records=True)[1])
        except (EOFError, OSError):
            return None

    def _post(self, message: Any) -> int:
        """Send ``message`` to the drawer without waiting for it to read (pickled here, a
        few milliseconds; written in order by a thread, since the drawer reads only
        once matplotlib is loaded, and this process has a run to simulate); return
        its size in bytes."""
        import pickle
        import queue
        import threading

        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        if self._sender is None:
            outbox: Any = queue.SimpleQueue()
            sender = threading.Thread(
                target=_send_all, args=(self._conn, outbox), name="pasc-drawer-send", daemon=True
            )
            sender.start()
            self._sender, self._outbox = sender, outbox
        self._outbox.put(payload)
        return len(payload)

    def start(self, result: RunResult) -> None:
        """Start drawing every picture of ``result`` (returns at once)."""
        if self._drawer is None:
            return
        names = run_figure_names(result)
        shares = [share for i in range(self.processes) if (share := names[i :: self.processes])]
        # The first share (with the costly hourly picture) to a sibling: the first
        # drawer, which also reads the run, forks the siblings and gathers their
        # answers, draws the last, the lightest.
        shares.reverse()
        if self._pending is not None:
            self._stale += 1  # its answer will come first: to be skipped
        self._pending = None
        self._end_records()  # the records table first: the run folder wants it before
        if not shares:
            return
        self._post((result, shares))
        self._pending = (result, names, [n for share in shares for n in share])

    def _finish_sending(self) -> None:
        """Wait until the drawer has read every message sent (or has gone)."""
        sender, self._sender = self._sender, None
        if sender is not None:
            self._outbox.put(None)
            sender.join()

    def _stopped_message(self) -> str:
        self._drawer.join(timeout=1)
        return f"the picture drawer stopped (exit code {self._drawer.exitcode})"

    def _receive(self, *, records: bool = False) -> tuple[Any, ...]:
        """The drawer's next answer about the pictures, or (``records``) its answer about
        the records table; the other kind, read on the way, is kept for its turn (the
        records' answer comes first, as it was asked first, unless it was not asked
        for). Not waiting for the sender first: the drawer may be blocked writing an
        answer while the sender is blocked writing to it."""
        while True:
            if records and self._records_answer is not None:
                answer, self._records_answer = self._records_answer, None
                return answer
            if not records and self._early:
                return self._early.pop(0)
            message = self._conn.recv()
            if message[0] == RECORDS_END:
                self._records_answer = message
            else:
                self._early.append(message)

    def _answer(self) -> tuple[Any, ...]:
        try:
            return self._receive()
        except EOFError:
            raise RuntimeError(self._stopped_message()) from None

    def images(self, result: RunResult) -> dict[str, bytes]:
        """The PNG bytes of every picture of ``result``, keyed as
        :data:`simulator.plots.RUN_FIGURES` (those started, or drawn now)."""
        if self._pending is None or self._pending[0] is not result:
            self.start(result)
        if self._pending is None:  # no drawing process (or no picture): draw here
            from simulator import plots

            names = run_figure_names(result)
            return {name: figure_png(plots.run_figure(result, name)) for name in names}
        _, names, order = self._pending
        while self._stale:
            self._answer()
            self._stale -= 1
        status, *answer = self._answer()
        self._pending = None
        if status != "ok":
            error, text = answer
            raise error from _DrawerTraceback(text)
        drawn = dict(zip(order, [png for share in answer[0] for png in share], strict=True))
        return {name: drawn[name] for name in names}

    def write_run_report(
        self,
        result: RunResult,
        folder: Path,
        meta: Mapping[str, Any] | None = None,
        *,
        lang: str | None = None,
    ) -> Path:
        """:func:`write_run_report` with the pictures of these drawers (while they
        finish drawing, this process makes ready what the report needs anyway)."""
        if self._pending is not None and self._pending[0] is result:
            _prepare_run_report(report_language(lang, meta))
        return write_run_report(result, folder, meta, images=self.images(result), lang=lang)


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
    lang: str | None = None,
) -> str:
    """The HTML report of a run: verdicts, KPIs, pictures, scenario, STRESS-DES description.

    ``images`` (name -> PNG bytes) default to :func:`run_images`; ``meta`` may
    carry ``created`` and ``versions`` (as stored in ``run.json``), else the
    current ones are used; ``lang`` (``en``, ``vi``) defaults to ``meta``'s
    ``report_lang``, else English.
    """
    meta = dict(meta or {})
    lang = report_language(lang, meta)
    versions = meta.get("versions") or software_versions()
    images = run_images(result) if images is None else images
    with in_language(lang):
        context = _run_context(result, images, meta, versions)
    return _render("report/run.html", lang, **context)


def _run_context(
    result: RunResult,
    images: Mapping[str, bytes],
    meta: Mapping[str, Any],
    versions: Mapping[str, str],
) -> dict[str, Any]:
    sc = result.scenario
    targets = result.targets()
    keeps = result.keeps_up()
    note = result.horizon_note()
    pictures = [
        _picture(images[name], t(FIGURE_TITLES.get(name, title)), t(CAPTIONS[name]))
        for name, title in RUN_FIGURES.items()
        if name in images
    ]
    experimentation = [
        (
            t("Initialisation"),
            t(
                "the center starts empty and idle; %(warmup)s warm-up working days are "
                "simulated first and not measured",
                warmup=sc.horizon.warmup_days,
            ),
        ),
        (
            t("Run length"),
            t(
                "%(days)s measured working days per replication (%(minutes)s open minutes a day)",
                days=sc.horizon.days,
                minutes=sc.calendar.open_minutes_per_day,
            ),
        ),
        (
            t("Estimation"),
            t(
                "%(n)s independent replications; each KPI's mean with a 95 %% Student-t "
                "confidence interval across replications",
                n=result.replications,
            ),
        ),
        (
            t("Seeds"),
            t(
                "seed %(seed)s; replication i uses replication index i (0 … %(last)s)",
                seed=result.seed,
                last=result.replications - 1,
            ),
        ),
    ]
    return {
        "title": t("pasc run report: %(name)s", name=sc.name),
        "head": _header(
            t("Run report: %(name)s", name=sc.name),
            t(
                "%(n)s replications × %(days)s working days (+%(warmup)s warm-up), seed %(seed)s",
                n=result.replications,
                days=sc.horizon.days,
                warmup=sc.horizon.warmup_days,
                seed=result.seed,
            ),
            meta,
        ),
        "verdict_banner": _verdict_banner(targets),
        "targets": _targets_table(
            pd.concat([targets, pd.DataFrame([keeps.target_row()])], ignore_index=True)
        ),
        "keeps": {"verdict": verdict_word(keeps.verdict), "reason": keeps.reason()},
        "horizon_note": note,
        "kpis": _kpi_table(_whole_run(result.summary())),
        "pictures": pictures,
        "scenario_tables": _scenario_tables(sc),
        "description": _model(
            sc,
            purpose=t(
                "judge whether the service center %(name)s (%(cls)s) meets its service targets "
                "with %(staff)s center staff, and at what productivity",
                name=sc.name,
                cls=_class_name(sc.commune.class_),
                staff=sc.staff.total,
            ),
            experimentation=experimentation,
            versions=versions,
            reproduce=f"pasc run scenario.yaml -r {result.replications} --seed {result.seed}",
        ),
    }


def _record_language(folder: Path, lang: str) -> None:
    """Keep the report's language in the folder's ``environment.json`` (``report_lang``),
    so that ``pasc report FOLDER`` draws it again in the same language."""
    path = folder / ENVIRONMENT_FILE
    try:
        environment = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        environment = {}
    if not isinstance(environment, dict) or environment.get(LANGUAGE_KEY) == lang:
        return
    environment[LANGUAGE_KEY] = lang
    write_file_atomically(path, json.dumps(environment, indent=2), durable=False)


def _save_report(
    folder: Path, images: Mapping[str, bytes], html: str, lang: str = DEFAULT_LANGUAGE
) -> Path:
    """Write each picture as ``<name>.png`` and the report as ``report.html`` in
    ``folder`` (each file atomically), record its language; return the report's path."""
    for name, png in images.items():
        write_file_atomically(folder / f"{name}.png", png, durable=False)
    path = folder / REPORT_FILE
    write_file_atomically(path, html, durable=False)
    _record_language(folder, lang)
    return path


def write_run_report(
    result: RunResult,
    folder: Path,
    meta: Mapping[str, Any] | None = None,
    *,
    images: Mapping[str, bytes] | None = None,
    lang: str | None = None,
) -> Path:
    """Save the run's pictures as ``<name>.png`` and ``report.html`` in ``folder``
    (``images``: the PNGs already drawn, by default :func:`run_images`; ``lang``:
    the report's language, by default the one ``meta`` records, else English)."""
    folder = Path(folder)
    lang = report_language(lang, meta)
    images = run_images(result) if images is None else images
    html = run_report_html(result, images=images, meta=meta, lang=lang)
    return _save_report(folder, images, html, lang)


# -- sizing reports -----------------------------------------------------------------------


def sizing_report_html(
    result: SizingResult,
    *,
    images: Mapping[str, bytes] | None = None,
    meta: Mapping[str, Any] | None = None,
    lang: str | None = None,
) -> str:
    """The HTML report of ``pasc size``: the answer, the staffing curve (table and picture),
    the scenario and the STRESS-DES description."""
    from simulator import plots

    meta = dict(meta or {})
    lang = report_language(lang, meta)
    versions = meta.get("versions") or software_versions()
    if images is None:
        images = {"staffing-curve": figure_png(plots.staffing_curve(result))}
    with in_language(lang):
        context = _sizing_context(result, images, meta, versions)
    return _render("report/size.html", lang, **context)


def _sizing_context(
    result: SizingResult,
    images: Mapping[str, bytes],
    meta: Mapping[str, Any],
    versions: Mapping[str, str],
) -> dict[str, Any]:
    from simulator.results.verdicts import growth_tolerance

    sc = result.scenario
    seed = getattr(result, "seed", None) or meta.get("seed") or sc.seed
    if result.answer is None:
        banner = {
            "verdict": "fail",
            "word": verdict_word("fail"),
            "text": t("No answer: %(why)s", why=result.explanation),
            "detail": "",
        }
    else:
        banner = {
            "verdict": "pass",
            "word": verdict_word("pass"),
            "text": result.explanation,
            "detail": "",
            "english": True,
        }

    def sized(c) -> int:  # staff on the sized desk groups; the others stay fixed
        return sum(c.staff[d] for d in result.desks)

    curve = sorted(result.curve, key=lambda c: (sized(c), tuple(c.staff.values())))
    # A size folder written before the steady-state sizing has no horizon, no
    # keeps-up row and no pool loads: its report says what that sizing did.
    steady = result.horizon_days is not None
    header = (
        [
            t("staff: %(desks)s", desks=" / ".join(result.desks)),
            t("total"),
            t("reps"),
            t("work / staff"),
        ]
        + [f"{tg.kpi} {_op(tg.op)} {_kpi_num(tg.kpi, tg.threshold)}" for tg in sc.targets]
        + (
            [t("keeps up: backlog growth/day ≤ %(tol)s", tol=_num(growth_tolerance(sc)))]
            if steady
            else []
        )
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
                text = t("over capacity, not simulated") + " "
            cells.append(Verdict(r.verdict, text))
        cells += ["–"] * (len(header) - len(cells))
        rows.append(cells[: len(header)])
    bounds = {
        "header": (
            t("pool"),
            t("lower bound (fewest below capacity)"),
            t("analytic estimate (Erlang C)"),
            t("answer"),
        ),
        "rows": [
            (
                d,
                result.lower_bound.get(d, "–"),
                result.analytic_estimate.get(d, "–"),
                "–" if result.answer is None else result.answer.get(d, "–"),
            )
            for d in result.desks
        ],
    }
    reps = sorted({c.replications for c in result.curve if c.replications})
    warmup = result.warmup_days if result.warmup_days is not None else sc.horizon.warmup_days
    days = result.horizon_days if result.horizon_days is not None else sc.horizon.days
    rule = (
        t(
            " (the steady-state rule: max(60, 4 × settling time), never less than the "
            "scenario's own horizon)"
        )
        if steady
        else t(" (the scenario's own horizon: this folder predates the steady-state sizing)")
    )
    experimentation = [
        (
            t("Initialisation"),
            t(
                "each candidate starts empty; %(warmup)s warm-up working days%(settling)s are "
                "not measured",
                warmup=warmup,
                settling=t(" (at least the settling time)") if steady else "",
            ),
        ),
        (
            t("Run length"),
            t("%(days)s measured working days per replication", days=days) + rule,
        ),
        (
            t("Estimation"),
            t(
                "%(reps)s replications per candidate (more when a verdict is inconclusive); "
                "95 %% Student-t intervals; a candidate passes when every target passes and "
                "it keeps up; a staffing with a pool over capacity is rejected without "
                "simulating",
                reps=", ".join(map(str, reps)),
            )
            if steady
            else t(
                "%(reps)s replications per candidate (more when a verdict is inconclusive); "
                "95 %% Student-t intervals; a candidate passes when every target passes",
                reps=", ".join(map(str, reps)),
            ),
        ),
        (
            t("Search"),
            t(
                "from the offered-load lower bound, check that the targets are reachable at the "
                "staff limit, add one staff member where it reduces the shortfall most, then "
                "trim any staff member the targets do not need"
            ),
        ),
        (
            t("Seeds"),
            t(
                "seed %(seed)s for every candidate (common random numbers: every candidate "
                "sees the same citizens)",
                seed=seed,
            ),
        ),
    ]
    return {
        "title": t("pasc sizing report: %(name)s", name=sc.name),
        "head": _header(
            t("Sizing report: %(name)s", name=sc.name),
            t(
                "sizing %(desks)s against %(n)s targets",
                desks=", ".join(result.desks),
                n=len(sc.targets),
            ),
            meta,
        ),
        "answer_banner": banner,
        "bounds": bounds,
        "steady": _steady_state_text(sc, warmup, days) if steady else None,
        "curve": {"header": header, "rows": rows},
        "pictures": [
            _picture(png, t(FIGURE_TITLES["staffing-curve"]), t(CAPTIONS["staffing-curve"]))
            for png in images.values()
        ],
        "scenario_tables": _scenario_tables(sc),
        "description": _model(
            sc,
            purpose=t(
                "find the smallest staffing of %(desks)s at %(name)s that meets every service "
                "target",
                desks=", ".join(result.desks),
                name=sc.name,
            ),
            experimentation=experimentation,
            versions=versions,
            reproduce=f"pasc size scenario.yaml --seed {seed}",
        ),
    }


def _steady_state_text(sc: Scenario, warmup: int, days: int) -> dict[str, str]:
    """How the sizing judged each staffing: the horizon rule and the keeps-up target."""
    from simulator.results.verdicts import growth_tolerance
    from simulator.workload import settling_days

    return {
        "text": t(
            "A staffing is only right if it holds over a year, in every staff pool. Records "
            "of this scenario take up to %(settling)s working days to settle (the longest "
            "deadline, plus the mean days at other agencies or with the citizen, plus one), so "
            "every candidate was simulated for %(days)s working days after a %(warmup)s-day "
            "warm-up, whatever the scenario's own horizon (%(own_days)s + %(own_warmup)s).",
            settling=settling_days(sc),
            days=days,
            warmup=warmup,
            own_days=sc.horizon.days,
            own_warmup=sc.horizon.warmup_days,
        ),
        "keeps_up": t(
            "is a target every answer must pass: no pool's work (walk-ins with their return "
            "visits, online checks, processing, linked-step work, postal intake, over the "
            "staff's availability after absence and outages) may reach its capacity, and the "
            "records in progress at each day's close may grow by at most one day's filings a "
            "year (%(tol)s a day).",
            tol=_num(growth_tolerance(sc)),
        ),
    }


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
    result: SizingResult,
    folder: Path,
    meta: Mapping[str, Any] | None = None,
    *,
    lang: str | None = None,
) -> Path:
    """Save ``staffing-curve.png`` and ``report.html`` in ``folder``."""
    from simulator import plots

    folder = Path(folder)
    lang = report_language(lang, meta)
    images = {"staffing-curve": figure_png(plots.staffing_curve(result))}
    html = sizing_report_html(result, images=images, meta=meta, lang=lang)
    return _save_report(folder, images, html, lang)


# -- comparison reports -------------------------------------------------------------------


def comparison_report_html(
    comparison: Comparison,
    *,
    images: Mapping[str, bytes] | None = None,
    meta: Mapping[str, Any] | None = None,
    lang: str | None = None,
) -> str:
    """The HTML report of ``pasc compare``: KPIs side by side, paired differences,
    target verdicts per scenario, the comparison picture and each scenario's sources."""
    from simulator import plots

    meta = dict(meta or {})
    lang = report_language(lang, meta)
    versions = meta.get("versions") or software_versions()
    if images is None:
        images = {"compare": figure_png(plots.compare_kpis(comparison))}
    with in_language(lang):
        context = _comparison_context(comparison, images, meta, versions)
    return _render("report/compare.html", lang, **context)


def _comparison_context(
    comparison: Comparison,
    images: Mapping[str, bytes],
    meta: Mapping[str, Any],
    versions: Mapping[str, str],
) -> dict[str, Any]:
    labels = comparison.labels
    wide = comparison.side_by_side()
    diffs = comparison.differences()
    header = [t("kpi")] + [t("%(label)s: mean (95 %% interval)", label=label) for label in labels]
    header += [
        t("%(label)s − %(first)s (paired)", label=label, first=labels[0]) for label in labels[1:]
    ]
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
                    t(
                        "%(mean)s (%(low)s to %(high)s)",
                        mean=_signed(x["mean"]),
                        low=_signed(x["ci_low"]),
                        high=_signed(x["ci_high"]),
                    )
                )
        rows.append(cells)
    target_rows = [
        (
            r.scenario,
            _kpi_label(r.kpi),
            f"{_op(r.op)} {_kpi_num(r.kpi, r.threshold)}",
            _kpi_num(r.kpi, r.mean),
            _kpi_interval(r.kpi, r.ci_low, r.ci_high),
            _badge(r.verdict),
        )
        for r in comparison.targets().itertuples()
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
            t("Initialisation and run length"),
            "; ".join(
                t(
                    "%(label)s: %(warmup)s warm-up + %(days)s measured working days",
                    label=label,
                    warmup=r.scenario.horizon.warmup_days,
                    days=r.scenario.horizon.days,
                )
                for label, r in zip(labels, comparison.results, strict=True)
            ),
        ),
        (
            t("Estimation"),
            t(
                "%(n)s replications per scenario; 95 %% Student-t intervals; differences from "
                "the per-replication differences (paired)",
                n=comparison.replications,
            ),
        ),
        (
            t("Seeds"),
            t(
                "seed %(seed)s for every scenario: replication i of each sees the same "
                "citizens wherever the demand is the same (common random numbers)",
                seed=comparison.seed,
            ),
        ),
    ]
    return {
        "title": t("pasc comparison report"),
        "head": _header(
            t("Comparison report: %(labels)s", labels=t(" vs ").join(labels)),
            t(
                "%(n)s scenarios, %(reps)s replications each, seed %(seed)s",
                n=len(labels),
                reps=comparison.replications,
                seed=comparison.seed,
            ),
            meta,
        ),
        "scenarios": {
            "header": (t("scenario"), t("description"), t("sources"), t("center staff")),
            "rows": scenario_rows,
        },
        "kpis": {"header": header, "rows": rows},
        "targets": {
            "header": (
                t("scenario"),
                t("kpi"),
                t("target"),
                t("mean"),
                t("95 % interval"),
                t("verdict"),
            ),
            "rows": target_rows,
        },
        "pictures": [
            _picture(png, t(FIGURE_TITLES["compare"]), t(CAPTIONS["compare"]))
            for png in images.values()
        ],
        "data_sources": [
            (label, _sources(r.scenario))
            for label, r in zip(labels, comparison.results, strict=True)
        ],
        "experimentation": experimentation,
        "software": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "reproduce": f"pasc compare {' '.join(f'{x}.yaml' for x in labels)} "
        f"-r {comparison.replications} --seed {comparison.seed}",
    }


def write_comparison_report(
    comparison: Comparison,
    folder: Path,
    meta: Mapping[str, Any] | None = None,
    *,
    lang: str | None = None,
) -> Path:
    """Save ``compare.png`` and ``report.html`` in ``folder``."""
    from simulator import plots

    folder = Path(folder)
    lang = report_language(lang, meta)
    images = {"compare": figure_png(plots.compare_kpis(comparison))}
    html = comparison_report_html(comparison, images=images, meta=meta, lang=lang)
    return _save_report(folder, images, html, lang)


# -- sizing by the hour -------------------------------------------------------------------


def size_by_hour_images(result: HourlySizing, shifts: ShiftPlans | None = None) -> dict[str, bytes]:
    """The PNGs of a sizing by the hour, keyed by file stem: ``by-hour-<pool>`` (the
    requirement against the plain Erlang and the flat answers), ``wait-by-hour`` (the
    verified wait by hour) and, with ``shifts``, ``roster-<pool>``."""
    from simulator import plots_by_hour
    from simulator.sizing_by_hour import WAIT_QUANTILES

    images: dict[str, bytes] = {}
    flat = (result.flat.answer if result.flat is not None else None) or {}
    for pool, g in result.groups.items():
        others = {
            "flat (pasc size)": {h: flat.get(pool, g.flat_staff) for h in g.schedule},
            "Erlang C, hour by hour": g.sipp,
        }
        coverage = shifts.plans[pool] if shifts is not None and pool in shifts.plans else g.schedule
        fig = plots_by_hour.requirement_and_coverage(
            g.schedule,
            coverage,
            open_minutes_per_hour=result.open_minutes,
            others=others,
            title=f"{pool}: staff required and scheduled, by hour",
        )
        images[f"by-hour-{pool}"] = figure_png(fig)
    measures = {pool: result.verified_measures(pool) for pool in result.groups}
    measures = {pool: m for pool, m in measures.items() if m}
    if measures:
        fig = plots_by_hour.wait_by_hour(
            measures,
            result.target_minutes,
            quantile=WAIT_QUANTILES.get(result.kpi, 0.9),
            open_minutes_per_hour=result.open_minutes,
        )
        images["wait-by-hour"] = figure_png(fig)
    if shifts is not None:
        for pool, plan in shifts.plans.items():
            images[f"roster-{pool}"] = figure_png(plots_by_hour.roster(plan))
    return images


def size_by_hour_report_html(
    result: HourlySizing,
    *,
    shifts: ShiftPlans | None = None,
    images: Mapping[str, bytes] | None = None,
    meta: Mapping[str, Any] | None = None,
    lang: str | None = None,
) -> str:
    """The HTML report of ``pasc size --by-hour``: staff by hour (the answer, the plain
    hour-by-hour Erlang C answer, the flat answer), staff-hours against flat, the hours
    where Erlang misses, the pictures, the shift plans, the scenario."""
    meta = dict(meta or {})
    lang = report_language(lang, meta)
    images = size_by_hour_images(result, shifts) if images is None else images
    with in_language(lang):
        context = _size_by_hour_context(result, shifts, images, meta)
    return _render("report/size_by_hour.html", lang, **context)


def _size_by_hour_context(
    result: HourlySizing,
    shifts: ShiftPlans | None,
    images: Mapping[str, bytes],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    sc = result.scenario
    pools = list(result.groups)
    flat = (result.flat.answer if result.flat is not None else None) or {}
    header = [t("hour")]
    for pool in pools:
        header += [
            t("%(pool)s: answer", pool=pool),
            t("%(pool)s: Erlang C", pool=pool),
            t("%(pool)s: flat", pool=pool),
        ]
    rows = []
    for h in sorted(result.open_minutes):
        cells: list[Any] = [f"{h:02d}:00"]
        for pool, g in result.groups.items():
            cells += [g.schedule.get(h, 0), g.sipp.get(h, 0), flat.get(pool, g.flat_staff)]
        rows.append(cells)
    saved = result.flat_staff_hours - result.staff_hours
    hours_rows = [
        (t("by the hour (this answer)"), _num(result.staff_hours, 1)),
        (t("flat (pasc size)"), _num(result.flat_staff_hours, 1)),
        (t("difference (flat − by the hour)"), _signed(saved)),
    ]
    misses = []
    for pool, g in result.groups.items():
        missed = g.sipp_misses
        misses.append(
            (
                pool,
                ", ".join(f"{h:02d}:00" for h in missed) if missed else t("none"),
                t("%(n)s of %(total)s open hours", n=len(missed), total=len(result.open_minutes)),
            )
        )
    verified_rows = []
    for pool in pools:
        for h, m in sorted(result.verified_measures(pool).items()):
            if not m.measured:
                continue
            verified_rows.append(
                (
                    pool,
                    f"{h:02d}:00",
                    _num(m.value),
                    _interval(max(0.0, m.ci_low), m.ci_high),  # a wait is >= 0
                    _badge(m.verdict(result.target_minutes)),
                )
            )
    pictures = []
    for pool in pools:
        if f"by-hour-{pool}" in images:
            pictures.append(
                _picture(
                    images[f"by-hour-{pool}"],
                    t("Staff by hour: %(pool)s", pool=pool),
                    t(CAPTIONS["by-hour"]),
                )
            )
    if "wait-by-hour" in images:
        pictures.append(
            _picture(images["wait-by-hour"], t("Wait by hour"), t(CAPTIONS["wait-by-hour"]))
        )
    shift_rows = []
    if shifts is not None:
        for pool, plan in shifts.plans.items():
            if f"roster-{pool}" in images:
                pictures.append(
                    _picture(
                        images[f"roster-{pool}"],
                        t("Roster: %(pool)s", pool=pool),
                        t(CAPTIONS["roster"]),
                    )
                )
            shift_rows.append(
                (pool, plan.staff, _num(plan.staff_hours, 1), _num(plan.flat_staff_hours, 1))
            )
    verdict = "pass" if result.verified else "fail"
    banner = {
        "verdict": verdict,
        "word": verdict_word(verdict),
        "text": t(VERIFIED_TEXT[result.verified], rounds=result.rounds),
        "detail": "",
    }
    return {
        "title": t("pasc sizing-by-hour report: %(name)s", name=sc.name),
        "head": _header(
            t("Sizing by the hour: %(name)s", name=sc.name),
            t(
                "%(kpi)s ≤ %(target)s min in every open hour; %(n)s replications, seed %(seed)s",
                kpi=result.kpi,
                target=_num(result.target_minutes),
                n=result.replications,
                seed=result.seed,
            ),
            meta,
        ),
        "answer_banner": banner,
        "by_hour": {"header": header, "rows": rows, "numeric": tuple(range(1, len(header)))},
        "staff_hours": {"header": (t("staffing"), t("staff-hours a day")), "rows": hours_rows},
        "misses": {
            "header": (t("desk group"), t("hours where Erlang C misses"), t("how many")),
            "rows": misses,
        },
        "verified": {
            "header": (t("desk group"), t("hour"), t("mean"), t("95 % interval"), t("verdict")),
            "rows": verified_rows,
        },
        "shifts": {
            "header": (
                t("desk group"),
                t("staff"),
                t("staff-hours a day"),
                t("flat staff-hours a day"),
            ),
            "rows": shift_rows,
            "verified": None
            if shifts is None
            else verdict_word("pass" if shifts.verified else "fail"),
        },
        "notes": list(result.notes),
        "pictures": pictures,
        "scenario_tables": _scenario_tables(sc),
        "reproduce": f"pasc size scenario.yaml --by-hour --seed {result.seed}",
    }


def write_size_by_hour_report(
    result: HourlySizing,
    folder: Path,
    meta: Mapping[str, Any] | None = None,
    shifts: ShiftPlans | None = None,
    *,
    lang: str | None = None,
) -> Path:
    """Save ``by-hour-<pool>.png``, ``wait-by-hour.png``, ``roster-<pool>.png`` (with
    ``shifts``) and ``report.html`` in ``folder``: a ``render`` for
    :func:`simulator.artifacts.write_size_by_hour_folder` (``functools.partial(
    write_size_by_hour_report, shifts=plans)``)."""
    folder = Path(folder)
    lang = report_language(lang, meta)
    images = size_by_hour_images(result, shifts)
    html = size_by_hour_report_html(result, shifts=shifts, images=images, meta=meta, lang=lang)
    return _save_report(folder, images, html, lang)


# -- drawing a folder again ---------------------------------------------------------------


def recorded_language(folder: str | Path) -> str:
    """The language ``folder``'s ``report.html`` was written in (English when unrecorded)."""
    return report_language(None, read_environment(Path(folder)))


def rebuild_report(folder: str | Path, lang: str | None = None) -> Path:
    """Draw the pictures and ``report.html`` of a run, sizing or comparison folder again
    from its files (no simulation is run), in ``lang`` or else the language the folder
    records; return the report's path."""
    folder = Path(folder)
    kind = folder_kind(folder)
    environment = read_environment(folder)
    lang = report_language(lang, environment)
    if kind == "run":
        result, meta = load_run_folder(folder)
        return write_run_report(result, folder, {**meta, **environment}, lang=lang)
    if kind == "size":
        if "staff_hours" in json.loads((folder / "size.json").read_text(encoding="utf-8")):
            raise ReportError(
                f"{folder}: expected a run, size or compare folder to redraw, found a "
                "pasc size --by-hour folder (its report.html is drawn when it is written; "
                "run pasc size --by-hour again for another language)"
            )
        sizing, meta = load_sizing_folder(folder)
        return write_sizing_report(sizing, folder, {**meta, **environment}, lang=lang)
    comparison, meta = load_comparison_folder(folder)
    return write_comparison_report(comparison, folder, {**meta, **environment}, lang=lang)


def report_in_language(folder: str | Path, lang: str) -> Path:
    """``folder``'s report in ``lang``: ``report.html`` when it is in that language, else
    ``report.<lang>.html``, drawn once from the folder's files and its PNGs (no picture is
    drawn again, ``report.html`` and ``environment.json`` are left as they are)."""
    folder = Path(folder)
    lang = report_language(lang)
    if recorded_language(folder) == lang and (folder / REPORT_FILE).is_file():
        return folder / REPORT_FILE
    path = folder / f"report.{lang}.html"
    if path.is_file():
        return path
    kind = folder_kind(folder)
    environment = read_environment(folder)

    def pngs(names: Sequence[str]) -> dict[str, bytes]:
        return {
            n: (folder / f"{n}.png").read_bytes() for n in names if (folder / f"{n}.png").is_file()
        }

    if kind == "run":
        result, meta = load_run_folder(folder)
        html = run_report_html(
            result, images=pngs(list(RUN_FIGURES)), meta={**meta, **environment}, lang=lang
        )
    elif kind == "size":
        sizing, meta = load_sizing_folder(folder)
        html = sizing_report_html(
            sizing, images=pngs(["staffing-curve"]), meta={**meta, **environment}, lang=lang
        )
    else:
        comparison, meta = load_comparison_folder(folder)
        html = comparison_report_html(
            comparison, images=pngs(["compare"]), meta={**meta, **environment}, lang=lang
        )
    write_file_atomically(path, html, durable=False)
    return path


__all__ = [
    "CAPTIONS",
    "DOMAIN_LABELS",
    "ENVIRONMENT_FILE",
    "LANGUAGE_KEY",
    "REPORT_FILE",
    "TEMPLATES",
    "ReportError",
    "PictureDrawers",
    "comparison_report_html",
    "figure_png",
    "folder_kind",
    "in_language",
    "load_comparison_folder",
    "load_run_folder",
    "load_sizing_folder",
    "model_description",
    "picture_processes",
    "rebuild_report",
    "recorded_language",
    "report_in_language",
    "report_language",
    "run_images",
    "run_metadata",
    "run_report_html",
    "scenario_section",
    "size_by_hour_images",
    "size_by_hour_report_html",
    "sizing_report_html",
    "software_versions",
    "template_environment",
    "write_comparison_report",
    "write_run_report",
    "write_size_by_hour_report",
    "write_sizing_report",
]
