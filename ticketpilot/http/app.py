"""The aiohttp application: middlewares and every route group of the service."""

from __future__ import annotations

from aiohttp import web

from ticketpilot.http import (
    approvals,
    dashboard,
    doctor_api,
    gate_api,
    openapi,
    ops,
    orchestration_api,
    playbooks_api,
    sandbox_api,
    webhooks,
)
from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import error_middleware
from ticketpilot.service import Services


def build_app(services: Services) -> web.Application:
    """The web application for ``services`` (routes only; the parts are started by ``service.run``)."""
    app = web.Application(
        middlewares=[error_middleware],
        client_max_size=services.settings.http.max_body_bytes,
    )
    app[SERVICES] = services
    for module in (
        ops,
        webhooks,
        gate_api,
        playbooks_api,
        orchestration_api,
        approvals,
        sandbox_api,
        doctor_api,
        dashboard,
        openapi,
    ):
        app.router.add_routes(module.routes)
    return app
