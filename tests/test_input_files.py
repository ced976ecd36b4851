"""Files as people save them, and the messages about them (issue 12).

* Encodings: UTF-8 with or without a byte-order mark and UTF-16 (LE/BE, by its
  mark) load alike, for scenarios, province files and CSV tables; any other
  encoding is one message naming the file, the byte offset of the first byte
  that is not UTF-8 and what to do (save as UTF-8).
* Long ``empirical`` lists: the C-accelerated safe YAML loader, and
  ``{dist: empirical, file: times.csv, column: minutes}`` reading the values
  from a CSV column at load time; what run folders store of them.
* A YAML tag that would run code names the key it sits under.
* Repeated procedure ids, desk names, disruption names and commune ids name
  both positions.

The CLI runs in-process (click's CliRunner): an uncaught exception would show as
``result.exception`` with exit code 1, so ``exit_code == 2`` also means "no
traceback".
"""

from __future__ import annotations

import copy
import csv
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.distributions import Empirical, empirical_sha256
from simulator.scenario import (
    ScenarioError,
    load_scenario,
    loader,
    scenario_to_dict,
    scenario_to_yaml,
)
from simulator.scenario.province import is_province_file, load_province

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
BASES = {
    "urban": str(SCENARIOS / "quang-nam-urban-ward.yaml"),
    "rural": str(SCENARIOS / "quang-nam-rural-commune.yaml"),
}
DESCRIPTION = "Phường Hội An, Quảng Nam"  # letters outside Latin-1 and Windows-1258


def pasc(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args])


def scenario_text(minimal_scenario_dict, **changes: Any) -> str:
    data = minimal_scenario_dict()
    data["description"] = DESCRIPTION
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def one_message(err: ScenarioError) -> str:
    assert len(err.problems) == 1, err.message()
    return err.message()


# ----------------------------------------------------------------------------
# Encodings
# ----------------------------------------------------------------------------

ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: text.encode("utf-8-sig"),
    "utf-16 LE with BOM": lambda text: b"\xff\xfe" + text.encode("utf-16-le"),
    "utf-16 BE with BOM": lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_scenario_saved_as_utf8_or_utf16_loads_alike(tmp_path, minimal_scenario_dict, encoding):
    path = tmp_path / "s.yaml"
    path.write_bytes(ENCODINGS[encoding](scenario_text(minimal_scenario_dict)))
    sc = load_scenario(path)
    assert sc.description == DESCRIPTION
    assert sc.name == "tiny"
    result = pasc("validate", path)
    assert result.exit_code == 0, result.output


def _legacy_bytes(minimal_scenario_dict) -> tuple[bytes, int]:
    """A scenario in Windows-1258 (Vietnamese ANSI) and the offset of its first non-ASCII byte."""
    text = scenario_text(minimal_scenario_dict).replace(DESCRIPTION, "Đà Lat")
    raw = text.encode("cp1258")
    first = next(i for i, b in enumerate(raw) if b >= 0x80)
    return raw, first


def test_legacy_8_bit_encoding_names_the_file_the_byte_offset_and_utf8(
    tmp_path, minimal_scenario_dict
):
    raw, offset = _legacy_bytes(minimal_scenario_dict)
    path = tmp_path / "ansi.yaml"
    path.write_bytes(raw)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = one_message(err.value)
    assert text.startswith(f"{path}: (top level): expected text saved as UTF-8")
    assert f"byte offset {offset} " in text
    assert f"0x{raw[offset]:02x}" in text
    line = raw[:offset].count(b"\n") + 1
    assert f"(line {line})" in text
    assert "save the file as UTF-8" in text


