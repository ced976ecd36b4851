"""Sweeps: the grid, the run folder, identical numbers on every backend, resume, faults.

The fault tests use real processes: a ``pasc sweep`` killed mid-run and resumed,
and a Dask scheduler with two workers, one of which is killed mid-run. Every
process is started in its own session and killed by a fixture finalizer, so a
failing test never leaves one behind. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

import simulator
from simulator.backends import DaskBackend, ProcessBackend, SerialBackend
from simulator.cli import main
from simulator.scenario import ScenarioError, load_scenario
from simulator.sizing import size
from simulator.sweep import (
    Axis,
    SizeOptions,
    SweepError,
    grid_points,
    new_sweep_folder,
    parse_set,
    parse_value,
    plan_sweep,
    run_sweep,
)

REPO = Path(__file__).resolve().parents[1]
PASC = [sys.executable, "-m", "simulator.cli"]
ENV = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
GRID = ["staff.desks.alpha.count=1,2", "demand.records_per_day=30,45"]


# -- helpers -------------------------------------------------------------------------------


@pytest.fixture
def tiny(sweep_tiny_file) -> Path:
    return sweep_tiny_file


@pytest.fixture
def slow(sweep_slow_file) -> Path:
    return sweep_slow_file


class Processes:
    """Processes started by a test, each in its own session; all killed at teardown."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
        handle = log.open("w")
        proc = subprocess.Popen(
            args, cwd=cwd, env=ENV, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        self.started.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the process and everything it started (its session's group)."""
        # The group may outlive its leader (a worker's child process): kill it anyway.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def kill_all(self) -> None:
        for proc in self.started:
            self.kill(proc)


@pytest.fixture
def processes() -> Iterator[Processes]:
    procs = Processes()
    yield procs
    procs.kill_all()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def task_files(folder: Path) -> list[Path]:
    tasks = folder / "tasks"
    return sorted(tasks.glob("v*.json")) if tasks.is_dir() else []


def sweep_folders(out: Path) -> list[Path]:
    return sorted(out.glob("*/*-sweep*"))


def reference(plan, folder: Path) -> str:
    """summary.csv of an uninterrupted serial run of ``plan``."""
    run_sweep(plan, folder, SerialBackend())
    return (folder / "summary.csv").read_text(encoding="utf-8")


def invoke(args: list[Any]) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": "160"})


class StopAfter:
    """A backend that is interrupted (KeyboardInterrupt) after ``n`` results."""

    name = "stop-after"
    workers = 1

    def __init__(self, n: int):
        self.n = n

    def run(self, tasks):
        for i, item in enumerate(SerialBackend().run(tasks)):
            if i == self.n:
                raise KeyboardInterrupt
            yield item


# -- the grid ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3), ("0.4", 0.4), ("1e3", 1000.0), ("urban", "urban"), ("'3'", "3"), ("true", True)],
)
def test_values_are_yaml_scalars(text, value):
    parsed = parse_value(text)
    assert parsed == value
    assert type(parsed) is type(value)


def test_parse_set_and_the_cartesian_grid():
    a = parse_set("staff.desks.alpha.count=1,2,3")
    b = parse_set("demand.channels.online,demand.channels.walk_in=0.3/0.7,0.5/0.5")
    assert a == Axis(("staff.desks.alpha.count",), ((1,), (2,), (3,)))
    assert b.values == ((0.3, 0.7), (0.5, 0.5))
    points = grid_points([a, b])
    assert len(points) == 6
    assert points[0] == {
        "staff.desks.alpha.count": 1,
        "demand.channels.online": 0.3,
        "demand.channels.walk_in": 0.7,
    }
    assert points[1]["demand.channels.online"] == 0.5  # the last axis varies fastest
    assert grid_points([]) == [{}]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("staff.desks.alpha.count", "no '='"),
        ("a,b=1,2", "2 values joined by '/'"),
        ("a=1,,2", "empty"),
        ("a=1,1", "each value once"),
        ("a={x: 1}", "single value"),
    ],
)
def test_bad_set_is_explained(text, message):
    with pytest.raises(SweepError, match=message):
        parse_set(text)


