"""Intake internals: parsing deliveries, the group-commit inbox writer, and the inbox worker's retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from gate_fakes import Harness, build_harness, halo_delivery, ticket

from ticketpilot.gate.deliveries import (
    TICKET_CREATED,
    TICKET_UPDATED,
    Delivery,
    delivery_id_of,
    parse_body,
    ticket_id_of,
)
from ticketpilot.gate.inbox_writer import InboxWriter

# --- parsing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"object_id": 5, "ticket": {"id": 6}, "ticket_id": 7}, 5),
        ({"ticket": {"id": 6}, "ticket_id": 7}, 6),
        ({"ticket_id": "7"}, 7),
        ({"object_id": True, "ticket_id": 8}, 8),
        ({"object_id": -1}, None),
        ({"object_id": "12abc"}, None),
        ({"object_id": "١٢"}, None),
        ({"object_id": 2**63}, None),
        ({"ticket": "4242"}, None),
        ({}, None),
    ],
)
def test_the_ticket_id_is_the_only_field_read(item: dict[str, object], expected: int | None) -> None:
    assert ticket_id_of(item) == expected


def test_delivery_ids_prefer_halo_ids_then_a_content_hash() -> None:
    assert delivery_id_of({"id": "guid-1", "escmsg_id": "m-1"}) == "guid-1"
    assert delivery_id_of({"id": "", "escmsg_id": "m-1"}) == "escmsg_id:m-1"
    a = delivery_id_of({"object_id": 1, "event": "x"})
    assert a.startswith("sha256:") and a == delivery_id_of({"event": "x", "object_id": 1})
    assert a != delivery_id_of({"object_id": 2, "event": "x"})
    assert delivery_id_of({"id": "x" * 500}).startswith("sha256:")


def test_a_body_is_an_object_or_an_array_and_the_path_names_the_event() -> None:
    parsed = parse_body(TICKET_CREATED, [{"object_id": 1, "event": "ticket updated"}, {"nope": 1}, "x"])
    assert [(d.event, d.ticket_id) for d in parsed.deliveries] == [("ticket_created", 1)]
    assert len(parsed.ignored) == 2
    with pytest.raises(ValueError):
        parse_body("ticket_deleted", {})


# --- the inbox writer ----------------------------------------------------------------------------------


def delivery(ticket_id: int, delivery_id: str, **payload: object) -> Delivery:
    return Delivery("halopsa", "ticket_created", delivery_id, ticket_id, {"object_id": ticket_id, **payload})


async def test_concurrent_requests_share_commits_and_get_their_own_answers(pool: asyncpg.Pool) -> None:
    writer = InboxWriter(pool, flushers=1)
    try:
        requests = [[delivery(i, f"d{i}")] for i in range(100)]
        requests += [[delivery(1, "d1"), delivery(500, "d500")], [delivery(500, "d500")]]
        answers = await asyncio.gather(*(writer.record(r) for r in requests))
    finally:
        await writer.stop()
    assert answers[:100] == [[True]] * 100
    assert answers[100] + answers[101] in ([False, True, False], [False, False, True])
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM webhook_inbox") == 101
        transactions = await conn.fetchval("SELECT count(DISTINCT xmin::text) FROM webhook_inbox")
    assert transactions < 50  # grouped: far fewer commits than requests


async def test_a_nul_character_does_not_fail_the_batch(pool: asyncpg.Pool) -> None:
    writer = InboxWriter(pool)
    try:
        answers = await asyncio.gather(
            writer.record([delivery(1, "a", message="bad\x00byte")]), writer.record([delivery(2, "b")])
        )
    finally:
        await writer.stop()
    assert answers == [[True], [True]]


async def test_stop_writes_what_is_queued_then_refuses(pool: asyncpg.Pool) -> None:
    writer = InboxWriter(pool)
    pending = asyncio.gather(*(writer.record([delivery(i, f"s{i}")]) for i in range(10)))
    await asyncio.sleep(0)
    await writer.stop()
    assert await pending == [[True]] * 10
    with pytest.raises(RuntimeError):
        await writer.record([delivery(99, "late")])


# --- the inbox worker ----------------------------------------------------------------------------------


@pytest.fixture
async def h(pool: asyncpg.Pool) -> AsyncIterator[Harness]:
    harness = build_harness(pool)
    yield harness
    await harness.close()


async def inbox(h: Harness) -> asyncpg.Record:
    async with h.pool.acquire() as conn:
        return await conn.fetchrow("SELECT * FROM webhook_inbox")


async def test_halopsa_down_retries_with_backoff_then_decides(h: Harness) -> None:
    h.tickets.seed(ticket(10))
    h.tickets.down = True
    await h.intake.receive(TICKET_CREATED, halo_delivery(10))
    assert await h.worker.run_once() == 1
    row = await inbox(h)
    assert (row["status"], row["attempts"]) == ("pending", 1) and "503" in row["last_error"]
    first_wait = row["next_attempt_at"] - h.clock()
    assert first_wait.total_seconds() > 1
    assert await h.worker.run_once() == 0  # not due yet

    h.clock.set(row["next_attempt_at"])
    await h.worker.run_once()
    row = await inbox(h)
    assert row["attempts"] == 2 and row["next_attempt_at"] - h.clock() >= first_wait

    h.tickets.down = False
    h.clock.set(row["next_attempt_at"])
    await h.worker.drain()
    row = await inbox(h)
    assert row["status"] == "done" and row["processed_at"] is not None
    assert len(h.engine.starts) == 1


async def test_an_unknown_ticket_fails_without_retrying(h: Harness) -> None:
    await h.intake.receive(TICKET_CREATED, halo_delivery(404))
    await h.worker.drain()
    row = await inbox(h)
    assert row["status"] == "failed" and "404" in row["last_error"] and row["attempts"] == 1


async def test_an_update_row_fails_after_max_attempts(pool: asyncpg.Pool) -> None:
    # (A ticket_created row waits for a decision instead, bounded by gate.max_decision_delay_s:
    # tests/test_gate_vendor_unavailable.py.)
    h = build_harness(pool)
    h.worker._max_attempts = 3
    h.tickets.down = True
    await h.intake.receive(TICKET_UPDATED, halo_delivery(11))
    for _ in range(3):
        await h.worker.run_once()
        row = await inbox(h)
        h.clock.set(row["next_attempt_at"])
    await h.close()
    assert (row["status"], row["attempts"]) == ("failed", 3)


async def test_a_ticket_closed_before_its_decision_is_not_decided(h: Harness) -> None:
    h.tickets.seed(ticket(12, status_id=9))
    await h.intake.receive(TICKET_CREATED, halo_delivery(12))
    await h.worker.drain()
    assert (await inbox(h))["status"] == "done"
    assert h.classifier.seen == [] and h.engine.starts == []


async def test_two_workers_share_the_inbox_and_each_ticket_is_decided_once(
    h: Harness, pool: asyncpg.Pool
) -> None:
    from ticketpilot.gate.inbox_worker import InboxWorker

    for i in range(1, 16):
        h.tickets.seed(ticket(i, email=f"user{i}@contoso.com"))
        await h.intake.receive(
            TICKET_CREATED, [halo_delivery(i), halo_delivery(i)]
        )  # two Halo ids per ticket
    other = InboxWorker(pool, h.tickets, h.gate, h.engine, h.settings.halopsa, clock=h.clock)
    await asyncio.gather(h.worker.drain(), other.drain())
    assert await h.count("SELECT count(*) FROM webhook_inbox WHERE status = 'done'") == 30
    assert await h.count("SELECT count(*) FROM classification_results") == 15
    assert sorted(s["ticket_id"] for s in h.engine.starts) == list(range(1, 16))


async def test_the_worker_loop_is_woken_by_the_intake(h: Harness) -> None:
    started = asyncio.Event()

    async def signal(ticket_id: int, context: dict[str, object]) -> None:
        started.set()

    h.engine.before_start = signal
    h.tickets.seed(ticket(13))
    h.worker._poll_s = 60.0
    task = asyncio.create_task(h.worker.run())
    try:
        await asyncio.sleep(0.05)  # the loop is idle, waiting for a wake-up (its poll is a minute)
        await h.intake.receive(TICKET_CREATED, halo_delivery(13))
        async with asyncio.timeout(5):
            await started.wait()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert h.engine.starts[0]["ticket_id"] == 13
