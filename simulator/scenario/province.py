"""Province files: many communes on top of one base scenario per commune class.

A province (or the whole country) is a table of communes. Each commune is its
base scenario (by class) with its own name, demand and staffing::

    name: quang-nam-demo                  # [a-z0-9-]+, names the run folder
    description: Three communes of a synthetic province.
    source: [QN-targets]
    bases:                                # one scenario per class, relative to this file
      urban: quang-nam-urban-ward.yaml
      rural: quang-nam-rural-commune.yaml
      disadvantaged: quang-nam-disadvantaged-commune.yaml
    records_per_1000_inhabitants_per_year: 125   # only used for rows giving population
    overrides: {horizon.days: 250}        # dotted key paths applied to every commune
    seed: 1                               # optional: every commune's seed
    replications: 10                      # optional: every commune's replications
    communes:                             # an inline list, or a CSV file name
      - {id: hoi-an-ward, name: Hội An, class: urban, records_per_day: 80,
         staff: {civil-status: 3, business-land: 4}, neighbours: [dien-ban]}
      - {id: dien-ban, name: Điện Bàn, class: rural, population: 40000}

As a CSV table (``communes: communes.csv``, header row; UTF-8, or UTF-16 with a
byte-order mark) the columns are ``id, name, class, records_per_day`` or
``population``, then optionally
``staff.<desk group>`` (and ``staff.back_office``, ``staff.postal_agents``),
``neighbours`` (ids separated by ``;``), ``province``, ``lat``, ``lon`` and
``notes``. A blank cell keeps the base scenario's value. Unknown columns are
errors, as unknown keys are in a scenario.

Demand from population: ``records_per_day = population / 1000 ×
records_per_1000_inhabitants_per_year / working days per year``. The default
rate, :data:`DEFAULT_RECORDS_PER_1000_PER_YEAR` = 125, is an *assumption*
derived from [HANOI]: 66,000 records in the first 3 weeks (15 working days)
over 126 communes is about 35 records per commune per working day, or 8,700
a year; with Hanoi's roughly 8.7 million inhabitants (an outside figure, not
in docs/domain.md) that is about 1,000 records per 8,000 inhabitants, i.e. ~125
per 1,000 a year. Transition weeks may run above the steady state; set the
key to your province's own figure.

Neighbours (and coordinates) are parsed and kept on each commune
(:attr:`ProvinceCommune.neighbours`) for cross-boundary routing; the
per-commune scenarios themselves do not use them.

Every mistake is reported with the file, the row (CSV) or list position, the
commune id and the column: ``communes.csv: row 17, column staff.land: expected
a desk group of the urban base (civil-status, business-land), found 'land'
(commune hn-017)``.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.scenario.errors import Problem, ScenarioError, repeats
from simulator.scenario.loader import (
    load_scenario,
    parse_yaml,
    read_text_file,
    read_yaml_mapping,
    scenario_to_dict,
)
from simulator.scenario.models import COMMUNE_CLASSES, Calendar, Scenario

#: Records a year per 1,000 inhabitants when a commune gives population, not demand.
#: An assumption derived from [HANOI] (see the module docstring).
DEFAULT_RECORDS_PER_1000_PER_YEAR = 125.0

PROVINCE_KEYS = (
    "name",
    "description",
    "source",
    "bases",
    "communes",
    "records_per_1000_inhabitants_per_year",
    "overrides",
    "seed",
    "replications",
)
BASE_COLUMNS = (
    "id",
    "name",
    "class",
    "records_per_day",
    "population",
    "neighbours",
    "province",
    "lat",
    "lon",
    "notes",
)
#: Staff columns that are not desk groups: ``staff.<key>`` sets ``staff.<key>``.
STAFF_POOLS = ("back_office", "postal_agents")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class ProvinceCommune:
    """One commune of a province file and the scenario that simulates it."""

    id: str
    name: str
    commune_class: str
    records_per_day: float
    scenario: Scenario
    population: float | None = None
    staff: dict[str, int] = field(default_factory=dict)  # as given in the file
    neighbours: tuple[str, ...] = ()
    province: str | None = None
    lat: float | None = None
    lon: float | None = None
    where: str = ""  # "row 17" or "communes.3": for messages


@dataclass
class Province:
    """A province file, resolved: one validated scenario per commune."""

    name: str
    file: Path
    communes: list[ProvinceCommune]
    bases: dict[str, Path]
    description: str = ""
    source: list[str] = field(default_factory=list)
    records_per_1000_inhabitants_per_year: float = DEFAULT_RECORDS_PER_1000_PER_YEAR

    def scenarios(self) -> list[Scenario]:
        """The communes' scenarios, in file order."""
        return [c.scenario for c in self.communes]

    def neighbours(self) -> dict[str, tuple[str, ...]]:
        """Commune id -> ids of its neighbours (symmetric only if the file says so)."""
        return {c.id: c.neighbours for c in self.communes}

    def commune(self, commune_id: str) -> ProvinceCommune:
        for c in self.communes:
            if c.id == commune_id:
                return c
        raise KeyError(commune_id)


