"""Playbook administration: list, inspect, upload, activate, enable/disable, kill switch, reload.

Every endpoint needs the admin bearer token (or a dashboard session). Uploaded YAML goes through the same
validation as the files and every problem comes back at once: ``422 {"error": "invalid_playbook",
"detail": [{file, line, message, playbook_id}, ...]}``.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ticketpilot.http.auth import require_admin
from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import ApiError, read_json
from ticketpilot.playbooks.loader import LoadedPlaybook
from ticketpilot.playbooks.registry import PlaybookRegistry
from ticketpilot.playbooks.validate import PlaybookConflict, PlaybookInvalid

routes = web.RouteTableDef()

YAML_CONTENT_TYPES = frozenset({"text/yaml", "application/yaml", "application/x-yaml", "text/x-yaml"})


def _registry(request: web.Request) -> PlaybookRegistry:
    services = request.app[SERVICES]
    require_admin(request, services.settings.http.admin_token.get_secret_value(), services.sessions)
    return services.registry


def _not_found(playbook_id: str, version: str | None = None) -> ApiError:
    if version is None:
        return ApiError(404, "not_found", f"no playbook {playbook_id!r}")
    return ApiError(404, "not_found", f"playbook {playbook_id!r} has no version {version!r}")


def _invalid(exc: PlaybookInvalid) -> ApiError:
    return ApiError(422, "invalid_playbook", [p.as_dict() for p in exc.problems])


def _loaded_view(lp: LoadedPlaybook | None) -> dict[str, Any] | None:
    if lp is None:
        return None
    return {
        "id": lp.playbook_id,
        "version": lp.version,
        "content_hash": lp.content_hash,
        "source": lp.source,
        "mode": lp.mode,
        "enabled": lp.enabled,
        "kill_switch": lp.kill_switch,
    }


@routes.get("/api/v1/playbooks")
async def list_playbooks(request: web.Request) -> web.Response:
    registry = _registry(request)
    include_adhoc = request.query.get("include_adhoc") in ("1", "true")
    playbooks = await registry.list_all(include_adhoc=include_adhoc)
    return web.json_response({"playbooks": playbooks, "errors": [p.as_dict() for p in registry.problems()]})


@routes.post("/api/v1/playbooks/reload")
async def reload_playbooks(request: web.Request) -> web.Response:
    registry = _registry(request)
    await registry.reload()
    return web.json_response(
        {
            "loaded": [_loaded_view(lp) for lp in registry.loaded()],
            "errors": [p.as_dict() for p in registry.problems()],
        }
    )


_PLAYBOOK_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _playbook_id(request: web.Request) -> str:
    """The path's playbook id; anything that cannot be an id (e.g. a NUL byte) is simply unknown (404)."""
    playbook_id = request.match_info["playbook_id"]
    if not _PLAYBOOK_ID.fullmatch(playbook_id):
        raise _not_found(playbook_id[:64])
    return playbook_id


@routes.get("/api/v1/playbooks/{playbook_id}")
async def get_playbook(request: web.Request) -> web.Response:
    registry = _registry(request)
    playbook_id = _playbook_id(request)
    version = request.query.get("version") or None
    try:
        return web.json_response(await registry.get(playbook_id, version))
    except KeyError:
        raise _not_found(playbook_id, version) from None
    except PlaybookInvalid as exc:
        raise _invalid(exc) from None


@routes.post("/api/v1/playbooks")
async def add_playbook(request: web.Request) -> web.Response:
    registry = _registry(request)
    if request.content_type not in YAML_CONTENT_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the playbook as YAML ({', '.join(sorted(YAML_CONTENT_TYPES))})",
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[SERVICES].settings.http.max_body_bytes
        raise ApiError(
            413, "payload_too_large", f"the playbook exceeds http.max_body_bytes ({limit})"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "bad_request", "the playbook must be UTF-8 text") from None
    if not text.strip():
        raise ApiError(400, "bad_request", "request body is empty; expected a playbook in YAML")
    try:
        stored = await registry.add_from_yaml(text, source="api")
    except PlaybookInvalid as exc:
        raise _invalid(exc) from None
    except PlaybookConflict as exc:
        raise ApiError(409, "version_conflict", str(exc)) from None
    current = registry.active(stored.playbook_id)
    body = {
        **(_loaded_view(stored) or {}),
        "active": current is not None and current.content_hash == stored.content_hash,
    }
    return web.json_response(body, status=201)


@routes.put("/api/v1/playbooks/{playbook_id}/activate")
async def activate_playbook(request: web.Request) -> web.Response:
    registry = _registry(request)
    playbook_id = _playbook_id(request)
    body = await read_json(request)
    version = body.get("version") if isinstance(body, dict) else None
    if not isinstance(version, str) or not version.strip():
        raise ApiError(400, "bad_request", 'expected {"version": "<version string or content hash>"}')
    try:
        activated = await registry.activate(playbook_id, version)
    except KeyError:
        raise _not_found(playbook_id, version) from None
    except PlaybookInvalid as exc:
        raise _invalid(exc) from None
    return web.json_response(_loaded_view(activated))


async def _switch(
    request: web.Request, *, enabled: bool | None = None, kill_switch: bool | None = None
) -> web.Response:
    registry = _registry(request)
    playbook_id = _playbook_id(request)
    try:
        if enabled is not None:
            await registry.set_enabled(playbook_id, enabled)
        if kill_switch is not None:
            await registry.set_kill_switch(playbook_id, kill_switch)
        return web.json_response(await registry.get(playbook_id))
    except KeyError:
        raise _not_found(playbook_id) from None


@routes.post("/api/v1/playbooks/{playbook_id}/enable")
async def enable_playbook(request: web.Request) -> web.Response:
    return await _switch(request, enabled=True)


@routes.post("/api/v1/playbooks/{playbook_id}/disable")
async def disable_playbook(request: web.Request) -> web.Response:
    return await _switch(request, enabled=False)


@routes.post("/api/v1/playbooks/{playbook_id}/kill_switch")
async def kill_switch(request: web.Request) -> web.Response:
    _registry(request)  # authenticate before reading the body
    body = await read_json(request)
    on = body.get("on") if isinstance(body, dict) else None
    if not isinstance(on, bool):
        raise ApiError(400, "bad_request", 'expected {"on": true} or {"on": false}')
    return await _switch(request, kill_switch=on)
