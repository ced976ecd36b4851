"""simulator.report and ``pasc report``: self-contained HTML with every KPI and verdict."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pandas as pd
import pytest
from builders import busy_office, mmc
from click.testing import CliRunner

import simulator
from simulator import artifacts, report
from simulator.artifacts import write_run_folder, write_sizing_folder
from simulator.cli import main
from simulator.plots import RUN_FIGURES
from simulator.sizing import size

TARGETS = [
    {"kpi": "handle_minutes.p90", "max": 30},
    {"kpi": "wait_minutes.p90", "max": 0.5},  # fails in this busy office
    {"kpi": "on_time_rate", "min": 0.95},
]


@pytest.fixture(scope="module")
def run_result():
    sc = busy_office(horizon={"days": 4, "warmup_days": 1}, targets=TARGETS)
    return simulator.run(sc, replications=3, seed=2)


@pytest.fixture(scope="module")
def run_folder(run_result, tmp_path_factory):
    return write_run_folder(
        run_result, tmp_path_factory.mktemp("runs"), render=report.write_run_report
    )


def assert_self_contained(text: str) -> None:
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"<script", text, re.I)
    assert not re.search(r"<link", text, re.I)
    for src in re.findall(r'src="([^"]*)"', text):
        assert src.startswith("data:image/png;base64,"), src[:40]


def test_run_report_has_every_kpi_and_verdict(run_result):
    text = report.run_report_html(run_result)
    assert_self_contained(text)
    for kpi in run_result.summary()["kpi"]:
        assert f"<td>{kpi}</td>" in text, kpi
    targets = run_result.targets()
    assert set(targets["verdict"]) >= {"fail"}
    for r in targets.itertuples():
        row = re.search(rf"<tr><td>{re.escape(r.kpi)}</td>.*?</tr>", text)
        assert row is not None, r.kpi
        assert f'class="verdict {r.verdict}"' in row.group(0)
    assert "banner fail" in text  # the overall verdict
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == len(RUN_FIGURES)
    assert all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    # STRESS-DES sections, data sources with their docs/domain.md labels, seeds and versions.
    for heading in ("Objectives", "Logic", "Data", "Experimentation", "Implementation"):
        assert heading in text
    assert "seed 2" in text and "simpy" in text and "numpy" in text


def test_report_names_the_scenario_sources(run_result):
    sc = run_result.scenario.model_copy(update={"source": ["QN-targets", "Some 2024 survey"]})
    text = report.run_report_html(
        simulator.results.RunResult(sc, run_result.seed, run_result.replications, run_result.kpis),
        images={},
    )
    assert "[QN-targets]" in text and "1,600 / 1,200 / 800" in text
    assert "[Some 2024 survey]" in text and "a citation given by the scenario" in text


def test_run_folder_holds_pictures_and_report(run_folder):
    names = {p.name for p in run_folder.iterdir()}
    assert {f"{n}.png" for n in RUN_FIGURES} <= names
    assert {"report.html", "hourly.csv", "daily.csv", "environment.json"} <= names
    text = (run_folder / "report.html").read_text(encoding="utf-8")
    assert_self_contained(text)
    size_kb = len(text.encode()) / 1024
    assert 50 < size_kb < 2000, size_kb
    assert not [p for p in run_folder.parent.iterdir() if p.name.startswith(".")]


def test_load_run_folder_gives_back_the_same_numbers(run_result, run_folder):
    loaded, meta = artifacts.load_run_folder(run_folder)
    pd.testing.assert_frame_equal(loaded.summary(), run_result.summary())
    pd.testing.assert_frame_equal(loaded.targets(), run_result.targets())
    assert meta["seed"] == 2
    assert loaded.records["on_time"].dropna().isin([True, False]).all()


def test_pasc_report_rebuilds_the_same_report(run_folder):
    before = (run_folder / "report.html").read_text(encoding="utf-8")
    (run_folder / "report.html").unlink()
    (run_folder / "wait.png").unlink()
    result = CliRunner().invoke(main, ["report", str(run_folder)])
    assert result.exit_code == 0, result.output
    assert (run_folder / "wait.png").exists()
    after = (run_folder / "report.html").read_text(encoding="utf-8")
    strip = re.compile(r"base64,[^\"]+")
    assert strip.sub("", after) == strip.sub("", before)


def test_sizing_folder_report(tmp_path):
    sc = mmc(2, 0.6, 10.0, days=2, warmup_days=0, targets=[{"kpi": "wait_minutes.mean", "max": 5}])
    folder = write_sizing_folder(
        size(sc, replications=3), tmp_path, render=report.write_sizing_report
    )
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert_self_contained(text)
    assert (folder / "staffing-curve.png").exists()
    assert "Staffing curve" in text and "wait_minutes.mean" in text and "→ " in text
    (folder / "report.html").unlink()
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert "Staffing curve" in (folder / "report.html").read_text(encoding="utf-8")


def test_comparison_report(tmp_path, minimal_scenario_dict):
    from simulator.artifacts import write_comparison_folder
    from simulator.compare import compare

    sc = simulator.load_scenario(minimal_scenario_dict())
    folder = write_comparison_folder(
        compare([sc, sc], replications=2, seed=1),
        tmp_path,
        render=report.write_comparison_report,
    )
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert_self_contained(text)
    assert "tiny#2 − tiny (paired)" in text and "0.00 (0.00 to 0.00)" in text
    assert CliRunner().invoke(main, ["report", str(folder)]).exit_code == 0


@pytest.mark.parametrize("broken", ["no-folder", "empty", "no-kpis", "bad-json"])
def test_pasc_report_bad_folder_exits_2(run_folder, tmp_path, broken):
    import shutil

    folder = tmp_path / "run"
    if broken != "no-folder":
        folder.mkdir()
    if broken in ("no-kpis", "bad-json"):
        for name in ("run.json", "scenario.yaml"):
            shutil.copy(run_folder / name, folder / name)
    if broken == "bad-json":
        shutil.copy(run_folder / "kpis.csv", folder / "kpis.csv")
        (folder / "run.json").write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(folder)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("pasc: ")
    assert str(folder) in result.output and "expected" in result.output
    assert "Traceback" not in result.output
    expected = {
        "no-folder": "no such folder",
        "empty": "run.json",
        "no-kpis": "kpis.csv",
        "bad-json": "JSON",
    }
    assert expected[broken] in result.output
    assert not Path(folder / "report.html").exists()


def test_pictures_drawn_by_two_processes_are_the_same_bytes(run_result, monkeypatch):
    """``pasc run`` draws its pictures on two forked processes (they take longer than a
    small run's simulation); the report must not depend on that."""
    monkeypatch.setattr(report, "_can_fork", lambda: True)  # pytest's threads aside
    serial = report.run_images(run_result, processes=1)
    assert list(serial) == list(RUN_FIGURES)
    assert report.run_images(run_result, processes=2) == serial


def test_drawers_started_before_the_run_give_the_same_report(run_result, monkeypatch, tmp_path):
    """As ``pasc run`` uses them: started first, handed the run, collected by the report."""
    monkeypatch.setattr(report, "_can_fork", lambda: True)  # pytest's threads aside
    with report.PictureDrawers(2) as drawers:
        assert drawers._pool is not None
        drawers.start(run_result)
        folder = write_run_folder(run_result, tmp_path, render=drawers.write_run_report)
    serial = report.run_images(run_result, processes=1)
    assert {p.stem: p.read_bytes() for p in folder.glob("*.png")} == serial
