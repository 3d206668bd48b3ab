"""The whole service in-process (sandbox adapters, real PostgreSQL) behind a real aiohttp test server."""

from __future__ import annotations

import asyncio
import base64
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ticketpilot.adapters.sandbox import SandboxLedger
from ticketpilot.config import load_settings
from ticketpilot.http.app import build_app
from ticketpilot.service import Services, start_services

ROOT = Path(__file__).resolve().parents[1]
ADMIN_TOKEN = "a" * 40
BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HALO_USER, HALO_PASSWORD = "halo", "webhook-password-for-tests"
HALO_AUTH = {"Authorization": "Basic " + base64.b64encode(f"{HALO_USER}:{HALO_PASSWORD}".encode()).decode()}
TERMINAL = {"RESOLVED", "ESCALATED", "CANCELLED", "FAILED"}

FAST_SANDBOX = {
    "mfa_approve_after_s": 0.1,
    "mfa_timeout_s": 0.5,
    "manager_approve_after_s": 0.2,
    "manager_sms_fallback_after_s": 0.5,
    "manager_timeout_s": 1.5,
    "sms_report_after_s": 0.1,
}


@dataclass
class Running:
    services: Services
    client: TestClient[web.Request, web.Application]

    @property
    def ledger(self) -> SandboxLedger:
        ledger = self.services.extras["sandbox_ledger"]
        assert isinstance(ledger, SandboxLedger)
        return ledger

    async def create_ticket(self, summary: str, details: str, email: str) -> int:
        resp = await self.client.post(
            "/api/v1/sandbox/tickets",
            json={"summary": summary, "details": details, "user_email": email},
            headers=BEARER,
        )
        assert resp.status == 201, await resp.text()
        return int((await resp.json())["ticket_id"])

    async def decision(self, ticket_id: int, timeout: float = 10.0) -> dict[str, Any]:
        """The stored decision row of a ticket, once the inbox worker has made it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            row = await self.services.pool.fetchrow(
                "SELECT * FROM classification_results WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1",
                ticket_id,
            )
            if row is not None:
                return dict(row)
            assert loop.time() < deadline, f"no decision for ticket {ticket_id} within {timeout}s"
            await asyncio.sleep(0.05)

    async def execution(
        self, ticket_id: int, timeout: float = 15.0, until: set[str] = TERMINAL
    ) -> dict[str, Any]:
        """GET /api/v1/orchestration/execution/{ticket_id}, polled until its state is in ``until``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        body: Any = None
        while loop.time() < deadline:
            resp = await self.client.get(f"/api/v1/orchestration/execution/{ticket_id}", headers=BEARER)
            body = await resp.json()
            if resp.status == 200 and body["state"] in until:
                return dict(body)
            await asyncio.sleep(0.05)
        raise AssertionError(f"execution of ticket {ticket_id} not in {until} within {timeout}s: {body}")

    async def drain_outbox(self, ticket_id: int, timeout: float = 10.0) -> None:
        """Wait until every HaloPSA write for the ticket is delivered."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            pending = await self.services.pool.fetchval(
                "SELECT count(*) FROM outbox WHERE ticket_id = $1 AND delivered_at IS NULL", ticket_id
            )
            if pending == 0:
                return
            assert loop.time() < deadline, f"{pending} HaloPSA writes still pending for ticket {ticket_id}"
            await asyncio.sleep(0.05)


@asynccontextmanager
async def running_service(db_url: str, tmp_path: Path, **sections: Any) -> AsyncIterator[Running]:
    """Start every part of the service on ``db_url`` with fast sandbox delays; stop it on exit."""
    folder = tmp_path / "playbooks"
    if not folder.exists():
        shutil.copytree(ROOT / "playbooks", folder)
    overrides: dict[str, Any] = {
        "http": {"admin_token": ADMIN_TOKEN, "port": 0},
        "playbooks": {"dir": str(folder), "watch": False},
        "halopsa": {"webhook_username": HALO_USER, "webhook_password": HALO_PASSWORD},
        "sandbox": FAST_SANDBOX,
        "engine": {"outbox_poll_s": 0.2, "inbox_poll_s": 0.2},
    }
    for name, values in sections.items():
        overrides[name] = {**overrides.get(name, {}), **values}
    services = await start_services(load_settings(None, **overrides), db_url)
    try:
        async with TestClient(TestServer(build_app(services))) as client:
            yield Running(services, client)
    finally:
        await services.close()
