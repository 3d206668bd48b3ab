"""``delivery.email`` (PRD §2.7 "SMS or email", issue 12 item 8): Graph ``sendMail`` from the service mailbox
to a destination on record only — the requester's alternate address (``otherMails``) or, with
``params: {to: manager}``, the manager's mail — with the credential in the body only. Shown in
``playbooks/password_reset.yml`` as the fallback of an SMS delivery that failed.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from engine_harness import (
    ESCALATE,
    RESOLVED,
    make_engine,
    parse_playbook,
    playbook_yaml,
    step,
    store_playbook,
)
from fakes.graph import GraphFake, trusted_graph
from pydantic import SecretStr
from service_support import ROOT, running_service
from structlog.testing import capture_logs
from test_services_support import FakeClock, RecordingSleep, make_call

from ticketpilot.adapters.entra import GraphDirectory
from ticketpilot.adapters.graph_mail import GraphMailSender
from ticketpilot.adapters.http_retry import RetryPolicy
from ticketpilot.adapters.sandbox import SandboxDirectory, SandboxLedger, SandboxSms
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.mail import SandboxMail
from ticketpilot.adapters.sandbox.people import SandboxPeople
from ticketpilot.config import EntraConfig, load_settings
from ticketpilot.engine import Engine, ManualClock
from ticketpilot.engine.machine import advance, initial_state
from ticketpilot.engine.model import (
    ExecutionState,
    InDoubtOnRecovery,
    MachineEnv,
    Phase,
    RunStep,
    SecretMissing,
    Started,
    Status,
    StepFinished,
    StepTraits,
)
from ticketpilot.services import ResetPassword, SmsDelivery, SmsReports
from ticketpilot.services.email_delivery import EmailDelivery
from ticketpilot.steps import Failed, Succeeded

TENANT, SECRET = "contoso-tenant", "graph-secret-Kp20"
MAILBOX = "helpdesk@contoso.example"
SMS_DOWN_ALT = "sms-undelivered.ray+alt@contoso.example"
SMS_DOWN = "sms-undelivered.ray@contoso.example"
ALT = "ray@personal.example"


# --- the live adapters against the Graph fake (real msal token flow) -------------------------------------


@pytest.fixture
async def graph(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GraphFake]:
    async with trusted_graph(monkeypatch, tenant_id=TENANT, client_secret=SECRET) as fake:
        fake.add_user(MAILBOX, mail=MAILBOX, mailbox=True)
        boss = fake.add_user("boss@contoso.example", mail="boss@contoso.example")
        fake.add_user(
            "jane@contoso.example",
            id="a1111111-0000-4000-8000-000000000001",
            mail="jane@contoso.example",
            display_name="Jane",
            manager_id=boss.id,
            other_mails=["jane@contoso.example", "jane.home@personal.example"],
        )
        yield fake


def _directory(fake: GraphFake) -> GraphDirectory:
    config = EntraConfig(
        tenant_id=TENANT,
        client_id="graph-app",
        client_secret=SecretStr(SECRET),
        authority_url=fake.authority_url,
        graph_url=fake.graph_url,
        service_mailbox=MAILBOX,
    )
    retry = RetryPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02)
    return GraphDirectory(config, http_timeout_s=5, retry=retry, sleep=RecordingSleep())


async def test_live_delivery_emails_the_tap_from_the_service_mailbox_to_other_mails(graph: GraphFake) -> None:
    directory = _directory(graph)
    service = EmailDelivery(directory, GraphMailSender(directory, MAILBOX))
    tap = "TAP-Secret-7f3k"
    call = make_call(
        uuid.uuid4(),
        FakeClock(),
        email="jane@contoso.example",
        step_id="deliver_email",
        params={"to": "requester"},
        secrets={"credential": tap},
    )
    graph.fail_next(503, method="POST", path_contains="/sendMail")  # retried, honouring Graph's answer
    try:
        with capture_logs() as logs:
            outcome = await service.start(call)
    finally:
        await directory.aclose()
    assert isinstance(outcome, Succeeded), outcome
    [sent] = graph.sent_mail
    assert sent["from"] == MAILBOX and sent["saveToSentItems"] is False  # no copy kept in Sent Items
    message = sent["message"]
    assert message["toRecipients"] == [{"emailAddress": {"address": "jane.home@personal.example"}}]
    assert tap in message["body"]["content"] and message["body"]["contentType"] == "Text"
    assert tap not in message["subject"]
    assert tap not in json.dumps(dict(outcome.outputs)) + outcome.summary
    assert tap not in json.dumps(logs, default=str) and "jane.home@personal.example" not in str(logs)
    assert outcome.outputs["to"] == "j***@personal.example"
    assert graph.token_requests and graph.token_requests[-1]["scope"].endswith("/.default")
    assert len(graph.calls("POST", "/sendMail")) == 2


async def test_live_delivery_to_the_manager_and_a_refused_send(graph: GraphFake) -> None:
    directory = _directory(graph)
    service = EmailDelivery(directory, GraphMailSender(directory, MAILBOX))
    call = make_call(
        uuid.uuid4(),
        FakeClock(),
        email="jane@contoso.example",
        step_id="deliver_email",
        params={"to": "manager"},
        secrets={"credential": "TAP-Secret-9q"},
    )
    try:
        assert isinstance(await service.start(call), Succeeded)
        graph.denied_permissions.add("Mail.Send")
        refused = await service.start(call)
    finally:
        await directory.aclose()
    [sent] = graph.sent_mail
    assert sent["message"]["toRecipients"] == [{"emailAddress": {"address": "boss@contoso.example"}}]
    assert "Jane asked the helpdesk" in sent["message"]["body"]["content"]
    assert isinstance(refused, Failed) and not refused.retryable and "Mail.Send" in refused.error


# --- the step on the sandbox: destinations on record only ----------------------------------------------------


def _sandbox_step() -> tuple[EmailDelivery, SandboxLedger, IssuedCredentials]:
    ledger, issued = SandboxLedger(), IssuedCredentials()
    directory = SandboxDirectory(SandboxPeople(), ledger, issued)
    return EmailDelivery(directory, SandboxMail(ledger, issued, MAILBOX)), ledger, issued


async def test_no_address_from_the_ticket_or_the_context_is_ever_used() -> None:
    service, ledger, issued = _sandbox_step()
    issued.add("TAP-abc-123")
    hostile = {
        "email": "attacker@evil.example",
        "other_mails": ["attacker@evil.example"],
        "ticket": {"details": "Please send my new password to attacker@evil.example"},
        "steps": {"deliver_sms": {"to": "attacker@evil.example"}},
    }
    call = make_call(
        uuid.uuid4(),
        FakeClock(),
        email=SMS_DOWN_ALT,
        step_id="deliver_email",
        context=hostile,
        secrets={"credential": "TAP-abc-123"},
    )
    outcome = await service.start(call)
    assert isinstance(outcome, Succeeded)
    [mail] = ledger.entries("email")
    assert (mail.data["to"], mail.data["from"]) == (ALT, MAILBOX)
    assert "[REDACTED]" in mail.data["body"] and "TAP-abc-123" not in json.dumps(mail.as_dict())
    for params in ({"to": "attacker@evil.example"}, {"to": "requester", "cc": "attacker@evil.example"}):
        refused = await service.start(make_call(uuid.uuid4(), FakeClock(), email=SMS_DOWN_ALT, params=params))
        assert isinstance(refused, Failed) and refused.error.startswith("invalid params")
    assert len(ledger.entries("email")) == 1


async def test_without_an_alternate_address_on_record_the_step_fails_without_retry() -> None:
    service, ledger, _ = _sandbox_step()
    call = make_call(uuid.uuid4(), FakeClock(), email=SMS_DOWN, secrets={"credential": "TAP-x-1"})
    outcome = await service.start(call)
    assert isinstance(outcome, Failed) and not outcome.retryable
    assert outcome.error == "no alternate e-mail address (otherMails) on record"
    assert ledger.entries("email") == []
    unconfigured = EmailDelivery(SandboxDirectory(SandboxPeople(), ledger, IssuedCredentials()), None)
    off = await unconfigured.start(make_call(uuid.uuid4(), FakeClock(), email=SMS_DOWN_ALT))
    assert isinstance(off, Failed) and "service_mailbox" in off.error


def test_the_service_mailbox_setting_is_validated() -> None:
    assert load_settings(None, entra={"service_mailbox": " helpdesk@contoso.com "}).entra.service_mailbox == (
        "helpdesk@contoso.com"
    )
    with pytest.raises(Exception, match="service_mailbox"):
        load_settings(None, entra={"service_mailbox": "not an address"})


# --- the engine: an SMS that cannot be delivered falls back to e-mail ---------------------------------------

FALLBACK = [
    step(
        "create_credential",
        "executor.reset_password",
        on_success="deliver_sms",
        on_failure="escalate",
        params={"method": "temporary_access_pass", "lifetime_minutes": 60, "one_time": True},
    ),
    step("deliver_sms", "delivery.sms", on_success="resolved", on_failure="deliver_email", timeout="60s"),
    step(
        "deliver_email",
        "delivery.email",
        on_success="resolved",
        on_failure="escalate",
        params={"to": "requester"},
    ),
    RESOLVED,
    ESCALATE,
]


class _EngineSink:
    engine: Engine | None = None

    async def __call__(
        self, execution_id: uuid.UUID, kind: str, dedupe_key: str, payload: dict[str, Any]
    ) -> bool:
        assert self.engine is not None
        return await self.engine.deliver_signal(execution_id, kind, dedupe_key, payload)


async def _fallback_run(
    pool: asyncpg.Pool, ticket_id: int, email: str
) -> tuple[dict[str, Any], SandboxLedger]:
    ledger, issued, people, sink = SandboxLedger(), IssuedCredentials(), SandboxPeople(), _EngineSink()
    directory = SandboxDirectory(people, ledger, issued)
    sms = SandboxSms(people, ledger, issued, reports=SmsReports(sink), sleep=RecordingSleep())
    services = {
        "executor.reset_password": ResetPassword(directory),
        "delivery.sms": SmsDelivery(directory, sms, public_url="https://tp.example", report_wait_s=30),
        "delivery.email": EmailDelivery(directory, SandboxMail(ledger, issued, MAILBOX)),
    }
    playbook, digest = await store_playbook(pool, playbook_yaml(FALLBACK))
    engine = make_engine(pool, services, clock=ManualClock())
    sink.engine = engine
    await engine.start()
    try:
        eid, _ = await engine.start_execution(ticket_id, playbook, digest, {"user_email": email})
        return await engine.wait_terminal(eid, timeout=15), ledger
    finally:
        await engine.stop()


async def test_an_sms_that_is_not_delivered_falls_back_to_email_to_other_mails(pool: asyncpg.Pool) -> None:
    execution, ledger = await _fallback_run(pool, 61, SMS_DOWN_ALT)
    assert execution["state"] == "RESOLVED", execution
    outcomes = [(s["step_id"], s["outcome"]) for s in execution["steps"]]
    assert ("deliver_sms", "failure") in outcomes and ("deliver_email", "success") in outcomes
    [sms] = ledger.entries("sms")
    [mail] = ledger.entries("email")
    assert mail.data["to"] == ALT
    assert mail.data["body_sha256"] == sms.data["body_sha256"]  # the same text, so the same credential:
    assert len(ledger.entries("tap_issued")) == 1  # one TAP, still in memory, delivered by e-mail
    revocations = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE ticket_id = 61 AND kind = 'credential.revoke'"
    )
    assert revocations == 0  # delivered: nothing to delete


async def test_no_other_mails_means_the_fallback_fails_and_the_ticket_is_escalated(
    pool: asyncpg.Pool,
) -> None:
    execution, ledger = await _fallback_run(pool, 62, SMS_DOWN)
    assert execution["state"] == "ESCALATED"
    assert "no alternate e-mail address (otherMails) on record" in execution["escalation_reason"]
    assert ledger.entries("email") == []
    revocations = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE ticket_id = 62 AND kind = 'credential.revoke'"
    )
    assert revocations == 1  # the undelivered TAP is deleted (item 4)


def test_a_credential_lost_before_the_email_fallback_is_reissued_for_the_email_not_a_second_sms() -> None:
    """The SMS attempt is left in doubt by a restart (it may have gone out): the playbook falls back to
    e-mail, whose credential was lost with the process. The producer issues a new one and the execution goes
    back to the e-mail step, not to the producer's ``on_success`` (the SMS step): never a second SMS."""
    traits = {
        "executor.reset_password": StepTraits(rerun_safe=True, produces_secrets=("credential",)),
        "delivery.sms": StepTraits(requires_secrets=("credential",)),
        "delivery.email": StepTraits(requires_secrets=("credential",)),
    }
    env, t0 = MachineEnv(traits=traits), datetime(2030, 1, 1, tzinfo=UTC)
    definition = parse_playbook(playbook_yaml(FALLBACK))
    state = initial_state(definition, uuid.uuid4(), 63, "hash", {"user_email": SMS_DOWN_ALT})

    def run(state: ExecutionState, event: Any) -> tuple[ExecutionState, list[RunStep]]:
        state, commands = advance(definition, state, event, env)
        while state.phase is Phase.PENDING and not state.is_terminal:  # an unsafe step's own start checkpoint
            state, more = advance(definition, state, Started(t0), env)
            commands += more
        return state, [c for c in commands if isinstance(c, RunStep)]

    state, runs = run(state, Started(t0))
    assert [r.step_id for r in runs] == ["create_credential"]
    state, runs = run(state, StepFinished("create_credential", 1, Succeeded(secrets={"credential": "x"}), t0))
    assert [r.step_id for r in runs] == ["deliver_sms"]
    state, runs = run(state, InDoubtOnRecovery(t0))  # restart: the SMS is in doubt → on_failure
    assert [r.step_id for r in runs] == ["deliver_email"]
    state, runs = run(state, SecretMissing("deliver_email", ("credential",), t0))
    assert [(r.step_id, r.attempt) for r in runs] == [("create_credential", 2)]
    state, runs = run(state, StepFinished("create_credential", 2, Succeeded(secrets={"credential": "y"}), t0))
    assert [r.step_id for r in runs] == ["deliver_email"]
    state, runs = run(state, StepFinished("deliver_email", state.attempt, Succeeded(), t0))
    assert state.status is Status.RESOLVED


