"""verification.manager: one card per attempt, signed links, the sandbox manager, SMS fallback, give-up."""

from __future__ import annotations

import re
from datetime import timedelta

import asyncpg
from test_services_support import build_harness, make_call, make_execution

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.sandbox.people import phone_of
from ticketpilot.services import ManagerApproval
from ticketpilot.steps import Failed, Signal, Succeeded, Waiting, Wake

EMAIL = "jane.doe@contoso.example"
MANAGER = "manager.jane.doe@contoso.example"


async def _signal_for(h, index: int = -1) -> Signal:  # type: ignore[no-untyped-def]
    call = h.sink.calls[index]
    return Signal(call.kind, call.payload)


async def test_card_goes_to_the_manager_once_per_attempt_and_the_step_parks(pool: asyncpg.Pool) -> None:
    h = build_harness(pool)
    service = h.steps["verification.manager"]
    call = make_call(await make_execution(pool), h.clock)
    first = await service.start(call)
    again = await service.start(call)  # a re-run after a crash: same idempotency key
    assert isinstance(first, Waiting) and isinstance(again, Waiting)
    assert first.signals == frozenset({"approve", "deny"})
    assert first.wake_at == call.started_at + timedelta(
        seconds=h.settings.sandbox.manager_sms_fallback_after_s
    )
    assert again.wake_at == first.wake_at
    assert first.outputs["approval_request_id"] == again.outputs["approval_request_id"]
    [card] = h.ledger.entries("teams_card")
    assert card.data["to"] == MANAGER
    assert card.data["request_id"] == first.outputs["approval_request_id"]
    rows = await pool.fetch("SELECT * FROM approval_requests")
    assert len(rows) == 1 and rows[0]["approver_email"] == MANAGER and rows[0]["card_posted_at"] is not None
    # The row holds hashes only: no token, no URL.
    assert all("approvals/" not in str(v) for v in rows[0].values())
    await h.cards.aclose()


async def test_sandbox_manager_approves_through_the_link_and_the_step_succeeds(pool: asyncpg.Pool) -> None:
    h = build_harness(pool)
    service = h.steps["verification.manager"]
    call = make_call(await make_execution(pool), h.clock)
    waiting = await service.start(call)
    assert isinstance(waiting, Waiting)
    await h.cards.drain()
    assert h.sleep.waits == [h.settings.sandbox.manager_approve_after_s]
    [signal_call] = h.sink.calls
    assert signal_call.kind == "approve"
    assert signal_call.dedupe_key == f"approval:{waiting.outputs['approval_request_id']}"
    assert signal_call.execution_id == call.execution_id
    outcome = await service.resume(call, await _signal_for(h))
    assert outcome == Succeeded(
        outputs={
            "approved_by": MANAGER,
            "channel": "teams",
            "approval_request_id": waiting.outputs["approval_request_id"],
        },
        summary=f"approved by {MANAGER} via teams",
    )
    [click] = h.ledger.entries("manager_click")
    assert click.data["accepted"] is True


async def test_manager_deny_fails_the_step_without_retry(pool: asyncpg.Pool) -> None:
    h = build_harness(pool)
    service = h.steps["verification.manager"]
    call = make_call(await make_execution(pool), h.clock, email="manager-deny.bo@contoso.example")
    await service.start(call)
    await h.cards.drain()
    assert [c.kind for c in h.sink.calls] == ["deny"]
    outcome = await service.resume(call, await _signal_for(h))
    assert isinstance(outcome, Failed)
    assert (outcome.error, outcome.retryable) == ("manager denied", False)
    assert outcome.outputs["denied_by"] == "manager.manager-deny.bo@contoso.example"


