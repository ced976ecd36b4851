"""The fitted scenario as YAML, with a comment on every fitted value.

The file runs as it is (``pasc run``, ``pasc check``). Each value estimated
from the export says, on its line, how many records it rests on, the family
chosen and its AIC against the others, and the goodness-of-fit p-value; a
value the export cannot tell (staff counts, opening hours, targets) says where
it came from: the base scenario (``--base``), an option, or ``ASSUMED``.

Time to result enters the model as a linked step (``observed-time-to-result``)
whose delay is the Kaplan-Meier distribution of the export's time to result:
everything the export shows between receipt and result (back-office queue,
sign-off, other agencies) without pretending to know which is which.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from simulator.fit.estimate import FittedExport, ProcedureFit, Share
from simulator.scenario.models import WEEKDAYS, Channels

#: A procedure whose median time to result is shorter than this (working days)
#: gets no time-to-result step: its results come from the center's own desk and
#: back-office queues, which the model simulates; a longer one waits for
#: sign-off or another agency, which the step stands for.
RESULT_STEP_FROM_WORKING_DAYS = 1.0
#: Intake time when neither a ticket log nor a base scenario gives one.
DEFAULT_INTAKE = {"dist": "lognormal", "mean": 10.0, "sd": 5.0}
DEFAULT_SESSIONS = ["07:30-11:30", "13:30-17:00"]


FROM_BASE = "  # from the base scenario"


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True)


def flow(value: Any) -> str:
    """One YAML value on one line (flow style)."""
    text = yaml.safe_dump(
        value, default_flow_style=True, width=1_000_000_000, allow_unicode=True, sort_keys=False
    ).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _shares(raw: dict[str, float], digits: int = 4) -> dict[str, float]:
    """Rounded shares that still sum to exactly 1 (the largest takes the rest)."""
    out = {k: round(v, digits) for k, v in raw.items()}
    big = max(out, key=out.get)
    out[big] = round(1 - sum(v for k, v in out.items() if k != big), digits + 2)
    return out


def _share_comment(s: Share) -> str:
    lo, hi = s.interval
    return f"{s.count}/{s.total}, 95% CI {lo:.3f}-{hi:.3f} (Wilson)"


def _intake(pf: ProcedureFit, fit: FittedExport) -> tuple[dict[str, Any], str]:
    if pf.intake is not None:
        return pf.intake.dist, pf.intake.comment()
    base = fit.options.base
    if base is not None:
        for p in base.procedures:
            if p.id == pf.id:
                return (
                    p.intake_minutes.model_dump(by_alias=True, exclude_none=True),
                    "from the base scenario (no ticket log)",
                )
        same = [p for p in base.procedures if p.field == pf.field]
        if same:
            return (
                same[0].intake_minutes.model_dump(by_alias=True, exclude_none=True),
                f"from the base scenario's {same[0].id} (same field; no ticket log)",
            )
    return dict(DEFAULT_INTAKE), "ASSUMED: no ticket log and no base scenario"


def _procedure_lines(pf: ProcedureFit, share: float, fit: FittedExport) -> list[str]:
    lines = [f"  - id: {pf.id}"]
    lines.append(
        f"    name: {flow(pf.name)}"
        + (
            f"  # pools: {', '.join(pf.members[:8])}{' ...' if len(pf.members) > 8 else ''}"
            if len(pf.members) > 1
            else "  # as named in the export"
        )
    )
    lines.append(f"    field: {pf.field}")
    lines.append(f"    share: {share}  # {_share_comment(pf.share)} records")
    dist, comment = _intake(pf, fit)
    lines.append(f"    intake_minutes: {flow(dist)}  # {comment}")
    if pf.base_processing is not None:
        lines.append(
            f"    processing_minutes: {flow(pf.base_processing)}  # from the base scenario"
        )
    if pf.deadline_working_days is not None:
        lines.append(
            f"    deadline_working_days: {pf.deadline_working_days}  # most common of "
            f"{pf.deadline_n} due dates (received before the cut-off), in working days"
        )
    else:
        lines.append("    deadline_working_days: 0  # ASSUMED: no due dates in the export")
    reject = min(pf.reject.value, 0.99)
    lines.append(f"    reject_share: {round(reject, 4)}  # {_share_comment(pf.reject)} rejected")
    if pf.supplement.count:
        rework: dict[str, Any] = {"share": round(min(pf.supplement.value, 0.99), 4)}
        ret = pf.supplement_returned
        rework["return_share"] = round(ret.value, 4) if ret.total else 1.0
        if pf.supplement_delay:
            values = pf.supplement_delay
            rework["delay_working_days"] = (
                {"dist": "fixed", "value": values[0]}
                if len(set(values)) == 1
                else {"dist": "empirical", "values": values}
            )
        lines.append(
            f"    rework: {flow(rework)}  # sent back for a supplement "
            f"{_share_comment(pf.supplement)}"
            f"; came back {ret.count}/{ret.total}; delay: working days from receipt to the "
            f"supplement, {ret.count} records"
        )
    rt = pf.result_time
    if rt is not None and rt.resolved.size:
        lo, hi = rt.median_interval
        km = (
            f"Kaplan-Meier of {rt.resolved.size} resolved and {rt.open_.size} open "
            "(right-censored) "
            f"records: median {rt.median:.2f} working days (95% CI {lo:.2f}-{hi:.2f}); "
            f"dropping open records would say {rt.naive_median:.2f}"
        )
        if math.isnan(rt.median) or rt.median < RESULT_STEP_FROM_WORKING_DAYS:
            lines.append(
                f"    # time to result: {km}; under a working day: the center's own desk "
                "and back-office queues, no step"
            )
        else:
            reach = (
                ""
                if rt.reach >= 0.999
                else (f"; the curve reaches {rt.reach:.0%}, the rest set to the longest time seen")
            )
            delay = {"dist": "empirical", "values": rt.delay_values()}
            lines.append("    linked_steps:")
            lines.append("      - agency: observed-time-to-result")
            lines.append(f"        delay_working_days: {flow(delay)}  # {km}{reach}")
    return lines


def fitted_scenario_yaml(fit: FittedExport) -> str:
    """The scenario text; validated before it is returned (``ScenarioError`` if not)."""
    from simulator.scenario import validate_scenario

    base = fit.options.base
    arr = fit.arrivals
    cal = fit.work.calendar
    weekdays = [d for d, m in zip(WEEKDAYS, fit.work.weekmask, strict=True) if m == "1"]
    files = ", ".join(Path(f).name for f in fit.files)
    out: list[str] = []
    out.append(
        f"# Fitted by `pasc fit` from {files}: {fit.records_used} records used of "
        f"{fit.records_read} read ({fit.records_read - fit.records_used} bad rows left out)."
    )
    if fit.tickets_file:
        out.append(f"# Ticket log {Path(fit.tickets_file).name}: {fit.tickets_used} tickets used.")
    out.append(
        f"# Export window {fit.first} to {fit.as_of:%Y-%m-%d %H:%M} (records still open then are "
        f"right-censored): {arr.working_days} working days."
    )
    out.append("# Each fitted value says on its line what it rests on; ASSUMED marks what the")
    out.append("# export cannot tell. See fit-report.html for the curves behind the numbers.")
    for note in fit.notes:
        out.append(f"# Note: {note}")
    out.append(f"name: {fit.name}")
    out.append(f"description: {flow(f'Fitted from the one-stop export {files}')}")
    out.append(f"source: {flow(['export: ' + files])}")
    out.append(f"seed: {base.seed if base else 1}")
    out.append(f"replications: {base.replications if base else 20}")
    out.append(
        f"horizon: {{days: {arr.working_days}, warmup_days: 0}}  # the export window, so that "
        "calibration: compares like with like"
    )
    out.append("calendar:")
    out.append(f"  type: {cal.type}")
    how = (
        "from the base scenario"
        if base
        else "weekdays with in-person filings at a fifth of the busiest weekday's rate or more"
    )
    out.append(f"  weekdays: {flow(weekdays)}  # {how}")
    if cal.type == "office":
        sessions = list(cal.sessions)
        src = "from the base scenario" if base else "ASSUMED: office hours (Decree 118 practice)"
        out.append(
            f"  sessions: {flow(sessions)}  # {src}; {_share_comment(arr.outside_hours)} in-person "
            "filings outside them"
        )
    if cal.same_day_cutoff is not None:
        src = "from the base scenario" if base else "inferred from the due dates"
        out.append(f"  same_day_cutoff: {flow(cal.same_day_cutoff)}  # {src}")
    if base is not None:
        out.append(f"commune: {flow(_dump(base.commune))}{FROM_BASE}")
    else:
        out.append("commune: {class: urban}  # ASSUMED: sets the quota only")
    out.append("demand:")
    lo, hi = arr.per_day_interval
    disp = "; ".join(
        f"{d.channel} dispersion {d.ratio:.2f} (p={d.p_value:.3f}, {d.verdict})"
        for d in arr.dispersion
    )
    out.append(
        f"  records_per_day: {round(arr.records_per_day, 3)}  # {fit.records_used} records / "
        f"{arr.working_days} working days, Poisson 95% CI {lo:.2f}-{hi:.2f}; {disp}"
    )
    if arr.hourly_profile:
        profile = {int(h): float(v) for h, v in arr.hourly_profile.items()}
        out.append(
            f"  hourly_profile: {flow(profile)}  # walk-in and postal filings per open minute "
            "of each hour, mean 1"
        )
    # The built-in channels zeros too (an omitted walk_in would default to 1); a
    # declared one only when the export has it, so the file loads without it.
    raw = {ch: s.value for ch, s in fit.channels.items() if s.count or ch in Channels.model_fields}
    shares = _shares(raw)
    comment = "; ".join(f"{ch} {_share_comment(fit.channels[ch])}" for ch in shares)
    out.append(f"  channels: {flow(shares)}  # {comment}")
    if fit.priority is not None:
        out.append(
            f"  priority_share: {round(fit.priority.value, 4)}  # {_share_comment(fit.priority)} "
            "priority tickets"
        )
    elif base is not None and base.demand.priority_share:
        out.append(f"  priority_share: {base.demand.priority_share}  # from the base scenario")
    if base is not None:
        d = base.demand
        if d.patience_minutes is not None:
            out.append(f"  patience_minutes: {flow(_dump(d.patience_minutes))}{FROM_BASE}")
        if d.return_after_abandon_share:
            out.append(f"  return_after_abandon_share: {d.return_after_abandon_share}{FROM_BASE}")
        if d.postal_delivery_working_days:
            out.append(
                f"  postal_delivery_working_days: {d.postal_delivery_working_days}{FROM_BASE}"
            )
    out.append("procedures:")
    shares = _shares({p.id: p.share.value for p in fit.procedures})
    for pf in fit.procedures:
        out.extend(_procedure_lines(pf, shares[pf.id], fit))
    out.append("staff:")
    out.append("  desks:")
    for d in fit.desks:
        out.append(
            f"    - {flow({'name': d.name, 'count': d.count, 'fields': d.fields})}  # {d.note}"
        )
    if base is not None:
        s = base.staff
        if s.back_office:
            out.append(f"  back_office: {s.back_office}  # from the base scenario")
        if s.postal_intake_minutes is not None:
            out.append(
                f"  postal_intake_minutes: {flow(_dump(s.postal_intake_minutes))}{FROM_BASE}"
            )
        if s.absence_share:
            out.append(f"  absence_share: {s.absence_share}  # from the base scenario")
    if fit.postal_agents:
        src = (
            "from the base scenario"
            if base and base.staff.postal_agents
            else "ASSUMED: one agent for the postal records"
        )
        out.append(f"  postal_agents: {fit.postal_agents}  # {src}")
    if base is not None and base.targets:
        out.append("targets:  # from the base scenario")
        for t in base.targets:
            out.append(f"  - {flow(t.model_dump(exclude_none=True))}")
    out.append(
        "calibration:  # the export's own figures: `pasc check` compares the model with them"
    )
    for item in fit.observed:
        out.append(
            "  - "
            + flow(
                {
                    "kpi": item["kpi"],
                    "reported": item["reported"],
                    "source": "export",
                    "note": item["note"],
                }
            )
        )
    text = "\n".join(out) + "\n"
    validate_scenario(yaml.safe_load(text), "<fitted scenario>")
    return text
