"""Province files: communes on per-class base scenarios, their errors, their sweeps,
and the synthetic national dataset."""

from __future__ import annotations

import copy
import csv
import importlib.util
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.scenario import ScenarioError, scenario_to_dict
from simulator.scenario.province import (
    DEFAULT_RECORDS_PER_1000_PER_YEAR,
    is_province_file,
    load_province,
)
from simulator.sweep import plan_sweep

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
NATIONAL = SCENARIOS / "national"
BASES = {
    "urban": str(SCENARIOS / "quang-nam-urban-ward.yaml"),
    "rural": str(SCENARIOS / "quang-nam-rural-commune.yaml"),
    "disadvantaged": str(SCENARIOS / "quang-nam-disadvantaged-commune.yaml"),
}
COMMUNES: list[dict[str, Any]] = [
    {
        "id": "hoi-an",
        "name": "Hội An",
        "class": "urban",
        "records_per_day": 80,
        "staff": {"civil-status": 4, "business-land": 5},
        "neighbours": ["dien-ban"],
    },
    {
        "id": "dien-ban",
        "name": "Điện Bàn",
        "class": "rural",
        "population": 40000,
        "neighbours": ["hoi-an", "tra-my"],
    },
    {
        "id": "tra-my",
        "name": "Trà My",
        "class": "disadvantaged",
        "records_per_day": 8,
        "staff": {"civil-status": 1, "business-land": 1, "postal_agents": 2},
        "neighbours": ["dien-ban"],
    },
]
CSV_HEADER = [
    "id",
    "name",
    "class",
    "records_per_day",
    "population",
    "staff.civil-status",
    "staff.business-land",
    "staff.postal_agents",
    "neighbours",
]


def province_dict(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "demo-province",
        "description": "Three communes",
        "bases": dict(BASES),
        "overrides": {"horizon.days": 2, "horizon.warmup_days": 0},
        "replications": 2,
        "communes": copy.deepcopy(COMMUNES),
    }
    data.update(changes)
    return data


