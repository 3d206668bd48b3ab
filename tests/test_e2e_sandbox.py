"""The PRD flows end to end from the HaloPSA webhook, with the sandbox adapters (DESIGN §1 data flow):
webhook → inbox → ticket re-read → classify → enrich → blockers → decision → execution → HaloPSA."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path
from typing import Any

from service_support import BEARER, HALO_AUTH, ROOT, Running, running_service

LOCKED_OUT = (
    "Locked out of my account",
    "Hi, I'm locked out of my Microsoft 365 account after too many wrong password attempts. "
    "Can you unlock it or reset my password please?\nThanks, {name}",
)


async def _ticket(svc: Running, email: str, text: tuple[str, str] = LOCKED_OUT) -> int:
    summary, details = text
    return await svc.create_ticket(summary, details.format(name=email.split("@")[0]), email)


def _ledger(svc: Running, kind: str, **match: Any) -> list[dict[str, Any]]:
    rows = [e.as_dict() for e in svc.ledger.entries(kind)]
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def _ledger_kinds(svc: Running) -> list[str]:
    return sorted({e.kind for e in svc.ledger.entries()})


async def test_prd_3_1_happy_path_mfa_then_tap_by_sms_then_resolved(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        ticket_id = await _ticket(svc, "jane.doe@contoso.example")
        decision = await svc.decision(ticket_id)
        assert decision["outcome"] == "automated", decision
        assert decision["playbook_id"] == "password_reset"
        assert json.loads(decision["blockers"]) == [] if isinstance(decision["blockers"], str) else True

        execution = await svc.execution(ticket_id)
        assert execution["state"] == "RESOLVED", execution
        assert execution["playbook_id"] == "password_reset"
        outcomes = [(s["step_id"], s["outcome"]) for s in execution["steps"]]
        assert [o for o in outcomes if o[1] == "success"] == [
            ("verify_mfa", "success"),
            ("create_credential", "success"),
            ("deliver_sms", "success"),
        ]
        # the sandbox did exactly one push, one TAP and one SMS, to the requester's phone on record
        assert len(_ledger(svc, "mfa_push")) == 1
        [sms] = _ledger(svc, "sms")
        assert "[REDACTED]" in json.dumps(sms)
        # the sandbox Twilio reported the message delivered, through the status webhook's code path
        [report] = _ledger(svc, "sms_status")
        assert (report["sid"], report["status"], report["signalled"]) == (sms["sid"], "delivered", True)
        # HaloPSA got the decision fields, notes for each step and the resolution
        await svc.drain_outbox(ticket_id)
        updates = _ledger(svc, "ticket_update", ticket_id=ticket_id)
        assert updates[0]["custom_fields"]["automation_status"] == "automated"
        assert updates[0]["custom_fields"]["playbook_id"] == "password_reset"
        notes = [n["note"] for n in _ledger(svc, "ticket_note", ticket_id=ticket_id)]
        assert any("AUTOMATED" in n for n in notes)
        assert any("phone on record" in n for n in notes)
        assert any("Resolved automatically" in n for n in notes)
        assert any(u.get("status_id") == svc.services.settings.halopsa.status_resolved_id for u in updates)


async def test_sms_reported_undelivered_is_sent_again_then_escalated(db_url: str, tmp_path: Path) -> None:
    """Twilio accepts each SMS to an ``sms-undelivered`` phone, then reports it undelivered: the delivery
    step sends a new SMS under its retry policy (backoff shortened here); once its attempts are spent the
    playbook falls back to e-mail, and with no alternate address on record (otherMails) it escalates."""
    playbooks = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", playbooks)
    reset = playbooks / "password_reset.yml"
    retry = "retry: {max_attempts: 3, backoff: exponential, initial: 5s, max: 60s}"
    text = reset.read_text(encoding="utf-8")
    assert text.count(retry) == 1, "the shipped deliver_sms retry policy changed"
    reset.write_text(
        text.replace(retry, retry.replace("5s", "50ms").replace("60s", "100ms")), encoding="utf-8"
    )
    email = "sms-undelivered.ray@contoso.example"
    async with running_service(db_url, tmp_path, sandbox={"sms_report_after_s": 0.05}) as svc:
        ticket_id = await _ticket(svc, email)
        execution = await svc.execution(ticket_id, timeout=20)
        assert execution["state"] == "ESCALATED", execution
        assert "no alternate e-mail address (otherMails) on record" in (execution["escalation_reason"] or "")
        deliveries = [
            (s["attempt"], s["outcome"]) for s in execution["steps"] if s["step_id"] == "deliver_sms"
        ]
        assert deliveries == [(1, "retry"), (2, "retry"), (3, "failure")]
        sent = _ledger(svc, "sms")
        assert len(sent) == 3 and all("[REDACTED]" in s["body"] for s in sent)
        assert len({s["body_sha256"] for s in sent}) == 1, (
            "the same credential (in memory), a new SMS each time"
        )
        assert len(_ledger(svc, "tap_issued")) == 1
        reports = [(r["sid"], r["status"]) for r in _ledger(svc, "sms_status")]
        assert reports == [(s["sid"], "undelivered") for s in sent]
        await svc.drain_outbox(ticket_id)
        notes = [n["note"] for n in _ledger(svc, "ticket_note", ticket_id=ticket_id)]
        assert sum("SMS undelivered (error 30003)" in n for n in notes) >= 3


async def test_prd_3_2_mfa_unanswered_then_manager_approves(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        ticket_id = await _ticket(svc, "mfa-timeout.sam@contoso.example")
        execution = await svc.execution(ticket_id, timeout=20)
        assert execution["state"] == "RESOLVED", execution
        steps = [(s["step_id"], s["outcome"]) for s in execution["steps"]]
        assert ("verify_mfa", "timeout") in steps
        assert ("verify_manager", "success") in steps
        assert steps.index(("verify_mfa", "timeout")) < steps.index(("verify_manager", "success"))
        [card] = _ledger(svc, "teams_card")
        assert "mfa-timeout.sam" in json.dumps(card)
        assert len(_ledger(svc, "sms")) == 1  # the TAP; the manager answered in Teams, no fallback SMS


async def test_prd_3_3_not_eligible_stays_manual_and_untouched(db_url: str, tmp_path: Path) -> None:
    text = (
        "Password reset for our new starter",
        "Hi, can you reset the password for my colleague Tom Baker (tom.baker@contoso.example)? He starts "
        "today and can't log in. Please text the new password to me on +44 7700 900999.\nThanks, Priya",
    )
    async with running_service(db_url, tmp_path) as svc:
        ticket_id = await _ticket(svc, "priya.shah@contoso.example", text)
        decision = await svc.decision(ticket_id)
        assert decision["outcome"] == "manual"
        blockers = (
            decision["blockers"]
            if isinstance(decision["blockers"], list)
            else json.loads(decision["blockers"])
        )
        assert blockers, "a manual decision records why"
        await svc.drain_outbox(ticket_id)
        resp = await svc.client.get(f"/api/v1/orchestration/execution/{ticket_id}", headers=BEARER)
        assert resp.status == 404
        # nothing was done to any account: only the decision was written back to the ticket
        assert _ledger_kinds(svc) == ["ticket_note", "ticket_update"]
        [update] = _ledger(svc, "ticket_update", ticket_id=ticket_id)
        assert update["custom_fields"]["automation_status"] == "manual"
        assert "+44 7700 900999" not in json.dumps([e.as_dict() for e in svc.ledger.entries()])


async def test_mfa_denied_escalates_without_asking_the_manager(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        ticket_id = await _ticket(svc, "mfa-deny.kim@contoso.example")
        execution = await svc.execution(ticket_id)
        assert execution["state"] == "ESCALATED"
        assert "denied the MFA push" in (execution["escalation_reason"] or "")
        assert _ledger(svc, "teams_card") == [] and _ledger(svc, "sms") == []


async def test_manager_denies_escalates(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        ticket_id = await _ticket(svc, "manager-deny.lee@contoso.example")
        execution = await svc.execution(ticket_id, timeout=20)
        assert execution["state"] == "ESCALATED"
        assert [s for s in _ledger(svc, "sms") if "[REDACTED]" in s["body"]] == []


async def test_manager_silent_gets_an_sms_fallback_then_escalates(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        ticket_id = await _ticket(svc, "manager-silent.ana@contoso.example")
        execution = await svc.execution(ticket_id, timeout=20)
        assert execution["state"] == "ESCALATED"
        [fallback] = _ledger(svc, "sms")
        assert (
            fallback["to"]
            != (
                await svc.services.adapters.directory.resolve_user(  # type: ignore[union-attr]
                    email="manager-silent.ana@contoso.example"
                )
            ).phone_on_record
        ), "the fallback SMS goes to the manager, not the requester"
        # No credential in it; its reply code is redacted in the ledger like a credential (never in clear).
        assert "Reply YES [REDACTED] to approve or NO [REDACTED] to deny" in fallback["body"]
        assert not re.search(r"(YES|NO) \d", fallback["body"]) and fallback["body_sha256"] is None
        stored = await svc.services.pool.fetch("SELECT data FROM sandbox_ledger WHERE kind = 'sms'")
        assert [r["data"]["body"] for r in stored] == [fallback["body"]]


async def test_privileged_and_disabled_requesters_are_never_automated(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        admin = await _ticket(svc, "admin.root@contoso.example")
        disabled = await _ticket(svc, "disabled.old@contoso.example")
        names = {}
        for ticket_id in (admin, disabled):
            decision = await svc.decision(ticket_id)
            assert decision["outcome"] == "manual"
            raw = decision["blockers"]
            names[ticket_id] = {b["name"] for b in (raw if isinstance(raw, list) else json.loads(raw))}
        assert "privileged_account" in names[admin]
        assert "account_disabled" in names[disabled]
        assert _ledger(svc, "mfa_push") == []


async def test_duplicate_webhooks_sequential_and_concurrent_make_one_execution(
    db_url: str, tmp_path: Path
) -> None:
    async with running_service(db_url, tmp_path) as svc:
        ticket_id = await _ticket(svc, "dup.user@contoso.example")
        body = {"id": "delivery-1", "event": "New Ticket Logged", "object_id": ticket_id}
        first = await svc.client.post("/webhooks/halopsa/ticket_created", json=body, headers=HALO_AUTH)
        assert first.status == 200
        same = [
            svc.client.post("/webhooks/halopsa/ticket_created", json=body, headers=HALO_AUTH)
            for _ in range(10)
        ]
        other_ids = [
            svc.client.post(
                "/webhooks/halopsa/ticket_created", json={**body, "id": f"d-{i}"}, headers=HALO_AUTH
            )
            for i in range(10)
        ]
        statuses = {r.status for r in await asyncio.gather(*same, *other_ids)}
        assert statuses == {200}
        await svc.execution(ticket_id)
        executions = await svc.services.pool.fetchval(
            "SELECT count(*) FROM playbook_executions WHERE ticket_id = $1", ticket_id
        )
        decisions = await svc.services.pool.fetchval(
            "SELECT count(*) FROM classification_results WHERE ticket_id = $1", ticket_id
        )
        assert (executions, decisions) == (1, 1)
        assert len(_ledger(svc, "sms")) == 1


async def test_closing_the_ticket_cancels_a_waiting_execution(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path, sandbox={"manager_timeout_s": 30.0}) as svc:
        ticket_id = await _ticket(svc, "manager-silent.bo@contoso.example")
        await svc.execution(ticket_id, timeout=20, until={"WAITING"})
        tickets = svc.services.adapters.tickets  # type: ignore[union-attr]
        ticket = await tickets.get_ticket(ticket_id)
        await tickets.seed(ticket.model_copy(update={"closed": True, "status_id": 9}))
        body = {"id": "upd-1", "event": "ticket status changed", "object_id": ticket_id}
        resp = await svc.client.post("/webhooks/halopsa/ticket_updated", json=body, headers=HALO_AUTH)
        assert resp.status == 200
        execution = await svc.execution(ticket_id)
        assert execution["state"] == "CANCELLED"
        assert [s for s in _ledger(svc, "sms") if "[REDACTED]" in s["body"]] == []


async def test_metrics_show_the_flow(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        ticket_id = await _ticket(svc, "metrics.user@contoso.example")
        await svc.execution(ticket_id)
        await svc.drain_outbox(ticket_id)
        resp = await svc.client.get("/metrics")
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
        for needle in (
            'ticketpilot_webhooks_received_total{event="ticket_created",source="halopsa"}',
            'ticketpilot_decisions_total{outcome="automated",playbook="password_reset"}',
            'ticketpilot_executions_finished_total{playbook="password_reset",state="RESOLVED"}',
            'ticketpilot_step_duration_seconds_count{outcome="succeeded",service="delivery.sms"}',
            "ticketpilot_checkpoint_batch_size_count",
            "ticketpilot_outbox_backlog",
            "ticketpilot_timers_pending",
            "ticketpilot_executions_live",
            "ticketpilot_playbook_load_errors 0.0",
        ):
            assert needle in text, needle
