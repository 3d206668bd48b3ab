"""The HaloPSA outbox: nothing lost while HaloPSA is down, growing backoff, order per ticket, one note."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
import pytest
from gate_fakes import FakeTickets, WallClock

from ticketpilot.adapters.base import AdapterError
from ticketpilot.config import HalopsaConfig
from ticketpilot.gate.outbox import ESCALATE, FIELDS, NOTE, RESOLVE, OutboxMessage, OutboxWorker, enqueue
from ticketpilot.metrics import REGISTRY


def worker(pool: asyncpg.Pool, tickets: Any, clock: WallClock, **halopsa: Any) -> OutboxWorker:
    return OutboxWorker(pool, tickets, HalopsaConfig(**halopsa), clock=clock, rng=random.Random(7))


async def queue(pool: asyncpg.Pool, *messages: OutboxMessage) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, messages)


def decision_rows(ticket_id: int) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            FIELDS, ticket_id, {"custom_fields": {"automation_status": "manual"}}, f"d{ticket_id}:f"
        ),
        OutboxMessage(NOTE, ticket_id, {"note": f"decision for {ticket_id}"}, f"d{ticket_id}:n"),
    ]


async def rows(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return list(await conn.fetch("SELECT * FROM outbox ORDER BY id"))


def backlog_gauge() -> float | None:
    return REGISTRY.get_sample_value("ticketpilot_outbox_backlog")


async def test_rows_are_delivered_in_order_and_the_backlog_empties(pool: asyncpg.Pool) -> None:
    tickets = FakeTickets()
    await queue(pool, *decision_rows(1), *decision_rows(2))
    w = worker(pool, tickets, WallClock())
    assert await w.update_backlog() == 4 and backlog_gauge() == 4
    assert await w.drain() == 4
    per_ticket = {t: [kind for kind, tid, _ in tickets.writes if tid == t] for t in (1, 2)}
    assert per_ticket == {1: ["fields", "note"], 2: ["fields", "note"]}
    assert all(r["delivered_at"] is not None for r in await rows(pool))
    assert backlog_gauge() == 0


async def test_the_same_write_is_queued_once(pool: asyncpg.Pool) -> None:
    await queue(pool, *decision_rows(1))
    await queue(pool, *decision_rows(1))
    assert len(await rows(pool)) == 2
    with pytest.raises(ValueError, match="unknown outbox kind"):
        await queue(pool, OutboxMessage("halopsa.delete_everything", 1, {}, "x"))


async def test_halopsa_down_keeps_rows_pending_with_growing_backoff_then_delivers_everything(
    pool: asyncpg.Pool,
) -> None:
    tickets = FakeTickets()
    clock = WallClock()
    w = worker(pool, tickets, clock)
    await queue(pool, *decision_rows(1))
    tickets.down = True

    delays: list[float] = []
    for attempt in range(1, 6):
        assert await w.run_once() == 1  # the head row is tried, and rescheduled
        head, second = await rows(pool)
        assert head["attempts"] == attempt and "503" in head["last_error"]
        assert head["delivered_at"] is None and head["failed_at"] is None
        assert second["attempts"] == 0  # the ticket's later write waits for the earlier one
        delays.append((head["next_attempt_at"] - clock()).total_seconds())
        assert await w.run_once() == 0  # not due yet: nothing is attempted
        assert (await rows(pool))[0]["attempts"] == attempt
        clock.set(head["next_attempt_at"])
    assert delays == sorted(delays) and delays[-1] > 4 * delays[0]
    assert await w.update_backlog() == 2

    tickets.down = False
    assert await w.drain() == 2
    assert [kind for kind, _, _ in tickets.writes] == ["fields", "note"]
    assert await w.update_backlog() == 0


async def test_retry_after_is_honoured_as_the_minimum_wait(pool: asyncpg.Pool) -> None:
    class Throttled(FakeTickets):
        async def update_ticket(self, ticket_id: int, **kwargs: Any) -> None:
            raise AdapterError("fake-halopsa", "429", retryable=True, status=429, retry_after=120)

    clock = WallClock()
    await queue(pool, *decision_rows(1))
    await worker(pool, Throttled(), clock).run_once()
    (head, _) = await rows(pool)
    assert (head["next_attempt_at"] - clock()).total_seconds() >= 119


async def test_a_refused_row_is_marked_failed_and_does_not_block_the_ticket(pool: asyncpg.Pool) -> None:
    class RefusesFields(FakeTickets):
        async def update_ticket(self, ticket_id: int, **kwargs: Any) -> None:
            raise AdapterError("fake-halopsa", "400 unknown custom field", retryable=False, status=400)

    tickets = RefusesFields()
    await queue(pool, *decision_rows(1))
    w = worker(pool, tickets, WallClock())
    await w.drain()
    fields, note = await rows(pool)
    assert fields["failed_at"] is not None and "unknown custom field" in fields["last_error"]
    assert note["delivered_at"] is not None
    assert await w.update_backlog() == 0


async def test_resolve_posts_the_note_then_the_resolved_status(pool: asyncpg.Pool) -> None:
    tickets = FakeTickets()
    await queue(pool, OutboxMessage(RESOLVE, 5, {"note": "Resolved: TAP sent by SMS."}, "e:resolve"))
    await worker(pool, tickets, WallClock(), status_resolved_id=18).drain()
    assert tickets.writes == [
        ("note", 5, "Resolved: TAP sent by SMS."),
        ("fields", 5, {"custom_fields": None, "status_id": 18}),
    ]


async def test_a_failed_status_change_is_retried_without_posting_the_note_twice(pool: asyncpg.Pool) -> None:
    class StatusFlaky(FakeTickets):
        fail_status = True

        async def update_ticket(self, ticket_id: int, **kwargs: Any) -> None:
            if self.fail_status:
                raise AdapterError("fake-halopsa", "502", retryable=True, status=502)
            await super().update_ticket(ticket_id, **kwargs)

    tickets = StatusFlaky()
    clock = WallClock()
    w = worker(pool, tickets, clock)
    await queue(pool, OutboxMessage(RESOLVE, 5, {"note": "done"}, "e:resolve"))
    await w.run_once()
    (row,) = await rows(pool)
    assert row["payload"]["note_delivered"] is True and row["delivered_at"] is None
    tickets.fail_status = False
    clock.set(row["next_attempt_at"])
    await w.drain()
    assert [w_[0] for w_ in tickets.writes] == ["note", "fields"]


@pytest.mark.parametrize(
    ("payload", "config", "expected_note", "update"),
    [
        (
            {"reason": "Manager denied the request", "state": "ESCALATED"},
            {},
            "Manager denied the request",
            None,
        ),
        (
            {"note": "Over to you.", "team": "L1 Service Desk"},
            {"status_escalated_id": 5},
            "Handed to: team L1 Service Desk, status 5.",
            {"team": "L1 Service Desk", "status_id": 5},
        ),
        (
            {"note": "Over to you."},
            {"escalation_team": "Tier 2", "escalation_agent_id": 12, "escalation_priority_id": 3},
            "Handed to: team Tier 2, agent 12, priority 3.",
            {"team": "Tier 2", "agent_id": 12, "priority_id": 3},
        ),
        (  # the playbook's escalation block wins over the configured defaults, key by key
            {"reason": "denied", "escalation": {"team": "Identity", "priority_id": 1}},
            {"escalation_team": "Tier 2", "status_escalated_id": 5, "escalation_priority_id": 3},
            "Handed to: team Identity, status 5, priority 1.",
            {"team": "Identity", "status_id": 5, "priority_id": 1},
        ),
    ],
)
async def test_escalations_post_a_note_and_route_the_ticket(
    pool: asyncpg.Pool,
    payload: dict[str, Any],
    config: dict[str, Any],
    expected_note: str,
    update: dict[str, Any] | None,
) -> None:
    tickets = FakeTickets()
    await queue(pool, OutboxMessage(ESCALATE, 6, payload, "e:escalate"))
    await worker(pool, tickets, WallClock(), **config).drain()
    kind, _, note = tickets.writes[0]
    assert kind == "note" and expected_note in note
    updates = [{k: v for k, v in w[2].items() if v is not None} for w in tickets.writes[1:]]
    assert updates == ([update] if update else [])


async def test_a_malformed_row_is_failed_not_retried_forever(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO outbox (kind, ticket_id, payload, dedupe_key)"
            " VALUES ('halopsa.note', 1, '{}', 'bad')"
        )
    tickets = FakeTickets()
    await worker(pool, tickets, WallClock()).drain()
    (row,) = await rows(pool)
    assert row["failed_at"] is not None and "note" in row["last_error"]
    assert tickets.writes == []


async def test_two_workers_share_the_table_and_deliver_each_row_once(pool: asyncpg.Pool) -> None:
    class Slow(FakeTickets):
        async def add_note(self, ticket_id: int, note: str, *, private: bool = True) -> None:
            await asyncio.sleep(0.01)
            await super().add_note(ticket_id, note, private=private)

    tickets = Slow()
    for ticket_id in range(1, 21):
        await queue(pool, *decision_rows(ticket_id))
    clock = WallClock()
    a, b = worker(pool, tickets, clock), worker(pool, tickets, clock)
    await asyncio.gather(a.drain(), b.drain(), a.drain())
    assert len(tickets.writes) == 40
    assert len({(kind, tid) for kind, tid, _ in tickets.writes}) == 40
    for ticket_id in range(1, 21):
        assert [k for k, t, _ in tickets.writes if t == ticket_id] == ["fields", "note"]


async def test_the_background_loop_delivers_when_woken(pool: asyncpg.Pool) -> None:
    delivered = asyncio.Event()

    class Signalling(FakeTickets):
        async def add_note(self, ticket_id: int, note: str, *, private: bool = True) -> None:
            await super().add_note(ticket_id, note, private=private)
            delivered.set()

    tickets = Signalling()
    w = OutboxWorker(pool, tickets, HalopsaConfig(), poll_s=60)
    task = asyncio.create_task(w.run())
    try:
        await asyncio.sleep(0.05)  # the loop is idle, waiting for a wake-up (its poll is a minute)
        await queue(pool, *decision_rows(1))
        w.wake()
        async with asyncio.timeout(5):
            await delivered.wait()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [k for k, _, _ in tickets.writes] == ["fields", "note"]


async def test_a_manual_decision_goes_to_the_configured_manual_queue(pool: asyncpg.Pool) -> None:
    tickets = FakeTickets()
    manual = {"custom_fields": {"automation_status": "manual"}, "route": "manual"}
    automated = {"custom_fields": {"automation_status": "automated"}}
    await queue(
        pool,
        OutboxMessage(FIELDS, 7, manual, "d7:fields"),
        OutboxMessage(FIELDS, 8, automated, "d8:fields"),
    )
    config = {"manual_team": "Triage", "manual_agent_id": 4, "manual_priority_id": 3}
    await worker(pool, tickets, WallClock(), **config).drain()
    by_ticket = {t: {k: v for k, v in w.items() if v is not None} for _, t, w in tickets.writes}
    assert by_ticket[7] == {
        "custom_fields": {"automation_status": "manual"},
        "team": "Triage",
        "agent_id": 4,
        "priority_id": 3,
    }
    assert by_ticket[8] == {"custom_fields": {"automation_status": "automated"}}


class _SlowTickets(FakeTickets):
    """HaloPSA that holds every write until ``release`` is set (a write in flight at a graceful stop)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def add_note(self, ticket_id: int, note: str, *, private: bool = True) -> None:
        self.started.set()
        await self.release.wait()
        await super().add_note(ticket_id, note, private=private)


async def test_a_graceful_stop_lets_the_write_in_flight_finish_and_claims_nothing_more(
    pool: asyncpg.Pool,
) -> None:
    tickets = _SlowTickets()
    outbox = worker(pool, tickets, WallClock())
    run = asyncio.create_task(outbox.run())
    try:
        await queue(pool, OutboxMessage(NOTE, 41, {"note": "in flight at the stop"}, "stop:1"))
        outbox.wake()
        await asyncio.wait_for(tickets.started.wait(), 10)
        stopping = asyncio.create_task(outbox.stop(grace_s=30))
        await queue(pool, OutboxMessage(NOTE, 42, {"note": "queued after the stop began"}, "stop:2"))
        outbox.wake()
        await asyncio.sleep(0)
        tickets.release.set()
        await asyncio.wait_for(stopping, 10)
        assert run.done()  # the loop ended by itself
        delivered = {r["ticket_id"]: r["delivered_at"] is not None for r in await rows(pool)}
        assert delivered == {41: True, 42: False}  # the write in flight finished; the later one waits
        assert tickets.writes == [("note", 41, "in flight at the stop")]
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)
