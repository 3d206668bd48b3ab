"""The sandbox keeps its state in PostgreSQL: a restart of the service (or another process on the same
database) sees the same tickets, notes, fields, people, pushes, pending manager answers and ledger."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import asyncpg
from service_support import BEARER, Running, running_service

from ticketpilot.adapters.base import Ticket
from ticketpilot.adapters.sandbox.people import user_id_of

LOCKOUT = (
    "Locked out of my work account",
    "I typed my password wrong too many times and now my Microsoft 365 work account is locked. "
    "Please unlock my account so I can sign in to Outlook and Teams again.",
)


async def _eventually(check: Any, timeout: float = 20.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def _ledger_api(svc: Running, kind: str) -> list[dict[str, Any]]:
    resp = await svc.client.get("/api/v1/sandbox/ledger", params={"kind": kind}, headers=BEARER)
    assert resp.status == 200
    return list((await resp.json())["entries"])


async def test_tickets_people_and_the_ledger_outlive_a_restart(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as first:
        ticket_id = await first.create_ticket(*LOCKOUT, "jane.doe@contoso.example")
        assert (await first.execution(ticket_id, timeout=30))["state"] == "RESOLVED"
        await first.drain_outbox(ticket_id)
        before = await _ledger_api(first, "sms")
        assert len(before) == 1
    # A new process (a restart) on the same database.
    async with running_service(db_url, tmp_path) as second:
        tickets = second.services.adapters.tickets  # type: ignore[union-attr]
        ticket = await tickets.get_ticket(ticket_id)
        assert ticket.user_email == "jane.doe@contoso.example" and ticket.status_id is not None
        fields = await tickets.read_custom_fields(ticket_id)
        assert fields["automation_status"] == "automated"
        notes = await tickets.read_notes(ticket_id)
        assert any("Resolved automatically" in n for n in notes)
        # The requester is known by id without their address being seen again in this process.
        directory = second.services.adapters.directory  # type: ignore[union-attr]
        user = await directory.get_user(user_id_of("jane.doe@contoso.example"))
        assert user.user_principal_name == "jane.doe@contoso.example"
        # The ledger API shows what the first run did.
        assert await _ledger_api(second, "sms") == before
        assert [e["kind"] for e in await _ledger_api(second, "tap_issued")] == ["tap_issued"]
        # replay/classify read the same tickets
        assert ticket_id in [t.id for t in await tickets.list_tickets_since(1)]


async def test_a_managers_pending_answer_is_given_after_the_process_that_posted_the_card_stops(
    db_url: str, tmp_path: Path
) -> None:
    slow_manager = {
        "mfa_timeout_s": 0.3,
        "manager_approve_after_s": 2.0,
        "manager_sms_fallback_after_s": 50.0,
        "manager_timeout_s": 60.0,
    }
    async with running_service(db_url, tmp_path, sandbox=slow_manager) as first:
        ticket_id = await first.create_ticket(*LOCKOUT, "mfa-timeout.ola@contoso.example")
        await first.execution(ticket_id, timeout=20, until={"WAITING"})
        cards = await _eventually(lambda: _ledger_api(first, "teams_card"))
        assert await _ledger_api(first, "manager_click") == []
    # The process that posted the card is gone before the manager answers; the next one gives the answer.
    async with running_service(db_url, tmp_path, sandbox=slow_manager) as second:
        execution = await second.execution(ticket_id, timeout=30)
        assert execution["state"] == "RESOLVED", execution
        [click] = await _ledger_api(second, "manager_click")
        assert click["accepted"] is True and click["request_id"] == cards[0]["request_id"]
        assert len(await _ledger_api(second, "sms")) == 1
        pending = await second.services.pool.fetchval(
            "SELECT count(*) FROM sandbox_pending_actions WHERE done_at IS NULL AND kind = 'manager_answer'"
        )
        assert pending == 0


async def test_a_ticket_seeded_in_one_process_is_read_by_another(db_url: str, tmp_path: Path) -> None:
    async with (
        running_service(db_url, tmp_path) as one,
        running_service(db_url, tmp_path) as other,
    ):
        await one.services.adapters.tickets.seed(  # type: ignore[union-attr,misc]
            Ticket(id=4711, summary="Printer jam", details="tray 2", user_email="bo@contoso.example")
        )
        read = await other.services.adapters.tickets.get_ticket(4711)  # type: ignore[union-attr]
        assert read.summary == "Printer jam"
        rows = await one.services.pool.fetch("SELECT pid FROM sandbox_ledger")
        assert {r["pid"] for r in rows} <= {os.getpid()}


async def test_sandbox_tables_hold_no_secret(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        ticket_id = await svc.create_ticket(*LOCKOUT, "manager-silent.kim@contoso.example")
        assert (await svc.execution(ticket_id, timeout=30))["state"] == "ESCALATED"
        conn: asyncpg.Pool = svc.services.pool
        rows: list[str] = []
        for table in (
            "sandbox_ledger",
            "sandbox_pending_actions",
            "sandbox_mfa_pushes",
            "sandbox_ticket_notes",
        ):
            rows += [
                str(r["j"]) for r in await conn.fetch(f"SELECT row_to_json(t)::text AS j FROM {table} t")
            ]
        text = "\n".join(rows)
        assert "YES [REDACTED]" in text, "the fallback SMS is recorded, its code redacted"
        assert "/approvals/" not in text, "no approval link (it carries a token) is stored"
