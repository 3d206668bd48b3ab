"""Orchestration API: start, inspect, cancel and retry executions; run one service for a ticket's requester.

Starts that can issue a credential (``execute_playbook``, ``executor/reset_password``, ``delivery/sms``) obey
the run-time policy like the gate (:mod:`ticketpilot.gate.admission`): a kill switch or a shadow-mode
playbook refuses them with 409; so do the requester's cooldown and the global rate limit, unless the body
carries ``"override": {"reason": "..."}`` — recorded with the execution, on the ticket and in the log.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any
from uuid import UUID

import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ticketpilot.adapters.base import AdapterError, NotFound
from ticketpilot.gate.admission import Admission, admit_operator_start, blockers_view
from ticketpilot.gate.outbox import NOTE, OutboxMessage, enqueue
from ticketpilot.gate.policy import RuntimePolicy
from ticketpilot.http.auth import require_admin
from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import ApiError, read_json, validation_detail
from ticketpilot.playbooks.adhoc import adhoc_playbook, store_adhoc
from ticketpilot.service import Services

log = structlog.get_logger(__name__)
routes = web.RouteTableDef()

TERMINAL = frozenset({"RESOLVED", "ESCALATED", "CANCELLED", "FAILED"})
CREDENTIAL_SERVICES = frozenset({"executor.reset_password", "delivery.sms"})
"""Per-service endpoints that issue a credential: the run-time policy applies to them."""
OPERATOR_KEY = "operator"
"""The execution context key that marks an operator's start (counted by the rate limit) and its override."""


