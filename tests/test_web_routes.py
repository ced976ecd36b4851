"""The web pages through Starlette's test client (no browser, no network).

A run here uses 3 replications of 2 working days so that a job finishes in a
few seconds; the numbers are not looked at, only that the pages show them.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import threading
import time
import zipfile
from pathlib import Path

import pytest
import yaml

pytest.importorskip("starlette", reason="the web extra is not installed (pip install 'pasc[web]')")
from starlette.testclient import TestClient  # noqa: E402

import simulator  # noqa: E402
from simulator.scenario import ScenarioError  # noqa: E402
from simulator.web import create_app  # noqa: E402
from simulator.web.jobs import JobQueue  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.name for p in (REPO / "scenarios").glob("*.yaml"))
WARD = "quang-nam-urban-ward.yaml"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the shipped scenarios in a fresh workspace (never the repository's)."""
    ws = tmp_path / "ws"
    shutil.copytree(REPO / "scenarios", ws / "scenarios")
    return ws


@pytest.fixture
def client(workspace: Path):
    with TestClient(create_app(workspace), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """(client, result page URL, run folder) of one short run, shared by the module."""
    ws = tmp_path_factory.mktemp("run") / "ws"
    (ws / "scenarios").mkdir(parents=True)
    shutil.copy(REPO / "scenarios" / WARD, ws / "scenarios" / WARD)
    app = create_app(ws)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post(
            "/run",
            data={"scenario": WARD, "replications": "3", "seed": "1", "days": "2"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        job = app.state.jobs.get(r.headers["location"].rsplit("/", 1)[1])
        assert app.state.jobs.wait(job, 120), "the run did not finish in time"
        assert job.status == "done", job.error
        url = f"/results/{job.result}"
        yield c, url, ws / "results" / job.result


def test_library_lists_every_shipped_scenario_with_class_demand_and_staff(client):
    r = client.get("/")
    assert r.status_code == 200
    rows = re.findall(r'<tr class="(valid|invalid)">(.*?)</tr>', r.text, re.S)
    listed = {re.search(r'href="/scenarios/([^"]+)"', row).group(1): kind for kind, row in rows}
    assert sorted(listed) == SHIPPED
    assert set(listed.values()) == {"valid"}
    ward = next(row for _, row in rows if f"/scenarios/{WARD}" in row)
    sc = simulator.load_scenario(REPO / "scenarios" / WARD)
    assert "urban ward" in ward and "60.0" in ward and f"<td>{sc.staff.total}:" in ward


def test_library_marks_an_invalid_file_with_its_key_path(client, workspace):
    (workspace / "scenarios" / "broken.yaml").write_text(
        (workspace / "scenarios" / WARD)
        .read_text()
        .replace("records_per_day: 60", "records_per_day: -1")
    )
    r = client.get("/")
    row = re.search(r'<tr class="invalid">(.*?)</tr>', r.text, re.S).group(1)
    assert "broken.yaml" in row and "demand.records_per_day" in row


def test_editor_refuses_a_bad_desk_count_at_the_field_with_the_cli_message(client, workspace):
    text = (workspace / "scenarios" / WARD).read_text()
    r = client.post(
        f"/scenarios/{WARD}",
        data={"yaml": text, "staff.desks.0.count": "0", "action": "save", "new_name": "x.yaml"},
    )
    assert r.status_code == 422
    # The same key path and message that `pasc validate` prints for this mistake.
    with pytest.raises(ScenarioError) as err:
        simulator.load_scenario(workspace / "scenarios" / WARD, {"staff.desks.0.count": 0})
    expected = str(err.value.problems[0])
    at_field = re.findall(r'data-key="staff.desks.0.count">([^<]*)<', r.text)
    assert at_field == [expected.replace("'", "&#39;")]
    assert not (workspace / "scenarios" / "x.yaml").exists()


def test_editor_save_as_new_never_overwrites_without_confirmation(client, workspace):
    original = (workspace / "scenarios" / WARD).read_bytes()
    other = workspace / "scenarios" / "quang-nam-rural-commune.yaml"
    before = other.read_bytes()
    form = {"yaml": original.decode(), "staff.desks.0.count": "5", "action": "save"}
    r = client.post(f"/scenarios/{WARD}", data={**form, "new_name": other.name})
    assert "exists already" in r.text and 'name="overwrite"' in r.text
    assert other.read_bytes() == before
    r = client.post(f"/scenarios/{WARD}", data={**form, "new_name": "ward-five.yaml"})
    assert r.status_code == 200 and "Saved as a new file" in r.text
    saved = simulator.load_scenario(workspace / "scenarios" / "ward-five.yaml")
    assert saved.staff.desks[0].count == 5
    assert (workspace / "scenarios" / WARD).read_bytes() == original
    # Saving again under the name just created is refused too, until confirmed.
    form["staff.desks.0.count"] = "6"
    r = client.post(f"/scenarios/{WARD}", data={**form, "new_name": "ward-five.yaml"})
    assert simulator.load_scenario(workspace / "scenarios" / "ward-five.yaml").staff.total == 9
    confirmed = {**form, "new_name": "ward-five.yaml", "overwrite": "ward-five.yaml"}
    r = client.post(f"/scenarios/{WARD}", data=confirmed)
    assert simulator.load_scenario(workspace / "scenarios" / "ward-five.yaml").staff.total == 10


def test_editor_form_comes_from_the_models(client):
    r = client.get(f"/scenarios/{WARD}")
    for path in (
        "demand.records_per_day",
        "demand.channels.walk_in",
        "staff.desks.1.count",
        "procedures.0.intake_minutes.mean",
        "targets.1.max",
        "horizon.days",
    ):
        assert f'name="{path}"' in r.text, path
    assert '<select name="commune.class"' in r.text


@pytest.mark.parametrize(
    "url",
    [
        "/scenarios/..%2F..%2F..%2Fetc%2Fpasswd",
        "/scenarios/%2Fetc%2Fpasswd",
        "/scenarios/..%5C..%5Csecret.yaml",
        "/run?scenario=..%2F..%2Fsecret.yaml",
        "/run?scenario=%2Fetc%2Fhosts",
        "/results/..%2Fscenarios%2Fquang-nam-urban-ward.yaml",
        "/download/zip/..%2F..%2F",
        "/scenarios/link.yaml",
        "/run?scenario=link.yaml",
    ],
)
def test_paths_leaving_the_workspace_are_refused(client, workspace, url):
    secret = workspace.parent / "secret.yaml"
    secret.write_text("name: secret\n")
    (workspace / "scenarios" / "link.yaml").symlink_to(secret)
    r = client.get(url)
    assert r.status_code == 403
    assert "Refused" in r.text and "not a file inside the workspace" in r.text
    assert "name: secret" not in r.text  # the file outside is never read out
    assert "Traceback" not in r.text
    assert "link.yaml" not in client.get("/").text  # the symlink is not listed either


def test_a_run_job_completes_and_its_page_shows_the_verdict_table(finished_run):
    client, url, folder = finished_run
    r = client.get(url)
    assert r.status_code == 200
    table = re.search(r'<table id="verdicts">.*?<tbody>(.*?)</tbody>', r.text, re.S).group(1)
    sc = simulator.load_scenario(folder / "scenario.yaml")
    rows = re.findall(r"<tr>(.*?)</tr>|<tr class=\"keeps-up\">(.*?)</tr>", table, re.S)
    assert len(rows) == len(sc.targets) + 1  # every target, then keeps-up
    for target in sc.targets:
        assert f'<span class="key">{target.kpi}</span>' in table
    assert len(re.findall(r'class="verdict (pass|fail|inconclusive)"', table)) == len(rows)
    kpis = re.search(r'<table id="kpis">.*?<tbody>(.*?)</tbody>', r.text, re.S).group(1)
    run = json.loads((folder / "run.json").read_text())
    assert kpis.count("<tr>") == len(run["kpis"])
    for kpi in run["kpis"]:
        assert f'<span class="key">{kpi}</span>' in kpis
    pictures = re.findall(r'<img src="([^"]+\.png)"', r.text)
    assert pictures, "the result page shows the run's pictures"
    picture = client.get(pictures[0])
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")


def test_a_finished_job_page_redirects_to_its_result(finished_run):
    client, url, _ = finished_run
    r = client.get("/jobs")
    job_url = re.search(r'href="(/jobs/[^"]+)"', r.text).group(1)
    assert client.get(job_url, follow_redirects=False).headers["location"] == url
    status = client.get(job_url + "/status", headers={"HX-Request": "true"})
    assert status.headers["HX-Redirect"] == url


def test_excel_download_has_the_kpi_and_target_rows(finished_run):
    from openpyxl import load_workbook

    client, url, folder = finished_run
    r = client.get(url.replace("/results/", "/download/xlsx/"))
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["KPIs", "Targets"]
    kpis = {row[0]: row for row in book["KPIs"].iter_rows(min_row=2, values_only=True)}
    run = json.loads((folder / "run.json").read_text())
    assert set(kpis) == set(run["kpis"])
    assert kpis["wait_minutes.p90"][2] == pytest.approx(run["kpis"]["wait_minutes.p90"]["mean"])
    assert kpis["wait_minutes.p90"][1] == "Waiting time, 90th percentile (min)"
    targets = [row[0] for row in book["Targets"].iter_rows(min_row=2, values_only=True)]
    assert targets == [t["kpi"] for t in run["targets"]] + ["keeps_up"]


def test_zip_download_holds_the_whole_run_folder(finished_run):
    client, url, folder = finished_run
    r = client.get(url.replace("/results/", "/download/zip/"))
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    expected = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert sorted(n.split("/", 1)[1] for n in names) == expected
    assert any(n.endswith("/run.json") for n in names)


def test_vietnamese_from_accept_language_from_lang_and_from_the_switch(workspace):
    with TestClient(create_app(workspace)) as c:
        assert "Scenario library" in c.get("/").text
        vi = c.get("/", headers={"Accept-Language": "vi-VN,vi;q=0.9,en;q=0.5"}).text
        assert "Danh sách kịch bản" in vi and "Trung tâm Phục vụ hành chính công" in vi
        assert 'lang="vi"' in vi
        assert (
            "Scenario library" in c.get("/", headers={"Accept-Language": "en;q=1, vi;q=0.5"}).text
        )
        c.get("/lang/vi?next=/")  # the menu's switch sets a cookie
        assert "Danh sách kịch bản" in c.get("/").text
    with TestClient(create_app(workspace, lang="vi")) as c:
        page = c.get(f"/scenarios/{WARD}", headers={"Accept-Language": "en"}).text
        assert "Số cán bộ tại quầy này" in page and "Soạn kịch bản" in page
        assert "Staff at this desk" not in page
        assert 'name="staff.desks.0.count"' in page  # file keys stay English


def test_result_page_in_vietnamese_names_kpis_and_verdicts(finished_run):
    client, url, _ = finished_run
    try:
        page = client.get(url + "?lang=vi").text
    finally:
        client.cookies.clear()  # the module's other tests read the pages in English
    assert "Thời gian chờ, phân vị 90 (phút)" in page
    assert "Giải quyết kịp khối lượng hồ sơ" in page
    assert re.search(r'class="verdict \w+">(đạt|không đạt|chưa kết luận được)<', page)


def test_every_message_has_a_vietnamese_translation():
    from simulator.web.catalogs import extract_messages
    from simulator.web.i18n import translations

    vi = translations("vi")
    messages = extract_messages()
    assert len(messages) > 150 and "Scenario library" in messages
    missing = sorted(m for m in messages if m != "pasc" and vi.gettext(m) == m)
    assert missing == []


def test_errors_are_pages_with_a_message_not_a_traceback(client, workspace):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "There is no page at this address." in r.text
    r = client.get("/scenarios/nothing-here.yaml")
    assert r.status_code == 404 and "There is no scenario file" in r.text
    broken = workspace / "results" / "x" / "2026-01-01T00-00-00"
    broken.mkdir(parents=True)
    (broken / "run.json").write_text("{not json")
    r = client.get("/results/x/2026-01-01T00-00-00")
    assert r.status_code == 500
    assert "Something went wrong" in r.text and "Traceback" not in r.text
    r = client.post("/run", data={"scenario": WARD, "replications": "many"})
    assert r.status_code == 422 and "replications: expected a whole number" in r.text


def test_upload_is_size_limited_and_never_replaces_a_file(client, workspace):
    text = (workspace / "scenarios" / WARD).read_bytes()
    r = client.post("/upload", files={"file": ("my-ward.yaml", text, "application/yaml")})
    assert r.status_code == 200 and (workspace / "scenarios" / "my-ward.yaml").read_bytes() == text
    r = client.post(
        "/upload", files={"file": ("my-ward.yaml", b"name: other\n", "application/yaml")}
    )
    assert r.status_code == 409 and (workspace / "scenarios" / "my-ward.yaml").read_bytes() == text
    big = b"# " + b"x" * 1_100_000 + b"\n"
    r = client.post("/upload", files={"file": ("big.yaml", big, "application/yaml")})
    assert r.status_code == 413 and "too large" in r.text
    assert not (workspace / "scenarios" / "big.yaml").exists()
    r = client.post("/upload", files={"file": ("../../evil.yaml", b"x: 1\n", "application/yaml")})
    assert not (workspace.parent / "evil.yaml").exists()


def test_a_second_job_waits_its_turn_and_a_cancelled_one_stops():
    jobs = JobQueue()
    release = threading.Event()
    order: list[str] = []

    def first(job):
        order.append("first")
        release.wait(10)
        return "a"

    def second(job):
        order.append("second")
        return "b"

    def endless(job):
        for i in range(10_000):
            job.progress(i, 10_000)
            threading.Event().wait(0.01)
        return "never"

    a = jobs.submit("run", "a", first)
    b = jobs.submit("run", "b", second)
    c = jobs.submit("run", "c", endless)
    threading.Event().wait(0.2)
    assert (a.status, b.status) == ("running", "queued") and jobs.position(b) == 1
    release.set()
    assert jobs.wait(b, 10) and order == ["first", "second"]
    while c.status != "running" or c.done < 3:
        threading.Event().wait(0.02)
    jobs.cancel(c)
    assert jobs.wait(c, 10) and c.status == "cancelled" and c.result is None
    jobs.shutdown()


def test_serve_binds_loopback_and_warns_for_another_host(monkeypatch, workspace):
    import uvicorn
    from click.testing import CliRunner

    from simulator.cli import main

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    result = CliRunner().invoke(main, ["serve", str(workspace), "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls[-1]["host"] == "127.0.0.1" and calls[-1]["port"] == 8123
    assert "warning" not in result.output
    result = CliRunner().invoke(main, ["serve", str(workspace), "--host", "0.0.0.0"])
    assert calls[-1]["host"] == "0.0.0.0" and "warning: listening on 0.0.0.0" in result.output
    result = CliRunner().invoke(main, ["serve", str(workspace / "missing")])
    assert result.exit_code == 2


def _finish(client, app, url: str, data: dict) -> tuple[object, str]:
    """Submit a job form, wait for the job, return (job, the page it ends on)."""
    r = client.post(url, data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    job = app.state.jobs.get(r.headers["location"].rsplit("/", 1)[1])
    assert app.state.jobs.wait(job, 120) and job.status == "done", job.error
    return job, client.get(r.headers["location"]).text


SMALL = "quang-nam-disadvantaged-commune.yaml"


def test_size_shows_the_answer_and_the_staffing_curve(workspace):
    app = create_app(workspace)
    with TestClient(app) as c:
        job, page = _finish(c, app, "/size", {"scenario": SMALL, "replications": "2"})
    meta = json.loads((workspace / "results" / job.result / "size.json").read_text())
    assert meta["answer"], "the small commune can be staffed"
    answer = ", ".join(f"{pool} {n}" for pool, n in meta["answer"].items())
    assert f"<strong>{answer}</strong>" in page
    curve = re.search(r'<table id="curve">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    assert curve.count("<tr") == len(meta["curve"]) and 'class="chosen"' in curve
    assert "staffing-curve.png" in page


def test_compare_puts_two_scenarios_side_by_side(workspace):
    app = create_app(workspace)
    other = "quang-nam-rural-commune.yaml"
    with TestClient(app) as c:
        job, page = _finish(
            c, app, "/compare", {"a": SMALL, "b": other, "replications": "2", "days": "2"}
        )
    table = re.search(r'<table id="compare">(.*?)</table>', page, re.S).group(1)
    assert "quang-nam-disadvantaged-commune" in table and "quang-nam-rural-commune" in table
    assert "quang-nam-rural-commune − quang-nam-disadvantaged-commune" in table
    assert '<span class="key">wait_minutes.p90</span>' in table


def test_quota_table_for_several_communes(workspace):
    app = create_app(workspace)
    chosen = [SMALL, "tan-lap-first-week.yaml"]
    with TestClient(app) as c:
        job, page = _finish(c, app, "/quota", {"scenarios": chosen, "replications": "2"})
        table = re.search(r'<table id="quota-table">(.*?)</table>', page, re.S).group(1)
        assert "<th>quang-nam-disadvantaged-commune</th><th>tan-lap-first-week</th>" in table
        assert "Staff implied by the quota" in table
        assert [r["scenario"] for r in job.result] == [
            "quang-nam-disadvantaged-commune",
            "tan-lap-first-week",
        ]
        vi = c.get(f"/jobs/{job.id}?lang=vi").text
        assert "Số cán bộ theo định mức" in vi and "xã đặc biệt khó khăn" in vi


def test_a_cancelled_run_writes_no_folder_and_the_next_one_waits(workspace):
    app = create_app(workspace)
    with TestClient(app) as c:
        long_run = {"scenario": WARD, "replications": "400", "days": "20"}
        first = c.post("/run", data=long_run, follow_redirects=False).headers["location"]
        second = c.post("/run", data=long_run, follow_redirects=False).headers["location"]
        jobs = app.state.jobs
        a, b = (jobs.get(u.rsplit("/", 1)[1]) for u in (first, second))
        while a.done < 1:
            time.sleep(0.05)
        assert b.status == "queued" and "waiting its turn" in c.get(second).text
        c.post(second + "/cancel")
        assert b.status == "cancelled"
        c.post(first + "/cancel")
        assert jobs.wait(a, 30) and a.status == "cancelled"
        assert "cancelled" in c.get(first).text
    results = workspace / "results"
    assert not results.exists() or not any(results.rglob("*")), "nothing half-written"


def test_a_form_from_another_site_is_refused_and_only_local_hosts_are_served(workspace):
    with TestClient(create_app(workspace)) as c:
        data = {"scenario": WARD, "replications": "2", "days": "1"}
        r = c.post("/run", data=data, headers={"Origin": "http://evil.example"})
        assert r.status_code == 403 and "another web site" in r.text
        r = c.post(
            "/run", data=data, headers={"Origin": "http://testserver"}, follow_redirects=False
        )
        assert r.status_code == 303
    app = create_app(workspace, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/").status_code == 200
        assert c.get("/", headers={"Host": "rebound.example:8000"}).status_code == 400


def test_a_file_that_extends_another_is_edited_whole(client, workspace):
    child = workspace / "scenarios" / "ward-child.yaml"
    child.write_text(f"extends: {WARD}\nname: ward-child\ndemand: {{records_per_day: 30}}\n")
    page = client.get("/scenarios/ward-child.yaml").text
    assert f"extends {WARD}" in page
    assert 'name="staff.desks.0.count"' in page and 'value="30"' in page
    outside = workspace / "scenarios" / "escape.yaml"
    outside.write_text("extends: ../../elsewhere.yaml\nname: escape\n")
    r = client.post(
        "/scenarios/escape.yaml",
        data={"yaml": outside.read_text(), "action": "check", "new_name": "x.yaml"},
    )
    assert r.status_code == 422 and "expected a file inside the workspace" in r.text


#: One desk group in an office with a morning peak and a lunch closure: a sizing by
#: the hour of it takes about a second (3 replications of 2 working days).
TINY_PROFILE = {8: 2, 9: 6, 10: 6, 11: 3, 13: 2, 14: 4, 15: 4, 16: 1}
TINY = {
    "name": "tiny-office",
    "horizon": {"days": 2, "warmup_days": 0},
    "replications": 3,
    "calendar": {"sessions": ["08:00-12:00", "13:00-17:00"]},
    "demand": {"records_per_day": sum(TINY_PROFILE.values()), "hourly_profile": TINY_PROFILE},
    "procedures": [
        {
            "id": "p",
            "field": "f",
            "share": 1,
            "intake_minutes": {"dist": "exponential", "mean": 15},
        }
    ],
    "staff": {"desks": [{"name": "desk", "count": 1, "fields": ["f"]}]},
    "targets": [{"kpi": "wait_minutes.p90", "max": 15}],
}


@pytest.fixture
def tiny(workspace: Path) -> str:
    """``tiny-office.yaml`` in the workspace (the file name)."""
    from simulator.scenario import scenario_to_yaml

    path = workspace / "scenarios" / "tiny-office.yaml"
    path.write_text(scenario_to_yaml(simulator.load_scenario(TINY)), encoding="utf-8")
    return path.name


def test_size_by_hour_shows_the_table_by_hour_staff_hours_and_the_shift_plan(workspace, tiny):
    app = create_app(workspace)
    with TestClient(app) as c:
        form = c.get("/size").text
        assert 'name="by_hour"' in form and 'name="shifts" value="morning"' in form
        data = {"scenario": tiny, "replications": "3", "days": "2", "by_hour": "1"}
        job, page = _finish(c, app, "/size", {**data, "shifts": ["full-day", "morning"]})
        folder = workspace / "results" / job.result
        assert folder.name.endswith("-size-by-hour")
        meta = json.loads((folder / "size.json").read_text())
        # The staffing table: one row per open hour, the answer and the plain Erlang C
        # answer of each hour as size.json has them, the hours Erlang misses marked.
        table = re.search(r'<table id="by-hour">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
        rows = re.findall(r"<tr><td>(\d\d):00</td>(.*?)</tr>", table, re.S)
        assert [int(h) for h, _ in rows] == sorted(int(h) for h in meta["answer"]["desk"])
        for hour, cells in rows:
            answer = re.search(r'class="num answer">(\d+)<', cells).group(1)
            erlang = re.search(r'class="num erlang[^"]*"[^>]*>(\d+)', cells).group(1)
            assert int(answer) == meta["answer"]["desk"][str(int(hour))]
            assert int(erlang) == meta["erlang"]["desk"][str(int(hour))]
            assert ("erlang missed" in cells) == (int(hour) in meta["erlang_misses"]["desk"])
        hours = re.search(r'<table id="staff-hours">(.*?)</table>', page, re.S).group(1)
        numbers = re.findall(r'<td class="num">([-\d.,]+)</td>', hours)
        assert numbers == [
            f"{meta['staff_hours']:.1f}",
            f"{meta['flat_staff_hours']:.1f}",
            f"{meta['flat_staff_hours'] - meta['staff_hours']:.1f}",
        ]
        verified = re.search(r'<p id="verified"><span class="verdict (\w+)"', page).group(1)
        assert verified == ("pass" if meta["verified"] else "fail")
        shifts = re.search(r'<table id="shifts">(.*?)</table>', page, re.S).group(1)
        assert meta["shifts"]["plans"]["desk"]["shifts"] and "full day" in shifts
        # Pictures from the folder, answer.yaml a runnable scenario with the schedule.
        assert "by-hour-desk.png" in page and "wait-by-hour.png" in page
        assert "roster-desk.png" in page
        answer = c.get(f"/results/{job.result}/answer.yaml")
        assert answer.status_code == 200 and 'download="answer.yaml"' in page
        answer_sc = simulator.load_scenario(yaml.safe_load(answer.text))
        assert answer_sc.staff.desks[0].schedule.by_hour == {
            int(h): n for h, n in meta["answer"]["desk"].items()
        }
        # The report, written in the page's language, and the tables as a workbook.
        report = c.get(f"/report/{job.result}")
        assert report.status_code == 200 and 'lang="en"' in report.text
        assert c.get(f"/download/xlsx/{job.result}").status_code == 200
        # In Vietnamese, with a note that the report stays in English.
        vi = c.get(f"/results/{job.result}?lang=vi").text
        c.cookies.clear()
        for label in ("Tính số cán bộ theo giờ", "Giờ công mỗi ngày", "Cán bộ theo giờ"):
            assert label in vi
        assert "desk: theo Erlang C" in vi and "Phương án ca làm việc" in vi
        assert 'id="report-language"' in vi and "tiếng Anh" in vi
        assert 'id="report-language"' not in page
        # Shifts need the by-hour option.
        r = c.post("/size", data={"scenario": tiny, "shifts": "morning"})
        assert r.status_code == 422 and "only when sizing by the hour" in r.text


def test_web_jobs_write_the_report_in_the_page_language(workspace, tiny):
    from simulator.report import recorded_language

    app = create_app(workspace)
    with TestClient(app, headers={"Accept-Language": "vi"}) as c:
        job, page = _finish(c, app, "/run", {"scenario": tiny, "replications": "2"})
        folder = workspace / "results" / job.result
        assert "Kết quả" in page
        report = (folder / "report.html").read_text(encoding="utf-8")
        assert '<html lang="vi"' in report and "Thời gian chờ, phân vị 90 (phút)" in report
        assert recorded_language(folder) == "vi"
        # The page's link serves that file as it is; another language is drawn on demand.
        assert c.get(f"/report/{job.result}").text == report
        assert not (folder / "report.vi.html").exists()
        english = c.get(f"/report/{job.result}?lang=en")
        c.cookies.clear()
        assert english.status_code == 200 and '<html lang="en"' in english.text
        assert (folder / "report.en.html").is_file()
