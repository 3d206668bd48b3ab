"""A vendor throttled or failing while a ticket is decided: the decision waits durably, then names the vendor.

The real gate, inbox worker and outbox worker with the live HaloPSA client, Graph directory (msal) and LLM
classifier (openai) pointed at the loopback vendor fakes, on the real database. The fakes answer 429 with
``Retry-After`` or 503; time is the inbox worker's clock, moved by the test (no sleeps). "A restart" is a new
worker and gate on the same database: the schedule lives in the inbox row.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from fakes.graph import GraphFake
from fakes.halopsa import HaloPsaFake
from fakes.openai import OpenAiFake
from gate_fakes import FakeEngine, FakeRegistry, WallClock, candidate, halo_delivery
from pydantic import SecretStr

from ticketpilot.adapters.entra import GraphDirectory
from ticketpilot.adapters.halopsa import HaloPsaClient
from ticketpilot.config import EntraConfig, HalopsaConfig, LlmConfig, PolicyConfig
from ticketpilot.gate.dedupe import RedisDedupe
from ticketpilot.gate.deliveries import TICKET_CREATED
from ticketpilot.gate.enrichment import RequesterResolver
from ticketpilot.gate.inbox_worker import InboxWorker
from ticketpilot.gate.inbox_writer import InboxWriter
from ticketpilot.gate.intake import WebhookIntake
from ticketpilot.gate.llm import LlmClassifier
from ticketpilot.gate.outbox import OutboxWorker
from ticketpilot.gate.policy import RuntimePolicy
from ticketpilot.gate.service import Gate

MAX_DELAY_S = 900.0
TICKET = 7001
OPENAI_KEY = "sk-test-unavailable"
ANSWER = {
    "category": "REQUEST",
    "sub_category": "PASSWORD_RESET",
    "confidence": 0.95,
    "reasoning": "The requester forgot the password of their own work account.",
    "own_account": True,
    "risk_flags": [],
}


async def _no_sleep(_seconds: float) -> None:
    """The adapters' in-process backoff, skipped (the waits under test are the inbox row's)."""


@dataclass
class World:
    pool: asyncpg.Pool
    halo: HaloPsaFake
    graph: GraphFake
    openai: OpenAiFake
    clock: WallClock
    engine: FakeEngine
    halo_config: HalopsaConfig
    closers: list[Any]

    def gate_and_worker(self) -> tuple[InboxWorker, OutboxWorker]:
        """A fresh gate, inbox worker and outbox worker (a restarted process) on the same database."""
        halo_client = HaloPsaClient(self.halo_config, sleep=_no_sleep)
        directory = GraphDirectory(
            EntraConfig(
                tenant_id="contoso-tenant",
                client_id="graph-app",
                client_secret=SecretStr("graph-secret"),
                authority_url=self.graph.authority_url,
                graph_url=self.graph.graph_url,
            ),
            sleep=_no_sleep,
        )
        classifier = LlmClassifier(
            LlmConfig(
                base_url=self.openai.base_url, api_key=SecretStr(OPENAI_KEY), timeout_s=5, max_retries=0
            )
        )
        self.closers += [halo_client.aclose, directory.aclose, classifier.aclose]
        outbox = OutboxWorker(self.pool, halo_client, self.halo_config, clock=self.clock)
        gate = Gate(
            pool=self.pool,
            classifier=classifier,
            resolver=RequesterResolver(directory, ttl_s=300),
            registry=FakeRegistry([candidate()]),
            policy=RuntimePolicy(PolicyConfig(), clock=self.clock),
            engine=self.engine,
            taxonomy=LlmConfig().taxonomy,
            outbox_wake=outbox.wake,
        )
        worker = InboxWorker(
            self.pool,
            halo_client,
            gate,
            self.engine,
            self.halo_config,
            clock=self.clock,
            rng=random.Random(7),
            max_decision_delay_s=MAX_DELAY_S,
        )
        return worker, outbox

    async def receive_webhook(self) -> None:
        writer = InboxWriter(self.pool)
        try:
            await WebhookIntake(writer, RedisDedupe(None, ttl_s=60)).receive(
                TICKET_CREATED, halo_delivery(TICKET)
            )
        finally:
            await writer.stop()

    async def inbox(self) -> asyncpg.Record:
        row: asyncpg.Record = await self.pool.fetchrow(
            "SELECT * FROM webhook_inbox WHERE ticket_id = $1", TICKET
        )
        return row

    async def decisions(self) -> list[asyncpg.Record]:
        return list(
            await self.pool.fetch("SELECT * FROM classification_results WHERE ticket_id = $1", TICKET)
        )

    async def outbox_rows(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM outbox WHERE ticket_id = $1", TICKET))

    def halo_writes(self) -> list[Any]:
        return [*self.halo.updates, *self.halo.notes]

    async def assert_nothing_decided_or_written(self) -> None:
        assert await self.decisions() == []
        assert await self.outbox_rows() == 0
        assert self.halo_writes() == []
        assert self.engine.starts == []


@pytest.fixture
async def w(pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    halo = HaloPsaFake(client_id="halo-client", client_secret="halo-secret", tenant="acme")
    graph = GraphFake(tenant_id="contoso-tenant", client_id="graph-app", client_secret="graph-secret")
    openai = OpenAiFake(api_key=OPENAI_KEY)
    for fake in (halo, graph, openai):
        await fake.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(graph.ca_file))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    user = graph.add_user(
        "alice@contoso.example",
        mail="alice@contoso.example",
        display_name="Alice",
        phones=[("+44 7700 900123", "mobile")],
    )
    halo.add_user(501, email="alice@contoso.example", azureoid=user.id, name="Alice")
    halo.add_ticket(
        TICKET,
        summary="Forgot my password",
        details="I can't sign in to my work account since the holidays, I forgot my password.",
        user_id=501,
        user_email="alice@contoso.example",
    )
    openai.answer_with(ANSWER)
    halo_config = HalopsaConfig(
        base_url=halo.base_url,
        client_id="halo-client",
        client_secret=SecretStr("halo-secret"),
        tenant="acme",
    )
    w = World(pool, halo, graph, openai, WallClock(), FakeEngine(pool), halo_config, [])
    yield w
    for close in w.closers:
        await close()
    for fake in (halo, graph, openai):
        await fake.stop()
        assert fake.spec_errors == [], f"{fake.name}: {fake.spec_errors}"


async def wait_out(w: World, worker: InboxWorker, *, rounds: int = 40) -> int:
    """Move the clock to the row's next attempt and run the worker, until the row is no longer pending."""
    attempts = 0
    for _ in range(rounds):
        row = await w.inbox()
        if row["status"] != "pending":
            return attempts
        w.clock.set(max(row["next_attempt_at"], w.clock()))
        attempts += await worker.run_once()
    raise AssertionError("the inbox row is still pending")


