"""The run-time policy applies to the admin API too (issue 10, item 3): kill switches and shadow mode always
refuse; cooldown and rate limit refuse unless an audited override is given; and the credential step itself
issues nothing while a kill switch is on, whatever started its execution."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from service_support import BEARER, Running, running_service

from ticketpilot.adapters.base import Ticket
from ticketpilot.http.dashboard_queries import set_global_kill_switch

EXECUTE = "/api/v1/orchestration/execute_playbook"


async def _seed(svc: Running, ticket_id: int, email: str) -> None:
    """A ticket in the sandbox HaloPSA (``seed`` returns a write to await when the sandbox keeps its state in
    PostgreSQL)."""
    pending: Any = svc.services.adapters.tickets.seed(  # type: ignore[union-attr]
        Ticket(id=ticket_id, summary="Locked out", details="please help", user_email=email)
    )
    if inspect.isawaitable(pending):
        await pending


async def _post(svc: Running, url: str, body: dict[str, Any], key: str | None = None) -> tuple[int, Any]:
    headers = {**BEARER, **({"Idempotency-Key": key} if key else {})}
    resp = await svc.client.post(url, json=body, headers=headers)
    return resp.status, await resp.json()


def _decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _credentials_issued(svc: Running) -> int:
    return len(svc.ledger.entries("tap_issued")) + len(svc.ledger.entries("sms"))


async def test_global_kill_switch_refuses_every_admin_path_that_can_issue_a_credential(
    db_url: str, tmp_path: Path
) -> None:
    async with running_service(db_url, tmp_path) as svc:
        await _seed(svc, 601, "jane.doe@contoso.example")
        await set_global_kill_switch(svc.services.pool, True, "ops", "incident 42")
        status, body = await _post(svc, EXECUTE, {"ticket_id": 601, "playbook_id": "password_reset"})
        assert (status, body["error"]) == (409, "kill_switch")
        assert "incident 42" in body["detail"]["message"] and body["detail"]["override_allowed"] is False
        for url in ("/api/v1/executor/reset_password", "/api/v1/delivery/sms"):
            status, body = await _post(svc, url, {"ticket_id": 601, "wait_seconds": 0}, key=f"k-{url}")
            assert (status, body["error"]) == (409, "kill_switch"), url
        # An override cannot bypass a kill switch.
        status, body = await _post(
            svc, EXECUTE, {"ticket_id": 601, "playbook_id": "password_reset", "override": {"reason": "VIP"}}
        )
        assert (status, body["error"]) == (409, "kill_switch")
        assert await svc.services.pool.fetchval("SELECT count(*) FROM playbook_executions") == 0
        assert _credentials_issued(svc) == 0


async def test_per_playbook_kill_switch_and_shadow_mode_refuse_execute_playbook(
    db_url: str, tmp_path: Path
) -> None:
    async with running_service(db_url, tmp_path) as svc:
        await _seed(svc, 602, "jane.doe@contoso.example")
        # mfa_reset ships in shadow mode: it never acts, whoever starts it, override or not.
        for extra in ({}, {"override": {"reason": "try it"}}):
            status, body = await _post(svc, EXECUTE, {"ticket_id": 602, "playbook_id": "mfa_reset", **extra})
            assert (status, body["error"]) == (409, "shadow_mode")
        await svc.services.registry.set_kill_switch("password_reset", True)
        status, body = await _post(svc, EXECUTE, {"ticket_id": 602, "playbook_id": "password_reset"})
        assert (status, body["error"]) == (409, "kill_switch")
        assert [b["name"] for b in body["detail"]["blockers"]] == ["kill_switch_playbook"]
        assert await svc.services.pool.fetchval("SELECT count(*) FROM playbook_executions") == 0
        assert _credentials_issued(svc) == 0 and not svc.ledger.entries("teams_card")


async def test_cooldown_refuses_unless_an_audited_override_is_given(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        await _seed(svc, 603, "jane.doe@contoso.example")
        await _seed(svc, 604, "jane.doe@contoso.example")
        status, first = await _post(svc, "/api/v1/executor/reset_password", {"ticket_id": 603}, key="op-1")
        assert status == 200 and first["delivered"] is True
        # Same requester, another ticket: within policy.cooldown_hours.
        status, body = await _post(svc, EXECUTE, {"ticket_id": 604, "playbook_id": "password_reset"})
        assert (status, body["error"]) == (409, "cooldown")
        assert body["detail"]["override_allowed"] is True
        status, body = await _post(svc, "/api/v1/delivery/sms", {"ticket_id": 604}, key="op-2")
        assert (status, body["error"]) == (409, "cooldown")
        assert len(svc.ledger.entries("tap_issued")) == 1

        blank = {"ticket_id": 604, "playbook_id": "password_reset", "override": {"reason": "  "}}
        status, body = await _post(svc, EXECUTE, blank)
        assert (status, body["error"]) == (400, "invalid_request"), "an override needs a reason"
        reason = "user verified in person at the service desk"
        status, body = await _post(
            svc, EXECUTE, {"ticket_id": 604, "playbook_id": "password_reset", "override": {"reason": reason}}
        )
        assert status == 202 and body["created"] is True
        execution = await svc.execution(604)
        assert execution["state"] == "RESOLVED"
        override = execution["operator"]["override"]
        assert override["reason"] == reason and [b["name"] for b in override["bypassed"]] == ["cooldown"]
        notes = await svc.services.pool.fetch(
            "SELECT payload FROM outbox WHERE ticket_id = 604 AND dedupe_key LIKE '%:operator_override'"
        )
        assert len(notes) == 1 and reason in _decoded(notes[0]["payload"])["note"]


async def test_rate_limit_counts_admin_starts_and_refuses_unless_overridden(
    db_url: str, tmp_path: Path
) -> None:
    async with running_service(db_url, tmp_path, policy={"rate_limit_per_hour": 1}) as svc:
        await _seed(svc, 605, "jane.doe@contoso.example")
        await _seed(svc, 606, "ola.nordmann@contoso.example")
        status, _ = await _post(svc, "/api/v1/executor/reset_password", {"ticket_id": 605}, key="op-1")
        assert status == 200
        status, body = await _post(svc, "/api/v1/executor/reset_password", {"ticket_id": 606}, key="op-2")
        assert (status, body["error"]) == (409, "rate_limited")
        assert len(svc.ledger.entries("tap_issued")) == 1
        status, body = await _post(
            svc,
            "/api/v1/executor/reset_password",
            {"ticket_id": 606, "override": {"reason": "outage recovery, approved by the duty manager"}},
            key="op-3",
        )
        assert status == 200 and body["delivered"] is True
        assert len(svc.ledger.entries("tap_issued")) == 2


async def test_the_credential_step_issues_nothing_while_a_kill_switch_is_on(
    db_url: str, tmp_path: Path
) -> None:
    """Whatever started the execution (here the engine directly, as after a restart or an operator retry)."""
    async with running_service(db_url, tmp_path) as svc:
        await _seed(svc, 607, "jane.doe@contoso.example")
        loaded = svc.services.registry.active("password_reset")
        assert loaded is not None
        await set_global_kill_switch(svc.services.pool, True, "ops", "incident 43")
        user = await svc.services.adapters.directory.resolve_user(  # type: ignore[union-attr]
            email="jane.doe@contoso.example"
        )
        context = {"ticket_id": 607, "user_email": "jane.doe@contoso.example", "user_id": user.id}
        await svc.services.engine.start_execution(607, loaded.playbook, loaded.content_hash, context)
        execution = await svc.execution(607)
        assert execution["state"] == "ESCALATED"
        [refused] = [s for s in execution["steps"] if s["step_id"] == "create_credential"]
        assert refused["outcome"] == "failure" and "incident 43" in refused["error"]
        assert _credentials_issued(svc) == 0
