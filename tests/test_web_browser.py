"""End-to-end: Debian's Chromium, headless, driven by Playwright, over a live server.

The browser is the one installed by apt (``/usr/bin/chromium``, see ``.ci/run``),
passed to Playwright by path: nothing is downloaded at test time. Each test
saves a screenshot in ``tests/artifacts/`` (git-ignored) so a failure can be
looked at. The run uses 3 replications of 2 working days, typed into the form,
so that it takes seconds.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).parent / "artifacts"
WARD = "quang-nam-urban-ward.yaml"
CHROMIUM = next(
    (p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and Path(p).is_file()), None
)

if CHROMIUM is None:
    pytest.skip(
        "no Chromium installed (apt-get install chromium): the browser tests need one",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright package is not installed (pip install -e '.[test]')",
)
uvicorn = pytest.importorskip("uvicorn", reason="the web extra is not installed")

from simulator.web import create_app  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A live ``pasc serve`` on a free loopback port over a copy of the shipped scenarios."""
    ws = tmp_path_factory.mktemp("browser") / "ws"
    shutil.copytree(REPO / "scenarios", ws / "scenarios")
    port = _free_port()
    config = uvicorn.Config(create_app(ws), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 15
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "the server did not start"
    yield f"http://127.0.0.1:{port}", ws
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def test_library_lists_the_shipped_scenarios(page, server):
    base, _ = server
    page.goto(base + "/")
    rows = page.locator("#library tbody tr.valid")
    assert rows.count() == len(list((REPO / "scenarios").glob("*.yaml")))
    assert page.locator("h1").inner_text() == "Scenario library"
    assert page.get_by_role("link", name=WARD).is_visible()


def test_a_bad_desk_count_is_marked_at_its_field(page, server):
    base, _ = server
    page.goto(f"{base}/scenarios/{WARD}")
    page.fill("#f-staff\\.desks\\.0\\.count", "0")
    page.click("#check")
    marked = page.locator('.error-at-field[data-key="staff.desks.0.count"]')
    assert re.match(r"staff\.desks\.0\.count: expected .*found 0", marked.inner_text())
    assert page.locator(".field.has-error").count() == 1


def test_change_a_desk_count_run_and_see_the_verdict_table(page, server):
    base, ws = server
    page.goto(base + "/")
    page.get_by_role("link", name=WARD).click()
    page.fill("#f-staff\\.desks\\.0\\.count", "4")
    page.fill("#new_name", "ward-four-desks.yaml")
    page.click("#save")
    assert "Saved as a new file" in page.locator("#message").inner_text()
    page.click("#run-saved")
    page.fill("#replications", "3")
    page.fill("#days", "2")
    page.click("#start")
    # The job page follows the run (htmx) and moves on to the result by itself.
    page.wait_for_selector("#verdicts", timeout=60_000)
    assert "/results/quang-nam-urban-ward/" in page.url
    verdicts = page.locator("#verdicts tbody tr")
    assert verdicts.count() == 4  # three targets and keeps-up
    assert page.locator("#verdicts .verdict").count() == 4
    folder = ws / "results" / page.url.split("/results/", 1)[1]
    assert "count: 4" in (folder / "scenario.yaml").read_text()
    assert page.locator(".pictures img").count() >= 3


def test_switch_to_vietnamese(page, server):
    base, _ = server
    page.goto(base + "/")
    page.click("#lang-vi")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Danh sách kịch bản"
    assert page.locator("html").get_attribute("lang") == "vi"
    page.goto(f"{base}/scenarios/{WARD}")  # the choice is kept from page to page
    assert "Số cán bộ tại quầy này" in page.content()
    page.click("#lang-en")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Scenario editor")


def test_a_path_traversal_url_is_refused(page, server):
    base, _ = server
    response = page.goto(base + "/scenarios/..%2F..%2F..%2Fetc%2Fpasswd")
    assert response is not None and response.status == 403
    assert "not a file inside the workspace" in page.locator("#error .message").inner_text()
    assert "root:" not in page.content()


def test_size_by_the_hour_with_a_shift_plan(page, server):
    base, _ = server
    page.goto(base + "/size?scenario=quang-nam-rural-commune.yaml")
    page.fill("#replications", "3")
    page.check("#by_hour")
    page.check("#shift-morning")
    page.check("#shift-afternoon")
    page.click("#start")
    page.wait_for_selector("#by-hour", timeout=60_000)
    assert page.url.endswith("-size-by-hour")
    hours = page.locator("#by-hour tbody tr")
    assert hours.count() >= 8  # every open hour of the day
    assert page.locator("#staff-hours td.num").count() == 3
    assert page.locator("#shifts tbody tr").count() >= 2
    assert page.locator(".pictures img").count() >= 3
    assert page.locator("#download-answer").get_attribute("download") == "answer.yaml"
