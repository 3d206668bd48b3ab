"""``GET /api/v1/sandbox/ledger``: what the sandbox adapters did (admin only; 404 outside sandbox mode). In the
running service it reads PostgreSQL: the entries of every process on the database, across restarts."""

from __future__ import annotations

from aiohttp import web

from ticketpilot.adapters.sandbox.ledger import SandboxLedger
from ticketpilot.http.auth import require_admin
from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import ApiError

routes = web.RouteTableDef()

MAX_LIMIT = 1_000


@routes.get("/api/v1/sandbox/ledger")
async def sandbox_ledger(request: web.Request) -> web.Response:
    """Entries oldest first; ``?kind=sms`` filters, ``?limit=N`` keeps the newest N."""
    services = request.app[SERVICES]
    require_admin(request, services.settings.http.admin_token.get_secret_value(), services.sessions)
    ledger = services.extras.get("sandbox_ledger")
    if services.settings.adapters.mode != "sandbox" or not isinstance(ledger, SandboxLedger):
        raise ApiError(404, "not_found", 'the sandbox ledger exists only when adapters.mode = "sandbox"')
    kind = request.query.get("kind") or None
    try:
        limit = int(request.query.get("limit", str(MAX_LIMIT)))
    except ValueError:
        raise ApiError(400, "invalid_limit", "limit must be a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, "invalid_limit", f"limit must be between 1 and {MAX_LIMIT}")
    entries = await ledger.fetch(kind, limit)
    return web.json_response({"count": len(entries), "entries": entries})
