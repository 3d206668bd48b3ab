"""End-to-end harness: the whole service in live mode, every adapter pointed at a loopback vendor fake.

:func:`live_service` runs ``start_services`` + ``build_app`` on a real loopback port (the ``http.public_url``
that approval links and Twilio signatures use), with its logs captured, and hands back a
:class:`LiveService` that acts like HaloPSA (webhooks), a manager (opens the Teams card's link, replies by
SMS through a signed Twilio webhook) and an auditor (searches logs, every table and every request the fakes
received for a secret). Every wait is a poll with a deadline.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import re
import shutil
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote_plus, urljoin

import aiohttp
import asyncpg
import structlog
from aiohttp import web
from fakes.graph import FakeUser, GraphFake
from fakes.halopsa import HaloPsaFake
from fakes.mfa import MfaConnectorFake
from fakes.openai import OpenAiFake
from fakes.server import FakeServer
from fakes.teams import TeamsWorkflowFake
from fakes.twilio import TwilioFake
from ruamel.yaml import YAML
from twilio.request_validator import RequestValidator

from ticketpilot.config import Settings
from ticketpilot.http.app import build_app
from ticketpilot.logging import configure_logging
from ticketpilot.service import Services, start_services

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-auth-token-e2e"
FROM_NUMBER = "+15005550006"
ADMIN_TOKEN = "e2e-admin-token-" + "x" * 16
WEBHOOK_USER = "halopsa"
WEBHOOK_PASSWORD = "halo-webhook-password"
OPENAI_KEY = "sk-e2e-0123456789abcdef"
GRAPH_TENANT = "contoso-tenant"
TERMINAL = frozenset({"RESOLVED", "ESCALATED", "CANCELLED", "FAILED"})
SMS_CODE = re.compile(r"YES (\d{6})")

T = TypeVar("T")


# --- the vendors -----------------------------------------------------------------------------------------


@dataclass
class VendorFakes:
    """One loopback fake per vendor the live adapters talk to."""

    halo: HaloPsaFake
    graph: GraphFake
    mfa: MfaConnectorFake
    teams: TeamsWorkflowFake
    twilio: TwilioFake
    openai: OpenAiFake

    @classmethod
    def create(cls) -> VendorFakes:
        return cls(
            HaloPsaFake(client_id="halo-client", client_secret="halo-secret", tenant="acme"),
            GraphFake(tenant_id=GRAPH_TENANT, client_id="graph-app", client_secret="graph-secret"),
            MfaConnectorFake(tenant_id=GRAPH_TENANT, client_secret="mfa-secret"),
            TeamsWorkflowFake(),
            TwilioFake(account_sid=ACCOUNT_SID, auth_token=TWILIO_TOKEN),
            OpenAiFake(api_key=OPENAI_KEY),
        )

    def all(self) -> tuple[FakeServer, ...]:
        return (self.halo, self.graph, self.mfa, self.teams, self.twilio, self.openai)

    async def start(self) -> None:
        for fake in self.all():
            await fake.start()

    async def stop(self) -> None:
        for fake in self.all():
            await fake.stop()


@dataclass(frozen=True)
class Requester:
    """A HaloPSA end user with a ticket, the same person in Entra (by ``azureoid``), and their manager."""

    ticket_id: int
    user: FakeUser
    manager: FakeUser
    phone: str
    """The phone on record, E.164 (Graph shows it with spaces)."""
    manager_phone: str


def add_requester(
    fakes: VendorFakes,
    *,
    ticket_id: int,
    name: str = "Alice Martin",
    login: str = "alice",
    phone: str = "+44 7700 900123",
    manager_phone: str = "+44 7700 900456",
    summary: str = "I can't log in",
    details: str = "Hi, since this morning my password is refused and now my account seems locked. "
    "Could you help me get back in? Thanks",
) -> Requester:
    """Seed Graph (requester, manager, phones) and HaloPSA (the user with ``azureoid``, the ticket)."""
    manager = fakes.graph.add_user(
        f"{login}.manager@contoso.example",
        mail=f"{login}.manager@contoso.example",
        display_name=f"Manager of {name}",
        phones=[(manager_phone, "mobile")],
    )
    user = fakes.graph.add_user(
        f"{login}@contoso.example",
        mail=f"{login}@contoso.example",
        display_name=name,
        manager_id=manager.id,
        phones=[(phone, "mobile")],
    )
    halo_user_id = 500 + ticket_id % 1000
    fakes.halo.add_user(halo_user_id, email=f"{login}@contoso.example", azureoid=user.id, name=name)
    fakes.halo.add_ticket(
        ticket_id,
        summary=summary,
        details=details,
        user_id=halo_user_id,
        user_name=name,
        user_email=f"{login}@contoso.example",
    )
    return Requester(ticket_id, user, manager, phone.replace(" ", ""), manager_phone.replace(" ", ""))


def llm_answer(sub_category: str, confidence: float, reasoning: str, **extra: Any) -> dict[str, Any]:
    """An answer of the strict classification schema, for ``OpenAiFake.answer_when``."""
    return {
        "category": "INCIDENT" if sub_category != "PASSWORD_RESET" else "REQUEST",
        "sub_category": sub_category,
        "confidence": confidence,
        "reasoning": reasoning,
        "own_account": True,
        "risk_flags": [],
        **extra,
    }


def halo_delivery(ticket_id: int, event: str = "ticket_created") -> dict[str, Any]:
    """One webhook delivery of the "small object" kind (vendor-apis §1.3): only ``object_id`` is used."""
    return {
        "id": str(uuid.uuid4()),
        "webhook_id": str(uuid.uuid4()),
        "notification_id": 41,
        "escmsg_id": str(uuid.uuid4()),
        "event": "New Ticket Logged" if event == "ticket_created" else "Ticket Updated",
        "message": f"Ticket ID: {ticket_id:07d} was logged.",
        "object_id": ticket_id,
        "agent_id": 3,
        "timestamp": "2026-09-25T06:41:08.79Z",
    }


# --- settings and playbooks --------------------------------------------------------------------------------


def live_settings(
    fakes: VendorFakes, *, port: int, playbooks_dir: Path, redis_url: str, **sections: dict[str, Any]
) -> Settings:
    """``adapters.mode = "live"`` with every base URL at a fake; ``sections`` override keys per section."""
    base: dict[str, dict[str, Any]] = {
        "adapters": {"mode": "live", "http_timeout_s": 5},
        "http": {
            "host": "127.0.0.1",
            "port": port,
            "admin_token": ADMIN_TOKEN,
            "public_url": f"http://127.0.0.1:{port}",
        },
        "redis": {"url": redis_url},
        "llm": {
            "base_url": fakes.openai.base_url,
            "api_key": OPENAI_KEY,
            "mode": "llm",  # these tests drive the flows through the LLM fake (both: tests/test_second_opinion.py)
            "model": "gpt-4o-mini",
            "timeout_s": 5,
            "max_retries": 0,
        },
        "halopsa": {
            "base_url": fakes.halo.base_url,
            "client_id": "halo-client",
            "client_secret": "halo-secret",
            "tenant": "acme",
            "webhook_username": WEBHOOK_USER,
            "webhook_password": WEBHOOK_PASSWORD,
        },
        "entra": {
            "tenant_id": GRAPH_TENANT,
            "client_id": "graph-app",
            "client_secret": "graph-secret",
            "authority_url": fakes.graph.authority_url,
            "graph_url": fakes.graph.graph_url,
        },
        "mfa": {
            "enabled": True,
            "connector_url": fakes.mfa.connector_url,
            "token_url": fakes.mfa.token_url,
            "client_secret": "mfa-secret",
            "timeout_s": 10,
        },
        "teams": {
            "workflow_url": fakes.teams.workflow_url,
            "approval_signing_key": "e2e-approval-signing-key-0123456789",
            "sms_fallback_after_s": 300,
        },
        "twilio": {
            "account_sid": ACCOUNT_SID,
            "auth_token": TWILIO_TOKEN,
            "from_number": FROM_NUMBER,
            "base_url": fakes.twilio.base_url,
        },
        "playbooks": {"dir": str(playbooks_dir), "watch": False},
        "engine": {"outbox_poll_s": 0.2, "inbox_poll_s": 0.2},
        "logging": {"level": "DEBUG", "format": "json"},
    }
    for section, values in sections.items():
        base[section] = {**base.get(section, {}), **values}
    return Settings(**base)  # type: ignore[arg-type]


def copy_playbooks(
    dest: Path,
    step_overrides: dict[str, dict[str, dict[str, Any]]],
    field_overrides: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """A copy of ``playbooks/``; ``{playbook_id: {step_id: {key: value}}}`` changes steps (e.g. a timeout),
    ``field_overrides`` ``{playbook_id: {key: value}}`` top-level keys (e.g. an ``escalation`` block)."""
    shutil.copytree(ROOT / "playbooks", dest)
    yaml = YAML()
    fields = field_overrides or {}
    for playbook_id in {*step_overrides, *fields}:
        path = dest / f"{playbook_id}.yml"
        doc = yaml.load(path.read_text(encoding="utf-8"))
        for step in doc["steps"]:
            step.update(step_overrides.get(playbook_id, {}).get(step["id"], {}))
        doc.update(fields.get(playbook_id, {}))
        with path.open("w", encoding="utf-8") as out:
            yaml.dump(doc, out)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def captured_logs(buffer: io.StringIO) -> Iterator[None]:
    """The service's own logging set-up (JSON, DEBUG) writing to ``buffer``; restored afterwards."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG", "json", stream=buffer)
    try:
        yield
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)


