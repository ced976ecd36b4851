"""Reading scenario files: YAML (safe_load only), ``extends:``, validation.

``load_scenario`` turns a YAML file into a validated :class:`Scenario` or
raises :class:`ScenarioError` listing every problem with its key path. A file
may start from another one::

    extends: quang-nam-urban-ward.yaml    # relative to this file
    name: quang-nam-rural-commune
    demand: {records_per_day: 35}         # mappings merge key by key

Mappings are merged key by key; lists (procedures, desks, targets) replace
the parent's list whole, so what you read is what runs. An ``empirical``
distribution's source is replaced whole too: a file that gives ``values:`` or
``file:`` drops the parent's other one.

Files as people save them: UTF-8 with or without a byte-order mark, and UTF-16
(little or big endian) with one, as Windows editors write "Unicode" text
(:func:`decode_text`, also used for province files and CSV tables). Any other
encoding is an error naming the byte offset of the first byte that is not
UTF-8. YAML is read with the C-accelerated safe loader when PyYAML has one.

An ``empirical`` distribution may take its values from a CSV column
(``{dist: empirical, file: times.csv, column: minutes}``, relative to the file
that says so); the column is read here, so the model gets plain values.
"""

from __future__ import annotations

import codecs
import copy
import csv
import difflib
import functools
import io
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.distributions import empirical_sha256
from simulator.kpis import kpi_names_for
from simulator.scenario.channels import CHANNEL_KINDS
from simulator.scenario.errors import Problem, ScenarioError, problems_from_validation, repeats
from simulator.scenario.models import (
    DUPLICATES_CHECKED,
    HOURLY_KPIS,
    SHARE_TOLERANCE,
    WEEKDAYS,
    Scenario,
)

RESERVED_DESK_NAMES = ("back-office", "postal-agents")

#: libyaml's safe loader and dumper when PyYAML was built with it (several times
#: faster on long value lists), else the pure-Python ones. Both are safe: no tag
#: builds a Python object.
YAML_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAML_DUMPER: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
#: A YAML error in a file up to this size is re-read by the pure-Python loader,
#: whose messages are more precise (it names the offending character).
_PRECISE_MESSAGE_CHARS = 1_000_000

#: An ``empirical`` distribution read from a file with more values than this is
#: written back (run folders, ``scenario_to_yaml``) as its file reference with a
#: ``sha256`` of the values; smaller ones are written inline.
EMPIRICAL_INLINE_LIMIT = 10_000
#: The keys that say where an empirical distribution's values come from.
EMPIRICAL_SOURCE_KEYS = ("values", "file", "column", "sha256")

