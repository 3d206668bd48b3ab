"""The orchestration API: start (idempotent), inspect the audit trail, cancel, retry, and the per-service
admin endpoints that run one service for a ticket's requester through the engine."""

from __future__ import annotations

import json
from pathlib import Path

from service_support import BEARER, Running, running_service

from ticketpilot.adapters.base import Ticket


async def _seed(svc: Running, ticket_id: int, email: str) -> None:
    """A ticket in the sandbox HaloPSA (kept in PostgreSQL by the running service)."""
    await svc.services.adapters.tickets.seed(  # type: ignore[union-attr,misc]
        Ticket(id=ticket_id, summary="Locked out", details="please help", user_email=email)
    )


async def _count(svc: Running, table: str) -> int:
    return int(await svc.services.pool.fetchval(f"SELECT count(*) FROM {table}"))


async def test_execute_playbook_is_idempotent_and_the_trail_is_complete(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        await _seed(svc, 501, "jane.doe@contoso.example")
        body = {"ticket_id": 501, "playbook_id": "password_reset", "context": {}}
        first = await svc.client.post("/api/v1/orchestration/execute_playbook", json=body, headers=BEARER)
        again = await svc.client.post("/api/v1/orchestration/execute_playbook", json=body, headers=BEARER)
        assert (first.status, again.status) == (202, 202)
        one, two = await first.json(), await again.json()
        assert one["execution_id"] == two["execution_id"]
        assert (one["created"], two["created"]) == (True, False)

        execution = await svc.execution(501)
        assert execution["state"] == "RESOLVED"
        assert execution["playbook_version"] == "1.0.0"
        assert set(execution) >= {"execution_id", "ticket_id", "playbook_id", "current_step", "steps"}
        for step in execution["steps"]:
            assert {"step_id", "attempt", "outcome", "started_at", "finished_at"} <= set(step)
        assert "[REDACTED]" not in json.dumps(execution) and "temporaryAccessPass" not in json.dumps(
            execution
        )


async def test_the_target_is_the_tickets_requester_whatever_the_context_says(
    db_url: str, tmp_path: Path
) -> None:
    async with running_service(db_url, tmp_path) as svc:
        await _seed(svc, 502, "jane.doe@contoso.example")
        body = {
            "ticket_id": 502,
            "playbook_id": "password_reset",
            "context": {"user_email": "ceo@contoso.example", "phone": "+15550000000", "note": "x\u0000y"},
        }
        resp = await svc.client.post("/api/v1/orchestration/execute_playbook", json=body, headers=BEARER)
        assert resp.status == 202
        await svc.execution(502)
        [sms] = [e.as_dict() for e in svc.ledger.entries("sms")]
        requester = await svc.services.adapters.directory.resolve_user(  # type: ignore[union-attr]
            email="jane.doe@contoso.example"
        )
        assert sms["to"] == requester.phone_on_record
        pushes = [e.as_dict() for e in svc.ledger.entries("mfa_push")]
        assert [p["user_principal_name"] for p in pushes] == ["jane.doe@contoso.example"]


async def test_bad_requests_are_clear_4xx_and_store_nothing(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        await _seed(svc, 503, "jane.doe@contoso.example")
        url = "/api/v1/orchestration/execute_playbook"
        cases = [
            ({"ticket_id": 503, "playbook_id": "nope"}, 404, "unknown_playbook"),
            ({"ticket_id": 999, "playbook_id": "password_reset"}, 404, "ticket_not_found"),
            ({"ticket_id": "x", "playbook_id": "password_reset"}, 400, "invalid_request"),
            ({"ticket_id": 503}, 400, "invalid_request"),
            ({"ticket_id": 503, "playbook_id": "password_reset", "extra": 1}, 400, "invalid_request"),
        ]
        for body, status, code in cases:
            resp = await svc.client.post(url, json=body, headers=BEARER)
            assert (resp.status, (await resp.json())["error"]) == (status, code), body
        assert (await svc.client.post(url, data=b"{", headers=BEARER)).status == 400
        assert (
            await svc.client.post(url, json={"ticket_id": 503, "playbook_id": "password_reset"})
        ).status == 401
        await svc.services.registry.set_enabled("password_reset", False)
        resp = await svc.client.post(
            url, json={"ticket_id": 503, "playbook_id": "password_reset"}, headers=BEARER
        )
        assert (resp.status, (await resp.json())["error"]) == (409, "playbook_disabled")
        assert await _count(svc, "playbook_executions") == 0


async def test_cancel_a_waiting_execution_and_retry_an_escalated_one(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path, sandbox={"manager_timeout_s": 30.0}) as svc:
        await _seed(svc, 504, "manager-silent.ola@contoso.example")
        resp = await svc.client.post(
            "/api/v1/orchestration/execute_playbook",
            json={"ticket_id": 504, "playbook_id": "password_reset"},
            headers=BEARER,
        )
        execution_id = (await resp.json())["execution_id"]
        await svc.execution(504, until={"WAITING"})
        premature = await svc.client.post(f"/api/v1/executions/{execution_id}/retry", headers=BEARER)
        assert premature.status == 409
        resp = await svc.client.post(
            f"/api/v1/executions/{execution_id}/cancel", json={"reason": "user called in"}, headers=BEARER
        )
        assert resp.status == 202
        cancelled = await svc.execution(504)
        assert cancelled["state"] == "CANCELLED"

        await _seed(svc, 505, "sms-fail.pat@contoso.example")
        resp = await svc.client.post(
            "/api/v1/orchestration/execute_playbook",
            json={"ticket_id": 505, "playbook_id": "password_reset"},
            headers=BEARER,
        )
        execution_id = (await resp.json())["execution_id"]
        escalated = await svc.execution(505, timeout=60)
        assert escalated["state"] == "ESCALATED"
        attempts_before = len(escalated["steps"])
        resp = await svc.client.post(f"/api/v1/executions/{execution_id}/retry", headers=BEARER)
        assert resp.status == 202
        again = await svc.execution(505, timeout=60)
        assert again["state"] == "ESCALATED"
        assert len(again["steps"]) > attempts_before, "the retry is a new, audited attempt"
        unknown = await svc.client.post(
            "/api/v1/executions/00000000-0000-0000-0000-000000000000/cancel", headers=BEARER
        )
        assert unknown.status == 404


async def test_per_service_endpoints_run_through_the_engine_and_never_answer_a_secret(
    db_url: str, tmp_path: Path
) -> None:
    async with running_service(db_url, tmp_path) as svc:
        await _seed(svc, 506, "jane.doe@contoso.example")
        headers = {**BEARER, "Idempotency-Key": "op-1"}
        resp = await svc.client.post("/api/v1/verification/mfa", json={"ticket_id": 506}, headers=headers)
        assert resp.status == 200
        answer = await resp.json()
        assert (answer["service"], answer["state"], answer["outcome"]) == (
            "verification.mfa",
            "RESOLVED",
            "succeeded",
        )
        again = await svc.client.post("/api/v1/verification/mfa", json={"ticket_id": 506}, headers=headers)
        assert (await again.json())["execution_id"] == answer["execution_id"]
        assert len(svc.ledger.entries("mfa_push")) == 1, "same Idempotency-Key: no second push"

        reset_headers = {**BEARER, "Idempotency-Key": "op-2"}
        resp = await svc.client.post(
            "/api/v1/executor/reset_password", json={"ticket_id": 506}, headers=reset_headers
        )
        text = await resp.text()
        answer = json.loads(text)
        assert resp.status == 200 and answer["delivered"] is True
        assert "credential" not in answer and "password" not in text.lower().replace("reset_password", "")
        [sms] = [e.as_dict() for e in svc.ledger.entries("sms")]
        assert "[REDACTED]" in sms["body"]

        missing = await svc.client.post(
            "/api/v1/verification/manager_approval", json={"ticket_id": 506}, headers=BEARER
        )
        assert (missing.status, (await missing.json())["error"]) == (400, "idempotency_key_required")
        audited = await svc.services.pool.fetchval(
            "SELECT count(*) FROM playbook_executions WHERE ticket_id = 506 AND playbook_id LIKE 'adhoc_%'"
        )
        assert audited == 2
