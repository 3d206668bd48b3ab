"""Rolling deploys with REAL service processes: SIGTERM drains and hands over at once; SIGKILL loses a row's
claim within seconds.

The decision in flight is held open by an OpenAI-compatible fake on loopback that answers late (the gate's
LLM call is the vendor call of a decision); the MFA push in flight is the sandbox's, answered after a few
seconds. Process B, on the same database, uses the offline classifier.

- SIGTERM: ``/readyz`` says 503 and webhooks are refused (503) while A still runs; the MFA push in flight
  finishes within ``[engine] shutdown_grace_s`` and its outcome is recorded (B goes on from it, no second
  push); the decision that outlives the grace is cut; A's execution leases and its claimed inbox row are
  released (the cut attempt not counted) and announced, so B, running beside it, takes them over at once —
  B's lease tick is 40 s and every lease two minutes, so only the release explains it.
- SIGKILL: nothing is released, but the inbox row's lease is short and renewed only while its owner lives, so
  B decides the ticket within seconds, not after the five minutes the lease used to last.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from fakes.openai import OpenAiFake
from service_process import (
    LOCKOUT_TEXT,
    WEBHOOK_AUTH,
    ServiceProcess,
    api_session,
    drop_database,
    fresh_database,
)

pytestmark = pytest.mark.slow

ANSWER = {
    "category": "REQUEST",
    "sub_category": "PASSWORD_RESET",
    "confidence": 0.95,
    "reasoning": "The requester cannot sign in to their own work account.",
    "own_account": True,
    "risk_flags": [],
}
LONG = {"lease_s": 120.0, "lease_renew_every_s": 40.0, "inbox_lease_s": 120.0}
SILENT_MANAGER = {"manager_sms_fallback_after_s": 600.0, "manager_timeout_s": 600.0}


def _llm(fake: OpenAiFake) -> dict[str, Any]:
    return {
        "api_key": fake.api_key,
        "base_url": fake.base_url,
        "mode": "llm",
        "timeout_s": 120.0,
        "max_retries": 0,
    }


def _ticket(ticket_id: int, email: str) -> dict[str, Any]:
    return {"id": ticket_id, "summary": LOCKOUT_TEXT[0], "details": LOCKOUT_TEXT[1], "user_email": email}


async def _post(
    session: aiohttp.ClientSession, svc: ServiceProcess, event: str, ticket: dict[str, Any]
) -> int:
    delivery = {"id": f"{event}-{ticket['id']}", "object_id": ticket["id"], "ticket": ticket}
    async with session.post(
        f"{svc.base_url}/webhooks/halopsa/{event}", json=[delivery], auth=WEBHOOK_AUTH
    ) as resp:
        await resp.read()
        return resp.status


async def _until(what: str, check: Callable[[], Awaitable[Any]], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


async def _llm_calls(fake: OpenAiFake, n: int) -> None:
    async def arrived() -> bool:
        return len(fake.calls("POST", "chat/completions")) >= n

    await _until(f"{n} LLM call(s)", arrived, 30)


async def _inbox_row(db: asyncpg.Connection, ticket_id: int) -> Any:
    return await db.fetchrow(
        "SELECT status, attempts, claimed_by, next_attempt_at <= clock_timestamp() AS due FROM webhook_inbox"
        " WHERE ticket_id = $1 AND event = 'ticket_created'",
        ticket_id,
    )


def _events(svc: ServiceProcess, *names: str) -> dict[str, Any]:
    """``event → released`` of the named events in ``svc``'s logs."""
    found: dict[str, Any] = {}
    for line in svc.logs().splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if event.get("event") in names:
                found[event["event"]] = event.get("released")
    return found


async def _decided(db: asyncpg.Connection, ticket_id: int) -> bool:
    return bool(
        await db.fetchval("SELECT count(*) FROM classification_results WHERE ticket_id = $1", ticket_id)
    )


@pytest.fixture
async def database(pg_admin_url: str, pg_template: str) -> Any:
    url = await fresh_database(pg_admin_url, pg_template, prefix="tp_drain")
    yield url
    await drop_database(pg_admin_url, url)