async def test_graph_429_with_a_long_retry_after_defers_then_automates_after_a_restart(w: World) -> None:
    w.graph.fail_next(429, headers={"Retry-After": "120"}, path_contains="/v1.0/users/", method="GET")
    await w.receive_webhook()
    worker, _ = w.gate_and_worker()
    started = w.clock()
    assert await worker.run_once() == 1

    row = await w.inbox()
    assert row["status"] == "pending" and "directory_unavailable" in row["last_error"]
    assert row["deferred_since"] is not None
    wait = (row["next_attempt_at"] - started).total_seconds()
    assert 120 <= wait < 130, wait  # Retry-After honoured, durably
    await w.assert_nothing_decided_or_written()
    w.clock.advance(60)
    assert await worker.run_once() == 0  # not due yet

    # The process restarts: a new worker and gate continue the schedule from the row.
    worker, outbox = w.gate_and_worker()
    w.clock.set(row["next_attempt_at"])
    assert await worker.run_once() == 1
    assert (await w.inbox())["status"] == "done"
    [decision] = await w.decisions()
    assert decision["outcome"] == "automated", decision["blockers"]
    assert [s["ticket_id"] for s in w.engine.starts] == [TICKET]
    await outbox.drain()
    fields = {f["name"]: f["value"] for f in w.halo.tickets[TICKET]["customfields"]}
    assert fields["automation_status"] == "automated"


