"""Small in-test fakes for the gate's collaborators, and a harness that wires the real gate around them.

The fakes speak the interfaces of ``ticketpilot.adapters.base`` and the protocols in ``ticketpilot.gate``;
the database is always the real PostgreSQL of the ``pool`` fixture.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
from pydantic import SecretStr

from ticketpilot.adapters.base import (
    AdapterError,
    AmbiguousUser,
    DirectoryUser,
    NotFound,
    PhoneMethod,
    PrivilegeCheck,
    SecurityInfoChange,
    Ticket,
    UserRisk,
)
from ticketpilot.config import AdaptersConfig, HalopsaConfig, HttpConfig, PolicyConfig, Settings
from ticketpilot.gate.classification import Classification, ClassifierResult, RiskFlag, TicketText
from ticketpilot.gate.dedupe import RedisDedupe
from ticketpilot.gate.enrichment import RequesterResolver
from ticketpilot.gate.facts import Candidate
from ticketpilot.gate.inbox_worker import InboxWorker
from ticketpilot.gate.inbox_writer import InboxWriter
from ticketpilot.gate.intake import WebhookIntake
from ticketpilot.gate.outbox import OutboxWorker
from ticketpilot.gate.policy import RuntimePolicy
from ticketpilot.gate.service import Gate
from ticketpilot.http.auth import SessionStore
from ticketpilot.playbooks.model import Playbook

ADMIN_TOKEN = "test-admin-token"
WEBHOOK_USER = "halo"
WEBHOOK_PASSWORD = "webhook-password"
PATH_SECRET = "s3cret-path-segment"


# --- playbooks -----------------------------------------------------------------------------------------


def make_playbook(
    playbook_id: str = "password_reset",
    *,
    sub_categories: tuple[str, ...] = ("PASSWORD_RESET", "ACCOUNT_LOCKOUT"),
    mode: str = "active",
    threshold: float = 0.8,
    sms: bool = True,
    enabled: bool = True,
) -> Playbook:
    steps: list[dict[str, Any]] = [
        {
            "id": "create_credential",
            "service": "executor.reset_password",
            "on_success": "deliver" if sms else "done",
            "on_failure": "escalate",
        },
    ]
    if sms:
        steps.append(
            {"id": "deliver", "service": "delivery.sms", "on_success": "done", "on_failure": "escalate"}
        )
    steps += [{"id": "done", "terminal": "RESOLVED"}, {"id": "escalate", "terminal": "ESCALATED"}]
    return Playbook.model_validate(
        {
            "id": playbook_id,
            "name": playbook_id.replace("_", " "),
            "version": "1.0.0",
            "enabled": enabled,
            "mode": mode,
            "confidence_threshold": threshold,
            "triggers": {"sub_categories": list(sub_categories)},
            "steps": steps,
        }
    )


def candidate(playbook: Playbook | None = None, **kwargs: Any) -> Candidate:
    playbook = playbook or make_playbook()
    return Candidate(
        playbook=playbook, content_hash=kwargs.pop("content_hash", f"hash-{playbook.id}"), **kwargs
    )


class FakeRegistry:
    """The registry's read interface over a fixed list of candidates."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        self.candidates = list(candidates)

    def for_sub_category(self, sub_category: str) -> list[Candidate]:
        return [
            c
            for c in self.candidates
            if sub_category in c.playbook.triggers.sub_categories and c.enabled and c.playbook.enabled
        ]

    def loaded(self) -> list[Candidate]:
        return list(self.candidates)

    def active(self, playbook_id: str) -> Candidate | None:
        return next((c for c in self.candidates if c.playbook.id == playbook_id), None)


# --- classifier ----------------------------------------------------------------------------------------


def classification(
    sub_category: str = "PASSWORD_RESET",
    *,
    confidence: float = 0.95,
    own_account: bool = True,
    risk_flags: tuple[RiskFlag, ...] = (),
    category: str = "REQUEST",
    reasoning: str = "the requester forgot their password",
) -> ClassifierResult:
    return ClassifierResult(
        classification=Classification(
            category=category,
            sub_category=sub_category,
            confidence=confidence,
            reasoning=reasoning,
            own_account=own_account,
            risk_flags=risk_flags,
        ),
        classifier="fake",
        classifier_version="1",
    )