def test_legacy_encoding_on_the_command_line_is_exit_2_with_one_message(
    tmp_path, minimal_scenario_dict
):
    raw, offset = _legacy_bytes(minimal_scenario_dict)
    path = tmp_path / "ansi.yaml"
    path.write_bytes(raw)
    result = pasc("validate", path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.count("\n") == 1
    assert "ansi.yaml: (top level): expected text saved as UTF-8" in result.output
    assert f"byte offset {offset} " in result.output


def test_broken_utf16_names_the_offset_after_the_byte_order_mark(tmp_path, minimal_scenario_dict):
    body = scenario_text(minimal_scenario_dict).encode("utf-16-le")
    path = tmp_path / "broken.yaml"
    path.write_bytes(b"\xff\xfe" + body + b"\x00")  # one byte too many
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = one_message(err.value)
    assert f"byte offset {2 + len(body)} " in text
    assert "UTF-16 byte-order mark" in text and "save the file as UTF-8" in text


def test_utf16_without_byte_order_mark_is_named(tmp_path, minimal_scenario_dict):
    path = tmp_path / "nobom.yaml"
    path.write_bytes(scenario_text(minimal_scenario_dict).encode("utf-16-le"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = one_message(err.value)
    assert "NUL byte at byte offset 1 " in text and "UTF-16 without a byte-order mark" in text


def test_an_extended_parent_in_utf16_loads(tmp_path, minimal_scenario_dict):
    (tmp_path / "parent.yaml").write_bytes(scenario_text(minimal_scenario_dict).encode("utf-16"))
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent.yaml\nname: child\n", encoding="utf-8")
    assert load_scenario(child).description == DESCRIPTION


def _province_yaml(communes: Any) -> str:
    data = {
        "name": "demo",
        "bases": dict(BASES),
        "overrides": {"horizon.days": 2, "horizon.warmup_days": 0},
        "replications": 2,
        "communes": communes,
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


CSV_TEXT = "id,name,class,records_per_day\nhoi-an,Hội An,urban,80\ndien-ban,Điện Bàn,rural,30\n"


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_province_file_and_its_csv_table_in_utf8_or_utf16(tmp_path, encoding):
    encode = ENCODINGS[encoding]
    (tmp_path / "communes.csv").write_bytes(encode(CSV_TEXT))
    path = tmp_path / "p.yaml"
    path.write_bytes(encode(_province_yaml("communes.csv")))
    assert is_province_file(path)
    province = load_province(path)
    assert [c.name for c in province.communes] == ["Hội An", "Điện Bàn"]


def test_csv_table_in_a_legacy_encoding_names_the_table(tmp_path):
    raw = CSV_TEXT.replace("Hội An", "Hoi An").replace("Điện Bàn", "Đà").encode("cp1258")
    (tmp_path / "communes.csv").write_bytes(raw)
    path = tmp_path / "p.yaml"
    path.write_text(_province_yaml("communes.csv"), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_province(path)
    text = one_message(err.value)
    offset = raw.index("Đ".encode("cp1258"))
    assert text.startswith(f"{tmp_path / 'communes.csv'}: (top level): expected text saved")
    assert f"byte offset {offset} " in text


def test_province_file_in_a_legacy_encoding_is_not_a_traceback(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_bytes(_province_yaml([]).replace("demo", "Đà").encode("cp1258"))
    assert not is_province_file(path)
    with pytest.raises(ScenarioError, match="expected text saved as UTF-8"):
        load_province(path)


# ----------------------------------------------------------------------------
# YAML: the C loader, safely; tags name their key
# ----------------------------------------------------------------------------


def test_the_c_accelerated_safe_loader_is_used_when_present():
    expected = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
    assert loader.YAML_LOADER is expected
    assert issubclass(loader.YAML_LOADER, yaml.constructor.SafeConstructor)


@pytest.mark.parametrize(
    ("old", "new", "key_path"),
    [
        ("name: tiny", "name: !!python/object/apply:os.system ['touch {marker}']", "name"),
        (
            "records_per_day: 40",
            "records_per_day: !!python/object/apply:os.system ['touch {marker}']",
            "demand.records_per_day",
        ),
        (
            "mean: 8",
            "mean: !!python/object/new:os.system ['touch {marker}']",
            "procedures.1.intake_minutes.mean",
        ),
        ("- a\n", "- !!python/name:os.system\n", "staff.desks.0.fields.0"),
    ],
    ids=["top-level", "nested", "in-a-list", "list-item"],
)
def test_a_code_running_tag_names_its_key_path_and_runs_nothing(
    tmp_path, minimal_scenario_dict, old, new, key_path
):
    marker = tmp_path / "ran"
    text = yaml.safe_dump(minimal_scenario_dict(), sort_keys=False)
    assert old in text
    path = tmp_path / "unsafe.yaml"
    path.write_text(text.replace(old, new.format(marker=marker), 1), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = one_message(err.value)
    assert err.value.problems[0].path == key_path
    assert f"unsafe.yaml: {key_path}: expected valid YAML, found the tag '!!python/" in message
    assert "line " in message and "could run code" in message
    assert not marker.exists()
    result = pasc("validate", path)
    assert result.exit_code == 2 and f"{key_path}: expected valid YAML" in result.output


def test_an_unknown_tag_names_its_key_path(tmp_path, minimal_scenario_dict, write_yaml):
    text = yaml.safe_dump(minimal_scenario_dict(), sort_keys=False)
    path = write_yaml(tmp_path, "t.yaml", text.replace("days: 2", "days: !include days.yaml"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.problems[0].path == "horizon.days"
    assert "'!include'" in str(err.value)


def test_syntax_errors_keep_the_precise_message(tmp_path, write_yaml):
    path = write_yaml(tmp_path, "tabs.yaml", "name: tiny\nhorizon:\n\tdays: 2\n")
    with pytest.raises(ScenarioError, match=r"line 3, column 1: found character '\\t'"):
        load_scenario(path)


# ----------------------------------------------------------------------------
# Empirical distributions from a CSV column
# ----------------------------------------------------------------------------

TIMES = [4.5, 6.0, 7.25, 12.0, 3.0, 9.5]


def write_times(path: Path, columns: dict[str, list[Any]], delimiter: str = ",", **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = max(len(v) for v in columns.values())
    with path.open("w", newline="", encoding=kw.get("encoding", "utf-8")) as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(list(columns))
        for i in range(n):
            writer.writerow([v[i] if i < len(v) else "" for v in columns.values()])
    return path


def empirical_scenario(
    minimal_scenario_dict, folder: Path, intake: dict[str, Any], name: str = "e.yaml"
) -> Path:
    data = minimal_scenario_dict()
    data["procedures"][0]["intake_minutes"] = intake
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def intake(sc) -> Empirical:
    dist = sc.procedures[0].intake_minutes
    assert isinstance(dist, Empirical)
    return dist


def test_values_from_a_csv_column_equal_the_inline_values(
    tmp_path, minimal_scenario_dict, monkeypatch
):
    write_times(tmp_path / "data" / "times.csv", {"other": [1, 2], "minutes": TIMES})
    from_file = empirical_scenario(
        minimal_scenario_dict,
        tmp_path,
        {"dist": "empirical", "file": "data/times.csv", "column": "minutes"},
    )
    inline = empirical_scenario(
        minimal_scenario_dict, tmp_path, {"dist": "empirical", "values": TIMES}, "inline.yaml"
    )
    monkeypatch.chdir(tmp_path / "data")  # the path is relative to the scenario file
    a, b = intake(load_scenario(from_file)), intake(load_scenario(inline))
    assert a.values == TIMES == b.values
    assert a.file == str((tmp_path / "data" / "times.csv").resolve())
    assert a.column == "minutes"
    assert a.mean == pytest.approx(np.mean(TIMES)) and a.variance == pytest.approx(np.var(TIMES))
    draws = [d.sample(np.random.default_rng(7), 50) for d in (a, b)]
    np.testing.assert_array_equal(draws[0], draws[1])


def test_a_single_column_needs_no_column_key(tmp_path, minimal_scenario_dict):
    write_times(tmp_path / "times.csv", {"minutes": TIMES})
    path = empirical_scenario(
        minimal_scenario_dict, tmp_path, {"dist": "empirical", "file": "times.csv"}
    )
    dist = intake(load_scenario(path))
    assert dist.values == TIMES and dist.column == "minutes"


def test_semicolons_decimal_commas_utf16_tabs_and_blank_cells(tmp_path, minimal_scenario_dict):
    (tmp_path / "excel.csv").write_text("birth;land\n4,5;20\n6;\n;31,5\n", encoding="utf-8-sig")
    (tmp_path / "unicode.txt").write_bytes("phút\tnote\n4.5\tx\n6\ty\n".encode("utf-16"))
    for name, column, expected in (
        ("excel.csv", "birth", [4.5, 6.0]),
        ("excel.csv", "land", [20.0, 31.5]),
        ("unicode.txt", "phút", [4.5, 6.0]),
    ):
        path = empirical_scenario(
            minimal_scenario_dict, tmp_path, {"dist": "empirical", "file": name, "column": column}
        )
        assert intake(load_scenario(path)).values == expected, (name, column)


def test_a_file_named_by_a_parent_is_relative_to_the_parent(tmp_path, minimal_scenario_dict):
    write_times(tmp_path / "base" / "times.csv", {"minutes": TIMES})
    empirical_scenario(
        minimal_scenario_dict,
        tmp_path / "base",
        {"dist": "empirical", "file": "times.csv", "column": "minutes"},
        "parent.yaml",
    )
    child = tmp_path / "child.yaml"
    child.write_text("extends: base/parent.yaml\nname: child\n", encoding="utf-8")
    assert intake(load_scenario(child)).values == TIMES


@pytest.mark.parametrize(
    ("parent", "child", "expected"),
    [
        ({"values": [1, 2]}, {"file": "times.csv", "column": "minutes"}, TIMES),
        ({"file": "times.csv", "column": "minutes"}, {"values": [1, 2]}, [1.0, 2.0]),
        ({"file": "times.csv", "column": "minutes"}, {"column": "other"}, [1.0, 2.0]),
    ],
    ids=["file-over-values", "values-over-file", "column-only"],
)
def test_a_child_replaces_the_parents_source_of_values(
    tmp_path, minimal_scenario_dict, parent, child, expected
):
    """Mappings merge key by key, but an empirical source (values, or file with
    column) is replaced whole: no "values and file, found both" from extends."""
    write_times(tmp_path / "base" / "times.csv", {"minutes": TIMES, "other": [1, 2]})
    data = minimal_scenario_dict()
    data["demand"]["patience_minutes"] = {"dist": "empirical", **parent}
    (tmp_path / "base").mkdir(exist_ok=True)
    (tmp_path / "base" / "parent.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    if "file" in child:
        write_times(tmp_path / "times.csv", {"minutes": TIMES})  # the child's own folder
    text = yaml.safe_dump({"extends": "base/parent.yaml", "demand": {"patience_minutes": child}})
    path = tmp_path / "child.yaml"
    path.write_text(text, encoding="utf-8")
    patience = load_scenario(path).demand.patience_minutes
    assert isinstance(patience, Empirical) and patience.values == expected


def test_merging_a_distribution_mapping_drops_the_other_source(tmp_path):
    base = {"t": {"dist": "empirical", "file": "/x.csv", "column": "a", "sha256": "0" * 64}}
    merged = loader.deep_merge(base, {"t": {"values": [1]}})
    assert merged == {"t": {"dist": "empirical", "values": [1]}}
    merged = loader.deep_merge(base, {"t": {"column": "b"}})
    assert merged == {"t": {"dist": "empirical", "file": "/x.csv", "column": "b"}}


def test_an_override_may_name_the_file(tmp_path, minimal_scenario_dict):
    write_times(tmp_path / "times.csv", {"minutes": TIMES})
    write_times(tmp_path / "other.csv", {"minutes": [2, 3]})
    path = empirical_scenario(
        minimal_scenario_dict, tmp_path, {"dist": "empirical", "file": "times.csv"}
    )
    sc = load_scenario(path, overrides={"procedures.0.intake_minutes.file": "other.csv"})
    assert intake(sc).values == [2.0, 3.0]


EMPIRICAL_MISTAKES = {
    "no such file": (
        {"file": "nowhere.csv", "column": "minutes"},
        "procedures.0.intake_minutes.file",
        "expected an existing CSV file, found no such file",
    ),
    "no such column": (
        {"file": "times.csv", "column": "minute"},
        "procedures.0.intake_minutes.column",
        "expected a column of times.csv (minutes, text, negative), found 'minute' "
        "(did you mean 'minutes'?)",
    ),
    "which column": (
        {"file": "times.csv"},
        "procedures.0.intake_minutes.column",
        "expected the column to read from times.csv (minutes, text, negative), found nothing",
    ),
    "text": (
        {"file": "times.csv", "column": "text"},
        "procedures.0.intake_minutes.file",
        "expected numbers >= 0 in column 'text' of times.csv, found '8 min' in row 3",
    ),
    "negative": (
        {"file": "times.csv", "column": "negative"},
        "procedures.0.intake_minutes.file",
        "expected numbers >= 0 in column 'negative' of times.csv, found '-2' in row 2 (and 1 more)",
    ),
    "both": (
        {"file": "times.csv", "column": "minutes", "values": [1]},
        "procedures.0.intake_minutes.file",
        "expected either values or file (with column), found both",
    ),
    "column without file": (
        {"values": [1], "column": "minutes"},
        "procedures.0.intake_minutes.column",
        "expected a file with the column, found no file",
    ),
    "neither": (
        {},
        "procedures.0.intake_minutes",
        "expected values, or file and column, found neither",
    ),
}


@pytest.mark.parametrize("mistake", sorted(EMPIRICAL_MISTAKES))
def test_empirical_file_mistakes_name_the_key_path(tmp_path, minimal_scenario_dict, mistake):
    spec, key_path, expected = EMPIRICAL_MISTAKES[mistake]
    write_times(
        tmp_path / "times.csv",
        {"minutes": TIMES, "text": [1, "8 min"], "negative": [-2, 3, -1]},
    )
    path = empirical_scenario(minimal_scenario_dict, tmp_path, {"dist": "empirical", **spec})
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = one_message(err.value)
    assert message.startswith(f"{path}: {key_path}: {expected}"), message
    result = pasc("validate", path)
    assert result.exit_code == 2, result.output
    assert f"{key_path}: {expected}" in result.output


def test_an_empty_column_is_an_error(tmp_path, minimal_scenario_dict):
    write_times(tmp_path / "times.csv", {"minutes": TIMES, "empty": [""]})
    path = empirical_scenario(
        minimal_scenario_dict,
        tmp_path,
        {"dist": "empirical", "file": "times.csv", "column": "empty"},
    )
    with pytest.raises(ScenarioError, match=r"intake_minutes.file: expected at least one value"):
        load_scenario(path)


def test_a_csv_in_a_legacy_encoding_names_the_key_and_the_offset(tmp_path, minimal_scenario_dict):
    raw = "phút\n4.5\n".encode("cp1258")
    (tmp_path / "times.csv").write_bytes(raw)
    path = empirical_scenario(
        minimal_scenario_dict, tmp_path, {"dist": "empirical", "file": "times.csv"}
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = one_message(err.value)
    offset = raw.index("ú".encode("cp1258"))
    assert "procedures.0.intake_minutes.file:" in message
    assert f"byte offset {offset} " in message


# -- what is written back ----------------------------------------------------------


def test_a_small_column_is_written_back_inline(tmp_path, minimal_scenario_dict):
    write_times(tmp_path / "times.csv", {"minutes": TIMES})
    sc = load_scenario(
        empirical_scenario(
            minimal_scenario_dict, tmp_path, {"dist": "empirical", "file": "times.csv"}
        )
    )
    stored = scenario_to_dict(sc)["procedures"][0]["intake_minutes"]
    assert stored == {"dist": "empirical", "values": TIMES}
    text = scenario_to_yaml(sc)
    assert "values: [4.5, 6.0, 7.25, 12.0, 3.0, 9.5]" in text  # one line, not one per value
    (tmp_path / "times.csv").unlink()  # a run folder does not need the table
    again = tmp_path / "run" / "scenario.yaml"
    again.parent.mkdir()
    again.write_text(text, encoding="utf-8")
    assert load_scenario(again) == sc


def test_a_long_column_is_written_back_as_its_file_with_a_fingerprint(
    tmp_path, minimal_scenario_dict, monkeypatch
):
    monkeypatch.setattr(loader, "EMPIRICAL_INLINE_LIMIT", 4)
    table = write_times(tmp_path / "data" / "times.csv", {"minutes": TIMES})
    sc = load_scenario(
        empirical_scenario(
            minimal_scenario_dict, tmp_path, {"dist": "empirical", "file": "data/times.csv"}
        )
    )
    stored = scenario_to_dict(sc)["procedures"][0]["intake_minutes"]
    assert stored == {
        "dist": "empirical",
        "file": str(table.resolve()),
        "column": "minutes",
        "sha256": empirical_sha256(TIMES),
    }
    run = tmp_path / "elsewhere" / "run"
    run.mkdir(parents=True)
    (run / "scenario.yaml").write_text(scenario_to_yaml(sc), encoding="utf-8")
    assert load_scenario(run / "scenario.yaml") == sc
    assert load_scenario(scenario_to_dict(sc)) == sc  # sweeps and provinces reload dicts

    write_times(table, {"minutes": [*TIMES[:-1], 10.0]})
    with pytest.raises(ScenarioError) as err:
        load_scenario(run / "scenario.yaml")
    message = one_message(err.value)
    assert "procedures.0.intake_minutes: expected values with sha256" in message
    assert "the data changed since this scenario was written" in message


def test_long_inline_lists_are_written_back_in_flow_style(tmp_path, minimal_scenario_dict):
    values = [float(i % 17) for i in range(20_000)]
    path = empirical_scenario(
        minimal_scenario_dict, tmp_path, {"dist": "empirical", "values": values}
    )
    sc = load_scenario(path)
    text = scenario_to_yaml(sc)
    assert text.count("\n") < len(values) / 5  # flow style, not one line per value
    again = tmp_path / "again.yaml"
    again.write_text(text, encoding="utf-8")
    assert intake(load_scenario(again)).values == values


def test_the_model_never_reads_files():
    with pytest.raises(ValueError, match="read by the scenario loader"):
        Empirical(dist="empirical", file="times.csv", column="minutes")
    dist = Empirical(dist="empirical", values=TIMES, file="/somewhere/times.csv", column="m")
    assert dist.values == TIMES


def test_empirical_keeps_equality_and_pickles():
    a = Empirical(dist="empirical", values=TIMES)
    assert a == Empirical(dist="empirical", values=list(TIMES))
    assert a != Empirical(dist="empirical", values=[1.0])
    b = pickle.loads(pickle.dumps(a))
    assert b == a and b.mean == a.mean
    assert not a.array.flags.writeable


# ----------------------------------------------------------------------------
# Duplicates name both positions
# ----------------------------------------------------------------------------


def test_a_copied_procedure_is_reported_as_a_duplicate_first(tmp_path, minimal_scenario_dict):
    """The reproduction: a copied block used to be reported as shares not summing to 1."""
    data = minimal_scenario_dict()
    data["procedures"].append(copy.deepcopy(data["procedures"][0]))
    path = tmp_path / "dup.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    first = err.value.problems[0]
    assert str(first) == (
        "procedures.2.id: expected unique procedure ids, found 'a-proc' also at procedures.0.id"
    )
    result = pasc("validate", path)
    assert result.exit_code == 2
    assert result.output.startswith(f"pasc: {path}: procedures.2.id: expected unique procedure ids")


def test_a_duplicate_is_reported_even_when_other_keys_are_wrong(minimal_scenario_dict):
    data = minimal_scenario_dict()
    data["procedures"][1]["id"] = "a-proc"
    data["procedures"][1]["share"] = -1
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    paths = [p.path for p in err.value.problems]
    assert paths[0] == "procedures.1.id" and "procedures.1.share" in paths


def test_duplicate_desk_names_name_both_positions(minimal_scenario_dict):
    data = minimal_scenario_dict()
    data["staff"]["desks"].append({"name": "alpha", "count": 1, "fields": ["b"]})
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert [str(p) for p in err.value.problems] == [
        "staff.desks: expected unique desk names, found 'alpha' at staff.desks.2.name, "
        "also at staff.desks.0.name"
    ]


def test_duplicate_disruption_names_name_both_positions(minimal_scenario_dict):
    data = minimal_scenario_dict()
    outage = {"name": "network", "at": [{"day": 0, "start": "09:00", "minutes": 30}]}
    data["disruptions"] = [outage, copy.deepcopy(outage)]
    with pytest.raises(ScenarioError) as err:
        load_scenario(data)
    assert [str(p) for p in err.value.problems] == [
        "disruptions.1.name: expected unique disruption names, found 'network' "
        "also at disruptions.0.name"
    ]


def test_duplicate_commune_ids_in_a_csv_name_both_rows(tmp_path):
    # The first hoi-an row has a mistake of its own: the repeat is still reported.
    text = CSV_TEXT.replace("hoi-an,Hội An,urban", "hoi-an,Hội An,town") + "hoi-an,Again,rural,5\n"
    (tmp_path / "communes.csv").write_text(text, encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(_province_yaml("communes.csv"), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_province(path)
    assert (
        "communes.csv: row 4, column id: expected a unique id for each commune, found 'hoi-an' "
        "also at row 2, column id (commune hoi-an)"
    ) in err.value.message()


def test_duplicate_commune_ids_inline_name_both_list_positions(tmp_path):
    communes = [
        {"id": "hoi-an", "class": "urban", "records_per_day": 80},
        {"id": "dien-ban", "class": "rural", "records_per_day": 30},
        {"id": "dien-ban", "class": "rural", "records_per_day": 20},
    ]
    path = tmp_path / "p.yaml"
    path.write_text(_province_yaml(communes), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_province(path)
    assert [str(p) for p in err.value.problems] == [
        "communes.2.id: expected a unique id for each commune, found 'dien-ban' also at "
        "communes.1.id (commune dien-ban)"
    ]