# --- the running service -------------------------------------------------------------------------------------


class _Form(HTMLParser):
    """The first form of a page: its action and its input values."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


@dataclass
class LiveService:
    """The service under test, and the people around it."""

    settings: Settings
    services: Services
    fakes: VendorFakes
    http: aiohttp.ClientSession
    logs: io.StringIO

    @property
    def url(self) -> str:
        return self.settings.http.public_url

    @property
    def pool(self) -> asyncpg.Pool:
        return self.services.pool

    # --- waiting ---------------------------------------------------------------------------------------

    async def wait_for(
        self, what: str, check: Callable[[], Awaitable[T | None]], timeout_s: float = 15.0
    ) -> T:
        """Poll ``check`` until it returns something other than None/False; fail naming ``what``."""
        deadline = time.monotonic() + timeout_s
        while True:
            result = await check()
            if result is not None and result is not False:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout_s:g}s waiting for {what}")
            await asyncio.sleep(0.05)

    async def execution(self, ticket_id: int) -> asyncpg.Record | None:
        return await self.pool.fetchrow("SELECT * FROM playbook_executions WHERE ticket_id = $1", ticket_id)

    async def waiting(self, ticket_id: int) -> bool:
        """The ticket's execution is parked, waiting for an answer."""
        row = await self.execution(ticket_id)
        return row is not None and row["state"] == "WAITING"

    async def wait_terminal(self, ticket_id: int, timeout_s: float = 20.0) -> asyncpg.Record:
        async def done() -> asyncpg.Record | None:
            row = await self.execution(ticket_id)
            return row if row is not None and row["state"] in TERMINAL else None

        return await self.wait_for(f"the execution of ticket {ticket_id} to end", done, timeout_s)

    async def steps(self, ticket_id: int) -> list[tuple[str, int, str, str | None]]:
        """(step_id, attempt, outcome, error) of the execution's audit trail, in order."""
        rows = await self.pool.fetch(
            "SELECT s.step_id, s.attempt, s.outcome, s.error FROM playbook_step_executions s"
            " JOIN playbook_executions e USING (execution_id) WHERE e.ticket_id = $1 ORDER BY s.seq",
            ticket_id,
        )
        return [(r["step_id"], r["attempt"], r["outcome"], r["error"]) for r in rows]

    async def pending_outbox(self) -> list[asyncpg.Record]:
        """Outbox rows not yet delivered to HaloPSA (and not refused), oldest first."""
        rows: list[asyncpg.Record] = await self.pool.fetch(
            "SELECT * FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL ORDER BY id"
        )
        return rows

    async def wait_written_back(self, timeout_s: float = 15.0) -> None:
        """Every outbox row delivered to HaloPSA (none refused)."""

        async def drained() -> bool:
            return not await self.pending_outbox()

        await self.wait_for("the outbox to drain to HaloPSA", drained, timeout_s)
        failed = await self.pool.fetch("SELECT id, kind, last_error FROM outbox WHERE failed_at IS NOT NULL")
        assert failed == [], f"HaloPSA refused outbox rows: {failed}"

    async def wait_card(self, count: int = 1, timeout_s: float = 15.0) -> dict[str, Any]:
        async def posted() -> dict[str, Any] | None:
            return self.fakes.teams.cards[count - 1] if len(self.fakes.teams.cards) >= count else None

        return await self.wait_for(f"Teams card #{count}", posted, timeout_s)

    async def wait_sms(self, to: str, count: int = 1, timeout_s: float = 15.0) -> dict[str, Any]:
        async def sent() -> dict[str, Any] | None:
            mine = [m for m in self.fakes.twilio.messages if m.get("To") == to]
            return mine[count - 1] if len(mine) >= count else None

        return await self.wait_for(f"SMS #{count} to {to}", sent, timeout_s)

    # --- HaloPSA ---------------------------------------------------------------------------------------

    async def send_webhook(self, ticket_id: int, event: str = "ticket_created") -> Any:
        """POST a HaloPSA "small object" webhook with Basic auth, as Halo does; returns the JSON answer."""
        return await self.post_webhook(event, halo_delivery(ticket_id, event))

    async def post_webhook(self, event: str, body: Any) -> Any:
        auth = base64.b64encode(f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}".encode()).decode()
        async with self.http.post(
            f"{self.url}/webhooks/halopsa/{event}", json=body, headers={"Authorization": f"Basic {auth}"}
        ) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    def halo_notes(self, ticket_id: int) -> list[str]:
        notes = [n for n in self.fakes.halo.notes if int(n["ticket_id"]) == ticket_id]
        assert all(n["hiddenfromuser"] is True for n in notes), "a TicketPilot note is visible to the user"
        return [str(n["note"]) for n in notes]

    def halo_fields(self, ticket_id: int) -> dict[str, str]:
        fields = self.fakes.halo.tickets[ticket_id]["customfields"]
        return {str(f.get("name")): str(f.get("value")) for f in fields}

    # --- the manager -----------------------------------------------------------------------------------

    async def open_card_link(self, card: dict[str, Any], title: str) -> tuple[str, dict[str, str]]:
        """GET the card's ``title`` button link like a browser; returns (POST URL, form fields) of the page."""
        url = next(a["url"] for a in card["actions"] if a.get("title") == title)
        assert url.startswith(f"{self.url}/approvals/"), url
        async with self.http.get(url) as page:
            assert page.status == 200, await page.text()
            form = _Form()
            form.feed(await page.text())
        assert form.action is not None, "the approval page has no form"
        return urljoin(url, form.action), form.fields

    async def confirm(self, post_url: str, fields: dict[str, str]) -> tuple[int, str]:
        """Press the confirm button (POST the page's form)."""
        async with self.http.post(post_url, data=fields) as resp:
            return resp.status, await resp.text()

    async def reply_sms(self, from_number: str, body: str, *, signature: str | None = None) -> int:
        """Twilio's inbound-SMS webhook for a reply from ``from_number``, signed with the auth token."""
        url = f"{self.url}/webhooks/twilio/sms_response"
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT_SID,
            "From": from_number,
            "To": FROM_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        signed = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature if signature is not None else signed}
        async with self.http.post(url, data=params, headers=headers) as resp:
            await resp.read()
            return resp.status

    # --- audit: where does a secret appear? ------------------------------------------------------------

    async def database_dump(self) -> list[tuple[str, str]]:
        """(table, row as JSON) for every row of every table of the public schema."""
        async with self.pool.acquire() as conn:
            tables = [
                r["tablename"]
                for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
                )
            ]
            rows: list[tuple[str, str]] = []
            for table in tables:
                for r in await conn.fetch(f'SELECT row_to_json(t)::text AS j FROM "{table}" t'):
                    rows.append((table, str(r["j"])))
        return rows

    async def api_views(self, ticket_id: int) -> list[tuple[str, str]]:
        """What an operator sees through the API and dashboard for the ticket, and the metrics."""
        bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        views: list[tuple[str, str]] = []
        paths = [f"/api/v1/orchestration/execution/{ticket_id}", "/metrics"]
        execution = await self.execution(ticket_id)
        if execution is not None:
            paths.append(f"/api/v1/dashboard/executions/{execution['execution_id']}")
        for path in paths:
            async with self.http.get(f"{self.url}{path}", headers=bearer) as resp:
                assert resp.status == 200, f"{path}: {resp.status}"
                views.append((f"api GET {path}", await resp.text()))
        return views

    def fake_traffic(self) -> list[tuple[str, str]]:
        """Every request every fake received: body (raw and form-decoded), query and headers."""
        traffic: list[tuple[str, str]] = []
        for fake in self.fakes.all():
            for r in fake.requests:
                where = f"{fake.name} {r.method} {r.path}"
                text = r.text()
                traffic.append((f"{where} body", text + "\n" + unquote_plus(text)))
                traffic.append((f"{where} path", r.path))
                traffic.append((f"{where} query", json.dumps(r.query)))
                traffic.append((f"{where} headers", json.dumps(r.headers)))
        return traffic

    async def places_of(self, secret: str, *, ticket_id: int, whole_token: bool = False) -> set[str]:
        """Where ``secret`` appears: log lines, table rows, API answers, requests received by the fakes.

        ``whole_token``: only where it stands alone (a six-digit code also occurs by chance inside
        timestamps, hashes and ids)."""
        haystack = [("log", line) for line in self.logs.getvalue().splitlines()]
        haystack += [(f"db {table}", row) for table, row in await self.database_dump()]
        haystack += await self.api_views(ticket_id)
        haystack += self.fake_traffic()
        if whole_token:
            pattern = re.compile(rf"(?<![\w.]){re.escape(secret)}(?![\w.])")
            return {where for where, text in haystack if pattern.search(text)}
        return {where for where, text in haystack if secret in text}