_BYTE_ORDER_MARKS = (
    # UTF-32 first: its little-endian mark starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_SAVE_AS_UTF8 = "save the file as UTF-8 (Save as... > Encoding: UTF-8)"


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
    # Files named by overrides (or by a mapping) are relative to the scenario
    # file (or the working folder); those of each file read were anchored to it.
    read_empirical_files(raw, file.parent if file is not None else Path("."), file)
    return validate_scenario(raw, file)


def validate_scenario(raw: Mapping[str, Any], file: str | Path | None = None) -> Scenario:
    """Validate an already-merged mapping (no ``extends:``) into a Scenario.

    Repeated procedure ids, desk names and disruption names are reported first,
    naming both positions, also when other keys are wrong as well. An
    ``empirical`` distribution must already hold its values (``load_scenario``
    reads ``file:`` columns).
    """
    problems = duplicate_problems(raw)
    try:
        scenario = Scenario.model_validate(raw, context={DUPLICATES_CHECKED: True})
    except ValidationError as err:
        problems += problems_from_validation(err, Scenario)
        raise ScenarioError(file, problems) from None
    problems += consistency_problems(scenario)
    if problems:
        raise ScenarioError(file, problems)
    return scenario


#: Lists whose items must differ in one key: (key path of the list, key, what,
#: whether the problem is reported at the list). Repeated desk names are
#: reported at ``staff.desks`` (the key path this has always had), the others
#: at the repeated key.
UNIQUE_KEYS = (
    ("procedures", "id", "procedure ids", False),
    ("staff.desks", "name", "desk names", True),
    ("disruptions", "name", "disruption names", False),
)


def duplicate_problems(raw: Mapping[str, Any]) -> list[Problem]:
    """Repeated ids and names, each with both positions.

    ``procedures.3.id: expected unique procedure ids, found 'birth' also at
    procedures.0.id``; ``staff.desks: expected unique desk names, found 'alpha'
    at staff.desks.2.name, also at staff.desks.0.name``. Read from the mapping
    as written, so a duplicate is reported even when the items have other
    mistakes.
    """
    problems: list[Problem] = []
    for where, key, what, at_list in UNIQUE_KEYS:
        items: Any = raw
        for part in where.split("."):
            items = items.get(part) if isinstance(items, Mapping) else None
        if not isinstance(items, list):
            continue
        values = [
            item.get(key) if isinstance(item, Mapping) and isinstance(item.get(key), str) else None
            for item in items
        ]
        for i, j in repeats(values):
            here, first = f"{where}.{i}.{key}", f"{where}.{j}.{key}"
            if at_list:
                problem = Problem(
                    where, f"expected unique {what}, found {values[i]!r} at {here}, also at {first}"
                )
            else:
                problem = Problem(
                    here, f"expected unique {what}, found {values[i]!r} also at {first}"
                )
            problems.append(problem)
    return problems


def decode_text(raw: bytes, file: str | Path | None) -> str:
    """The text of a file's bytes: UTF-8 (with or without a byte-order mark) or,
    by their byte-order mark, UTF-16 or UTF-32 (little or big endian).

    Anything else that is not valid UTF-8 (Windows-1258, TCVN3, VNI, ...) is a
    :class:`ScenarioError` naming ``file``, the byte offset (and line) of the
    first byte that does not decode, and saying to save the file as UTF-8.
    The one place where scenario, province and CSV files are decoded.
    """
    codec, label, start = "utf-8", "UTF-8", 0
    for mark, name, what in _BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            codec, label, start = name, what, len(mark)
            break
    body = raw[start:]
    nul = body.find(b"\x00") if start == 0 else -1
    if nul >= 0:  # NUL is valid UTF-8, but no text file holds one
        message = (
            f"expected text saved as UTF-8, found a NUL byte at byte offset {nul} "
            f"(UTF-16 without a byte-order mark?); {_SAVE_AS_UTF8}"
        )
        raise ScenarioError(file, [Problem("", message)])
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = body[: exc.start].decode(codec).count("\n") + 1
        if label == "UTF-8":
            found = (
                f"byte 0x{raw[offset]:02x} at byte offset {offset} (line {line}), which is "
                f"not UTF-8 (a legacy encoding such as Windows-1258, TCVN3 or VNI?)"
            )
        else:
            found = (
                f"bytes that are not {label} at byte offset {offset} (line {line}), after a "
                f"{label} byte-order mark"
            )
        message = f"expected text saved as UTF-8, found {found}; {_SAVE_AS_UTF8}"
        raise ScenarioError(file, [Problem("", message)]) from None
    return text


def read_text_file(file: Path, expected: str = "a scenario file") -> str:
    """A text file's content (:func:`decode_text`), or ScenarioError naming the file.

    ``expected`` words the message for a missing file: "expected a scenario
    file, found no such file".
    """
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(
            file, [Problem("", f"expected {expected}, found no such file")]
        ) from None
    except IsADirectoryError:
        raise ScenarioError(file, [Problem("", f"expected {expected}, found a folder")]) from None
    except OSError as exc:
        raise ScenarioError(file, [Problem("", f"cannot read the file: {exc.strerror}")]) from None
    return decode_text(raw, file)


def parse_yaml(text: str, file: str | Path | None) -> Any:
    """Safely parse YAML text, or ScenarioError naming the file, line and key path.

    A tag that would build a Python object (``!!python/object/apply:os.system``)
    is refused, and the message names the key it sits under.
    """
    try:
        return yaml.load(text, Loader=YAML_LOADER)  # a safe loader (see YAML_LOADER)
    except yaml.YAMLError as exc:
        error = exc
    if YAML_LOADER is not yaml.SafeLoader and len(text) <= _PRECISE_MESSAGE_CHARS:
        try:
            yaml.load(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            error = exc
    raise ScenarioError(file, [_yaml_problem(error, text)]) from None


def _yaml_problem(exc: yaml.YAMLError, text: str) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, yaml.constructor.ConstructorError) and mark is not None:
        path = yaml_key_path_at(text, mark.line, mark.column)
        tag = re.search(r"tag '([^']+)'", problem)
        if tag is not None:
            name = tag.group(1).replace("tag:yaml.org,2002:", "!!")
            why = (
                "it would build a Python object and could run code"
                if "python/" in name
                else "the scenario format has no tags"
            )
            return Problem(
                path, f"expected valid YAML, found the tag {name!r} at {where}, refused ({why})"
            )
        return Problem(path, f"expected valid YAML, found {problem} at {where}")
    return Problem("", f"expected valid YAML, found a syntax error at {where}: {problem}")


def yaml_key_path_at(text: str, line: int, column: int) -> str:
    """The dotted key path of the YAML node at ``line``/``column`` (0-based), or ``""``.

    Composes the node tree (no objects are built, so unknown tags are fine) and
    walks down through the mappings and lists that contain the position.
    """
    try:
        node = yaml.compose(text, Loader=YAML_LOADER)
    except yaml.YAMLError:
        return ""
    where = (line, column)

    def contains(n: yaml.Node) -> bool:
        start = (n.start_mark.line, n.start_mark.column)
        end = (n.end_mark.line, n.end_mark.column)
        return start <= where < end or start == where

    parts: list[str] = []
    while node is not None:
        children: list[tuple[str, yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if contains(key):
                    parts.append(str(key.value) if isinstance(key, yaml.ScalarNode) else "?")
                    return ".".join(parts)
                children.append(
                    (str(key.value) if isinstance(key, yaml.ScalarNode) else "?", value)
                )
        elif isinstance(node, yaml.SequenceNode):
            children = [(str(i), item) for i, item in enumerate(node.value)]
        node = next((child for _, child in children if contains(child)), None)
        if node is not None:
            parts.append(next(name for name, child in children if child is node))
    return ".".join(parts)


def read_yaml_mapping(file: Path) -> dict[str, Any]:
    """A YAML file's top-level mapping (safe loading), or ScenarioError naming the file."""
    data = parse_yaml(read_text_file(file), file)
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
    _anchor_empirical_files(data, file.parent)
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
    """``base`` updated by ``override``: mappings merge, everything else replaces.

    An ``empirical`` distribution's source is not merged: an override giving
    ``values`` or ``file`` drops the base's ``values``, ``file``, ``column`` and
    ``sha256``; one giving only ``column`` keeps the base's file.
    """
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            below = out[key]
            if "empirical" in (below.get("dist"), value.get("dist")):
                if "values" in value or "file" in value:
                    dropped: tuple[str, ...] = EMPIRICAL_SOURCE_KEYS
                else:
                    dropped = ("values", "sha256") if "column" in value else ()
                below = {k: v for k, v in below.items() if k not in dropped}
            out[key] = deep_merge(below, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _empirical_mappings(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``{dist: empirical, ...}`` mapping below ``node``, with its key path."""
    if isinstance(node, dict):
        if node.get("dist") == "empirical":
            yield path, node
            return  # not into its (possibly long) list of values
        for key, value in node.items():
            if isinstance(value, dict | list):
                yield from _empirical_mappings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, dict | list):
                yield from _empirical_mappings(value, f"{path}.{i}" if path else str(i))


def _anchor_empirical_files(data: dict[str, Any], folder: Path) -> None:
    """Make the ``file:`` of each empirical distribution absolute, from ``folder``.

    Done for every file read, before ``extends:`` merges it, so a name is
    always relative to the file that wrote it.
    """
    for _, mapping in _empirical_mappings(data):
        name = mapping.get("file")
        if isinstance(name, str) and name.strip():
            mapping["file"] = str((folder / name.strip()).resolve())


def read_empirical_files(raw: dict[str, Any], folder: Path, file: str | Path | None) -> None:
    """Read the CSV column of every ``{dist: empirical, file:, column:}`` into ``values``.

    Relative names are taken from ``folder``. ``file`` becomes the absolute path
    and ``column`` the column read, as a record of where the values came from.
    Every problem (no such file, no such column, a value that is not a number
    >= 0) is a :class:`ScenarioError` with the key path, e.g.
    ``procedures.0.intake_minutes.file``.
    """
    problems: list[Problem] = []
    for path, mapping in _empirical_mappings(raw):
        if "file" not in mapping:
            if "column" in mapping:
                problems.append(
                    Problem(f"{path}.column", "expected a file with the column, found no file")
                )
            continue
        name = mapping["file"]
        if "values" in mapping:
            problems.append(
                Problem(
                    f"{path}.file",
                    "expected either values or file (with column), found both",
                )
            )
            continue
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(f"{path}.file", f"expected a CSV file name, found {name!r}"))
            continue
        column = mapping.get("column")
        if column is not None and not isinstance(column, str):
            column = str(column)  # a header such as 2024 is read by YAML as a number
        table = (folder / name.strip()).resolve()
        try:
            values, found_column = read_csv_column(table, column)
        except _ColumnError as exc:
            problems.append(Problem(f"{path}.{exc.key}", exc.message))
            continue
        mapping["values"] = values
        mapping["file"] = str(table)
        mapping["column"] = found_column
    if problems:
        raise ScenarioError(file, problems)


class _ColumnError(Exception):
    """A problem with an empirical distribution's CSV column (``key`` is file or column)."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key, self.message = key, message


def read_csv_column(table: Path, column: str | None) -> tuple[list[float], str]:
    """The numbers of one column of a CSV file (header row first) and the column's name.

    ``column`` may be left out when the table has a single column. The
    separator is the first of ``,``, ``;`` or a tab found in the header (Excel
    writes ``;`` in locales with a decimal comma, and tabs as "Unicode text");
    with ``;`` or tabs a decimal comma is read as a point. Blank cells are
    skipped (columns of a sheet may differ in length); anything else must be a
    number >= 0. Tables are read once per content (cached by path, size and
    modification time), so many scenarios on one table read it once.
    """
    try:
        stat = table.stat()
    except FileNotFoundError:
        raise _ColumnError(
            "file", f"expected an existing CSV file, found no such file: {table}"
        ) from None
    except OSError as exc:
        raise _ColumnError("file", f"cannot read {table}: {exc.strerror}") from None
    values, found = _read_csv_column_cached(str(table), column, stat.st_mtime_ns, stat.st_size)
    return list(values), found


@functools.lru_cache(maxsize=8)
def _read_csv_column_cached(
    table_name: str, column: str | None, mtime_ns: int, size: int
) -> tuple[tuple[float, ...], str]:
    table = Path(table_name)
    try:
        text = read_text_file(table, "a CSV file")
    except ScenarioError as exc:
        raise _ColumnError("file", f"{table}: {exc.problems[0].message}") from None
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]
    delimiter = next((d for d in (",", ";", "\t") if d in first_line), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [cell.strip() for cell in next(reader, [])]
    if not any(header):
        raise _ColumnError(
            "file", f"expected a header row naming the columns of {table}, found none"
        )
    if column is None:
        if len(header) != 1:
            raise _ColumnError(
                "column",
                f"expected the column to read from {table.name} ({', '.join(header)}), "
                f"found nothing",
            )
        column = header[0]
    if column.strip() not in header:
        hint = difflib.get_close_matches(column, header, n=1)
        raise _ColumnError(
            "column",
            f"expected a column of {table.name} ({', '.join(header)}), found {column!r}"
            + (f" (did you mean {hint[0]!r}?)" if hint else ""),
        )
    column = column.strip()
    index = header.index(column)
    decimal_comma = delimiter != ","
    values: list[float] = []
    bad: list[tuple[int, str]] = []
    for row in reader:
        cell = row[index].strip() if index < len(row) else ""
        if not cell:
            continue
        try:
            x = float(cell.replace(",", ".") if decimal_comma else cell)
        except ValueError:
            x = math.nan
        if not (math.isfinite(x) and x >= 0):
            bad.append((reader.line_num, cell))
            continue
        values.append(x)
    if bad:
        row_number, cell = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise _ColumnError(
            "file",
            f"expected numbers >= 0 in column {column!r} of {table.name}, found {cell!r} "
            f"in row {row_number}{more}",
        )
    if not values:
        raise _ColumnError(
            "file", f"expected at least one value in column {column!r} of {table.name}, found none"
        )
    return tuple(values), column


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
                _count_replaces_schedule(parts, node, part, value)
            else:
                node = node.setdefault(part, {})
        else:
            raise KeyError(f"expected a mapping or list at {'.'.join(parts[:i])}, found {node!r}")


def _count_replaces_schedule(parts: list[str], node: dict, key: str, value: Any) -> None:
    """A number given for a desk group's ``count`` (or ``staff.back_office``) is a flat
    staffing: it replaces the pool's schedule, however the file wrote it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if key == "count" and parts[:2] == ["staff", "desks"] and len(parts) == 4:
        node.pop("schedule", None)
    elif parts == ["staff", "back_office"]:
        node.pop("back_office_schedule", None)


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
    ids = [p.id for p in sc.procedures]  # repeats: duplicate_problems
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
    for ch in CHANNEL_KINDS:
        if shares[ch] > 0 and not any(
            p.channels is None or ch in p.channels for p in sc.procedures
        ):
            problems.append(
                Problem(
                    f"demand.channels.{ch}",
                    f"expected some procedure filed by {ch}, found none allowing it",
                )
            )
    for ch, kind in CHANNEL_KINDS.items():
        if kind.taken_in_by == "postal_agents" and shares[ch] > 0 and sc.staff.postal_agents == 0:
            problems.append(
                Problem(
                    "staff.postal_agents",
                    f"expected at least 1 postal agent to receive {ch} records "
                    f"(demand.channels.{ch} is {shares[ch]:g}), found 0",
                )
            )
    problems.extend(schedule_problems(sc))
    if sc.sign_off is not None:
        for i, pid in enumerate(sc.sign_off.procedures):
            if pid not in ids:
                problems.append(
                    Problem(
                        f"sign_off.procedures.{i}",
                        f"expected a procedure id ({', '.join(ids)}), found {pid!r}",
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
    for i, outage in enumerate(sc.disruptions):  # repeated names: duplicate_problems
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
        if t.per == "hour" and t.kpi not in HOURLY_KPIS:
            problems.append(
                Problem(
                    f"targets.{i}.kpi",
                    f"expected a KPI measured hour by hour ({', '.join(HOURLY_KPIS)}) with "
                    f"per: hour, found {t.kpi!r}",
                )
            )
            continue
        if t.kpi not in known:
            problems.append(
                Problem(
                    f"targets.{i}.kpi",
                    f"expected a KPI name such as {', '.join(known[:4])}, ..., found {t.kpi!r}",
                )
            )
    return problems


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def schedule_problems(sc: Scenario) -> list[Problem]:
    """Staff schedules that do not fit the calendar or leave a needed desk empty."""
    problems: list[Problem] = []
    spans = sc.calendar.open_spans_minutes()
    weekdays = sc.calendar.weekdays if sc.calendar.type == "office" else list(WEEKDAYS)
    opening, closing = spans[0][0], spans[-1][1]
    pools = [(f"staff.desks.{i}", d.count, d.schedule) for i, d in enumerate(sc.staff.desks)]
    pools.append(("staff.back_office", sc.staff.back_office, sc.staff.back_office_schedule))
    for where, count, schedule in pools:
        if schedule is None:
            continue
        key = f"{where}.schedule" if where != "staff.back_office" else "staff.back_office_schedule"
        days = [("", schedule)] + [
            (f".weekdays.{w}", day) for w, day in (schedule.weekdays or {}).items()
        ]
        for suffix, day in days:
            if day.by_session is not None and len(day.by_session) != len(spans):
                problems.append(
                    Problem(
                        f"{key}{suffix}.by_session",
                        f"expected one count per opening session ({len(spans)}: "
                        f"{', '.join(f'{_clock(a)}-{_clock(b)}' for a, b in spans)}), "
                        f"found {len(day.by_session)}",
                    )
                )
            for j, shift in enumerate(day.shifts or []):
                a, b = shift.minutes()
                if a < opening or b > closing:
                    problems.append(
                        Problem(
                            f"{key}{suffix}.shifts.{j}",
                            f"expected a shift within the opening hours "
                            f"{_clock(opening)}-{_clock(closing)}, found {shift.start}-{shift.end}",
                        )
                    )
        most = schedule.most_on_duty(spans, weekdays)
        if most == 0:
            problems.append(Problem(key, "expected someone on duty at some time, found nobody"))
        elif count is not None and count < most:
            count_key = f"{where}.count" if where != "staff.back_office" else where
            problems.append(
                Problem(
                    count_key,
                    f"expected at least the most staff on duty in its schedule ({most}), "
                    f"found {count}",
                )
            )
    # Walk-ins of a field need someone on duty at a desk covering it in every open hour.
    if problems:
        return problems
    desk_fields = {
        p.field
        for p in sc.procedures
        if any(
            sc.channel_shares()[ch] > 0 and CHANNEL_KINDS[ch].taken_in_by == "desk"
            for ch in CHANNEL_KINDS
            if p.channels is None or ch in p.channels
        )
    }
    for field in sorted(desk_fields):
        groups = [(i, d) for i, d in enumerate(sc.staff.desks) if field in d.fields]
        if not any(d.schedule is not None for _, d in groups):
            continue
        for w in weekdays:
            on = [0] * 1440
            for _, d in groups:
                if d.schedule is None:
                    on = [n + d.count for n in on]
                    continue
                changes = d.schedule.for_weekday(w).changes(spans, w) + [(1440, 0)]
                for (m0, n), (m1, _) in zip(changes, changes[1:], strict=False):
                    for m in range(m0, m1):
                        on[m] += n
            empty = [m for a, b in spans for m in range(a, b) if on[m] == 0]
            if empty:
                where = (
                    f"staff.desks.{groups[0][0]}.schedule" if len(groups) == 1 else "staff.desks"
                )
                problems.append(
                    Problem(
                        where,
                        f"expected someone on duty for field {field!r} whenever the center is "
                        f"open, found nobody from {_clock(empty[0])} on {w}",
                    )
                )
                break
    return problems


def scenario_to_dict(sc: Scenario) -> dict[str, Any]:
    """The fully resolved scenario as plain data (what a run folder stores).

    An ``empirical`` distribution is written with its values inline, except one
    read from a file with more than :data:`EMPIRICAL_INLINE_LIMIT` values: that
    one is written as its file reference (absolute path, column) with the
    ``sha256`` of the values, so a run folder stays small and loading it back
    reads the same numbers or says that the file changed.
    """
    data = sc.model_dump(mode="json", by_alias=True, exclude_none=True)
    if sc.calendar.type == "continuous":
        # Open 24 h: the default sessions would make the stored file invalid.
        data["calendar"].pop("sessions", None)
    for _, mapping in _empirical_mappings(data):
        values = mapping.get("values") or []
        if "file" in mapping and len(values) > EMPIRICAL_INLINE_LIMIT:
            mapping["sha256"] = mapping.get("sha256") or empirical_sha256(values)
            del mapping["values"]
        else:
            for key in ("file", "column", "sha256"):
                mapping.pop(key, None)
    return data


class _FlowList(list):
    """A list written on one line: ``values: [4.5, 6.0, ...]``."""


class _ScenarioDumper(YAML_DUMPER):  # type: ignore[misc, valid-type]
    """The safe dumper, with empirical values in flow style (compact and quick)."""


_ScenarioDumper.add_representer(
    _FlowList,
    lambda dumper, items: dumper.represent_sequence("tag:yaml.org,2002:seq", items, True),
)


def scenario_to_yaml(sc: Scenario) -> str:
    """The resolved scenario as YAML text that :func:`load_scenario` reads back."""
    data = scenario_to_dict(sc)
    for _, mapping in _empirical_mappings(data):
        if "values" in mapping:
            mapping["values"] = _FlowList(mapping["values"])
    return yaml.dump(data, Dumper=_ScenarioDumper, sort_keys=False, allow_unicode=True)
