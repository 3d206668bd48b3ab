"""``GET /api/v1/doctor``: the preflight of ``python main.py doctor`` as JSON (admin only).

Always 200 when the checks ran: ``ok`` and each check's ``ok`` say what passed. PostgreSQL and the migrations
are checked on a connection of the service's own pool; every vendor gets a fresh client (a fresh token).
"""

from __future__ import annotations

from aiohttp import web

from ticketpilot.doctor import pool_connector, run_doctor
from ticketpilot.http.auth import require_admin
from ticketpilot.http.context import SERVICES

routes = web.RouteTableDef()


@routes.get("/api/v1/doctor")
async def doctor(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    require_admin(request, services.settings.http.admin_token.get_secret_value(), services.sessions)
    report = await run_doctor(services.settings, pool_connector(services.pool))
    return web.json_response(report.as_dict())
