"""delivery.sms: the credential goes to the directory's phone on record, never anywhere else; the step waits
for Twilio's delivery report, and a report of failure is a retryable failure (a new SMS, under the step's
retry policy). With the engine: ``test_services_delivery_engine.py``."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from structlog.testing import capture_logs
from test_services_support import Harness, RecordingSink, RecordingSleep, build_harness, make_call

from ticketpilot.adapters.sandbox import SandboxSms
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.people import phone_of
from ticketpilot.logging import mask_phone
from ticketpilot.services import SmsDelivery, SmsReports
from ticketpilot.steps import Failed, Signal, StepCall, Succeeded, Waiting, Wake

EMAIL = "jane.doe@contoso.example"
UNDELIVERED = "sms-undelivered.ray@contoso.example"


async def _issue(h, email: str = EMAIL) -> str:  # type: ignore[no-untyped-def]
    outcome = await h.steps["executor.reset_password"].start(make_call(uuid.uuid4(), h.clock, email=email))
    assert isinstance(outcome, Succeeded)
    return str(outcome.secrets["credential"])


def _parked(call: StepCall, waiting: Waiting) -> StepCall:
    """The call the engine makes on resume: the context holds what the step's start returned."""
    return replace(call, context={**call.context, "steps": {call.step_id: dict(waiting.outputs)}})


def _report(waiting: Waiting, status: str, *, attempt: int = 1, error_code: str = "") -> Signal:
    payload = {
        "sid": waiting.outputs["sid"],
        "status": status,
        "error_code": error_code,
        "step_id": "deliver_sms",
        "attempt": attempt,
    }
    return Signal("sms_status", payload)


async def _sent(h: Harness, email: str = EMAIL, **call: Any) -> tuple[StepCall, Waiting]:
    credential = await _issue(h, email)
    start = make_call(
        uuid.uuid4(), h.clock, email=email, step_id="deliver_sms", secrets={"credential": credential}, **call
    )
    waiting = await h.steps["delivery.sms"].start(start)
    assert isinstance(waiting, Waiting), waiting
    return _parked(start, waiting), waiting


async def test_credential_goes_to_the_phone_on_record_not_to_numbers_in_context_or_params() -> None:
    h = build_harness(None)
    credential = await _issue(h)
    call = make_call(
        uuid.uuid4(),
        h.clock,
        step_id="deliver_sms",
        params={"to": "+19995550101", "phone": "+19995550102"},
        context={
            "phone": "+19995550103",
            "requester_phone": "+19995550104",
            "credential_kind": "temporary_access_pass",
        },
        secrets={"credential": credential},
    )
    with capture_logs() as logs:
        outcome = await h.steps["delivery.sms"].start(call)
    assert isinstance(outcome, Waiting)
    [sms] = h.ledger.entries("sms")
    assert sms.data["to"] == phone_of(EMAIL)
    assert outcome.outputs["to"] == mask_phone(phone_of(EMAIL))
    assert outcome.outputs["sid"] == sms.data["sid"]
    query = urlencode({"e": str(call.execution_id), "s": "deliver_sms", "a": "1"})
    assert sms.data["status_callback"] == f"http://127.0.0.1:8080/webhooks/twilio/status?{query}"
    expected = (
        f"Your temporary access pass for {EMAIL} is:\n{credential}\nIt expires in 60 minutes and works once."
    )
    assert sms.data["body_sha256"] == hashlib.sha256(expected.encode()).hexdigest()
    assert sms.data["body"] == expected.replace(credential, "[REDACTED]")
    assert credential not in h.ledger_json()
    assert credential not in json.dumps(dict(outcome.outputs)) + outcome.summary
    assert credential not in json.dumps(logs, default=str)
    assert phone_of(EMAIL) not in json.dumps(logs, default=str)


async def test_message_follows_what_the_credential_step_reported() -> None:
    h = build_harness(None)
    credential = await _issue(h)
    context = {
        "outputs": {
            "create_credential": {
                "credential_kind": "temporary_access_pass",
                "lifetime_minutes": 480,
                "one_time": False,
            }
        }
    }
    call = make_call(uuid.uuid4(), h.clock, context=context, secrets={"credential": credential})
    assert isinstance(await h.steps["delivery.sms"].start(call), Waiting)
    [sms] = h.ledger.entries("sms")
    assert sms.data["body"].endswith("It expires in 480 minutes.")


async def test_waits_for_the_delivery_report_but_never_past_the_attempt_deadline() -> None:
    h = build_harness(None)  # sandbox.sms_report_wait_s = 10
    call, waiting = await _sent(h, timeout_s=60.0)
    assert waiting.signals == frozenset({"sms_status"})
    assert waiting.wake_at == call.started_at + timedelta(seconds=10)
    short, waiting = await _sent(h, timeout_s=6.0)
    # At the deadline the engine would time the attempt out, and a timed-out delivery is never retried.
    assert waiting.wake_at == short.deadline - timedelta(seconds=1)


@pytest.mark.parametrize("status", ["delivered", "read"])
async def test_a_delivered_report_succeeds(status: str) -> None:
    h = build_harness(None)
    call, waiting = await _sent(h)
    outcome = await h.steps["delivery.sms"].resume(call, _report(waiting, status))
    assert isinstance(outcome, Succeeded)
    assert outcome.outputs["delivery_report"] == status and outcome.outputs["sid"] == waiting.outputs["sid"]
    assert f"phone on record ({mask_phone(phone_of(EMAIL))})" in outcome.summary


