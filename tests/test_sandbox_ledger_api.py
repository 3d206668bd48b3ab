"""GET /api/v1/sandbox/ledger: admin only, sandbox mode only, filterable."""

from __future__ import annotations

from types import SimpleNamespace

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ticketpilot.adapters.sandbox import SandboxLedger
from ticketpilot.config import AdaptersConfig, Settings
from ticketpilot.http import sandbox_api
from ticketpilot.http.auth import SessionStore
from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import error_middleware

TOKEN = "ledger-test-admin-token"


def _app(settings: Settings, ledger: SandboxLedger) -> web.Application:
    app = web.Application(middlewares=[error_middleware])
    app[SERVICES] = SimpleNamespace(  # type: ignore[misc]
        settings=settings, extras={"sandbox_ledger": ledger}, sessions=SessionStore(ttl_s=60)
    )
    app.router.add_routes(sandbox_api.routes)
    return app


async def test_ledger_needs_the_admin_token_and_filters() -> None:
    ledger = SandboxLedger()
    ledger.record("mfa_push", user_principal_name="jane@x.example", result="approved")
    ledger.record("sms", to="+15550000001", body="Your pass is:\n[REDACTED]\n")
    ledger.record("sms", to="+15550000002", body="second")
    settings = Settings(http={"admin_token": TOKEN})
    async with TestClient(TestServer(_app(settings, ledger))) as client:
        assert (await client.get("/api/v1/sandbox/ledger")).status == 401
        resp = await client.get("/api/v1/sandbox/ledger", headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status == 200
        body = await resp.json()
        assert [e["kind"] for e in body["entries"]] == ["mfa_push", "sms", "sms"]
        resp = await client.get(
            "/api/v1/sandbox/ledger",
            params={"kind": "sms", "limit": "1"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        body = await resp.json()
        assert body["count"] == 1 and body["entries"][0]["to"] == "+15550000002"
        bad = await client.get(
            "/api/v1/sandbox/ledger", params={"limit": "x"}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert bad.status == 400


async def test_ledger_is_not_found_in_live_mode() -> None:
    settings = Settings(http={"admin_token": TOKEN})
    live = settings.model_copy(update={"adapters": AdaptersConfig(mode="live")})
    async with TestClient(TestServer(_app(live, SandboxLedger()))) as client:
        resp = await client.get("/api/v1/sandbox/ledger", headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status == 404
        assert (await resp.json())["error"] == "not_found"
