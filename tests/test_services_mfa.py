"""verification.mfa: a push to the requester's UPN; approve, deny, timeout and adapter errors."""

from __future__ import annotations

import uuid

from test_services_support import build_harness, make_call

from ticketpilot.adapters.base import AdapterError
from ticketpilot.services import MfaVerification
from ticketpilot.steps import Failed, Succeeded


def _mfa(email: str = "jane.doe@contoso.example"):  # type: ignore[no-untyped-def]
    h = build_harness(None)
    return h, h.steps["verification.mfa"], make_call(uuid.uuid4(), h.clock, email=email, step_id="verify_mfa")


async def test_default_requester_approves_after_the_configured_delay() -> None:
    h, service, call = _mfa()
    outcome = await service.start(call)
    assert isinstance(outcome, Succeeded)
    assert outcome.outputs["user_principal_name"] == "jane.doe@contoso.example"
    assert h.sleep.waits == [h.settings.sandbox.mfa_approve_after_s]
    [push] = h.ledger.entries("mfa_push")
    assert push.data["user_principal_name"] == "jane.doe@contoso.example"
    assert push.data["context_id"] == call.idempotency_key


async def test_denied_push_fails_without_retry() -> None:
    _, service, call = _mfa("mfa-deny.sam@contoso.example")
    outcome = await service.start(call)
    assert outcome == Failed("requester denied the MFA push", retryable=False)


async def test_unanswered_push_times_out_and_fails_without_retry() -> None:
    h, service, call = _mfa("mfa-timeout.sam@contoso.example")
    outcome = await service.start(call)
    assert outcome == Failed("no answer to MFA push", retryable=False, timed_out=True)
    assert h.sleep.waits == [h.settings.sandbox.mfa_timeout_s]


class _BrokenMfa:
    def __init__(self, error: AdapterError) -> None:
        self.error = error
        self.pushes = 0

    async def push(self, user_principal_name: str, *, context_id: str) -> str:
        self.pushes += 1
        raise self.error


async def test_adapter_errors_keep_their_retry_classification() -> None:
    h, _, call = _mfa()
    throttled = _BrokenMfa(AdapterError("mfa", "throttled", retryable=True, status=429, retry_after=7.0))
    outcome = await MfaVerification(h.adapters.directory, throttled).start(call)  # type: ignore[arg-type]
    assert isinstance(outcome, Failed)
    assert outcome.retryable and outcome.retry_after == 7.0

    off = _BrokenMfa(AdapterError("mfa", "the MFA connector is not enabled", retryable=False))
    outcome = await MfaVerification(h.adapters.directory, off).start(call)  # type: ignore[arg-type]
    assert isinstance(outcome, Failed)
    assert not outcome.retryable
    assert "not enabled" in outcome.error


async def test_missing_requester_and_disabled_account_fail_before_any_push() -> None:
    h = build_harness(None)
    service = h.steps["verification.mfa"]
    call = make_call(uuid.uuid4(), h.clock, email="")
    outcome = await service.start(call)
    assert isinstance(outcome, Failed) and not outcome.retryable
    outcome = await service.start(make_call(uuid.uuid4(), h.clock, email="disabled.kim@contoso.example"))
    assert outcome == Failed("requester's account is disabled")
    assert h.ledger.entries("mfa_push") == []


def test_a_second_push_is_never_risked_after_a_crash() -> None:
    h = build_harness(None)
    assert h.steps["verification.mfa"].rerun_safe is False