#: A line that may start the top-level key ``communes`` (block style, maybe quoted).
_COMMUNES_LINE = re.compile(r"""^["']?communes["']?\s*:""", re.MULTILINE)


def is_province_file(path: str | Path) -> bool:
    """True when ``path`` is a YAML mapping with a ``communes`` key (a province file).

    Read as the loaders read (any encoding :func:`decode_text` accepts). A file
    without a line starting ``communes:`` (and not written as one flow
    mapping) is answered without parsing it, which matters for a scenario with
    a long inline ``empirical`` list.
    """
    try:
        text = read_text_file(Path(path))
    except ScenarioError:
        return False
    body = "\n".join(
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )
    if not _COMMUNES_LINE.search(text) and not body.lstrip().startswith("{"):
        return False
    try:
        data = parse_yaml(text, path)
    except ScenarioError:
        return False
    return isinstance(data, dict) and "communes" in data


def load_province(path: str | Path) -> Province:
    """Read a province file and build one validated scenario per commune.

    Raises :class:`ScenarioError` listing every problem (file, row or list
    position, commune id, column, expected, found).
    """
    file = Path(path)
    data = read_yaml_mapping(file)
    problems = _top_level_problems(data)
    if problems:
        raise ScenarioError(file, problems)

    rate = float(
        data.get("records_per_1000_inhabitants_per_year", DEFAULT_RECORDS_PER_1000_PER_YEAR)
    )
    overrides: dict[str, Any] = dict(data.get("overrides") or {})
    for key in ("seed", "replications"):
        if key in data:
            overrides[key] = data[key]

    bases: dict[str, Path] = {}
    base_raw: dict[str, dict[str, Any]] = {}
    for cls, name in data["bases"].items():
        base_file = file.parent / name
        bases[cls] = base_file
        if not base_file.is_file():
            raise ScenarioError(
                file,
                [Problem(f"bases.{cls}", f"expected an existing scenario file, found {name!r}")],
            )
        load_scenario(base_file)  # a mistake in the base itself names the base file
        try:
            base_sc = load_scenario(base_file, overrides=overrides)
        except ScenarioError as exc:
            # The base is valid alone: the province's overrides broke it.
            raise ScenarioError(
                file,
                [
                    Problem(
                        p.path if p.path in ("seed", "replications") else f"overrides.{p.path}",
                        f"{p.message} (applied to the {cls} base {name})",
                    )
                    for p in exc.problems
                ],
            ) from None
        base_raw[cls] = scenario_to_dict(base_sc)

    communes_value = data["communes"]
    if isinstance(communes_value, str):
        table_file = file.parent / communes_value
        rows = _read_csv(table_file)
        err_file: Path = table_file
    else:
        rows = [_flatten_inline(i, item) for i, item in enumerate(communes_value)]
        err_file = file

    communes, problems = _build_communes(rows, base_raw, rate, err_file is file)
    if problems:
        raise ScenarioError(err_file, problems)
    return Province(
        name=data["name"],
        file=file,
        communes=communes,
        bases=bases,
        description=str(data.get("description", "")),
        source=list(data.get("source") or []),
        records_per_1000_inhabitants_per_year=rate,
    )


