"""Gate API: preview a decision, and (sandbox only) create a ticket that goes through the real intake.

``POST /api/v1/classify_ticket`` ``{subject, body, user_email, ticket_id?}`` → the decision JSON, with no
side effect (nothing stored, nothing written to HaloPSA, nothing started).

``POST /api/v1/sandbox/tickets`` ``{summary, details, user_email}`` → ``201 {"ticket_id"}``: a new sandbox
ticket, delivered as a HaloPSA ``ticket_created`` webhook through the same intake path (inbox row →
worker → gate). 404 unless ``adapters.mode = "sandbox"``.

Both need the admin bearer token (or a dashboard session).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ticketpilot.gate.deliveries import TICKET_CREATED
from ticketpilot.gate.inbox_writer import InboxUnavailable
from ticketpilot.gate.service import Gate
from ticketpilot.http.auth import require_admin
from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import ApiError, read_json, validation_detail
from ticketpilot.http.webhooks import intake_of

routes = web.RouteTableDef()

M = TypeVar("M", bound=BaseModel)


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(default="", max_length=2_000)
    body: str = Field(default="", max_length=100_000)
    user_email: str = Field(min_length=3, max_length=320)
    ticket_id: int | None = Field(default=None, gt=0)


class SandboxTicketRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=2_000)
    details: str = Field(default="", max_length=100_000)
    user_email: str = Field(min_length=3, max_length=320)


def gate_of(services: Any) -> Gate:
    """The running service's gate (``Services.gate``, or ``extras["gate"]``)."""
    gate = getattr(services, "gate", None) or services.extras.get("gate")
    if gate is None:
        raise ApiError(503, "unavailable", "the gate is not running")
    assert isinstance(gate, Gate)
    return gate


def _admin(request: web.Request) -> Any:
    services = request.app[SERVICES]
    require_admin(request, services.settings.http.admin_token.get_secret_value(), services.sessions)
    return services


def _parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "invalid_request", validation_detail(exc)) from None


@routes.post("/api/v1/classify_ticket")
async def classify_ticket(request: web.Request) -> web.Response:
    """The decision the gate would take for this text and requester, with no side effect."""
    services = _admin(request)
    ask = _parse(ClassifyRequest, await read_json(request))
    record = await gate_of(services).preview(ask.subject, ask.body, ask.user_email, ask.ticket_id)
    return web.json_response(record.as_dict())


@routes.post("/api/v1/sandbox/tickets")
async def create_sandbox_ticket(request: web.Request) -> web.Response:
    """Create a sandbox ticket and deliver its ``ticket_created`` webhook through the intake."""
    services = request.app[SERVICES]
    if services.settings.adapters.mode != "sandbox":
        raise ApiError(404, "not_found", "sandbox tickets exist only in sandbox mode")
    _admin(request)
    ask = _parse(SandboxTicketRequest, await read_json(request))
    intake = intake_of(services)
    if not intake.seeds_sandbox:
        raise ApiError(503, "unavailable", "the intake is not wired to the sandbox TicketSystem")
    async with services.pool.acquire() as conn:
        ticket_id = int(await conn.fetchval("SELECT nextval('sandbox_ticket_ids')"))
    delivery = {
        "id": str(uuid.uuid4()),
        "event": "New Ticket Logged",
        "object_id": ticket_id,
        "ticket": {
            "id": ticket_id,
            "summary": ask.summary,
            "details": ask.details,
            "user_email": ask.user_email,
        },
    }
    try:
        await intake.receive(TICKET_CREATED, delivery)
    except InboxUnavailable:  # database unreachable, or the service is stopping: retry later
        raise ApiError(503, "unavailable", "the ticket could not be recorded; retry later") from None
    return web.json_response({"ticket_id": ticket_id}, status=201)
