"""Helpers shared by the step-service, sandbox and approval tests (no tests of its own).

A harness wires the real pieces — sandbox adapters, the approval desk on a real PostgreSQL, the four
step services — around a clock the test moves and a signal sink that records what the engine would get.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from ticketpilot.adapters.base import AdapterSet
from ticketpilot.adapters.sandbox import SandboxCards, SandboxLedger, build_sandbox_adapters
from ticketpilot.config import Settings
from ticketpilot.services import ApprovalDesk, StepDeps, build_step_services, step_deps_from_settings
from ticketpilot.steps import StepCall, StepService

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


class FakeClock:
    """``clock()`` returns the test's idea of now; ``advance(s)`` moves it."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> datetime:
        self.current += timedelta(seconds=seconds)
        return self.current


@dataclass
class SignalCall:
    execution_id: UUID
    kind: str
    dedupe_key: str
    payload: dict[str, Any]


@dataclass
class RecordingSink:
    """Stands in for ``engine.deliver_signal``: records every call, dedupes by key like the engine."""

    calls: list[SignalCall] = field(default_factory=list)
    fail_with: Exception | None = None

    async def __call__(self, execution_id: UUID, kind: str, dedupe_key: str, payload: dict[str, Any]) -> bool:
        if self.fail_with is not None:
            raise self.fail_with
        duplicate = any(c.execution_id == execution_id and c.dedupe_key == dedupe_key for c in self.calls)
        self.calls.append(SignalCall(execution_id, kind, dedupe_key, dict(payload)))
        return not duplicate


class RecordingSleep:
    """An injected ``sleep`` that returns at once and remembers how long it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def make_execution(pool: asyncpg.Pool, ticket_id: int = 4242) -> UUID:
    """A ``playbook_executions`` row for approval requests to point at (foreign key)."""
    execution_id = uuid.uuid4()
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO playbooks (playbook_id, content_hash, version, yaml_text)"
            " VALUES ('password_reset', 'h1', '1.0.0', 'x') ON CONFLICT DO NOTHING"
        )
        await conn.execute(
            "INSERT INTO playbook_executions (execution_id, ticket_id, playbook_id, playbook_hash,"
            " playbook_version, state) VALUES ($1, $2, 'password_reset', 'h1', '1.0.0', 'WAITING')",
            execution_id,
            ticket_id,
        )
    return execution_id


def make_call(
    execution_id: UUID,
    clock: FakeClock,
    *,
    email: str = "jane.doe@contoso.example",
    step_id: str = "verify_manager",
    attempt: int = 1,
    timeout_s: float = 1800.0,
    params: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    ticket_id: int = 4242,
) -> StepCall:
    now = clock()
    return StepCall(
        execution_id=execution_id,
        ticket_id=ticket_id,
        playbook_id="password_reset",
        step_id=step_id,
        attempt=attempt,
        params=params or {},
        context={"user_email": email, **(context or {})},
        deadline=now + timedelta(seconds=timeout_s),
        started_at=now,
        secrets=secrets or {},
    )


@dataclass
class Harness:
    settings: Settings
    clock: FakeClock
    sleep: RecordingSleep
    ledger: SandboxLedger
    sink: RecordingSink
    desk: ApprovalDesk
    adapters: AdapterSet
    deps: StepDeps
    steps: dict[str, StepService]

    @property
    def cards(self) -> SandboxCards:
        assert isinstance(self.adapters.cards, SandboxCards)
        return self.adapters.cards

    def ledger_json(self) -> str:
        return json.dumps([e.as_dict() for e in self.ledger.entries()], default=str)


def build_harness(
    pool: asyncpg.Pool | None, settings: Settings | None = None, **deps_overrides: Any
) -> Harness:
    settings = settings or Settings(teams={"approval_signing_key": "test-signing-key"})
    clock = FakeClock()
    sleep = RecordingSleep()
    ledger = SandboxLedger(clock=clock)
    sink = RecordingSink()
    desk = ApprovalDesk(
        pool,  # type: ignore[arg-type]  # None: a test that never touches approvals
        signing_key=settings.teams.approval_signing_key.get_secret_value().encode(),
        sink=sink,
        public_url=settings.http.public_url,
        twilio_auth_token="test-twilio-token",
        clock=clock,
    )
    adapters = build_sandbox_adapters(settings, ledger, desk, sleep=sleep, clock=clock)
    deps = step_deps_from_settings(settings, desk, clock=clock)
    if deps_overrides:
        deps = StepDeps(**{**deps.__dict__, **deps_overrides})
    return Harness(
        settings, clock, sleep, ledger, sink, desk, adapters, deps, build_step_services(adapters, deps)
    )