async def test_silent_manager_gets_an_sms_on_their_own_phone_then_the_step_gives_up(
    pool: asyncpg.Pool,
) -> None:
    email = "manager-silent.al@contoso.example"
    manager = "manager.manager-silent.al@contoso.example"
    h = build_harness(pool)
    service = h.steps["verification.manager"]
    call = make_call(
        await make_execution(pool),
        h.clock,
        email=email,
        context={"phone": "+19995550100", "ticket_phone": "+19995550199"},
    )
    waiting = await service.start(call)
    assert isinstance(waiting, Waiting) and waiting.wake_at is not None
    await h.cards.drain()
    assert h.sink.calls == []  # silent: no click
    h.clock.current = waiting.wake_at
    after_sms = await service.resume(call, Wake(waiting.wake_at))
    [sms] = h.ledger.entries("sms")
    assert sms.data["to"] == phone_of(manager)
    assert sms.data["to"] not in (phone_of(email), "+19995550100", "+19995550199")
    # The reply code is a secret: redacted in the ledger (and its file), and no hash of the body to guess it from.
    assert "Reply YES [REDACTED] to approve or NO [REDACTED] to deny" in sms.data["body"]
    assert not re.search(r"\d{6}", sms.data["body"]) and sms.data["body_sha256"] is None
    assert isinstance(after_sms, Waiting)
    give_up = call.started_at + timedelta(seconds=h.settings.sandbox.manager_timeout_s)
    assert after_sms.wake_at == give_up
    # A repeated wake before the give-up time sends no second SMS.
    again = await service.resume(call, Wake(waiting.wake_at))
    assert isinstance(again, Waiting) and len(h.ledger.entries("sms")) == 1
    h.clock.current = give_up
    outcome = await service.resume(call, Wake(give_up))
    assert outcome == Failed("no answer from the manager in Teams or by SMS")


async def test_live_timing_waits_for_the_deadline_after_the_sms(pool: asyncpg.Pool) -> None:
    h = build_harness(pool, sms_fallback_after_s=300.0, manager_answer_timeout_s=None)
    service = h.steps["verification.manager"]
    call = make_call(await make_execution(pool), h.clock, email="manager-silent.al@contoso.example")
    waiting = await service.start(call)
    assert isinstance(waiting, Waiting) and waiting.wake_at == call.started_at + timedelta(seconds=300)
    h.clock.current = waiting.wake_at
    after_sms = await service.resume(call, Wake(waiting.wake_at))
    assert isinstance(after_sms, Waiting) and after_sms.wake_at is None
    row = await pool.fetchrow("SELECT expires_at, sms_sent_at FROM approval_requests")
    assert row["expires_at"] == call.deadline  # 30 min step timeout < 60 min approval_ttl_s
    assert row["sms_sent_at"] is not None
    await h.cards.aclose()


async def test_requester_without_manager_fails_without_retry(pool: asyncpg.Pool) -> None:
    h = build_harness(pool)
    call = make_call(await make_execution(pool), h.clock, email="no-manager.pat@contoso.example")
    outcome = await h.steps["verification.manager"].start(call)
    assert outcome == Failed("requester has no manager on record", retryable=False)
    assert h.ledger.entries("teams_card") == []


async def test_a_signal_without_a_recorded_decision_is_ignored(pool: asyncpg.Pool) -> None:
    h = build_harness(pool)
    service = h.steps["verification.manager"]
    call = make_call(await make_execution(pool), h.clock, email="manager-silent.al@contoso.example")
    waiting = await service.start(call)
    assert isinstance(waiting, Waiting)
    forged = Signal(
        "approve", {"request_id": waiting.outputs["approval_request_id"], "approver": "mallory@x"}
    )
    outcome = await service.resume(call, forged)
    assert isinstance(outcome, Waiting)
    assert outcome.wake_at == waiting.wake_at
    assert isinstance(await service.resume(call, Signal("approve", {"request_id": "not-a-uuid"})), Waiting)
    await h.cards.aclose()


class _FailingCards:
    def __init__(self) -> None:
        self.posted = 0

    async def post_card(self, card: dict[str, object]) -> None:
        self.posted += 1
        raise AdapterError("teams", "workflow unavailable", retryable=True, status=503, retry_after=10.0)


async def test_card_post_failure_is_retryable_and_a_rerun_posts_fresh_links(pool: asyncpg.Pool) -> None:
    h = build_harness(pool)
    failing = _FailingCards()
    broken = ManagerApproval(
        h.adapters.directory, failing, h.adapters.sms, h.desk,  # type: ignore[arg-type]
        public_url=h.deps.public_url, sms_fallback_after_s=5.0, approval_ttl_s=3600.0, clock=h.clock,
    )  # fmt: skip
    call = make_call(await make_execution(pool), h.clock)
    outcome = await broken.start(call)
    assert isinstance(outcome, Failed) and outcome.retryable and outcome.retry_after == 10.0
    before = await pool.fetchval("SELECT token_hash FROM approval_requests")
    # The same attempt re-run (crash before the card went out): the card is posted, with new links.
    waiting = await h.steps["verification.manager"].start(call)
    assert isinstance(waiting, Waiting)
    assert len(h.ledger.entries("teams_card")) == 1
    assert await pool.fetchval("SELECT token_hash FROM approval_requests") != before
    await h.cards.drain()
    assert [c.kind for c in h.sink.calls] == ["approve"]
