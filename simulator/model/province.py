"""Several centers of one province in one simulation, with cross-boundary filing.

Since July 2025 procedures are accepted *regardless of administrative
boundaries* within a province [HUE]: a citizen facing a long queue at their
own commune center may file at a neighbouring one. This module runs the
centers of a province on one SimPy clock and routes such walk-ins:

A walk-in is *willing to travel* with probability ``willing_share`` (drawn
from the origin's own ``routing`` stream, one draw per walk-in, so routing
does not disturb any other stream). A willing walk-in goes to the neighbour
with the shortest expected wait when the expected wait at home exceeds
``threshold_minutes`` and the neighbour's, plus ``travel_minutes``, is
shorter. The expected wait of a center for a procedure is the number of
citizens ahead per staff member present times the mean desk time of that
procedure there (the same estimate a citizen makes looking at the queue).

Records keep their identity: a walk-in routed from A to B is filed at A,
travels for ``travel_minutes`` (in progress at A meanwhile) and is resolved
at B, so conservation holds for the province as a whole, and each
center reports ``records_routed_out`` / ``records_routed_in``.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.model.center import Center, ReplicationOutput
from simulator.model.events import Environment
from simulator.model.record import Record
from simulator.scenario.models import Scenario
from simulator.streams import PrefixedStreams, RandomStreams


@dataclass(frozen=True)
class RoutingRule:
    """When a walk-in files at a neighbouring center instead of its own."""

    threshold_minutes: float = 15.0
    travel_minutes: float = 10.0
    willing_share: float = 0.5


@dataclass(frozen=True)
class ProvinceCenter:
    """One commune of a province: its scenario and the ids of its neighbours."""

    id: str
    scenario: Scenario
    neighbours: tuple[str, ...] = ()


def expected_wait_minutes(center: Center, proc_id: str) -> float | None:
    """The wait a walk-in for ``proc_id`` can expect at ``center`` (None: not served there)."""
    j = center.proc_index.get(proc_id)
    if j is None or not center.groups_for_proc[j]:
        return None
    mean_desk = center.sc.procedures[j].intake_minutes.mean
    best = min(pool.expected_wait_score() for pool in center.groups_for_proc[j])
    return max(0.0, best) * mean_desk


class NeighbourRouter:
    """The routing rule applied at one center (a callable the center consults)."""

    def __init__(self, rule: RoutingRule, neighbours: list[Center], rng):
        self.rule = rule
        self.travel_minutes = rule.travel_minutes
        self.neighbours = neighbours
        self.rng = rng

    def __call__(self, center: Center, rec: Record) -> Center | None:
        willing = self.rng.random() < self.rule.willing_share
        if not willing or not self.neighbours:
            return None
        proc_id = center.sc.procedures[rec.proc].id
        home = expected_wait_minutes(center, proc_id)
        if home is None or home <= self.rule.threshold_minutes:
            return None
        best, best_wait = None, home
        for other in self.neighbours:
            wait = expected_wait_minutes(other, proc_id)
            if wait is not None and wait + self.rule.travel_minutes < best_wait:
                best, best_wait = other, wait + self.rule.travel_minutes
        return best


@dataclass
class ProvinceOutput:
    """One replication of a province: each center's output and the walk-in flows
    between centers (origin id -> destination id -> walk-ins)."""

    centers: dict[str, ReplicationOutput]
    flows: dict[str, dict[str, int]]

    def __getitem__(self, center_id: str) -> ReplicationOutput:
        return self.centers[center_id]

    def items(self):
        return self.centers.items()

    def values(self):
        return self.centers.values()


def simulate_province(
    centers: list[ProvinceCenter],
    seed: int,
    replication: int,
    routing: RoutingRule | None = None,
) -> ProvinceOutput:
    """One replication of every center on one clock; ``routing=None`` keeps each
    citizen at home (the centers are then independent). KPIs per center gain
    ``records_routed_out`` and ``records_routed_in``."""
    if not centers:
        return {}
    horizons = {(c.scenario.horizon.days, c.scenario.horizon.warmup_days) for c in centers}
    if len(horizons) > 1:
        raise ValueError(f"expected one horizon for every center, found {sorted(horizons)}")
    env = Environment()
    streams = RandomStreams(seed, replication)
    built = {c.id: Center(c.scenario, PrefixedStreams(streams, c.id), env=env) for c in centers}
    if routing is not None:
        for c in centers:
            neighbours = [built[n] for n in c.neighbours if n in built]
            built[c.id].router = NeighbourRouter(routing, neighbours, streams(f"{c.id}/routing"))
    end = max(center.end_time for center in built.values())
    env.run_until(end)
    out = {}
    for cid, center in built.items():
        result = center.collect()
        result.kpis["records_routed_out"] = float(center.recorder.routed_out)
        result.kpis["records_routed_in"] = float(center.recorder.routed_in)
        out[cid] = result
    return ProvinceOutput(out, {cid: dict(c.flows_to) for cid, c in built.items()})
