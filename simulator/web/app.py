"""The local web page over a workspace: a Starlette app rendering Jinja2 templates.

Server-rendered on purpose: every page is plain HTML made here, the one script
(htmx, vendored in ``static/``) only refreshes a job's progress and never
needs a network. A long run is a background job (:mod:`simulator.web.jobs`),
so no widget change interrupts it, and the page follows it by id.

Pages (each in the menu): scenario library, editor, run, results, size,
compare, quota. Everything is built on the public Python API
(``simulator.load_scenario``, ``simulator.run``, ``simulator.sizing.size``,
``simulator.compare``, ``simulator.quota``) and the run-folder writers.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
import yaml
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import simulator
import simulator.web.forms as forms
import simulator.web.writers as writers
from simulator.report import TEMPLATES
from simulator.scenario import Problem, ScenarioError, deep_merge, scenario_to_dict
from simulator.scenario.loader import decode_text
from simulator.web.i18n import (
    COMMUNE_CLASS_DISPLAY,
    DEFAULT_LANGUAGE,
    KIND_DISPLAY,
    LANGUAGES,
    N_,
    STATUS_DISPLAY,
    Translator,
    negotiate,
    translator_for,
)
from simulator.web.jobs import Job, JobQueue
from simulator.web.results import (
    SERVED_SUFFIXES,
    by_hour_context,
    excel_workbook,
    folder_kind,
    is_by_hour,
    pictures,
    read_meta,
    zip_folder,
)
from simulator.web.workspace import NEW_FILE_NAME, OutsideWorkspace, Workspace

log = logging.getLogger("pasc.web")
HERE = Path(__file__).parent
#: Largest scenario file accepted by upload or by the editor's YAML box.
MAX_UPLOAD_BYTES = 1_000_000
LANG_COOKIE = "pasc_lang"
#: Replications a page may ask for at most (a web page is not a cluster).
MAX_REPLICATIONS = 500

PICTURE_CAPTIONS = {
    "wait": N_("Waiting times of walk-in citizens"),
    "handle": N_("Desk handling times"),
    "hourly": N_("Arrivals, queue and utilization by hour"),
    "queue-heatmap": N_("Queue length by day and hour"),
    "backlog": N_("Records in the center at each day's close"),
    "on-time": N_("Records returned on time"),
    "staffing-curve": N_("Staffing curve"),
    "compare": N_("Scenarios compared"),
    "wait-by-hour": N_("Wait by hour"),
}
#: Captions of the pictures named per desk group (``by-hour-<pool>.png``, ``roster-<pool>.png``).
POOL_PICTURE_CAPTIONS = {
    "by-hour-": N_("Staff by hour: %(pool)s"),
    "roster-": N_("Roster: %(pool)s"),
}
#: Shift patterns a sizing by the hour may plan with (those of ``pasc size --shifts``).
SHIFT_PATTERNS = {
    "full-day": N_("full day"),
    "morning": N_("morning session"),
    "afternoon": N_("afternoon session"),
}


class PageError(Exception):
    """An error shown as a page: a status code and a message (msgid + values)."""

    def __init__(self, status: int, message: str, detail: str = "", **values: object):
        super().__init__(message)
        self.status, self.message, self.detail, self.values = status, message, detail, values


# -- the app ----------------------------------------------------------------------------


def create_app(
    workspace: str | Path = ".",
    lang: str | None = None,
    *,
    allowed_hosts: list[str] | None = None,
) -> Starlette:
    """The web app over ``workspace`` (its ``scenarios/`` and ``results/`` folders).

    ``lang`` (``vi`` or ``en``) fixes the default language; without it the
    browser's ``Accept-Language`` decides. A language picked on the page (the
    menu's switch, kept in a cookie) wins over both.

    ``allowed_hosts`` lists the ``Host`` names requests may carry (``pasc serve``
    on loopback passes ``127.0.0.1``, ``localhost``, ``::1``), so that a web
    site renamed to point at 127.0.0.1 (DNS rebinding) cannot read the pages.
    A form sent from another site's page (its ``Origin`` is not this server) is
    refused whatever the host.
    """
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"expected a language among {', '.join(LANGUAGES)}, found {lang!r}")
    ws = Workspace.at(workspace)
    env = jinja2.Environment(
        # The pages' own templates, then those shared with the HTML reports
        # (``report/_macros.html``: verdict badges, tables).
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(HERE / "templates"), jinja2.FileSystemLoader(TEMPLATES)]
        ),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    jobs = JobQueue()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        # Stopping the server: cancel runs, let the worker unwind (no folder is
        # half-written: folders are renamed into place only when complete).
        jobs.shutdown()

    pages = Pages(ws, env, jobs, lang)
    routes = [
        Route("/", pages.library),
        Route("/upload", pages.upload, methods=["POST"]),
        Route("/scenarios/{name:path}", pages.editor, methods=["GET", "POST"]),
        Route("/run", pages.run, methods=["GET", "POST"]),
        Route("/size", pages.size, methods=["GET", "POST"]),
        Route("/compare", pages.compare, methods=["GET", "POST"]),
        Route("/quota", pages.quota, methods=["GET", "POST"]),
        Route("/jobs", pages.job_list),
        Route("/jobs/{job_id}", pages.job),
        Route("/jobs/{job_id}/status", pages.job_status),
        Route("/jobs/{job_id}/cancel", pages.job_cancel, methods=["POST"]),
        Route("/results", pages.result_list),
        Route("/results/{path:path}", pages.result),
        Route("/report/{path:path}", pages.report),
        Route("/download/zip/{path:path}", pages.download_zip),
        Route("/download/xlsx/{path:path}", pages.download_xlsx),
        Route("/lang/{code}", pages.set_language),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(SameOriginMiddleware)]
    if allowed_hosts:
        middleware.insert(0, Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=middleware,
        exception_handlers={
            PageError: pages.error_page,
            OutsideWorkspace: pages.error_page,
            HTTPException: pages.error_page,
            Exception: pages.error_page,
        },
    )
    app.state.workspace = ws
    app.state.jobs = jobs
    return app


class SameOriginMiddleware:
    """Refuse a form sent from another site's page (cross-site request forgery).

    A browser sends ``Origin`` with every POST; it must name this server. Pages
    of this server always pass, and so do clients that send no ``Origin``
    (scripts, the test client).
    """

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc != headers.get("host", ""):
                response = PlainTextResponse(
                    "Refused: this form was sent from another web site.", status_code=403
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Pages:
    """The request handlers; each renders one template with the request's language."""

    def __init__(self, ws: Workspace, env: jinja2.Environment, jobs: JobQueue, lang: str | None):
        self.ws, self.env, self.jobs, self.default_lang = ws, env, jobs, lang

    # -- rendering and language -----------------------------------------------------------

    def language(self, request: Request) -> str:
        """The page's language: the page's own switch (cookie), then ``--lang``, then the
        browser's ``Accept-Language``, then English."""
        chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        if chosen in LANGUAGES:
            return chosen
        if self.default_lang:
            return self.default_lang
        return negotiate(request.headers.get("accept-language")) or DEFAULT_LANGUAGE

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        t = translator_for(self.language(request))
        html = self.env.get_template(template).render(
            request=request,
            t=t,
            _=t.gettext,
            lang=t.lang,
            path=request.url.path,
            here=_here(request),
            quote=quote,
            class_names=t.choices(COMMUNE_CLASS_DISPLAY),
            status_names=t.choices(STATUS_DISPLAY),
            kind_names=t.choices(KIND_DISPLAY),
            captions=PICTURE_CAPTIONS,
            pool_captions=POOL_PICTURE_CAPTIONS,
            shift_names=t.choices(SHIFT_PATTERNS),
            active_jobs=sum(1 for j in self.jobs.all() if j.active),
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, request.query_params["lang"], samesite="strict")
        return response

    async def error_page(self, request: Request, exc: Exception) -> HTMLResponse:
        """Every error as a page with a clear message (the traceback goes to the log only)."""
        detail = ""
        values: dict[str, object] = {}
        if isinstance(exc, PageError):
            status, message, detail, values = exc.status, exc.message, exc.detail, exc.values
        elif isinstance(exc, OutsideWorkspace):
            status = 403
            message = N_("Refused: %(path)s is not a file inside the workspace.")
            values = {"path": str(exc)}
        elif isinstance(exc, HTTPException):
            status = exc.status_code
            message = {
                404: N_("There is no page at this address."),
                405: N_("This page does not accept that kind of request."),
                413: N_("The file is too large."),
            }.get(status, N_("The request could not be handled."))
        else:
            log.exception("unexpected error on %s", request.url.path)
            status = 500
            message = N_("Something went wrong on the server; the log has the details.")
            detail = f"{type(exc).__name__}: {exc}"
        t = translator_for(self.language(request))
        return self.render(
            request,
            "error.html",
            status=status,
            status_code=status,
            message=t.gettext(message, **values) if values else t.gettext(message),
            detail=detail,
        )

    async def set_language(self, request: Request) -> Response:
        code = request.path_params["code"]
        if code not in LANGUAGES:
            raise PageError(404, N_("There is no page at this address."))
        target = request.query_params.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"  # only pages of this server
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(LANG_COOKIE, code, samesite="strict")
        return response

    # -- scenario library -----------------------------------------------------------------

    def scenario_rows(self) -> list[dict[str, Any]]:
        rows = []
        for name in self.ws.scenario_names():
            path = self.ws.scenario_file(name)
            row: dict[str, Any] = {"file": name}
            try:
                sc = simulator.load_scenario(path)
            except ScenarioError as exc:
                row.update(valid=False, problem=str(exc.problems[0]) if exc.problems else "")
            except (OSError, ValueError) as exc:
                row.update(valid=False, problem=str(exc))
            else:
                row.update(
                    valid=True,
                    name=sc.name,
                    description=sc.description,
                    commune_class=sc.commune.class_,
                    records_per_day=sc.demand.records_per_day,
                    channels=sc.demand.channels.as_dict(),
                    staff_total=sc.staff.total,
                    desks=[(d.name, d.count) for d in sc.staff.desks],
                    back_office=sc.staff.back_office,
                    postal_agents=sc.staff.postal_agents,
                    targets=len(sc.targets),
                )
            rows.append(row)
        return rows

    async def library(self, request: Request) -> HTMLResponse:
        return self.render(
            request,
            "library.html",
            rows=self.scenario_rows(),
            workspace=str(self.ws.root),
            has_folder=self.ws.scenarios.is_dir(),
            max_upload_kb=MAX_UPLOAD_BYTES // 1000,
        )

    async def upload(self, request: Request) -> Response:
        """A scenario file from the planner's computer, saved as a new file in ``scenarios/``."""
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 10_000:
            raise PageError(
                413, N_("The file is too large (at most %(kb)s kB)."), kb=MAX_UPLOAD_BYTES // 1000
            )
        async with request.form(max_files=1, max_fields=5, max_part_size=MAX_UPLOAD_BYTES) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str) or not upload.filename:
                raise PageError(400, N_("Choose a scenario file (.yaml) to upload."))
            data = await upload.read(MAX_UPLOAD_BYTES + 1)
            filename = Path(upload.filename.replace("\\", "/")).name.lower()
        if len(data) > MAX_UPLOAD_BYTES:
            raise PageError(
                413, N_("The file is too large (at most %(kb)s kB)."), kb=MAX_UPLOAD_BYTES // 1000
            )
        if not NEW_FILE_NAME.match(filename):
            raise PageError(
                400, N_("Expected a file name like my-commune.yaml, found %(name)s."), name=filename
            )
        target = self.ws.resolve(filename, self.ws.scenarios)
        if target.exists():
            raise PageError(
                409,
                N_("%(name)s already exists; rename the file and upload it again."),
                name=filename,
            )
        self.ws.scenarios.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as fh:  # "x": never replaces a file created meanwhile
            fh.write(data)
        return RedirectResponse(f"/scenarios/{quote(filename)}", status_code=303)

    # -- editor ---------------------------------------------------------------------------

    def _effective(self, raw: dict[str, Any]) -> dict[str, Any]:
        """``raw`` with its ``extends:`` parent merged in (the parent read inside the
        workspace only), as :func:`simulator.load_scenario` would see it."""
        if "extends" not in raw:
            return raw
        parent_name = str(raw["extends"])
        parent = simulator.load_scenario(self.ws.scenario_file(parent_name))
        child = {k: v for k, v in raw.items() if k != "extends"}
        return deep_merge(scenario_to_dict(parent), child)

    def _resolve_extends(self, text: str) -> tuple[str, str]:
        """A file that ``extends:`` another one is edited whole: (the merged scenario as
        YAML, the parent's name). Other text is returned as it is, with no parent."""
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError:
            return text, ""
        if not isinstance(raw, dict) or "extends" not in raw:
            return text, ""
        try:
            merged = self._effective(raw)
        except (ScenarioError, OutsideWorkspace, OSError, ValueError):
            return text, ""
        return forms.dump_yaml(merged), str(raw["extends"])

    def _check(self, raw: Any, label: str) -> list[Problem]:
        """The problems of a scenario mapping, as the CLI reports them (key path, message)."""
        if not isinstance(raw, dict):
            return [
                Problem(
                    "",
                    f"expected a mapping of keys (name:, demand:, ...), found {type(raw).__name__}",
                )
            ]
        try:
            simulator.load_scenario(self._effective(raw))
        except ScenarioError as exc:
            return list(exc.problems)
        except OutsideWorkspace as exc:
            return [Problem("extends", f"expected a file inside the workspace, found {exc}")]
        except (OSError, ValueError) as exc:
            return [Problem("", str(exc))]
        return []

    async def editor(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = self.ws.scenario_file(name)
        if not path.is_file():
            raise PageError(404, N_("There is no scenario file %(name)s."), name=name)
        message = ""
        saved_as = None
        confirm_overwrite = None
        parent = ""
        if request.method == "GET":
            try:
                text = decode_text(path.read_bytes(), name)
            except ScenarioError as exc:
                raise PageError(
                    422, N_("The scenario %(name)s is not valid."), detail=exc.message(), name=name
                ) from None
            new_name = _suggest_name(self.ws, name)
            changed: list[str] = []
            text, parent = self._resolve_extends(text)
        else:
            async with request.form(max_fields=5000, max_part_size=MAX_UPLOAD_BYTES) as form:
                data = {k: v for k, v in form.items() if isinstance(v, str)}
            text = data.get("yaml", "")
            new_name = data.get("new_name", "").strip()
            changed = []
        problems: list[Problem] = []
        raw: Any = None
        try:
            raw = yaml.safe_load(text) if text.strip() else {}
        except yaml.YAMLError as exc:
            problems = [Problem("", f"expected valid YAML, found: {exc}".replace("\n", " "))]
        if isinstance(raw, dict) and request.method == "POST":
            try:
                changed = forms.apply_form(raw, data)
            except KeyError as exc:
                problems.append(Problem("", str(exc.args[0])))
            if changed:
                text = forms.dump_yaml(raw)
        if not problems:
            problems = self._check(raw, name)
        action = data.get("action", "check") if request.method == "POST" else "view"
        if action == "save" and not problems:
            saved_as, confirm_overwrite, message = self._save(text, new_name, data)
        elif action == "save":
            message = N_("Not saved: correct the problems marked below first.")
        elif action == "check" and not problems:
            message = N_("The scenario is valid.")
        by_path: dict[str, list[str]] = {}
        for p in problems:
            by_path.setdefault(p.path, []).append(p.message)
        groups = forms.editor_groups(raw if isinstance(raw, dict) else {})
        field_paths = {f.path for g in groups for f in g.fields}
        return self.render(
            request,
            "editor.html",
            status=200 if not problems else 422,
            name=name,
            text=text,
            groups=groups,
            labels=forms.KEY_LABELS,
            errors=by_path,
            problems=problems,
            unplaced=[p for p in problems if p.path not in field_paths],
            message=message,
            saved_as=saved_as,
            confirm_overwrite=confirm_overwrite,
            new_name=new_name,
            changed=changed,
            parent=parent,
        )

    def _save(
        self, text: str, new_name: str, form: dict[str, str]
    ) -> tuple[str | None, str | None, str]:
        """Write ``text`` as ``scenarios/new_name``; an existing file only with confirmation.

        Returns (saved file name, file awaiting confirmation, message msgid).
        """
        if not NEW_FILE_NAME.match(new_name):
            return None, None, N_("Expected a new file name like my-commune.yaml.")
        target = self.ws.resolve(new_name, self.ws.scenarios)
        if len(text.encode("utf-8")) > MAX_UPLOAD_BYTES:
            return None, None, N_("The file is too large.")
        if target.exists():
            if form.get("overwrite") != new_name:
                return None, new_name, N_("A file with this name exists already. Not saved.")
            target.write_text(text, encoding="utf-8")
            return new_name, None, N_("Saved (the old file was replaced, as you confirmed).")
        self.ws.scenarios.mkdir(parents=True, exist_ok=True)
        try:
            with open(target, "x", encoding="utf-8") as fh:
                fh.write(text)
        except FileExistsError:
            return None, new_name, N_("A file with this name exists already. Not saved.")
        return new_name, None, N_("Saved as a new file.")

    # -- run, size, compare, quota: forms that submit jobs ---------------------------------

    def _load(self, name: str, overrides: dict[str, Any] | None = None):
        path = self.ws.scenario_file(name)
        if not path.is_file():
            raise PageError(404, N_("There is no scenario file %(name)s."), name=name)
        try:
            return simulator.load_scenario(path, overrides)
        except ScenarioError as exc:
            raise PageError(
                422, N_("The scenario %(name)s is not valid."), detail=exc.message(), name=name
            ) from None

    async def _form(self, request: Request) -> dict[str, Any]:
        async with request.form(max_fields=200, max_part_size=100_000) as form:
            out: dict[str, Any] = {}
            for key, value in form.multi_items():
                if isinstance(value, str):
                    out.setdefault(key, []).append(value)
            return {k: v if len(v) > 1 else v[0] for k, v in out.items()}

    def _submit(self, kind: str, title: str, work) -> Response:
        job = self.jobs.submit(kind, title, work)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    async def run(self, request: Request) -> Response:
        names = self.ws.scenario_names()
        if request.method == "GET":
            chosen = request.query_params.get("scenario") or (names[0] if names else "")
            defaults = {}
            if chosen:
                sc = self._load(chosen)
                defaults = {
                    "replications": sc.replications,
                    "seed": sc.seed,
                    "days": sc.horizon.days,
                }
            return self.render(request, "run.html", names=names, chosen=chosen, defaults=defaults)
        form = await self._form(request)
        name = str(form.get("scenario", ""))
        reps = _int(form, "replications", 1, MAX_REPLICATIONS)
        seed = _int(form, "seed", 0, None)
        days = _int(form, "days", 1, 3650)
        overrides = {"horizon.days": days} if days is not None else None
        sc = self._load(name, overrides)
        ws, lang = self.ws, self.language(request)

        def work(job: Job) -> str:
            result = simulator.run(sc, reps, seed, progress=job.progress)
            job.done = job.total  # writing the folder and its pictures
            folder = writers.write_run(result, ws.results, lang=lang)
            return ws.relative(folder)

        return self._submit("run", sc.name, work)

    async def size(self, request: Request) -> Response:
        names = self.ws.scenario_names()
        if request.method == "GET":
            chosen = request.query_params.get("scenario") or (names[0] if names else "")
            return self.render(
                request, "size.html", names=names, chosen=chosen, shift_patterns=SHIFT_PATTERNS
            )
        form = await self._form(request)
        name = str(form.get("scenario", ""))
        reps = _int(form, "replications", 2, MAX_REPLICATIONS)
        days = _int(form, "days", 2, 3650)
        max_staff = _int(form, "max_staff", 1, 1000)
        by_hour = str(form.get("by_hour", "")) in ("1", "on", "yes", "true")
        patterns = form.get("shifts", [])
        patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        unknown = [p for p in patterns if p not in SHIFT_PATTERNS]
        if unknown:
            raise PageError(
                422,
                N_("shifts: expected patterns among %(allowed)s, found %(found)s."),
                allowed=", ".join(SHIFT_PATTERNS),
                found=repr(unknown[0]),
            )
        if patterns and not by_hour:
            raise PageError(422, N_("Shifts are planned only when sizing by the hour."))
        sc = self._load(name)
        if not sc.targets:
            raise PageError(
                422, N_("The scenario %(name)s has no targets to size against."), name=name
            )
        ws, lang = self.ws, self.language(request)
        if by_hour:
            return self._size_by_hour(sc, reps, days, max_staff, patterns, lang)

        def work(job: Job) -> str:
            from simulator.sizing import size

            count = [0]

            def tick(candidate: object) -> None:
                count[0] += 1
                job.progress(count[0], 0)

            result = size(
                sc, replications=reps, horizon_days=days, max_staff=max_staff, progress=tick
            )
            return ws.relative(writers.write_sizing(result, ws.results, lang=lang))

        return self._submit("size", sc.name, work)

    def _size_by_hour(
        self,
        sc: Any,
        reps: int | None,
        days: int | None,
        max_staff: int | None,
        patterns: list[str],
        lang: str,
    ) -> Response:
        """``pasc size --by-hour [--shifts ...]`` as a job: the staffing by the hour,
        verified by simulation, then (when patterns are ticked) the shift plan."""
        from simulator.sizing_by_hour import WAIT_QUANTILES

        if not any(t.kpi in WAIT_QUANTILES and t.max is not None for t in sc.targets):
            raise PageError(
                422,
                N_(
                    "Sizing by the hour needs a wait target (wait_minutes.p50, .p90 or .p95 "
                    "with max) in the scenario %(name)s."
                ),
                name=sc.name,
            )
        ws = self.ws

        def work(job: Job) -> str:
            from simulator.sizing_by_hour import plan_and_verify_shifts, size_by_hour

            count = [0]

            def tick(step: str) -> None:
                count[0] += 1
                job.step = step
                job.progress(count[0], 0)

            result = size_by_hour(
                sc,
                replications=reps,
                horizon_days=days,
                max_staff=max_staff or 30,
                progress=tick,
            )
            shifts = None
            if patterns:
                tick("planning and verifying the shifts")
                shifts = plan_and_verify_shifts(result, patterns)
            tick("writing the folder and its pictures")
            return ws.relative(writers.write_size_by_hour(result, ws.results, shifts, lang=lang))

        return self._submit("size", sc.name, work)

    async def compare(self, request: Request) -> Response:
        names = self.ws.scenario_names()
        if request.method == "GET":
            return self.render(
                request,
                "compare.html",
                names=names,
                first=request.query_params.get("a", names[0] if names else ""),
                second=request.query_params.get("b", names[1] if len(names) > 1 else ""),
            )
        form = await self._form(request)
        reps = _int(form, "replications", 2, MAX_REPLICATIONS)
        days = _int(form, "days", 1, 3650)
        overrides = {"horizon.days": days} if days is not None else None
        scenarios = [self._load(str(form.get(k, "")), overrides) for k in ("a", "b")]
        ws, lang = self.ws, self.language(request)

        def work(job: Job) -> str:
            from simulator.compare import compare

            comparison = compare(scenarios, reps, progress=job.progress)
            return ws.relative(writers.write_comparison(comparison, ws.results, lang=lang))

        return self._submit("compare", " / ".join(s.name for s in scenarios), work)

    async def quota(self, request: Request) -> Response:
        names = self.ws.scenario_names()
        if request.method == "GET":
            return self.render(request, "quota.html", names=names)
        form = await self._form(request)
        chosen = form.get("scenarios", [])
        chosen = [chosen] if isinstance(chosen, str) else list(chosen)
        if not chosen:
            raise PageError(400, N_("Choose at least one scenario."))
        reps = _int(form, "replications", 2, MAX_REPLICATIONS)
        scenarios = [self._load(n) for n in chosen]

        def work(job: Job) -> list[dict[str, Any]]:
            from simulator.quota import compare_quota

            rows = []
            for i, sc in enumerate(scenarios):
                job.progress(i, len(scenarios))
                try:
                    rows.append(compare_quota(sc, replications=reps).to_dict())
                except ValueError as exc:  # e.g. no targets: that commune's row says so
                    rows.append({"scenario": sc.name, "error": str(exc)})
            job.progress(len(scenarios), len(scenarios))
            return rows

        return self._submit("quota", ", ".join(s.name for s in scenarios), work)

    # -- jobs -----------------------------------------------------------------------------

    def _job(self, request: Request) -> Job:
        job = self.jobs.get(request.path_params["job_id"])
        if job is None:
            raise PageError(
                404,
                N_(
                    "There is no such job (the server may have been restarted); "
                    "finished runs are listed under Results."
                ),
            )
        return job

    def _job_context(self, job: Job) -> dict[str, Any]:
        return {
            "job": job,
            "position": self.jobs.position(job),
            "elapsed": (job.finished or time.time()) - job.submitted,
        }

    async def job_list(self, request: Request) -> HTMLResponse:
        return self.render(request, "jobs.html", jobs=self.jobs.all())

    async def job(self, request: Request) -> Response:
        job = self._job(request)
        if job.status == "done" and isinstance(job.result, str):
            return RedirectResponse(f"/results/{job.result}", status_code=303)
        return self.render(request, "job.html", **self._job_context(job))

    async def job_status(self, request: Request) -> Response:
        """The progress fragment htmx swaps in every second; redirects when done."""
        job = self._job(request)
        response = self.render(request, "job_status.html", **self._job_context(job))
        if job.status == "done":
            target = f"/results/{job.result}" if isinstance(job.result, str) else f"/jobs/{job.id}"
            if isinstance(job.result, str) or request.headers.get("hx-request"):
                response.headers["HX-Redirect"] = target
        return response

    async def job_cancel(self, request: Request) -> Response:
        job = self._job(request)
        self.jobs.cancel(job)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    # -- results --------------------------------------------------------------------------

    def _folder(self, relative: str) -> Path:
        folder = self.ws.resolve(relative, self.ws.results)
        if not folder.is_dir() or folder_kind(folder) is None:
            raise PageError(404, N_("There is no finished run folder %(name)s."), name=relative)
        return folder

    async def result_list(self, request: Request) -> HTMLResponse:
        rows = []
        for folder in self.ws.run_folders():
            rows.append(
                {
                    "path": self.ws.relative(folder),
                    "kind": folder_kind(folder),
                    "scenario": folder.parent.name,
                    "when": folder.name,
                }
            )
        return self.render(request, "results.html", rows=rows)

    async def result(self, request: Request) -> Response:
        relative = request.path_params["path"]
        target = self.ws.resolve(relative, self.ws.results)
        if target.is_file():
            media = SERVED_SUFFIXES.get(target.suffix)
            if media is None:
                raise PageError(404, N_("There is no page at this address."))
            headers = {"Content-Security-Policy": "sandbox"} if target.suffix == ".html" else {}
            return Response(target.read_bytes(), media_type=media, headers=headers)
        folder = self._folder(relative)
        meta = read_meta(folder)
        kind = folder_kind(folder)
        context = {
            "meta": meta,
            "folder": relative,
            "pictures": pictures(folder),
            "kind": kind,
            "isnan": _isnan,
        }
        if kind == "size" and is_by_hour(meta):
            from simulator.report import recorded_language

            context.update(by_hour_context(meta, folder))
            context["report_lang"] = recorded_language(folder)
            return self.render(request, "result_size_by_hour.html", **context)
        if kind == "size":
            answer = meta.get("answer") or {}
            context["curve"] = [
                {
                    **c,
                    "chosen": bool(answer)
                    and all(c["staff"].get(pool) == n for pool, n in answer.items()),
                }
                for c in meta.get("curve", [])
            ]
        return self.render(request, f"result_{kind}.html", **context)

    async def report(self, request: Request) -> Response:
        """The folder's ``report.html`` in the page's language: the one written with the
        folder when it is in that language, else ``report.<lang>.html``, drawn once from
        the folder's files and pictures (:func:`simulator.report.report_in_language`)."""
        from simulator.report import REPORT_FILE, ReportError, report_in_language

        folder = self._folder(request.path_params["path"])
        if folder_kind(folder) == "size" and is_by_hour(read_meta(folder)):
            # A sizing by the hour cannot be drawn again from its files (the report
            # needs the simulation): its report.html is served in the language it was
            # written in (the result page says which).
            path = folder / REPORT_FILE
            if not path.is_file():
                raise PageError(404, N_("There is no page at this address."))
            return Response(
                path.read_bytes(),
                media_type=SERVED_SUFFIXES[".html"],
                headers={"Content-Security-Policy": "sandbox"},
            )
        try:
            path = report_in_language(folder, self.language(request))
        except ReportError as exc:
            raise PageError(
                500, N_("The report of %(name)s cannot be drawn."), str(exc), name=folder.name
            ) from None
        return Response(
            path.read_bytes(),
            media_type=SERVED_SUFFIXES[".html"],
            headers={"Content-Security-Policy": "sandbox"},
        )

    async def download_zip(self, request: Request) -> Response:
        relative = request.path_params["path"]
        folder = self._folder(relative)
        name = f"{folder.parent.name}-{folder.name}.zip"
        return Response(
            zip_folder(folder),
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def download_xlsx(self, request: Request) -> Response:
        relative = request.path_params["path"]
        folder = self._folder(relative)
        t: Translator = translator_for(self.language(request))
        name = f"{folder.parent.name}-{folder.name}.xlsx"
        return Response(
            excel_workbook(folder, t),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


# -- small helpers ---------------------------------------------------------------------


def _here(request: Request) -> str:
    """The current page's path and query, for the language switch's ``next``."""
    query = "&".join(f"{k}={quote(v)}" for k, v in request.query_params.items() if k != "lang")
    return request.url.path + (f"?{query}" if query else "")


def _isnan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _int(form: dict[str, Any], key: str, low: int | None, high: int | None) -> int | None:
    """A whole number from a form field (empty: ``None``), or a clear error page."""
    text = str(form.get(key, "") or "").strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise PageError(
            422, N_("%(key)s: expected a whole number, found %(found)s."), key=key, found=repr(text)
        ) from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise PageError(
            422,
            N_("%(key)s: expected a number from %(low)s to %(high)s, found %(found)s."),
            key=key,
            low=low,
            high=high if high is not None else "∞",
            found=value,
        )
    return value


def _suggest_name(ws: Workspace, name: str) -> str:
    """A file name that does not exist yet: ``x-edited.yaml``, ``x-edited-2.yaml``, ..."""
    stem = Path(name).stem
    for k in range(1, 1000):
        candidate = f"{stem}-edited.yaml" if k == 1 else f"{stem}-edited-{k}.yaml"
        if not (ws.scenarios / candidate).exists():
            return candidate
    return f"{stem}-{int(time.time())}.yaml"


__all__ = ["MAX_UPLOAD_BYTES", "PageError", "create_app"]
