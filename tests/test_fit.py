"""``pasc fit`` and ``pasc export-log``: reading exports, estimating, writing scenarios.

Statistical checks use fixed seeds, so each is deterministic; the tolerances
are still the ones a fresh seed would pass with high probability (stated at
each), so a change in the model or the estimators that biases a figure fails
the test rather than a lucky or unlucky draw.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import simulator
from simulator.cli import main
from simulator.fit.columns import ExportError, parse_times, read_export, read_tickets
from simulator.fit.estimate import FitOptions, fit_candidates, fit_export, fit_intake, kaplan_meier
from simulator.fit.export import export_log, write_table
from simulator.fit.scenario_out import fitted_scenario_yaml
from simulator.scenario import load_scenario, validate_scenario

REPO = Path(__file__).resolve().parent.parent
EXPORTS = REPO / "scenarios" / "exports"
#: Two-sided 99.9 % normal quantile: a correct estimator misses by more with
#: probability 0.1 % per check, so a fresh seed almost never fails by chance.
Z = 3.29


def truth_scenario():
    """The urban ward with a supplement loop on land records, 30 days, no warm-up."""
    raw = yaml.safe_load((REPO / "scenarios" / "quang-nam-urban-ward.yaml").read_text())
    raw = copy.deepcopy(raw)
    raw["horizon"] = {"days": 30, "warmup_days": 0}
    land = next(p for p in raw["procedures"] if p["id"] == "land-registration")
    land["rework"] = {
        "share": 0.2,
        "return_share": 1.0,
        "delay_working_days": {"dist": "fixed", "value": 2},
    }
    return validate_scenario(raw)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    """Simulate the truth once, export it (English headings), fit it."""
    sc = truth_scenario()
    res = simulator.run(sc, replications=1, seed=7)
    export, tickets = export_log(res.records, sc)
    folder = tmp_path_factory.mktemp("rt")
    write_table(export, folder / "export.csv")
    write_table(tickets, folder / "tickets.csv")
    records = read_export([folder / "export.csv"])
    ticket_table = read_tickets(folder / "tickets.csv")
    fit = fit_export(records, ticket_table, FitOptions(gof_samples=49, name="round-trip"))
    return sc, res, fit, folder


def test_round_trip_recovers_the_truth(round_trip):
    sc, res, fit, _ = round_trip
    days = sc.horizon.days
    arr = fit.arrivals
    assert arr.working_days == days
    # Records filed in 30 days are Poisson(60 x 30): the rate's sd is sqrt(60 / 30).
    assert abs(arr.records_per_day - 60) <= Z * math.sqrt(60 / days)
    lo, hi = arr.per_day_interval
    assert lo < arr.records_per_day < hi
    # Channel counts are multinomial: each share has binomial sd sqrt(p (1 - p) / n).
    n = fit.records_used
    for ch, p in sc.demand.channels.as_dict().items():
        assert abs(fit.channels[ch].value - p) <= Z * math.sqrt(p * (1 - p) / n), ch
    # Priority is drawn per walk-in (binomial over the tickets).
    assert abs(fit.priority.value - 0.10) <= Z * math.sqrt(0.09 / fit.priority.total)
    by_id = {p.id: p for p in fit.procedures}
    truth = {p.id: p for p in sc.procedures}
    assert set(by_id) == set(truth)  # fewer than --top procedures: all keep their names
    for pid, p in truth.items():
        f = by_id[pid]
        assert f.deadline_working_days == p.deadline_working_days, pid
        # Rejections are binomial per record of the procedure.
        sd = math.sqrt(p.reject_share * (1 - p.reject_share) / f.count)
        assert abs(f.reject.value - p.reject_share) <= Z * sd + 1 / f.count, pid
    # Intake means: a procedure with enough tickets is fitted on its own; the MLE of
    # the mean is at least as precise as the sample mean, whose sd is sd / sqrt(n).
    for pid in ("certified-copy", "land-registration", "birth-registration"):
        f = by_id[pid].intake
        assert f.level == "procedure"
        true = truth[pid].intake_minutes
        assert abs(f.dist["mean"] - true.mean) <= Z * math.sqrt(true.variance / f.n), pid
    # Supplements: 20 % of land records are sent back; they come back after 2 days.
    land = by_id["land-registration"]
    assert abs(land.supplement.value - 0.2) <= Z * math.sqrt(0.16 / land.count)
    assert np.median(land.supplement_delay) == pytest.approx(2.0, abs=0.05)
    # The observed calibration block is the export's own count.
    observed = {o["kpi"]: o["reported"] for o in fit.observed}
    kpis = res.kpis.iloc[0]
    assert observed["records_rejected"] == kpis["records_rejected"]
    assert observed["records_completed"] == kpis["records_completed"]


def test_right_family_is_chosen_for_500_samples():
    # Measured over 200 seeds at n = 500: AIC picks the wrong one of the three families
    # for these shapes at most 1 % of the time (exact or whole-minute times).
    rng = np.random.default_rng(11)
    sigma2 = math.log1p(0.8**2)
    logn = rng.lognormal(math.log(10) - sigma2 / 2, math.sqrt(sigma2), 600)
    gam = rng.gamma(1 / 0.36, 10 * 0.36, 600)
    assert fit_candidates(logn, 0.0)[0].family == "lognormal"
    assert fit_candidates(gam, 0.0)[0].family == "gamma"
    assert fit_candidates(np.round(logn), 1.0)[0].family == "lognormal"
    rounded = fit_intake(np.round(gam), FitOptions(gof_samples=49), "procedure", "x")
    assert rounded.resolution_minutes == 1.0
    assert rounded.chosen == "gamma"
    # Whole minutes fitted as intervals keep the mean: sd of the mean is 6 / sqrt(600).
    assert abs(rounded.dist["mean"] - 10) <= Z * 6 / math.sqrt(600)
    assert 0.0 <= rounded.p_value <= 1.0


def test_empirical_when_no_family_fits():
    # Two well separated modes: no unimodal family passes the AD test.
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(3, 0.3, 400), rng.normal(20, 1, 400)]).clip(0.1)
    f = fit_intake(x, FitOptions(gof_samples=49), "procedure", "x")
    assert f.chosen == "empirical"
    assert f.dist["dist"] == "empirical" and len(f.dist["values"]) == 200


def test_kaplan_meier_unbiased_where_dropping_open_records_is_not():
    # Records filed uniformly over 60 working days, exported on day 60; true time to
    # result gamma with median m. Records not resolved by the export date are open.
    rng = np.random.default_rng(3)
    n = 3000
    shape, scale = 2.0, 5.0
    from scipy import stats

    true_median = stats.gamma(shape, scale=scale).median()
    filed = rng.uniform(0, 60, n)
    t = rng.gamma(shape, scale, n)
    left = 60 - filed
    done = t <= left
    km = kaplan_meier(t[done], left[~done])
    lo, hi = km.median_interval
    assert lo <= true_median <= hi  # the 95 % interval holds the truth
    # Dropping open records keeps the quick ones: biased well below the truth.
    assert km.naive_median < lo
    assert km.naive_median < 0.9 * true_median


def test_fitted_scenario_validates_runs_and_checks(round_trip, tmp_path):
    _, _, fit, _ = round_trip
    text = fitted_scenario_yaml(fit)
    path = tmp_path / "fitted.yaml"
    path.write_text(text, encoding="utf-8")
    # A comment on every fitted line of the procedures.
    for line in text.splitlines():
        if line.strip().startswith(
            ("share:", "intake_minutes:", "reject_share:", "records_per_day")
        ):
            assert "#" in line, line
    assert "AIC" in text and "AD p=" in text
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    sc = load_scenario(path)
    res = simulator.run(sc, replications=2, seed=1, records=False)
    assert res.kpis["records_filed"].mean() > 0
    result = CliRunner().invoke(main, ["check", str(path), "-r", "3", "--json", "-q"])
    assert result.exit_code == 0, result.output
    assert "records_filed" in result.output


def test_fit_with_base_reproduces_the_reported_counts(round_trip):
    # With the truth as base (staff, processing times), the simulated counts of the
    # fitted scenario hold the export's counts in their 95 % prediction ranges.
    from simulator.calibration import check_calibration

    sc, _, _, folder = round_trip
    fit = fit_export(
        read_export([folder / "export.csv"]),
        read_tickets(folder / "tickets.csv"),
        FitOptions(gof_samples=19, base=sc, name="with-base"),
    )
    fitted = validate_scenario(yaml.safe_load(fitted_scenario_yaml(fit)))
    assert any(p.processing_minutes is not None for p in fitted.procedures)
    table = check_calibration(fitted, replications=8, seed=2).set_index("kpi")
    for kpi in ("records_filed", "records_completed", "records_rejected", "on_time_rate"):
        assert table.loc[kpi, "inside"], table.loc[kpi].to_dict()


def test_date_formats():
    raw = pd.Series(
        [
            "01/07/2025 08:30",
            "2025-07-01T08:30",
            "45839.3541666667",
            "01/07/2025",
            "",
            "not a date",
            "13/07/2025 17:05:09",
            "2025-07-01 08:30:00+07:00",
        ],
        dtype=object,
    )
    values, bad = parse_times(raw)
    assert values[0] == pd.Timestamp("2025-07-01 08:30")  # day first, as VN systems print
    assert values[1] == pd.Timestamp("2025-07-01 08:30")
    assert values[2] == pd.Timestamp("2025-07-01 08:30")  # Excel serial
    assert values[3] == pd.Timestamp("2025-07-01")
    assert pd.isna(values[4]) and not bad[4]  # an empty cell is missing, not bad
    assert bad[5] and pd.isna(values[5])
    assert values[6] == pd.Timestamp("2025-07-13 17:05:09")
    assert values[7] == pd.Timestamp("2025-07-01 08:30")  # wall-clock time kept
    # Spreadsheet cells: a real date cell and a serial number.
    cells = pd.Series([pd.Timestamp("2025-07-02 09:00"), 45839.5], dtype=object)
    values, bad = parse_times(cells)
    assert list(values) == [pd.Timestamp("2025-07-02 09:00"), pd.Timestamp("2025-07-01 12:00")]
    assert not bad.any()


def _csv(path: Path, rows: list[list[str]], header: list[str]) -> Path:
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)
    return path


VI_HEADER = ["Mã hồ sơ", "Tên thủ tục", "Lĩnh vực", "Hình thức nộp", "Ngày tiếp nhận", "Trạng thái"]


def test_vietnamese_headings_and_words(tmp_path):
    rows = [
        ["1", "Đăng ký khai sinh", "Hộ tịch", "Trực tiếp", "01/07/2025 08:00", "Đúng hạn"],
        ["2", "Đăng ký khai sinh", "Hộ tịch", "TRUC TUYEN", "01/07/2025 09:00", "Đang xử lý"],
        ["3", "Chứng thực", "Chứng thực", "Bưu chính", "02/07/2025 10:00", "Từ chối"],
    ]
    # Headings without accents, upper case and underscores match too.
    header = [
        "MA_HO_SO",
        "Ten thu tuc",
        "linh vuc",
        "Hình thức nộp",
        "ngay tiep nhan",
        "Trạng thái",
    ]
    table = read_export([_csv(tmp_path / "a.csv", rows, header)])
    assert table.bad.empty
    f = table.frame
    assert list(f["channel"].astype(str)) == ["walk_in", "online", "postal"]
    assert list(f["status"].astype(str)) == ["on_time", "in_progress", "rejected"]
    # The shipped example export is in Vietnamese and has no bad row.
    shipped = read_export([EXPORTS / "quang-nam-urban-ward-export.csv"])
    assert shipped.bad.empty and len(shipped.frame) > 1000
    tickets = read_tickets(EXPORTS / "quang-nam-urban-ward-export-tickets.csv")
    assert tickets.bad.empty and len(tickets.frame) > 500
    size = sum(p.stat().st_size for p in EXPORTS.iterdir())
    assert size < 1_000_000


def test_bad_rows_are_counted_with_row_numbers(tmp_path):
    header = [*VI_HEADER, "Ngày trả kết quả"]
    rows = [
        ["1", "A", "x", "Trực tiếp", "01/07/2025 08:00", "Đúng hạn", "01/07/2025 09:00"],
        ["2", "A", "x", "Trực tiếp", "32/07/2025 08:00", "Đúng hạn", ""],  # row 3: bad date
        ["3", "A", "x", "Trực tiếp", "02/07/2025 10:00", "Đúng hạn", "01/07/2025 09:00"],  # 4
        ["4", "A", "x", "bồ câu", "02/07/2025 10:00", "Đúng hạn", ""],  # row 5: channel
        ["5", "A", "x", "Trực tiếp", "02/07/2025 11:00", "Đúng hạn", "03/07/2025 09:00"],
    ]
    path = _csv(tmp_path / "bad.csv", rows, header)
    table = read_export([path])
    assert len(table.frame) == 2
    assert sorted(table.bad["row"]) == [3, 4, 5]
    text = "\n".join(table.bad_summary())
    assert "received_at" in text and "returned_at" in text and "channel" in text
    out = tmp_path / "fitted.yaml"
    result = CliRunner().invoke(main, ["fit", str(path), "-o", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    assert "bad.csv:3" in result.output and "bad.csv:5" in result.output
    assert "3 bad rows" in result.output


def test_missing_column_is_exit_2(tmp_path):
    path = _csv(
        tmp_path / "a.csv",
        [["1", "A", "Trực tiếp", "Đúng hạn"]],
        ["id", "thủ tục", "kênh", "trạng thái"],
    )
    result = CliRunner().invoke(main, ["fit", str(path), "-o", str(tmp_path / "o.yaml")])
    assert result.exit_code == 2
    assert "a.csv" in result.output and "received_at" in result.output
    assert "found headings: id, thủ tục" in result.output
    with pytest.raises(ExportError):
        read_export([path])


def test_no_usable_rows_is_exit_2(tmp_path):
    rows = [["1", "A", "x", "Trực tiếp", "soon", "Đúng hạn"]]
    path = _csv(tmp_path / "a.csv", rows, VI_HEADER)
    result = CliRunner().invoke(main, ["fit", str(path), "-o", str(tmp_path / "o.yaml")])
    assert result.exit_code == 2
    assert "row 2" in result.output and "received_at" in result.output and "'soon'" in result.output
    assert "Traceback" not in result.output
    empty = _csv(tmp_path / "b.csv", [], VI_HEADER)
    result = CliRunner().invoke(main, ["fit", str(empty), "-o", str(tmp_path / "o.yaml")])
    assert result.exit_code == 2 and "only the header" in result.output


def test_xlsx_sheets(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Hồ sơ"
    ws.append(VI_HEADER)
    from datetime import datetime

    for i in range(40):
        ws.append(
            [str(i), "A", "x", "Trực tiếp", datetime(2025, 7, 1 + i % 20, 8, i % 60), "Đúng hạn"]
        )
    ws.append(["99", "A", "x", "Trực tiếp", 45839.5, "Đúng hạn"])  # an Excel serial
    wb.create_sheet("Ghi chú").append(["note"])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    out = tmp_path / "o.yaml"
    result = CliRunner().invoke(main, ["fit", str(path), "-o", str(out), "--no-report"])
    assert result.exit_code == 2
    assert (
        "export.xlsx" in result.output
        and "2 sheets" in result.output
        and "Ghi chú" in result.output
    )
    result = CliRunner().invoke(
        main, ["fit", str(path), "--sheet", "Hồ sơ", "-o", str(out), "--no-report"]
    )
    assert result.exit_code == 0, result.output
    table = read_export([path], sheet="Hồ sơ")
    assert len(table.frame) == 41 and table.bad.empty
    assert pd.Timestamp("2025-07-01 12:00") in set(table.frame["received_at"])


def test_column_map(tmp_path):
    rows = [["1", "A", "01/07/2025 08:00", "Xong"], ["2", "A", "01/07/2025 09:00", "Xong"]]
    path = _csv(tmp_path / "a.csv", rows, ["No", "Service", "Filed", "State"])
    cmap = tmp_path / "map.yaml"
    cmap.write_text(
        "records: {record_id: 'No', procedure: Service, received_at: Filed, status: State}\n"
        "status: {on_time: [Xong]}\nprocedures: {A: my-procedure}\nfields: {'': desk-work}\n",
        encoding="utf-8",
    )
    out = tmp_path / "o.yaml"
    result = CliRunner().invoke(
        main, ["fit", str(path), "--columns", str(cmap), "-o", str(out), "--no-report"]
    )
    assert result.exit_code == 0, result.output
    fitted = load_scenario(out)
    assert fitted.calibration
    assert [p.id for p in fitted.procedures] == ["my-procedure"]  # the map's id
    assert fitted.procedures[0].name == "A"  # the export's name is kept
    cmap.write_text("records: {arrival: Filed}\n", encoding="utf-8")
    args = ["fit", str(path), "--columns", str(cmap), "-o", str(tmp_path / "o2.yaml")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "map.yaml" in result.output and "arrival" in result.output


def test_cli_fit_and_export_log(tmp_path):
    runner = CliRunner()
    sc = tmp_path / "tiny.yaml"
    raw = yaml.safe_load((REPO / "scenarios" / "quang-nam-urban-ward.yaml").read_text())
    raw["horizon"] = {"days": 5, "warmup_days": 0}
    sc.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = runner.invoke(main, ["run", str(sc), "-r", "1", "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    folder = next((tmp_path / "runs" / raw["name"]).iterdir())
    out = tmp_path / "exp" / "export.csv"
    result = runner.invoke(main, ["export-log", str(folder), "-o", str(out), "--language", "vi"])
    assert result.exit_code == 0, result.output
    assert out.exists() and (tmp_path / "exp" / "export-tickets.csv").exists()
    result = runner.invoke(main, ["export-log", str(folder), "-o", str(out)])
    assert result.exit_code == 2 and "--force" in result.output
    fitted = tmp_path / "fitted.yaml"
    args = ["fit", str(out), "--tickets", str(tmp_path / "exp" / "export-tickets.csv")]
    result = runner.invoke(main, [*args, "-o", str(fitted)])
    assert result.exit_code == 0, result.output
    report = tmp_path / "fitted-fit-report.html"
    html = report.read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "AIC" in html  # self-contained:
    assert "<script" not in html and 'src="http' not in html and "<link" not in html
    before = fitted.read_text(encoding="utf-8")
    result = runner.invoke(main, [*args, "-o", str(fitted)])
    assert result.exit_code == 2 and "--force" in result.output
    assert fitted.read_text(encoding="utf-8") == before
    result = runner.invoke(main, [*args, "-o", str(fitted), "--force", "--no-report"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["export-log", str(tmp_path)])
    assert result.exit_code == 2 and "scenario.yaml" in result.output


def test_fit_does_not_load_the_cli_and_the_model_does_not_load_fit():
    import subprocess
    import sys

    code = (
        "import sys, simulator.fit.estimate, simulator.fit.columns, simulator.fit.scenario_out, "
        "simulator.fit.export, simulator.fit.report; "
        "assert not [m for m in sys.modules if m.startswith('simulator.cli')]; "
        "import simulator.model.center; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
    for path in (REPO / "simulator" / "model").glob("*.py"):
        assert "simulator.fit" not in path.read_text(encoding="utf-8"), path


def test_export_round_trips_through_xlsx(round_trip, tmp_path):
    # The same export written as XLSX reads back to the same usable rows.
    _, _, fit, folder = round_trip
    frame = pd.read_csv(folder / "export.csv", dtype=str, keep_default_na=False)
    write_table(frame.head(300), tmp_path / "export.xlsx")
    table = read_export([tmp_path / "export.xlsx"])
    assert table.bad.empty and len(table.frame) == 300
    csv_table = read_export([folder / "export.csv"])
    assert (table.frame["received_at"] == csv_table.frame["received_at"].head(300)).all()


@pytest.mark.parametrize("language", ["en", "vi"])
def test_records_taken_over_on_day_one_are_not_in_the_export(tmp_path, language):
    """The handover from the abolished district level is not something this center
    received: an export of a run with one reads back without a bad row, and a fit of
    it does not count the handed-over records as filings."""
    sc = load_scenario(REPO / "scenarios" / "hcmc-pilot-ward-backlog.yaml")
    res = simulator.run(sc, replications=1, seed=3)
    handed_over = int((res.records["channel"] == "handover").sum())
    assert handed_over > 0
    export, _ = export_log(res.records, sc, language=language)
    write_table(export, tmp_path / "export.csv")
    table = read_export([tmp_path / "export.csv"])
    assert table.bad.empty
    filed = res.records[res.records["channel"] != "handover"]
    walked_away = (filed["outcome"] == "abandoned") & filed["handle_minutes"].isna()
    walked_away &= filed["channel"] == "walk_in"
    assert len(table.frame) == len(filed) - int(walked_away.sum())
