"""The dashboard's login, CSRF and JSON read models against the real service parts and seeded rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from dashboard_support import (
    ADMIN_TOKEN,
    BEARER,
    STEP_PHONE,
    STEP_SECRET,
    XSS_REASONING,
    Seeded,
    dashboard_app,
    make_settings,
    seed,
)

from ticketpilot.gate.facts import RequesterFacts
from ticketpilot.gate.policy import RuntimePolicy
from ticketpilot.http.auth import SESSION_COOKIE
from ticketpilot.http.dashboard_auth import LoginLimiter
from ticketpilot.http.dashboard_queries import get_global_kill_switch, hours_saved
from ticketpilot.playbooks.adhoc import adhoc_playbook, store_adhoc
from ticketpilot.service import Services, start_services


@dataclass
class Live:
    client: TestClient[Any, Any]
    services: Services
    seeded: Seeded


async def _start(db_url: str, tmp_path: Path, **http: Any) -> Live:
    services = await start_services(make_settings(tmp_path, **http), db_url)
    seeded = await seed(services.pool)
    client: TestClient[Any, Any] = TestClient(TestServer(dashboard_app(services)))
    await client.start_server()
    return Live(client, services, seeded)


@pytest.fixture
async def live(db_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    running = await _start(db_url, tmp_path)
    yield running
    await running.client.close()
    await running.services.close()


async def _login(client: TestClient[Any, Any], secret: str = ADMIN_TOKEN) -> str:
    """Log in through the form; return the CSRF token of the new session."""
    resp = await client.post("/login", data={"secret": secret}, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    info = await (await client.get("/api/v1/dashboard/session")).json()
    assert info["via"] == "dashboard session"
    return str(info["csrf_token"])


# --- authentication, sessions, CSRF ---------------------------------------------------------------


async def test_no_data_without_authentication(live: Live) -> None:
    for path in ("overview", "executions", "decisions", "shadow", "playbooks", "kill_switch", "session"):
        resp = await live.client.get(f"/api/v1/dashboard/{path}")
        assert resp.status == 401, path
        assert (await resp.json())["error"] == "unauthorized"
    page = await live.client.get("/", allow_redirects=False)
    assert page.status == 302 and page.headers["Location"] == "/login"
    assert (
        await live.client.get("/api/v1/dashboard/overview", headers={"Authorization": "Bearer wrong"})
    ).status == 401


async def test_login_sets_a_strict_http_only_session_cookie(live: Live) -> None:
    bad = await live.client.post("/login", data={"secret": "not-the-token"}, allow_redirects=False)
    assert bad.status == 401 and "not right" in await bad.text()
    assert SESSION_COOKIE not in bad.cookies
    resp = await live.client.post("/login", data={"secret": ADMIN_TOKEN}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    page = await live.client.get("/")
    assert page.status == 200 and "dashboard.js" in await page.text()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert (await live.client.get("/api/v1/dashboard/overview")).status == 200


async def test_dashboard_password_and_https_public_url(db_url: str, tmp_path: Path) -> None:
    live = await _start(
        db_url, tmp_path, dashboard_password="correct horse battery", public_url="https://tp.example"
    )
    try:
        resp = await live.client.post(
            "/login", data={"secret": "correct horse battery"}, allow_redirects=False
        )
        assert resp.status == 303
        assert "Secure" in resp.headers["Set-Cookie"]
        foreign = await live.client.post(
            "/login",
            data={"secret": ADMIN_TOKEN},
            headers={"Origin": "https://evil.example"},
            allow_redirects=False,
        )
        assert foreign.status == 403
    finally:
        await live.client.close()
        await live.services.close()


async def test_cookie_changes_need_the_csrf_header(live: Live) -> None:
    csrf = await _login(live.client)
    refused = await live.client.post("/api/v1/dashboard/kill_switch", json={"on": True})
    assert refused.status == 403 and (await refused.json())["error"] == "csrf_failed"
    forged = await live.client.post(
        "/api/v1/dashboard/kill_switch", json={"on": True}, headers={"X-TP-CSRF": "x" * 64}
    )
    assert forged.status == 403
    assert (await get_global_kill_switch(live.services.pool)).on is False
    ok = await live.client.post(
        "/api/v1/dashboard/kill_switch", json={"on": True}, headers={"X-TP-CSRF": csrf}
    )
    assert ok.status == 200 and (await ok.json())["on"] is True
    assert (await get_global_kill_switch(live.services.pool)).by == "dashboard session"


async def test_bearer_callers_need_no_csrf_header(live: Live) -> None:
    resp = await live.client.post(
        "/api/v1/dashboard/kill_switch", json={"on": True, "reason": "inci\x00dent"}, headers=BEARER
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["on"] is True and body["by"] == "admin token" and body["reason"] == "incident"


async def test_logout_ends_the_session(live: Live) -> None:
    csrf = await _login(live.client)
    assert (await live.client.post("/logout")).status == 403  # no CSRF header: refused, still logged in
    assert (await live.client.get("/api/v1/dashboard/overview")).status == 200
    sid = live.client.session.cookie_jar.filter_cookies(live.client.make_url("/"))[SESSION_COOKIE].value
    resp = await live.client.post("/logout", headers={"X-TP-CSRF": csrf})
    assert resp.status == 200
    assert not live.services.sessions.valid(sid)
    assert (await live.client.get("/api/v1/dashboard/overview")).status == 401


def test_login_limiter_blocks_after_repeated_failures_then_forgets() -> None:
    now = [1000.0]
    limiter = LoginLimiter(max_failures=3, window_s=60.0, clock=lambda: now[0])
    for _ in range(3):
        assert not limiter.blocked("10.0.0.1")
        limiter.failed("10.0.0.1")
    assert limiter.blocked("10.0.0.1") and not limiter.blocked("10.0.0.2")
    now[0] += 61
    assert not limiter.blocked("10.0.0.1")


async def test_static_files_are_served_and_confined(live: Live) -> None:
    js = await live.client.get("/static/dashboard/dashboard.js")
    assert js.status == 200 and js.headers["X-Content-Type-Options"] == "nosniff"
    assert "textContent" in await js.text() or "createTextNode" in await js.text()
    for path in (
        "/static/dashboard/..%2Fdashboard.py",
        "/static/dashboard/index.html",
        "/static/dashboard/nope.js",
    ):
        assert (await live.client.get(path)).status == 404, path


# --- read models ----------------------------------------------------------------------------------


async def test_overview_counts_and_time_saved(live: Live) -> None:
    body = await (await live.client.get("/api/v1/dashboard/overview", headers=BEARER)).json()
    assert body["tickets_received"] == 7
    assert body["decisions"] == {"automated": 3, "manual": 2, "shadow": 2}
    assert body["automation_rate"] == pytest.approx(3 / 7, abs=1e-4)
    assert body["executions"] == {
        "resolved": 1,
        "escalated": 1,
        "failed": 0,
        "cancelled": 0,
        "in_progress": 1,
    }
    assert body["median_time_to_resolution_s"] == pytest.approx(95.0)
    assert body["hours_saved"] == [
        {"playbook_id": "password_reset", "resolved": 1, "minutes_per_ticket": 15.0, "hours_saved": 0.25}
    ]
    since = (live.seeded.now - timedelta(days=30)).isoformat()
    recent = await (
        await live.client.get("/api/v1/dashboard/overview", params={"since": since}, headers=BEARER)
    ).json()
    assert recent["tickets_received"] == 6  # the 40-day-old printer ticket is outside


def test_hours_saved_uses_configured_minutes_with_a_default() -> None:
    rows = hours_saved({"password_reset": 4, "mfa_reset": 2}, {"password_reset": 30.0})
    assert rows == [
        {"playbook_id": "mfa_reset", "resolved": 2, "minutes_per_ticket": 15.0, "hours_saved": 0.5},
        {"playbook_id": "password_reset", "resolved": 4, "minutes_per_ticket": 30.0, "hours_saved": 2.0},
    ]


async def _get(live: Live, path: str, **params: Any) -> Any:
    resp = await live.client.get(path, params={k: str(v) for k, v in params.items()}, headers=BEARER)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_execution_filters(live: Live) -> None:
    url = "/api/v1/dashboard/executions"
    everything = await _get(live, url)
    assert everything["total"] == 3
    assert [e["ticket_id"] for e in everything["items"]] == [1006, 1001, 1002]  # newest first
    escalated = await _get(live, url, state="ESCALATED")
    assert [e["execution_id"] for e in escalated["items"]] == [str(live.seeded.escalated)]
    assert escalated["items"][0]["escalation_reason"] == "Manager denied the request"
    assert (await _get(live, url, state="RESOLVED,WAITING"))["total"] == 2
    assert [e["ticket_id"] for e in (await _get(live, url, ticket=1001))["items"]] == [1001]
    assert (await _get(live, url, playbook="mfa_reset"))["total"] == 0
    since = (live.seeded.now - timedelta(days=5)).date().isoformat()
    assert {e["ticket_id"] for e in (await _get(live, url, since=since))["items"]} == {1001, 1006}
    until = (live.seeded.now - timedelta(days=10)).date().isoformat()  # a date alone includes that whole day
    assert [e["ticket_id"] for e in (await _get(live, url, until=until))["items"]] == [1002]
    page = await _get(live, url, limit=1, offset=1)
    assert page["total"] == 3 and [e["ticket_id"] for e in page["items"]] == [1001]
    for bad in (
        {"state": "DONE"},
        {"ticket": "x"},
        {"since": "yesterday"},
        {"until": "9999-12-31"},
        {"limit": "0"},
        {"playbook": "pass\x00word"},
    ):
        resp = await live.client.get(url, params=bad, headers=BEARER)
        assert resp.status == 400, bad
        assert (await resp.json())["error"] == "invalid_query"


async def test_execution_timeline_is_the_audit_trail_without_secrets(live: Live) -> None:
    resp = await live.client.get(f"/api/v1/dashboard/executions/{live.seeded.resolved}", headers=BEARER)
    text = await resp.text()
    body = await resp.json()
    assert [(s["seq"], s["step_id"], s["attempt"], s["outcome"]) for s in body["timeline"]] == [
        (1, "verify_mfa", 1, "success"),
        (2, "create_credential", 1, "retry"),
        (3, "create_credential", 2, "success"),
        (4, "deliver_sms", 1, "success"),
        (5, "resolved", 1, "terminal"),
    ]
    assert (
        body["timeline"][1]["duration_ms"] == 2000.0 and body["timeline"][1]["error"] == "Graph 503: retrying"
    )
    assert body["timeline"][4]["duration_ms"] is None
    assert body["duration_s"] == 95.0
    assert STEP_SECRET not in text and STEP_PHONE not in text
    assert body["timeline"][2]["detail"]["method"] == "temporary_access_pass"
    escalated = await _get(live, f"/api/v1/dashboard/executions/{live.seeded.escalated}")
    assert escalated["escalation_reason"] == "Manager denied the request"
    assert [s["outcome"] for s in escalated["timeline"]] == ["timeout", "failure", "terminal"]
    missing = await live.client.get(
        f"/api/v1/dashboard/executions/{live.seeded.resolved.hex[::-1]}", headers=BEARER
    )
    assert missing.status == 404
    assert (await live.client.get("/api/v1/dashboard/executions/not-a-uuid", headers=BEARER)).status == 400


async def test_decisions_show_confidence_reasoning_and_blockers(live: Live) -> None:
    manual = await _get(live, "/api/v1/dashboard/decisions", outcome="manual")
    assert [d["ticket_id"] for d in manual["items"]] == [1003, 1007]
    first = manual["items"][0]
    assert first["confidence"] == pytest.approx(0.42)
    assert first["reasoning"] == XSS_REASONING  # JSON carries the text as is; the page escapes it
    assert [b["name"] for b in first["blockers"]] == ["low_confidence", "risk_flags"]
    assert first["risk_flags"] == ["manipulation"]
    assert (await _get(live, "/api/v1/dashboard/decisions", playbook="mfa_reset"))["total"] == 2
    bad = await live.client.get("/api/v1/dashboard/decisions", params={"outcome": "maybe"}, headers=BEARER)
    assert bad.status == 400


async def test_shadow_report_compares_with_final_handling(live: Live) -> None:
    report = await _get(live, "/api/v1/dashboard/shadow")
    assert report["total"] == 2
    handling = {i["ticket_id"]: i["final_handling"] for i in report["items"]}
    assert handling == {1004: "closed_by_technician", 1005: "open"}
    assert report["by_playbook"] == [
        {"playbook_id": "mfa_reset", "would_automate": 2, "closed_by_technician": 1, "open": 1}
    ]


# --- playbooks and kill switches ------------------------------------------------------------------


async def _gate_view(services: Services) -> tuple[bool, frozenset[str]]:
    """What the gate sees on its next decision."""
    policy = RuntimePolicy(services.settings.policy)
    async with services.pool.acquire() as conn:
        snap = await policy.snapshot(conn, RequesterFacts(email="a@example.com"), policy.now())
    return snap.kill_switch_global, snap.killed_playbooks


async def test_playbooks_page_data_and_switches_take_effect(live: Live) -> None:
    csrf = await _login(live.client)
    listed = await (await live.client.get("/api/v1/dashboard/playbooks")).json()
    assert [p["id"] for p in listed["playbooks"]] == ["mfa_reset", "password_reset"]
    assert listed["kill_switch"]["on"] is False and listed["errors"] == []
    headers = {"X-TP-CSRF": csrf}
    base = "/api/v1/dashboard/playbooks/password_reset"
    resp = await live.client.post(f"{base}/kill_switch", json={"on": True}, headers=headers)
    assert resp.status == 200 and (await resp.json())["kill_switch"] is True
    active = live.services.registry.active("password_reset")
    assert active is not None and active.kill_switch
    assert await _gate_view(live.services) == (False, frozenset({"password_reset"}))
    resp = await live.client.post(f"{base}/enabled", json={"enabled": False}, headers=headers)
    assert resp.status == 200 and (await resp.json())["enabled"] is False
    assert live.services.registry.for_sub_category("PASSWORD_RESET") == []
    resp = await live.client.post(f"{base}/activate", json={"version": "9.9.9"}, headers=headers)
    assert resp.status == 404
    resp = await live.client.post(f"{base}/activate", json={"version": "1.0.0"}, headers=headers)
    assert resp.status == 200
    assert (
        await live.client.post(
            "/api/v1/dashboard/playbooks/nope/enabled", json={"enabled": True}, headers=headers
        )
    ).status == 404
    assert (await live.client.post(f"{base}/enabled", json={"enabled": "no"}, headers=headers)).status == 400
    odd_id = "/api/v1/dashboard/playbooks/a%00b/enabled"
    odd = await live.client.post(odd_id, json={"enabled": True}, headers=headers)
    assert odd.status == 404
    resp = await live.client.post("/api/v1/dashboard/kill_switch", json={"on": True}, headers=headers)
    assert resp.status == 200
    assert (await _gate_view(live.services))[0] is True
    resp = await live.client.post("/api/v1/dashboard/kill_switch", json={"on": False}, headers=headers)
    assert (await _gate_view(live.services))[0] is False


async def test_adhoc_service_runs_are_listed_but_not_counted_as_tickets_handled(live: Live) -> None:
    playbook, text = adhoc_playbook("verification.mfa", "k" * 16)
    content_hash = await store_adhoc(live.services.pool, playbook, text)
    await live.services.pool.execute(
        "INSERT INTO playbook_executions (execution_id, ticket_id, playbook_id, playbook_hash,"
        " playbook_version, state, created_at, finished_at)"
        " VALUES ($1, 1003, $2, $3, 'adhoc', 'RESOLVED', now(), now())",
        uuid.uuid4(),
        playbook.id,
        content_hash,
    )
    overview = await _get(live, "/api/v1/dashboard/overview")
    assert overview["executions"]["resolved"] == 1 and len(overview["hours_saved"]) == 1
    assert (await _get(live, "/api/v1/dashboard/executions", playbook=playbook.id))["total"] == 1
    listed = await _get(live, "/api/v1/dashboard/playbooks")
    assert playbook.id not in [p["id"] for p in listed["playbooks"]]
    with_adhoc = await _get(live, "/api/v1/dashboard/playbooks", include_adhoc=1)
    assert playbook.id in [p["id"] for p in with_adhoc["playbooks"]]
