"""Runs that fail cleanly and lose nothing: output folders checked first, folder
permissions, SIGTERM and Ctrl-C, one replication, progress in a log."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator import artifacts as folder_module
from simulator.cli import main

PASC = [sys.executable, "-m", "simulator.cli"]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny(tmp_path, minimal_scenario_dict, write_yaml) -> Path:
    return write_yaml(tmp_path, "tiny", minimal_scenario_dict())


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".") or p.name.endswith(".partial")]


def test_a_file_where_the_scenario_folder_goes_is_bad_input_before_simulating(tiny, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "tiny").write_text("not a folder")
    runner = CliRunner()
    called = []
    original = folder_module.write_run_folder

    def spy(*args, **kwargs):  # pragma: no cover - must not be reached
        called.append(1)
        return original(*args, **kwargs)

    folder_module.write_run_folder = spy
    try:
        res = runner.invoke(main, ["run", str(tiny), "--out", str(out), "-q"])
    finally:
        folder_module.write_run_folder = original
    assert res.exit_code == 2, res.output
    assert "tiny" in res.output and "found a file" in res.output
    assert not called


def test_run_folders_get_the_umask_permissions(tiny, tmp_path):
    old = os.umask(0o022)
    try:
        res = CliRunner().invoke(main, ["run", str(tiny), "--out", str(tmp_path / "o"), "-q"])
    finally:
        os.umask(old)
    assert res.exit_code == 0, res.output
    (run_folder,) = (tmp_path / "o" / "tiny").iterdir()
    assert stat.S_IMODE(run_folder.stat().st_mode) == 0o755  # not mkdtemp's 0700


def test_sigterm_during_the_folder_write_leaves_no_partial_folder(tiny, tmp_path, monkeypatch):
    # The signal arrives while the report is being drawn inside the temporary folder.
    import simulator.report as report

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(report, "write_run_report", killed)
    out = tmp_path / "o"
    res = CliRunner().invoke(main, ["run", str(tiny), "--out", str(out), "-q"])
    assert res.exit_code == 143, res.output
    assert "SIGTERM" in res.output and "Traceback" not in res.output
    assert list((out / "tiny").iterdir()) == []  # neither a run folder nor a .partial one
    assert signal.getsignal(signal.SIGTERM) is not None  # the handler was put back


def test_sigterm_to_a_running_process_exits_143(tmp_path, minimal_scenario_dict, write_yaml):
    data = minimal_scenario_dict()
    data["horizon"] = {"days": 2000, "warmup_days": 0}  # long enough to be stopped mid-run
    path = write_yaml(tmp_path, "long", data)
    proc = subprocess.Popen(
        [*PASC, "run", str(path), "-r", "50", "--out", str(tmp_path / "o"), "-q"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        import time

        time.sleep(4)  # imports done, simulating
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "stopped (SIGTERM)" in err
    assert not _leftovers(tmp_path / "o")


def test_ctrl_c_exits_130_not_1(tiny, tmp_path, monkeypatch):
    import simulator

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(simulator, "run", interrupted)
    res = CliRunner().invoke(main, ["run", str(tiny), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 130, res.output
    assert "Ctrl-C" in res.output


def test_one_replication_says_it_cannot_judge(tiny, tmp_path):
    res = CliRunner().invoke(
        main, ["run", str(tiny), "-r", "1", "--out", str(tmp_path / "o"), "--no-records"]
    )
    assert res.exit_code == 0, res.output
    assert "needs ≥ 2 replications" in res.output
    assert "no confidence interval" in res.output


def test_progress_lines_when_stderr_is_a_log(tmp_path, minimal_scenario_dict, write_yaml):
    data = minimal_scenario_dict()
    data["horizon"] = {"days": 40, "warmup_days": 0}
    path = write_yaml(tmp_path, "logged", data)
    env = {**os.environ, "PASC_PROGRESS_SECONDS": "0"}
    cmd = [*PASC, "run", str(path), "-r", "4", "--out", str(tmp_path / "o"), "--no-records"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "tiny: replications: 4/4 done" in proc.stderr
    quiet = subprocess.run([*cmd, "-q"], capture_output=True, text=True, env=env)
    assert "done" not in quiet.stderr


# -- the size of a run, known before it starts ------------------------------------------


def test_estimate_is_close_to_the_records_a_run_files(tiny, tmp_path):
    import simulator
    from simulator.runsize import estimate_run

    sc = simulator.load_scenario(REPO / "scenarios" / "quang-nam-urban-ward.yaml")
    est = estimate_run(sc, 5)
    filed = simulator.run(sc, 5, records=False).kpis["records_filed"].sum()
    # Poisson arrivals: 5 x 1,320 expected records (warm-up included in the estimate,
    # not in records_filed: 2 of 22 days); the count's sd is about 1.3 % of 6,000,
    # so 5 % is about 4 sd.
    assert est.records_total * 20 / 22 == pytest.approx(filed, rel=0.05)


def test_a_run_too_big_for_the_machine_is_refused_naming_the_keys(tmp_path, write_yaml):
    path = write_yaml(
        tmp_path,
        "huge.yaml",
        {
            "extends": str(REPO / "scenarios" / "quang-nam-urban-ward.yaml"),
            "name": "huge",
            "demand": {"records_per_day": 1e9},
        },
    )
    for command in (["run"], ["size"], ["run", "--no-records"]):
        proc = subprocess.run(
            [*PASC, *command, str(path), "--out", str(tmp_path / "o")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, (command, proc.stderr)
        assert "demand.records_per_day" in proc.stderr and "horizon.days" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()  # refused before any folder was made


def test_dry_run_prints_the_estimate_and_runs_nothing(tiny, tmp_path):
    res = CliRunner().invoke(main, ["run", str(tiny), "--dry-run", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "records" in res.output and "GB" in res.output and "nothing was run" in res.output
    assert not (tmp_path / "o").exists()


def test_limits_can_be_raised(tiny, tmp_path):
    low = CliRunner().invoke(main, ["run", str(tiny), "--max-memory-gb", "0.01", "-q"])
    assert low.exit_code == 2 and "--max-memory-gb" in low.output


def test_pasc_run_memory_does_not_grow_with_the_horizon_with_the_records_table(
    tmp_path, write_yaml
):
    # pasc run keeps the records table: on a local backend the replications write it
    # to disk in chunks as they run, so the process's peak memory (its resident set,
    # from the kernel's rusage of finished children) must not grow with the horizon.
    # 1,000 and then 4,000 working days of the urban ward, 2 replications: 120,000 and
    # 480,000 records; kept in memory (about 1.5 KB each) the long run would need
    # some 700 MB more than the short one. What still grows is the hourly table
    # (about 11 rows a day, a few MB here) and nothing else: 30 % slack over the
    # short run's ~250 MB covers it and allocator noise. The pictures' sample is
    # capped (PASC_PICTURE_SAMPLE_ROWS) below both runs' records, and drawn in the
    # process (PASC_PICTURE_PROCESSES=1) so that all memory is in one process.
    import resource

    env = {
        **os.environ,
        "PASC_PICTURE_SAMPLE_ROWS": "20000",
        "PASC_PICTURE_PROCESSES": "1",
        "PASC_STREAM_TABLES": "1",  # stream both runs (by default only runs above 512 MB)
    }
    peaks = []
    for days in (1000, 4000):
        path = write_yaml(
            tmp_path,
            f"long-{days}.yaml",
            {
                "extends": str(REPO / "scenarios" / "quang-nam-urban-ward.yaml"),
                "horizon": {"days": days, "warmup_days": 2},
            },
        )
        proc = subprocess.run(
            [*PASC, "run", str(path), "-r", "2", "--out", str(tmp_path / "o"), "-q", "--json"],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)  # KiB, max so far
    short, long = peaks
    folders = sorted((tmp_path / "o").glob("*/*/records.csv.gz"))
    assert len(folders) == 2
    import gzip

    with gzip.open(folders[-1], "rt") as f:
        rows = sum(1 for _ in f) - 1
    assert rows > 400_000  # the long run's records are all on disk
    assert long <= 1.3 * short, (short, long)
    assert not _leftovers(tmp_path / "o")  # the spool folder is gone


def test_a_closed_stdout_still_gets_the_run_folder_written(tiny, tmp_path, monkeypatch):
    """``pasc run ... | head -1``: the KPIs are printed before the folder is written,
    and a reader gone (rich then exits) must not cost the user the run folder."""
    import importlib

    run_module = importlib.import_module("simulator.cli.run")

    def reader_gone(result):
        raise SystemExit(1)  # what rich's Console does on a broken pipe

    monkeypatch.setattr(run_module, "print_run", reader_gone)
    res = CliRunner().invoke(main, ["run", str(tiny), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 1, res.output
    (folder,) = (tmp_path / "o" / "tiny").iterdir()
    assert (folder / "records.csv.gz").stat().st_size > 0
    assert (folder / "report.html").exists()
