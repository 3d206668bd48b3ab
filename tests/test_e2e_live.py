"""End to end, every adapter live against the vendor fakes: PRD §3.1 and §3.2, and what goes wrong.

The service runs in-process (``start_services`` + ``build_app``) on a real loopback port that is also its
``http.public_url``; HaloPSA, Graph (HTTPS for msal), the MFA connector, Teams, Twilio and OpenAI are the
loopback fakes of ``tests/fakes`` (spec-checked; any spec error fails the test). Tests act as the outside
world does: HaloPSA posts webhooks with Basic auth, the manager opens the Teams card's link and confirms by
POST, Twilio posts signed SMS replies and signed delivery reports (``StatusCallback``: ``sent``, then
``delivered`` unless a test scripts another outcome). Playbooks are the shipped ones (copied), except where
a test says.
Short waits come from configuration only: ``mfa.timeout_s = 1`` where the push goes unanswered,
``teams.sms_fallback_after_s = 1`` where the SMS fallback is exercised, outbox/inbox polls of 0.2 s.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from e2e_live_support import (
    SMS_CODE,
    TWILIO_MESSAGES_BODY,
    LiveService,
    Requester,
    ServiceFactory,
    VendorFakes,
    add_requester,
    halo_delivery,
    live_service,
    llm_answer,
    started_fakes,
)

from ticketpilot.logging import mask_phone

PASSWORD_RESET = llm_answer(
    "PASSWORD_RESET", 0.93, "The requester cannot sign in to their own work account and asks for help."
)


@pytest.fixture
async def fakes(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[VendorFakes]:
    async with started_fakes(monkeypatch) as all_fakes:
        yield all_fakes


@pytest.fixture
def service(fakes: VendorFakes, db_url: str, redis_url: str, tmp_path: Path) -> ServiceFactory:
    """``service(**overrides)``: the live service against ``fakes`` (``live_service`` keyword arguments)."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[LiveService]:
        return live_service(fakes, db_url=db_url, redis_url=redis_url, tmp_path=tmp_path, **overrides)

    return start


async def assert_tap_only_in_twilio_body(svc: LiveService, alice: Requester) -> str:
    """Exactly one TAP was issued; it reached the requester's phone on record, and nowhere else."""
    assert len(svc.fakes.graph.issued_taps) == 1, svc.fakes.graph.issued_taps
    tap = svc.fakes.graph.issued_taps[0]
    delivered = [m for m in svc.fakes.twilio.messages if tap in m["Body"]]
    assert [m["To"] for m in delivered] == [alice.phone]
    assert await svc.places_of(tap, ticket_id=alice.ticket_id) == {TWILIO_MESSAGES_BODY}
    # The search does look everywhere: non-secret values of this ticket are found in every source.
    # (No UUID probes the log: its phone masker can mangle a run of digits inside one.)
    control = await svc.places_of(alice.user.id, ticket_id=alice.ticket_id)
    assert {"db playbook_executions", "db classification_results"} <= control, control
    assert "log" in await svc.places_of(f'"ticket_id": {alice.ticket_id}', ticket_id=alice.ticket_id)
    assert any(p.startswith("graph GET /v1.0/users/") and p.endswith(" path") for p in control), control
    execution = await svc.execution(alice.ticket_id)
    assert execution is not None
    by_id = await svc.places_of(str(execution["execution_id"]), ticket_id=alice.ticket_id)
    assert f"api GET /api/v1/orchestration/execution/{alice.ticket_id}" in by_id, by_id
    by_mail = await svc.places_of(alice.user.mail, ticket_id=alice.ticket_id)
    assert any(p.startswith("openai POST /v1/chat/completions") for p in by_mail), by_mail
    return tap


# --- PRD §3.1 ---------------------------------------------------------------------------------------------