def csv_rows() -> list[dict[str, Any]]:
    rows = []
    for c in COMMUNES:
        staff = c.get("staff", {})
        rows.append(
            {
                "id": c["id"],
                "name": c["name"],
                "class": c["class"],
                "records_per_day": c.get("records_per_day", ""),
                "population": c.get("population", ""),
                "staff.civil-status": staff.get("civil-status", ""),
                "staff.business-land": staff.get("business-land", ""),
                "staff.postal_agents": staff.get("postal_agents", ""),
                "neighbours": ";".join(c["neighbours"]),
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] = CSV_HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def inline_file(tmp_path, write_yaml) -> Path:
    return write_yaml(tmp_path, "demo.yaml", province_dict())


@pytest.fixture
def csv_file(tmp_path, write_yaml) -> Path:
    write_csv(tmp_path / "communes.csv", csv_rows())
    return write_yaml(tmp_path, "demo-csv.yaml", province_dict(communes="communes.csv"))


def test_inline_province_builds_one_scenario_per_commune(inline_file):
    province = load_province(inline_file)
    assert [c.id for c in province.communes] == ["hoi-an", "dien-ban", "tra-my"]
    hoi_an, dien_ban, tra_my = province.scenarios()
    assert hoi_an.name == "hoi-an" and hoi_an.commune.class_ == "urban"
    assert hoi_an.demand.records_per_day == 80
    assert hoi_an.desk("civil-status").count == 4 and hoi_an.desk("business-land").count == 5
    assert hoi_an.horizon.days == 2 and hoi_an.replications == 2  # province-wide overrides
    assert tra_my.staff.postal_agents == 2
    # Unset staff keeps the base's: the rural base has 2 + 2.
    assert dien_ban.desk("civil-status").count == 2
    # Everything else comes from the base of the class.
    assert [p.id for p in tra_my.procedures] == [p.id for p in hoi_an.procedures]
    assert tra_my.demand.channels.walk_in == 0.85


def test_population_becomes_demand_through_the_documented_rate(inline_file):
    dien_ban = load_province(inline_file).commune("dien-ban")
    expected = 40000 / 1000 * DEFAULT_RECORDS_PER_1000_PER_YEAR / 250
    assert dien_ban.records_per_day == pytest.approx(expected)
    assert dien_ban.scenario.demand.records_per_day == pytest.approx(expected)
    assert dien_ban.population == 40000


def test_the_rate_is_a_province_key(tmp_path, write_yaml):
    path = write_yaml(tmp_path, "p.yaml", province_dict(records_per_1000_inhabitants_per_year=250))
    assert load_province(path).commune("dien-ban").records_per_day == pytest.approx(40.0)


def test_neighbours_are_kept_for_routing(inline_file):
    province = load_province(inline_file)
    assert province.neighbours() == {
        "hoi-an": ("dien-ban",),
        "dien-ban": ("hoi-an", "tra-my"),
        "tra-my": ("dien-ban",),
    }


def test_csv_province_equals_the_inline_one(inline_file, csv_file):
    inline = [scenario_to_dict(s) for s in load_province(inline_file).scenarios()]
    table = [scenario_to_dict(s) for s in load_province(csv_file).scenarios()]
    assert table == inline
    assert load_province(csv_file).commune("dien-ban").where == "row 3"


def test_province_files_are_recognised(inline_file, csv_file):
    assert is_province_file(inline_file) and is_province_file(csv_file)
    assert not is_province_file(BASES["urban"])


# -- errors name the file, the row or list position, the commune and the column ----------


def _csv_with(tmp_path, write_yaml, mutate, header=CSV_HEADER) -> Path:
    rows = csv_rows()
    mutate(rows)
    write_csv(tmp_path / "communes.csv", rows, header)
    return write_yaml(tmp_path, "p.yaml", province_dict(communes="communes.csv"))


CSV_MISTAKES = {
    "bad class": (lambda r: r[1].update({"class": "town"}), "row 3, column class", "'town'"),
    "negative demand": (
        lambda r: r[0].update({"records_per_day": "-3"}),
        "row 2, column records_per_day",
        "expected a number > 0",
    ),
    "half a staff member": (
        lambda r: r[2].update({"staff.civil-status": "1.5"}),
        "row 4, column staff.civil-status",
        "whole number",
    ),
    "no desk": (
        lambda r: r[2].update({"staff.civil-status": "0"}),
        "row 4, column staff.civil-status",
        "greater than or equal to 1",
    ),
    "no demand": (
        lambda r: r[0].update({"records_per_day": ""}),
        "row 2, column records_per_day",
        "expected records_per_day or population",
    ),
    "unknown neighbour": (
        lambda r: r[0].update({"neighbours": "dien-ban;nowhere"}),
        "row 2, column neighbours",
        "'nowhere'",
    ),
    "duplicate id": (
        lambda r: r[2].update({"id": "hoi-an"}),
        "row 4, column id",
        "unique id",
    ),
    "bad id": (lambda r: r[0].update({"id": "Hoi An"}), "row 2, column id", "'Hoi An'"),
}


@pytest.mark.parametrize("mistake", sorted(CSV_MISTAKES))
def test_csv_mistakes_name_file_row_commune_and_column(tmp_path, write_yaml, mistake):
    mutate, where, found = CSV_MISTAKES[mistake]
    path = _csv_with(tmp_path, write_yaml, mutate)
    with pytest.raises(ScenarioError) as err:
        load_province(path)
    text = err.value.message()
    assert text.startswith(str(tmp_path / "communes.csv") + ": ")
    assert where in text and found in text
    assert "(commune " in text


def test_unknown_column_is_an_error_with_a_hint(tmp_path, write_yaml):
    header = [*CSV_HEADER, "populaton"]
    path = _csv_with(tmp_path, write_yaml, lambda r: r[0].update({"populaton": "5"}), header)
    with pytest.raises(ScenarioError, match="did you mean 'population'"):
        load_province(path)


def test_unknown_desk_column_names_the_base_desks(tmp_path, write_yaml):
    header = [*CSV_HEADER, "staff.land"]
    path = _csv_with(tmp_path, write_yaml, lambda r: r[0].update({"staff.land": "2"}), header)
    with pytest.raises(ScenarioError) as err:
        load_province(path)
    assert "row 2, column staff.land: expected a desk group of the urban base" in str(err.value)
    assert "civil-status, business-land" in str(err.value)


def test_inline_mistakes_use_key_paths(tmp_path, write_yaml):
    data = province_dict()
    data["communes"][1]["class"] = "city"
    data["communes"][2]["staff"]["civil-status"] = -1
    with pytest.raises(ScenarioError) as err:
        load_province(write_yaml(tmp_path, "p.yaml", data))
    text = err.value.message()
    assert "p.yaml: communes.1.class: expected a class with a base scenario" in text
    assert "communes.2.staff.civil-status" in text and "(commune tra-my)" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"commune": []}, "unknown key 'commune' (did you mean 'communes'?)"),
        ({"bases": {"urban": "nowhere.yaml"}}, "bases.urban: expected an existing scenario file"),
        ({"bases": {"city": BASES["urban"]}}, "bases.city: expected a commune class"),
        ({"communes": "missing.csv"}, "missing.csv: (top level): expected a CSV table"),
        ({"name": "Demo"}, "name: expected a name matching"),
        ({"communes": []}, "communes: expected at least one commune"),
        (
            {"overrides": {"horizon.days": 0}},
            "p.yaml: overrides.horizon.days: expected greater than or equal to 1, found 0",
        ),
    ],
)
def test_province_level_mistakes(tmp_path, write_yaml, change, message):
    with pytest.raises(ScenarioError) as err:
        load_province(write_yaml(tmp_path, "p.yaml", province_dict(**change)))
    assert message in err.value.message()


