"""Restarts never reset a retry budget nor grant a credential beyond the playbook's bounds (issue 10, item 2).

The shape of the report: the requester's SMS is never delivered (every attempt fails retryably), and the
process dies while the delivery step waits to retry, several times. The credential lives only in memory, so
after each restart the delivery step finds it gone and the engine goes back to the step that made it. Before
the fix that trip reset the delivery step's retry count (attempts 1-9 where the playbook allows 3) and issued a
new credential each time, without bound."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import asyncpg
from engine_harness import (
    ESCALATE,
    RESOLVED,
    CreateCredential,
    FakeService,
    eventually,
    execution_row,
    make_engine,
    playbook_yaml,
    step,
    store_playbook,
)

from ticketpilot.adapters.sandbox import SandboxDirectory, SandboxLedger
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.people import SandboxPeople
from ticketpilot.engine import ManualClock
from ticketpilot.services import ResetPassword
from ticketpilot.steps import Failed, StepCall, StepOutcome

CTX = {"user_email": "sam@contoso.example", "user_id": "u-sam"}
MAX_ATTEMPTS = 3


@dataclass
class UndeliveredSms(FakeService):
    """Needs the credential; every message is reported undelivered (a retryable failure)."""

    rerun_safe: bool = False
    requires_secrets: tuple[str, ...] = ("credential",)
    sent: list[str] = field(default_factory=list)

    async def behave(self, call: StepCall) -> StepOutcome:
        self.sent.append(call.secrets["credential"])
        return Failed("SMS undelivered (error 30003)", retryable=True)


def _steps(create_retry: int | None, create: str = "create") -> list[dict[str, object]]:
    create_extra: dict[str, object] = {"timeout": "30s"}
    if create == "executor.reset_password":
        create_extra["params"] = {"method": "temporary_access_pass", "lifetime_minutes": 60, "one_time": True}
    if create_retry is not None:
        create_extra["retry"] = {"max_attempts": create_retry, "backoff": "fixed", "initial": "1s"}
    return [
        step("create_credential", create, on_success="deliver_sms", on_failure="escalate", **create_extra),
        step(
            "deliver_sms",
            "deliver",
            on_success="resolved",
            on_failure="escalate",
            timeout="60s",
            retry={"max_attempts": MAX_ATTEMPTS, "backoff": "fixed", "initial": "5s"},
        ),
        RESOLVED,
        ESCALATE,
    ]


async def _run_with_restarts(
    pool: asyncpg.Pool,
    ticket_id: int,
    restarts: int,
    create_retry: int | None,
    credential_service: object | None = None,
    context: dict[str, object] = CTX,
) -> tuple[dict[str, object], CreateCredential, UndeliveredSms]:
    create, sms, clock = CreateCredential("create"), UndeliveredSms("deliver"), ManualClock()
    services: dict[str, object] = {"create": create, "deliver": sms}
    if credential_service is not None:
        services["executor.reset_password"] = credential_service
    name = "create" if credential_service is None else "executor.reset_password"
    playbook, digest = await store_playbook(pool, playbook_yaml(_steps(create_retry, name)))
    engine = make_engine(pool, services, clock=clock)
    await engine.start()
    eid, _ = await engine.start_execution(ticket_id, playbook, digest, context)
    try:
        seq = 0
        for _ in range(restarts):
            seq = await _next_wait(pool, eid, seq)
            if await _done(pool, eid):
                break
            await engine.abort()  # killed while it waits to retry: the credential in memory is lost
            engine = make_engine(pool, services, clock=clock)
            await engine.start()
            clock.set((await execution_row(pool, eid))["deadline"])
        while not await _done(pool, eid):  # no more restarts: let the remaining retries run out
            seq = await _next_wait(pool, eid, seq)
            deadline = (await execution_row(pool, eid))["deadline"]
            if deadline is not None:
                clock.set(deadline)
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    return execution, create, sms


async def _next_wait(pool: asyncpg.Pool, eid: object, after_seq: int) -> int:
    """Wait until the execution has moved on (past step row ``after_seq``) to a retry wait or its end."""

    async def moved_on() -> bool:
        row = await execution_row(pool, eid)  # type: ignore[arg-type]
        ended = row["state"] in ("RESOLVED", "ESCALATED", "FAILED")
        return bool(row["seq"] > after_seq and (row["step_phase"] == "backoff" or ended))

    await eventually(moved_on, what="a retry wait or the end")
    return int((await execution_row(pool, eid))["seq"])  # type: ignore[arg-type]


async def _done(pool: asyncpg.Pool, eid: object) -> bool:
    row = await execution_row(pool, eid)  # type: ignore[arg-type]
    return bool(row["state"] in ("RESOLVED", "ESCALATED", "FAILED"))


async def test_restarts_never_grant_more_delivery_attempts_or_credentials_than_the_playbook(
    pool: asyncpg.Pool,
) -> None:
    execution, create, sms = await _run_with_restarts(pool, 31, restarts=3, create_retry=3)
    assert execution["state"] == "ESCALATED"
    assert len(sms.sent) == MAX_ATTEMPTS, "every SMS sent is one of the playbook's attempts"
    assert len(create.created) <= 3, "at most create_credential's max_attempts credentials"
    assert set(sms.sent) <= set(create.created)
    sends = [
        s for s in execution["steps"] if s["step_id"] == "deliver_sms" and s["outcome"] != "secret_missing"
    ]
    assert len(sends) == MAX_ATTEMPTS and sends[-1]["outcome"] == "failure"


async def test_many_restarts_stop_at_the_credential_budget_and_escalate(pool: asyncpg.Pool) -> None:
    # Without a retry policy the credential step may still replace a credential lost in a restart once
    # (DESIGN §2), and never more.
    execution, create, sms = await _run_with_restarts(pool, 32, restarts=6, create_retry=None)
    assert execution["state"] == "ESCALATED"
    assert len(create.created) == 2
    assert len(sms.sent) <= MAX_ATTEMPTS
    assert "credential" in str(execution["escalation_reason"])


async def test_with_the_real_credential_step_each_replacement_deletes_the_tap_it_replaces(
    pool: asyncpg.Pool,
) -> None:
    ledger = SandboxLedger()
    directory = SandboxDirectory(SandboxPeople(), ledger, IssuedCredentials())
    context = {"user_email": "sms-undelivered.sam@contoso.example"}
    execution, _, sms = await _run_with_restarts(
        pool, 33, restarts=3, create_retry=3, credential_service=ResetPassword(directory), context=context
    )
    assert execution["state"] == "ESCALATED" and len(sms.sent) == MAX_ATTEMPTS
    taps = [
        (e.kind, e.data["method_id"]) for e in ledger.entries() if e.kind in ("tap_issued", "tap_deleted")
    ]
    issued = [m for kind, m in taps if kind == "tap_issued"]
    assert 1 < len(issued) <= 3
    # Every TAP after the first comes right after the deletion of the one it replaces.
    expected = [("tap_issued", issued[0])]
    for old, new in itertools.pairwise(issued):
        expected += [("tap_deleted", old), ("tap_issued", new)]
    assert taps == expected