ServiceFactory = Callable[..., contextlib.AbstractAsyncContextManager[LiveService]]
"""``live_service`` with the test's fakes, database, Redis and folder already given."""

TWILIO_MESSAGES_BODY = f"twilio POST /2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json body"
"""Where a credential may appear: the body of a message create request to Twilio, and nowhere else."""


@contextlib.asynccontextmanager
async def live_service(
    fakes: VendorFakes,
    *,
    db_url: str,
    redis_url: str,
    tmp_path: Path,
    playbook_steps: dict[str, dict[str, dict[str, Any]]] | None = None,
    playbook_fields: dict[str, dict[str, Any]] | None = None,
    **sections: dict[str, Any],
) -> AsyncIterator[LiveService]:
    """The service, live against ``fakes``, serving on a loopback port that is also its public URL."""
    port = free_port()
    playbooks = copy_playbooks(tmp_path / "playbooks", playbook_steps or {}, playbook_fields)
    settings = live_settings(fakes, port=port, playbooks_dir=playbooks, redis_url=redis_url, **sections)
    logs = io.StringIO()
    with captured_logs(logs):
        services = await start_services(settings, db_url)
        try:
            runner = web.AppRunner(build_app(services), access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, "127.0.0.1", port).start()
                async with aiohttp.ClientSession() as http:
                    yield LiveService(settings, services, fakes, http, logs)
            except BaseException:
                # pytest shows a failing test's stdout: the service's own story of what went wrong.
                print("--- service log (tail) ---\n" + logs.getvalue()[-30_000:])
                raise
            finally:
                await runner.cleanup()
        finally:
            await services.close()


@contextlib.asynccontextmanager
async def started_fakes(monkeypatch: Any) -> AsyncIterator[VendorFakes]:
    """Every vendor fake, started and trusted by the clients (msal through ``REQUESTS_CA_BUNDLE``; Twilio
    without region or edge overrides); stopped on exit, and every request each saw must have matched its spec."""
    all_fakes = VendorFakes.create()
    await all_fakes.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(all_fakes.graph.ca_file))
    for name in ("CURL_CA_BUNDLE", "TWILIO_REGION", "TWILIO_EDGE"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield all_fakes
    finally:
        await all_fakes.stop()
    for fake in all_fakes.all():
        assert fake.spec_errors == [], f"{fake.name}: {fake.spec_errors}"
