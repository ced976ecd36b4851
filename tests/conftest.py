"""Shared test helpers: a small valid scenario and a YAML writer.

Both are fixtures that return plain functions, so a test calls
``minimal_scenario_dict()`` for a fresh copy and ``write_yaml(folder, name, data)``
to put it on disk (``data`` may also be raw YAML text).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml


def _minimal_scenario_dict() -> dict[str, Any]:
    """A valid, fast scenario: continuous calendar, 2 days, two desks, two procedures."""
    return {
        "name": "tiny",
        "seed": 3,
        "replications": 3,
        "horizon": {"days": 2, "warmup_days": 0},
        "calendar": {"type": "continuous"},
        "demand": {"records_per_day": 40, "channels": {"walk_in": 1.0}},
        "procedures": [
            {
                "id": "a-proc",
                "field": "a",
                "share": 0.6,
                "intake_minutes": {"dist": "exponential", "mean": 10},
            },
            {
                "id": "b-proc",
                "field": "b",
                "share": 0.4,
                "intake_minutes": {"dist": "lognormal", "mean": 8, "sd": 3},
                "deadline_working_days": 1,
            },
        ],
        "staff": {
            "desks": [
                {"name": "alpha", "count": 1, "fields": ["a"]},
                {"name": "beta", "count": 1, "fields": ["b"]},
            ]
        },
        "targets": [],
    }


def _write_yaml(folder: Path, name: str, data: Any) -> Path:
    """Write ``data`` (a mapping, or YAML text as it is) to ``folder/name``; return the path."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def minimal_scenario_dict():
    """Factory: each call returns a fresh, valid scenario mapping."""
    return _minimal_scenario_dict


@pytest.fixture(scope="session")
def write_yaml():
    """Helper: ``write_yaml(folder, name, data) -> Path``."""
    return _write_yaml


@pytest.fixture
def sweep_tiny_file(tmp_path, write_yaml) -> Path:
    """The fast two-day scenario with a wait target, so verdicts vary across a sweep grid."""
    data = _minimal_scenario_dict()
    data["targets"] = [{"kpi": "wait_minutes.p90", "max": 20}]
    return write_yaml(tmp_path, "tiny.yaml", data)


@pytest.fixture
def sweep_slow_file(tmp_path, write_yaml) -> Path:
    """The same center over 1,000 days: about 0.3 s per replication, long enough for a
    sweep to be interrupted (a process killed, a scheduler closed) with tasks in flight."""
    data = _minimal_scenario_dict()
    data["name"] = "slow"
    data["horizon"]["days"] = 1000
    return write_yaml(tmp_path, "slow.yaml", data)
