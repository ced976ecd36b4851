"""The HTML reports in Vietnamese and English: templates, catalogs, ``--lang``, by-hour."""

from __future__ import annotations

import base64
import json
import re

import pytest
from builders import busy_office
from click.testing import CliRunner

import simulator
from simulator import report
from simulator.artifacts import write_run_folder
from simulator.cli import main
from simulator.i18n import translations
from simulator.scenario import load_scenario

TARGETS = [
    {"kpi": "handle_minutes.p90", "max": 30},
    {"kpi": "wait_minutes.p90", "max": 0.5},  # fails in this busy office
    {"kpi": "on_time_rate", "min": 0.95},
]

#: Catalogued strings of the reports that must not be left in English in Vietnamese.
ENGLISH_STRINGS = [
    "Targets",
    "KPIs",
    "Pictures",
    "Scenario",
    "Procedures",
    "Model description (STRESS-DES)",
    "Objectives",
    "Experimentation",
    "Implementation",
    "Code access",
    "95 % interval",
    "At least one target is missed",
    "keeps up (backlog growth per day)",
    "measured working days",
    "replications",
    "walk-in wait from arrival",
    "The share of walk-ins who waited at most x minutes",
    "Walk-in waiting time",
    "commune class",
    "same day",
    "working day",
    "To repeat:",
    "created",
]


@pytest.fixture(scope="module")
def run_result():
    sc = busy_office(horizon={"days": 3, "warmup_days": 1}, targets=TARGETS)
    return simulator.run(sc, replications=2, seed=2)


@pytest.fixture(scope="module")
def images(run_result):
    return report.run_images(run_result, processes=1)


def visible_text(page: str) -> str:
    """What a reader reads: no style sheet, no YAML, no tags, no data URIs, and none of
    the text the simulation layers make in English (a keeps-up reason, a horizon note),
    which the report marks ``lang="en"``."""
    page = re.sub(
        r'<style>.*?</style>|<pre>.*?</pre>|<span lang="en">.*?</span>', "", page, flags=re.S
    )
    return re.sub(r"<[^>]+>", " ", page)


def test_the_run_report_in_vietnamese(run_result, images):
    page = report.run_report_html(run_result, images=images, lang="vi")
    assert page.startswith('<!DOCTYPE html>\n<html lang="vi">')
    for heading in ("Chỉ tiêu", "Các chỉ số", "Biểu đồ", "Kịch bản", "Mô tả mô hình (STRESS-DES)"):
        assert f"<h2>{heading}</h2>" in page, heading
    for heading in ("1. Mục tiêu", "2. Logic mô hình", "3. Dữ liệu", "4. Thử nghiệm"):
        assert f"<h3>{heading}</h3>" in page, heading
    # Verdict words, with the stable class names the colours hang on.
    assert '<span class="verdict fail">không đạt</span>' in page
    assert '<span class="verdict pass">đạt</span>' in page
    assert ">pass<" not in page and ">fail<" not in page
    text = visible_text(page)
    leftovers = [s for s in ENGLISH_STRINGS if s in text]
    assert leftovers == []
    # Numbers the Vietnamese way; KPI keys (the files' names) stay English.
    assert re.search(r"≤ 30,00", page)
    assert "<td>wait_minutes.p90</td>" in page
    # KPI display names as the web pages have them, beside the key.
    assert "<tr><td>Thời gian chờ, phân vị 90 (phút) (wait_minutes.p90)</td>" in page
    # Pictures still embedded, one per run figure.
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(pngs) == len(images) and base64.b64decode(pngs[0])[:4] == b"\x89PNG"


def test_the_english_report_is_unchanged_by_the_language_machinery(run_result, images):
    english = report.run_report_html(run_result, images=images, meta={"created": "x"})
    assert english == report.run_report_html(
        run_result, images=images, meta={"created": "x"}, lang="en"
    )
    assert '<html lang="en">' in english and "<h2>Targets</h2>" in english
    assert '<span class="verdict fail">fail</span>' in english
    # The language of one report does not leak into the next.
    report.run_report_html(run_result, images={}, lang="vi")
    assert report.run_report_html(run_result, images={}).count("<h2>Targets</h2>") == 1


def test_a_scenario_description_is_escaped(run_result):
    sc = run_result.scenario.model_copy(
        update={"description": '<script>alert("x")</script> & <b>bold</b>', "source": ["<i>"]}
    )
    result = simulator.results.RunResult(
        sc, run_result.seed, run_result.replications, run_result.kpis
    )
    for lang in ("en", "vi"):
        page = report.run_report_html(result, images={}, lang=lang)
        assert "<script" not in page and "<b>bold" not in page and "[<i>]" not in page
        assert (
            "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
        )