class FakeClassifier:
    """Answers with ``answer`` (a result, an exception to raise, or a function of the ticket text)."""

    name = "fake"
    version = "1"

    def __init__(self, answer: Any = None, *, delay_s: float = 0.0) -> None:
        self.answer = answer if answer is not None else classification()
        self.delay_s = delay_s
        self.seen: list[TicketText] = []

    async def classify(self, ticket: TicketText) -> ClassifierResult:
        self.seen.append(ticket)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        answer = self.answer(ticket) if callable(self.answer) else self.answer
        if isinstance(answer, BaseException):
            raise answer
        assert isinstance(answer, ClassifierResult)
        return answer


# --- directory -----------------------------------------------------------------------------------------


def user_id_for(email: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, email.lower()))


class FakeDirectory:
    """Any address is a user; ``disabled*`` → disabled, ``admin*`` → privileged, ``nophone*`` → no mobile,
    ``ghost*`` → not found, ``twin*`` → ambiguous, ``risky*`` → Identity Protection risk high, ``newphone*``
    → security info registered a day ago. ``fail_privilege_check`` makes the check raise;
    ``identity_failure`` is raised by both identity-signal reads."""

    def __init__(self, *, groups: dict[str, tuple[str, ...]] | None = None) -> None:
        self.groups = groups or {}
        self.fail_privilege_check = False
        self.identity_failure: Exception | None = None
        self.down = False
        self.calls: list[tuple[str, str]] = []
        self._known: set[str] = set()

    def user(self, email: str) -> DirectoryUser:
        local = email.split("@", 1)[0].lower()
        phones = () if local.startswith("nophone") else (PhoneMethod(number="+447700900123", kind="mobile"),)
        return DirectoryUser(
            id=user_id_for(email),
            user_principal_name=email.lower(),
            mail=email.lower(),
            display_name=local,
            account_enabled=not local.startswith("disabled"),
            department="Sales",
            manager_id=user_id_for("manager@" + email.split("@", 1)[-1]),
            phones=phones,
            group_ids=self.groups.get(email.lower(), ()),
        )

    async def resolve_user(self, *, azure_oid: str = "", email: str = "") -> DirectoryUser:
        self.calls.append(("resolve_user", azure_oid or email))
        if self.down:
            raise AdapterError("fake-directory", "graph unavailable", retryable=True, status=503)
        if azure_oid:
            for address in self._known:
                if user_id_for(address) == azure_oid:
                    return self.user(address)
            raise NotFound("fake-directory", f"no user {azure_oid}")
        local = email.split("@", 1)[0].lower()
        if local.startswith("ghost"):
            raise NotFound("fake-directory", f"no user {email}")
        if local.startswith("twin"):
            raise AmbiguousUser("fake-directory", f"two users for {email}")
        self._known.add(email.lower())
        return self.user(email)

    async def get_manager(self, user_id: str) -> DirectoryUser | None:
        return None

    async def check_privileged(self, user_id: str) -> PrivilegeCheck:
        self.calls.append(("check_privileged", user_id))
        if self.fail_privilege_check:
            raise AdapterError("fake-directory", "roles endpoint failed", retryable=True, status=500)
        for address in self._known:
            if user_id_for(address) == user_id and address.startswith("admin"):
                return PrivilegeCheck(privileged=True, roles=("direct:Global Administrator",))
        return PrivilegeCheck(privileged=False)

    def _address(self, user_id: str) -> str:
        return next((a for a in self._known if user_id_for(a) == user_id), "")

    async def get_user_risk(self, user_id: str) -> UserRisk:
        self.calls.append(("get_user_risk", user_id))
        if self.identity_failure is not None:
            raise self.identity_failure
        if self._address(user_id).startswith("risky"):
            return UserRisk(risk_state="atRisk", risk_level="high")
        return UserRisk()

    async def list_security_info_changes(
        self, user_id: str, *, since: datetime
    ) -> tuple[SecurityInfoChange, ...]:
        self.calls.append(("list_security_info_changes", user_id))
        if self.identity_failure is not None:
            raise self.identity_failure
        at = datetime.now(UTC) - timedelta(days=1)
        if self._address(user_id).startswith("newphone") and at >= since:
            return (SecurityInfoChange(activity="User registered security info", at=at),)
        return ()

    def know(self, email: str) -> str:
        self._known.add(email.lower())
        return user_id_for(email)


# --- HaloPSA -------------------------------------------------------------------------------------------


