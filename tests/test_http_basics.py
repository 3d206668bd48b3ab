"""HTTP basics every endpoint shares: health, readiness, JSON errors, the body limit, admin auth."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
from conftest import _with_database
from service_support import ADMIN_TOKEN, BEARER, running_service


async def test_healthz_and_readyz(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        health = await svc.client.get("/healthz")
        assert (health.status, await health.json()) == (200, {"status": "ok"})
        ready = await svc.client.get("/readyz")
        body = await ready.json()
        assert ready.status == 200 and body["status"] == "ready"
        assert body["checks"]["database"] == {"ok": True}
        assert body["checks"]["playbooks"]["loaded"] == 2


async def test_readyz_is_503_when_the_database_is_unreachable(
    db_url: str, tmp_path: Path, pg_admin_url: str
) -> None:
    async with running_service(db_url, tmp_path) as svc:
        assert (await svc.client.get("/readyz")).status == 200
        name = urlsplit(db_url).path.lstrip("/")
        admin = await asyncpg.connect(pg_admin_url)
        try:
            # Cut every connection and make new ones impossible: what a database outage looks like.
            await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
            resp = await svc.client.get("/readyz")
            body = await resp.json()
            assert resp.status == 503
            assert body["status"] == "not_ready"
            assert body["checks"]["database"]["ok"] is False
            assert (await svc.client.get("/healthz")).status == 200, "alive, just not ready"
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
            await admin.close()
        reconnected = await asyncpg.connect(_with_database(pg_admin_url, name))
        await reconnected.close()


async def test_errors_are_json_and_never_a_traceback(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        missing = await svc.client.get("/no/such/route")
        assert missing.status == 404
        assert (await missing.json())["error"] == "not_found"
        wrong_method = await svc.client.delete("/healthz")
        assert wrong_method.status == 405 and (await wrong_method.json())["error"] == "method_not_allowed"
        bad = await svc.client.post(
            "/api/v1/classify_ticket",
            data=b"\xff\xfe{",
            headers={**BEARER, "Content-Type": "application/json"},
        )
        text = await bad.text()
        assert bad.status == 400 and "Traceback" not in text and '"error"' in text


async def test_request_bodies_over_the_limit_are_413(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path, http={"max_body_bytes": 2048}) as svc:
        big = b'{"subject": "' + b"x" * 4096 + b'"}'
        for path, headers in (
            ("/api/v1/classify_ticket", BEARER),
            ("/api/v1/orchestration/execute_playbook", BEARER),
        ):
            resp = await svc.client.post(
                path, data=big, headers={**headers, "Content-Type": "application/json"}
            )
            assert resp.status == 413, path
            assert (await resp.json())["error"] == "payload_too_large"


async def test_admin_endpoints_need_the_token(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        for method, path in (
            ("GET", "/api/v1/playbooks"),
            ("POST", "/api/v1/classify_ticket"),
            ("GET", "/api/v1/orchestration/execution/1"),
            ("GET", "/api/v1/sandbox/ledger"),
        ):
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {ADMIN_TOKEN}"}):
                resp = await svc.client.request(method, path, headers=headers)
                assert resp.status == 401, (method, path, headers)
                assert (await resp.json())["error"] == "unauthorized"


async def test_a_dashboard_session_needs_its_csrf_token_to_change_anything(
    db_url: str, tmp_path: Path
) -> None:
    async with running_service(db_url, tmp_path) as svc:
        login = await svc.client.post("/login", data={"secret": ADMIN_TOKEN}, allow_redirects=False)
        assert login.status in (302, 303), await login.text()
        session = await (await svc.client.get("/api/v1/dashboard/session")).json()
        assert (await svc.client.get("/api/v1/playbooks")).status == 200, "reads work with the cookie"
        forged = await svc.client.post("/api/v1/playbooks/password_reset/disable")
        assert forged.status == 403 and (await forged.json())["error"] == "csrf_failed"
        assert svc.services.registry.active("password_reset").enabled  # type: ignore[union-attr]
        ok = await svc.client.post(
            "/api/v1/playbooks/password_reset/disable",
            headers={session["csrf_header"]: session["csrf_token"]},
        )
        assert ok.status == 200
        assert not svc.services.registry.active("password_reset").enabled  # type: ignore[union-attr]