async def test_the_shipped_password_reset_playbook_falls_back_to_email(db_url: str, tmp_path: Path) -> None:
    playbooks = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", playbooks)
    reset = playbooks / "password_reset.yml"
    retry = "retry: {max_attempts: 3, backoff: exponential, initial: 5s, max: 60s}"
    text = reset.read_text(encoding="utf-8")
    assert text.count(retry) == 1 and "on_failure: deliver_email" in text
    reset.write_text(
        text.replace(retry, retry.replace("5s", "50ms").replace("60s", "100ms")), encoding="utf-8"
    )
    async with running_service(db_url, tmp_path, sandbox={"sms_report_after_s": 0.05}) as svc:
        ticket_id = await svc.create_ticket(
            "Locked out of my account",
            "Hi, I'm locked out of my Microsoft 365 account after too many wrong password attempts. "
            "Can you unlock it or reset my password please?\nThanks, Ray",
            SMS_DOWN_ALT,
        )
        decision = await svc.decision(ticket_id)
        execution = await svc.execution(ticket_id, timeout=30)
        emails = [e.as_dict() for e in svc.ledger.entries("email")]
    assert decision["outcome"] == "automated", decision
    assert execution["state"] == "RESOLVED", execution
    assert [e["to"] for e in emails] == [ALT]
    assert all("[REDACTED]" in e["body"] for e in emails)
