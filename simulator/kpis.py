"""The names of the key performance indicators (a contract: scripts and notebooks depend on them).

Kept apart from the code that computes them so that scenario validation can
check a target's KPI name without importing the model or the results layer.
Everything that shows a KPI takes its words from here: its one-line meaning
(:data:`KPI_DESCRIPTIONS`), its display name in tables and reports
(:data:`KPI_DISPLAY`), its axis words and unit in pictures (:data:`KPI_AXES`),
and whether it is a share or can be negative. The meanings and display names
are English msgids, translated where they are shown (``python -m
simulator.catalogs`` finds them here).
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Mark a message for translation (it is translated where it is shown)."""
    return message


#: Every KPI reported per replication, in display order. Per-desk
#: utilizations (``utilization.<desk>``) are added per scenario.
KPI_NAMES: tuple[str, ...] = (
    "wait_minutes.mean",
    "wait_minutes.p50",
    "wait_minutes.p90",
    "wait_minutes.p95",
    "wait_minutes.max",
    "handle_minutes.mean",
    "handle_minutes.p90",
    "time_in_center_minutes.mean",
    "on_time_rate",
    "records_filed",
    "records_completed",
    "records_rejected",
    "records_in_progress",
    "records_abandoned",
    "records_with_citizen",
    "backlog_growth_per_day",
    "utilization",
    "records_per_staff_year",
    "queue_length.mean",
    "queue_length.max",
)

KPI_DESCRIPTIONS: dict[str, str] = {
    "wait_minutes": N_("walk-in wait from arrival (ticket) to start of desk service, minutes"),
    "handle_minutes": N_("staff time with the citizen at the desk, minutes"),
    "time_in_center_minutes": N_("walk-in arrival to leaving the desk, minutes"),
    "on_time_rate": N_("resolved records returned within their statutory deadline / all resolved"),
    "records_filed": N_("records filed in the measured horizon (all channels)"),
    "records_completed": N_("of those, resolved by the end of the run"),
    "records_rejected": N_("of those, rejected at intake (duplicates, incomplete dossiers)"),
    "records_in_progress": N_("of those, still in a queue or being worked on at the end"),
    "records_abandoned": N_("of those, walk-ins who left before being served"),
    "utilization": N_("busy share of staff time while open"),
    "records_per_staff_year": N_("completed records per staff member, scaled to a working year"),
    "queue_length": N_("walk-ins waiting (time average while open, and maximum)"),
    "wait_probability": N_("share of walk-ins who waited at all"),
    "records_overdue": N_(
        "of those in progress at the end, past their deadline already (not those with the citizen)"
    ),
    "records_with_citizen": N_(
        "of those in progress at the end, sent back for a supplement (or who left the "
        "queue to come back another day) and not yet returned (the deadline restarts "
        "on return: never overdue)"
    ),
    "backlog_growth_per_day": N_(
        "slope of records in progress at each day's close, per working day, after the "
        "settling time (about 0 when the center keeps up)"
    ),
}

#: Each KPI's display name in tables and reports (msgids); the keys are the
#: names in files.
KPI_DISPLAY: dict[str, str] = {
    "wait_minutes.mean": N_("Waiting time, mean (min)"),
    "wait_minutes.p50": N_("Waiting time, median (min)"),
    "wait_minutes.p90": N_("Waiting time, 90th percentile (min)"),
    "wait_minutes.p95": N_("Waiting time, 95th percentile (min)"),
    "wait_minutes.max": N_("Waiting time, longest (min)"),
    "handle_minutes.mean": N_("Desk handling time, mean (min)"),
    "handle_minutes.p90": N_("Desk handling time, 90th percentile (min)"),
    "time_in_center_minutes.mean": N_("Time in the center, mean (min)"),
    "on_time_rate": N_("Records returned on time"),
    "records_filed": N_("Records filed"),
    "records_completed": N_("Records completed"),
    "records_rejected": N_("Records rejected at intake"),
    "records_in_progress": N_("Records still in progress"),
    "records_abandoned": N_("Citizens who left without service"),
    "records_overdue": N_("Records overdue at the end"),
    "records_with_citizen": N_("Records sent back for a supplement"),
    "backlog_growth_per_day": N_("Backlog growth per working day"),
    "utilization": N_("Staff utilization"),
    "utilization.back-office": N_("Utilization of the back office"),
    "utilization.postal-agents": N_("Utilization of the postal agents"),
    "records_per_staff_year": N_("Records per staff member per year"),
    "queue_length.mean": N_("Queue length, mean"),
    "queue_length.max": N_("Queue length, longest"),
    "wait_probability": N_("Share of citizens who waited"),
}

