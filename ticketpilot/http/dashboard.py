"""The operator dashboard: login, a small vanilla-JS page at ``/`` and the JSON it reads under
``/api/v1/dashboard/``.

Authentication: ``POST /login`` with the admin token (or ``http.dashboard_password`` when set) opens a
session (cookie ``tp_session``: HttpOnly, SameSite=Strict, Secure behind an https ``public_url``). The JSON
endpoints accept that cookie or the admin bearer token; without either they answer 401, and the page
redirects to ``/login``.

CSRF: a state-changing request authenticated by the cookie must carry ``X-TP-CSRF``, an HMAC of the
session id under a per-process key (read it from ``GET /api/v1/dashboard/session``). A bearer-token
caller needs no such header (a browser never sends the token on its own). ``POST /login`` also refuses a
foreign ``Origin``.

The page renders every value with ``textContent`` (ticket text is attacker-controlled) and is served with
a Content-Security-Policy that allows only the service's own scripts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog
from aiohttp import web

from ticketpilot.http import dashboard_decisions as dq
from ticketpilot.http import dashboard_queries as q
from ticketpilot.http.auth import CSRF_HEADER, SESSION_COOKIE
from ticketpilot.http.client_address import client_address
from ticketpilot.http.context import SERVICES
from ticketpilot.http.dashboard_auth import (
    VIA_SESSION,
    account_name,
    authenticate,
    dashboard_state,
    same_origin,
    secret_matches,
    session_id,
)
from ticketpilot.http.errors import ApiError, read_json
from ticketpilot.playbooks.validate import PlaybookInvalid
from ticketpilot.service import Services

log = structlog.get_logger(__name__)

routes = web.RouteTableDef()

STATIC_DIR = Path(__file__).with_name("static")
MAX_PAGE = 200
PLAYBOOK_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
HTML_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes Chromium send Origin: null on the login POST
    "Cache-Control": "no-store",
}


def _page(name: str, status: int = 200, replace: dict[str, str] | None = None) -> web.Response:
    text = (STATIC_DIR / name).read_text(encoding="utf-8")
    for marker, value in (replace or {}).items():
        text = text.replace(marker, value)
    return web.Response(text=text, status=status, content_type="text/html", headers=HTML_HEADERS)


def _login_page(status: int = 200, error: str = "") -> web.Response:
    # ``error`` is always one of this module's fixed messages, never request data.
    block = f'<p class="error" role="alert">{error}</p>' if error else ""
    return _page("login.html", status, {"<!--ERROR-->": block})


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    if session_id(request, request.app[SERVICES]) is None:
        raise web.HTTPFound("/login")
    return _page("index.html")


@routes.get("/login")
async def login_form(request: web.Request) -> web.Response:
    if session_id(request, request.app[SERVICES]) is not None:
        raise web.HTTPFound("/")
    return _login_page()


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if not same_origin(request, services):
        raise ApiError(403, "forbidden", "login from another origin")
    limiter = dashboard_state(services).limiter
    client = client_address(request, services.settings.http.trusted_networks)
    form = await request.post()
    account = account_name(form.get("username"))
    if limiter.blocked(client, account):
        return _login_page(429, "Too many failed attempts. Wait a few minutes and try again.")
    presented = form.get("secret")
    if not isinstance(presented, str) or not secret_matches(services, presented.strip()):
        limiter.failed(client, account)
        log.warning("dashboard_login_failed", client=client, account=account)
        return _login_page(401, "That token or password is not right.")
    limiter.succeeded(client, account)
    sid = services.sessions.create()
    http = services.settings.http
    response = web.Response(status=303, headers={"Location": "/"})
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        max_age=int(http.session_ttl_s),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=http.public_url.startswith("https://"),
    )
    log.info("dashboard_login", client=client)
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    services, _who = authenticate(request, changes_state=True)
    sid = request.cookies.get(SESSION_COOKIE, "")
    if sid:
        services.sessions.drop(sid)
    response = web.json_response({"logged_out": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/static/dashboard/{name:[a-z0-9_-]+\\.(?:js|css|svg)}")
async def static_file(request: web.Request) -> web.FileResponse:
    path = STATIC_DIR / request.match_info["name"]
    if not path.is_file():
        raise ApiError(404, "not_found", "no such file")
    return web.FileResponse(path, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})


# --- query parameters ----------------------------------------------------------------------------


def _moment(request: web.Request, name: str, *, end_of_day: bool = False) -> datetime | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if end_of_day and len(raw) == 10:  # a date alone: "until" includes that whole day
            moment += timedelta(days=1)
        moment = moment.astimezone(UTC)  # 9999-12-31T23:59:59-23:59 is past the calendar's end: 400
    except (ValueError, OverflowError):
        raise ApiError(400, "invalid_query", f"{name} must be an ISO 8601 date or date-time") from None
    return moment


def _period(request: web.Request) -> q.Period:
    period = q.Period(_moment(request, "since"), _moment(request, "until", end_of_day=True))
    if period.since and period.until and period.until <= period.since:
        raise ApiError(400, "invalid_query", "until must be after since")
    return period


def _int(request: web.Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_query", f"{name} must be an integer") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid_query", f"{name} must be between {low} and {high}")
    return value


def _page_args(request: web.Request) -> tuple[int, int]:
    limit = _int(request, "limit", 50, 1, MAX_PAGE)
    offset = _int(request, "offset", 0, 0, 1_000_000)
    assert limit is not None and offset is not None
    return limit, offset


def _text(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "").strip()[:200]
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise ApiError(400, "invalid_query", f"{name} must not contain NUL characters")
    return value or None


# --- JSON endpoints ------------------------------------------------------------------------------


@routes.get("/api/v1/dashboard/session")
async def session_info(request: web.Request) -> web.Response:
    services, who = authenticate(request)
    sid = request.cookies.get(SESSION_COOKIE, "")
    csrf = services.sessions.csrf_token(sid) if who == VIA_SESSION else None
    return web.json_response(
        {"authenticated": True, "via": who, "csrf_token": csrf, "csrf_header": CSRF_HEADER}
    )


@routes.get("/api/v1/dashboard/overview")
async def overview(request: web.Request) -> web.Response:
    services, _ = authenticate(request)
    minutes = services.settings.policy.minutes_saved_per_ticket
    return web.json_response(await q.overview(services.pool, _period(request), minutes))


@routes.get("/api/v1/dashboard/executions")
async def executions(request: web.Request) -> web.Response:
    services, _ = authenticate(request)
    states = tuple(
        s.strip().upper() for v in request.query.getall("state", []) for s in v.split(",") if s.strip()
    )
    unknown = sorted(set(states) - set(q.EXECUTION_STATES))
    if unknown:
        raise ApiError(400, "invalid_query", f"unknown state(s) {unknown}; use {list(q.EXECUTION_STATES)}")
    limit, offset = _page_args(request)
    flt = q.ExecutionFilter(
        states=states,
        playbook_id=_text(request, "playbook"),
        ticket_id=_int(request, "ticket", None, 0, 2**63 - 1),
        period=_period(request),
        limit=limit,
        offset=offset,
    )
    return web.json_response(await q.list_executions(services.pool, flt))


@routes.get("/api/v1/dashboard/executions/{execution_id}")
async def execution_detail(request: web.Request) -> web.Response:
    services, _ = authenticate(request)
    try:
        execution_id = UUID(request.match_info["execution_id"])
    except ValueError:
        raise ApiError(400, "invalid_execution_id", "execution id must be a UUID") from None
    found = await q.execution_timeline(services.pool, execution_id)
    if found is None:
        raise ApiError(404, "no_execution", f"no execution {execution_id}")
    return web.json_response(found)


@routes.get("/api/v1/dashboard/decisions")
async def decisions(request: web.Request) -> web.Response:
    services, _ = authenticate(request)
    outcome = _text(request, "outcome")
    if outcome is not None and outcome not in dq.DECISION_OUTCOMES:
        raise ApiError(400, "invalid_query", f"outcome must be one of {list(dq.DECISION_OUTCOMES)}")
    limit, offset = _page_args(request)
    flt = dq.DecisionFilter(
        outcome=outcome,
        playbook_id=_text(request, "playbook"),
        ticket_id=_int(request, "ticket", None, 0, 2**63 - 1),
        period=_period(request),
        limit=limit,
        offset=offset,
    )
    return web.json_response(await dq.list_decisions(services.pool, flt))


@routes.get("/api/v1/dashboard/shadow")
async def shadow(request: web.Request) -> web.Response:
    services, _ = authenticate(request)
    limit = _int(request, "limit", 100, 1, MAX_PAGE)
    assert limit is not None
    return web.json_response(await dq.shadow_report(services.pool, _period(request), limit))


async def _kill_switch_view(services: Services) -> dict[str, Any]:
    stored = await q.get_global_kill_switch(services.pool)
    return stored.as_dict(forced_by_config=services.settings.policy.kill_switch)


@routes.get("/api/v1/dashboard/playbooks")
async def playbooks(request: web.Request) -> web.Response:
    services, _ = authenticate(request)
    listed = await services.registry.list_all()
    if request.query.get("include_adhoc") not in ("1", "true"):
        listed = [
            p
            for p in listed
            if any(v.get("source") != "adhoc" for v in p.get("versions", [])) or not p["versions"]
        ]
    return web.json_response(
        {
            "playbooks": listed,
            "errors": [p.as_dict() for p in services.registry.problems()],
            "kill_switch": await _kill_switch_view(services),
        }
    )


async def _body_field(request: web.Request, name: str, kind: type) -> Any:
    body = await read_json(request)
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise ApiError(400, "invalid_request", f'expected a JSON object with "{name}" ({kind.__name__})')
    return value


async def _playbook_change(request: web.Request, change: str) -> web.Response:
    services, who = authenticate(request, changes_state=True)
    playbook_id = request.match_info["playbook_id"]
    if not PLAYBOOK_ID.fullmatch(playbook_id):
        raise ApiError(404, "not_found", f"no playbook {playbook_id!r}")
    registry = services.registry
    try:
        if change == "enabled":
            value: Any = await _body_field(request, "enabled", bool)
            await registry.set_enabled(playbook_id, value)
        elif change == "kill_switch":
            value = await _body_field(request, "on", bool)
            await registry.set_kill_switch(playbook_id, value)
        else:
            value = await _body_field(request, "version", str)
            await registry.activate(playbook_id, value.strip())
        detail = await registry.get(playbook_id)
    except KeyError:
        raise ApiError(404, "not_found", f"no playbook {playbook_id!r} (or no such version)") from None
    except PlaybookInvalid as exc:
        raise ApiError(422, "invalid_playbook", [p.as_dict() for p in exc.problems]) from None
    log.warning("dashboard_playbook_change", playbook_id=playbook_id, change=change, value=value, by=who)
    detail.pop("selected", None)
    return web.json_response(detail)


@routes.post("/api/v1/dashboard/playbooks/{playbook_id}/enabled")
async def playbook_enabled(request: web.Request) -> web.Response:
    return await _playbook_change(request, "enabled")


@routes.post("/api/v1/dashboard/playbooks/{playbook_id}/kill_switch")
async def playbook_kill_switch(request: web.Request) -> web.Response:
    return await _playbook_change(request, "kill_switch")


@routes.post("/api/v1/dashboard/playbooks/{playbook_id}/activate")
async def playbook_activate(request: web.Request) -> web.Response:
    return await _playbook_change(request, "activate")


@routes.get("/api/v1/dashboard/kill_switch")
async def global_kill_switch(request: web.Request) -> web.Response:
    services, _ = authenticate(request)
    return web.json_response(await _kill_switch_view(services))


@routes.post("/api/v1/dashboard/kill_switch")
async def set_global_kill_switch(request: web.Request) -> web.Response:
    services, who = authenticate(request, changes_state=True)
    body = await read_json(request)
    on = body.get("on") if isinstance(body, dict) else None
    reason = body.get("reason", "") if isinstance(body, dict) else ""
    if not isinstance(on, bool) or not isinstance(reason, str):
        raise ApiError(400, "invalid_request", 'expected {"on": true|false, "reason": "optional text"}')
    # PostgreSQL's jsonb refuses NUL characters: drop them rather than fail.
    await q.set_global_kill_switch(services.pool, on, who, reason.replace("\x00", "").strip()[:500])
    log.warning("global_kill_switch", on=on, by=who)
    return web.json_response(await _kill_switch_view(services))