class FakeTickets:
    """An in-memory HaloPSA: ``down`` makes every call fail with a retryable AdapterError."""

    def __init__(self) -> None:
        self.tickets: dict[int, Ticket] = {}
        self.writes: list[tuple[str, int, Any]] = []
        self.down = False
        self.refuse = False
        self.reads = 0

    def seed(self, ticket: Ticket) -> None:
        self.tickets[ticket.id] = ticket

    def _check(self) -> None:
        if self.down:
            raise AdapterError("fake-halopsa", "503 Service Unavailable", retryable=True, status=503)
        if self.refuse:
            raise AdapterError("fake-halopsa", "400 An Outcome must be entered", retryable=False, status=400)

    async def get_ticket(self, ticket_id: int) -> Ticket:
        self.reads += 1
        self._check()
        if ticket_id not in self.tickets:
            raise NotFound("fake-halopsa", f"ticket {ticket_id}")
        return self.tickets[ticket_id]

    async def update_ticket(
        self,
        ticket_id: int,
        *,
        custom_fields: dict[str, str] | None = None,
        status_id: int | None = None,
        **assignment: Any,
    ) -> None:
        self._check()
        fields = {"custom_fields": custom_fields, "status_id": status_id}
        fields.update({k: v for k, v in assignment.items() if v is not None})
        self.writes.append(("fields", ticket_id, fields))

    async def add_note(self, ticket_id: int, note: str, *, private: bool = True) -> None:
        self._check()
        self.writes.append(("note", ticket_id, note))

    async def list_tickets_since(self, days: int) -> list[Ticket]:
        return list(self.tickets.values())


# --- engine --------------------------------------------------------------------------------------------


@dataclass
class FakeEngine:
    """Records starts and cancels; keeps ``playbook_executions`` rows like the real engine would.

    ``before_start`` runs first on every start (e.g. to check the decision row is already committed).
    """

    pool: asyncpg.Pool
    before_start: Callable[[int, dict[str, Any]], Awaitable[None]] | None = None
    fail_next_start: bool = False
    starts: list[dict[str, Any]] = field(default_factory=list)
    cancels: list[tuple[uuid.UUID, str]] = field(default_factory=list)

    async def start_execution(
        self, ticket_id: int, playbook: Playbook, content_hash: str, context: dict[str, Any]
    ) -> tuple[uuid.UUID, bool]:
        if self.before_start is not None:
            await self.before_start(ticket_id, context)
        if self.fail_next_start:
            self.fail_next_start = False
            raise ConnectionError("engine store unavailable")
        self.starts.append({"ticket_id": ticket_id, "playbook": playbook.id, "context": dict(context)})
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO playbooks (playbook_id, content_hash, version, yaml_text)"
                " VALUES ($1, $2, $3, '') ON CONFLICT DO NOTHING",
                playbook.id,
                content_hash,
                playbook.version,
            )
            new_id = uuid.uuid4()
            row = await conn.fetchrow(
                "INSERT INTO playbook_executions (execution_id, ticket_id, playbook_id, playbook_hash,"
                " playbook_version, state, context) VALUES ($1, $2, $3, $4, $5, 'RUNNING', $6::text::jsonb)"
                " ON CONFLICT (ticket_id, playbook_id) DO NOTHING RETURNING execution_id",
                new_id,
                ticket_id,
                playbook.id,
                content_hash,
                playbook.version,
                json.dumps(context),
            )
            if row is None:
                existing = await conn.fetchval(
                    "SELECT execution_id FROM playbook_executions WHERE ticket_id = $1 AND playbook_id = $2",
                    ticket_id,
                    playbook.id,
                )
                return existing, False
        return new_id, True

    async def cancel(self, execution_id: uuid.UUID, reason: str) -> None:
        self.cancels.append((execution_id, reason))
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE playbook_executions SET state = 'CANCELLED', cancel_reason = $2"
                " WHERE execution_id = $1",
                execution_id,
                reason,
            )


# --- clock ---------------------------------------------------------------------------------------------