class Override(BaseModel):
    """An operator's explicit, audited decision to proceed despite the cooldown or the rate limit."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, pattern=r"\S")
    """Why the operator proceeds anyway (not blank): kept with the execution, on the ticket and in the log."""


class ExecuteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: int = Field(gt=0, lt=2**63)
    playbook_id: str = Field(min_length=1, max_length=64)
    context: dict[str, Any] = Field(default_factory=dict)
    override: Override | None = None


class ServiceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: int = Field(gt=0, lt=2**63)
    wait_seconds: float = Field(default=25.0, ge=0, le=60)
    override: Override | None = None


def _admin(request: web.Request) -> Services:
    services = request.app[SERVICES]
    require_admin(request, services.settings.http.admin_token.get_secret_value(), services.sessions)
    return services


async def _body(request: web.Request, model: type[BaseModel]) -> Any:
    payload = await read_json(request)
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ApiError(400, "invalid_request", validation_detail(exc)) from None


async def requester_context(services: Services, ticket_id: int) -> dict[str, Any]:
    """The execution context for a ticket: its requester as read from HaloPSA and resolved in Entra ID."""
    adapters = services.adapters
    assert adapters is not None
    try:
        ticket = await adapters.tickets.get_ticket(ticket_id)
    except NotFound:
        raise ApiError(404, "ticket_not_found", f"ticket {ticket_id} does not exist in HaloPSA") from None
    except AdapterError as exc:
        raise ApiError(502, "halopsa_unavailable", exc.message) from None
    try:
        user = await adapters.directory.resolve_user(azure_oid=ticket.user_azure_oid, email=ticket.user_email)
    except AdapterError as exc:
        raise ApiError(409, "requester_unresolved", exc.message) from None
    return {
        "ticket_id": ticket_id,
        "user_email": ticket.user_email,
        "user_id": user.id,
        "user_upn": user.user_principal_name,
    }


@routes.post("/api/v1/orchestration/execute_playbook")
async def execute_playbook(request: web.Request) -> web.Response:
    services = _admin(request)
    body: ExecuteRequest = await _body(request, ExecuteRequest)
    loaded = services.registry.active(body.playbook_id)
    if loaded is None:
        raise ApiError(404, "unknown_playbook", f"no playbook {body.playbook_id!r}")
    if not loaded.enabled:
        raise ApiError(409, "playbook_disabled", f"playbook {body.playbook_id!r} is disabled")
    # The target is always the ticket's requester: a caller-supplied context cannot change it.
    requester = await requester_context(services, body.ticket_id)
    existing = await _existing_execution(services, body.ticket_id, body.playbook_id)
    if existing is not None:  # idempotent: nothing new would act
        return web.json_response(
            {"execution_id": str(existing), "created": False, "ticket_id": body.ticket_id}, status=202
        )
    admission = await admit_operator_start(
        services.pool,
        RuntimePolicy(services.settings.policy),
        requester_user_id=requester["user_id"],
        playbook_id=body.playbook_id,
        playbook_killed=loaded.kill_switch,
        shadow=loaded.playbook.mode == "shadow",
        override=body.override is not None,
    )
    _refuse_unless_admitted(admission)
    context = {**body.context, **requester, OPERATOR_KEY: _operator_record(admission, body.override)}
    execution_id, created = await services.engine.start_execution(
        body.ticket_id, loaded.playbook, loaded.content_hash, context
    )
    if created:
        await _audit_override(services, body.ticket_id, execution_id, admission, body.override)
    return web.json_response(
        {"execution_id": str(execution_id), "created": created, "ticket_id": body.ticket_id}, status=202
    )


@routes.get("/api/v1/orchestration/execution/{ticket_id}")
async def execution_for_ticket(request: web.Request) -> web.Response:
    services = _admin(request)
    try:
        ticket_id = int(request.match_info["ticket_id"])
    except ValueError:
        ticket_id = 0
    if not 0 < ticket_id < 2**63:
        raise ApiError(400, "invalid_ticket_id", "ticket id must be a positive 64-bit integer")
    execution = await services.engine.get_execution_by_ticket(ticket_id)
    if execution is None:
        raise ApiError(404, "no_execution", f"no execution for ticket {ticket_id}")
    return web.json_response(execution, dumps=_dumps)


def _execution_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["execution_id"])
    except ValueError:
        raise ApiError(400, "invalid_execution_id", "execution id must be a UUID") from None


@routes.post("/api/v1/executions/{execution_id}/cancel")
async def cancel_execution(request: web.Request) -> web.Response:
    services = _admin(request)
    execution_id = _execution_id(request)
    payload = await read_json(request) if request.can_read_body else {}
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_request", 'expected a JSON object like {"reason": "..."}')
    reason = str(payload.get("reason", ""))[:500]
    if await services.engine.get_execution(execution_id) is None:
        raise ApiError(404, "no_execution", f"no execution {execution_id}")
    await services.engine.cancel(execution_id, reason or "cancelled by an operator")
    return web.json_response({"execution_id": str(execution_id), "cancel_requested": True}, status=202)


@routes.post("/api/v1/executions/{execution_id}/retry")
async def retry_execution(request: web.Request) -> web.Response:
    services = _admin(request)
    execution_id = _execution_id(request)
    execution = await services.engine.get_execution(execution_id)
    if execution is None:
        raise ApiError(404, "no_execution", f"no execution {execution_id}")
    if execution["state"] not in ("ESCALATED", "FAILED"):
        raise ApiError(
            409, "not_retryable", f"execution is {execution['state']}; only ESCALATED or FAILED retry"
        )
    await services.engine.retry(execution_id)
    return web.json_response({"execution_id": str(execution_id), "retrying": True}, status=202)


async def _run_service(request: web.Request, service_name: str) -> web.Response:
    services = _admin(request)
    body: ServiceRequest = await _body(request, ServiceRequest)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 200:
        raise ApiError(400, "idempotency_key_required", "send an Idempotency-Key header (1-200 characters)")
    playbook, yaml_text = adhoc_playbook(service_name, hashlib.sha256(key.encode()).hexdigest()[:16])
    context = await requester_context(services, body.ticket_id)
    execution_id = await _existing_execution(services, body.ticket_id, playbook.id)
    if execution_id is None:
        admission: Admission | None = None
        if service_name in CREDENTIAL_SERVICES:
            admission = await admit_operator_start(
                services.pool,
                RuntimePolicy(services.settings.policy),
                requester_user_id=context["user_id"],
                playbook_id=None,  # one ad hoc playbook per key: only the global kill switch applies
                override=body.override is not None,
            )
            _refuse_unless_admitted(admission)
            context[OPERATOR_KEY] = _operator_record(admission, body.override)
        content_hash = await store_adhoc(services.pool, playbook, yaml_text)
        execution_id, created = await services.engine.start_execution(
            body.ticket_id, playbook, content_hash, context
        )
        if created and admission is not None:
            await _audit_override(services, body.ticket_id, execution_id, admission, body.override)
    execution = await _wait(services, execution_id, body.wait_seconds)
    state = execution["state"]
    answer = {
        "execution_id": str(execution_id),
        "ticket_id": body.ticket_id,
        "service": service_name,
        "state": state,
        "outcome": {"RESOLVED": "succeeded", "ESCALATED": "failed", "FAILED": "failed"}.get(state, "pending"),
        "escalation_reason": execution.get("escalation_reason"),
    }
    if service_name in ("executor.reset_password", "delivery.sms"):
        # Never the credential: only whether it reached the phone on record.
        answer["delivered"] = state == "RESOLVED"
    return web.json_response(answer, status=200 if state in TERMINAL else 202)


async def _existing_execution(services: Services, ticket_id: int, playbook_id: str) -> UUID | None:
    found: UUID | None = await services.pool.fetchval(
        "SELECT execution_id FROM playbook_executions WHERE ticket_id = $1 AND playbook_id = $2",
        ticket_id,
        playbook_id,
    )
    return found


def _refuse_unless_admitted(admission: Admission) -> None:
    if admission.allowed:
        return
    raise ApiError(
        409,
        admission.code,
        {
            "message": admission.message(),
            "blockers": blockers_view(admission.refused),
            "override_allowed": admission.override_allowed,
        },
    )


def _operator_record(admission: Admission, override: Override | None) -> dict[str, Any]:
    """What the execution context keeps of an operator's start (never a secret)."""
    record: dict[str, Any] = {"started_by": "admin_api"}
    if override is not None and admission.overridden:
        record["override"] = {
            "reason": override.reason.replace("\x00", "").strip(),
            "bypassed": blockers_view(admission.overridden),
        }
    return record