@pytest.mark.parametrize(("status", "code"), [("undelivered", "30003"), ("failed", "30008")])
async def test_an_undelivered_or_failed_report_is_a_retryable_failure(status: str, code: str) -> None:
    h = build_harness(None)
    call, waiting = await _sent(h)
    outcome = await h.steps["delivery.sms"].resume(call, _report(waiting, status, error_code=code))
    assert outcome == Failed(
        f"SMS {status} (error {code})", retryable=True, outputs={"status": status, "error_code": code}
    )


async def test_a_report_about_another_attempts_message_keeps_waiting() -> None:
    h = build_harness(None)
    call, waiting = await _sent(h)
    other_attempt = _report(waiting, "undelivered", attempt=2)
    other_message = Signal("sms_status", {**_report(waiting, "undelivered").payload, "sid": "SM" + "9" * 32})
    for signal in (other_attempt, other_message):
        outcome = await h.steps["delivery.sms"].resume(call, signal)
        assert isinstance(outcome, Waiting)
        assert (outcome.signals, outcome.wake_at) == (waiting.signals, waiting.wake_at)


async def test_no_report_within_the_wait_counts_as_delivered() -> None:
    h = build_harness(None)
    call, waiting = await _sent(h)
    assert waiting.wake_at is not None
    outcome = await h.steps["delivery.sms"].resume(call, Wake(waiting.wake_at))
    assert isinstance(outcome, Succeeded)
    assert outcome.outputs["delivery_report"] == "none"
    assert "accepted by Twilio, no delivery report" in outcome.summary


async def test_no_phone_on_record_fails_without_retry() -> None:
    h = build_harness(None)
    email = "no-phone.lee@contoso.example"
    credential = await _issue(h, email)
    call = make_call(
        uuid.uuid4(),
        h.clock,
        email=email,
        context={"phone": "+19995550103"},
        secrets={"credential": credential},
    )
    outcome = await h.steps["delivery.sms"].start(call)
    assert outcome == Failed("no phone on record", retryable=False)
    assert h.ledger.entries("sms") == []


async def test_flaky_delivery_is_retryable_and_then_sent() -> None:
    h = build_harness(None)
    email = "sms-flaky.ray@contoso.example"
    credential = await _issue(h, email)
    outcomes = []
    for attempt in (1, 2, 3):
        call = make_call(
            uuid.uuid4(), h.clock, email=email, attempt=attempt, secrets={"credential": credential}
        )
        outcomes.append(await h.steps["delivery.sms"].start(call))
    assert [type(o) for o in outcomes] == [Failed, Failed, Waiting]
    assert all(isinstance(o, Failed) and o.retryable for o in outcomes[:2])
    assert [e.data["status"] for e in h.ledger.entries("sms")] == ["failed", "failed", "queued"]
    assert credential not in h.ledger_json()


async def test_permanent_delivery_failure_is_not_retried() -> None:
    h = build_harness(None)
    email = "sms-fail.ray@contoso.example"
    credential = await _issue(h, email)
    outcome = await h.steps["delivery.sms"].start(
        make_call(uuid.uuid4(), h.clock, email=email, secrets={"credential": credential})
    )
    assert isinstance(outcome, Failed) and not outcome.retryable
    assert "SMS delivery failed" in outcome.error


async def test_without_the_credential_in_memory_nothing_is_sent() -> None:
    h = build_harness(None)
    outcome = await h.steps["delivery.sms"].start(make_call(uuid.uuid4(), h.clock))
    assert isinstance(outcome, Failed) and not outcome.retryable
    assert h.ledger.entries("sms") == []


def test_declares_it_needs_the_credential_and_is_never_rerun() -> None:
    h = build_harness(None)
    service = h.steps["delivery.sms"]
    assert service.requires_secrets == ("credential",)
    assert service.rerun_safe is False


# --- the sandbox Twilio reports through the webhook's code path ---------------------------------------------


async def test_the_sandbox_reports_each_message_through_sms_reports() -> None:
    h = build_harness(None)
    sink, sleep = RecordingSink(), RecordingSleep()
    sms = SandboxSms(
        h.adapters.extras["people"],  # the directory's people: the twin knows who owns a number
        h.ledger,
        IssuedCredentials(),
        reports=SmsReports(sink),
        report_after_s=2.5,
        sleep=sleep,
    )
    service = SmsDelivery(h.adapters.directory, sms, public_url="https://tp.example/")
    outcomes = []
    for email in (EMAIL, UNDELIVERED):
        call = make_call(uuid.uuid4(), h.clock, email=email, step_id="deliver_sms", attempt=2)
        waiting = await service.start(replace(call, secrets={"credential": "not-a-real-pass"}))
        assert isinstance(waiting, Waiting)
        await sms.drain()
        signal = sink.calls[-1]
        assert (signal.execution_id, signal.kind) == (call.execution_id, "sms_status")
        assert signal.dedupe_key == f"sms:{waiting.outputs['sid']}:{signal.payload['status']}"
        assert signal.payload["sid"] == waiting.outputs["sid"]
        assert (signal.payload["step_id"], signal.payload["attempt"]) == ("deliver_sms", 2)
        parked = _parked(call, waiting)
        outcomes.append(await service.resume(parked, Signal(signal.kind, signal.payload)))
    assert sleep.waits == [2.5, 2.5]
    assert [s.payload["status"] for s in sink.calls] == ["delivered", "undelivered"]
    assert isinstance(outcomes[0], Succeeded)
    assert outcomes[1] == Failed(
        "SMS undelivered (error 30003)",
        retryable=True,
        outputs={"status": "undelivered", "error_code": "30003"},
    )
    reports = [(e.data["status"], e.data["signalled"]) for e in h.ledger.entries("sms_status")]
    assert reports == [("delivered", True), ("undelivered", True)]