async def test_prd_3_1_mfa_approved_tap_texted_ticket_resolved(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    alice = add_requester(fakes, ticket_id=4242)
    fakes.halo.add_ticket(4243, summary="Printer on floor 2 jams", details="Paper jam again.", user_id=0)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    fakes.openai.answer_when(
        "Printer on floor 2", llm_answer("PRINTER_ISSUE", 0.97, "A printer is jammed; not an account issue.")
    )
    async with service() as svc:
        delivery = halo_delivery(4242)
        assert await svc.post_webhook("ticket_created", delivery) == {
            "accepted": 1,
            "duplicates": 0,
            "ignored": 0,
        }
        assert (await svc.send_webhook(4243))["accepted"] == 1
        # HaloPSA re-sends the same delivery, and another webhook fires for the same ticket.
        assert (await svc.post_webhook("ticket_created", delivery))["duplicates"] == 1
        assert (await svc.send_webhook(4242))["accepted"] == 1
        execution = await svc.wait_terminal(4242)
        await svc.wait_written_back()
        assert execution["state"] == "RESOLVED", execution["escalation_reason"]
        steps = await svc.steps(4242)
        tap = await assert_tap_only_in_twilio_body(svc, alice)
        # The phone on record goes to Twilio only (logs, notes, tables and API show it masked).
        assert await svc.places_of(alice.phone.removeprefix("+44"), ticket_id=4242) == {TWILIO_MESSAGES_BODY}
        printer_execution = await svc.execution(4243)
        alice_notes, printer_notes = svc.halo_notes(4242), svc.halo_notes(4243)

    # The ticket was re-read from HaloPSA (and its user, for azureoid) and classified by the LLM.
    assert fakes.halo.calls("GET", "/api/Tickets/4242") and fakes.halo.calls("GET", "/api/Users/")
    assert any("I can't log in" in str(prompt) for prompt in fakes.openai.prompts)
    # MFA push to the requester, approved; one-time TAP in Entra; texted to the phone on record.
    assert [p.user_principal_name for p in fakes.mfa.pushes] == [alice.user.upn]  # one execution
    assert alice.user.taps[0]["isUsableOnce"] is True and alice.user.taps[0]["lifetimeInMinutes"] == 60
    (sms,) = fakes.twilio.messages
    assert sms["To"] == alice.phone and sms["From"] == "+15005550006" and tap in sms["Body"]
    # Twilio reported the delivery (signed, to the attempt's StatusCallback) and the step waited for it.
    assert [(c.params["MessageStatus"], c.answer) for c in fakes.twilio.callbacks] == [
        ("sent", 200),
        ("delivered", 200),
    ]
    assert "s=deliver_sms&a=1" in sms["StatusCallback"]
    assert fakes.teams.cards == []
    assert [(s, o) for s, _, o, _ in steps] == [
        ("verify_mfa", "success"),
        ("create_credential", "success"),
        ("deliver_sms", "success"),
        ("resolved", "terminal"),
    ]
    # HaloPSA: custom fields, a decision note, a note per step, the resolution note, status Resolved.
    ticket = fakes.halo.tickets[4242]
    assert svc.halo_fields(4242) == {
        "automation_status": "automated",
        "playbook_id": "password_reset",
        "automation_confidence": "0.93",
    }
    assert ticket["status_id"] == 8
    assert alice_notes[0].startswith("TicketPilot decision — AUTOMATED")
    assert "MFA approved" in alice_notes[1]
    assert "Temporary Access Pass issued" in alice_notes[2]
    assert f"({mask_phone(alice.phone)})" in alice_notes[3] and alice.phone not in str(alice_notes)
    assert alice_notes[-1].startswith("Resolved automatically by TicketPilot")
    # The printer ticket stays with the engineers: decision written back, nothing run, status untouched.
    assert printer_execution is None
    assert svc.halo_fields(4243)["automation_status"] == "manual"
    assert len(printer_notes) == 1 and printer_notes[0].startswith("TicketPilot decision — MANUAL")
    assert fakes.halo.tickets[4243]["status_id"] == 1


# --- PRD §3.2 ---------------------------------------------------------------------------------------------


async def test_prd_3_2_mfa_unanswered_manager_approves_in_teams(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    alice = add_requester(fakes, ticket_id=5150)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    fakes.mfa.answer_after_s = 30  # the requester never answers the push
    async with service(mfa={"timeout_s": 1}) as svc:
        await svc.send_webhook(5150)
        card = await svc.wait_card()
        assert alice.user.display_name in str(card) and "#5150" in str(card)
        post_url, form = await svc.open_card_link(card, "Approve")
        # Opening the link (as a link scanner would) decides nothing.
        assert fakes.graph.issued_taps == []
        assert await svc.pool.fetchval("SELECT count(*) FROM approval_requests WHERE decided_at IS NULL") == 1
        assert await svc.pool.fetchval("SELECT count(*) FROM execution_signals") == 0
        status, page = await svc.confirm(post_url, form)
        assert status == 200 and "Approved" in page
        execution = await svc.wait_terminal(5150)
        await svc.wait_written_back()
        assert execution["state"] == "RESOLVED", execution["escalation_reason"]
        replay_status, replay_page = await svc.confirm(post_url, form)
        steps = await svc.steps(5150)
        await assert_tap_only_in_twilio_body(svc, alice)
        notes = svc.halo_notes(5150)

    assert replay_status == 403 and "Already answered" in replay_page
    assert [(s, o) for s, _, o, _ in steps] == [
        ("verify_mfa", "timeout"),
        ("verify_manager", "success"),
        ("create_credential", "success"),
        ("deliver_sms", "success"),
        ("resolved", "terminal"),
    ]
    assert "no answer to MFA push" in (steps[0][3] or "")
    assert any(f"approved by {alice.manager.upn} via teams" in n for n in notes)
    assert notes[-1].startswith("Resolved automatically")
    assert fakes.halo.tickets[5150]["status_id"] == 8
    assert [m["To"] for m in fakes.twilio.messages] == [alice.phone]  # no fallback SMS was needed
    (card_text,) = [str(c) for c in fakes.teams.cards]
    assert "can't log in" not in card_text  # nothing of the ticket's text goes on the card


# --- what goes wrong ------------------------------------------------------------------------------------


async def test_mfa_denied_escalates_without_asking_the_manager(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    """A denied push means the requester did not ask for this: a human looks at it (no manager fallback)."""
    alice = add_requester(fakes, ticket_id=6001)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    fakes.mfa.results[alice.user.upn] = "PhoneAppDenied"
    async with service() as svc:
        await svc.send_webhook(6001)
        execution = await svc.wait_terminal(6001)
        await svc.wait_written_back()
        steps = await svc.steps(6001)
        notes = svc.halo_notes(6001)

    assert execution["state"] == "ESCALATED"
    assert [(s, o) for s, _, o, _ in steps] == [("verify_mfa", "failure"), ("escalate", "terminal")]
    assert "requester denied the MFA push" in (steps[0][3] or "")
    assert len(fakes.mfa.pushes) == 1
    assert fakes.teams.cards == [] and fakes.graph.issued_taps == [] and fakes.twilio.messages == []
    assert fakes.halo.tickets[6001]["status_id"] == 1  # back to the queue, not resolved
    assert any("requester denied the MFA push" in n for n in notes)
    assert "handed this ticket to an engineer" in notes[-1]


async def test_manager_denies_in_teams_escalates(fakes: VendorFakes, service: ServiceFactory) -> None:
    alice = add_requester(fakes, ticket_id=6004)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    fakes.mfa.results[alice.user.upn] = "PhoneAppNoResponse"
    async with service() as svc:
        await svc.send_webhook(6004)
        card = await svc.wait_card()
        post_url, form = await svc.open_card_link(card, "Deny")
        status, page = await svc.confirm(post_url, form)
        assert status == 200 and "Denied" in page
        execution = await svc.wait_terminal(6004)
        await svc.wait_written_back()
        steps = await svc.steps(6004)
        notes = svc.halo_notes(6004)

    assert execution["state"] == "ESCALATED"
    assert [(s, o) for s, _, o, _ in steps] == [
        ("verify_mfa", "timeout"),
        ("verify_manager", "failure"),
        ("escalate", "terminal"),
    ]
    assert "manager denied" in (steps[1][3] or "")
    assert fakes.graph.issued_taps == [] and fakes.twilio.messages == []
    assert fakes.halo.tickets[6004]["status_id"] == 1
    assert any("manager denied" in n for n in notes)
    assert "handed this ticket to an engineer" in notes[-1]


async def test_manager_denies_by_sms_reply_after_fallback(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    alice = add_requester(fakes, ticket_id=6002)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    fakes.mfa.results[alice.user.upn] = "PhoneAppNoResponse"
    async with service(teams={"sms_fallback_after_s": 1}) as svc:
        await svc.send_webhook(6002)
        await svc.wait_card()
        sms = await svc.wait_sms(alice.manager_phone)
        match = SMS_CODE.search(sms["Body"])
        assert match, sms["Body"]
        code = match.group(1)
        await svc.wait_for("the execution to wait for the manager", lambda: svc.waiting(6002))
        # A forged reply (bad signature) and a reply from another phone change nothing.
        assert await svc.reply_sms(alice.manager_phone, f"YES {code}", signature="Zm9yZ2Vk") == 403
        assert await svc.reply_sms("+447700900999", f"YES {code}") == 200
        assert await svc.pool.fetchval("SELECT count(*) FROM approval_requests WHERE decided_at IS NULL") == 1
        assert await svc.waiting(6002)
        assert await svc.reply_sms(alice.manager_phone, f"NO {code}") == 200
        execution = await svc.wait_terminal(6002)
        await svc.wait_written_back()
        steps = await svc.steps(6002)
        code_places = await svc.places_of(code, ticket_id=6002, whole_token=True)
        phone_places = await svc.places_of(alice.manager_phone.removeprefix("+44"), ticket_id=6002)

    assert execution["state"] == "ESCALATED"
    assert [(s, o) for s, _, o, _ in steps][-2:] == [("verify_manager", "failure"), ("escalate", "terminal")]
    assert "manager denied" in (steps[-2][3] or "")
    assert fakes.graph.issued_taps == []
    assert [m["To"] for m in fakes.twilio.messages] == [alice.manager_phone]
    assert code_places == {TWILIO_MESSAGES_BODY}  # the reply code is never stored or logged either
    assert phone_places == {TWILIO_MESSAGES_BODY}  # nor the manager's number (masked in logs)


async def test_manager_silent_sms_fallback_then_escalation(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    """Playbook changed for this test: ``verify_manager`` times out after 4 s instead of 30 min."""
    alice = add_requester(fakes, ticket_id=6003)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    fakes.mfa.results[alice.user.upn] = "PhoneAppNoResponse"
    async with service(
        teams={"sms_fallback_after_s": 1},
        playbook_steps={"password_reset": {"verify_manager": {"timeout": "4s"}}},
    ) as svc:
        await svc.send_webhook(6003)
        await svc.wait_card()
        sms = await svc.wait_sms(alice.manager_phone)
        assert "YES" in sms["Body"] and "#6003" in sms["Body"]
        execution = await svc.wait_terminal(6003, timeout_s=15)
        await svc.wait_written_back()
        match = SMS_CODE.search(sms["Body"])
        assert match, sms["Body"]
        late = await svc.reply_sms(alice.manager_phone, f"YES {match.group(1)}")
        steps = await svc.steps(6003)
        after_late_reply = (await svc.execution(6003))["state"]  # type: ignore[index]
        notes = svc.halo_notes(6003)

    assert execution["state"] == "ESCALATED"
    assert [(s, o) for s, _, o, _ in steps][-2:] == [("verify_manager", "timeout"), ("escalate", "terminal")]
    assert late == 200 and after_late_reply == "ESCALATED"  # a late YES changes nothing
    assert fakes.graph.issued_taps == []
    assert [m["To"] for m in fakes.twilio.messages] == [alice.manager_phone]
    assert "handed this ticket to an engineer" in notes[-1]
    assert fakes.halo.tickets[6003]["status_id"] == 1


async def test_graph_429_storms_are_ridden_out(fakes: VendorFakes, service: ServiceFactory) -> None:
    """Graph throttles the lookups, then the TAP creation longer than one step attempt absorbs."""
    alice = add_requester(fakes, ticket_id=7001)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    throttled = {"Retry-After": "1"}
    fakes.graph.fail_next(429, times=3, headers=throttled, path_contains="/v1.0/users", body=_throttled())
    fakes.graph.fail_next(
        429, times=5, headers=throttled, path_contains="temporaryAccessPassMethods", body=_throttled()
    )
    async with service() as svc:
        await svc.send_webhook(7001)
        execution = await svc.wait_terminal(7001, timeout_s=30)
        await svc.wait_written_back()
        steps = await svc.steps(7001)
        await assert_tap_only_in_twilio_body(svc, alice)

    assert execution["state"] == "RESOLVED", execution["escalation_reason"]
    assert fakes.graph.failures_left() == 0  # every throttle was served
    tap_posts = fakes.graph.calls("POST", "temporaryAccessPassMethods")
    assert len(tap_posts) == 6  # 5 throttled (4 in the first step attempt, 1 in the second), then success
    credential = [(a, o) for s, a, o, _ in steps if s == "create_credential"]
    assert credential == [(1, "retry"), (2, "success")]
    assert fakes.halo.tickets[7001]["status_id"] == 8


def _throttled() -> dict[str, object]:
    return {"error": {"code": "TooManyRequests", "message": "Too many requests.", "innerError": {}}}


async def test_halopsa_outage_during_write_back_loses_nothing(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    alice = add_requester(fakes, ticket_id=8001)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    # HaloPSA answers 503 to every write (POST under /api/) until it "comes back"; reads still work.
    fakes.halo.fail_next(503, times=100_000, method="POST", path_contains="/api/")
    async with service() as svc:
        await svc.send_webhook(8001)
        execution = await svc.wait_terminal(8001)
        assert execution["state"] == "RESOLVED", execution["escalation_reason"]

        async def outage_seen() -> bool:
            rows = await svc.pending_outbox()
            return bool(rows) and rows[0]["attempts"] >= 1 and "503" in (rows[0]["last_error"] or "")

        await svc.wait_for("a write-back to fail on the outage", outage_seen)
        pending = await svc.pending_outbox()
        assert fakes.halo.notes == [] and fakes.halo.updates == []
        fakes.halo.clear_failures()  # HaloPSA is back
        # The worker's backoff may be long; make the rows due now (not those claimed in flight).
        await svc.pool.execute(
            "UPDATE outbox SET next_attempt_at = now() WHERE delivered_at IS NULL AND failed_at IS NULL"
            " AND next_attempt_at < now() + interval '60 seconds'"
        )
        await svc.wait_written_back(timeout_s=20)
        notes = svc.halo_notes(8001)
        await assert_tap_only_in_twilio_body(svc, alice)

    payloads = [(row["kind"], _json(row["payload"])) for row in pending]
    expected_notes = [p["note"] for kind, p in payloads if kind in ("halopsa.note", "halopsa.resolve")]
    assert notes == expected_notes  # every write, once each, in order
    assert svc.halo_fields(8001)["automation_status"] == "automated"
    assert fakes.halo.tickets[8001]["status_id"] == 8


def _json(value: object) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def test_twilio_failure_then_success(fakes: VendorFakes, service: ServiceFactory) -> None:
    alice = add_requester(fakes, ticket_id=9001)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    fakes.twilio.fail_next(
        503,
        body={"code": 20500, "message": "Internal Server Error", "more_info": "", "status": 503},
        path_contains="Messages.json",
    )
    async with service() as svc:
        await svc.send_webhook(9001)
        execution = await svc.wait_terminal(9001, timeout_s=20)
        await svc.wait_written_back()
        steps = await svc.steps(9001)
        await assert_tap_only_in_twilio_body(svc, alice)

    assert execution["state"] == "RESOLVED", execution["escalation_reason"]
    assert len(fakes.twilio.calls("POST", "Messages.json")) == 2
    (sms,) = fakes.twilio.messages
    assert sms["To"] == alice.phone and fakes.graph.issued_taps[0] in sms["Body"]
    assert [(a, o) for s, a, o, _ in steps if s == "deliver_sms"] == [(1, "retry"), (2, "success")]
    assert re.search(r"503", str([e for s, _, _, e in steps if s == "deliver_sms"]))


FAST_SMS_RETRY = {
    "password_reset": {
        "deliver_sms": {"retry": {"max_attempts": 3, "backoff": "fixed", "initial": "100ms", "max": "100ms"}}
    }
}
"""Playbook changed for the delivery-report test: ``deliver_sms`` retries after 0.1 s instead of up to 5 s."""


async def test_twilio_reports_undelivered_then_a_new_sms_is_delivered(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    """Twilio accepts the first SMS, then reports it undelivered: the step sends a new SMS with the same TAP
    (still in memory), and the ticket is resolved once Twilio reports that one delivered."""
    alice = add_requester(fakes, ticket_id=9002)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    fakes.twilio.script_statuses(alice.phone, "undelivered")
    async with service(playbook_steps=FAST_SMS_RETRY) as svc:
        await svc.send_webhook(9002)
        execution = await svc.wait_terminal(9002)
        await svc.wait_written_back()
        steps = await svc.steps(9002)
        (tap,) = fakes.graph.issued_taps
        tap_places = await svc.places_of(tap, ticket_id=9002)
        notes = svc.halo_notes(9002)

    assert execution["state"] == "RESOLVED", execution["escalation_reason"]
    first, second = fakes.twilio.messages
    assert [first["To"], second["To"]] == [alice.phone] * 2
    assert tap in first["Body"] and tap in second["Body"]
    assert tap_places == {TWILIO_MESSAGES_BODY}
    assert ["a=1" in first["StatusCallback"], "a=2" in second["StatusCallback"]] == [True, True]
    reports = [(c.params["MessageSid"], c.params["MessageStatus"], c.answer) for c in fakes.twilio.callbacks]
    assert reports == [
        (first["sid"], "sent", 200),
        (first["sid"], "undelivered", 200),
        (second["sid"], "sent", 200),
        (second["sid"], "delivered", 200),
    ]
    deliveries = [(a, o, e) for s, a, o, e in steps if s == "deliver_sms"]
    assert deliveries == [(1, "retry", "SMS undelivered (error 30003)"), (2, "success", None)]
    assert any("retry — SMS undelivered (error 30003)" in n for n in notes)
    assert notes[-1].startswith("Resolved automatically")


async def test_no_delivery_report_within_the_wait_counts_as_delivered(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    """Many carriers never report: after ``twilio.delivery_report_wait_s`` the accepted SMS counts."""
    alice = add_requester(fakes, ticket_id=9003)
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    fakes.twilio.script_statuses(alice.phone, None)
    async with service(twilio={"delivery_report_wait_s": 1}) as svc:
        await svc.send_webhook(9003)
        await svc.wait_for("the delivery to wait for its report", lambda: svc.waiting(9003))
        execution = await svc.wait_terminal(9003)
        await svc.wait_written_back()
        steps = await svc.steps(9003)
        notes = svc.halo_notes(9003)

    assert execution["state"] == "RESOLVED", execution["escalation_reason"]
    assert len(fakes.twilio.messages) == 1
    assert [c.params["MessageStatus"] for c in fakes.twilio.callbacks] == ["sent"]
    assert [(a, o) for s, a, o, _ in steps if s == "deliver_sms"] == [(1, "success")]
    assert any("accepted by Twilio, no delivery report" in n for n in notes)