def test_every_variant_is_validated_with_its_key_path(tiny):
    with pytest.raises(ScenarioError) as err:
        plan_sweep(tiny, ["demand.channels.walk_in=1,0.5"])
    text = err.value.message()
    assert "tiny.yaml" in text
    assert "demand.channels" in text
    assert "demand.channels.walk_in=0.5" in text  # names the variant


def test_plan_has_one_variant_per_grid_point_with_common_seed(tiny):
    plan = plan_sweep(tiny, GRID)
    assert len(plan.variants) == 4
    assert {v.seed for v in plan.variants} == {3}  # the scenario's seed: common random numbers
    assert [v.columns for v in plan.variants][1] == {
        "staff.desks.alpha.count": 1,
        "demand.records_per_day": 45,
    }
    assert plan.variants[3].scenario.desk("alpha").count == 2
    assert len(plan.task_names()) == 4 * 3


# -- the run folder and its table -------------------------------------------------------------


def test_serial_sweep_writes_the_run_folder(tiny, tmp_path):
    plan = plan_sweep(tiny, GRID, replications=3)
    folder = tmp_path / "run"
    result = run_sweep(plan, folder)
    names = {p.name for p in folder.iterdir()}
    assert {"sweep.json", "variants.csv", "tasks", "kpis.csv", "summary.csv", "sweep.png"} <= names
    assert len(task_files(folder)) == 12
    assert not [p for p in (folder / "tasks").iterdir() if p.name.startswith(".")]
    summary = pd.read_csv(folder / "summary.csv")
    assert len(summary) == 4
    assert list(summary["staff.desks.alpha.count"]) == [1, 1, 2, 2]
    for col in ("wait_minutes.p90.mean", "wait_minutes.p90.ci_low", "wait_minutes.p90.ci_high"):
        assert col in summary.columns
    assert set(summary["verdict"]) <= {"pass", "fail", "inconclusive"}
    assert "wait_minutes.p90.verdict" in summary.columns
    # One more desk never makes the wait longer (common random numbers).
    assert summary.loc[2, "wait_minutes.p90.mean"] <= summary.loc[0, "wait_minutes.p90.mean"]
    assert result.computed == 12 and result.skipped == 0
    assert (folder / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    spec = json.loads((folder / "sweep.json").read_text())
    assert spec["sets"][0] == {"paths": ["staff.desks.alpha.count"], "values": [[1], [2]]}


def test_a_sweep_row_equals_pasc_run_of_that_variant(tiny, tmp_path):
    plan = plan_sweep(tiny, ["staff.desks.alpha.count=2"], replications=4)
    result = run_sweep(plan, tmp_path / "run")
    sc = load_scenario(tiny, overrides={"staff.desks.alpha.count": 2})
    direct = simulator.run(sc, replications=4, records=False).summary().set_index("kpi")
    row = result.summary.iloc[0]
    for kpi in ("wait_minutes.p90", "utilization", "records_completed"):
        assert row[f"{kpi}.mean"] == direct.loc[kpi, "mean"]
        assert row[f"{kpi}.ci_high"] == direct.loc[kpi, "ci_high"]


def test_sweep_with_size_reports_the_minimal_staffing(tiny, tmp_path):
    plan = plan_sweep(
        tiny, ["demand.records_per_day=30,60"], replications=3, size=SizeOptions(("alpha",))
    )
    result = run_sweep(plan, tmp_path / "run")
    for v, row in zip(plan.variants, result.summary.to_dict("records"), strict=True):
        direct = size(v.scenario, desks=["alpha"], replications=3, seed=v.seed)
        assert row["min_staff.alpha"] == direct.answer["alpha"]
        assert row["binding_target"] == direct.binding_target
    assert (tmp_path / "run" / "tasks" / "v00000-size.json").is_file()


def test_a_new_sweep_never_reuses_a_folder(tiny, tmp_path):
    first = new_sweep_folder(tmp_path, "tiny")
    second = new_sweep_folder(tmp_path, "tiny")
    assert first != second and first.is_dir() and second.is_dir()
    (first / "precious.txt").write_text("mine")
    with pytest.raises(SweepError, match="expected a new, empty folder"):
        run_sweep(plan_sweep(tiny, replications=2), first)
    assert (first / "precious.txt").read_text() == "mine"


# -- same numbers on every backend ----------------------------------------------------------


def test_processes_and_local_dask_equal_serial_exactly(tiny, tmp_path):
    pytest.importorskip("distributed")
    plan = plan_sweep(tiny, GRID, replications=3)
    expected = reference(plan, tmp_path / "serial")
    with ProcessBackend(2) as backend:
        run_sweep(plan, tmp_path / "processes", backend)
    with DaskBackend(workers=2, key_prefix=plan.key_prefix()) as backend:
        run_sweep(plan, tmp_path / "dask", backend)
    for name in ("processes", "dask"):
        assert (tmp_path / name / "summary.csv").read_text() == expected, name
        assert (tmp_path / name / "kpis.csv").read_text() == (
            tmp_path / "serial" / "kpis.csv"
        ).read_text()


# -- resume -----------------------------------------------------------------------------------


def test_resume_recomputes_only_missing_tasks_and_gives_the_same_table(tiny, tmp_path):
    plan = plan_sweep(tiny, GRID, replications=3)
    expected = reference(plan, tmp_path / "whole")
    folder = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, folder, StopAfter(5))
    saved = {p.name: p.stat().st_mtime_ns for p in task_files(folder)}
    assert len(saved) == 5
    assert not (folder / "summary.csv").exists()
    result = run_sweep(plan_sweep(tiny, GRID, replications=3), folder, resume=True)
    assert (result.skipped, result.computed) == (5, 7)
    assert {p.name: p.stat().st_mtime_ns for p in task_files(folder) if p.name in saved} == saved
    assert (folder / "summary.csv").read_text() == expected