class WallClock:
    """Real UTC time plus an offset that tests move forward (so database defaults and it agree)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    def set(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)


# --- harness -------------------------------------------------------------------------------------------


def settings(*, path_secret: str = PATH_SECRET, **policy: Any) -> Settings:
    """Sandbox settings with known webhook and admin credentials (``live_settings`` flips the mode)."""
    return Settings(
        http=HttpConfig(admin_token=SecretStr(ADMIN_TOKEN)),
        halopsa=HalopsaConfig(
            webhook_username=WEBHOOK_USER,
            webhook_password=SecretStr(WEBHOOK_PASSWORD),
            webhook_path_secret=SecretStr(path_secret),
        ),
        policy=PolicyConfig(**policy),
    )


def live_settings(base: Settings) -> Settings:
    """``base`` with ``adapters.mode = "live"`` (without the live credentials: for HTTP-level tests only)."""
    return base.model_copy(update={"adapters": AdaptersConfig(mode="live")})


@dataclass
class Harness:
    """The real gate, intake, inbox worker and outbox worker around fakes, on a real database."""

    pool: asyncpg.Pool
    settings: Settings
    classifier: FakeClassifier
    directory: FakeDirectory
    registry: FakeRegistry
    tickets: FakeTickets
    engine: FakeEngine
    clock: WallClock
    gate: Gate
    writer: InboxWriter
    dedupe: RedisDedupe
    intake: WebhookIntake
    worker: InboxWorker
    outbox: OutboxWorker
    services: Any

    async def close(self) -> None:
        await self.writer.stop()
        await self.dedupe.close()

    async def count(self, sql: str, *args: Any) -> int:
        async with self.pool.acquire() as conn:
            return int(await conn.fetchval(sql, *args))


def build_harness(
    pool: asyncpg.Pool,
    *,
    redis: Any = None,
    candidates: Sequence[Candidate] | None = None,
    classifier: FakeClassifier | None = None,
    sandbox_seed: bool = False,
    settings_obj: Settings | None = None,
    classify_timeout_s: float = 2.0,
    **policy: Any,
) -> Harness:
    cfg = settings_obj or settings(**policy)
    clock = WallClock()
    classifier = classifier or FakeClassifier()
    directory = FakeDirectory()
    registry = FakeRegistry(candidates if candidates is not None else [candidate()])
    tickets = FakeTickets()
    engine = FakeEngine(pool)
    outbox = OutboxWorker(pool, tickets, cfg.halopsa, clock=clock)
    gate = Gate(
        pool=pool,
        classifier=classifier,
        resolver=RequesterResolver(directory, ttl_s=cfg.entra.cache_ttl_s),
        registry=registry,
        policy=RuntimePolicy(cfg.policy, clock=clock),
        engine=engine,
        taxonomy=cfg.llm.taxonomy,
        outbox_wake=outbox.wake,
        classify_timeout_s=classify_timeout_s,
    )
    writer = InboxWriter(pool)
    dedupe = RedisDedupe(redis, ttl_s=cfg.redis.dedupe_ttl_s)
    intake = WebhookIntake(writer, dedupe, sandbox_tickets=tickets if sandbox_seed else None)
    worker = InboxWorker(pool, tickets, gate, engine, cfg.halopsa, clock=clock)
    intake.set_listener(worker.wake)
    services = SimpleNamespace(
        settings=cfg,
        pool=pool,
        sessions=SessionStore(ttl_s=60),
        extras={"intake": intake, "gate": gate},
    )
    return Harness(
        pool,
        cfg,
        classifier,
        directory,
        registry,
        tickets,
        engine,
        clock,
        gate,
        writer,
        dedupe,
        intake,
        worker,
        outbox,
        services,
    )


def ticket(ticket_id: int = 4242, *, email: str = "alice@contoso.com", **kwargs: Any) -> Ticket:
    return Ticket(
        id=ticket_id,
        summary=kwargs.pop("summary", "Forgot my password"),
        details=kwargs.pop("details", "I can't log in, I forgot my password. Can you reset it?"),
        user_email=email,
        **kwargs,
    )


def make_app(services: Any) -> Any:
    """An aiohttp app with the gate's routes (webhooks, gate API) around ``services``."""
    from aiohttp import web

    from ticketpilot.http import gate_api, webhooks
    from ticketpilot.http.context import SERVICES
    from ticketpilot.http.errors import error_middleware

    max_body = services.settings.http.max_body_bytes
    app = web.Application(middlewares=[error_middleware], client_max_size=max_body)
    app[SERVICES] = services
    app.router.add_routes(webhooks.routes)
    app.router.add_routes(gate_api.routes)
    return app


def basic_auth(user: str = WEBHOOK_USER, password: str = WEBHOOK_PASSWORD) -> dict[str, str]:
    import base64

    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def halo_delivery(ticket_id: int | None, *, delivery_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A HaloPSA webhook object in the shape of vendor-apis.md §1.3 (trimmed)."""
    body: dict[str, Any] = {
        "id": delivery_id or str(uuid.uuid4()),
        "webhook_id": "5a0e1c6e-0000-4000-8000-000000000001",
        "notification_id": 41,
        "escmsg_id": str(uuid.uuid4()),
        "event": "New Ticket Logged",
        "message": f"Ticket ID: {ticket_id}",
        "agent_id": 3,
        "timestamp": "2026-09-25T06:41:08.79Z",
    }
    if ticket_id is not None:
        body["object_id"] = ticket_id
    body.update(extra)
    return body
