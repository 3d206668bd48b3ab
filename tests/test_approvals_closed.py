"""A finished or cancelled execution accepts no approval (DESIGN §7.8): its approve/deny links (GET and
POST), the Teams flow action and its SMS codes answer "no longer needed" and record nothing.

The approval desk here hands answers to the engine's real ``deliver_signal`` on a real PostgreSQL, so
"record nothing" covers the engine's signal table as well as ``approval_requests``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from service_support import BEARER, running_service
from test_approvals_http import CapturingCards
from test_services_support import Harness, build_harness, make_call, make_execution
from twilio.request_validator import RequestValidator

from ticketpilot.adapters.base import SmsReceipt, SmsSender
from ticketpilot.adapters.sandbox.people import phone_of
from ticketpilot.engine.signals import deliver_signal
from ticketpilot.http import approvals as approvals_http
from ticketpilot.http.auth import SessionStore
from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import error_middleware
from ticketpilot.services import ApprovalDesk, ManagerApproval
from ticketpilot.steps import Waiting, Wake

PUBLIC = "http://127.0.0.1:8080"
TWILIO_TOKEN = "test-twilio-token"
SILENT = "manager-silent.al@contoso.example"
SILENT_MANAGER = "manager.manager-silent.al@contoso.example"
ENDED = ["RESOLVED", "ESCALATED", "CANCELLED"]


class CapturingSms:
    """Passes SMS to the sandbox twin and keeps the bodies (the ledger redacts the code)."""

    def __init__(self, inner: SmsSender) -> None:
        self.inner = inner
        self.bodies: list[str] = []

    async def send(
        self, to: str, body: str, *, idempotency_key: str, status_callback: str | None = None
    ) -> SmsReceipt:
        self.bodies.append(body)
        return await self.inner.send(
            to, body, idempotency_key=idempotency_key, status_callback=status_callback
        )


class EngineSink:
    """The engine's own ``deliver_signal`` on the test database; ``end_first`` ends the execution just
    before the hand-over (the engine's terminal checkpoint winning the race against a click)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.end_first: str | None = None

    async def __call__(self, execution_id: UUID, kind: str, dedupe_key: str, payload: dict[str, Any]) -> bool:
        if self.end_first is not None:
            await end_execution(self.pool, execution_id, self.end_first)
        return await deliver_signal(self.pool, execution_id, kind, dedupe_key, payload)


class Flow:
    client: TestClient[web.Request, web.Application]

    def __init__(self, h: Harness, pool: asyncpg.Pool) -> None:
        self.h, self.pool = h, pool
        self.cards = CapturingCards()
        self.sms = CapturingSms(h.adapters.sms)
        self.sink = EngineSink(pool)
        self.desk = ApprovalDesk(
            pool,
            signing_key=b"test-signing-key",
            sink=self.sink,
            public_url=PUBLIC,
            twilio_auth_token=TWILIO_TOKEN,
            clock=h.clock,
        )
        self.service = ManagerApproval(
            h.adapters.directory, self.cards, self.sms, self.desk,
            public_url=PUBLIC, sms_fallback_after_s=5.0, approval_ttl_s=3600.0, clock=h.clock,
        )  # fmt: skip

    async def open(self, email: str = "jane.doe@contoso.example") -> tuple[Any, str]:
        call = make_call(await make_execution(self.pool), self.h.clock, email=email)
        waiting = await self.service.start(call)
        assert isinstance(waiting, Waiting)
        return call, str(waiting.outputs["approval_request_id"])

    async def sms_fallback(self) -> tuple[Any, str, str]:
        """A request for a silent manager past its fallback time: (call, request id, SMS code)."""
        execution_id = await make_execution(self.pool, ticket_id=4243)
        call = make_call(execution_id, self.h.clock, email=SILENT, ticket_id=4243)
        waiting = await self.service.start(call)
        assert isinstance(waiting, Waiting) and waiting.wake_at is not None
        self.h.clock.current = waiting.wake_at
        assert isinstance(await self.service.resume(call, Wake(waiting.wake_at)), Waiting)
        match = re.search(r"YES (\d{6})", self.sms.bodies[-1])
        assert match
        return call, str(waiting.outputs["approval_request_id"]), match.group(1)

    async def reply(self, body: str, sender: str) -> web.Response:
        path = "/webhooks/twilio/sms_response"
        params = {"MessageSid": "SM" + "0" * 32, "From": sender, "To": "+15005550006", "Body": body}
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{PUBLIC}{path}", params)
        return await self.client.post(path, data=params, headers={"X-Twilio-Signature": signature})  # type: ignore[return-value]

    async def recorded(self, request_id: str) -> tuple[Any, ...]:
        """What is stored of the answer: (decided_at, decision, channel, failed replies, engine signals)."""
        row = await self.pool.fetchrow("SELECT * FROM approval_requests WHERE id = $1", UUID(request_id))
        assert row is not None
        signals = await self.pool.fetchval(
            "SELECT count(*) FROM execution_signals WHERE execution_id = $1", row["execution_id"]
        )
        return (row["decided_at"], row["decision"], row["channel"], row["sms_failed_replies"], signals)


NOTHING = (None, None, None, 0, 0)


async def end_execution(pool: asyncpg.Pool, execution_id: UUID, state: str) -> None:
    """What the engine's terminal checkpoint leaves in ``playbook_executions``."""
    await pool.execute(
        "UPDATE playbook_executions SET state = $2, finished_at = now(), lease_until = NULL,"
        " cancel_reason = CASE WHEN $2 = 'CANCELLED' THEN 'ticket closed in HaloPSA' END"
        " WHERE execution_id = $1",
        execution_id,
        state,
    )


@pytest.fixture
async def flow(pool: asyncpg.Pool) -> AsyncIterator[Flow]:
    h = build_harness(pool)
    result = Flow(h, pool)
    app = web.Application(middlewares=[error_middleware])
    app[SERVICES] = SimpleNamespace(  # type: ignore[misc]
        settings=h.settings, extras={"approvals": result.desk}, sessions=SessionStore(ttl_s=60)
    )
    app.router.add_routes(approvals_http.routes)
    async with TestClient(TestServer(app)) as client:
        result.client = client
        yield result


def _local(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


@pytest.mark.parametrize("state", ENDED)
async def test_links_of_an_ended_execution_say_no_longer_needed_and_record_nothing(
    flow: Flow, state: str
) -> None:
    call, request_id = await flow.open()
    await end_execution(flow.pool, call.execution_id, state)
    for title in ("Approve", "Deny"):
        path, query = _local(flow.cards.link(title))
        shown = await flow.client.get(path, params=query)
        page = await shown.text()
        assert shown.status == 410 and "No longer needed" in page
        assert "<form" not in page and "Confirm" not in page
        confirmed = await flow.client.post(path, data=query)
        page = await confirmed.text()
        assert confirmed.status == 410 and "No longer needed" in page and "Nothing was recorded" in page
        action = await flow.client.post(
            "/webhooks/teams/approval_action",
            json={"request_id": request_id, "token": query["t"], "decision": query["d"]},
        )
        assert action.status == 410 and (await action.json())["detail"] == "closed"
    assert await flow.recorded(request_id) == NOTHING


@pytest.mark.parametrize("state", ENDED)
async def test_sms_codes_of_an_ended_execution_say_no_longer_needed_and_record_nothing(
    flow: Flow, state: str
) -> None:
    call, request_id, code = await flow.sms_fallback()
    await end_execution(flow.pool, call.execution_id, state)
    for word in ("YES", "NO"):
        resp = await flow.reply(f"{word} {code}", phone_of(SILENT_MANAGER))
        text = await resp.text()
        assert resp.status == 200 and resp.content_type == "text/xml"
        assert "<Message>" in text and "no longer needed" in text and "not recorded" in text
    # A wrong code is not an answer to anything: empty TwiML, as before.
    wrong = await flow.reply(f"YES {(int(code) + 1) % 10**6:06d}", phone_of(SILENT_MANAGER))
    assert "<Response/>" in await wrong.text()
    assert await flow.recorded(request_id) == NOTHING


async def test_a_link_already_answered_says_so_after_the_execution_ended(flow: Flow) -> None:
    """The approver's own earlier answer is the clearer story than "no longer needed"."""
    call, request_id = await flow.open()
    path, query = _local(flow.cards.link("Approve"))
    assert (await flow.client.post(path, data=query)).status == 200
    await end_execution(flow.pool, call.execution_id, "RESOLVED")
    replay = await flow.client.post(path, data=query)
    assert replay.status == 403 and "Already answered" in await replay.text()
    assert (await flow.recorded(request_id))[1] == "approve"


async def test_live_execution_still_takes_the_answer(flow: Flow) -> None:
    """The control: the same link and code are taken while the execution waits."""
    _, request_id = await flow.open()
    path, query = _local(flow.cards.link("Approve"))
    assert (await flow.client.get(path, params=query)).status == 200
    resp = await flow.client.post(path, data=query)
    assert resp.status == 200 and "Approved" in await resp.text()
    decided_at, decision, channel, _, signals = await flow.recorded(request_id)
    assert (decided_at is not None, decision, channel, signals) == (True, "approve", "teams", 1)

    _, sms_request, code = await flow.sms_fallback()
    resp = await flow.reply(f"NO {code}", phone_of(SILENT_MANAGER))
    assert "<Response/>" in await resp.text()
    assert (await flow.recorded(sms_request))[1:3] == ("deny", "sms")


@pytest.mark.parametrize("channel", ["link", "sms"])
async def test_an_execution_ending_during_the_answer_leaves_no_decision(flow: Flow, channel: str) -> None:
    """The engine's terminal checkpoint lands between the desk's decision and its hand-over."""
    flow.sink.end_first = "CANCELLED"
    if channel == "link":
        _, request_id = await flow.open()
        path, query = _local(flow.cards.link("Approve"))
        resp = await flow.client.post(path, data=query)
        assert resp.status == 410 and "No longer needed" in await resp.text()
    else:
        _, request_id, code = await flow.sms_fallback()
        resp = await flow.reply(f"YES {code}", phone_of(SILENT_MANAGER))
        assert "no longer needed" in await resp.text()
    decided_at, decision, _, _, _ = await flow.recorded(request_id)
    assert (decided_at, decision) == (None, None)
    unconsumed = await flow.pool.fetchval("SELECT count(*) FROM execution_signals WHERE consumed_at IS NULL")
    assert unconsumed == 0


async def test_a_cancelled_execution_makes_the_managers_link_say_no_longer_needed(
    db_url: str, tmp_path: Path
) -> None:
    """The reported case end to end on the running service: the manager's card is out, the execution is
    cancelled (here by an operator; a ticket closed in HaloPSA takes the same path) — then the manager
    clicks Approve."""
    async with running_service(db_url, tmp_path, sandbox={"manager_timeout_s": 30.0}) as svc:
        cards = svc.services.adapters.cards
        posted: list[dict[str, Any]] = []
        original = cards.post_card

        async def keep(card: dict[str, Any]) -> None:
            posted.append(card)
            await original(card)

        cards.post_card = keep  # type: ignore[method-assign]
        ticket_id = await svc.create_ticket(
            "Locked out of my account",
            "Hi, I'm locked out of my Microsoft 365 account after too many wrong password attempts. "
            "Can you unlock it or reset my password please?\nThanks, Bo",
            "manager-silent.bo@contoso.example",
        )
        deadline = asyncio.get_running_loop().time() + 20
        while not posted:  # the MFA push goes unanswered first, then the manager's card is posted
            assert asyncio.get_running_loop().time() < deadline, "no card to the manager within 20 s"
            await asyncio.sleep(0.05)
        execution = await svc.execution(ticket_id, timeout=20, until={"WAITING"})
        resp = await svc.client.post(
            f"/api/v1/executions/{execution['execution_id']}/cancel",
            json={"reason": "ticket closed"},
            headers=BEARER,
        )
        assert resp.status == 202
        assert (await svc.execution(ticket_id))["state"] == "CANCELLED"
        approve = next(a["url"] for a in posted[-1]["actions"] if a["title"] == "Approve")
        path, query = _local(approve)
        shown = await svc.client.get(path, params=query)
        assert shown.status == 410 and "No longer needed" in await shown.text()
        confirmed = await svc.client.post(path, data=query)
        assert confirmed.status == 410 and "Nothing was recorded" in await confirmed.text()
        undecided = await svc.services.pool.fetchval(
            "SELECT count(*) FROM approval_requests WHERE execution_id = $1 AND decided_at IS NULL",
            UUID(execution["execution_id"]),
        )
        decided = await svc.services.pool.fetchval(
            "SELECT count(*) FROM approval_requests WHERE decided_at IS NOT NULL"
        )
        assert (undecided, decided) == (1, 0)
