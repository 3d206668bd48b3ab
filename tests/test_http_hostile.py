"""Hostile requests get a 4xx with a JSON error, never a 500 (issue 10, item 6).

Every JSON endpoint (webhooks and the Teams action included) bounds the depth and the number size of a
body before parsing it; strings with lone surrogates, impossible dates and undecodable header bytes are
refused as the client's mistake. A bounded hypothesis run mixes these shapes into otherwise valid bodies.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from service_support import BEARER, HALO_AUTH, Running, running_service

from ticketpilot.http.json_body import MAX_JSON_DEPTH, MAX_NUMBER_CHARS, JsonRejected, parse_json_body

DEEP = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJECTS = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
HUGE_NUMBER = b'{"ticket_id": ' + b"9" * 5000 + b', "id": 1, "decision": "approve"}'
HUGE_FLOAT = b'{"confidence": 1.' + b"5" * 5000 + b"}"
SURROGATE = b'{"on": true, "reason": "stop \\ud800 now", "subject": "x\\udfff"}'
NAN = b'{"on": true, "value": NaN}'
HOSTILE_BODIES = {
    "deep-arrays": DEEP,
    "deep-objects": DEEP_OBJECTS,
    "huge-int": HUGE_NUMBER,
    "huge-float": HUGE_FLOAT,
    "surrogate": SURROGATE,
    "nan": NAN,
}

JSON_BODY_PATHS = (
    "/webhooks/halopsa/ticket_",
    "/webhooks/teams/approval_action",
    "/api/v1/classify_ticket",
    "/api/v1/sandbox/tickets",
    "/api/v1/orchestration/execute_playbook",
    "/api/v1/verification/",
    "/api/v1/executor/",
    "/api/v1/delivery/",
    "/api/v1/dashboard/kill_switch",
)

PATH_VALUES = {
    "playbook_id": "password_reset",
    "secret": "not-the-secret",
    "request_id": "00000000-0000-4000-8000-000000000000",
    "execution_id": "00000000-0000-4000-8000-000000000000",
    "ticket_id": "1",
}


@pytest.fixture
async def svc(db_url: str, tmp_path: Path) -> AsyncIterator[Running]:
    async with running_service(db_url, tmp_path) as running:
        yield running


def _changing_routes(svc: Running) -> list[tuple[str, str]]:
    app: web.Application = svc.client.server.app  # type: ignore[assignment]
    found = []
    for route in app.router.routes():
        if route.method in ("POST", "PUT", "PATCH") and route.resource is not None:
            path = route.resource.canonical
            for name, value in PATH_VALUES.items():
                path = path.replace("{" + name + "}", value)
            found.append((route.method, path))
    return sorted(set(found))


def _auth_for(path: str) -> dict[str, str]:
    return HALO_AUTH if path.startswith("/webhooks/halopsa/ticket_") else BEARER


async def _assert_json_4xx(resp: Any, what: object) -> dict[str, Any]:
    text = await resp.text()
    assert 400 <= resp.status < 500, (what, resp.status, text[:300])
    assert "Traceback" not in text
    body = json.loads(text)
    assert isinstance(body, dict) and body.get("error"), (what, body)
    return body


@pytest.mark.parametrize("shape", list(HOSTILE_BODIES))
async def test_every_json_endpoint_refuses_hostile_bodies_with_a_4xx(svc: Running, shape: str) -> None:
    routes = _changing_routes(svc)
    assert ("POST", "/webhooks/teams/approval_action") in routes
    assert ("POST", "/webhooks/halopsa/ticket_created") in routes
    for method, path in routes:
        resp = await svc.client.request(
            method,
            path,
            data=HOSTILE_BODIES[shape],
            headers={**_auth_for(path), "Content-Type": "application/json"},
        )
        if method == "POST" and path.startswith(JSON_BODY_PATHS):
            body = await _assert_json_4xx(resp, (shape, method, path))
            assert body["error"] in ("invalid_json", "unauthorized", "forbidden"), (path, body)
        else:  # endpoints that take no JSON body (a switch, a form, YAML) may ignore it, never fail on it
            text = await resp.text()
            assert resp.status < 500, (shape, method, path, resp.status, text[:300])


async def test_the_reasons_are_named(svc: Running) -> None:
    resp = await svc.client.post("/webhooks/halopsa/ticket_created", data=DEEP, headers=HALO_AUTH)
    body = await _assert_json_4xx(resp, "deep")
    assert body["error"] == "invalid_json" and "nested" in body["detail"]
    resp = await svc.client.post("/webhooks/teams/approval_action", data=HUGE_NUMBER)
    body = await _assert_json_4xx(resp, "huge")
    assert body["error"] == "invalid_json" and "number" in body["detail"]


async def test_a_lone_surrogate_in_the_kill_switch_reason_is_400_and_changes_nothing(svc: Running) -> None:
    resp = await svc.client.post(
        "/api/v1/dashboard/kill_switch",
        data=b'{"on": true, "reason": "\\ud800"}',
        headers={**BEARER, "Content-Type": "application/json"},
    )
    await _assert_json_4xx(resp, "surrogate")
    state = await (await svc.client.get("/api/v1/dashboard/kill_switch", headers=BEARER)).json()
    assert state["on"] is False


@pytest.mark.parametrize(
    "moment",
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "9999-12-31", "0001-01-01T00:00:00+00:00"],
)
@pytest.mark.parametrize("name", ["since", "until"])
async def test_dates_at_the_edge_of_the_calendar_are_400_or_answered(
    svc: Running, name: str, moment: str
) -> None:
    for path in (
        "/api/v1/dashboard/overview",
        "/api/v1/dashboard/executions",
        "/api/v1/dashboard/decisions",
        "/api/v1/dashboard/shadow",
    ):
        resp = await svc.client.get(path, params={name: moment}, headers=BEARER)
        text = await resp.text()
        assert resp.status < 500, (path, name, moment, resp.status, text[:300])
        if resp.status >= 400:
            assert json.loads(text)["error"] == "invalid_query"


@pytest.mark.parametrize("header", ["Authorization", "Cookie", "X-TP-CSRF"])
@pytest.mark.parametrize(
    "value", [b"Bearer \xff\xfe", b"Basic \xff", b"tp_session=\xff\xff", b"\xed\xa0\x80", b"\xc3\x28"]
)
async def test_undecodable_header_bytes_are_4xx(svc: Running, header: str, value: bytes) -> None:
    port = svc.client.server.port
    host = svc.client.server.host
    for method, path in (
        ("GET", "/api/v1/playbooks"),
        ("POST", "/api/v1/dashboard/kill_switch"),
        ("GET", "/api/v1/dashboard/overview"),
        ("POST", "/webhooks/halopsa/ticket_created"),
        ("POST", "/login"),
    ):
        status, text = await _raw_request(host, port, method, path, {header.encode(): value})
        assert 400 <= status < 500, (header, value, method, path, status, text[:300])
        assert "Traceback" not in text


async def _raw_request(
    host: str, port: int, method: str, path: str, headers: dict[bytes, bytes]
) -> tuple[int, str]:
    """One request written byte for byte (client libraries refuse to send such headers)."""
    import asyncio

    reader, writer = await asyncio.open_connection(host, port)
    try:
        body = b'{"on": true}'
        lines = [
            f"{method} {path} HTTP/1.1".encode(),
            f"Host: {host}:{port}".encode(),
            b"Content-Type: application/json",
            f"Content-Length: {len(body)}".encode(),
            b"Connection: close",
            *(name + b": " + value for name, value in headers.items()),
        ]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, rest.decode("utf-8", "replace")


# --- the shared reader, fuzzed ------------------------------------------------------------------------


def test_bodies_within_the_bounds_parse_as_json() -> None:
    nested: Any = 1
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    raw = json.dumps({"a": nested, "n": int("9" * MAX_NUMBER_CHARS), "s": '[[[{{{ \\" é'}).encode()
    assert parse_json_body(raw) == json.loads(raw)
    with pytest.raises(JsonRejected):
        parse_json_body(json.dumps([[nested]]).encode())


_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=15,
)
_hostile_fragments = st.sampled_from(
    [
        b"[" * 5000,
        b"]" * 5000,
        b"9" * 5000,
        b"-" + b"1" * 4400,
        b"1e99999",
        b'"\\ud800"',
        b'"\\udc00\\ud800"',
        b"NaN",
        b"-Infinity",
        b'"\\',
        b"\xff",
        b'{"a":' * 3000,
    ]
)


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(_json_values, _hostile_fragments, st.integers(min_value=0, max_value=200))
def test_the_reader_answers_any_body_with_a_value_or_a_rejection(
    value: Any, fragment: bytes, at: int
) -> None:
    raw = json.dumps(value).encode()
    at = min(at, len(raw))
    for body in (raw, raw[:at] + fragment + raw[at:]):
        try:
            parsed = parse_json_body(body)
        except JsonRejected as exc:
            assert exc.detail
        else:
            assert json.dumps(parsed, allow_nan=False).encode("utf-8")  # storable as UTF-8 JSON


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(value=_json_values, fragment=_hostile_fragments)
async def test_every_json_endpoint_is_4xx_for_fuzzed_hostile_bodies(
    svc: Running, value: Any, fragment: bytes
) -> None:
    body = json.dumps({"wrapper": value}).encode()[:-1] + b', "x": ' + fragment + b"}"
    for method, path in _changing_routes(svc):
        resp = await svc.client.request(
            method, path, data=body, headers={**_auth_for(path), "Content-Type": "application/json"}
        )
        text = await resp.text()
        assert resp.status < 500, (method, path, resp.status, text[:300])


HOSTILE_TEXT = ["9" * 5000, "%00", "%ED%A0%80", "%FF", "-1", "1e999"]


@pytest.mark.parametrize("value", HOSTILE_TEXT, ids=["digits", "nul", "surrogate", "ff", "negative", "exp"])
async def test_hostile_path_and_query_values_are_never_a_500(svc: Running, value: str) -> None:
    app: web.Application = svc.client.server.app  # type: ignore[assignment]
    query = "&".join(
        f"{k}={value}" for k in ("limit", "offset", "ticket", "since", "until", "minutes", "version")
    )
    for route in app.router.routes():
        if route.method != "GET" or route.resource is None:
            continue
        path = route.resource.canonical
        for name in PATH_VALUES:
            path = path.replace("{" + name + "}", value)
        if "{" in path:
            continue  # static files
        resp = await svc.client.get(f"{path}?{query}", headers=BEARER)
        text = await resp.text()
        assert resp.status < 500, (path, value, resp.status, text[:300])
