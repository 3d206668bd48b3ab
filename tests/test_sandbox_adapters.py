"""The sandbox twins: deterministic people and behaviours, tickets, the ledger, and no secret kept."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid

import pytest
from test_services_support import FakeClock, build_harness

from ticketpilot.adapters.base import AdapterError, NotFound, Ticket
from ticketpilot.adapters.sandbox import SandboxCards, SandboxLedger, SandboxTickets
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.directory import SandboxDirectory
from ticketpilot.adapters.sandbox.people import Behaviour, SandboxPeople, behaviour_of, phone_of


async def test_any_address_is_a_deterministic_default_user_with_manager_and_phone() -> None:
    h = build_harness(None)
    directory = h.adapters.directory
    user = await directory.resolve_user(email="Jane.Doe@Contoso.example")
    again = await directory.resolve_user(email="jane.doe@contoso.example")
    assert user == again
    assert user.id == str(uuid.UUID(user.id))
    assert user.user_principal_name == "jane.doe@contoso.example"
    assert user.display_name == "Jane Doe"
    assert user.account_enabled
    assert user.phone_on_record is not None and user.phone_on_record.startswith("+1555")
    assert len(user.phone_on_record) == 12
    assert not (await directory.check_privileged(user.id)).privileged
    manager = await directory.get_manager(user.id)
    assert manager is not None
    assert manager.user_principal_name == "manager.jane.doe@contoso.example"
    assert manager.phone_on_record not in (None, user.phone_on_record)
    assert await directory.get_manager(manager.id) is None


async def test_a_fresh_process_finds_the_same_user_by_object_id_and_address() -> None:
    ledger, issued = SandboxLedger(), IssuedCredentials()
    first = await SandboxDirectory(SandboxPeople(), ledger, issued).resolve_user(email="kim@contoso.example")
    restarted = SandboxDirectory(SandboxPeople(), ledger, issued)
    again = await restarted.resolve_user(azure_oid=first.id, email="kim@contoso.example")
    assert again == first
    with pytest.raises(NotFound):
        await restarted.get_user(str(uuid.uuid4()))
    # An object id nobody has seen, with an address it does not derive from, is unknown.
    fresh = SandboxDirectory(SandboxPeople(), ledger, issued)
    with pytest.raises(NotFound):
        await fresh.resolve_user(azure_oid=first.id, email="someone.else@contoso.example")
    with pytest.raises(NotFound):
        await restarted.resolve_user(email="")


@pytest.mark.parametrize(
    ("email", "behaviour"),
    [
        ("mfa-deny.a@x.example", Behaviour.MFA_DENY),
        ("mfa-timeout@x.example", Behaviour.MFA_TIMEOUT),
        ("manager-deny.b@x.example", Behaviour.MANAGER_DENY),
        ("manager-silent.c@x.example", Behaviour.MANAGER_SILENT),
        ("sms-flaky.d@x.example", Behaviour.SMS_FLAKY),
        ("sms-fail.e@x.example", Behaviour.SMS_FAIL),
        ("disabled.f@x.example", Behaviour.DISABLED),
        ("Admin.G@x.example", Behaviour.ADMIN),
        ("no-phone@x.example", Behaviour.NO_PHONE),
        ("manager.mfa-deny.a@x.example", Behaviour.DEFAULT),
        ("jane@x.example", Behaviour.DEFAULT),
    ],
)
def test_behaviour_follows_the_start_of_the_local_part(email: str, behaviour: Behaviour) -> None:
    assert behaviour_of(email) is behaviour


async def test_disabled_admin_and_no_phone_users() -> None:
    h = build_harness(None)
    directory = h.adapters.directory
    assert not (await directory.resolve_user(email="disabled.f@x.example")).account_enabled
    admin = await directory.resolve_user(email="admin.g@x.example")
    check = await directory.check_privileged(admin.id)
    assert check.privileged and check.roles == ("direct:Global Administrator",)
    assert (await directory.resolve_user(email="no-phone.h@x.example")).phone_on_record is None
    no_manager = await directory.resolve_user(email="no-manager.i@x.example")
    assert await directory.get_manager(no_manager.id) is None


@pytest.mark.parametrize(
    ("email", "blocker"),
    [
        ("jane@x.example", None),
        ("risky.jo@x.example", "identity_risk"),
        ("new-phone.kim@x.example", "recent_security_info_change"),
        ("unlicensed.lee@x.example", "identity_signals_unavailable"),
    ],
)
async def test_identity_signal_twins_block_through_the_gate_checks(email: str, blocker: str | None) -> None:
    from ticketpilot.gate.blockers import check_requester
    from ticketpilot.gate.enrichment import RequesterResolver
    from ticketpilot.gate.facts import PolicySnapshot

    h = build_harness(None)
    facts = await RequesterResolver(h.adapters.directory, ttl_s=60).resolve(email=email)
    names = [b.name.value for b in check_requester(facts, PolicySnapshot())]
    assert names == ([blocker] if blocker else [])


async def test_mfa_push_answers_per_behaviour_after_the_configured_delays() -> None:
    h = build_harness(None)
    assert await h.adapters.mfa.push("jane@x.example", context_id="c1") == "approved"
    assert await h.adapters.mfa.push("mfa-deny.a@x.example", context_id="c2") == "denied"
    assert await h.adapters.mfa.push("mfa-timeout.a@x.example", context_id="c3") == "timeout"
    cfg = h.settings.sandbox
    assert h.sleep.waits == [cfg.mfa_approve_after_s, cfg.mfa_approve_after_s, cfg.mfa_timeout_s]
    assert [e.data["result"] for e in h.ledger.entries("mfa_push")] == ["approved", "denied", "timeout"]


async def test_sms_records_a_hash_and_a_redacted_body_never_the_credential() -> None:
    h = build_harness(None)
    user = await h.adapters.directory.resolve_user(email="jane@x.example")
    tap = await h.adapters.directory.create_temporary_access_pass(
        user.id, lifetime_minutes=60, one_time=True, idempotency_key="k"
    )
    body = f"Your pass is:\n{tap}\nIt expires in 60 minutes."
    receipt = await h.adapters.sms.send(phone_of("jane@x.example"), body, idempotency_key="k2")
    [sms] = h.ledger.entries("sms")
    assert sms.data["sid"] == receipt.sid and receipt.sid.startswith("SM")
    assert sms.data["body_sha256"] == hashlib.sha256(body.encode()).hexdigest()
    assert sms.data["body"] == "Your pass is:\n[REDACTED]\nIt expires in 60 minutes."
    assert tap not in h.ledger_json()


async def test_sms_failure_behaviours() -> None:
    h = build_harness(None)
    await h.adapters.directory.resolve_user(email="sms-flaky.d@x.example")
    await h.adapters.directory.resolve_user(email="sms-fail.e@x.example")
    flaky, failing = phone_of("sms-flaky.d@x.example"), phone_of("sms-fail.e@x.example")
    for _ in range(2):
        with pytest.raises(AdapterError) as info:
            await h.adapters.sms.send(flaky, "hi", idempotency_key="k")
        assert info.value.retryable
    assert (await h.adapters.sms.send(flaky, "hi", idempotency_key="k")).status == "queued"
    for _ in range(3):
        with pytest.raises(AdapterError) as info:
            await h.adapters.sms.send(failing, "hi", idempotency_key="k")
        assert not info.value.retryable


async def test_tickets_are_seeded_read_and_written_to_the_ledger() -> None:
    clock = FakeClock()
    ledger, issued = SandboxLedger(clock=clock), IssuedCredentials()
    tickets = SandboxTickets(ledger, issued, closed_status_ids=(9,), clock=clock)
    tickets.seed(Ticket(id=7, summary="Locked out", user_email="jane@x.example"))
    assert (await tickets.get_ticket(7)).summary == "Locked out"
    with pytest.raises(NotFound):
        await tickets.get_ticket(8)
    await tickets.update_ticket(7, custom_fields={"automation_status": "automated"}, status_id=9)
    await tickets.add_note(7, "TicketPilot: verified by manager approval.")
    assert (await tickets.get_ticket(7)).closed
    assert tickets.notes(7) == ["TicketPilot: verified by manager approval."]
    assert tickets.custom_fields(7) == {"automation_status": "automated"}
    assert [e.kind for e in ledger.entries()] == ["ticket_update", "ticket_note"]
    clock.advance(3 * 86400)
    tickets.seed(Ticket(id=8))
    assert [t.id for t in await tickets.list_tickets_since(1)] == [8]
    assert [t.id for t in await tickets.list_tickets_since(5)] == [7, 8]


async def test_a_ticket_write_carrying_a_credential_is_refused_and_flagged() -> None:
    h = build_harness(None)
    tickets = h.adapters.tickets
    assert isinstance(tickets, SandboxTickets)
    tickets.seed(Ticket(id=7))
    user = await h.adapters.directory.resolve_user(email="jane@x.example")
    tap = await h.adapters.directory.reset_password(user.id, force_change=True, idempotency_key="k")
    with pytest.raises(AdapterError):
        await tickets.add_note(7, f"Issued password {tap}.")
    with pytest.raises(AdapterError):
        await tickets.update_ticket(7, custom_fields={"note": tap})
    assert tickets.notes(7) == [] and tickets.custom_fields(7) == {}
    assert len(h.ledger.entries("secret_refused")) == 2
    assert tap not in h.ledger_json()


def test_ledger_is_bounded_and_filters_by_kind() -> None:
    ledger = SandboxLedger(max_entries=3)
    for n in range(5):
        ledger.record("sms" if n % 2 else "mfa_push", n=n)
    assert [e.data["n"] for e in ledger.entries()] == [2, 3, 4]
    assert [e.data["n"] for e in ledger.entries("sms")] == [3]
    assert [e.seq for e in ledger.entries()] == [3, 4, 5]
    json.dumps([e.as_dict() for e in ledger.entries()])
    with pytest.raises(ValueError):
        SandboxLedger(max_entries=0)


async def test_sandbox_manager_answers_are_cancelled_on_close() -> None:
    h = build_harness(None)
    clicks: list[str] = []

    class Clicker:
        async def follow_link(self, url: str) -> bool:
            clicks.append(url)
            return True

    async def never_wakes(seconds: float) -> None:
        await asyncio.Event().wait()

    cards = SandboxCards(h.settings.sandbox, h.ledger, Clicker(), never_wakes)
    card = {
        "actions": [
            {"type": "Action.OpenUrl", "title": "Approve", "url": "http://x/approvals/abc?t=1&d=approve"}
        ],
        "msteams": {"entities": [{"type": "mention", "mentioned": {"id": "manager.jane@x.example"}}]},
    }
    await cards.post_card(card)
    await asyncio.sleep(0)
    await cards.aclose()
    assert clicks == [] and h.ledger.entries("manager_click") == []
    [posted] = h.ledger.entries("teams_card")
    assert posted.data == {"to": "manager.jane@x.example", "request_id": "abc", "actions": ["approve"]}
    assert "t=1" not in h.ledger_json()  # links carry tokens: never recorded
