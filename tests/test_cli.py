"""The ``pasc`` command line: exit codes, bad-input messages, run folders, schema.

Exit codes and the absence of tracebacks are checked on real processes. Each
process pays for importing numpy/scipy/pandas, so the module starts all of them
at once (``cli`` fixture) and the tests only read their results.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.kpis import kpi_names_for
from simulator.scenario import Scenario, load_scenario

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "scenarios").glob("*.yaml"))
SCHEMA_FILE = REPO / "scenarios" / "pasc-scenario.schema.json"
PASC = [sys.executable, "-m", "simulator.cli"]
RUN_FILES = {
    "scenario.yaml",
    "summary.csv",
    "kpis.csv",
    "targets.csv",
    "records.csv.gz",
    "run.json",
}
RUN_FOLDER_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(-\d+)?$")
#: Top-level keys of the scenario format (the example at the top of docs/scenarios.md).
TOP_LEVEL_KEYS = {
    "name",
    "description",
    "source",
    "seed",
    "replications",
    "horizon",
    "calendar",
    "commune",
    "demand",
    "procedures",
    "staff",
    "targets",
}
#: Bad files with exactly one mistake each: file name -> (content, key path, found).
BAD_FILES: dict[str, tuple[Any, str, str]] = {
    "bad-key.yaml": (
        {"demand": {"priority_shar": 0.1}},
        "demand.priority_shar",
        "'priority_share'",
    ),
    "bad-type.yaml": ({"horizon": {"days": "ten"}}, "horizon.days", "'ten'"),
    "bad-target.yaml": (
        {"targets": [{"kpi": "wait.p90", "max": 5}]},
        "targets.0.kpi",
        "'wait.p90'",
    ),
}
BAD_YAML = "name: tiny\nseed: 1\n  replications: 3\n"


def tiny_scenario(minimal_scenario_dict) -> dict[str, Any]:
    """Two days at high load on desk alpha: waits are long in every replication."""
    data = minimal_scenario_dict()
    data["demand"]["records_per_day"] = 300  # alpha: 180 x 10 min a day, 125 % busy
    for p in data["procedures"]:
        p["intake_minutes"] = {"dist": "fixed", "value": 10}
    data["targets"] = [
        {"kpi": "wait_minutes.mean", "max": 0.0000001},  # surely fails
        {"kpi": "handle_minutes.mean", "max": 1000},  # surely passes
    ]
    return data


def _bad(minimal_scenario_dict, change: dict[str, Any]) -> dict[str, Any]:
    data = minimal_scenario_dict()
    for key, value in change.items():
        if isinstance(value, dict):
            data[key].update(value)
        else:
            data[key] = value
    return data


def _pasc(args: list[Any], cwd: Path, command: list[str] = PASC) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
    return subprocess.run(
        [*command, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def cli(tmp_path_factory, minimal_scenario_dict, write_yaml) -> dict[str, Any]:
    """Write the input files, run every ``pasc`` process concurrently, keep the results."""
    work = tmp_path_factory.mktemp("cli")
    tiny = write_yaml(work, "tiny.yaml", tiny_scenario(minimal_scenario_dict))
    bad = {
        name: write_yaml(work, name, _bad(minimal_scenario_dict, change))
        for name, (change, _, _) in BAD_FILES.items()
    }
    bad["broken.yaml"] = write_yaml(work, "broken.yaml", BAD_YAML)
    missing = work / "missing.yaml"
    a_file = work / "precious.txt"
    a_file.write_text("user data\n", encoding="utf-8")
    script = Path(sys.executable).parent / "pasc"
    console_script = [str(script)] if script.exists() else PASC

    jobs: dict[str, list[list[Any]]] = {
        "validate_shipped": [["validate", *SHIPPED]],
        "validate_mixed": [
            ["validate", bad["bad-key.yaml"], tiny, *list(bad.values())[1:], missing]
        ],
        # The same run twice into the same folder, the second time with --strict.
        "run_twice": [
            ["run", tiny, "-r", 3, "--seed", 7, "--out", work / "out", "--json"],
            ["run", tiny, "-r", 3, "--seed", 7, "--out", work / "out", "--json", "--strict"],
        ],
        "out_is_file": [["run", tiny, "--out", a_file]],
        "zero_replications": [["run", tiny, "-r", 0, "--out", work / "out-r0"]],
        "run_bad": [["run", bad["bad-type.yaml"], "--out", work / "out-bad"]],
    }

    def run_job(name: str) -> list[subprocess.CompletedProcess]:
        command = console_script if name == "validate_shipped" else PASC
        return [_pasc(args, work, command) for args in jobs[name]]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(jobs, pool.map(run_job, jobs), strict=True))
    return {
        "work": work,
        "tiny": tiny,
        "bad": bad,
        "missing": missing,
        "a_file": a_file,
        **{name: (procs if len(procs) > 1 else procs[0]) for name, procs in results.items()},
    }


def _no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout


def _json(proc: subprocess.CompletedProcess) -> dict[str, Any]:
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------
# pasc validate
# --------------------------------------------------------------------------


def test_validate_shipped_scenarios(cli):
    proc = cli["validate_shipped"]
    assert SHIPPED, "no scenarios shipped"
    assert proc.returncode == 0, proc.stderr
    for path in SHIPPED:
        sc = load_scenario(path)
        assert f"{path}: valid ({sc.name}: " in proc.stdout
    assert proc.stderr == ""


def test_validate_several_files_reports_each_bad_one(cli):
    proc = cli["validate_mixed"]
    assert proc.returncode == 2
    _no_traceback(proc)
    assert f"{cli['tiny']}: valid (tiny: " in proc.stdout
    lines = proc.stderr.splitlines()
    expected = {name: (key, found) for name, (_, key, found) in BAD_FILES.items()}
    expected["broken.yaml"] = ("(top level)", "line 3")
    for name, (key, found) in expected.items():
        path = cli["bad"][name]
        mine = [ln for ln in lines if ln.startswith(f"pasc: {path}: ")]
        assert len(mine) == 1, f"expected one message for {name}:\n{proc.stderr}"
        assert mine[0].startswith(f"pasc: {path}: {key}: "), mine[0]
        assert "expected" in mine[0] and found in mine[0], mine[0]
    missing = [ln for ln in lines if str(cli["missing"]) in ln]
    assert len(missing) == 1 and "no such file" in missing[0]
    assert len(lines) == len(expected) + 1, proc.stderr  # nothing else on stderr
    assert str(cli["tiny"]) not in proc.stderr


@pytest.mark.parametrize("name", [*BAD_FILES, "broken.yaml"])
def test_validate_one_bad_file(cli, name):
    path = cli["bad"][name]
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    key = BAD_FILES[name][1] if name in BAD_FILES else "(top level)"
    assert lines[0].startswith(f"pasc: {path}: {key}: ")
    assert "expected" in lines[0]


# --------------------------------------------------------------------------
# pasc run
# --------------------------------------------------------------------------


def test_run_writes_a_complete_run_folder(cli):
    first = cli["run_twice"][0]
    assert first.returncode == 0, first.stderr
    out = _json(first)
    folder = Path(out["run_folder"])
    assert folder.parent == cli["work"] / "out" / "tiny"
    assert RUN_FOLDER_NAME.match(folder.name), folder.name
    assert {p.name for p in folder.iterdir()} >= RUN_FILES

    # The stored scenario is the resolved one and reproduces the run.
    stored = load_scenario(folder / "scenario.yaml")
    assert isinstance(stored, Scenario)
    assert stored == load_scenario(cli["tiny"])

    run_json = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in run_json.items() if k != "pasc_version"} == {
        k: v for k, v in out.items() if k != "run_folder"
    }

    with open(folder / "kpis.csv", newline="") as f:
        kpi_rows = list(csv.DictReader(f))
    assert [r["replication"] for r in kpi_rows] == ["0", "1", "2"]
    assert float(kpi_rows[0]["wait_minutes.mean"]) > 0

    with open(folder / "summary.csv", newline="") as f:
        summary = {r["kpi"]: r for r in csv.DictReader(f)}
    assert set(summary) == set(out["kpis"])
    assert float(summary["handle_minutes.mean"]["mean"]) == pytest.approx(10)

    with open(folder / "targets.csv", newline="") as f:
        targets = list(csv.DictReader(f))
    assert [(t["kpi"], t["verdict"]) for t in targets] == [
        ("wait_minutes.mean", "fail"),
        ("handle_minutes.mean", "pass"),
    ]

    with gzip.open(folder / "records.csv.gz", "rt", newline="") as f:
        records = list(csv.DictReader(f))
    assert {"replication", "channel", "procedure", "desk", "wait_minutes"} <= set(records[0])
    # ~600 records filed per replication, over 3 replications.
    assert 1000 < len(records) < 3000
    assert {r["procedure"] for r in records} == {"a-proc", "b-proc"}


def test_run_json_has_the_spec_shape(cli):
    out = _json(cli["run_twice"][0])
    assert set(out) == {
        "scenario",
        "replications",
        "seed",
        "kpis",
        "targets",
        "run_folder",
        "keeps_up",
        "horizon_note",
        "note",
    }
    assert (out["scenario"], out["replications"], out["seed"]) == ("tiny", 3, 7)
    assert set(kpi_names_for(["alpha", "beta"], False, False)) <= set(out["kpis"])
    for name, k in out["kpis"].items():
        assert set(k) == {"mean", "ci_low", "ci_high"}, name
        if k["mean"] is not None:
            assert k["ci_low"] <= k["mean"] <= k["ci_high"], (name, k)
    assert out["kpis"]["wait_minutes.mean"]["mean"] > 10  # 125 % load: long waits
    assert out["kpis"]["handle_minutes.mean"]["mean"] == pytest.approx(10)
    assert len(out["targets"]) == 2
    for t in out["targets"]:
        assert set(t) == {"kpi", "op", "threshold", "mean", "ci_low", "ci_high", "verdict"}
        assert t["verdict"] in {"pass", "fail", "inconclusive"}
        assert t["mean"] == out["kpis"][t["kpi"]]["mean"]
    assert [(t["kpi"], t["op"], t["threshold"], t["verdict"]) for t in out["targets"]] == [
        ("wait_minutes.mean", "<=", 1e-7, "fail"),
        ("handle_minutes.mean", "<=", 1000, "pass"),
    ]


def test_a_failing_target_is_a_result_without_strict(cli):
    proc = cli["run_twice"][0]
    assert proc.returncode == 0, proc.stderr
    assert "fail" in [t["verdict"] for t in _json(proc)["targets"]]


def test_strict_with_a_failing_target_exits_1(cli):
    proc = cli["run_twice"][1]
    assert proc.returncode == 1, proc.stderr
    _no_traceback(proc)
    out = json.loads(proc.stdout)
    assert [t["verdict"] for t in out["targets"]] == ["fail", "pass"]
    assert Path(out["run_folder"]).is_dir()  # the result is still kept


def test_running_twice_never_overwrites(cli):
    first, second = (Path(_json(p)["run_folder"]) for p in cli["run_twice"])
    assert first != second
    assert first.is_dir() and second.is_dir()
    runs = sorted(p.name for p in (cli["work"] / "out" / "tiny").iterdir())
    assert runs == sorted([first.name, second.name])  # no leftover temporary folders
    # Same seed, same numbers; the first folder still holds the first run.
    one, two = (json.loads((f / "run.json").read_text()) for f in (first, second))
    assert one["kpis"] == two["kpis"]
    assert one["kpis"] == _json(cli["run_twice"][0])["kpis"]


def test_run_never_overwrites_an_existing_folder(
    tmp_path, monkeypatch, minimal_scenario_dict, write_yaml
):
    """A folder already named like the new run is left alone: the run gets a suffix."""
    from simulator import artifacts as folder_module

    scenario = write_yaml(tmp_path, "tiny.yaml", minimal_scenario_dict())
    stamp = folder_module.timestamp()
    taken = tmp_path / "out" / "tiny" / stamp
    taken.mkdir(parents=True)
    (taken / "summary.csv").write_text("user data\n", encoding="utf-8")
    monkeypatch.setattr(folder_module, "timestamp", lambda: stamp)
    result = CliRunner().invoke(
        main, ["run", str(scenario), "-r", "2", "--out", str(tmp_path / "out"), "--json"]
    )
    assert result.exit_code == 0, result.output
    new = Path(json.loads(result.stdout)["run_folder"])
    assert new == taken.parent / f"{stamp}-2"
    assert {p.name for p in new.iterdir()} >= RUN_FILES
    assert [p.name for p in taken.iterdir()] == ["summary.csv"]
    assert (taken / "summary.csv").read_text(encoding="utf-8") == "user data\n"


def test_out_pointing_to_a_file_is_bad_input(cli):
    proc = cli["out_is_file"]
    assert proc.returncode == 2
    _no_traceback(proc)
    assert str(cli["a_file"]) in proc.stderr
    assert "--out" in proc.stderr
    assert proc.stdout == ""
    assert cli["a_file"].read_text(encoding="utf-8") == "user data\n"


def test_zero_replications_is_bad_input(cli):
    proc = cli["zero_replications"]
    assert proc.returncode == 2
    _no_traceback(proc)
    assert "replications" in proc.stderr and "0" in proc.stderr
    assert not (cli["work"] / "out-r0").exists()


def test_run_of_a_bad_scenario_is_bad_input_and_writes_nothing(cli):
    proc = cli["run_bad"]
    assert proc.returncode == 2
    _no_traceback(proc)
    path = cli["bad"]["bad-type.yaml"]
    assert proc.stderr.splitlines() == [
        f"pasc: {path}: horizon.days: expected a valid integer, unable to parse string as an "
        "integer, found 'ten'"
    ]
    assert proc.stdout == ""
    assert not (cli["work"] / "out-bad").exists()


def test_processes_wrote_nothing_outside_their_out_folders(cli):
    assert not (cli["work"] / "results").exists()


# --------------------------------------------------------------------------
# pasc schema
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema_text() -> str:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_schema_covers_the_spec_top_level_keys(schema_text):
    schema = json.loads(schema_text)
    props = set(schema["properties"])
    assert props >= TOP_LEVEL_KEYS
    assert "extends" in props
    fields = {f.alias or n for n, f in Scenario.model_fields.items()}
    assert props == fields | {"extends"}
    assert schema["additionalProperties"] is False  # unknown keys are errors for editors too


def test_shipped_schema_is_not_stale(schema_text):
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text, (
        "scenarios/pasc-scenario.schema.json is stale: regenerate it with "
        "`pasc schema -o scenarios/pasc-scenario.schema.json --force`"
    )


def test_schema_output_file(tmp_path, schema_text):
    target = tmp_path / "schema.json"
    result = CliRunner().invoke(main, ["schema", "-o", str(target)])
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text(encoding="utf-8") == schema_text


def test_shipped_scenarios_satisfy_the_schema(schema_text):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(schema_text)
    # A file that ``extends:`` another may leave required keys to its parent.
    whole = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in SHIPPED]
    whole = [data for data in whole if "extends" not in data]
    assert whole
    for data in whole:
        jsonschema.validate(data, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**yaml.safe_load(SHIPPED[0].read_text()), "nmae": "x"}, schema)


# -- where replications run: the same options in every command -------------------------------

SIMULATING_COMMANDS = ("run", "size", "quota", "compare", "sweep", "province", "check")


@pytest.mark.parametrize("command", SIMULATING_COMMANDS)
def test_every_simulating_command_has_the_same_execution_options(command):
    text = " ".join(CliRunner().invoke(main, [command, "--help"]).output.split())
    for option in ("--workers", "--backend", "--scheduler"):
        assert option in text, (command, option)
    assert "local processes" in text and "serial|processes|dask" in text


def test_run_on_local_processes_gives_the_serial_numbers(
    tmp_path, minimal_scenario_dict, write_yaml
):
    tiny = write_yaml(tmp_path, "tiny.yaml", tiny_scenario(minimal_scenario_dict))
    outputs = []
    for extra in ([], ["--workers", "2"], ["--backend", "processes", "--workers", "2"]):
        res = CliRunner().invoke(
            main, ["run", str(tiny), "-r", "3", "--out", str(tmp_path / "o"), "--json", *extra]
        )
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        outputs.append({k: v for k, v in data.items() if k != "run_folder"})
    assert outputs[0] == outputs[1] == outputs[2]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--backend", "serial", "--workers", "2"], "--backend serial runs in this process"),
        (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "found both"),
        (["--backend", "processes", "--scheduler", "tcp://x:1"], "--scheduler needs the dask"),
    ],
)
def test_contradicting_execution_options_are_bad_input(
    tmp_path, minimal_scenario_dict, write_yaml, options, message
):
    tiny = write_yaml(tmp_path, "tiny.yaml", tiny_scenario(minimal_scenario_dict))
    res = CliRunner().invoke(main, ["run", str(tiny), "--out", str(tmp_path / "o"), *options])
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
