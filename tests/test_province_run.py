"""A province file simulated on one clock: ``run_province`` and ``pasc province``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simulator.model.province import RoutingRule
from simulator.province_run import run_province
from simulator.scenario.province import load_province

SCENARIOS = Path(__file__).parent.parent / "scenarios"


@pytest.fixture()
def province_file(tmp_path):
    data = {
        "name": "demo-province",
        "description": "a crowded ward, a quiet neighbour, a lone commune",
        "source": ["HUE"],
        "bases": {
            "urban": str(SCENARIOS / "quang-nam-urban-ward.yaml"),
            "rural": str(SCENARIOS / "quang-nam-rural-commune.yaml"),
            "disadvantaged": str(SCENARIOS / "quang-nam-disadvantaged-commune.yaml"),
        },
        "replications": 4,
        "overrides": {"horizon.days": 10},
        "communes": [
            {
                "id": "crowded",
                "name": "Crowded",
                "class": "urban",
                "records_per_day": 110,
                "neighbours": ["quiet"],
            },
            {
                "id": "quiet",
                "name": "Quiet",
                "class": "urban",
                "records_per_day": 30,
                "neighbours": ["crowded"],
            },
            {"id": "far", "name": "Far", "class": "rural", "records_per_day": 20},
        ],
    }
    path = tmp_path / "province.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_flows_are_reported_and_records_conserved(province_file):
    prov = load_province(province_file)
    result = run_province(prov, routing=RoutingRule(threshold_minutes=5, willing_share=0.9))
    k = result.kpis
    for _, rep in k.groupby("replication"):
        ended = (
            rep["records_completed"]
            + rep["records_rejected"]
            + rep["records_in_progress"]
            + rep["records_abandoned"]
        ).sum()
        assert rep["records_filed"].sum() == ended
    flows = result.flows.set_index(["origin", "destination"])["walk_ins"]
    assert flows.loc[("crowded", "quiet")] > 0
    out = k.groupby("commune")["records_routed_out"].mean()
    assert out["crowded"] == pytest.approx(flows.loc[("crowded", "quiet")])
    assert "far" not in set(result.flows["origin"]) | set(result.flows["destination"])


def test_no_routing_means_no_flows_and_is_reproducible(province_file):
    prov = load_province(province_file)
    a = run_province(prov, routing=None)
    b = run_province(prov, routing=None, workers=2)
    assert a.flows.empty
    assert a.kpis.equals(b.kpis)


def test_cli_province_json(province_file, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator.cli",
            "province",
            str(province_file),
            "--threshold",
            "5",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert [c["commune"] for c in payload["communes"]] == ["crowded", "quiet", "far"]
    assert any(f["origin"] == "crowded" for f in payload["flows"])
    folder = Path(payload["run_folder"])
    assert {"kpis.csv", "summary.csv", "flows.csv"} <= {p.name for p in folder.iterdir()}


def test_cli_province_bad_file_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncommunes: []\n")
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "province", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "bad.yaml" in proc.stderr and "Traceback" not in proc.stderr