def _top_level_problems(data: Mapping[str, Any]) -> list[Problem]:
    problems = []
    for key in data:
        if key not in PROVINCE_KEYS:
            hint = difflib.get_close_matches(str(key), PROVINCE_KEYS, n=1)
            msg = f"unknown key {key!r}"
            if hint:
                msg += f" (did you mean {hint[0]!r}?)"
            problems.append(
                Problem(str(key), msg + f"; expected one of: {', '.join(PROVINCE_KEYS)}")
            )
    for key in ("name", "bases", "communes"):
        if key not in data:
            problems.append(Problem(key, "expected a value, found nothing (this key is required)"))
    name = data.get("name")
    if name is not None and not (isinstance(name, str) and _SLUG.match(name)):
        problems.append(Problem("name", f"expected a name matching [a-z0-9-]+, found {name!r}"))
    bases = data.get("bases")
    if bases is not None:
        if not isinstance(bases, dict) or not bases:
            problems.append(
                Problem("bases", f"expected a mapping of class to scenario file, found {bases!r}")
            )
        else:
            for cls, value in bases.items():
                if cls not in COMMUNE_CLASSES:
                    problems.append(
                        Problem(
                            f"bases.{cls}",
                            f"expected a commune class ({', '.join(COMMUNE_CLASSES)}), "
                            f"found {cls!r}",
                        )
                    )
                if not isinstance(value, str):
                    problems.append(
                        Problem(f"bases.{cls}", f"expected a scenario file name, found {value!r}")
                    )
    communes = data.get("communes")
    if communes is not None and not isinstance(communes, str | list):
        problems.append(
            Problem("communes", f"expected a list or a CSV file name, found {communes!r}")
        )
    if isinstance(communes, list) and not communes:
        problems.append(Problem("communes", "expected at least one commune, found an empty list"))
    rate = data.get("records_per_1000_inhabitants_per_year")
    if rate is not None and not (_is_number(rate) and float(rate) > 0):
        problems.append(
            Problem(
                "records_per_1000_inhabitants_per_year",
                f"expected a number > 0, found {rate!r}",
            )
        )
    overrides = data.get("overrides")
    if overrides is not None and not isinstance(overrides, dict):
        problems.append(
            Problem("overrides", f"expected a mapping of key paths to values, found {overrides!r}")
        )
    for key in ("seed", "replications"):
        value = data.get(key)
        low = 0 if key == "seed" else 1
        if value is not None and not (
            isinstance(value, int) and not isinstance(value, bool) and value >= low
        ):
            problems.append(Problem(key, f"expected an integer >= {low}, found {value!r}"))
    return problems


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class _Row:
    where: str  # "row 5" (CSV line) or "communes.3"
    cells: dict[str, Any]  # column -> value (str from CSV, typed from YAML)


def _read_csv(table: Path) -> list[_Row]:
    text = read_text_file(table, "a CSV table of communes")  # UTF-8 or UTF-16, see decode_text
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        problems = []
        for column in ("id", "class"):
            if column not in header:
                problems.append(
                    Problem("header", f"expected a column {column!r}, found {', '.join(header)}")
                )
        if problems:
            raise ScenarioError(table, problems)
        rows = []
        for cells in reader:
            extra = cells.pop(None, None)  # more cells than header columns
            if extra:
                cells["(extra cells)"] = ",".join(extra)
            rows.append(_Row(f"row {reader.line_num}", dict(cells)))
    if not rows:
        raise ScenarioError(table, [Problem("", "expected at least one commune row, found none")])
    return rows


