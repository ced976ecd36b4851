"""A province on one clock, replicated: per-commune KPIs and cross-boundary flows.

``pasc sweep PROVINCE.yaml`` simulates each commune on its own (fast, one task
per commune and replication). When citizens may file at a neighbouring center
[HUE], the communes are no longer independent: :func:`run_province` simulates
all of them together (:func:`simulator.model.province.simulate_province`), one
task per replication, and reports each commune's KPIs with intervals and the
walk-in flows between communes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from simulator.backends import Task
from simulator.model.province import ProvinceCenter, RoutingRule, simulate_province
from simulator.results import t_interval
from simulator.runner import BackendChoice, ProgressCallback, open_backend
from simulator.scenario.province import Province

DEFAULT_ROUTING = RoutingRule()
SHOWN_KPIS = (
    "records_filed",
    "records_routed_out",
    "records_routed_in",
    "wait_minutes.mean",
    "wait_minutes.p90",
    "utilization",
    "on_time_rate",
)


def _one_replication(
    centers: list[ProvinceCenter], seed: int, replication: int, routing: RoutingRule | None
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, int]]]:
    out = simulate_province(centers, seed, replication, routing)
    return {cid: o.kpis for cid, o in out.items()}, out.flows


@dataclass
class ProvinceResult:
    """Per (commune, replication) KPIs and the mean flows between communes."""

    province: str
    replications: int
    seed: int
    routing: RoutingRule | None
    kpis: pd.DataFrame  # commune, replication, <kpi>...
    flows: pd.DataFrame  # origin, destination, walk_ins (mean per replication)

    def summary(self, kpis: tuple[str, ...] = SHOWN_KPIS) -> pd.DataFrame:
        """One row per commune: each KPI's mean and 95 % interval."""
        rows = []
        for commune, group in self.kpis.groupby("commune", sort=False):
            row: dict[str, object] = {"commune": commune}
            for k in kpis:
                if k in group:
                    mean, low, high = t_interval(group[k].to_numpy(dtype=float))
                    row[f"{k}.mean"], row[f"{k}.ci_low"], row[f"{k}.ci_high"] = mean, low, high
            rows.append(row)
        return pd.DataFrame(rows)


def run_province(
    province: Province,
    replications: int | None = None,
    seed: int | None = None,
    routing: RoutingRule | None = DEFAULT_ROUTING,
    *,
    workers: int = 1,
    backend: BackendChoice = None,
    scheduler: str | None = None,
    progress: ProgressCallback | None = None,
) -> ProvinceResult:
    """Replicate the whole province on one clock; ``routing=None`` keeps citizens home.

    One task per replication (every commune together). ``workers`` /
    ``backend`` / ``scheduler`` say where they run, as in :func:`simulator.run`:
    ``workers=4`` is four local processes, ``backend="dask"`` a local Dask
    cluster; the numbers are the same on every backend."""
    centers = [ProvinceCenter(c.id, c.scenario, tuple(c.neighbours)) for c in province.communes]
    first = province.communes[0].scenario
    reps = replications or first.replications
    seed = first.seed if seed is None else seed
    home = "routed" if routing else "home"
    tasks = [
        Task(
            key=f"province-{province.name}-s{seed}-{home}-r{r:05d}",
            fn=_one_replication,
            args=(centers, seed, r, routing),
        )
        for r in range(reps)
    ]
    results: dict[int, tuple] = {}
    with open_backend(backend, workers=workers, scheduler=scheduler) as runner:
        for key, value in runner.run(tasks):
            results[int(key.rsplit("r", 1)[1])] = value
            if progress is not None:
                progress(len(results), reps)
    rows, flow_rows = [], []
    for r in sorted(results):
        kpis, flows = results[r]
        for cid, values in kpis.items():
            rows.append({"commune": cid, "replication": r, **values})
        for origin, dests in flows.items():
            for dest, n in dests.items():
                flow_rows.append({"origin": origin, "destination": dest, "walk_ins": n})
    flows = pd.DataFrame(flow_rows, columns=["origin", "destination", "walk_ins"])
    if len(flows):
        flows = (
            flows.groupby(["origin", "destination"], as_index=False)["walk_ins"]
            .sum()
            .assign(walk_ins=lambda d: d["walk_ins"] / reps)
        )
    return ProvinceResult(province.name, reps, seed, routing, pd.DataFrame(rows), flows)
