"""Test kit for the engine: small fake step services, playbooks stored as the registry would store them,
and helpers to build engines on a test database. The sandbox services are tested elsewhere."""

from __future__ import annotations

import asyncio
import hashlib
import io
import secrets as pysecrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
from ruamel.yaml import YAML

from ticketpilot.config import EngineConfig
from ticketpilot.engine import Engine, ManualClock
from ticketpilot.engine.clock import Clock
from ticketpilot.playbooks.model import Playbook
from ticketpilot.steps import (
    Failed,
    Signal,
    StepCall,
    StepEvent,
    StepOutcome,
    Succeeded,
    Waiting,
    Wake,
)


@dataclass
class FakeService:
    """Records every call; ``behaviour(call, attempt_index)`` decides the outcome of ``start``."""

    name: str
    rerun_safe: bool = True
    requires_secrets: tuple[str, ...] = ()
    produces_secrets: tuple[str, ...] = ()
    calls: list[StepCall] = field(default_factory=list)
    resumes: list[tuple[StepCall, StepEvent]] = field(default_factory=list)

    async def start(self, call: StepCall) -> StepOutcome:
        self.calls.append(call)
        return await self.behave(call)

    async def behave(self, call: StepCall) -> StepOutcome:
        return Succeeded(summary=f"{self.name} done")

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        self.resumes.append((call, event))
        return Failed(f"{self.name} did not expect {event!r}")


@dataclass
class Noop(FakeService):
    pass


@dataclass
class Flaky(FakeService):
    """Fails ``failures`` times (retryable or not), then succeeds."""

    failures: int = 1
    retryable: bool = True
    retry_after: float | None = None

    async def behave(self, call: StepCall) -> StepOutcome:
        if len(self.calls) <= self.failures:
            return Failed(
                f"transient {len(self.calls)}", retryable=self.retryable, retry_after=self.retry_after
            )
        return Succeeded(summary="ok after retries")


@dataclass
class Approval(FakeService):
    """Parks until ``approve`` (success) or ``deny`` (failure); optional wake-up after ``wake_after_s``."""

    wake_after_s: float | None = None
    wakes: int = 0

    async def behave(self, call: StepCall) -> StepOutcome:
        wake = call.started_at + timedelta(seconds=self.wake_after_s) if self.wake_after_s else None
        return Waiting(signals=frozenset({"approve", "deny"}), wake_at=wake, outputs={"request": "sent"})

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        self.resumes.append((call, event))
        if isinstance(event, Wake):
            self.wakes += 1
            return Waiting(signals=frozenset({"approve", "deny"}), outputs={"reminded": self.wakes})
        assert isinstance(event, Signal)
        if event.kind == "approve":
            return Succeeded(summary=f"approved by {event.payload.get('by', '?')}")
        return Failed("denied by the approver")


@dataclass
class CreateCredential(FakeService):
    """Produces the secret ``credential`` (a new value per call); leaks it into its summary on purpose, to
    prove the engine scrubs it before anything is persisted."""

    produces_secrets: tuple[str, ...] = ("credential",)
    created: list[str] = field(default_factory=list)

    async def behave(self, call: StepCall) -> StepOutcome:
        value = "TAP-" + pysecrets.token_urlsafe(12)
        self.created.append(value)
        return Succeeded(secrets={"credential": value}, summary=f"created {value}", outputs={"kind": "tap"})


@dataclass
class DeliverCredential(FakeService):
    """Needs ``credential``; not safe to re-run (an SMS cannot be unsent)."""

    rerun_safe: bool = False
    requires_secrets: tuple[str, ...] = ("credential",)
    delivered: list[str] = field(default_factory=list)

    async def behave(self, call: StepCall) -> StepOutcome:
        self.delivered.append(call.secrets["credential"])
        return Succeeded(summary="delivered to the phone on record")


