"""The names of the key performance indicators (the contract in SPEC.md).

Kept apart from the code that computes them so that scenario validation can
check a target's KPI name without importing the model or the results layer.
"""

from __future__ import annotations

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
    "utilization",
    "records_per_staff_year",
    "queue_length.mean",
    "queue_length.max",
)

#: Extra KPIs pasc reports beyond the contract (names may be extended).
EXTRA_KPI_NAMES: tuple[str, ...] = (
    "records_overdue",
    "wait_probability",
    "utilization.back-office",
    "utilization.postal-agents",
)

KPI_DESCRIPTIONS: dict[str, str] = {
    "wait_minutes": "walk-in wait from arrival (ticket) to start of desk service, minutes",
    "handle_minutes": "staff time with the citizen at the desk, minutes",
    "time_in_center_minutes": "walk-in arrival to leaving the desk, minutes",
    "on_time_rate": "resolved records returned within their statutory deadline / all resolved",
    "records_filed": "records filed in the measured horizon (all channels)",
    "records_completed": "of those, resolved by the end of the run",
    "records_rejected": "of those, rejected at intake (duplicates, incomplete dossiers)",
    "records_in_progress": "of those, still in a queue or being worked on at the end",
    "records_abandoned": "of those, walk-ins who left before being served",
    "utilization": "busy share of staff time while open",
    "records_per_staff_year": "completed records per staff member, scaled to a working year",
    "queue_length": "walk-ins waiting (time average while open, and maximum)",
    "wait_probability": "share of walk-ins who waited at all",
    "records_overdue": "of those in progress at the end, past their deadline already",
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
