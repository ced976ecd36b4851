"""Reading scenario files: YAML (safe_load only), ``extends:``, validation.

``load_scenario`` turns a YAML file into a validated :class:`Scenario` or
raises :class:`ScenarioError` listing every problem with its key path. A file
may start from another one::

    extends: quang-nam-urban-ward.yaml    # relative to this file
    name: quang-nam-rural-commune
    demand: {records_per_day: 35}         # mappings merge key by key

Mappings are merged key by key; lists (procedures, desks, targets) replace
the parent's list whole, so what you read is what runs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.kpis import kpi_names_for
from simulator.scenario.errors import Problem, ScenarioError, problems_from_validation
from simulator.scenario.models import CHANNELS, SHARE_TOLERANCE, Scenario

RESERVED_DESK_NAMES = ("back-office", "postal-agents")


def load_scenario(
    source: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Read, merge (``extends:``), override and validate a scenario.

    ``source`` is a YAML file path or an already-parsed mapping. ``overrides``
    maps dotted key paths to values, as ``pasc sweep --set`` does:
    ``{"staff.desks.civil-status.count": 3}``.
    """
    if isinstance(source, Mapping):
        file: Path | None = None
        raw = copy.deepcopy(dict(source))
        reject_province(raw, file)
        if "extends" in raw:
            raise ScenarioError(None, [Problem("extends", "extends needs a file, not a mapping")])
    else:
        file = Path(source)
        raw = _read_with_extends(file, chain=())
    for path, value in (overrides or {}).items():
        try:
            set_key(raw, path, value)
        except KeyError as exc:
            raise ScenarioError(file, [Problem(path, str(exc.args[0]))]) from None
    return validate_scenario(raw, file)


