"""The scenario editor's form, generated from the pydantic scenario models.

The form covers the keys planners change most (general settings, demand and
channels, desks and staff, procedures, targets). Which inputs exist, their
kind (number, whole number, text, choice, list) and their bounds come from the
models in :mod:`simulator.scenario.models`, so a new key or a changed bound in
the format shows up here without editing this module. Every input is named by
its dotted key path (``staff.desks.0.count``): the same path the CLI's error
messages use, so an error is shown beside the input it is about.

The YAML text beside the form is the source of truth: a submitted form is
applied on top of it, key by key, and only the inputs whose value changed are
written (a value left as it was does not add a default to the file).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any

import annotated_types
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from simulator.distributions import Distribution
from simulator.scenario import set_key
from simulator.scenario.channels import CHANNEL_KINDS
from simulator.scenario.models import (
    Channels,
    Commune,
    Demand,
    Desk,
    Horizon,
    Procedure,
    Scenario,
    Staff,
    Target,
)
from simulator.web.i18n import N_


@dataclass
class FormField:
    """One input: its key path, kind, current value as text and bounds."""

    path: str
    key: str
    kind: str  # number | integer | text | choice | list
    value: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    options: list[str] = field(default_factory=list)
    label: str = ""  # shown as is; else the key's label (KEY_LABELS), else the key


@dataclass
class FormGroup:
    """A titled block of inputs (one desk, one procedure, demand, ...)."""

    title: str
    subtitle: str
    fields: list[FormField]


#: Display labels of keys (msgids), by key name; the input still says its key path.
KEY_LABELS: dict[str, str] = {
    "name": N_("Name"),
    "description": N_("Description"),
    "seed": N_("Seed"),
    "replications": N_("Replications"),
    "days": N_("Measured working days"),
    "warmup_days": N_("Warm-up working days"),
    "class": N_("Commune class"),
    "quota_records_per_staff_year": N_("Quota (records per staff member per year)"),
    "records_per_day": N_("Records per working day"),
    "walk_in": N_("Share walk-in"),
    "online": N_("Share online"),
    "postal": N_("Share by post"),
    "priority_share": N_("Share of priority citizens"),
    "online_fallback_share": N_("Share of online filers who walk in instead"),
    "return_after_abandon_share": N_("Share who come back after leaving"),
    "postal_delivery_working_days": N_("Postal delivery (working days)"),
    "count": N_("Staff at this desk"),
    "fields": N_("Fields served (comma-separated)"),
    "availability": N_("Share of open hours spent on records"),
    "other_duties_block_minutes": N_("Length of one block of other duties (min)"),
    "back_office": N_("Dedicated back-office staff"),
    "postal_agents": N_("Postal agents"),
    "absence_share": N_("Absence share"),
    "back_office_slice_minutes": N_("Back-office work slice (min)"),
    "id": N_("Procedure id"),
    "field": N_("Field"),
    "share": N_("Share of records"),
    "deadline_working_days": N_("Statutory deadline (working days)"),
    "reject_share": N_("Share rejected at intake"),
    "mean": N_("mean (min)"),
    "sd": N_("standard deviation (min)"),
    "cv": N_("coefficient of variation"),
    "min": N_("minimum"),
    "max": N_("maximum"),
    "mode": N_("most likely"),
    "value": N_("value"),
    "kpi": N_("KPI"),
    "intake_minutes": N_("Intake time at the desk"),
    "processing_minutes": N_("Back-office processing time"),
}

#: Keys left to the YAML text (structured values a small input cannot hold well).
_YAML_ONLY = {
    "hourly_profile",
    "patience_minutes",
    "postal_intake_minutes",
    "learning_curve",
    "rework",
    "linked_steps",
    "channels",
    "desks",
    "source",
    "horizon",
    "calendar",
    "commune",
    "demand",
    "procedures",
    "staff",
    "targets",
    "backlog",
    "disruptions",
    "calibration",
}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``Optional`` / ``Annotated``, and whether None is allowed."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                return annotation, optional
            annotation = args[0]
        else:
            return annotation, optional


def _bounds(info: FieldInfo, annotation: Any) -> tuple[float | None, float | None, bool]:
    """(minimum, maximum, exclusive minimum) from the field and its Annotated metadata."""
    metadata = list(info.metadata)
    inner = annotation
    while True:
        origin = typing.get_origin(inner)
        if origin is typing.Annotated:
            metadata += list(typing.get_args(inner)[1:])
            inner = typing.get_args(inner)[0]
        elif typing.get_args(inner) and origin is not typing.Literal:
            args = [a for a in typing.get_args(inner) if a is not type(None)]
            if len(args) != 1:
                break
            inner = args[0]
        else:
            break
    low = high = None
    exclusive = False
    for m in metadata:
        for item in getattr(m, "metadata", [m]):
            if isinstance(item, annotated_types.Ge):
                low = float(item.ge)
            elif isinstance(item, annotated_types.Gt):
                low, exclusive = float(item.gt), True
            elif isinstance(item, annotated_types.Le):
                high = float(item.le)
            elif isinstance(item, annotated_types.Lt):
                high = float(item.lt)
    return low, high, exclusive


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else str(value)
    return str(value)


def model_fields(
    model: type[BaseModel], data: Any, prefix: str, skip: tuple[str, ...] = ()
) -> list[FormField]:
    """The scalar inputs of ``model`` at key path ``prefix``, valued from ``data``.

    Numbers, whole numbers, text, choices (``Literal``) and lists of names
    become inputs; nested mappings and distributions stay in the YAML (the
    editor adds the numbers of a procedure's time distributions itself).
    """
    data = data if isinstance(data, dict) else {}
    out = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in _YAML_ONLY or key in skip:
            continue
        base, optional = _unwrap(info.annotation)
        low, high, exclusive = _bounds(info, info.annotation)
        origin = typing.get_origin(base)
        options: list[str] = []
        if base is int:
            kind = "integer"
        elif base is float:
            kind = "number"
        elif base is str:
            kind = "text"
        elif origin is typing.Literal:
            kind, options = "choice", [str(a) for a in typing.get_args(base)]
        elif origin is list and _unwrap(typing.get_args(base)[0])[0] is str:
            kind = "list"
        else:
            continue
        if key in data:
            value = data[key]
        elif info.is_required():
            value = None
        else:
            value = info.get_default(call_default_factory=True)
        out.append(
            FormField(
                path=f"{prefix}{key}",
                key=key,
                kind=kind,
                value=_text(value),
                required=info.is_required() and not optional,
                minimum=low,
                maximum=high,
                exclusive_minimum=exclusive,
                options=options,
            )
        )
    return out


def _distribution_fields(data: Any, prefix: str) -> list[FormField]:
    """The numbers of a time distribution written as a mapping (``mean``, ``sd``, ...)."""
    if not isinstance(data, dict) or "dist" not in data:
        return []
    model = next(
        (
            c
            for c in typing.get_args(_unwrap(Distribution)[0])
            if isinstance(c, type)
            and data["dist"] in typing.get_args(c.model_fields["dist"].annotation)
        ),
        None,
    )
    if model is None:
        return []
    fields = model_fields(model, data, prefix, skip=("dist",))
    return [f for f in fields if f.kind in ("number", "integer")]


def _channel_fields(data: Any) -> list[FormField]:
    """A share input for every declared channel: the built-in three of
    :class:`Channels`, then those declared with
    :func:`~simulator.scenario.channels.declare_channel`."""
    out = model_fields(Channels, data, "demand.channels.")
    data = data if isinstance(data, dict) else {}
    for name, kind in CHANNEL_KINDS.items():
        if name not in Channels.model_fields:
            out.append(
                FormField(
                    path=f"demand.channels.{name}",
                    key=name,
                    kind="number",
                    value=_text(data.get(name, 0.0)),
                    minimum=0.0,
                    maximum=1.0,
                    label=name + (f" ({kind.label_vi})" if kind.label_vi else ""),
                )
            )
    return out


def _get(data: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    return data


def editor_groups(raw: dict[str, Any]) -> list[FormGroup]:
    """The editor's form for a scenario mapping ``raw`` (valid or not)."""
    groups = [
        FormGroup(
            N_("General"),
            "",
            model_fields(Scenario, raw, "")
            + model_fields(Horizon, _get(raw, "horizon"), "horizon.")
            + model_fields(Commune, _get(raw, "commune"), "commune."),
        ),
        FormGroup(
            N_("Demand and channels"),
            "demand",
            model_fields(Demand, _get(raw, "demand"), "demand.")
            + _channel_fields(_get(raw, "demand", "channels")),
        ),
    ]
    desks = _get(raw, "staff", "desks")
    for i, desk in enumerate(desks if isinstance(desks, list) else []):
        title = desk.get("name", str(i)) if isinstance(desk, dict) else str(i)
        groups.append(
            FormGroup(N_("Desk"), str(title), model_fields(Desk, desk, f"staff.desks.{i}."))
        )
    groups.append(
        FormGroup(N_("Staff"), "staff", model_fields(Staff, _get(raw, "staff"), "staff."))
    )
    procedures = _get(raw, "procedures")
    for i, proc in enumerate(procedures if isinstance(procedures, list) else []):
        prefix = f"procedures.{i}."
        fields = model_fields(Procedure, proc, prefix)
        for key in ("intake_minutes", "processing_minutes"):
            fields += _distribution_fields(_get(proc, key), f"{prefix}{key}.")
        title = proc.get("id", str(i)) if isinstance(proc, dict) else str(i)
        groups.append(FormGroup(N_("Procedure"), str(title), fields))
    targets = _get(raw, "targets")
    for i, target in enumerate(targets if isinstance(targets, list) else []):
        title = target.get("kpi", str(i)) if isinstance(target, dict) else str(i)
        groups.append(
            FormGroup(N_("Target"), str(title), model_fields(Target, target, f"targets.{i}."))
        )
    return groups


def parse_input(kind: str, text: str) -> Any:
    """A submitted input as the YAML value it stands for; unparsable text stays text,
    so that validation reports it with the key path (``expected a valid integer``)."""
    text = text.strip()
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    if kind in ("integer", "number"):
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return text
        if kind == "integer" and number.is_integer():
            return int(number)
        return number
    return text


def apply_form(raw: dict[str, Any], form: dict[str, str]) -> list[str]:
    """Write the inputs of ``form`` whose value differs from ``raw`` into ``raw``.

    Returns the key paths changed. An emptied optional input removes its key
    (so the model's default applies again).
    """
    changed = []
    for group in editor_groups(raw):
        for f in group.fields:
            if f.path not in form:
                continue
            submitted = str(form[f.path])
            if submitted.strip() == f.value.strip():
                continue
            if not submitted.strip() and not f.required:
                _delete_key(raw, f.path)
            else:
                set_key(raw, f.path, parse_input(f.kind, submitted))
            changed.append(f.path)
    return changed


def _delete_key(raw: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    node: Any = raw
    for part in parents:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return
    if isinstance(node, dict):
        node.pop(last, None)


def dump_yaml(raw: dict[str, Any]) -> str:
    """``raw`` as YAML text, keys in the order written, Vietnamese text kept readable."""
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)
