"""Operations endpoints: ``/healthz`` (alive), ``/readyz`` (able to serve), ``/metrics`` (Prometheus)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ticketpilot.engine.migrate import pending_migrations
from ticketpilot.http.context import SERVICES
from ticketpilot.metrics import REGISTRY

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    checks: dict[str, Any] = {}
    ready = True
    try:
        async with asyncio.timeout(2.0):
            async with services.pool.acquire() as conn:
                # A failover can leave the address on a standby: reachable, but nothing can be recorded.
                read_only = await conn.fetchval("SELECT current_setting('transaction_read_only') = 'on'")
                pending = await pending_migrations(conn)
        if read_only:  # such a session stays read-only: replace every pooled one (see leave_standby)
            await services.pool.expire_connections()
        checks["database"] = {"ok": not read_only, **({"error": "read-only (standby)"} if read_only else {})}
        checks["migrations"] = {"ok": not pending, "pending": [m.version for m in pending]}
        ready = ready and not pending and not read_only
    except Exception as exc:  # any failure to reach the database means not ready
        checks["database"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        checks["migrations"] = {"ok": False, "error": "database unreachable"}
        ready = False
    problems = services.registry.problems()
    checks["playbooks"] = {
        "ok": not problems,
        "loaded": len(services.registry.loaded()),
        "errors": [p.as_dict() for p in problems],
    }
    # The background loops' own view (each retries by itself), and a graceful stop in progress.
    readiness = services.readiness
    checks["service"] = {"ok": readiness.ready, "draining": readiness.draining, "failing": readiness.problems}
    ready = ready and readiness.ready
    # A broken playbook file is reported, not a reason to leave rotation: the last good versions still
    # serve, and taking every replica out for one file would stop all intake (the
    # ticketpilot_playbook_load_errors gauge is what to alert on).
    return web.json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status=200 if ready else 503
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