async def test_graph_failing_past_the_bound_is_manual_with_directory_unavailable(w: World) -> None:
    w.graph.fail_next(503, times=10_000, headers={"Retry-After": "60"}, path_contains="/v1.0/users/")
    await w.receive_webhook()
    worker, outbox = w.gate_and_worker()
    await worker.run_once()
    first = await w.inbox()
    await w.assert_nothing_decided_or_written()
    attempts = 1 + await wait_out(w, worker)

    row = await w.inbox()
    assert row["status"] == "done"
    # The last attempt came when the bound was reached, not before and not much later.
    assert row["deferred_since"] == first["deferred_since"]
    waited = w.clock() - row["deferred_since"]
    assert timedelta(seconds=MAX_DELAY_S) <= waited < timedelta(seconds=MAX_DELAY_S + 30), waited
    assert 3 <= attempts <= 16, attempts
    [decision] = await w.decisions()
    names = [b["name"] for b in _json(decision["blockers"])]
    assert decision["outcome"] == "manual" and names == ["directory_unavailable"]
    assert w.engine.starts == []
    await outbox.drain()
    [note] = w.halo.notes
    assert "directory_unavailable" in note["note"] and "requester_unresolved" not in note["note"]


async def test_halopsa_throttling_the_ticket_read_defers_then_decides(w: World) -> None:
    w.halo.fail_next(
        429, headers={"Retry-After": "300"}, path_contains=f"/api/Tickets/{TICKET}", method="GET"
    )
    await w.receive_webhook()
    worker, _ = w.gate_and_worker()
    start = w.clock()
    await worker.run_once()
    row = await w.inbox()
    assert "halopsa_unavailable" in row["last_error"]
    assert (row["next_attempt_at"] - start).total_seconds() >= 300
    await w.assert_nothing_decided_or_written()
    await wait_out(w, worker)
    [decision] = await w.decisions()
    assert decision["outcome"] == "automated"


async def test_halopsa_failing_past_the_bound_is_manual_with_halopsa_unavailable(w: World) -> None:
    w.halo.fail_next(
        503, times=10_000, headers={"Retry-After": "45"}, path_contains=f"/api/Tickets/{TICKET}", method="GET"
    )
    await w.receive_webhook()
    worker, outbox = w.gate_and_worker()
    await wait_out(w, worker)
    [decision] = await w.decisions()
    names = [b["name"] for b in _json(decision["blockers"])]
    assert decision["outcome"] == "manual" and names == ["halopsa_unavailable"]
    assert w.openai.requests == []  # nothing to classify: the ticket was never read
    assert w.engine.starts == []
    # HaloPSA is back: the decision is written to the ticket.
    w.halo.clear_failures()
    await outbox.drain()
    fields = {f["name"]: f["value"] for f in w.halo.tickets[TICKET]["customfields"]}
    assert fields["automation_status"] == "manual"
    [note] = w.halo.notes
    assert "halopsa_unavailable" in note["note"]


async def test_llm_429_defers_then_automates(w: World) -> None:
    w.openai.fail_next(
        429,
        headers={"Retry-After": "90"},
        body={"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
    )
    await w.receive_webhook()
    worker, _ = w.gate_and_worker()
    start = w.clock()
    await worker.run_once()
    row = await w.inbox()
    assert "llm_unavailable" in row["last_error"]
    assert (row["next_attempt_at"] - start).total_seconds() >= 90
    await w.assert_nothing_decided_or_written()
    await wait_out(w, worker)
    [decision] = await w.decisions()
    assert decision["outcome"] == "automated"


async def test_llm_failing_past_the_bound_is_manual_with_llm_unavailable(w: World) -> None:
    w.openai.fail_next(
        503, times=10_000, body={"error": {"message": "overloaded", "type": "server_error", "code": None}}
    )
    await w.receive_webhook()
    worker, outbox = w.gate_and_worker()
    await wait_out(w, worker)
    [decision] = await w.decisions()
    names = [b["name"] for b in _json(decision["blockers"])]
    assert decision["outcome"] == "manual" and names[0] == "llm_unavailable", names
    assert "classifier_error" not in names
    await outbox.drain()
    assert any("llm_unavailable" in n["note"] for n in w.halo.notes)


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value
