"""The scenario format: YAML -> validated, typed objects (documented in docs/scenarios.md)."""

from simulator.scenario.errors import Problem, ScenarioError
from simulator.scenario.loader import (
    deep_merge,
    load_scenario,
    scenario_to_dict,
    scenario_to_yaml,
    set_key,
    validate_scenario,
)
from simulator.scenario.models import Scenario, Target

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "Target",
    "deep_merge",
    "load_scenario",
    "scenario_to_dict",
    "scenario_to_yaml",
    "set_key",
    "validate_scenario",
]
