"""executor.reset_password: a TAP or password, only as a secret; never in outputs, logs or the ledger."""

from __future__ import annotations

import json
import uuid

import pytest
from structlog.testing import capture_logs
from test_services_support import build_harness, make_call

from ticketpilot.adapters.base import AdapterError, PrivilegeCheck
from ticketpilot.logging import REDACTED, redact
from ticketpilot.services import ResetPassword
from ticketpilot.steps import Failed, Succeeded

TAP_PARAMS = {"method": "temporary_access_pass", "lifetime_minutes": 60, "one_time": True}


async def test_temporary_access_pass_is_a_secret_only() -> None:
    h = build_harness(None)
    service = h.steps["executor.reset_password"]
    call = make_call(uuid.uuid4(), h.clock, step_id="create_credential", params=TAP_PARAMS)
    with capture_logs() as logs:
        outcome = await service.start(call)
    assert isinstance(outcome, Succeeded)
    credential = outcome.secrets["credential"]
    assert len(credential) >= 8
    [issued] = h.ledger.entries("tap_issued")
    assert dict(outcome.outputs) == {
        "credential_kind": "temporary_access_pass",
        "lifetime_minutes": 60,
        "one_time": True,
        "revocation": {  # how to delete it if it is never delivered: its method id, not the secret
            "kind": "temporary_access_pass",
            "undoable": True,
            "user_id": issued.data["user_id"],
            "method_id": issued.data["method_id"],
            "what": "the Temporary Access Pass of jane.doe@contoso.example",
        },
    }
    assert credential not in json.dumps(dict(outcome.outputs)) + outcome.summary
    assert credential not in json.dumps(logs, default=str)
    assert credential not in h.ledger_json()
    assert issued.data["lifetime_minutes"] == 60 and issued.data["one_time"] is True
    assert issued.data["idempotency_key"] == call.idempotency_key
    # Registered with the redactor: a careless log line elsewhere would be scrubbed.
    assert redact(None, "info", {"event": f"oops {credential}"})["event"] == f"oops {REDACTED}"


async def test_defaults_are_a_one_time_pass_for_60_minutes() -> None:
    h = build_harness(None)
    outcome = await h.steps["executor.reset_password"].start(make_call(uuid.uuid4(), h.clock))
    assert isinstance(outcome, Succeeded)
    assert outcome.outputs["lifetime_minutes"] == 60 and outcome.outputs["one_time"] is True


async def test_password_method_resets_with_forced_change() -> None:
    h = build_harness(None)
    call = make_call(uuid.uuid4(), h.clock, params={"method": "password"})
    outcome = await h.steps["executor.reset_password"].start(call)
    assert isinstance(outcome, Succeeded)
    [reset] = h.ledger.entries("password_reset")
    assert outcome.outputs == {
        "credential_kind": "password",
        "force_change": True,
        "revocation": {
            "kind": "password",
            "undoable": False,
            "user_id": reset.data["user_id"],
            "what": "the new password of jane.doe@contoso.example",
        },
    }
    assert reset.data["force_change"] is True
    assert outcome.secrets["credential"] not in h.ledger_json()


@pytest.mark.parametrize(
    "params",
    [
        {"method": "magic_link"},
        {"lifetime_minutes": 5},
        {"lifetime_minutes": "60"},
        {"one_time": "yes"},
        {"deliver_to": "+15550000000"},
    ],
)
async def test_invalid_params_fail_without_touching_the_directory(params: dict[str, object]) -> None:
    h = build_harness(None)
    outcome = await h.steps["executor.reset_password"].start(make_call(uuid.uuid4(), h.clock, params=params))
    assert isinstance(outcome, Failed) and not outcome.retryable
    assert outcome.error.startswith("invalid params")
    assert h.ledger.entries("tap_issued") == []


async def test_privileged_or_disabled_requesters_get_nothing() -> None:
    h = build_harness(None)
    service = h.steps["executor.reset_password"]
    outcome = await service.start(make_call(uuid.uuid4(), h.clock, email="admin.ops@contoso.example"))
    assert isinstance(outcome, Failed) and not outcome.retryable
    assert "privileged" in outcome.error and "Global Administrator" in outcome.error
    outcome = await service.start(make_call(uuid.uuid4(), h.clock, email="disabled.kim@contoso.example"))
    assert outcome == Failed("requester's account is disabled")
    assert h.ledger.entries("tap_issued") == []


class _PrivilegeCheckDown:
    """The sandbox directory, except that the privilege check is throttled."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def check_privileged(self, user_id: str) -> PrivilegeCheck:
        raise AdapterError("graph", "throttled", retryable=True, status=429, retry_after=3.0)


async def test_a_failed_privilege_check_counts_as_privileged_and_may_be_retried() -> None:
    h = build_harness(None)
    service = ResetPassword(_PrivilegeCheckDown(h.adapters.directory))  # type: ignore[arg-type]
    outcome = await service.start(make_call(uuid.uuid4(), h.clock))
    assert isinstance(outcome, Failed)
    assert outcome.retryable and outcome.retry_after == 3.0
    assert h.ledger.entries("tap_issued") == []


def test_declares_its_secret_and_is_safe_to_rerun() -> None:
    h = build_harness(None)
    service = h.steps["executor.reset_password"]
    assert service.produces_secrets == ("credential",)
    assert service.rerun_safe is True


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("risky.ann@contoso.example", "Identity Protection: riskState atRisk, riskLevel high"),
        ("new-phone.bo@contoso.example", "security info changed recently: User registered security info"),
        ("unlicensed.cy@contoso.example", "identity signals unavailable: identity risk"),
    ],
)
async def test_identity_evidence_is_read_again_before_a_credential_is_issued(email: str, reason: str) -> None:
    h = build_harness(None)
    outcome = await h.steps["executor.reset_password"].start(make_call(uuid.uuid4(), h.clock, email=email))
    assert isinstance(outcome, Failed) and not outcome.retryable
    assert outcome.error.startswith("no credential issued: ") and reason in outcome.error
    assert h.ledger.entries("tap_issued") == []


async def test_identity_signals_not_required_let_an_unlicensed_tenant_through() -> None:
    from ticketpilot.services import IdentityRecheck

    h = build_harness(None)
    service = ResetPassword(
        h.adapters.directory, identity_recheck=IdentityRecheck(require_identity_signals=False, clock=h.clock)
    )
    outcome = await service.start(make_call(uuid.uuid4(), h.clock, email="unlicensed.cy@contoso.example"))
    assert isinstance(outcome, Succeeded)


class _IdentityThrottled(_PrivilegeCheckDown):
    async def check_privileged(self, user_id: str) -> PrivilegeCheck:
        return PrivilegeCheck(privileged=False)

    async def get_user_risk(self, user_id: str) -> object:
        raise AdapterError("graph", "throttled", retryable=True, status=429, retry_after=7.0)


async def test_throttled_identity_signals_issue_nothing_and_may_be_retried() -> None:
    from ticketpilot.services import IdentityRecheck

    h = build_harness(None)
    service = ResetPassword(
        _IdentityThrottled(h.adapters.directory),  # type: ignore[arg-type]
        identity_recheck=IdentityRecheck(clock=h.clock),
    )
    outcome = await service.start(make_call(uuid.uuid4(), h.clock))
    assert isinstance(outcome, Failed) and outcome.retryable and outcome.retry_after == 7.0
    assert h.ledger.entries("tap_issued") == []