async def test_sigterm_refuses_at_once_finishes_calls_in_flight_and_hands_everything_over(
    database: str, tmp_path: Path
) -> None:
    fake = OpenAiFake(spec=False)
    await fake.start()
    fake.answer_with(ANSWER)
    a = ServiceProcess(
        "a",
        tmp_path,
        database,
        overrides={
            "llm": _llm(fake),
            "engine": {**LONG, "shutdown_grace_s": 10.0},
            "sandbox": {**SILENT_MANAGER, "mfa_approve_after_s": 6.0},
        },
    )
    b = ServiceProcess("b", tmp_path, database, overrides={"engine": LONG, "sandbox": SILENT_MANAGER})
    silent, pushing, deciding = (
        _ticket(920_001, "manager-silent.drain@contoso.example"),
        _ticket(920_002, "pushing.drain@contoso.example"),
        _ticket(920_003, "deciding.drain@contoso.example"),
    )
    db = await asyncpg.connect(database)
    try:
        async with api_session() as session:
            await a.start()
            await a.wait_ready(session)
            # A holds: an execution parked for a manager, one whose MFA push is in flight, and a decision
            # whose LLM call is in flight.
            assert await _post(session, a, "ticket_created", silent) == 200

            async def parked() -> bool:
                execution = await a.execution(session, silent["id"])
                return execution is not None and execution["state"] == "WAITING"

            await _until("an execution parked for the manager", parked, 30)
            assert await _post(session, a, "ticket_created", pushing) == 200
            await _until(
                "the MFA push to be in flight",
                lambda: a.execution(session, pushing["id"]),
                30,
            )
            fake.delay_s = 300.0
            assert await _post(session, a, "ticket_created", deciding) == 200
            await _llm_calls(fake, 3)
            in_flight = await db.fetchrow(
                "SELECT current_step, step_phase FROM playbook_executions WHERE ticket_id = $1", pushing["id"]
            )
            assert tuple(in_flight) == ("verify_mfa", "started"), in_flight
            # B runs beside A; its lease tick is 40 s and A's leases last two minutes.
            await b.start()
            await b.wait_ready(session)

            assert a.proc is not None
            a.proc.terminate()
            began = time.monotonic()

            # At once, while A still finishes its work: not ready, and webhooks refused (503).
            async def refusing() -> bool:
                async with session.get(f"{a.base_url}/readyz") as resp:
                    body = await resp.json()
                return resp.status == 503 and body["checks"]["service"]["draining"]

            await _until("/readyz to answer 503", refusing, 10)
            assert not a.exited
            late = _ticket(920_004, "late.drain@contoso.example")
            assert await _post(session, a, "ticket_created", late) == 503
            assert not a.exited, "A was gone before the grace: nothing was drained"

            assert await a.wait_exit(30) == 0, a.log_tail()
            assert time.monotonic() - began < 10.0 + 15.0
            stopped = _events(a, "engine_stopped", "inbox_worker_stopped")
            assert stopped == {"engine_stopped": 2, "inbox_worker_stopped": 1}, stopped  # what A released

            # B resumes all of it at once: only A's release (and its announcement) explains it.
            async def b_owns_the_executions() -> bool:
                owners = await db.fetch(
                    "SELECT owner FROM playbook_executions WHERE ticket_id = ANY($1::bigint[])",
                    [silent["id"], pushing["id"]],
                )
                return [r["owner"] for r in owners] == ["proc-b", "proc-b"]

            async def b_finished_the_row() -> Any:
                row = await _inbox_row(db, deciding["id"])
                return row if row["status"] == "done" else None

            await _until("B to take the executions over", b_owns_the_executions, 10)
            row = await _until("B to decide the ticket A left", b_finished_the_row, 10)
            assert row["attempts"] == 1, row  # A's cut attempt was given back, not counted
            assert await _decided(db, deciding["id"])

            # The push in flight at SIGTERM finished within the grace and its outcome was recorded: B went
            # on from it (no push asked again) to the credential.
            resolved = await b.wait_execution(session, pushing["id"], timeout=30)
            assert resolved["state"] == "RESOLVED", resolved
            mfa = await db.fetch(
                "SELECT s.outcome FROM playbook_step_executions s JOIN playbook_executions e USING (execution_id)"
                " WHERE e.ticket_id = $1 AND s.step_id = 'verify_mfa'",
                pushing["id"],
            )
            assert [r["outcome"] for r in mfa] == ["success"], mfa
            await b.stop()
    finally:
        for p in (a, b):
            if p.proc is not None and not p.exited:
                await p.kill()
        await db.close()
        await fake.stop()


async def test_a_killed_process_claimed_inbox_rows_are_taken_over_within_seconds(
    database: str, tmp_path: Path
) -> None:
    fake = OpenAiFake(spec=False)
    await fake.start()
    fake.answer_with(ANSWER)
    fake.delay_s = 300.0
    short = {"inbox_lease_s": 3.0}
    a = ServiceProcess("a", tmp_path, database, overrides={"llm": _llm(fake), "engine": short})
    b = ServiceProcess("b", tmp_path, database, overrides={"engine": short})
    ticket = _ticket(930_001, "killed.claim@contoso.example")
    db = await asyncpg.connect(database)
    try:
        async with api_session() as session:
            await a.start()
            await a.wait_ready(session)
            assert await _post(session, a, "ticket_created", ticket) == 200
            await _llm_calls(fake, 1)  # A has claimed the row and is deciding it
            await a.kill()
            row = await _inbox_row(db, ticket["id"])
            assert row["status"] == "pending" and row["claimed_by"] == "proc-a", row

            await b.start()
            await b.wait_ready(session)
            assert await _post(session, b, "ticket_updated", ticket) == 200  # B's sandbox learns the ticket

            async def done_by_b() -> Any:
                row = await _inbox_row(db, ticket["id"])
                return row if row["status"] == "done" else None

            row = await _until("B to finish the row A was deciding", done_by_b, 20)
            assert row["attempts"] == 2, row  # A's attempt, then B's
            assert await _decided(db, ticket["id"])
            await b.stop()
    finally:
        for p in (a, b):
            if p.proc is not None and not p.exited:
                await p.kill()
        await db.close()
        await fake.stop()