async def _audit_override(
    services: Services, ticket_id: int, execution_id: UUID, admission: Admission, override: Override | None
) -> None:
    """An override that bypassed something is written to the log and as a private note on the ticket."""
    if override is None or not admission.overridden:
        return
    reason = override.reason.replace("\x00", "").strip()
    bypassed = ", ".join(f"{b.name.value} ({b.detail})" for b in admission.overridden)
    log.warning(
        "operator_policy_override",
        ticket_id=ticket_id,
        execution_id=str(execution_id),
        bypassed=[b.name.value for b in admission.overridden],
        reason=reason,
    )
    note = f"TicketPilot: an operator started this execution through the admin API despite {bypassed}. Reason: {reason}"
    message = OutboxMessage(
        NOTE,
        ticket_id,
        {"note": note, "execution_id": str(execution_id)},
        f"{execution_id}:operator_override",
    )
    async with services.pool.acquire() as conn:
        await enqueue(conn, [message])


async def _wait(services: Services, execution_id: UUID, seconds: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        execution: dict[str, Any] = await services.engine.get_execution(execution_id)
        if execution["state"] in TERMINAL or loop.time() >= deadline:
            return execution
        try:
            await services.engine.wait_terminal(execution_id, timeout=max(0.0, deadline - loop.time()))
        except TimeoutError:
            pass


@routes.post("/api/v1/verification/mfa")
async def verification_mfa(request: web.Request) -> web.Response:
    return await _run_service(request, "verification.mfa")


@routes.post("/api/v1/verification/manager_approval")
async def verification_manager(request: web.Request) -> web.Response:
    return await _run_service(request, "verification.manager")


@routes.post("/api/v1/executor/reset_password")
async def executor_reset_password(request: web.Request) -> web.Response:
    return await _run_service(request, "executor.reset_password")


@routes.post("/api/v1/delivery/sms")
async def delivery_sms(request: web.Request) -> web.Response:
    """Delivery needs a credential from the same execution: issue one and text it to the phone on record."""
    return await _run_service(request, "delivery.sms")


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, default=str)