#: Each KPI's words and unit on a picture's axis, by base name (``wait_minutes`` for
#: ``wait_minutes.p90``).
KPI_AXES: dict[str, tuple[str, str]] = {
    "wait_minutes": ("walk-in wait", "minutes"),
    "handle_minutes": ("handle time at the desk", "minutes"),
    "time_in_center_minutes": ("time in center", "minutes"),
    "on_time_rate": ("on-time share of resolved records", "%"),
    "records_filed": ("records filed", "records"),
    "records_completed": ("records completed", "records"),
    "records_rejected": ("records rejected", "records"),
    "records_in_progress": ("records in progress at the end", "records"),
    "records_abandoned": ("walk-ins who left unserved", "records"),
    "records_overdue": ("records overdue at the end", "records"),
    "records_with_citizen": ("records back with the citizen at the end", "records"),
    "backlog_growth_per_day": ("backlog growth", "records / working day"),
    "utilization": ("staff utilization", "% of open time"),
    "records_per_staff_year": ("records per staff member", "records / year"),
    "queue_length": ("walk-ins waiting", "citizens"),
    "wait_probability": ("share of walk-ins who waited", "%"),
}


def kpi_names_for(desk_names: list[str], back_office: bool, postal: bool) -> list[str]:
    """All KPI names a scenario with these desks reports, in display order."""
    names = list(KPI_NAMES)
    at = names.index("utilization") + 1
    extra = [f"utilization.{d}" for d in desk_names]
    if back_office:
        extra.append("utilization.back-office")
    if postal:
        extra.append("utilization.postal-agents")
    names[at:at] = extra
    names.insert(names.index("records_abandoned") + 1, "records_overdue")
    names.append("wait_probability")
    return names


def description(kpi: str) -> str:
    """A one-line explanation of a KPI, for tables and reports."""
    return KPI_DESCRIPTIONS.get(kpi.split(".")[0], KPI_DESCRIPTIONS.get(kpi, ""))


# -- how KPIs are shown ------------------------------------------------------------------

#: KPIs that are shares of 1 (printed with 3 decimals: 0.993, not 0.99).
SHARE_KPIS: tuple[str, ...] = ("on_time_rate", "utilization", "wait_probability")
#: KPIs that can be negative (a shrinking backlog); every other KPI is >= 0.
SIGNED_KPIS: tuple[str, ...] = ("backlog_growth_per_day",)


def is_share(kpi: str) -> bool:
    """True for KPIs that are shares in [0, 1] (printed with 3 decimals, drawn in %)."""
    return kpi.split(".")[0] in SHARE_KPIS


def kpi_digits(kpi: str) -> int:
    """Decimals to print a KPI's value with."""
    return 3 if is_share(kpi) else 2


def natural_range(kpi: str) -> tuple[float, float]:
    """The values a KPI can take: shares in [0, 1], counts and times >= 0."""
    if is_share(kpi):
        return 0.0, 1.0
    if kpi.split(".")[0] in SIGNED_KPIS or kpi == "keeps_up":
        return float("-inf"), float("inf")
    return 0.0, float("inf")


def shown_interval(kpi: str, low: float, high: float) -> tuple[float, float]:
    """A confidence interval for display, kept in the KPI's natural range (a count's
    interval does not go below 0, a share's not above 1). Tables on file keep the raw
    Student-t bounds."""
    lo, hi = natural_range(kpi)
    return min(max(low, lo), hi), max(min(high, hi), lo)


def kpi_table() -> str:
    """The KPIs as a Markdown table (key, name, meaning, unit), as ``docs/outputs.md``
    lists them: ``python -m simulator.kpis`` prints it."""
    lines = ["| KPI | name | what it measures | unit |", "|---|---|---|---|"]
    for kpi in kpi_names_for(["<desk>"], back_office=True, postal=True):
        name = KPI_DISPLAY.get(kpi, "Utilization of a desk group")
        unit = KPI_AXES[kpi.partition(".")[0]][1]
        lines.append(f"| `{kpi}` | {name} | {description(kpi)} | {unit} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(kpi_table())
