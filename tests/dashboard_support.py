"""Helpers for the dashboard and OpenAPI tests: settings, realistic seed rows, and the real service running
in a background thread (for the browser and schemathesis, which drive it from synchronous code)."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiohttp import web

from ticketpilot.config import Settings, load_settings
from ticketpilot.http import dashboard
from ticketpilot.http.app import build_app
from ticketpilot.service import Services, start_services

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "t" * 32
BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
XSS_SUMMARY = '<img src=x onerror="window.__xss=1">Forgot password <script>window.__xss=2</script>'
XSS_REASONING = (
    '</td><script>window.__xss=3</script><b onmouseover="window.__xss=4">requester is locked out</b>'
)
STEP_SECRET = "Tap-SECRET-9f8e7d"
STEP_PHONE = "+447700900123"

T = TypeVar("T")


def make_settings(tmp_path: Path, **http: Any) -> Settings:
    """Settings over a temporary copy of the sample playbooks (no folder watch) and a known admin token."""
    folder = tmp_path / "playbooks"
    if not folder.exists():
        shutil.copytree(ROOT / "playbooks", folder)
    return load_settings(
        None,
        playbooks={"dir": str(folder), "watch": False},
        http={"admin_token": ADMIN_TOKEN, **http},
    )


def dashboard_app(services: Services) -> web.Application:
    """``build_app`` plus the dashboard routes, until the lead wires them into ``app.py`` (then a no-op)."""
    app = build_app(services)
    wired = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    if "/api/v1/dashboard/overview" not in wired:
        app.router.add_routes(dashboard.routes)
    return app


@dataclass
class Seeded:
    """Ids of the seeded rows, for assertions."""

    now: datetime
    resolved: uuid.UUID
    escalated: uuid.UUID
    running: uuid.UUID
    hashes: dict[str, str] = field(default_factory=dict)


async def seed(pool: asyncpg.Pool, now: datetime | None = None) -> Seeded:
    """Tickets, decisions (automated, manual, shadow), executions in three states and their audit trails.

    Needs the sample playbooks stored (``start_services`` does that): executions reference their versions.
    """
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    hashes = {r["playbook_id"]: r["content_hash"] for r in await pool.fetch("SELECT * FROM playbooks")}
    day = timedelta(days=1)
    tickets = [
        (1001, "Locked out of my account after holiday", now - 2 * day, False),
        (1002, "Password expired, cannot log in", now - 10 * day, False),
        (1003, XSS_SUMMARY, now - 1 * day, False),
        (1004, "New phone, need to set up Authenticator again", now - 3 * day, True),
        (1005, "Lost my phone - MFA reset please", now - 4 * day, False),
        (1006, "Forgot my password", now - timedelta(hours=2), False),
        (1007, "Printer on floor 2 jams", now - 40 * day, True),
    ]
    for ticket_id, summary, seen, closed in tickets:
        await pool.execute(
            "INSERT INTO tickets (ticket_id, summary, requester_email, closed, first_seen_at)"
            " VALUES ($1,$2,$3,$4,$5)",
            ticket_id,
            summary,
            f"user{ticket_id}@example.com",
            closed,
            seen,
        )
    decisions = [
        (
            1001,
            "PASSWORD_RESET",
            0.93,
            "Requester cannot sign in after holiday.",
            "password_reset",
            "automated",
            [],
        ),
        (1002, "PASSWORD_RESET", 0.91, "Expired password on own account.", "password_reset", "automated", []),
        (
            1003,
            "PASSWORD_RESET",
            0.42,
            XSS_REASONING,
            "password_reset",
            "manual",
            [
                {"name": "low_confidence", "detail": "0.42 below 0.80"},
                {"name": "risk_flags", "detail": "manipulation"},
            ],
        ),
        (1004, "MFA_RESET", 0.9, "New phone: re-register MFA.", "mfa_reset", "shadow", []),
        (1005, "MFA_RESET", 0.88, "Lost phone: MFA reset.", "mfa_reset", "shadow", []),
        (1006, "PASSWORD_RESET", 0.95, "Forgot password.", "password_reset", "automated", []),
        (
            1007,
            "PRINTER_ISSUE",
            0.97,
            "Printer hardware fault.",
            None,
            "manual",
            [{"name": "no_playbook", "detail": ""}],
        ),
    ]
    seen_at = {t[0]: t[2] for t in tickets}
    for ticket_id, sub, confidence, reasoning, playbook_id, outcome, blockers in decisions:
        await pool.execute(
            "INSERT INTO classification_results (ticket_id, classifier, classifier_version, category,"
            " sub_category, confidence, reasoning, own_account, risk_flags, playbook_id, playbook_hash,"
            " outcome, blockers, latency_ms, created_at)"
            " VALUES ($1,'offline','1',$2,$3,$4,$5,true,$6::text::jsonb,$7,$8,$9,$10::text::jsonb,12.5,$11)",
            ticket_id,
            "REQUEST",
            sub,
            confidence,
            reasoning,
            json.dumps(["manipulation"] if ticket_id == 1003 else []),
            playbook_id,
            hashes.get(playbook_id or ""),
            outcome,
            json.dumps(blockers),
            seen_at[ticket_id] + timedelta(seconds=2),
        )
    s = timedelta(seconds=1)
    resolved, escalated, running = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    start_1001, start_1002, start_1006 = (seen_at[t] + 3 * s for t in (1001, 1002, 1006))
    executions = [
        (resolved, 1001, "RESOLVED", None, None, start_1001, start_1001 + 95 * s),
        (
            escalated,
            1002,
            "ESCALATED",
            "escalate",
            "Manager denied the request",
            start_1002,
            start_1002 + 400 * s,
        ),
        (running, 1006, "WAITING", "verify_manager", None, start_1006, None),
    ]
    for execution_id, ticket_id, state, step, reason, created, finished in executions:
        await pool.execute(
            "INSERT INTO playbook_executions (execution_id, ticket_id, playbook_id, playbook_hash,"
            " playbook_version, state, current_step, escalation_reason, created_at, updated_at, finished_at,"
            " context)"
            " VALUES ($1,$2,'password_reset',$3,'1.0.0',$4,$5,$6,$7,$7,$8,$9::text::jsonb)",
            execution_id,
            ticket_id,
            hashes["password_reset"],
            state,
            step,
            reason,
            created,
            finished,
            json.dumps({"ticket_id": ticket_id, "user_email": f"user{ticket_id}@example.com"}),
        )
    steps = [
        (resolved, 1, "verify_mfa", "verification.mfa", 1, "success", None, {"result": "approved"}, 0, 20),
        (
            resolved,
            2,
            "create_credential",
            "executor.reset_password",
            1,
            "retry",
            "Graph 503: retrying",
            {},
            20,
            22,
        ),
        (
            resolved,
            3,
            "create_credential",
            "executor.reset_password",
            2,
            "success",
            None,
            {"method": "temporary_access_pass", "temporary_access_pass": STEP_SECRET},
            26,
            27,
        ),
        (
            resolved,
            4,
            "deliver_sms",
            "delivery.sms",
            1,
            "success",
            None,
            {"to": STEP_PHONE, "segments": 1},
            27,
            30,
        ),
        (resolved, 5, "resolved", None, 1, "terminal", None, {"state": "RESOLVED"}, None, 95),
        (escalated, 1, "verify_mfa", "verification.mfa", 1, "timeout", "no answer within 120 s", {}, 0, 120),
        (
            escalated,
            2,
            "verify_manager",
            "verification.manager",
            1,
            "failure",
            "manager denied",
            {},
            120,
            390,
        ),
        (
            escalated,
            3,
            "escalate",
            None,
            1,
            "terminal",
            None,
            {"reason": "Manager denied the request"},
            None,
            400,
        ),
        (running, 1, "verify_mfa", "verification.mfa", 1, "failure", "user denied the push", {}, 0, 30),
    ]
    base = {resolved: start_1001, escalated: start_1002, running: start_1006}
    for execution_id, seq, step_id, service, attempt, outcome, error, detail, start_s, end_s in steps:
        await pool.execute(
            "INSERT INTO playbook_step_executions (execution_id, seq, step_id, service, attempt, outcome,"
            " error, detail, started_at, finished_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8::text::jsonb,$9,$10)",
            execution_id,
            seq,
            step_id,
            service,
            attempt,
            outcome,
            error,
            json.dumps(detail),
            base[execution_id] + start_s * s if start_s is not None else None,
            base[execution_id] + end_s * s,
        )
    return Seeded(now, resolved, escalated, running, hashes)


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@contextmanager
def fresh_database(pg_admin_url: str, template: str) -> Iterator[str]:
    """A migrated database copied from the test template, for code that runs outside the test's loop."""
    name = f"tp_dash_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run_in_thread(lambda: admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _with_database(pg_admin_url, name)
    finally:
        run_in_thread(lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run_in_thread(make: Callable[[], Coroutine[Any, Any, T]], timeout: float = 60.0) -> T:
    """Run a coroutine to completion on a new loop in another thread: Playwright's sync API keeps a loop
    of its own on the calling thread, where ``asyncio.run`` refuses to start."""
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(make()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="run-in-thread", daemon=True)
    thread.start()
    thread.join(timeout)
    if errors:
        raise errors[0]
    if not results:
        raise TimeoutError(f"coroutine did not finish within {timeout} s")
    return results[0]


class LiveService:
    """The real service (``start_services`` + the app) on 127.0.0.1, port 0, in a thread with its own loop."""

    def __init__(
        self, settings: Settings, db_url: str, app_factory: Callable[[Services], web.Application]
    ) -> None:
        self._settings = settings
        self._db_url = db_url
        self._app_factory = app_factory
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-service", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.base_url = ""
        self.services: Services | None = None
        self.seeded: Seeded | None = None

    def __enter__(self) -> LiveService:
        self._thread.start()
        if not self._ready.wait(timeout=60):
            raise TimeoutError("the service did not start within 60 s")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def call(self, make: Callable[[Services], Awaitable[T]], timeout: float = 10.0) -> T:
        """Run ``make(services)`` on the service's loop and return its result."""
        assert self._loop is not None and self.services is not None
        services = self.services

        async def run() -> T:
            return await make(services)

        coro: Coroutine[Any, Any, T] = run()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        services = await start_services(self._settings, self._db_url)
        try:
            self.seeded = await seed(services.pool)
            runner = web.AppRunner(self._app_factory(services), access_log=None, shutdown_timeout=2.0)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.base_url = f"http://127.0.0.1:{port}"
            self.services = services
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                await runner.cleanup()
        finally:
            await services.close()
