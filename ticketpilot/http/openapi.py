"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 document of the REST API (public, no authentication)."""

from __future__ import annotations

from aiohttp import web

from ticketpilot.http.context import SERVICES
from ticketpilot.http.openapi_spec import build_document

routes = web.RouteTableDef()


@routes.get("/api/v1/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    """The document, with the configured ``http.public_url`` as its server."""
    public_url = request.app[SERVICES].settings.http.public_url
    return web.json_response(build_document(public_url), headers={"Cache-Control": "no-cache"})
