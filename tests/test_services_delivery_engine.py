"""delivery.sms with the real engine (sandbox services, real PostgreSQL): a delivery Twilio reports
undelivered is sent again under the step's retry policy, then escalated; a restart during the wait for the
report resumes the wait instead of putting the delivery in doubt."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from engine_harness import ESCALATE, RESOLVED, eventually, make_engine, playbook_yaml, step, store_playbook
from test_services_support import RecordingSleep

from ticketpilot.adapters.sandbox import SandboxDirectory, SandboxLedger, SandboxSms
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.people import SandboxPeople, phone_of
from ticketpilot.engine import Engine, ManualClock
from ticketpilot.services import ResetPassword, SmsDelivery, SmsReports

EMAIL = "jane.doe@contoso.example"
UNDELIVERED = "sms-undelivered.ray@contoso.example"

RETRY = {"max_attempts": 3, "backoff": "fixed", "initial": "1s", "max": "1s"}
STEPS = [
    step(
        "create_credential",
        "executor.reset_password",
        on_success="deliver_sms",
        on_failure="escalate",
        params={"method": "temporary_access_pass", "lifetime_minutes": 60, "one_time": True},
    ),
    step(
        "deliver_sms",
        "delivery.sms",
        on_success="resolved",
        on_failure="escalate",
        timeout="60s",
        retry=RETRY,
    ),
    RESOLVED,
    ESCALATE,
]


class _Sandbox:
    """The credential and delivery services on the sandbox, reporting to ``sink`` (or never)."""

    def __init__(self, *, report: bool) -> None:
        self.ledger = SandboxLedger()
        self.sink = _EngineSink()
        people, issued = SandboxPeople(), IssuedCredentials()
        directory = SandboxDirectory(people, self.ledger, issued)
        reports = SmsReports(self.sink) if report else None
        self.sms = SandboxSms(people, self.ledger, issued, reports=reports, sleep=RecordingSleep())
        self.services = {
            "executor.reset_password": ResetPassword(directory),
            "delivery.sms": SmsDelivery(
                directory, self.sms, public_url="https://tp.example", report_wait_s=30
            ),
        }

    def credential_sms(self) -> list[dict[str, Any]]:
        return [dict(e.data) for e in self.ledger.entries("sms") if "[REDACTED]" in e.data["body"]]


class _EngineSink:
    engine: Engine | None = None

    async def __call__(
        self, execution_id: uuid.UUID, kind: str, dedupe_key: str, payload: dict[str, Any]
    ) -> bool:
        assert self.engine is not None
        return await self.engine.deliver_signal(execution_id, kind, dedupe_key, payload)


async def _steps(pool: asyncpg.Pool, eid: uuid.UUID) -> list[tuple[str, int, str]]:
    rows = await pool.fetch(
        "SELECT step_id, attempt, outcome FROM playbook_step_executions WHERE execution_id = $1 ORDER BY seq",
        eid,
    )
    return [(r["step_id"], r["attempt"], r["outcome"]) for r in rows]


async def _row(pool: asyncpg.Pool, eid: uuid.UUID) -> asyncpg.Record:
    row = await pool.fetchrow("SELECT * FROM playbook_executions WHERE execution_id = $1", eid)
    assert row is not None
    return row


async def test_undelivered_every_time_is_retried_with_new_sms_then_escalated(pool: asyncpg.Pool) -> None:
    playbook, digest = await store_playbook(pool, playbook_yaml(STEPS))
    sandbox, clock = _Sandbox(report=True), ManualClock()
    engine = make_engine(pool, sandbox.services, clock=clock)
    sandbox.sink.engine = engine
    await engine.start()
    try:
        eid, _ = await engine.start_execution(31, playbook, digest, {"user_email": UNDELIVERED})
        for count in (1, 2):  # reported undelivered, backing off (at most 1 s) before the next attempt
            await eventually(lambda n=count: len(sandbox.credential_sms()) == n, what=f"SMS #{count}")
            await eventually(lambda: _backing_off(pool, eid), what="a retry backoff")
            clock.advance(1)
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "ESCALATED"
    assert "SMS undelivered (error 30003)" in execution["escalation_reason"]
    assert await _steps(pool, eid) == [
        ("create_credential", 1, "success"),
        ("deliver_sms", 1, "retry"),
        ("deliver_sms", 2, "retry"),
        ("deliver_sms", 3, "failure"),
        ("escalate", 1, "terminal"),
    ]
    sent = sandbox.credential_sms()
    assert [s["to"] for s in sent] == [phone_of(UNDELIVERED)] * 3
    assert len({s["body_sha256"] for s in sent}) == 1, "the same credential, still in memory, each time"
    assert len(sandbox.ledger.entries("tap_issued")) == 1


async def _backing_off(pool: asyncpg.Pool, eid: uuid.UUID) -> bool:
    return bool((await _row(pool, eid))["step_phase"] == "backoff")


async def _parked_on_delivery(pool: asyncpg.Pool) -> tuple[_Sandbox, uuid.UUID, asyncpg.Record]:
    """An execution parked on its delivery report when the process stops (the report never came)."""
    playbook, digest = await store_playbook(pool, playbook_yaml(STEPS))
    sandbox = _Sandbox(report=False)
    engine = make_engine(pool, sandbox.services)
    await engine.start()
    eid, _ = await engine.start_execution(32, playbook, digest, {"user_email": EMAIL})
    await eventually(lambda: _waiting_on_delivery(pool, eid), what="the delivery to wait for its report")
    parked = await _row(pool, eid)
    await engine.stop()
    return sandbox, eid, parked


async def _waiting_on_delivery(pool: asyncpg.Pool, eid: uuid.UUID) -> bool:
    row = await pool.fetchrow("SELECT * FROM playbook_executions WHERE execution_id = $1", eid)
    return row is not None and row["state"] == "WAITING" and row["current_step"] == "deliver_sms"


async def test_a_restart_during_the_wait_resumes_the_wait_and_sends_nothing(pool: asyncpg.Pool) -> None:
    sandbox, eid, parked = await _parked_on_delivery(pool)
    engine = make_engine(pool, sandbox.services, owner_id="another-process")
    await engine.start()
    try:
        await eventually(lambda: _claimed(pool, eid, parked["epoch"]), what="the restart to claim it")
        await asyncio.sleep(0.1)
        after = await _row(pool, eid)
    finally:
        await engine.stop()
    assert (after["state"], after["step_phase"]) == ("WAITING", "waiting")
    assert (after["deadline"], after["wake_at"]) == (parked["deadline"], parked["wake_at"])
    assert await _steps(pool, eid) == [("create_credential", 1, "success")]  # not in doubt
    assert len(sandbox.credential_sms()) == 1


async def _claimed(pool: asyncpg.Pool, eid: uuid.UUID, epoch: int) -> bool:
    return bool((await _row(pool, eid))["epoch"] > epoch)


async def test_a_report_after_a_restart_ends_the_wait_without_a_second_credential(pool: asyncpg.Pool) -> None:
    sandbox, eid, _ = await _parked_on_delivery(pool)
    engine = make_engine(pool, sandbox.services, owner_id="another-process")
    await engine.start()
    try:
        [sms] = sandbox.credential_sms()
        payload = {
            "sid": sms["sid"],
            "status": "delivered",
            "error_code": "",
            "step_id": "deliver_sms",
            "attempt": 1,
        }
        assert await engine.deliver_signal(eid, "sms_status", f"sms:{sms['sid']}:delivered", payload)
        await eventually(lambda: _settled(pool, eid, sandbox), what="the report to be handled")
        final = await _row(pool, eid)
    finally:
        await engine.stop()
    assert len(sandbox.credential_sms()) == 1 and len(sandbox.ledger.entries("tap_issued")) == 1
    assert final["state"] == "RESOLVED"


async def _settled(pool: asyncpg.Pool, eid: uuid.UUID, sandbox: _Sandbox) -> bool:
    row = await _row(pool, eid)
    return row["state"] in ("RESOLVED", "ESCALATED", "FAILED") or len(sandbox.credential_sms()) > 1
