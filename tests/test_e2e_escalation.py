"""Escalated tickets land in the right HaloPSA queue: team, agent, status and priority, per playbook overridable.

The whole service, live against the loopback vendor fakes (``e2e_live_support``); HaloPSA's fake checks every
request against the HaloPSA spec, so the routing is sent as the API takes it: ``POST /api/Tickets`` with a
one-record JSON array carrying the ticket's ``id`` and ``team``/``agent_id``/``status_id``/``priority_id``.
A denied MFA push is the escalation (the shipped ``password_reset`` playbook: ``on_failure: escalate``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from e2e_live_support import (
    LiveService,
    ServiceFactory,
    VendorFakes,
    add_requester,
    live_service,
    llm_answer,
    started_fakes,
)

PASSWORD_RESET = llm_answer(
    "PASSWORD_RESET", 0.93, "The requester cannot sign in to their own work account and asks for help."
)
QUEUE = {
    "escalation_team": "Service Desk L1",
    "escalation_agent_id": 7,
    "status_escalated_id": 5,
    "escalation_priority_id": 2,
}
ROUTING_KEYS = ("team", "agent_id", "status_id", "priority_id")


@pytest.fixture
async def fakes(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[VendorFakes]:
    async with started_fakes(monkeypatch) as all_fakes:
        yield all_fakes


@pytest.fixture
def service(fakes: VendorFakes, db_url: str, redis_url: str, tmp_path: Path) -> ServiceFactory:
    def start(**overrides: Any) -> AbstractAsyncContextManager[LiveService]:
        return live_service(fakes, db_url=db_url, redis_url=redis_url, tmp_path=tmp_path, **overrides)

    return start


def routing(fakes: VendorFakes, ticket_id: int) -> dict[str, Any]:
    ticket = fakes.halo.tickets[ticket_id]
    return {key: ticket.get(key) for key in ROUTING_KEYS}


async def escalate_by_denied_push(svc: LiveService, fakes: VendorFakes, ticket_id: int) -> list[str]:
    alice = add_requester(fakes, ticket_id=ticket_id, login=f"user{ticket_id}")
    fakes.mfa.results[alice.user.upn] = "PhoneAppDenied"
    await svc.send_webhook(ticket_id)
    execution = await svc.wait_terminal(ticket_id)
    await svc.wait_written_back()
    assert execution["state"] == "ESCALATED"
    return svc.halo_notes(ticket_id)


async def test_an_escalated_ticket_lands_in_the_configured_queue(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    fakes.openai.answer_when(
        "Printer on floor 2", llm_answer("PRINTER_ISSUE", 0.97, "A printer is jammed; not an account issue.")
    )
    fakes.halo.add_ticket(8102, summary="Printer on floor 2 jams", details="Paper jam again.", user_id=0)
    manual_queue = {"manual_team": "Triage", "manual_status_id": 2}
    field_names = {"customfield_automation_status_name": "CFautomationStatus", "customfield_playbook_id": 182}
    async with service(halopsa={**QUEUE, **manual_queue, **field_names}) as svc:
        notes = await escalate_by_denied_push(svc, fakes, 8101)
        await svc.send_webhook(8102)

        async def printer_routed() -> bool:
            return fakes.halo.tickets[8102].get("team") == "Triage"

        await svc.wait_for("the manual ticket's routing", printer_routed)
        await svc.wait_written_back()

    assert routing(fakes, 8101) == {
        "team": "Service Desk L1",
        "agent_id": 7,
        "status_id": 5,
        "priority_id": 2,
    }
    assert "Handed to: team Service Desk L1, agent 7, status 5, priority 2." in notes[-1]
    # The routing went to HaloPSA as the API takes it: one record with the ticket's id, in a JSON array.
    [post] = [
        r
        for r in fakes.halo.calls("POST", "/api/Tickets")
        if r.json()[0].get("id") == 8101 and "team" in r.json()[0]
    ]
    assert post.text().lstrip().startswith("[")
    assert {k: post.json()[0][k] for k in ("id", *ROUTING_KEYS)} == {"id": 8101, **routing(fakes, 8101)}
    # The decision's custom fields went by the instance's name, and by id, as configured.
    fields = fakes.halo.tickets[8101]["customfields"]
    assert {"name": "CFautomationStatus", "value": "automated"} in fields
    assert {"id": 182, "value": "password_reset"} in fields
    # A ticket the gate leaves manual goes to the manual queue (agent and priority left alone).
    assert routing(fakes, 8102) == {"team": "Triage", "agent_id": None, "status_id": 2, "priority_id": None}


async def test_a_playbook_escalation_block_overrides_the_defaults(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    override = {"password_reset": {"escalation": {"team": "Identity & Access", "priority_id": 1}}}
    async with service(halopsa=QUEUE, playbook_fields=override) as svc:
        notes = await escalate_by_denied_push(svc, fakes, 8201)

    # The playbook's keys win; the others keep the configured defaults.
    assert routing(fakes, 8201) == {
        "team": "Identity & Access",
        "agent_id": 7,
        "status_id": 5,
        "priority_id": 1,
    }
    assert "Handed to: team Identity & Access, agent 7, status 5, priority 1." in notes[-1]


async def test_without_a_configured_queue_escalation_leaves_the_ticket_where_it_is(
    fakes: VendorFakes, service: ServiceFactory
) -> None:
    fakes.openai.answer_when("I can't log in", PASSWORD_RESET)
    async with service() as svc:
        notes = await escalate_by_denied_push(svc, fakes, 8301)
    assert routing(fakes, 8301) == {"team": None, "agent_id": None, "status_id": 1, "priority_id": None}
    assert "Handed to" not in notes[-1]
