"""HaloPSA webhooks: ``POST /webhooks/halopsa/ticket_created`` and ``/ticket_updated``.

HaloPSA webhooks are unsigned; a delivery is authenticated by Basic auth (``halopsa.webhook_username`` /
``webhook_password``) or, on ``/webhooks/halopsa/{secret}/…``, by the secret path segment
(``halopsa.webhook_path_secret``). Both are compared in constant time. Wrong or missing credentials
→ 401 and nothing is stored; a body that is not JSON → 400. Otherwise the deliveries are committed to
the durable inbox and answered 200 (an object without a ticket id is logged and ignored, still 200, so
HaloPSA does not retry it forever). If the inbox cannot be written → 503, and HaloPSA retries.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

import structlog
from aiohttp import web

from ticketpilot.config import HalopsaConfig
from ticketpilot.gate.deliveries import TICKET_CREATED, TICKET_UPDATED
from ticketpilot.gate.intake import WebhookIntake
from ticketpilot.http.auth import header_bytes
from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import ApiError, read_json

log = structlog.get_logger(__name__)

routes = web.RouteTableDef()

_BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="ticketpilot-webhooks"'}


def basic_auth_ok(header: str, config: HalopsaConfig) -> bool:
    """``Authorization: Basic …`` matches the configured webhook credentials (constant-time compare)."""
    expected_password = config.webhook_password.get_secret_value()
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not expected_password:
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    user, sep, password = decoded.partition(b":")
    if not sep:
        return False
    user_ok = hmac.compare_digest(user, config.webhook_username.encode())
    password_ok = hmac.compare_digest(password, expected_password.encode())
    return user_ok and password_ok


def path_secret_ok(presented: str, config: HalopsaConfig) -> bool:
    """The path segment matches ``halopsa.webhook_path_secret`` (constant-time; empty never matches)."""
    expected = config.webhook_path_secret.get_secret_value()
    return bool(expected) and hmac.compare_digest(header_bytes(presented), expected.encode())


def intake_of(services: Any) -> WebhookIntake:
    """The running service's webhook intake (``Services.intake``, or ``extras["intake"]``)."""
    intake = getattr(services, "intake", None) or services.extras.get("intake")
    if intake is None:
        raise ApiError(503, "unavailable", "the webhook intake is not running")
    assert isinstance(intake, WebhookIntake)
    return intake


async def _receive(request: web.Request, event: str) -> web.Response:
    services = request.app[SERVICES]
    config = services.settings.halopsa
    secret = request.match_info.get("secret")
    if secret is not None:
        authorised = path_secret_ok(secret, config)
        challenge: dict[str, str] = {}
    else:
        authorised = basic_auth_ok(request.headers.get("Authorization", ""), config)
        challenge = _BASIC_CHALLENGE
    if not authorised:
        log.warning(
            "webhook_unauthorized",
            webhook_event=event,
            remote=request.remote,
            via="path" if secret else "basic",
        )
        raise ApiError(401, "unauthorized", "webhook credentials missing or wrong", challenge)
    try:
        body = await read_json(request)
    except ApiError as exc:
        log.warning("webhook_malformed", webhook_event=event, size=request.content_length, error=exc.detail)
        raise
    try:
        result = await intake_of(services).receive(event, body)
    except ApiError:
        raise
    except Exception as exc:
        log.error("webhook_not_recorded", webhook_event=event, error=f"{type(exc).__name__}: {exc}")
        raise ApiError(503, "unavailable", "the delivery could not be recorded; retry later") from None
    return web.json_response(result.as_dict())


@routes.post("/webhooks/halopsa/ticket_created")
async def ticket_created(request: web.Request) -> web.Response:
    """A new ticket (whatever the delivery's ``event`` text says). Basic auth."""
    return await _receive(request, TICKET_CREATED)


@routes.post("/webhooks/halopsa/ticket_updated")
async def ticket_updated(request: web.Request) -> web.Response:
    """A ticket changed (a close cancels its live executions). Basic auth."""
    return await _receive(request, TICKET_UPDATED)


@routes.post("/webhooks/halopsa/{secret}/ticket_created")
async def ticket_created_secret_path(request: web.Request) -> web.Response:
    """``ticket_created`` authenticated by the secret path segment."""
    return await _receive(request, TICKET_CREATED)


@routes.post("/webhooks/halopsa/{secret}/ticket_updated")
async def ticket_updated_secret_path(request: web.Request) -> web.Response:
    """``ticket_updated`` authenticated by the secret path segment."""
    return await _receive(request, TICKET_UPDATED)
