"""The manager-approval web flow and the Twilio webhooks, over HTTP against a real PostgreSQL.

Forged, replayed, expired or tampered answers change nothing (DESIGN §7.5); a GET never decides.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from structlog.testing import capture_logs
from test_services_support import Harness, build_harness, make_call, make_execution
from twilio.request_validator import RequestValidator

from ticketpilot.adapters.sandbox.people import phone_of
from ticketpilot.config import Settings
from ticketpilot.http import approvals as approvals_http
from ticketpilot.http.auth import SessionStore
from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import error_middleware
from ticketpilot.services import SANDBOX_TWILIO_TOKEN, ManagerApproval, SmsReports, build_approval_desk
from ticketpilot.steps import Failed, Signal, Succeeded, Waiting, Wake

SILENT = "manager-silent.al@contoso.example"
SILENT_MANAGER = "manager.manager-silent.al@contoso.example"
PUBLIC = "http://127.0.0.1:8080"
TWILIO_TOKEN = "test-twilio-token"


class CapturingCards:
    """A card poster that keeps the cards (and so the links) for the test to click."""

    def __init__(self) -> None:
        self.cards: list[dict[str, Any]] = []

    async def post_card(self, card: dict[str, Any]) -> None:
        self.cards.append(card)

    def link(self, title: str) -> str:
        return next(a["url"] for a in self.cards[-1]["actions"] if a["title"] == title)


class Handset:
    """The manager's phone: passes each SMS to the sandbox Twilio and keeps its real body, code included (the
    sandbox ledger redacts the code)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.bodies: list[str] = []

    async def send(
        self, to: str, body: str, *, idempotency_key: str, status_callback: str | None = None
    ) -> Any:
        self.bodies.append(body)
        return await self.inner.send(
            to, body, idempotency_key=idempotency_key, status_callback=status_callback
        )


@dataclass
class Flow:
    h: Harness
    client: TestClient[web.Request, web.Application]
    cards: CapturingCards
    service: ManagerApproval
    pool: asyncpg.Pool
    handset: Handset

    async def open(
        self, email: str = "jane.doe@contoso.example", timeout_s: float = 1800.0
    ) -> tuple[Any, Waiting]:
        call = make_call(await make_execution(self.pool), self.h.clock, email=email, timeout_s=timeout_s)
        waiting = await self.service.start(call)
        assert isinstance(waiting, Waiting)
        return call, waiting

    async def row(self, request_id: str) -> asyncpg.Record:
        row = await self.pool.fetchrow("SELECT * FROM approval_requests WHERE id = $1", UUID(request_id))
        assert row is not None
        return row


@pytest.fixture
async def flow(pool: asyncpg.Pool) -> AsyncIterator[Flow]:
    h = build_harness(pool)
    cards = CapturingCards()
    handset = Handset(h.adapters.sms)
    service = ManagerApproval(
        h.adapters.directory, cards, handset, h.desk,
        public_url=PUBLIC, sms_fallback_after_s=5.0, approval_ttl_s=3600.0, clock=h.clock,
    )  # fmt: skip
    app = web.Application(middlewares=[error_middleware])
    app[SERVICES] = SimpleNamespace(  # type: ignore[misc]
        settings=h.settings,
        extras={"approvals": h.desk, "sms_reports": SmsReports(h.sink)},
        sessions=SessionStore(ttl_s=60),
    )
    app.router.add_routes(approvals_http.routes)
    async with TestClient(TestServer(app)) as client:
        yield Flow(h, client, cards, service, pool, handset)


