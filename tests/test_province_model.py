"""Cross-boundary filing between neighbouring centers of a province [HUE]."""

from __future__ import annotations

import numpy as np
import pytest
from builders import busy_office_dict

from simulator.model.province import ProvinceCenter, RoutingRule, simulate_province
from simulator.scenario import load_scenario


def _province():
    crowded = load_scenario(busy_office_dict(name="crowded", demand={"records_per_day": 130}))
    quiet = load_scenario(busy_office_dict(name="quiet", demand={"records_per_day": 30}))
    far = load_scenario(busy_office_dict(name="far", demand={"records_per_day": 30}))
    return [
        ProvinceCenter("crowded", crowded, ("quiet",)),
        ProvinceCenter("quiet", quiet, ("crowded",)),
        ProvinceCenter("far", far, ()),  # nobody's neighbour
    ]


def _run(routing, reps=6):
    return [
        simulate_province(_province(), seed=4, replication=r, routing=routing) for r in range(reps)
    ]


def test_routing_conserves_records_across_the_province():
    for out in _run(RoutingRule(threshold_minutes=10, willing_share=0.8)):
        k = {cid: o.kpis for cid, o in out.items()}
        filed = sum(v["records_filed"] for v in k.values())
        ended = sum(
            v["records_completed"]
            + v["records_rejected"]
            + v["records_in_progress"]
            + v["records_abandoned"]
            for v in k.values()
        )
        assert filed == ended
        assert k["crowded"]["records_routed_out"] == k["quiet"]["records_routed_in"] > 0
        assert k["far"]["records_routed_in"] == k["far"]["records_routed_out"] == 0


def test_routing_lowers_the_worst_centers_wait_when_neighbours_have_spare_capacity():
    alone = _run(None)
    shared = _run(RoutingRule(threshold_minutes=10, willing_share=0.8))
    worst_alone = np.mean([o["crowded"].kpis["wait_minutes.p90"] for o in alone])
    worst_shared = np.mean([o["crowded"].kpis["wait_minutes.p90"] for o in shared])
    quiet_alone = np.mean([o["quiet"].kpis["wait_minutes.mean"] for o in alone])
    quiet_shared = np.mean([o["quiet"].kpis["wait_minutes.mean"] for o in shared])
    assert worst_shared < 0.9 * worst_alone
    assert quiet_shared > quiet_alone  # the neighbour pays a little for it
    # a center without neighbours is untouched: same streams, same citizens
    far_alone = [o["far"].kpis for o in alone]
    far_shared = [o["far"].kpis for o in shared]
    assert far_alone == far_shared


def test_without_routing_centers_are_independent_and_reproducible():
    a = simulate_province(_province(), seed=4, replication=0)
    b = simulate_province(_province(), seed=4, replication=0)
    assert {k: v.kpis for k, v in a.items()} == {k: v.kpis for k, v in b.items()}
    assert all(v.kpis["records_routed_out"] == 0 for v in a.values())


def test_horizons_must_agree():
    sc = _province()
    other = sc[1].scenario.model_copy(
        update={"horizon": sc[1].scenario.horizon.model_copy(update={"days": 3})}
    )
    with pytest.raises(ValueError, match="one horizon"):
        simulate_province([sc[0], ProvinceCenter("quiet", other)], seed=1, replication=0)
