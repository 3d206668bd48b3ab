"""One start per ticket: two deliveries of one ticket in two workers issue a single ``start_execution``.

The race behind a flaky ``test_two_workers_share_the_inbox_and_each_ticket_is_decided_once`` (16 starts for 15
tickets under load): worker A decides the ticket and is starting its execution; worker B, holding the
ticket's other delivery, finds the stored decision and no execution yet (A's start has not committed), and
started it again. Here A's start is held open until B has had every chance to do that.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from gate_fakes import Harness, build_harness, halo_delivery, ticket

from ticketpilot.gate.deliveries import TICKET_CREATED
from ticketpilot.gate.inbox_worker import InboxWorker


async def _lock_waiters(pool: asyncpg.Pool) -> int:
    return int(
        await pool.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    )


@pytest.fixture
async def h(pool: asyncpg.Pool) -> AsyncIterator[Harness]:
    harness = build_harness(pool)
    yield harness
    await harness.close()


async def test_a_second_delivery_racing_the_first_start_issues_no_second_start(
    h: Harness, pool: asyncpg.Pool
) -> None:
    h.tickets.seed(ticket(21, email="user21@contoso.com"))
    await h.intake.receive(TICKET_CREATED, [halo_delivery(21), halo_delivery(21)])  # two Halo ids
    first_start = asyncio.Event()
    calls = 0

    async def hold_the_first_start(ticket_id: int, context: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            return
        first_start.set()
        # Until the other worker either waits for this start (fixed) or issues its own (the race).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while calls == 1 and await _lock_waiters(pool) == 0:
            assert loop.time() < deadline, "the second worker neither waited nor started"
            await asyncio.sleep(0.01)

    h.engine.before_start = hold_the_first_start
    a = InboxWorker(pool, h.tickets, h.gate, h.engine, h.settings.halopsa, clock=h.clock, batch_size=1)
    b = InboxWorker(pool, h.tickets, h.gate, h.engine, h.settings.halopsa, clock=h.clock, batch_size=1)
    first = asyncio.create_task(a.run_once())
    await asyncio.wait_for(first_start.wait(), 20)
    assert await asyncio.wait_for(asyncio.gather(b.run_once(), first), 30) == [1, 1]

    assert [s["ticket_id"] for s in h.engine.starts] == [21], "one start for the ticket"
    assert await pool.fetchval("SELECT count(*) FROM classification_results") == 1
    assert await pool.fetchval("SELECT count(*) FROM webhook_inbox WHERE status = 'done'") == 2
