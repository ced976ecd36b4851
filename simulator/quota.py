"""Are the productivity quotas consistent with the service targets?

Quang Nam sets a quota of records per staff member per year: 1,600 in urban
wards, 1,200 in rural communes, 800 in disadvantaged ones [QN-targets]. A
quota implies a staffing: ``annual demand / quota``. The service targets (30
minutes handling, 15 minutes waiting, on-time share) imply another, found by
:func:`simulator.sizing.size`. When the service-target staffing is larger, the
quota is *binding the wrong way*: meeting it would break the targets. This
module puts the two side by side, with the simulated ``records_per_staff_year``
at each staffing, so an analyst can compare commune classes in one table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simulator.display import json_number
from simulator.runner import BackendChoice, open_backend
from simulator.scenario import Scenario
from simulator.sizing import (
    SizingResult,
    StaffingEvaluator,
    size,
    sizing_replications,
    sizing_scenario,
)
from simulator.workload import BACK_OFFICE, pool_loads


@dataclass
class QuotaComparison:
    """One commune's quota staffing against its service-target staffing."""

    scenario: str
    commune_class: str
    quota: float
    annual_demand: float
    quota_staff_exact: float
    quota_staff: int
    quota_staffing: dict[str, int]
    service_staff: int | None
    service_staffing: dict[str, int] | None
    binding: str
    records_per_staff_year_at_quota: float
    records_per_staff_year_at_service: float | None
    service_targets_met_at_quota: bool
    sizing: SizingResult

    def to_dict(self) -> dict[str, Any]:
        d = {k: json_number(v) for k, v in self.__dict__.items() if k != "sizing"}
        d["binding_target"] = self.sizing.binding_target
        return d


def annual_demand(sc: Scenario) -> float:
    """Records per year over all channels: records per working day x working days."""
    return sc.demand.records_per_day * sc.calendar.days_per_year


def quota_staffing(sc: Scenario, total: int) -> dict[str, int]:
    """Spread ``total`` center staff over the desk groups by their offered load
    (dedicated back-office staff keep their count); at least one per desk."""
    loads = pool_loads(sc)
    desks = [d.name for d in sc.staff.desks]
    n = max(len(desks), total - sc.staff.back_office)
    weight = {d: max(loads[d].work_erlangs, 1e-6) for d in desks}
    norm = sum(weight.values())
    exact = {d: max(1.0, n * weight[d] / norm) for d in desks}
    out = {d: max(1, math.floor(exact[d])) for d in desks}
    rest = n - sum(out.values())
    order = sorted(desks, key=lambda d: exact[d] - math.floor(exact[d]), reverse=True)
    for d in order[: max(0, rest)]:
        out[d] += 1
    return out


def compare_quota(
    sc: Scenario,
    *,
    replications: int | None = None,
    max_staff: int | None = None,
    workers: int = 1,
    backend: BackendChoice = None,
    scheduler: str | None = None,
) -> QuotaComparison:
    """Quota-implied staff vs service-target staff for one scenario.

    ``workers`` / ``backend`` / ``scheduler`` say where replications run, as in
    :func:`simulator.run`; the sizing and the quota staffing share one backend."""
    demand = annual_demand(sc)
    quota = sc.commune.quota
    exact = demand / quota
    q_total = max(len(sc.staff.desks) + sc.staff.back_office, math.ceil(exact - 1e-9))
    q_staffing = quota_staffing(sc, q_total)
    with open_backend(backend, workers=workers, scheduler=scheduler) as runner:
        sizing = size(sc, max_staff=max_staff, replications=replications, backend=runner)
        # The quota staffing is judged like a sizing candidate: steady-state horizon,
        # keeps-up verdict included.
        judged = sizing_scenario(sc)
        reps = replications or sizing_replications(sc, judged)
        ev = StaffingEvaluator(judged, sc.seed, reps, reps, runner, None, screen=False)
        at_quota = ev.evaluate([q_staffing])[0]
    rpsy_quota = _kpi(at_quota.summary, "records_per_staff_year")
    if sizing.answer is not None:
        chosen = sizing.chosen
        unsized_back_office = 0 if BACK_OFFICE in sizing.answer else sc.staff.back_office
        service_total = sum(sizing.answer.values()) + unsized_back_office
        rpsy_service = _kpi(chosen.summary, "records_per_staff_year")
        # The quota caps staff at demand / quota; the targets need service_total.
        binding = "service targets" if service_total > q_total else "quota"
    else:
        service_total = None
        rpsy_service = None
        binding = "service targets (unreachable)"
    return QuotaComparison(
        scenario=sc.name,
        commune_class=sc.commune.class_,
        quota=quota,
        annual_demand=demand,
        quota_staff_exact=exact,
        quota_staff=q_total,
        quota_staffing=q_staffing,
        service_staff=service_total,
        service_staffing=sizing.answer,
        binding=binding,
        records_per_staff_year_at_quota=rpsy_quota,
        records_per_staff_year_at_service=rpsy_service,
        service_targets_met_at_quota=at_quota.passes,
        sizing=sizing,
    )


def _kpi(summary, name: str) -> float:
    row = summary.set_index("kpi").loc[name]
    return float(row["mean"])


__all__ = ["QuotaComparison", "annual_demand", "compare_quota", "quota_staffing"]