def validate_scenario(raw: Mapping[str, Any], file: str | Path | None = None) -> Scenario:
    """Validate an already-merged mapping (no ``extends:``) into a Scenario."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError(file, problems_from_validation(err, Scenario)) from None
    problems = consistency_problems(scenario)
    if problems:
        raise ScenarioError(file, problems)
    return scenario


def read_yaml_mapping(file: Path) -> dict[str, Any]:
    """A YAML file's top-level mapping (safe_load), or ScenarioError naming the file."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(
            file, [Problem("", "expected a scenario file, found no such file")]
        ) from None
    except OSError as exc:
        raise ScenarioError(file, [Problem("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(
            file, [Problem("", f"expected valid YAML, found a syntax error at {where}: {problem}")]
        ) from None
    if not isinstance(data, dict):
        found = "an empty file" if data is None else type(data).__name__
        raise ScenarioError(
            file, [Problem("", f"expected a mapping of keys at the top, found {found}")]
        )
    return data


#: The top-level key that makes a YAML file a province file (as ``is_province_file`` reads it).
PROVINCE_KEY = "communes"
#: Where a province file goes instead of a one-scenario command.
PROVINCE_TAKEN_BY = "pasc province, pasc sweep (Python: simulator.scenario.province.load_province)"


def reject_province(data: Mapping[str, Any], file: str | Path | None) -> None:
    """ScenarioError when ``data`` is a province file, not one commune's scenario.

    A province file's ``communes:`` table would otherwise come out as a cascade
    of unknown and missing keys; this names what the file is and where it goes.
    """
    if PROVINCE_KEY not in data:
        return
    what = "a province file" if file is not None else "a province"
    message = (
        f"expected a commune scenario, found {what} (top-level key '{PROVINCE_KEY}'); "
        f"province files are taken by: {PROVINCE_TAKEN_BY}"
    )
    raise ScenarioError(file, [Problem("", message)])


def _read_with_extends(file: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    resolved = file.resolve()
    if resolved in chain:
        cycle = " -> ".join(p.name for p in (*chain, resolved))
        raise ScenarioError(file, [Problem("extends", f"expected no cycle, found {cycle}")])
    data = read_yaml_mapping(file)
    reject_province(data, file)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(file, [Problem("extends", f"expected a file name, found {parent!r}")])
    parent_file = file.parent / parent
    if not parent_file.is_file():
        found = "a folder" if parent_file.is_dir() else "no such file"
        msg = f"expected an existing scenario file, found {found}: {parent_file}"
        raise ScenarioError(file, [Problem("extends", msg)])
    base = _read_with_extends(parent_file, (*chain, resolved))
    return deep_merge(base, data)


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``override``: mappings merge, everything else replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_key(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted key path; list items by index or by their ``name``/``id``.

    ``staff.desks.0.count`` and ``staff.desks.civil-status.count`` are the same
    key. Intermediate mappings are created when missing.
    """
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            index = _list_index(node, part, ".".join(parts[: i + 1]))
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise KeyError(f"expected a mapping or list at {'.'.join(parts[:i])}, found {node!r}")


def _list_index(items: list[Any], part: str, where: str) -> int:
    if part.isdigit() and int(part) < len(items):
        return int(part)
    for j, item in enumerate(items):
        if isinstance(item, dict) and part in (item.get("name"), item.get("id")):
            return j
    names = [str(it.get("name", it.get("id"))) for it in items if isinstance(it, dict)]
    raise KeyError(
        f"expected an index below {len(items)} or one of {', '.join(names)} at {where}, "
        f"found {part!r}"
    )


def consistency_problems(sc: Scenario) -> list[Problem]:
    """Checks that span several keys (the models check one mapping each)."""
    problems: list[Problem] = []
    total = sum(p.share for p in sc.procedures)
    if abs(total - 1) > SHARE_TOLERANCE:
        problems.append(
            Problem("procedures", f"expected procedure shares summing to 1, found {total:g}")
        )
    ids = [p.id for p in sc.procedures]
    for i, pid in enumerate(ids):
        if pid in ids[:i]:
            problems.append(
                Problem(f"procedures.{i}.id", f"expected a unique id, found {pid!r} again")
            )
    covered = sorted({f for d in sc.staff.desks for f in d.fields})
    for i, p in enumerate(sc.procedures):
        if p.field not in covered:
            problems.append(
                Problem(
                    f"procedures.{i}.field",
                    f"expected a field that some desk covers ({', '.join(covered)}), "
                    f"found {p.field!r}",
                )
            )
    shares = sc.channel_shares()  # after the online fallback
    for ch in CHANNELS:
        if shares[ch] > 0 and not any(
            p.channels is None or ch in p.channels for p in sc.procedures
        ):
            problems.append(
                Problem(
                    f"demand.channels.{ch}",
                    f"expected some procedure filed by {ch}, found none allowing it",
                )
            )
    if shares["postal"] > 0 and sc.staff.postal_agents == 0:
        problems.append(
            Problem(
                "staff.postal_agents",
                f"expected at least 1 postal agent to receive postal records "
                f"(demand.channels.postal is {shares['postal']:g}), found 0",
            )
        )
    weights = sc.profile_weights()
    open_hours = {
        h for a, b in sc.calendar.open_spans_minutes() for h in range(a // 60, (b + 59) // 60)
    }
    if not any(weights.get(h, 0) > 0 for h in open_hours):
        problems.append(
            Problem(
                "demand.hourly_profile",
                f"expected some weight in the open hours {sorted(open_hours)}, found none",
            )
        )
    for i, item in enumerate(sc.backlog):
        if item.procedure not in ids:
            problems.append(
                Problem(
                    f"backlog.{i}.procedure",
                    f"expected a procedure id ({', '.join(ids)}), found {item.procedure!r}",
                )
            )
    total_days = sc.horizon.days + sc.horizon.warmup_days
    names: list[str] = []
    for i, outage in enumerate(sc.disruptions):
        if outage.name in names:
            problems.append(
                Problem(
                    f"disruptions.{i}.name", f"expected a unique name, found {outage.name!r} again"
                )
            )
        names.append(outage.name)
        for j, window in enumerate(outage.at):
            if window.day >= total_days:
                problems.append(
                    Problem(
                        f"disruptions.{i}.at.{j}.day",
                        f"expected a working day below {total_days} (the horizon with warm-up), "
                        f"found {window.day}",
                    )
                )
    for i, d in enumerate(sc.staff.desks):
        if d.name in RESERVED_DESK_NAMES:
            problems.append(
                Problem(
                    f"staff.desks.{i}.name", f"expected a name other than {d.name!r} (reserved)"
                )
            )
    known = kpi_names_for(
        [d.name for d in sc.staff.desks], sc.staff.back_office > 0, sc.staff.postal_agents > 0
    )
    for i, item in enumerate(sc.calibration):
        if item.kpi not in known:
            problems.append(
                Problem(
                    f"calibration.{i}.kpi",
                    f"expected a KPI name such as {', '.join(known[:4])}, ..., found {item.kpi!r}",
                )
            )
    for i, t in enumerate(sc.targets):
        if t.kpi not in known:
            problems.append(
                Problem(
                    f"targets.{i}.kpi",
                    f"expected a KPI name such as {', '.join(known[:4])}, ..., found {t.kpi!r}",
                )
            )
    return problems


def scenario_to_dict(sc: Scenario) -> dict[str, Any]:
    """The fully resolved scenario as plain data (what a run folder stores)."""
    data = sc.model_dump(mode="json", by_alias=True, exclude_none=True)
    if sc.calendar.type == "continuous":
        # Open 24 h: the default sessions would make the stored file invalid.
        data["calendar"].pop("sessions", None)
    return data


def scenario_to_yaml(sc: Scenario) -> str:
    return yaml.safe_dump(scenario_to_dict(sc), sort_keys=False, allow_unicode=True)
