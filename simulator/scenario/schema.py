"""The JSON Schema of the scenario format, generated from the same models that
validate it, so editors (VS Code's YAML extension, ...) complete and check keys.

Point an editor at ``scenarios/pasc-scenario.schema.json``, e.g. with a first
line ``# yaml-language-server: $schema=pasc-scenario.schema.json``.
"""

from __future__ import annotations

from typing import Any

from simulator.scenario.models import Scenario


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pasc scenario"
    # A file that ``extends:`` another may leave out any key its parent has, so
    # no top-level key can be required by the schema (pasc validate still checks
    # the merged scenario).
    schema.pop("required", None)
    schema.setdefault("properties", {})["extends"] = {
        "type": "string",
        "description": "Another scenario file (relative path) whose keys this one overrides.",
    }
    return schema