# -- sweeping a province ----------------------------------------------------------------------


def test_sweep_of_a_province_has_one_row_per_commune(inline_file, tmp_path):
    result = CliRunner().invoke(main, ["sweep", str(inline_file), "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    folder = next(tmp_path.glob("demo-province/*-sweep"))
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary["id"]) == ["hoi-an", "dien-ban", "tra-my"]
    assert list(summary["class"]) == ["urban", "rural", "disadvantaged"]
    assert list(summary["staff.civil-status"]) == [4, 2, 1]
    assert set(summary["replications"]) == {2}
    assert "wait_minutes.p90.mean" in summary.columns and "verdict" in summary.columns
    variants = pd.read_csv(folder / "variants.csv")
    assert list(variants["neighbours"]) == ["dien-ban", "hoi-an;tra-my", "dien-ban"]


def test_province_sweep_crossed_with_a_grid_and_filtered(inline_file):
    plan = plan_sweep(inline_file, ["demand.priority_share=0,0.2"], where={"class": "rural"})
    assert [(v.columns["id"], v.columns["demand.priority_share"]) for v in plan.variants] == [
        ("dien-ban", 0),
        ("dien-ban", 0.2),
    ]


def test_sweep_of_a_bad_province_is_bad_input(tmp_path, write_yaml):
    path = _csv_with(tmp_path, write_yaml, lambda r: r[1].update({"class": "town"}))
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "communes.csv: row 3, column class" in result.output
    assert "Traceback" not in result.output


# -- the synthetic national dataset ---------------------------------------------------------


def _generator():
    spec = importlib.util.spec_from_file_location("make_communes", NATIONAL / "make_communes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_national_table_has_the_country_shape():
    table = pd.read_csv(NATIONAL / "communes.csv")
    assert len(table) == 3321  # [NATIONAL]
    assert table["province"].nunique() == 34
    counts = table["province"].value_counts()
    assert counts["ha-noi"] == 126 and counts["lam-dong"] == 124  # [HANOI], [LAM-DONG]
    assert table["id"].is_unique
    assert table["name"].str.contains("synthetic").all()
    assert set(table["class"]) == {"urban", "rural", "disadvantaged"}


def test_national_table_is_what_the_committed_script_generates():
    generator = _generator()
    with (NATIONAL / "communes.csv").open(encoding="utf-8", newline="") as handle:
        shipped = list(csv.DictReader(handle))
    fresh = [{k: str(v) for k, v in row.items()} for row in generator.make_rows()]
    assert shipped == fresh


def test_vietnam_province_file_is_valid_and_labelled_synthetic():
    text = (NATIONAL / "vietnam.yaml").read_text(encoding="utf-8")
    assert "SYNTHETIC" in text
    province = load_province(NATIONAL / "vietnam.yaml")
    assert len(province.communes) == 3321
    first = province.communes[0].scenario
    assert first.horizon.days == 250 and first.replications == 10
    assert any("synthetic" in s for s in province.source)
    assert "synthetic" in (NATIONAL / "README.md").read_text(encoding="utf-8").lower()


def test_population_demand_uses_the_calendars_working_days(tmp_path, write_yaml):
    # A six-day week (Saturday mornings open) has 300 working days a year, not 250:
    # the same annual demand spread over more days.
    six = write_yaml(
        tmp_path,
        "six-day.yaml",
        {
            "extends": str(Path(BASES["urban"]).resolve()),
            "calendar": {"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat"]},
        },
    )
    data = province_dict(bases={**BASES, "urban": str(six)})
    for c in data["communes"]:
        c["class"] = "urban"
    province = load_province(write_yaml(tmp_path, "p.yaml", data))
    commune = province.commune("dien-ban")
    assert commune.scenario.calendar.days_per_year == 300
    assert commune.records_per_day == pytest.approx(
        40000 / 1000 * DEFAULT_RECORDS_PER_1000_PER_YEAR / 300
    )
