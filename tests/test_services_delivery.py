"""delivery.sms: the credential goes to the directory's phone on record, never anywhere else."""

from __future__ import annotations

import hashlib
import json
import uuid

from structlog.testing import capture_logs
from test_services_support import build_harness, make_call

from ticketpilot.adapters.sandbox.people import phone_of
from ticketpilot.logging import mask_phone
from ticketpilot.steps import Failed, Succeeded

EMAIL = "jane.doe@contoso.example"


async def _issue(h, email: str = EMAIL) -> str:  # type: ignore[no-untyped-def]
    outcome = await h.steps["executor.reset_password"].start(make_call(uuid.uuid4(), h.clock, email=email))
    assert isinstance(outcome, Succeeded)
    return str(outcome.secrets["credential"])


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
    assert isinstance(outcome, Succeeded)
    [sms] = h.ledger.entries("sms")
    assert sms.data["to"] == phone_of(EMAIL)
    assert outcome.outputs["to"] == mask_phone(phone_of(EMAIL))
    assert outcome.outputs["sid"] == sms.data["sid"]
    assert sms.data["status_callback"] == "http://127.0.0.1:8080/webhooks/twilio/status"
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
    assert isinstance(await h.steps["delivery.sms"].start(call), Succeeded)
    [sms] = h.ledger.entries("sms")
    assert sms.data["body"].endswith("It expires in 480 minutes.")


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


async def test_flaky_delivery_is_retryable_and_then_succeeds() -> None:
    h = build_harness(None)
    email = "sms-flaky.ray@contoso.example"
    credential = await _issue(h, email)
    outcomes = []
    for attempt in (1, 2, 3):
        call = make_call(
            uuid.uuid4(), h.clock, email=email, attempt=attempt, secrets={"credential": credential}
        )
        outcomes.append(await h.steps["delivery.sms"].start(call))
    assert [type(o) for o in outcomes] == [Failed, Failed, Succeeded]
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