def _flatten_inline(index: int, item: Any) -> _Row:
    where = f"communes.{index}"
    if not isinstance(item, dict):
        return _Row(where, {"(entry)": item})
    cells: dict[str, Any] = {}
    for key, value in item.items():
        if key == "staff" and isinstance(value, dict):
            for desk, count in value.items():
                cells[f"staff.{desk}"] = count
        else:
            cells[str(key)] = value
    return _Row(where, cells)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any) -> float | None:
    """A finite float from a cell, or None when it is not one."""
    if _is_number(value):
        x = float(value)
    elif isinstance(value, str):
        try:
            x = float(value.strip().replace("_", ""))
        except ValueError:
            return None
    else:
        return None
    return x if math.isfinite(x) else None


class _RowProblems:
    """Collects problems of one row, worded with its position and commune id."""

    def __init__(self, row: _Row, inline: bool, out: list[Problem]):
        self.row, self.inline, self.out = row, inline, out
        self.commune_id = str(row.cells.get("id") or "?")
        self.found = 0

    def add(self, column: str, message: str) -> None:
        if self.inline:
            path = f"{self.row.where}.{column}" if column else self.row.where
        else:
            path = f"{self.row.where}, column {column}" if column else self.row.where
        self.out.append(Problem(path, f"{message} (commune {self.commune_id})"))
        self.found += 1


def _build_communes(
    rows: list[_Row], base_raw: dict[str, dict[str, Any]], rate: float, inline: bool
) -> tuple[list[ProvinceCommune], list[Problem]]:
    problems: list[Problem] = []
    communes: list[ProvinceCommune] = []
    ids = [None if _blank(r.cells.get("id")) else str(r.cells["id"]).strip() for r in rows]
    all_ids = {i for i in ids if i is not None}
    # A repeated id is reported with both positions, whatever else the rows hold.
    first_at = dict(repeats(ids))
    for i, row in enumerate(rows):
        if len(problems) >= MAX_PROBLEMS:
            break
        report = _RowProblems(row, inline, problems)
        if i in first_at:
            other = rows[first_at[i]].where
            report.add(
                "id",
                f"expected a unique id for each commune, found {ids[i]!r} also at "
                + (f"{other}.id" if inline else f"{other}, column id"),
            )
            continue
        commune = _parse_row(row, base_raw, rate, all_ids, report)
        if commune is not None:
            communes.append(commune)
    return communes, problems


