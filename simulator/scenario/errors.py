"""Errors in a scenario, reported the way a planner can act on them.

Every problem names the file, the key path (``procedures.2.intake_minutes.mean``),
what was expected and what was found. The CLI prints these and exits with
code 2; the Python API raises :class:`ScenarioError`.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulator.distributions import DISTRIBUTION_NAMES


@dataclass(frozen=True)
class Problem:
    """One mistake at one key path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(top level)'}: {self.message}"


class ScenarioError(ValueError):
    """A scenario file (or mapping) that cannot be simulated as written."""

    def __init__(self, file: str | Path | None, problems: list[Problem]):
        self.file = str(file) if file is not None else "<scenario>"
        self.problems = problems
        super().__init__(self.message())

    def message(self, limit: int = 12) -> str:
        lines = [f"{self.file}: {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"{self.file}: ... and {len(self.problems) - limit} more problems")
        return "\n".join(lines)


def repeats(values: Iterable[Hashable | None]) -> list[tuple[int, int]]:
    """``(position, first position)`` of every value seen before; ``None`` is skipped.

    What a duplicate message needs: ``procedures.3.id: expected unique
    procedure ids, found 'birth' also at procedures.0.id`` names both places.
    """
    first: dict[Hashable, int] = {}
    out: list[tuple[int, int]] = []
    for i, value in enumerate(values):
        if value is None:
            continue
        if value in first:
            out.append((i, first[value]))
        else:
            first[value] = i
    return out


def key_path(loc: tuple[Any, ...]) -> str:
    """pydantic's error location as a dotted key path, without union tags."""
    parts = []
    for i, item in enumerate(loc):
        # A discriminated union adds the chosen tag (e.g. 'lognormal') and
        # typed unions add type names; neither is a key the user wrote.
        if isinstance(item, str) and (
            item in DISTRIBUTION_NAMES
            or item.startswith(("literal[", "dict[", "function-"))
            or (i > 0 and item in ("str", "int", "float", "list[str]"))
        ):
            continue
        parts.append(str(item))
    return ".".join(parts)


def _found(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """Keys the model accepts at ``loc`` (the mapping that holds the unknown key)."""
    from pydantic import BaseModel

    from simulator.distributions import Distribution

    current: Any = model
    for item in loc:
        if isinstance(item, int) or current is None:
            continue
        if item in DISTRIBUTION_NAMES:  # the tag pydantic adds for a distribution
            current = next(
                c
                for c in _types_in(Distribution)
                if item in typing.get_args(c.model_fields["dist"].annotation)
            )
            continue
        fields = getattr(current, "model_fields", None)
        if fields is None:
            return []
        field = next((f for n, f in fields.items() if (f.alias or n) == item), None)
        if field is None:
            return []
        ann = field.annotation
        current = None
        for candidate in _types_in(ann):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                current = candidate
                break
    if current is None or not hasattr(current, "model_fields"):
        return []
    return [f.alias or n for n, f in current.model_fields.items()]


def _types_in(annotation: Any) -> list[Any]:
    import typing

    args = typing.get_args(annotation)
    if not args:
        return [annotation]
    out = []
    for a in args:
        out.extend(_types_in(a))
    return out


def problems_from_validation(err: ValidationError, model: Any) -> list[Problem]:
    """Translate pydantic's errors into expected/found messages."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        kind = e["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = _allowed_keys(model, loc[:-1])
            hint = difflib.get_close_matches(key, allowed, n=1)
            msg = f"unknown key {key!r}"
            if hint:
                msg += f" (did you mean {hint[0]!r}?)"
            if allowed:
                msg += f"; expected one of: {', '.join(allowed)}"
        elif kind == "missing":
            msg = "expected a value, found nothing (this key is required)"
        elif kind == "value_error":
            msg = str(e["msg"]).removeprefix("Value error, ")
        elif kind == "union_tag_invalid":
            value = e["input"].get("dist") if isinstance(e["input"], dict) else e["input"]
            msg = (
                f"expected dist to be one of {', '.join(DISTRIBUTION_NAMES)}, found {_found(value)}"
            )
        elif kind == "union_tag_not_found":
            msg = f"expected a mapping with a 'dist' key, found {_found(e['input'])}"
        else:
            text = str(e["msg"])
            text = text[0].lower() + text[1:] if text else text
            text = text.replace("input should be", "expected").replace(
                "Input should be", "expected"
            )
            # "string should match pattern ..." -> "expected string to match pattern ..."
            text = re.sub(r"^(\w+) should ", r"expected \1 to ", text)
            msg = f"{text}, found {_found(e['input'])}"
        path = key_path(loc)
        if (path, msg) not in seen:
            seen.add((path, msg))
            problems.append(Problem(path, msg))
    return problems