def test_every_report_string_and_kpi_meaning_has_a_vietnamese_translation():
    """The report's own msgids, and the English texts it takes from other modules
    (KPI meanings, picture titles) so that a change there cannot go untranslated."""
    from simulator.catalogs import extract_messages
    from simulator.display import RUN_FIGURES
    from simulator.kpis import KPI_DESCRIPTIONS

    vi = translations("vi")
    messages = extract_messages()
    from_report = [m for m, where in messages.items() if any("report" in w for w, _ in where)]
    assert len(from_report) > 200
    missing = [m for m in from_report if m != "n" and vi.gettext(m) == m]
    assert missing == []
    borrowed = [*KPI_DESCRIPTIONS.values(), *RUN_FIGURES.values()]
    assert [m for m in borrowed if m not in messages or vi.gettext(m) == m] == []
    # Placeholders survive the translation.
    for m in from_report:
        assert sorted(re.findall(r"%\(\w+\)s", m)) == sorted(
            re.findall(r"%\(\w+\)s", vi.gettext(m))
        ), m


def test_pasc_run_lang_vi_and_pasc_report_keep_the_language(tmp_path, minimal_scenario_dict):
    import yaml

    path = tmp_path / "tiny.yaml"
    data = minimal_scenario_dict()
    data["targets"] = [{"kpi": "wait_minutes.p90", "max": 20}]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "results"
    result = CliRunner().invoke(
        main, ["run", str(path), "-r", "2", "--out", str(out), "--lang", "vi", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    (folder,) = (out / "tiny").iterdir()
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in page and "<h2>Chỉ tiêu</h2>" in page
    environment = json.loads((folder / "environment.json").read_text(encoding="utf-8"))
    assert environment["report_lang"] == "vi"
    run_json = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert "kpis" in run_json or "summary" in run_json  # JSON keys stay English
    # Redrawn without --lang: in the language the folder records.
    (folder / "report.html").unlink()
    assert CliRunner().invoke(main, ["report", str(folder)]).exit_code == 0
    assert "<h2>Chỉ tiêu</h2>" in (folder / "report.html").read_text(encoding="utf-8")
    # With --lang: in that one, which the folder then records.
    assert CliRunner().invoke(main, ["report", str(folder), "--lang", "en"]).exit_code == 0
    assert "<h2>Targets</h2>" in (folder / "report.html").read_text(encoding="utf-8")
    assert report.recorded_language(folder) == "en"
    # The web's report in another language: drawn beside, from the folder's pictures.
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.png")}
    vi = report.report_in_language(folder, "vi")
    assert vi.name == "report.vi.html" and "<h2>Chỉ tiêu</h2>" in vi.read_text(encoding="utf-8")
    assert report.report_in_language(folder, "en").name == "report.html"
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.png")} == before
    assert report.recorded_language(folder) == "en"


def test_a_folder_without_a_recorded_language_redraws_in_english(run_result, tmp_path):
    folder = write_run_folder(run_result, tmp_path, render=None)
    assert report.recorded_language(folder) == "en"
    path = report.rebuild_report(folder)
    assert '<html lang="en">' in path.read_text(encoding="utf-8")


# -- sizing by the hour -------------------------------------------------------------------

#: Four open hours with a peak: a sizing by the hour takes about a second.
TINY_HOURS = {
    "name": "tiny-hours",
    "horizon": {"days": 3, "warmup_days": 1},
    "calendar": {"sessions": ["08:00-12:00"]},
    "demand": {"records_per_day": 40, "hourly_profile": {8: 1, 9: 3, 10: 2, 11: 1}},
    "procedures": [
        {
            "id": "p",
            "field": "f",
            "share": 1,
            "intake_minutes": {"dist": "exponential", "mean": 10},
        }
    ],
    "staff": {"desks": [{"name": "desk", "count": 3, "fields": ["f"]}]},
    "targets": [{"kpi": "wait_minutes.p90", "max": 15}],
}


@pytest.fixture(scope="module")
def hourly():
    from simulator.sizing_by_hour import size_by_hour

    sc = load_scenario(TINY_HOURS)
    return size_by_hour(sc, replications=3, flat=False, horizon_days=5)


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_size_by_hour_report(hourly, tmp_path, lang):
    path = report.write_size_by_hour_report(hourly, tmp_path, {"created": "x"}, lang=lang)
    assert path == tmp_path / "report.html"
    assert {"by-hour-desk.png", "wait-by-hour.png"} <= {p.name for p in tmp_path.iterdir()}
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|https?://", page)
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(pngs) == 2 and all(base64.b64decode(p)[:4] == b"\x89PNG" for p in pngs)
    hours = sorted(hourly.open_minutes)
    for h in hours:
        assert f"<td>{h:02d}:00</td>" in page
    g = hourly.groups["desk"]
    row = re.search(rf"<tr><td>{hours[1]:02d}:00</td>(.*?)</tr>", page).group(1)
    assert re.findall(r"<td[^>]*>(\d+)</td>", row)[:2] == [
        str(g.schedule.get(hours[1], 0)),
        str(g.sipp.get(hours[1], 0)),
    ]
    if lang == "vi":
        assert "<h2>Cán bộ theo giờ</h2>" in page and "<h2>Nơi Erlang C không đạt</h2>" in page
        assert "Staff by hour" not in page and "staff-hours a day" not in page
    else:
        assert "<h2>Staff by hour</h2>" in page and "<h2>Where Erlang C misses</h2>" in page
        assert "staff-hours a day" in page


def test_the_size_by_hour_report_with_shifts(hourly, tmp_path):
    import functools

    from simulator.sizing_by_hour import plan_and_verify_shifts

    shifts = plan_and_verify_shifts(hourly, ["full-day", "morning"])
    render = functools.partial(report.write_size_by_hour_report, shifts=shifts)
    page = render(hourly, tmp_path, {}).read_text(encoding="utf-8")
    assert (tmp_path / "roster-desk.png").is_file()
    assert "<h2>Shift plans</h2>" in page and "Roster: desk" in page
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 3


# -- the web page links the report in its language ----------------------------------------


def test_the_web_serves_the_report_in_the_page_language(run_result, tmp_path):
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from simulator.web.app import create_app

    (tmp_path / "scenarios").mkdir()
    folder = write_run_folder(run_result, tmp_path / "results", render=report.write_run_report)
    relative = folder.relative_to(tmp_path / "results").as_posix()
    client = TestClient(create_app(tmp_path), base_url="http://127.0.0.1")
    page = client.get(f"/results/{relative}?lang=vi").text
    assert f'href="/report/{relative}"' in page
    r = client.get(f"/report/{relative}")  # the cookie keeps Vietnamese
    assert r.status_code == 200 and '<html lang="vi">' in r.text
    assert r.headers["content-security-policy"] == "sandbox"
    assert (folder / "report.vi.html").is_file()
    client.cookies.clear()
    r = client.get(f"/report/{relative}?lang=en")
    assert '<html lang="en">' in r.text and not (folder / "report.en.html").exists()
    assert client.get("/report/../../etc").status_code in (403, 404)


def test_pasc_size_and_compare_lang_vi(tmp_path, minimal_scenario_dict):
    import yaml

    data = minimal_scenario_dict()
    data["targets"] = [{"kpi": "wait_minutes.p90", "max": 20}]
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "results"
    runner = CliRunner()
    args = ["--out", str(out), "--lang", "vi", "--quiet"]
    result = runner.invoke(main, ["size", str(path), "-r", "2", "--horizon-days", "3", *args])
    assert result.exit_code == 0, result.output
    hours = tmp_path / "tiny-hours.yaml"
    hours.write_text(yaml.safe_dump(TINY_HOURS), encoding="utf-8")
    result = runner.invoke(
        main, ["size", str(hours), "--by-hour", "-r", "3", "--horizon-days", "5", *args]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["compare", str(path), str(path), "-r", "2", *args])
    assert result.exit_code == 0, result.output
    reports = sorted(out.rglob("report.html"))
    assert len(reports) == 3
    pages = {p.parent.name: p.read_text(encoding="utf-8") for p in reports}
    for path in reports:
        assert '<html lang="vi">' in pages[path.parent.name], path
        assert report.recorded_language(path.parent) == "vi"
    size_page = next(p for n, p in pages.items() if n.endswith("-size"))
    assert "<h2>Đường cong số cán bộ</h2>" in size_page
    by_hour_page = next(p for n, p in pages.items() if n.endswith("-size-by-hour"))
    assert "<h2>Cán bộ theo giờ</h2>" in by_hour_page
    compare_page = next(p for n, p in pages.items() if "size" not in n)
    assert "<h2>Các chỉ số đặt cạnh nhau</h2>" in compare_page and "(ghép cặp)" in compare_page
