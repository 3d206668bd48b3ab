"""Webhook de-duplication keys are namespaced per deployment (issue 10, item 9): two deployments sharing one
Redis database never take each other's deliveries for duplicates."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
from redis.asyncio import Redis
from service_support import HALO_AUTH, Running, running_service

CREATED = "/webhooks/halopsa/ticket_created"


async def _done_keys(redis: Redis, pattern: str, timeout: float = 10.0) -> list[bytes]:
    """The keys matching ``pattern`` once one of them is marked ``done`` (the mark is written after the answer)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        keys = [k async for k in redis.scan_iter(match=pattern)]
        if keys and b"done" in [await redis.get(k) for k in keys]:
            return keys
        assert loop.time() < deadline, f"no key {pattern} marked done within {timeout}s"
        await asyncio.sleep(0.05)


async def _deliver(svc: Running, delivery_id: str, ticket_id: int | None = None) -> dict[str, int]:
    if ticket_id is None:
        ticket_id = await svc.create_ticket("Printer jam", "Paper stuck in tray 2", "bob@contoso.example")
    body = {"id": delivery_id, "event": "New Ticket Logged", "object_id": ticket_id}
    resp = await svc.client.post(CREATED, json=body, headers=HALO_AUTH)
    assert resp.status == 200, await resp.text()
    answer: dict[str, int] = await resp.json()
    return answer


async def _inbox_rows(svc: Running, delivery_id: str) -> int:
    return int(
        await svc.services.pool.fetchval(
            "SELECT count(*) FROM webhook_inbox WHERE delivery_id = $1", delivery_id
        )
    )


async def test_a_second_deployment_on_the_same_redis_records_the_same_delivery_id(
    db_url: str, empty_db_url: str, redis_url: str, tmp_path: Path
) -> None:
    redis = Redis.from_url(redis_url)
    try:
        async with running_service(db_url, tmp_path, redis={"url": redis_url}) as first:
            assert (await _deliver(first, "halo-shared-1"))["accepted"] == 1
            [first_key] = await _done_keys(redis, "*halopsa:ticket_created:halo-shared-1")
        async with running_service(empty_db_url, tmp_path, redis={"url": redis_url}) as second:
            answer = await _deliver(second, "halo-shared-1")
            assert (answer["accepted"], answer["duplicates"]) == (1, 0)
            assert await _inbox_rows(second, "halo-shared-1") == 1
            keys = await _done_keys(redis, "*halopsa:ticket_created:halo-shared-1")
            assert len(keys) == 2 and first_key in keys
            # Within one deployment a copy is still a duplicate.
            ticket_id = await second.services.pool.fetchval(
                "SELECT ticket_id FROM webhook_inbox WHERE delivery_id = 'halo-shared-1'"
            )
            assert (await _deliver(second, "halo-shared-1", ticket_id))["duplicates"] == 1
    finally:
        await redis.aclose()


async def test_a_configured_key_prefix_is_used(db_url: str, redis_url: str, tmp_path: Path) -> None:
    redis = Redis.from_url(redis_url)
    try:
        async with running_service(
            db_url, tmp_path, redis={"url": redis_url, "key_prefix": "acme-prod:"}
        ) as svc:
            await _deliver(svc, "halo-own-1")
            assert await _done_keys(redis, "*halo-own-1") == [
                b"acme-prod:webhook:halopsa:ticket_created:halo-own-1"
            ]
    finally:
        await redis.aclose()


async def test_the_default_prefix_is_stable_per_database_and_differs_between_databases(
    pool: asyncpg.Pool, empty_db_url: str
) -> None:
    from ticketpilot.gate.dedupe import deployment_key_prefix

    mine = await deployment_key_prefix(pool, "")
    assert re.fullmatch(r"tp:[0-9a-f]{12}:", mine)
    assert await deployment_key_prefix(pool, "") == mine  # every replica on this database agrees
    other = await asyncpg.create_pool(empty_db_url, min_size=1, max_size=1)
    try:
        assert await deployment_key_prefix(other, "") != mine
    finally:
        await other.close()
    assert await deployment_key_prefix(pool, "custom:") == "custom:"
