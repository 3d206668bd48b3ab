"""A Temporary Access Pass created but never delivered does not stay valid (issue 12 item 4, DESIGN §4).

When an execution escalates, fails or is cancelled after ``create_credential`` and before a delivery step
succeeded, its ending queues the TAP's deletion in the outbox (same transaction as the ending), the outbox
worker deletes it in Entra ID (``DELETE /users/{id}/authentication/temporaryAccessPassMethods/{id}``),
retrying durably, and the ticket's notes say so. A password reset can't be undone: the note says that.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from engine_harness import ESCALATE, RESOLVED, eventually, make_engine, playbook_yaml, step, store_playbook
from fakes.graph import GraphFake, trusted_graph
from pydantic import SecretStr
from service_support import running_service
from test_services_support import RecordingSleep

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.entra import GraphDirectory
from ticketpilot.adapters.http_retry import RetryPolicy
from ticketpilot.adapters.sandbox import SandboxDirectory, SandboxLedger, SandboxSms
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.people import SandboxPeople
from ticketpilot.config import EntraConfig, HalopsaConfig
from ticketpilot.engine import Engine, ManualClock
from ticketpilot.gate.outbox import OutboxWorker
from ticketpilot.services import ResetPassword, SmsDelivery, SmsReports

TENANT, SECRET = "contoso-tenant", "graph-secret-Kp20"
EMAIL = "jane.doe@contoso.example"
UNDELIVERED = "sms-undelivered.ray@contoso.example"


# --- the live adapter against the Graph fake (real msal token flow) ------------------------------------


@pytest.fixture
async def graph(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GraphFake]:
    async with trusted_graph(monkeypatch, tenant_id=TENANT, client_secret=SECRET) as fake:
        fake.add_user("alice@contoso.example", id="a1111111-0000-4000-8000-000000000001")
        yield fake


def _directory(fake: GraphFake) -> GraphDirectory:
    config = EntraConfig(
        tenant_id=TENANT,
        client_id="graph-app",
        client_secret=SecretStr(SECRET),
        authority_url=fake.authority_url,
        graph_url=fake.graph_url,
    )
    retry = RetryPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02)
    return GraphDirectory(config, http_timeout_s=5, retry=retry, sleep=RecordingSleep())


ALICE = "a1111111-0000-4000-8000-000000000001"


async def test_graph_directory_keeps_the_method_id_and_deletes_the_tap(graph: GraphFake) -> None:
    directory = _directory(graph)
    try:
        tap = await directory.create_temporary_access_pass(
            ALICE, lifetime_minutes=60, one_time=True, idempotency_key="exec:create_credential:1"
        )
        assert tap.method_id == graph.users[ALICE].taps[0]["id"]
        assert tap.method_id not in str(tap) and str(tap) not in repr(tap)  # repr: the method id only
        graph.fail_next(503, path_contains="temporaryAccessPassMethods/", method="DELETE")
        assert await directory.delete_temporary_access_pass(ALICE, tap.method_id) is True
        assert await directory.delete_temporary_access_pass(ALICE, tap.method_id) is False  # already gone
    finally:
        await directory.aclose()
    assert graph.deleted_taps == [(ALICE, tap.method_id)]
    assert graph.users[ALICE].taps == []
    deletes = graph.calls("DELETE", f"/v1.0/users/{ALICE}/authentication/temporaryAccessPassMethods/")
    assert len(deletes) == 3 and all(d.path.endswith(f"/{tap.method_id}") for d in deletes)
    assert graph.token_requests, "a real msal client-credentials token (the fake refuses calls without one)"


async def test_graph_directory_reports_a_refused_deletion_as_not_retryable(graph: GraphFake) -> None:
    directory = _directory(graph)
    graph.denied_permissions.add("UserAuthenticationMethod.ReadWrite.All")
    try:
        with pytest.raises(AdapterError) as err:
            await directory.delete_temporary_access_pass(ALICE, str(uuid.uuid4()))
    finally:
        await directory.aclose()
    assert err.value.status == 403 and not err.value.retryable
    assert "UserAuthenticationMethod.ReadWrite.All" in err.value.message


# --- the engine and the outbox with the sandbox services -------------------------------------------------


def _steps(method: str = "temporary_access_pass") -> list[dict[str, Any]]:
    return [
        step(
            "create_credential",
            "executor.reset_password",
            on_success="deliver_sms",
            on_failure="escalate",
            params={"method": method, "lifetime_minutes": 60, "one_time": True},
        ),
        step("deliver_sms", "delivery.sms", on_success="resolved", on_failure="escalate", timeout="60s"),
        RESOLVED,
        ESCALATE,
    ]


class _EngineSink:
    engine: Engine | None = None

    async def __call__(
        self, execution_id: uuid.UUID, kind: str, dedupe_key: str, payload: dict[str, Any]
    ) -> bool:
        assert self.engine is not None
        return await self.engine.deliver_signal(execution_id, kind, dedupe_key, payload)


class _Sandbox:
    def __init__(self, *, report: bool = True) -> None:
        self.ledger = SandboxLedger()
        self.sink = _EngineSink()
        people, issued = SandboxPeople(), IssuedCredentials()
        self.directory = SandboxDirectory(people, self.ledger, issued)
        reports = SmsReports(self.sink) if report else None
        sms = SandboxSms(people, self.ledger, issued, reports=reports, sleep=RecordingSleep())
        self.services = {
            "executor.reset_password": ResetPassword(self.directory),
            "delivery.sms": SmsDelivery(
                self.directory, sms, public_url="https://tp.example", report_wait_s=30
            ),
        }


class HaloNotes:
    """Stands in for HaloPSA: keeps the notes; ``down`` makes every call fail retryably."""

    def __init__(self) -> None:
        self.notes: list[tuple[int, str]] = []
        self.down = False

    async def update_ticket(self, ticket_id: int, **changes: Any) -> None:
        if self.down:
            raise AdapterError("halopsa", "HTTP 503", retryable=True, status=503)

    async def add_note(self, ticket_id: int, note: str, *, private: bool = True) -> None:
        if self.down:
            raise AdapterError("halopsa", "HTTP 503", retryable=True, status=503)
        self.notes.append((ticket_id, note))


class FlakyRevoker:
    """A directory whose deletions fail with ``errors`` first, then go to ``inner``."""

    def __init__(self, inner: Any, errors: list[AdapterError]) -> None:
        self.inner, self.errors = inner, errors
        self.calls: list[tuple[str, str]] = []

    async def delete_temporary_access_pass(self, user_id: str, method_id: str) -> bool:
        self.calls.append((user_id, method_id))
        if self.errors:
            raise self.errors.pop(0)
        return bool(await self.inner.delete_temporary_access_pass(user_id, method_id))


class WorkerClock:
    def __init__(self) -> None:
        self.current = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.current


async def _run(
    pool: asyncpg.Pool, sandbox: _Sandbox, ticket_id: int, email: str, steps: Any
) -> dict[str, Any]:
    playbook, digest = await store_playbook(pool, playbook_yaml(steps))
    engine = make_engine(pool, sandbox.services, clock=ManualClock())
    sandbox.sink.engine = engine
    await engine.start()
    try:
        eid, _ = await engine.start_execution(ticket_id, playbook, digest, {"user_email": email})
        return await engine.wait_terminal(eid, timeout=15)
    finally:
        await engine.stop()


async def _outbox(pool: asyncpg.Pool, ticket_id: int, kind: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT payload, delivered_at, failed_at FROM outbox WHERE ticket_id = $1 AND kind = $2 ORDER BY id",
        ticket_id,
        kind,
    )
    return [{**_json(r["payload"]), "_delivered": r["delivered_at"], "_failed": r["failed_at"]} for r in rows]


def _json(value: Any) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else value)


async def test_an_undelivered_tap_is_deleted_after_the_escalation_and_the_ticket_says_so(
    pool: asyncpg.Pool,
) -> None:
    sandbox = _Sandbox()
    execution = await _run(pool, sandbox, 41, UNDELIVERED, _steps())
    assert execution["state"] == "ESCALATED"
    [issued] = sandbox.ledger.entries("tap_issued")
    [revoke] = await _outbox(pool, 41, "credential.revoke")
    assert (revoke["user_id"], revoke["method_id"]) == (issued.data["user_id"], issued.data["method_id"])
    [escalation] = await _outbox(pool, 41, "halopsa.escalate")
    assert "was issued but never delivered: TicketPilot is deleting it in Entra ID" in escalation["note"]
    assert UNDELIVERED in escalation["note"]

    halo = HaloNotes()
    await OutboxWorker(pool, halo, HalopsaConfig(), revoker=sandbox.directory).drain()
    [deleted] = sandbox.ledger.entries("tap_deleted")
    assert deleted.data["method_id"] == issued.data["method_id"]
    notes = [note for _, note in halo.notes]
    assert any("TicketPilot deleted the Temporary Access Pass of" in n for n in notes), notes
    assert notes.index(next(n for n in notes if "handed this ticket" in n)) < len(notes) - 1  # deletion last


async def test_a_cancel_while_the_tap_waits_for_delivery_deletes_it(pool: asyncpg.Pool) -> None:
    sandbox = _Sandbox(report=False)  # no delivery report: the step waits until it is cancelled
    playbook, digest = await store_playbook(pool, playbook_yaml(_steps()))
    engine = make_engine(pool, sandbox.services, clock=ManualClock())
    sandbox.sink.engine = engine
    await engine.start()
    try:
        eid, _ = await engine.start_execution(42, playbook, digest, {"user_email": EMAIL})
        await eventually(lambda: _waiting(pool, eid), what="the delivery to wait for its report")
        await engine.cancel(eid, "ticket closed in HaloPSA")
        execution = await engine.wait_terminal(eid, timeout=15)
    finally:
        await engine.stop()
    assert execution["state"] == "CANCELLED"
    [revoke] = await _outbox(pool, 42, "credential.revoke")
    [note] = [n for n in await _outbox(pool, 42, "halopsa.note") if "automation cancelled" in n["note"]]
    assert "TicketPilot is deleting it in Entra ID" in note["note"]
    await OutboxWorker(pool, HaloNotes(), HalopsaConfig(), revoker=sandbox.directory).drain()
    assert [e.data["method_id"] for e in sandbox.ledger.entries("tap_deleted")] == [revoke["method_id"]]


async def _waiting(pool: asyncpg.Pool, eid: uuid.UUID) -> bool:
    row = await pool.fetchrow(
        "SELECT state, current_step FROM playbook_executions WHERE execution_id = $1", eid
    )
    return row is not None and (row["state"], row["current_step"]) == ("WAITING", "deliver_sms")


async def test_a_delivered_tap_is_left_alone(pool: asyncpg.Pool) -> None:
    sandbox = _Sandbox()
    execution = await _run(pool, sandbox, 43, EMAIL, _steps())
    assert execution["state"] == "RESOLVED"
    assert await _outbox(pool, 43, "credential.revoke") == []


async def test_a_tap_delivered_before_an_escalation_is_left_alone(pool: asyncpg.Pool) -> None:
    """Delivered, then handed to an engineer anyway (here: the playbook escalates after delivery): the
    requester holds the TAP, so it is not deleted."""
    steps = _steps()
    steps[1] = {**steps[1], "on_success": "escalate"}
    execution = await _run(pool, _Sandbox(), 47, EMAIL, steps)
    assert execution["state"] == "ESCALATED"
    assert await _outbox(pool, 47, "credential.revoke") == []
    [escalation] = await _outbox(pool, 47, "halopsa.escalate")
    assert "Temporary Access Pass" not in escalation.get("note", "")


async def test_a_password_reset_cannot_be_undone_and_the_note_says_so(pool: asyncpg.Pool) -> None:
    sandbox = _Sandbox()
    execution = await _run(pool, sandbox, 44, UNDELIVERED, _steps("password"))
    assert execution["state"] == "ESCALATED"
    assert await _outbox(pool, 44, "credential.revoke") == []
    [escalation] = await _outbox(pool, 44, "halopsa.escalate")
    assert "password reset can't be undone" in escalation["note"]


async def test_the_deletion_is_retried_durably_and_a_halopsa_outage_does_not_hold_it_up(
    pool: asyncpg.Pool,
) -> None:
    sandbox = _Sandbox()
    await _run(pool, sandbox, 45, UNDELIVERED, _steps())
    halo, clock = HaloNotes(), WorkerClock()
    halo.down = True
    throttled = AdapterError("entra", "HTTP 429", retryable=True, status=429, retry_after=30)
    first = FlakyRevoker(sandbox.directory, [throttled])
    await OutboxWorker(pool, halo, HalopsaConfig(), revoker=first, clock=clock).drain()
    assert len(first.calls) == 1 and sandbox.ledger.entries("tap_deleted") == []
    [pending] = await _outbox(pool, 45, "credential.revoke")
    assert pending["_delivered"] is None and pending["_failed"] is None

    # "Restart": a new worker (another process) takes the row up once its backoff (Retry-After) is over;
    # HaloPSA is still down, which does not hold the deletion up.
    clock.current += timedelta(seconds=31)
    second = FlakyRevoker(sandbox.directory, [])
    await OutboxWorker(pool, halo, HalopsaConfig(), revoker=second, clock=clock).drain()
    assert len(second.calls) == 1 and len(sandbox.ledger.entries("tap_deleted")) == 1
    [done] = await _outbox(pool, 45, "credential.revoke")
    assert done["_delivered"] is not None
    assert halo.notes == []  # the notes wait for HaloPSA

    halo.down = False
    clock.current += timedelta(minutes=20)
    await OutboxWorker(pool, halo, HalopsaConfig(), revoker=second, clock=clock).drain()
    assert any("TicketPilot deleted the Temporary Access Pass" in note for _, note in halo.notes)


async def test_a_refused_deletion_asks_an_engineer_to_delete_it_by_hand(pool: asyncpg.Pool) -> None:
    sandbox = _Sandbox()
    await _run(pool, sandbox, 46, UNDELIVERED, _steps())
    refused = AdapterError(
        "entra", "DELETE temporaryAccessPassMethods: HTTP 403", retryable=False, status=403
    )
    halo = HaloNotes()
    await OutboxWorker(
        pool, halo, HalopsaConfig(), revoker=FlakyRevoker(sandbox.directory, [refused])
    ).drain()
    [row] = await _outbox(pool, 46, "credential.revoke")
    assert row["_failed"] is not None
    assert any("could not delete the Temporary Access Pass" in n and "by hand" in n for _, n in halo.notes)


async def test_in_the_running_sandbox_an_undelivered_tap_ends_deleted(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        ticket_id = await svc.create_ticket(
            "Locked out of my account",
            "Hi, I'm locked out of my Microsoft 365 account after too many wrong password attempts. "
            "Can you unlock it or reset my password please?\nThanks, Ray",
            UNDELIVERED,
        )
        execution = await svc.execution(ticket_id, timeout=30)
        assert execution["state"] == "ESCALATED", execution
        await svc.drain_outbox(ticket_id, timeout=20)
        issued = [e.as_dict() for e in svc.ledger.entries("tap_issued")]
        deleted = [e.as_dict() for e in svc.ledger.entries("tap_deleted")]
        assert [d["method_id"] for d in deleted] == [issued[-1]["method_id"]]
        notes = await svc.services.pool.fetch(
            "SELECT payload->>'note' AS note FROM outbox WHERE ticket_id = $1 AND kind = 'halopsa.note'",
            ticket_id,
        )
        assert any("TicketPilot deleted the Temporary Access Pass" in (r["note"] or "") for r in notes)