def _local(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    assert url.startswith(PUBLIC)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


async def test_get_shows_what_is_approved_and_changes_nothing(flow: Flow) -> None:
    _, waiting = await flow.open()
    path, query = _local(flow.cards.link("Approve"))
    for _ in range(3):  # link scanners, previews, the manager's own click
        resp = await flow.client.get(path, params=query)
        assert resp.status == 200
        assert resp.headers["Cache-Control"] == "no-store"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        page = await resp.text()
    assert "Jane Doe" in page and "#4242" in page and "Temporary Access Pass" in page
    assert '<form method="post"' in page and "Confirm approval" in page
    assert flow.h.sink.calls == []
    assert (await flow.row(str(waiting.outputs["approval_request_id"])))["decided_at"] is None


async def test_confirmed_approval_signals_once_and_a_replay_is_refused(flow: Flow) -> None:
    call, waiting = await flow.open()
    request_id = str(waiting.outputs["approval_request_id"])
    path, query = _local(flow.cards.link("Approve"))
    resp = await flow.client.post(path, data=query)
    assert resp.status == 200 and "Approved" in await resp.text()
    [signal] = flow.h.sink.calls
    assert (signal.execution_id, signal.kind, signal.dedupe_key) == (
        call.execution_id,
        "approve",
        f"approval:{request_id}",
    )
    assert (
        signal.payload["channel"] == "teams"
        and signal.payload["approver"] == "manager.jane.doe@contoso.example"
    )

    replay = await flow.client.post(path, data=query)
    assert replay.status == 403 and "already been answered" in await replay.text()
    deny_path, deny_query = _local(flow.cards.link("Deny"))
    other = await flow.client.post(deny_path, data=deny_query)
    assert other.status == 403
    assert (await flow.client.get(path, params=query)).status == 403
    assert len(flow.h.sink.calls) == 1
    row = await flow.row(request_id)
    assert (row["decision"], row["channel"]) == ("approve", "teams")


async def test_concurrent_confirmations_decide_once(flow: Flow) -> None:
    await flow.open()
    path, query = _local(flow.cards.link("Approve"))
    deny_path, deny_query = _local(flow.cards.link("Deny"))
    posts = [flow.client.post(path, data=query) for _ in range(4)] + [
        flow.client.post(deny_path, data=deny_query)
    ]
    statuses = sorted(r.status for r in await asyncio.gather(*posts))
    assert statuses == [200, 403, 403, 403, 403]
    assert len(flow.h.sink.calls) == 1


async def test_deny_link_delivers_deny(flow: Flow) -> None:
    await flow.open()
    path, query = _local(flow.cards.link("Deny"))
    assert "Confirm denial" in await (await flow.client.get(path, params=query)).text()
    resp = await flow.client.post(path, data=query)
    assert resp.status == 200 and "Denied" in await resp.text()
    assert [c.kind for c in flow.h.sink.calls] == ["deny"]


def _tampered(token: str) -> str:
    expiry, nonce, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{expiry}.{nonce}.{flipped}"


async def test_tampered_wrong_decision_and_unknown_links_are_403_and_change_nothing(flow: Flow) -> None:
    _, waiting = await flow.open()
    path, query = _local(flow.cards.link("Approve"))
    expiry, nonce, signature = query["t"].split(".")
    forged = [
        {**query, "t": _tampered(query["t"])},
        {**query, "d": "deny"},  # an approve token presented as a denial
        {**query, "t": f"{int(expiry) + 3600}.{nonce}.{signature}"},  # extended expiry
        {**query, "t": "garbage"},
        {"d": "approve"},
    ]
    for data in forged:
        assert (await flow.client.get(path, params=data)).status == 403
        resp = await flow.client.post(path, data=data)
        assert resp.status == 403 and resp.content_type == "text/html"
    other_id = "00000000-0000-4000-8000-000000000000"
    assert (await flow.client.post(f"/approvals/{other_id}", data=query)).status == 403
    assert (await flow.client.post("/approvals/not-a-uuid", data=query)).status == 403
    assert flow.h.sink.calls == []
    assert (await flow.row(str(waiting.outputs["approval_request_id"])))["decided_at"] is None
    # The genuine link still works afterwards.
    assert (await flow.client.post(path, data=query)).status == 200


async def test_expired_link_is_refused(flow: Flow) -> None:
    _, waiting = await flow.open(timeout_s=600.0)
    path, query = _local(flow.cards.link("Approve"))
    flow.h.clock.advance(601)
    resp = await flow.client.post(path, data=query)
    assert resp.status == 403 and "expired" in await resp.text()
    assert flow.h.sink.calls == []
    assert (await flow.row(str(waiting.outputs["approval_request_id"])))["decided_at"] is None


async def test_engine_failure_reopens_the_request_for_another_try(flow: Flow) -> None:
    _, waiting = await flow.open()
    path, query = _local(flow.cards.link("Approve"))
    flow.h.sink.fail_with = ConnectionError("database went away")
    resp = await flow.client.post(path, data=query)
    assert resp.status == 503
    assert (await flow.row(str(waiting.outputs["approval_request_id"])))["decided_at"] is None
    flow.h.sink.fail_with = None
    assert (await flow.client.post(path, data=query)).status == 200
    assert [c.kind for c in flow.h.sink.calls] == ["approve"]


# --- Twilio ------------------------------------------------------------------------------------------


def _signed(path: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(f"{PUBLIC}{path}", params)}


async def _sms_fallback(flow: Flow) -> tuple[Any, str, str]:
    """Open a request for a silent manager, pass the fallback time; return (call, request id, code)."""
    call, waiting = await flow.open(SILENT)
    assert waiting.wake_at is not None
    flow.h.clock.current = waiting.wake_at
    assert isinstance(await flow.service.resume(call, Wake(waiting.wake_at)), Waiting)
    [sms] = flow.h.ledger.entries("sms")
    assert sms.data["to"] == phone_of(SILENT_MANAGER)
    [body] = flow.handset.bodies
    match = re.search(r"YES (\d{6})", body)
    assert match
    assert match.group(1) not in str(sms.data), "the approval code never reaches the sandbox ledger"
    return call, str(waiting.outputs["approval_request_id"]), match.group(1)


async def _reply(flow: Flow, body: str, sender: str, headers: dict[str, str] | None = None) -> web.Response:
    path = "/webhooks/twilio/sms_response"
    params = {"MessageSid": "SM" + "0" * 32, "From": sender, "To": "+15005550006", "Body": body}
    return await flow.client.post(
        path, data=params, headers=headers if headers is not None else _signed(path, params)
    )  # type: ignore[return-value]


async def test_sms_yes_with_the_code_from_the_managers_phone_approves_once(flow: Flow) -> None:
    call, request_id, code = await _sms_fallback(flow)
    manager_phone = phone_of(SILENT_MANAGER)
    resp = await _reply(flow, f"  yes {code[:3]} {code[3:]} ", manager_phone)
    assert resp.status == 200
    assert resp.content_type == "text/xml" and "<Response/>" in await resp.text()
    [signal] = flow.h.sink.calls
    assert (signal.execution_id, signal.kind, signal.dedupe_key) == (
        call.execution_id,
        "approve",
        f"approval:{request_id}",
    )
    assert signal.payload["channel"] == "sms"
    assert (await _reply(flow, f"NO {code}", manager_phone)).status == 200  # late change of mind
    assert len(flow.h.sink.calls) == 1


async def test_sms_no_denies(flow: Flow) -> None:
    _, _, code = await _sms_fallback(flow)
    await _reply(flow, f"No {code}", phone_of(SILENT_MANAGER))
    assert [c.kind for c in flow.h.sink.calls] == ["deny"]


async def test_wrong_code_wrong_sender_or_bad_signature_change_nothing(flow: Flow) -> None:
    _, request_id, code = await _sms_fallback(flow)
    manager_phone = phone_of(SILENT_MANAGER)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert (await _reply(flow, f"YES {wrong}", manager_phone)).status == 200
    assert (await _reply(flow, f"YES {code}", phone_of(SILENT))).status == 200  # the requester's phone
    assert (await _reply(flow, "YES please", manager_phone)).status == 200
    bad = await _reply(
        flow, f"YES {code}", manager_phone, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    )
    assert bad.status == 403
    unsigned = await _reply(flow, f"YES {code}", manager_phone, headers={})
    assert unsigned.status == 403
    other_token = _signed(
        "/webhooks/twilio/sms_response", {"From": manager_phone, "Body": f"YES {code}"}, "other"
    )
    assert (await _reply(flow, f"YES {code}", manager_phone, headers=other_token)).status == 403
    assert flow.h.sink.calls == []
    assert (await flow.row(request_id))["decided_at"] is None
    # The right code from the right phone still works.
    await _reply(flow, f"YES {code}", manager_phone)
    assert [c.kind for c in flow.h.sink.calls] == ["approve"]


async def test_repeated_wrong_codes_lock_the_sms_channel(flow: Flow) -> None:
    _, _, code = await _sms_fallback(flow)
    manager_phone = phone_of(SILENT_MANAGER)
    for n in range(5):
        await _reply(flow, f"YES {(int(code) + 1 + n) % 10**6:06d}", manager_phone)
    await _reply(flow, f"YES {code}", manager_phone)
    assert flow.h.sink.calls == []


async def test_status_callback_checks_the_signature_and_logs_failures_masked(flow: Flow) -> None:
    path = "/webhooks/twilio/status"
    params = {
        "MessageSid": "SM" + "1" * 32,
        "MessageStatus": "undelivered",
        "To": "+15551234567",
        "ErrorCode": "30003",
    }
    with capture_logs() as logs:
        resp = await flow.client.post(path, data=params, headers=_signed(path, params))
    assert resp.status == 200
    [event] = [e for e in logs if e["event"] == "sms_delivery_failed"]
    assert event["error_code"] == "30003" and event["to"].endswith("67") and "1234567" not in event["to"]
    bad = await flow.client.post(path, data=params, headers={"X-Twilio-Signature": "x"})
    assert bad.status == 403
    assert flow.h.sink.calls == []  # no step named in the URL (e.g. the manager's fallback SMS): logged only


async def _texted(flow: Flow) -> tuple[Any, Waiting, str]:
    """A credential texted by ``delivery.sms`` (attempt 2), parked on its report; returns the local
    StatusCallback path (with its query) the message carries."""
    h, execution_id = flow.h, uuid4()  # the recording sink stands in for the engine: no execution row
    created = await h.steps["executor.reset_password"].start(make_call(execution_id, h.clock))
    assert isinstance(created, Succeeded)
    call = make_call(
        execution_id,
        h.clock,
        step_id="deliver_sms",
        attempt=2,
        secrets=dict(created.secrets),
    )
    waiting = await h.steps["delivery.sms"].start(call)
    assert isinstance(waiting, Waiting)
    [sms] = h.ledger.entries("sms")
    callback = str(sms.data["status_callback"])
    assert callback.startswith(f"{PUBLIC}/webhooks/twilio/status?")
    parked = replace(call, context={**call.context, "steps": {"deliver_sms": dict(waiting.outputs)}})
    return parked, waiting, callback.removeprefix(PUBLIC)


def _status(sid: str, status: str, error_code: str = "") -> dict[str, str]:
    params = {
        "AccountSid": "AC" + "0" * 32,
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "From": "+15005550006",
        "To": phone_of("jane.doe@contoso.example"),
        "ApiVersion": "2010-04-01",
    }
    return {**params, "ErrorCode": error_code} if error_code else params


async def test_an_undelivered_report_reaches_the_waiting_delivery_step_once(flow: Flow) -> None:
    call, waiting, path = await _texted(flow)
    sid = str(waiting.outputs["sid"])
    for status in ("sent", "undelivered", "undelivered"):  # an intermediate status, then a duplicate
        params = _status(sid, status, "30003" if status == "undelivered" else "")
        resp = await flow.client.post(path, data=params, headers=_signed(path, params))
        assert resp.status == 200 and "<Response/>" in await resp.text()
    [first, duplicate] = flow.h.sink.calls
    assert (first.execution_id, first.kind, first.dedupe_key) == (
        call.execution_id,
        "sms_status",
        f"sms:{sid}:undelivered",
    )
    assert first.payload == {
        "sid": sid,
        "status": "undelivered",
        "error_code": "30003",
        "step_id": "deliver_sms",
        "attempt": 2,
    }
    assert duplicate.dedupe_key == first.dedupe_key  # the engine ignores it (dedupe key)
    outcome = await flow.h.steps["delivery.sms"].resume(call, Signal(first.kind, first.payload))
    assert isinstance(outcome, Failed) and outcome.retryable
    assert outcome.error == "SMS undelivered (error 30003)"


async def test_a_status_callback_for_a_tampered_attempt_is_refused(flow: Flow) -> None:
    call, waiting, path = await _texted(flow)
    params = _status(str(waiting.outputs["sid"]), "failed", "30008")
    signed = _signed(path, params)
    for forged in (path.replace("a=2", "a=3"), path.replace(str(call.execution_id), str(uuid4()))):
        assert forged != path
        resp = await flow.client.post(forged, data=params, headers=signed)
        assert resp.status == 403
    assert flow.h.sink.calls == []


async def test_a_report_nobody_can_take_is_still_answered_200(flow: Flow) -> None:
    _, waiting, path = await _texted(flow)
    params = _status(str(waiting.outputs["sid"]), "delivered")
    flow.h.sink.fail_with = LookupError("no execution")  # e.g. a callback URL of another installation
    with capture_logs() as logs:
        assert (await flow.client.post(path, data=params, headers=_signed(path, params))).status == 200
    assert [e["signalled"] for e in logs if e["event"] == "sms_delivery_report"] == [False]
    flow.h.sink.fail_with = ConnectionError("database down")
    with capture_logs() as logs:
        assert (await flow.client.post(path, data=params, headers=_signed(path, params))).status == 200
    assert [e["log_level"] for e in logs if e["event"] == "sms_report_signal_failed"] == ["error"]


async def test_sandbox_mode_without_an_auth_token_uses_the_documented_sandbox_token(
    pool: asyncpg.Pool,
) -> None:
    desk = build_approval_desk(pool, Settings(), sink=lambda *a: None)  # type: ignore[arg-type]
    url = f"{PUBLIC}/webhooks/twilio/sms_response"
    params = {"From": "+15550000000", "Body": "YES 123456"}
    good = RequestValidator(SANDBOX_TWILIO_TOKEN).compute_signature(url, params)
    assert desk.twilio_signature_valid(url, params, good)
    assert not desk.twilio_signature_valid(
        url, params, RequestValidator("other").compute_signature(url, params)
    )
    assert not desk.twilio_signature_valid(url, params, "")


async def test_link_ttl_shorter_than_the_step_deadline_is_honoured(flow: Flow, pool: asyncpg.Pool) -> None:
    _, waiting = await flow.open(timeout_s=7200.0)
    row = await flow.row(str(waiting.outputs["approval_request_id"]))
    assert row["expires_at"] == flow.h.clock() + timedelta(seconds=3600)


async def test_teams_flow_action_decides_once_with_the_signed_token(flow: Flow) -> None:
    call, waiting = await flow.open()
    request_id = str(waiting.outputs["approval_request_id"])
    _, query = _local(flow.cards.link("Approve"))
    url = "/webhooks/teams/approval_action"
    forged = await flow.client.post(
        url, json={"request_id": request_id, "token": "x" * 40, "decision": "approve"}
    )
    assert forged.status == 403
    assert (await forged.json())["error"] == "approval_rejected"
    wrong = await flow.client.post(
        url, json={"request_id": request_id, "token": query["t"], "decision": "deny"}
    )
    assert wrong.status == 403
    assert flow.h.sink.calls == []

    ok = await flow.client.post(
        url, json={"request_id": request_id, "token": query["t"], "decision": "approve"}
    )
    assert ok.status == 200
    assert (await ok.json())["decision"] == "approve"
    replay = await flow.client.post(
        url, json={"request_id": request_id, "token": query["t"], "decision": "approve"}
    )
    assert replay.status == 403
    assert [(c.execution_id, c.kind) for c in flow.h.sink.calls] == [(call.execution_id, "approve")]
    bad = await flow.client.post(url, data=b"not json")
    assert bad.status == 400
