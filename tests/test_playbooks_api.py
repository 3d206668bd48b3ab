"""The playbook admin API and readiness, through the real app, database and registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ticketpilot.config import load_settings
from ticketpilot.http import playbooks_api
from ticketpilot.http.app import build_app
from ticketpilot.playbooks.loader import content_hash
from ticketpilot.service import Services, start_services

ROOT = Path(__file__).resolve().parents[1]
PASSWORD_RESET = (ROOT / "playbooks" / "password_reset.yml").read_text(encoding="utf-8")
THRESHOLD_LINE = next(
    line for line in PASSWORD_RESET.splitlines() if line.startswith("confidence_threshold:")
)


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line of ``text`` that contains ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


MFA_RESET = (ROOT / "playbooks" / "mfa_reset.yml").read_text(encoding="utf-8")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
YAML = {**AUTH, "Content-Type": "application/yaml"}
MAX_BODY = 64 * 1024


def _app(services: Services) -> web.Application:
    app = build_app(services)
    if not any(
        r.resource is not None and r.resource.canonical == "/api/v1/playbooks" for r in app.router.routes()
    ):
        app.router.add_routes(playbooks_api.routes)  # until the lead wires the module into build_app
    return app


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "playbooks"
    d.mkdir()
    (d / "password_reset.yml").write_text(PASSWORD_RESET, encoding="utf-8")
    (d / "mfa_reset.yml").write_text(MFA_RESET, encoding="utf-8")
    return d


@pytest.fixture
async def services(db_url: str, folder: Path) -> AsyncIterator[Services]:
    settings = load_settings(
        None,
        playbooks={"dir": str(folder), "watch": False},
        http={"admin_token": TOKEN, "max_body_bytes": MAX_BODY},
    )
    svc = await start_services(settings, db_url)
    yield svc
    await svc.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(_app(services))) as c:
        yield c


async def _json(resp: Any, status: int) -> Any:
    body = await resp.json()
    assert resp.status == status, body
    return body


ENDPOINTS = [
    ("GET", "/api/v1/playbooks"),
    ("GET", "/api/v1/playbooks/password_reset"),
    ("POST", "/api/v1/playbooks"),
    ("PUT", "/api/v1/playbooks/password_reset/activate"),
    ("POST", "/api/v1/playbooks/password_reset/enable"),
    ("POST", "/api/v1/playbooks/password_reset/disable"),
    ("POST", "/api/v1/playbooks/password_reset/kill_switch"),
    ("POST", "/api/v1/playbooks/reload"),
]


async def test_every_endpoint_needs_the_admin_token(
    client: TestClient[web.Request, web.Application], services: Services
) -> None:
    wrong = {"Authorization": "Bearer " + "w" * 32}
    for method, path in ENDPOINTS:
        for headers in ({}, wrong, {"Authorization": TOKEN}, {**wrong, "Content-Type": "application/yaml"}):
            resp = await client.request(
                method, path, headers=headers, data=b'{"on": true, "version": "1.0.0"}'
            )
            body = await _json(resp, 401)
            assert body["error"] == "unauthorized", (method, path)
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    served = services.registry.active("password_reset")
    assert served is not None and served.enabled and not served.kill_switch


async def test_list_shows_versions_switches_and_errors(
    client: TestClient[web.Request, web.Application],
) -> None:
    body = await _json(await client.get("/api/v1/playbooks", headers=AUTH), 200)
    by_id = {p["id"]: p for p in body["playbooks"]}
    assert set(by_id) == {"mfa_reset", "password_reset"}
    reset = by_id["password_reset"]
    assert (reset["active_version"], reset["enabled"], reset["kill_switch"], reset["mode"]) == (
        "1.0.0",
        True,
        False,
        "active",
    )
    assert reset["active_hash"] == content_hash(PASSWORD_RESET)
    assert [(v["version"], v["source"], v["active"]) for v in reset["versions"]] == [("1.0.0", "file", True)]
    assert reset["errors"] == [] and body["errors"] == []
    assert by_id["mfa_reset"]["mode"] == "shadow"


async def test_get_one_by_version_or_hash_and_404s(client: TestClient[web.Request, web.Application]) -> None:
    body = await _json(await client.get("/api/v1/playbooks/password_reset", headers=AUTH), 200)
    assert body["selected"]["yaml"] == PASSWORD_RESET
    assert body["selected"]["definition"]["steps"][0]["id"] == "verify_mfa"
    digest = content_hash(PASSWORD_RESET)
    for version in ("1.0.0", digest, digest[:16]):
        by_version = await _json(
            await client.get("/api/v1/playbooks/password_reset", params={"version": version}, headers=AUTH),
            200,
        )
        assert by_version["selected"]["content_hash"] == digest
    missing = await _json(await client.get("/api/v1/playbooks/nope", headers=AUTH), 404)
    assert missing["error"] == "not_found"
    await _json(
        await client.get("/api/v1/playbooks/password_reset", params={"version": "9.9"}, headers=AUTH), 404
    )


async def test_malformed_yaml_is_422_with_its_line(client: TestClient[web.Request, web.Application]) -> None:
    body = await _json(await client.post("/api/v1/playbooks", data="id: x\nsteps: [a\n", headers=YAML), 422)
    assert body["error"] == "invalid_playbook"
    assert len(body["detail"]) == 1
    assert body["detail"][0]["file"] == "<api>" and body["detail"][0]["line"] == 3
    assert body["detail"][0]["message"].startswith("YAML syntax error")


async def test_wrong_types_are_422_with_every_problem(
    client: TestClient[web.Request, web.Application],
) -> None:
    text = (
        PASSWORD_RESET.replace('version: "1.0.0"', 'version: "2.0.0"')
        .replace(THRESHOLD_LINE, "confidence_threshold: high")
        .replace("    timeout: 30m\n", "    timeout: [30m]\n")
        .replace("service: delivery.sms", "service: delivery.pigeon")
    )
    lines = [line_of(text, "confidence_threshold"), line_of(text, "[30m]"), line_of(text, "delivery.pigeon")]
    body = await _json(await client.post("/api/v1/playbooks", data=text, headers=YAML), 422)
    assert [(p["line"], p["playbook_id"]) for p in body["detail"]] == [(n, "password_reset") for n in lines]
    assert "confidence_threshold" in body["detail"][0]["message"]
    assert "delivery.pigeon" in body["detail"][2]["message"]


async def test_oversized_body_is_413(client: TestClient[web.Request, web.Application]) -> None:
    text = PASSWORD_RESET + "#" * MAX_BODY + "\n"
    body = await _json(await client.post("/api/v1/playbooks", data=text, headers=YAML), 413)
    assert body["error"] == "payload_too_large"


async def test_not_yaml_is_415_and_empty_is_400(client: TestClient[web.Request, web.Application]) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    await _json(await client.post("/api/v1/playbooks", data=PASSWORD_RESET, headers=headers), 415)
    await _json(await client.post("/api/v1/playbooks", data="  \n", headers=YAML), 400)


async def test_upload_then_activate_a_version(
    client: TestClient[web.Request, web.Application], services: Services
) -> None:
    text = PASSWORD_RESET.replace('version: "1.0.0"', 'version: "1.1.0"').replace(
        THRESHOLD_LINE, "confidence_threshold: 0.95"
    )
    for content_type in ("text/yaml", "application/x-yaml"):  # the same content twice is stored once
        headers = {**AUTH, "Content-Type": content_type}
        stored = await _json(await client.post("/api/v1/playbooks", data=text, headers=headers), 201)
        assert (stored["version"], stored["source"], stored["active"]) == ("1.1.0", "api", False)
        assert stored["content_hash"] == content_hash(text)
    assert services.registry.active("password_reset").version == "1.0.0"  # type: ignore[union-attr]

    for bad in ("not json", "[]", '{"version": 3}', "{}"):
        await _json(
            await client.put("/api/v1/playbooks/password_reset/activate", data=bad, headers=AUTH), 400
        )
    resp = await client.put(
        "/api/v1/playbooks/password_reset/activate", json={"version": "7.7.7"}, headers=AUTH
    )
    await _json(resp, 404)

    resp = await client.put(
        "/api/v1/playbooks/password_reset/activate", json={"version": "1.1.0"}, headers=AUTH
    )
    activated = await _json(resp, 200)
    assert (activated["version"], activated["content_hash"]) == ("1.1.0", content_hash(text))
    served = services.registry.for_sub_category("PASSWORD_RESET")
    assert [(lp.version, lp.playbook.confidence_threshold) for lp in served] == [("1.1.0", 0.95)]
    listing = await _json(await client.get("/api/v1/playbooks", headers=AUTH), 200)
    reset = next(p for p in listing["playbooks"] if p["id"] == "password_reset")
    assert [(v["version"], v["active"]) for v in reset["versions"]] == [("1.0.0", False), ("1.1.0", True)]

    conflict = text.replace(
        "confidence_threshold: 0.95", "confidence_threshold: 0.96"
    )  # same version, other content
    await _json(await client.post("/api/v1/playbooks", data=conflict, headers=YAML), 409)


async def test_enable_disable_and_kill_switch(
    client: TestClient[web.Request, web.Application], services: Services
) -> None:
    body = await _json(await client.post("/api/v1/playbooks/password_reset/disable", headers=AUTH), 200)
    assert body["enabled"] is False and body["operator_enabled"] is False
    assert services.registry.for_sub_category("PASSWORD_RESET") == []
    await _json(await client.post("/api/v1/playbooks/password_reset/enable", headers=AUTH), 200)
    assert services.registry.for_sub_category("PASSWORD_RESET") != []

    path = "/api/v1/playbooks/password_reset/kill_switch"
    for bad in ({"on": "yes"}, {}, [True]):
        await _json(await client.post(path, json=bad, headers=AUTH), 400)
    body = await _json(await client.post(path, json={"on": True}, headers=AUTH), 200)
    assert body["kill_switch"] is True
    assert services.registry.active("password_reset").kill_switch is True  # type: ignore[union-attr]
    await _json(await client.post(path, json={"on": False}, headers=AUTH), 200)
    assert services.registry.active("password_reset").kill_switch is False  # type: ignore[union-attr]

    await _json(await client.post("/api/v1/playbooks/nope/enable", headers=AUTH), 404)
    await _json(await client.post("/api/v1/playbooks/nope/kill_switch", json={"on": True}, headers=AUTH), 404)


async def test_a_broken_playbook_file_is_reported_but_readiness_stays_200(
    client: TestClient[web.Request, web.Application], folder: Path
) -> None:
    # One invalid file must not take every replica out of rotation: the last good versions still serve.
    ready = await _json(await client.get("/readyz"), 200)
    assert ready["checks"]["playbooks"] == {"ok": True, "loaded": 2, "errors": []}

    broken = folder / "password_reset.yml"
    text = PASSWORD_RESET.replace("    timeout: 3m\n", "    timeout: -3m\n")
    broken.write_text(text)
    reloaded = await _json(await client.post("/api/v1/playbooks/reload", headers=AUTH), 200)
    assert [e["line"] for e in reloaded["errors"]] == [line_of(text, "timeout: -3m")]

    body = await _json(await client.get("/readyz"), 200)
    assert body["status"] == "ready"
    check = body["checks"]["playbooks"]
    assert check["ok"] is False and check["loaded"] == 2  # the last good version is still served
    assert [(e["file"], e["line"]) for e in check["errors"]] == [(str(broken), line_of(text, "timeout: -3m"))]
    listing = await _json(await client.get("/api/v1/playbooks", headers=AUTH), 200)
    reset = next(p for p in listing["playbooks"] if p["id"] == "password_reset")
    assert [e["line"] for e in reset["errors"]] == [line_of(text, "timeout: -3m")] and reset[
        "active_version"
    ] == "1.0.0"

    metrics = await (await client.get("/metrics")).text()
    assert "ticketpilot_playbook_load_errors 1.0" in metrics

    broken.write_text(PASSWORD_RESET)
    await _json(await client.post("/api/v1/playbooks/reload", headers=AUTH), 200)
    body = await _json(await client.get("/readyz"), 200)
    assert body["checks"]["playbooks"]["ok"] is True
    assert "ticketpilot_playbook_load_errors 0.0" in await (await client.get("/metrics")).text()


HUGE = "9" * 5000


async def test_a_5000_digit_number_in_a_file_is_a_problem_and_reload_goes_on(
    client: TestClient[web.Request, web.Application], services: Services, folder: Path
) -> None:
    broken = folder / "mfa_reset.yml"
    text = MFA_RESET.replace("    timeout: 30s\n", f"    timeout: {HUGE}\n", 1)
    assert text != MFA_RESET
    broken.write_text(text)
    reloaded = await _json(await client.post("/api/v1/playbooks/reload", headers=AUTH), 200)
    assert [(e["file"], e["line"]) for e in reloaded["errors"]] == [(str(broken), line_of(text, HUGE[:20]))]
    await _json(await client.get("/readyz"), 200)

    # Reload keeps working for every other file: deleting password_reset.yml withdraws it.
    (folder / "password_reset.yml").unlink()
    await _json(await client.post("/api/v1/playbooks/reload", headers=AUTH), 200)
    assert services.registry.for_sub_category("PASSWORD_RESET") == []
    assert services.registry.for_sub_category("MFA_RESET") != []  # the last good mfa_reset still serves


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    timeout: 30s\n", f"    timeout: {HUGE}\n"),
        ('version: "1.0.0"', f"version: {HUGE}"),
        ('version: "1.0.0"', 'version: "1.0\\0"'),
        ('version: "1.0.0"', 'version: "1.0\\ud800"'),
        ("    timeout: 30s\n", "    timeout: 999999999999h\n"),
    ],
    ids=["huge-timeout", "huge-version", "nul-version", "surrogate-version", "overflowing-timeout"],
)
async def test_hostile_yaml_through_the_api_is_422_with_its_line(
    client: TestClient[web.Request, web.Application], old: str, new: str
) -> None:
    text = MFA_RESET.replace(old, new, 1).replace("id: mfa_reset", "id: hostile")
    assert text != MFA_RESET.replace("id: mfa_reset", "id: hostile")
    body = await _json(await client.post("/api/v1/playbooks", data=text.encode(), headers=YAML), 422)
    assert body["error"] == "invalid_playbook"
    assert [e["line"] for e in body["detail"]] == [line_of(text, new.strip()[:20])]


async def test_a_playbook_given_only_through_the_api_can_be_activated_and_served(
    client: TestClient[web.Request, web.Application], services: Services
) -> None:
    text = (
        MFA_RESET.replace("id: mfa_reset", "id: api_only")
        .replace("[MFA_RESET]", "[SOFTWARE_INSTALL]")
        .replace("mode: shadow", "mode: active")
    )
    stored = await _json(await client.post("/api/v1/playbooks", data=text, headers=YAML), 201)
    assert (stored["id"], stored["active"]) == ("api_only", False)
    assert services.registry.for_sub_category("SOFTWARE_INSTALL") == []
    resp = await client.put("/api/v1/playbooks/api_only/activate", json={"version": "1.0.0"}, headers=AUTH)
    await _json(resp, 200)
    served = services.registry.for_sub_category("SOFTWARE_INSTALL")
    assert [(lp.playbook_id, lp.source, lp.enabled) for lp in served] == [("api_only", "api", True)]
    detail = await _json(await client.get("/api/v1/playbooks/api_only", headers=AUTH), 200)
    assert (detail["active_version"], detail["file"], detail["source"]) == ("1.0.0", None, "api")


async def test_ids_that_cannot_be_playbook_ids_are_404_not_500(
    client: TestClient[web.Request, web.Application],
) -> None:
    for bad in ("a%00b", "UPPER", "x" * 80, "%E2%98%83"):
        await _json(await client.get(f"/api/v1/playbooks/{bad}", headers=AUTH), 404)
        await _json(await client.post(f"/api/v1/playbooks/{bad}/enable", headers=AUTH), 404)
        await _json(
            await client.put(f"/api/v1/playbooks/{bad}/activate", json={"version": "1"}, headers=AUTH), 404
        )
