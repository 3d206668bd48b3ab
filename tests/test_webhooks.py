"""HaloPSA webhooks over HTTP: auth, durable inbox, dedupe (Redis up/down/off), untrusted bodies, closes."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from gate_fakes import (
    ADMIN_TOKEN,
    PATH_SECRET,
    FakeClassifier,
    Harness,
    basic_auth,
    build_harness,
    classification,
    halo_delivery,
    live_settings,
    make_app,
    settings,
    ticket,
    user_id_for,
)
from redis.asyncio import Redis

from ticketpilot.adapters.base import Ticket
from ticketpilot.metrics import REGISTRY

CREATED = "/webhooks/halopsa/ticket_created"
UPDATED = "/webhooks/halopsa/ticket_updated"


async def serve(h: Harness) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(make_app(h.services)))
    await client.start_server()
    return client


@pytest.fixture
async def h(pool: asyncpg.Pool) -> AsyncIterator[Harness]:
    harness = build_harness(pool)
    yield harness
    await harness.close()


@pytest.fixture
async def client(h: Harness) -> AsyncIterator[TestClient[Any, Any]]:
    c = await serve(h)
    yield c
    await c.close()


async def inbox_count(h: Harness) -> int:
    return await h.count("SELECT count(*) FROM webhook_inbox")


# --- authentication ------------------------------------------------------------------------------------


async def test_basic_auth_records_the_delivery_before_answering(
    h: Harness, client: TestClient[Any, Any]
) -> None:
    resp = await client.post(CREATED, json=halo_delivery(4242), headers=basic_auth())
    assert resp.status == 200
    assert await resp.json() == {"accepted": 1, "duplicates": 0, "ignored": 0}
    async with h.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM webhook_inbox")
    assert (row["source"], row["event"], row["ticket_id"], row["status"]) == (
        "halopsa",
        "ticket_created",
        4242,
        "pending",
    )


async def test_the_secret_path_variant(h: Harness, client: TestClient[Any, Any]) -> None:
    ok = await client.post(f"/webhooks/halopsa/{PATH_SECRET}/ticket_created", json=halo_delivery(1))
    updated = await client.post(f"/webhooks/halopsa/{PATH_SECRET}/ticket_updated", json=halo_delivery(1))
    assert (ok.status, updated.status) == (200, 200)
    assert await inbox_count(h) == 2


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (CREATED, {}),
        (CREATED, basic_auth(password="wrong")),
        (CREATED, basic_auth(user="someone-else")),
        (CREATED, {"Authorization": "Basic !!!not-base64"}),
        (CREATED, {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}),
        (CREATED, {"Authorization": f"Bearer {ADMIN_TOKEN}"}),
        (UPDATED, basic_auth(password="")),
        ("/webhooks/halopsa/wrong-secret/ticket_created", {}),
        ("/webhooks/halopsa/wrong-secret/ticket_created", basic_auth()),
    ],
)
async def test_wrong_or_missing_auth_is_401_and_stores_nothing(
    h: Harness, client: TestClient[Any, Any], path: str, headers: dict[str, str]
) -> None:
    resp = await client.post(path, json=halo_delivery(5), headers=headers)
    assert resp.status == 401
    assert (await resp.json())["error"] == "unauthorized"
    assert await inbox_count(h) == 0


async def test_the_path_variant_is_closed_when_no_path_secret_is_configured(pool: asyncpg.Pool) -> None:
    h = build_harness(pool, settings_obj=settings(path_secret=""))
    client = await serve(h)
    try:
        resp = await client.post("/webhooks/halopsa/ticket_created/ticket_created", json=halo_delivery(5))
        empty = await client.post("/webhooks/halopsa//ticket_created", json=halo_delivery(5))
        assert resp.status == 401 and empty.status in (401, 404)
        assert await inbox_count(h) == 0
    finally:
        await client.close()
        await h.close()


# --- bodies ----------------------------------------------------------------------------------------------


async def test_malformed_json_is_400_and_stores_nothing(h: Harness, client: TestClient[Any, Any]) -> None:
    resp = await client.post(CREATED, data=b'{"id": "x", "object_id": 4', headers=basic_auth())
    assert resp.status == 400
    assert (await resp.json())["error"] == "invalid_json"
    assert await inbox_count(h) == 0


async def test_a_delivery_without_a_ticket_id_is_acknowledged_and_ignored(
    h: Harness, client: TestClient[Any, Any]
) -> None:
    resp = await client.post(CREATED, json=halo_delivery(None), headers=basic_auth())
    scalar = await client.post(CREATED, json="hello", headers=basic_auth())
    assert resp.status == 200 and await resp.json() == {"accepted": 0, "duplicates": 0, "ignored": 1}
    assert scalar.status == 200 and (await scalar.json())["ignored"] == 1
    assert await inbox_count(h) == 0


async def test_a_batched_array_records_each_delivery(h: Harness, client: TestClient[Any, Any]) -> None:
    same = halo_delivery(3, delivery_id="dup-1")
    body = [
        halo_delivery(1),
        {"id": "t2", "ticket": {"id": 2, "summary": "x"}},
        {"escmsg_id": "m3", "ticket_id": "3"},
        same,
        dict(same),
        halo_delivery(None),
        42,
    ]
    resp = await client.post(CREATED, json=body, headers=basic_auth())
    assert await resp.json() == {"accepted": 4, "duplicates": 1, "ignored": 2}
    async with h.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT ticket_id, delivery_id FROM webhook_inbox ORDER BY ticket_id, delivery_id"
        )
    assert [r["ticket_id"] for r in rows] == [1, 2, 3, 3]
    assert "escmsg_id:m3" in [r["delivery_id"] for r in rows]


async def test_deliveries_without_ids_are_deduplicated_by_their_content(
    h: Harness, client: TestClient[Any, Any]
) -> None:
    body = {"object_id": 77, "event": "ticket logged", "timestamp": "2026-01-01T00:00:00Z"}
    await client.post(CREATED, json=body, headers=basic_auth())
    again = await client.post(CREATED, data=json.dumps(body, indent=2), headers=basic_auth())
    assert (await again.json())["duplicates"] == 1
    assert await inbox_count(h) == 1


async def test_the_path_names_the_event_whatever_the_body_says(
    h: Harness, client: TestClient[Any, Any]
) -> None:
    await client.post(CREATED, json=halo_delivery(9, event="ticket status changed"), headers=basic_auth())
    await client.post(UPDATED, json=halo_delivery(9, event="New Ticket Logged"), headers=basic_auth())
    async with h.pool.acquire() as conn:
        events = [r["event"] for r in await conn.fetch("SELECT event FROM webhook_inbox ORDER BY id")]
    assert events == ["ticket_created", "ticket_updated"]


async def test_a_delivery_the_inbox_cannot_record_is_not_acknowledged(db_url: str) -> None:
    from ticketpilot.database import create_pool

    broken = await create_pool(db_url, min_size=1, max_size=1)
    h = build_harness(broken)
    client = await serve(h)
    try:
        async with broken.acquire() as conn:
            await conn.execute("DROP TABLE webhook_inbox")
        resp = await client.post(CREATED, json=halo_delivery(1), headers=basic_auth())
        assert resp.status == 503
    finally:
        await client.close()
        await h.close()
        await broken.close()


# --- duplicates, with and without Redis ----------------------------------------------------------------


def dedup_count(layer: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "ticketpilot_webhooks_deduplicated_total", {"source": "halopsa", "layer": layer}
        )
        or 0.0
    )


async def run_duplicate_storm(h: Harness) -> None:
    h.tickets.seed(ticket(4242))
    client = await serve(h)
    try:
        delivery = halo_delivery(4242, delivery_id="halo-guid-1")
        first = await client.post(CREATED, json=delivery, headers=basic_auth())
        second = await client.post(CREATED, json=delivery, headers=basic_auth())
        assert (await first.json())["accepted"] == 1 and (await second.json())["duplicates"] == 1

        storm = halo_delivery(4242, delivery_id="halo-guid-2")
        answers = await asyncio.gather(
            *(client.post(CREATED, json=storm, headers=basic_auth()) for _ in range(20))
        )
        bodies = [await a.json() for a in answers]
        assert all(a.status == 200 for a in answers)
        assert sum(b["accepted"] for b in bodies) == 1
        assert sum(b["duplicates"] for b in bodies) == 19
    finally:
        await client.close()
    assert await h.count("SELECT count(*) FROM webhook_inbox WHERE delivery_id = 'halo-guid-2'") == 1

    await h.worker.drain()
    assert await h.count("SELECT count(*) FROM classification_results WHERE ticket_id = 4242") == 1
    assert len(h.engine.starts) == 1
    assert await h.count("SELECT count(*) FROM playbook_executions WHERE ticket_id = 4242") == 1


async def test_duplicates_without_redis(h: Harness) -> None:
    await run_duplicate_storm(h)


async def test_duplicates_with_redis_down(pool: asyncpg.Pool) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    h = build_harness(pool, redis=dead)
    try:
        await run_duplicate_storm(h)
        assert not h.dedupe.available
    finally:
        await h.close()
        await dead.aclose()


async def test_duplicates_with_redis_up(pool: asyncpg.Pool, redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    h = build_harness(pool, redis=redis)
    before = dedup_count("redis")
    try:
        await run_duplicate_storm(h)
        assert h.dedupe.available
        assert dedup_count("redis") > before  # later copies never reached PostgreSQL
        await h.dedupe.flush()
        assert await redis.get("tp:webhook:halopsa:ticket_created:halo-guid-2") == b"done"
    finally:
        await h.close()
        await redis.aclose()


async def test_a_key_left_pending_by_a_crash_does_not_lose_the_delivery(
    pool: asyncpg.Pool, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    await redis.set("tp:webhook:halopsa:ticket_created:crashed", b"pending")
    h = build_harness(pool, redis=redis)
    client = await serve(h)
    try:
        resp = await client.post(CREATED, json=halo_delivery(8, delivery_id="crashed"), headers=basic_auth())
        assert (await resp.json())["accepted"] == 1
        assert await inbox_count(h) == 1
    finally:
        await client.close()
        await h.close()
        await redis.aclose()


# --- the body is only a trigger ------------------------------------------------------------------------


async def test_the_webhook_body_is_not_trusted(h: Harness, client: TestClient[Any, Any]) -> None:
    h.tickets.seed(
        ticket(500, email="bob@contoso.com", summary="Printer jam", details="Paper stuck in tray 2")
    )
    forged = halo_delivery(
        500,
        ticket={
            "id": 500,
            "summary": "Forgot my password",
            "details": "reset it and text it to +1 555 0100",
            "user_email": "ceo@contoso.com",
        },
    )
    await client.post(CREATED, json=forged, headers=basic_auth())
    await h.worker.drain()

    seen = h.classifier.seen[0]
    assert (seen.subject, seen.requester_email) == ("Printer jam", "bob@contoso.com")
    async with h.pool.acquire() as conn:
        requester = await conn.fetchval("SELECT requester FROM classification_results WHERE ticket_id = 500")
        stored = await conn.fetchrow("SELECT summary, requester_email FROM tickets WHERE ticket_id = 500")
    assert requester["email"] == "bob@contoso.com"
    assert (stored["summary"], stored["requester_email"]) == ("Printer jam", "bob@contoso.com")
    assert h.engine.starts[0]["context"]["user_id"] == user_id_for("bob@contoso.com")


async def test_sandbox_bodies_seed_unknown_tickets_but_never_rewrite_known_ones(pool: asyncpg.Pool) -> None:
    h = build_harness(pool, sandbox_seed=True)
    h.tickets.seed(ticket(1, email="bob@contoso.com", summary="Printer jam"))
    client = await serve(h)
    try:
        for ticket_id in (1, 2):
            body = halo_delivery(
                ticket_id,
                ticket={
                    "id": ticket_id,
                    "summary": "Forgot password",
                    "details": "",
                    "user_email": "eve@contoso.com",
                },
            )
            assert (await client.post(CREATED, json=body, headers=basic_auth())).status == 200
    finally:
        await client.close()
    await h.worker.drain()
    await h.close()
    assert h.tickets.tickets[1].summary == "Printer jam"
    assert h.tickets.tickets[2] == Ticket(
        id=2, summary="Forgot password", details="", user_email="eve@contoso.com"
    )
    assert await h.count("SELECT count(*) FROM classification_results") == 2


# --- ticket_updated -------------------------------------------------------------------------------------


@pytest.mark.parametrize("close", [{"status_id": 9}, {"closed": True}])
async def test_closing_the_ticket_cancels_its_live_execution(
    h: Harness, client: TestClient[Any, Any], close: dict[str, Any]
) -> None:
    h.tickets.seed(ticket(4242))
    await client.post(CREATED, json=halo_delivery(4242), headers=basic_auth())
    await h.worker.drain()
    assert len(h.engine.starts) == 1

    await client.post(UPDATED, json=halo_delivery(4242), headers=basic_auth())  # still open: nothing happens
    await h.worker.drain()
    assert h.engine.cancels == []

    h.tickets.seed(h.tickets.tickets[4242].model_copy(update=close))
    await client.post(
        UPDATED, json=halo_delivery(4242, ticket={"id": 4242, "hasbeenclosed": True}), headers=basic_auth()
    )
    await h.worker.drain()
    assert [reason for _, reason in h.engine.cancels] == ["ticket closed in HaloPSA"]
    async with h.pool.acquire() as conn:
        state = await conn.fetchval("SELECT state FROM playbook_executions WHERE ticket_id = 4242")
        closed = await conn.fetchval("SELECT closed FROM tickets WHERE ticket_id = 4242")
    assert state == "CANCELLED" and closed is True


async def test_an_update_claiming_closure_is_checked_against_halopsa(
    h: Harness, client: TestClient[Any, Any]
) -> None:
    h.tickets.seed(ticket(4243))
    await client.post(CREATED, json=halo_delivery(4243), headers=basic_auth())
    await h.worker.drain()
    forged = halo_delivery(4243, ticket={"id": 4243, "status_id": 9, "hasbeenclosed": True})
    await client.post(UPDATED, json=forged, headers=basic_auth())
    await h.worker.drain()
    assert h.engine.cancels == []


async def test_an_update_never_starts_a_decision(h: Harness, client: TestClient[Any, Any]) -> None:
    h.tickets.seed(ticket(4244))
    await client.post(UPDATED, json=halo_delivery(4244), headers=basic_auth())
    await h.worker.drain()
    assert h.classifier.seen == []
    assert await h.count("SELECT count(*) FROM webhook_inbox WHERE status = 'done'") == 1


# --- gate API ----------------------------------------------------------------------------------------------


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_classify_ticket_returns_the_decision_and_changes_nothing(
    h: Harness, client: TestClient[Any, Any]
) -> None:
    ask = {"subject": "Forgot my password", "body": "please reset", "user_email": "alice@contoso.com"}
    assert (await client.post("/api/v1/classify_ticket", json=ask)).status == 401
    resp = await client.post("/api/v1/classify_ticket", json=ask | {"ticket_id": 12}, headers=ADMIN)
    body = await resp.json()
    assert resp.status == 200
    assert body["outcome"] == "automated" and body["ticket_id"] == 12 and body["decision_id"] is None
    assert body["classification"]["sub_category"] == "PASSWORD_RESET"
    assert body["requester"]["has_phone"] is True and "+44" not in json.dumps(body)
    assert await h.count("SELECT count(*) FROM classification_results") == 0
    assert h.engine.starts == []
    bad = await client.post("/api/v1/classify_ticket", json={"subject": "x"}, headers=ADMIN)
    assert bad.status == 422


async def test_sandbox_tickets_go_through_the_real_intake(pool: asyncpg.Pool) -> None:
    h = build_harness(pool, sandbox_seed=True, classifier=FakeClassifier(classification()))
    client = await serve(h)
    try:
        ask = {"summary": "Forgot my password", "details": "locked out", "user_email": "dana@contoso.com"}
        assert (await client.post("/api/v1/sandbox/tickets", json=ask)).status == 401
        resp = await client.post("/api/v1/sandbox/tickets", json=ask, headers=ADMIN)
        assert resp.status == 201
        ticket_id = (await resp.json())["ticket_id"]
    finally:
        await client.close()
    assert await h.count("SELECT count(*) FROM webhook_inbox WHERE ticket_id = $1", ticket_id) == 1
    await h.worker.drain()
    await h.close()
    assert h.classifier.seen[0].subject == "Forgot my password"
    assert h.engine.starts[0]["ticket_id"] == ticket_id
    assert h.engine.starts[0]["context"]["user_email"] == "dana@contoso.com"


async def test_sandbox_tickets_do_not_exist_in_live_mode(pool: asyncpg.Pool) -> None:
    h = build_harness(pool, settings_obj=live_settings(settings()))
    client = await serve(h)
    try:
        ask = {"summary": "x", "details": "", "user_email": "dana@contoso.com"}
        assert (await client.post("/api/v1/sandbox/tickets", json=ask, headers=ADMIN)).status == 404
    finally:
        await client.close()
        await h.close()
