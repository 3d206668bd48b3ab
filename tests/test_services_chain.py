"""The password-reset playbook's steps in order, as the engine would drive them, on the sandbox.

Checks the story a user would see in the sandbox ledger, and that the credential exists only in the
SMS that went to the requester's phone on record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import asyncpg
from structlog.testing import capture_logs
from test_services_support import Harness, build_harness, make_call, make_execution

from ticketpilot.adapters.sandbox.people import phone_of
from ticketpilot.steps import Failed, Signal, StepOutcome, Succeeded, Waiting

TAP = {"method": "temporary_access_pass", "lifetime_minutes": 60, "one_time": True}


async def _run_reset(h: Harness, pool: asyncpg.Pool, email: str) -> tuple[list[StepOutcome], str]:
    """verify_mfa → (on failure) verify_manager → create_credential → deliver_sms."""
    execution_id = await make_execution(pool)
    outcomes: list[StepOutcome] = []
    mfa = await h.steps["verification.mfa"].start(
        make_call(execution_id, h.clock, email=email, step_id="verify_mfa")
    )
    outcomes.append(mfa)
    if isinstance(mfa, Failed):
        manager_call = make_call(execution_id, h.clock, email=email, step_id="verify_manager")
        waiting = await h.steps["verification.manager"].start(manager_call)
        assert isinstance(waiting, Waiting)
        await h.cards.drain()
        [signal] = h.sink.calls
        approved = await h.steps["verification.manager"].resume(
            manager_call, Signal(signal.kind, signal.payload)
        )
        outcomes.append(approved)
        assert isinstance(approved, Succeeded)
    created = await h.steps["executor.reset_password"].start(
        make_call(execution_id, h.clock, email=email, step_id="create_credential", params=TAP)
    )
    assert isinstance(created, Succeeded)
    outcomes.append(created)
    credential = created.secrets["credential"]
    context = {"outputs": {"create_credential": dict(created.outputs)}}
    deliver_call = make_call(
        execution_id,
        h.clock,
        email=email,
        step_id="deliver_sms",
        context=context,
        secrets=dict(created.secrets),
    )
    sent = await h.steps["delivery.sms"].start(deliver_call)
    assert isinstance(sent, Waiting)  # accepted by Twilio: the step waits for the delivery report
    report = {"sid": sent.outputs["sid"], "status": "delivered", "step_id": "deliver_sms", "attempt": 1}
    parked = replace(
        deliver_call, context={**deliver_call.context, "steps": {"deliver_sms": dict(sent.outputs)}}
    )
    delivered = await h.steps["delivery.sms"].resume(parked, Signal("sms_status", report))
    outcomes.append(delivered)
    return outcomes, credential


async def test_default_user_is_verified_by_mfa_and_gets_the_pass_on_their_phone(pool: asyncpg.Pool) -> None:
    h = build_harness(pool)
    email = "jane.doe@contoso.example"
    with capture_logs() as logs:
        outcomes, credential = await _run_reset(h, pool, email)
    assert [type(o).__name__ for o in outcomes] == ["Succeeded", "Succeeded", "Succeeded"]
    assert [e.kind for e in h.ledger.entries()] == ["mfa_push", "tap_issued", "sms"]
    [sms] = h.ledger.entries("sms")
    assert sms.data["to"] == phone_of(email)
    body = (
        f"Your temporary access pass for {email} is:\n{credential}\nIt expires in 60 minutes and works once."
    )
    assert sms.data["body_sha256"] == hashlib.sha256(body.encode()).hexdigest()
    persisted = (
        json.dumps([dict(o.outputs) for o in outcomes]) + h.ledger_json() + json.dumps(logs, default=str)
    )
    assert credential not in persisted


async def test_mfa_timeout_falls_back_to_the_manager_who_approves(pool: asyncpg.Pool) -> None:
    h = build_harness(pool)
    email = "mfa-timeout.sam@contoso.example"
    outcomes, credential = await _run_reset(h, pool, email)
    assert isinstance(outcomes[0], Failed) and outcomes[0].error == "no answer to MFA push"
    assert outcomes[1].outputs["approved_by"] == "manager.mfa-timeout.sam@contoso.example"
    assert isinstance(outcomes[-1], Succeeded)
    assert [e.kind for e in h.ledger.entries()] == [
        "mfa_push",
        "teams_card",
        "manager_click",
        "tap_issued",
        "sms",
    ]
    assert h.ledger.entries("sms")[0].data["to"] == phone_of(email)
    assert credential not in h.ledger_json()
    rows = await pool.fetch("SELECT decision, channel FROM approval_requests")
    assert [(r["decision"], r["channel"]) for r in rows] == [("approve", "teams")]
