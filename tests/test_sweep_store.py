"""The sweep store (issue 12): task files that survive a power cut, a lost Dask
scheduler that ends in one message, and ``--resume`` with the first command's options.

Each test damages a finished (or interrupted) sweep the way the real failure
would, resumes it and compares ``summary.csv`` with an uninterrupted serial run
byte for byte. The Dask test runs ``pasc sweep --scheduler`` in a subprocess
against a ``LocalCluster`` started inside the test (threads, 127.0.0.1 only) and
closes that cluster mid-sweep; the fixtures close every cluster and kill every
process they started, also when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from simulator.backends import BackendLost, DaskBackend, ProcessBackend, SerialBackend, Task
from simulator.cli import main
from simulator.sweep import SweepFolder, plan_sweep, run_sweep, task_checksum

PASC = [sys.executable, "-m", "simulator.cli"]
ENV = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1"}
GRID = ["staff.desks.alpha.count=1,2", "demand.records_per_day=30,45"]
SETS = [arg for s in GRID for arg in ("--set", s)]


# -- helpers -------------------------------------------------------------------------------


@pytest.fixture
def tiny(sweep_tiny_file) -> Path:
    return sweep_tiny_file


@pytest.fixture
def slow(sweep_slow_file) -> Path:
    return sweep_slow_file


def invoke(args: list[Any]) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], env={"COLUMNS": "160"})


def task_files(folder: Path) -> list[Path]:
    return sorted((folder / "tasks").glob("v*.json"))


def sweep_folders(out: Path) -> list[Path]:
    return sorted(out.glob("*/*-sweep*"))


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def reference(tiny: Path, folder: Path) -> str:
    """summary.csv of an uninterrupted serial run of the tiny grid, 2 replications."""
    run_sweep(plan_sweep(tiny, GRID, replications=2), folder, SerialBackend())
    return (folder / "summary.csv").read_text(encoding="utf-8")


@pytest.fixture
def finished(tiny, tmp_path) -> Path:
    """A finished CLI sweep of the tiny grid (4 variants × 2 replications) under o/."""
    result = invoke(["sweep", tiny, *SETS, "-r", 2, "--out", tmp_path / "o", "-q"])
    assert result.exit_code == 0, result.output
    return sweep_folders(tmp_path / "o")[0]


def interrupted(folder: Path) -> None:
    """Make a finished sweep look interrupted: no final tables."""
    for name in ("summary.csv", "kpis.csv", "sweep.png"):
        (folder / name).unlink()


# -- task files that do not read back -------------------------------------------------------


def _empty(path: Path) -> None:
    path.write_bytes(b"")  # what a power cut before the data reached the disk leaves


def _truncated(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")


def _checksum_mismatch(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["result"]["wait_minutes.p90"] += 1.0  # valid JSON, wrong numbers
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")


@pytest.mark.parametrize("damage", [_empty, _truncated, _checksum_mismatch])
def test_an_unreadable_task_file_is_reported_and_recomputed(finished, tiny, tmp_path, damage):
    expected = reference(tiny, tmp_path / "whole")
    bad = finished / "tasks" / "v00001-r0000.json"
    damage(bad)
    interrupted(finished)

    result = invoke(["sweep", "--resume", finished, "-q"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("pasc:")]
    assert lines == [
        "pasc: sweep: 1 saved task unreadable (tasks/v00001-r0000.json), recomputing it"
    ]
    assert "resuming: 7 of 8 tasks already saved" in result.stderr
    assert "Computed 1 tasks, reused 7" in result.stdout
    assert (finished / "summary.csv").read_text(encoding="utf-8") == expected
    # The damaged file is kept aside to look at; the new one carries its checksum.
    assert (finished / "tasks" / "v00001-r0000.json.unreadable").is_file()
    data = json.loads(bad.read_text(encoding="utf-8"))
    assert data["sha256"] == task_checksum("v00001-r0000", data["result"])


def test_several_unreadable_files_are_one_line(finished, tiny, tmp_path):
    expected = reference(tiny, tmp_path / "whole")
    for name in ("v00000-r0001", "v00002-r0000", "v00003-r0001"):
        _empty(finished / "tasks" / f"{name}.json")
    interrupted(finished)
    result = run_sweep(plan_sweep(tiny, GRID, replications=2), finished, resume=True)
    assert result.unreadable == (
        "tasks/v00000-r0001.json",
        "tasks/v00002-r0000.json",
        "tasks/v00003-r0001.json",
    )
    assert (result.computed, result.skipped) == (3, 5)
    assert (finished / "summary.csv").read_text(encoding="utf-8") == expected


def test_task_files_are_written_whole_with_a_checksum(finished):
    files = task_files(finished)
    assert len(files) == 8
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert set(data) == {"task", "result", "sha256"}
        assert data["task"] == path.stem
        assert data["sha256"] == task_checksum(path.stem, data["result"])
    assert not [p for p in (finished / "tasks").iterdir() if p.name.startswith(".")]


def test_an_old_store_without_checksums_still_resumes(finished, tiny, tmp_path):
    expected = reference(tiny, tmp_path / "whole")
    # A sweep saved before checksums: {"task", "result"} only, interrupted after 5 tasks.
    for path in task_files(finished):
        data = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({"task": data["task"], "result": data["result"]}) + "\n")
    for name in ("v00002-r0001", "v00003-r0000", "v00003-r0001"):
        (finished / "tasks" / f"{name}.json").unlink()
    interrupted(finished)
    old = {p.name: p.stat().st_mtime_ns for p in task_files(finished)}

    result = invoke(["sweep", "--resume", finished, "-q"])
    assert result.exit_code == 0, result.output
    assert "unreadable" not in result.output
    assert "Computed 3 tasks, reused 5" in result.stdout
    assert {p.name: p.stat().st_mtime_ns for p in task_files(finished) if p.name in old} == old
    assert (finished / "summary.csv").read_text(encoding="utf-8") == expected


# -- --resume with the first command's options ----------------------------------------------


def test_resume_with_the_first_command_including_out(finished, tiny, tmp_path):
    expected = reference(tiny, tmp_path / "whole")
    for name in ("v00000-r0000", "v00002-r0001", "v00003-r0001"):
        (finished / "tasks" / f"{name}.json").unlink()
    interrupted(finished)
    first = ["sweep", tiny, *SETS, "-r", 2, "--out", tmp_path / "o", "-q"]
    result = invoke([*first, "--resume", finished])
    assert result.exit_code == 0, result.output
    assert "Computed 3 tasks, reused 5" in result.stdout
    assert "ignored" not in result.output  # --out is where the folder already is
    assert (finished / "summary.csv").read_text(encoding="utf-8") == expected


def test_resume_with_another_out_notes_that_it_is_ignored(finished, tiny, tmp_path):
    args = ["sweep", tiny, *SETS, "-r", 2, "--out", tmp_path / "elsewhere", "--resume", finished]
    result = invoke([*args, "-q"])
    assert result.exit_code == 0, result.output
    assert f"--out {tmp_path / 'elsewhere'} ignored: a resumed sweep writes into" in result.stderr
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ([*SETS, "-r", "3"], "--replications"),
        ([*SETS, "-r", "2", "--seed", "9"], "--seed"),
        (["--set", GRID[0], "-r", "2"], "--set"),
        ([*SETS, "-r", "2", "--size"], "--size/--desk/--max-staff"),
    ],
)
def test_resume_with_out_and_a_different_plan_is_refused(finished, tiny, tmp_path, options, option):
    before = {p.name: p.stat().st_mtime_ns for p in task_files(finished)}
    result = invoke(["sweep", tiny, *options, "--out", tmp_path / "o", "--resume", finished])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "sweep.json" in result.output
    assert f"{option} differs from the first run" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert {p.name: p.stat().st_mtime_ns for p in task_files(finished)} == before


# -- the backend goes away ------------------------------------------------------------------


@pytest.fixture
def clusters() -> Iterator[Callable[..., Any]]:
    """Start in-process Dask clusters (worker threads, tcp on 127.0.0.1); all closed at
    teardown."""
    distributed = pytest.importorskip("distributed")
    started: list[Any] = []

    def start(n_workers: int = 1) -> Any:
        cluster = distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=False,
            protocol="tcp",
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        )
        started.append(cluster)
        return cluster

    yield start
    for cluster in started:
        with contextlib.suppress(Exception):
            cluster.close()


@pytest.fixture
def popen() -> Iterator[Callable[..., subprocess.Popen]]:
    """Start processes (own session, output to pipes); killed at teardown if still alive."""
    started: list[subprocess.Popen] = []

    def start(args: list[str], cwd: Path) -> subprocess.Popen:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def test_a_lost_scheduler_ends_in_one_message_and_resume_finishes(slow, tmp_path, clusters, popen):
    cluster = clusters()
    address = cluster.scheduler_address
    out = tmp_path / "out"
    sets = ["--set", "staff.desks.alpha.count=1,2,3"]
    args = [*PASC, "sweep", str(slow), *sets, "-r", "3", "--scheduler", address, "--out", str(out)]
    proc = popen([*args, "-q"], tmp_path)
    wait_for(
        lambda: bool(sweep_folders(out)) and len(task_files(sweep_folders(out)[0])) >= 2,
        90,
        "2 task files",
    )
    cluster.close()  # the scheduler (and its worker) go away mid-sweep
    stdout, stderr = proc.communicate(timeout=120)
    folder = sweep_folders(out)[0]
    saved = {p.name: p.stat().st_mtime_ns for p in task_files(folder)}
    assert len(saved) < 9, "the sweep finished before the scheduler was closed"

    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    lines = [line for line in stderr.splitlines() if line.startswith("pasc:")]
    assert len(lines) == 1, stderr
    message = lines[0]
    assert f"lost the connection to the Dask scheduler at {address}" in message
    assert f"{len(saved)} of 9 tasks are saved in {folder}" in message
    command = shlex.split(message.split("finish with: ", 1)[1])
    assert command == ["pasc", "sweep", "--resume", str(folder), "--scheduler", address]
    assert not (folder / "summary.csv").exists()

    # The message's command, on a new scheduler (a new address), finishes the job.
    new = clusters()
    result = invoke([*command[1:-1], new.scheduler_address, "-q"])
    assert result.exit_code == 0, result.output
    assert f"Computed {9 - len(saved)} tasks, reused {len(saved)}" in result.stdout
    assert {p.name: p.stat().st_mtime_ns for p in task_files(folder) if p.name in saved} == saved
    plan = plan_sweep(slow, ["staff.desks.alpha.count=1,2,3"], replications=3)
    run_sweep(plan, tmp_path / "serial", SerialBackend())
    assert (folder / "summary.csv").read_text() == (tmp_path / "serial" / "summary.csv").read_text()


def nap(x: int) -> int:
    """A task long enough to still be running when the workers go away."""
    time.sleep(0.3)
    return x


def die(x: int) -> int:
    """A task that kills its worker process."""
    os._exit(3)


def test_dask_backend_reports_every_worker_gone(clusters):
    cluster = clusters()
    backend = DaskBackend(scheduler=cluster.scheduler_address, no_workers_timeout_s=0.5)
    try:
        results = backend.run([Task(f"t{i}", nap, (i,)) for i in range(8)])
        first = next(results)
        assert first[0].startswith("t")
        cluster.scale(0)  # every worker leaves; the tasks would wait forever
        started = time.monotonic()
        with pytest.raises(BackendLost, match="every Dask worker of the scheduler at tcp://"):
            list(results)
        assert time.monotonic() - started < 30
    finally:
        backend.close()


def test_process_backend_reports_a_dead_worker_process():
    with ProcessBackend(1) as backend:
        with pytest.raises(BackendLost, match="a local worker process died"):
            list(backend.run([Task("dies", die, (1,))]))
        # The next run starts a new pool.
        assert list(backend.run([Task("t", nap, (4,))])) == [("t", 4)]


def test_saved_tasks_are_checked_against_the_task_name(finished):
    store = SweepFolder(finished)
    good = finished / "tasks" / "v00000-r0000.json"
    other = json.loads((finished / "tasks" / "v00000-r0001.json").read_text(encoding="utf-8"))
    good.write_text(json.dumps(other) + "\n", encoding="utf-8")  # another task's file
    saved = store.scan(["v00000-r0000", "v00000-r0001"])
    assert saved.done == {"v00000-r0001"}
    assert saved.unreadable == ("tasks/v00000-r0000.json",)
