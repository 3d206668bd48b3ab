"""Issue 10 item 4: a decision written as "automated" whose execution cannot start never leaves the ticket
claimed. The decision becomes manual with the reason, written back to HaloPSA through the outbox, and the
inbox stops retrying; a transient failure (the database away) is still retried."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from gate_fakes import Harness, build_harness, halo_delivery, ticket

from ticketpilot.gate.decision import Outcome


@pytest.fixture
async def h(pool: asyncpg.Pool) -> AsyncIterator[Harness]:
    harness = build_harness(pool)
    yield harness
    await harness.close()


async def _overflow(ticket_id: int, context: dict[str, Any]) -> None:
    raise OverflowError("date value out of range")


async def _decision(h: Harness, ticket_id: int) -> asyncpg.Record:
    async with h.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM classification_results WHERE ticket_id = $1", ticket_id)
    assert row is not None
    return row


def _status_written(h: Harness, ticket_id: int) -> list[str]:
    return [
        w[2]["custom_fields"]["automation_status"]
        for w in h.tickets.writes
        if w[0] == "fields" and w[1] == ticket_id
    ]


async def test_an_execution_that_cannot_start_turns_the_decision_manual_with_the_reason(h: Harness) -> None:
    h.engine.before_start = _overflow
    record = await h.gate.decide(ticket(501), source="webhook")

    assert record.outcome is Outcome.MANUAL
    assert [b.name.value for b in record.blockers] == ["execution_not_started"]
    assert "OverflowError" in record.blockers[0].detail
    row = await _decision(h, 501)
    assert row["outcome"] == "manual"

    await h.outbox.drain()
    assert _status_written(h, 501) == ["automated", "manual"]  # HaloPSA ends on "manual"
    notes = [w[2] for w in h.tickets.writes if w[0] == "note" and w[1] == 501]
    assert len(notes) == 2 and "MANUAL" in notes[1] and "could not be started" in notes[1]
    assert "OverflowError" in notes[1]

    # A redelivery of the webhook does not try again: the ticket is an engineer's now.
    h.engine.before_start = None
    again = await h.gate.decide(ticket(501), source="webhook")
    assert again.outcome is Outcome.MANUAL and h.engine.starts == []


async def test_the_inbox_finishes_the_row_instead_of_retrying_forever(h: Harness) -> None:
    h.engine.before_start = _overflow
    h.tickets.seed(ticket(502))
    await h.intake.receive("ticket_created", halo_delivery(502))
    await h.worker.drain()
    async with h.pool.acquire() as conn:
        inbox = await conn.fetchrow("SELECT status, attempts FROM webhook_inbox WHERE ticket_id = 502")
    assert (inbox["status"], inbox["attempts"]) == ("done", 1)
    await h.outbox.drain()
    assert _status_written(h, 502)[-1] == "manual"


async def test_a_transient_failure_is_retried_and_the_decision_stays_automated(h: Harness) -> None:
    h.engine.fail_next_start = True  # ConnectionError: the engine's database was away
    with pytest.raises(ConnectionError):
        await h.gate.decide(ticket(503), source="webhook")
    assert (await _decision(h, 503))["outcome"] == "automated"
    record = await h.gate.decide(ticket(503), source="webhook")
    assert record.outcome is Outcome.AUTOMATED and len(h.engine.starts) == 1


async def test_a_decided_version_no_longer_active_after_a_crash_turns_manual(h: Harness) -> None:
    h.engine.fail_next_start = True
    with pytest.raises(ConnectionError):
        await h.gate.decide(ticket(504), source="webhook")
    h.registry.candidates = []  # the playbook was withdrawn before the retry
    record = await h.gate.decide(ticket(504), source="webhook")
    assert record.outcome is Outcome.MANUAL
    assert [b.name.value for b in record.blockers] == ["execution_not_started"]
    assert "no longer active" in record.blockers[0].detail
    await h.outbox.drain()
    assert _status_written(h, 504) == ["automated", "manual"]
    assert h.engine.starts == []


async def _database_away(ticket_id: int, context: dict[str, Any]) -> None:
    raise ConnectionError("the engine's database is away")


async def test_retries_that_all_fail_hand_the_ticket_back_instead_of_leaving_it_automated(h: Harness) -> None:
    """A start that keeps failing for a reason that looked temporary: once the inbox gives up, the
    "automated" decision becomes manual with the last error, and HaloPSA ends on "manual"."""
    h.engine.before_start = _database_away
    h.tickets.seed(ticket(505))
    await h.intake.receive("ticket_created", halo_delivery(505))
    status = None
    for _ in range(30):  # bounded: the worker gives up after its max_attempts
        await h.worker.drain()
        async with h.pool.acquire() as conn:
            status = await conn.fetchval("SELECT status FROM webhook_inbox WHERE ticket_id = 505")
        if status == "failed":
            break
        h.clock.advance(3_600)  # past any backoff
    assert status == "failed"
    row = await _decision(h, 505)
    assert row["outcome"] == "manual"
    await h.outbox.drain()
    assert _status_written(h, 505) == ["automated", "manual"]
    notes = [w[2] for w in h.tickets.writes if w[0] == "note" and w[1] == 505]
    assert "could not be started" in notes[-1] and "ConnectionError" in notes[-1]
    assert h.engine.starts == []