def _parse_row(
    row: _Row,
    base_raw: dict[str, dict[str, Any]],
    rate: float,
    all_ids: set[str],
    report: _RowProblems,
) -> ProvinceCommune | None:
    cells = row.cells
    if "(entry)" in cells:
        report.add("", f"expected a mapping of commune columns, found {cells['(entry)']!r}")
        return None
    if "(extra cells)" in cells:
        report.add(
            "", f"expected as many cells as header columns, found extra {cells['(extra cells)']!r}"
        )
    for column in cells:
        if column in BASE_COLUMNS or column.startswith("staff.") or column.startswith("("):
            continue
        hint = difflib.get_close_matches(column, BASE_COLUMNS, n=1)
        msg = f"unknown column {column!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
        report.add(column, msg + f"; expected one of: {', '.join(BASE_COLUMNS)}, staff.<desk>")

    commune_id = str(cells.get("id") or "").strip()
    if not _SLUG.match(commune_id):
        report.add("id", f"expected an id matching [a-z0-9-]+, found {cells.get('id')!r}")
    cls = str(cells.get("class") or "").strip()
    if cls not in base_raw:
        report.add(
            "class",
            f"expected a class with a base scenario ({', '.join(base_raw)}), "
            f"found {cells.get('class')!r}",
        )
        return None
    base = base_raw[cls]
    days_per_year = _days_per_year(base)

    population = None
    if not _blank(cells.get("population")):
        population = _number(cells["population"])
        if population is None or population <= 0:
            report.add("population", f"expected a number > 0, found {cells['population']!r}")
            population = None
    if not _blank(cells.get("records_per_day")):
        records_per_day = _number(cells["records_per_day"])
        if records_per_day is None or records_per_day <= 0:
            report.add(
                "records_per_day", f"expected a number > 0, found {cells['records_per_day']!r}"
            )
            return None
        demand_column = "records_per_day"
    elif population is not None:
        records_per_day = population / 1000 * rate / days_per_year
        demand_column = "population"
    else:
        report.add("records_per_day", "expected records_per_day or population, found neither")
        return None

    desk_names = [d["name"] for d in base["staff"]["desks"]]
    staff: dict[str, int] = {}
    overrides: dict[str, Any] = {
        "name": commune_id,
        "commune.class": cls,
        "demand.records_per_day": records_per_day,
    }
    column_of = {"demand.records_per_day": demand_column, "commune.class": "class", "name": "id"}
    for column, value in cells.items():
        if not column.startswith("staff.") or _blank(value):
            continue
        pool = column.removeprefix("staff.")
        count = _number(value)
        if count is None or count != int(count) or count < 0:
            report.add(column, f"expected a whole number of staff >= 0, found {value!r}")
            continue
        if pool in STAFF_POOLS:
            path = f"staff.{pool}"
        elif pool in desk_names:
            path = f"staff.desks.{desk_names.index(pool)}.count"
        else:
            report.add(
                column,
                f"expected a desk group of the {cls} base ({', '.join(desk_names)}) "
                f"or {', '.join(STAFF_POOLS)}, found {pool!r}",
            )
            continue
        staff[pool] = int(count)
        overrides[path] = int(count)
        column_of[path] = column

    neighbours: tuple[str, ...] = ()
    raw_nb = cells.get("neighbours")
    if not _blank(raw_nb):
        if isinstance(raw_nb, list):
            items = [str(x).strip() for x in raw_nb]
        elif isinstance(raw_nb, str):
            items = [x.strip() for x in re.split(r"[;\s]+", raw_nb) if x.strip()]
        else:
            items = []
            report.add("neighbours", f"expected commune ids separated by ';', found {raw_nb!r}")
        unknown = [x for x in items if x not in all_ids]
        if unknown:
            report.add("neighbours", f"expected ids of communes in this file, found {unknown}")
        if commune_id in items:
            report.add("neighbours", "expected other communes, found the commune itself")
        neighbours = tuple(items)

    coords: dict[str, float | None] = {}
    for column, low, high in (("lat", -90, 90), ("lon", -180, 180)):
        value = cells.get(column)
        coords[column] = None
        if not _blank(value):
            x = _number(value)
            if x is None or not low <= x <= high:
                report.add(column, f"expected a number in [{low}, {high}], found {value!r}")
            else:
                coords[column] = x

    name = str(cells.get("name") or commune_id).strip()
    province = None if _blank(cells.get("province")) else str(cells["province"]).strip()
    if report.found:
        return None  # do not also validate a scenario built from a broken row
    overrides["description"] = name if province is None else f"{name} ({province})"
    try:
        scenario = load_scenario(base, overrides=overrides)
    except ScenarioError as exc:
        for problem in exc.problems:
            column = column_of.get(problem.path)
            if column is not None:
                report.add(column, problem.message)
            else:
                report.add("", f"{problem.path}: {problem.message} (base scenario for {cls})")
        return None
    return ProvinceCommune(
        id=commune_id,
        name=name,
        commune_class=cls,
        records_per_day=float(records_per_day),
        scenario=scenario,
        population=population,
        staff=staff,
        neighbours=neighbours,
        province=province,
        lat=coords["lat"],
        lon=coords["lon"],
        where=row.where,
    )


def _days_per_year(raw: Mapping[str, Any]) -> int:
    """Working days a year of the communes' calendar: the calendar's own rule
    (:attr:`Calendar.days_per_year`: 50 weeks of its weekdays, 300 for six), so
    demand from population and records per staff-year agree."""
    from pydantic import ValidationError

    try:
        return Calendar.model_validate(raw.get("calendar") or {}).days_per_year
    except ValidationError:  # reported with its key path when the communes are validated
        return Calendar().days_per_year


__all__ = [
    "DEFAULT_RECORDS_PER_1000_PER_YEAR",
    "Province",
    "ProvinceCommune",
    "is_province_file",
    "load_province",
]