def test_cli_sweep_killed_then_resumed_equals_an_uninterrupted_run(slow, tmp_path, processes):
    sets = ["--set", "staff.desks.alpha.count=1,2"]
    args = [*PASC, "sweep", str(slow), *sets, "-r", "4", "--out", str(tmp_path / "out"), "-q"]
    proc = processes.start(args, tmp_path, tmp_path / "first.log")
    wait_for(
        lambda: (
            sweep_folders(tmp_path / "out")
            and len(task_files(sweep_folders(tmp_path / "out")[0])) >= 3
        ),
        60,
        "3 task files",
    )
    processes.kill(proc)  # SIGKILL: no chance to clean up
    folder = sweep_folders(tmp_path / "out")[0]
    saved = {p.name: p.stat().st_mtime_ns for p in task_files(folder)}
    assert 3 <= len(saved) < 8, "the sweep finished before it could be killed"
    assert not (folder / "summary.csv").exists()

    again = subprocess.run(
        [*args[:-3], "--resume", str(folder)], env=ENV, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(saved)} of 8 tasks already saved" in again.stderr
    assert f"Computed {8 - len(saved)} tasks, reused {len(saved)}" in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in task_files(folder) if p.name in saved} == saved
    assert len(task_files(folder)) == 8
    plan = plan_sweep(slow, ["staff.desks.alpha.count=1,2"], replications=4)
    assert (folder / "summary.csv").read_text() == reference(plan, tmp_path / "whole")


@pytest.fixture
def finished(tiny, tmp_path) -> Path:
    """A finished CLI sweep of the tiny grid, 2 replications."""
    result = invoke(
        [
            "sweep",
            tiny,
            *sum((["--set", s] for s in GRID), []),
            "-r",
            2,
            "--out",
            tmp_path / "o",
            "-q",
        ]
    )
    assert result.exit_code == 0, result.output
    return sweep_folders(tmp_path / "o")[0]


def test_resume_with_the_folder_alone_reruns_the_stored_sweep(finished):
    before = (finished / "summary.csv").read_text()
    result = invoke(["sweep", "--resume", finished, "-q"])
    assert result.exit_code == 0, result.output
    assert "Computed 0 tasks, reused 8" in result.output
    assert (finished / "summary.csv").read_text() == before