@dataclass
class Slow(FakeService):
    """Blocks until ``release`` is set (or forever); counts cancellations."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: int = 0

    async def behave(self, call: StepCall) -> StepOutcome:
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return Succeeded(summary="slow done")


@dataclass
class Raising(FakeService):
    async def behave(self, call: StepCall) -> StepOutcome:
        raise RuntimeError("boom inside the service")


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# ---- playbooks ---------------------------------------------------------------------------------------------

_yaml = YAML(typ="safe")


def playbook_yaml(
    steps: list[dict[str, Any]], *, playbook_id: str = "test_pb", version: str = "1.0.0"
) -> str:
    doc = {
        "id": playbook_id,
        "name": "Test playbook",
        "version": version,
        "triggers": {"sub_categories": ["PASSWORD_RESET"]},
        "steps": steps,
    }
    out = io.StringIO()
    YAML().dump(doc, out)
    return out.getvalue()


def parse_playbook(yaml_text: str) -> Playbook:
    return Playbook.model_validate(_yaml.load(yaml_text))


def content_hash(yaml_text: str) -> str:
    return sha(yaml_text)


async def store_playbook(pool: asyncpg.Pool, yaml_text: str) -> tuple[Playbook, str]:
    """Insert a version into ``playbooks`` (as the registry does) and return it with its hash."""
    playbook = parse_playbook(yaml_text)
    digest = content_hash(yaml_text)
    await pool.execute(
        "INSERT INTO playbooks (playbook_id, content_hash, version, yaml_text) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING",
        playbook.id,
        digest,
        playbook.version,
        yaml_text,
    )
    return playbook, digest


def db_loader(pool: asyncpg.Pool) -> Callable[[str, str], Awaitable[Playbook]]:
    """``load_definition`` reading the pinned version from ``playbooks`` (as the registry will)."""

    async def load(playbook_id: str, digest: str) -> Playbook:
        text = await pool.fetchval(
            "SELECT yaml_text FROM playbooks WHERE playbook_id = $1 AND content_hash = $2",
            playbook_id,
            digest,
        )
        if text is None:
            raise LookupError(f"no playbook {playbook_id}@{digest}")
        return parse_playbook(text)

    return load


def step(
    step_id: str,
    service: str | None = None,
    *,
    on_success: str | None = None,
    on_failure: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    d: dict[str, Any] = {"id": step_id}
    if service:
        d["service"] = service
    if on_success:
        d["on_success"] = on_success
    if on_failure:
        d["on_failure"] = on_failure
    d.update(extra)
    return d


RESOLVED = {"id": "resolved", "terminal": "RESOLVED"}
ESCALATE = {"id": "escalate", "terminal": "ESCALATED", "reason": "Needs a technician."}

PASSWORD_RESET_STEPS = [
    step("verify", "verify", on_success="create_credential", on_failure="escalate", timeout="120s"),
    step(
        "create_credential",
        "create",
        on_success="deliver",
        on_failure="escalate",
        timeout="30s",
        retry={"max_attempts": 3, "backoff": "exponential", "initial": "1s", "max": "5s"},
    ),
    step("deliver", "deliver", on_success="resolved", on_failure="escalate", timeout="60s"),
    RESOLVED,
    ESCALATE,
]


# ---- engines -------------------------------------------------------------------------------------------------


def engine_config(**overrides: Any) -> EngineConfig:
    base: dict[str, Any] = {"lease_s": 30.0, "lease_renew_every_s": 10.0, "commit_linger_ms": 1.0}
    base.update(overrides)
    return EngineConfig(**base)


def make_engine(
    pool: asyncpg.Pool,
    services: Mapping[str, Any],
    *,
    clock: Clock | None = None,
    owner_id: str = "test-owner",
    **config: Any,
) -> Engine:
    import random

    return Engine(
        pool,
        services,
        db_loader(pool),
        clock=clock or ManualClock(),
        config=engine_config(**config),
        owner_id=owner_id,
        rng=random.Random(7),
    )


async def eventually(
    predicate: Callable[[], Awaitable[bool]] | Callable[[], bool], within_s: float = 10.0, what: str = ""
) -> None:
    """Poll (real time, short) until ``predicate`` holds: the engine commits asynchronously."""
    deadline = time.monotonic() + within_s
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


async def execution_row(pool: asyncpg.Pool, execution_id: UUID) -> Any:
    return await pool.fetchrow("SELECT * FROM playbook_executions WHERE execution_id = $1", execution_id)


async def state_of(pool: asyncpg.Pool, execution_id: UUID) -> str:
    return str(
        await pool.fetchval("SELECT state FROM playbook_executions WHERE execution_id = $1", execution_id)
    )


async def step_rows(pool: asyncpg.Pool, execution_id: UUID) -> list[Any]:
    return list(
        await pool.fetch(
            "SELECT * FROM playbook_step_executions WHERE execution_id = $1 ORDER BY seq", execution_id
        )
    )


async def dump_all_tables(conn: asyncpg.Connection | asyncpg.Pool) -> str:
    """Every row of every table as JSON text: what a pg_dump would reveal."""
    tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    parts: list[str] = []
    for t in tables:
        rows = await conn.fetch(f'SELECT row_to_json(x)::text AS j FROM "{t["tablename"]}" x')
        parts.extend(r["j"] for r in rows)
    return "\n".join(parts)