@pytest.mark.parametrize(
    ("options", "key"),
    [
        (["--set", GRID[0], "--set", GRID[1], "-r", "3"], "replications"),
        (["--set", GRID[0], "--set", GRID[1], "-r", "2", "--seed", "9"], "seed"),
        (["--set", "staff.desks.alpha.count=1,3", "--set", GRID[1], "-r", "2"], "sets"),
    ],
)
def test_resume_with_a_different_spec_is_bad_input(finished, tiny, options, key):
    result = invoke(["sweep", tiny, *options, "--resume", finished, "-q"])
    assert result.exit_code == 2, result.output
    assert "sweep.json" in result.output and f"{key}: expected" in result.output
    assert "Traceback" not in result.output


def test_resume_after_the_scenario_file_changed_is_bad_input(
    finished, tiny, minimal_scenario_dict, write_yaml
):
    data = minimal_scenario_dict()
    data["targets"] = [{"kpi": "wait_minutes.p90", "max": 20}]
    data["demand"]["priority_share"] = 0.2
    write_yaml(tiny.parent, tiny.name, data)
    args = ["sweep", tiny, "--set", GRID[0], "--set", GRID[1], "-r", 2, "--resume", finished]
    result = invoke(args)
    assert result.exit_code == 2
    assert "the scenarios differ from those the sweep started with" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "staff.desks.alpha.count"], "expected PATH=V1,V2,..., found no '='"),
        (["--set", "staff.desks.gamma.count=1,2"], "staff.desks.gamma"),
        (["--set", "staff.desks.alpha.count=0,1"], "staff.desks.0.count"),
        (["--where", "province=x"], "expected a province file"),
        (["--desk", "alpha"], "expected --size too"),
        (["--size", "--desk", "gamma"], "expected desk names among alpha, beta"),
        (["--plot-kpi", "wait.p90"], "--plot-kpi: expected a KPI such as"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "found both"),
    ],
)
def test_cli_bad_input_exits_2_with_one_message(tiny, tmp_path, args, message):
    result = invoke(["sweep", tiny, *args, "--out", tmp_path / "o", "-q"])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not list((tmp_path / "o").glob("*/*"))  # nothing written before validation


def test_cli_resume_of_a_folder_that_is_not_a_sweep(tmp_path):
    result = invoke(["sweep", "--resume", tmp_path])
    assert result.exit_code == 2
    assert "expected a sweep folder" in result.output


# -- a Dask worker killed mid-run ---------------------------------------------------------


def test_a_worker_killed_mid_run_loses_nothing(slow, tmp_path, processes):
    pytest.importorskip("distributed")
    from distributed import Client

    scheduler_file = tmp_path / "scheduler.json"
    processes.start(
        [
            sys.executable, "-m", "distributed.cli.dask_scheduler",
            "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--scheduler-file", str(scheduler_file),
        ],
        tmp_path,
        tmp_path / "scheduler.log",
    )  # fmt: skip
    wait_for(scheduler_file.exists, 60, "the scheduler file")
    workers = [
        processes.start(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                "--scheduler-file",
                str(scheduler_file),
                "--host",
                "127.0.0.1",
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--no-dashboard",
            ],
            REPO,
            tmp_path / f"worker{i}.log",
        )  # fmt: skip
        for i in range(2)
    ]
    address = json.loads(scheduler_file.read_text())["address"]
    assert address.startswith("tcp://127.0.0.1:")
    with Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)

    out = tmp_path / "out"
    sets = ["--set", "staff.desks.alpha.count=1,2,3"]
    sweep = processes.start(
        [*PASC, "sweep", str(slow), *sets, "-r", "4", "--scheduler", address, "--out", str(out)],
        tmp_path,
        tmp_path / "sweep.log",
    )
    wait_for(
        lambda: bool(sweep_folders(out)) and len(task_files(sweep_folders(out)[0])) >= 3,
        90,
        "3 task files",
    )
    processes.kill(workers[0])
    assert len(task_files(sweep_folders(out)[0])) < 12, "the sweep finished before the kill"
    assert sweep.wait(timeout=120) == 0, (tmp_path / "sweep.log").read_text()
    with Client(address, timeout=30) as client:
        assert len(client.scheduler_info()["workers"]) == 1  # the kill did remove a worker
    folder = sweep_folders(out)[0]
    assert len(task_files(folder)) == 12
    plan = plan_sweep(slow, ["staff.desks.alpha.count=1,2,3"], replications=4)
    assert (folder / "summary.csv").read_text() == reference(plan, tmp_path / "serial")
