"""The OpenAPI document is kept true: it is valid 3.1, it lists exactly the routes the app serves, and a
bounded schemathesis run against the real running service finds no 5xx and no answer off its schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp.test_utils import TestClient, TestServer
from dashboard_support import BEARER, LiveService, fresh_database, make_settings
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from ticketpilot.http.app import build_app
from ticketpilot.http.openapi_spec import build_document
from ticketpilot.service import start_services

DOCUMENTED_PREFIXES = ("/api/v1/", "/webhooks/")
DOCUMENTED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
MAX_EXAMPLES = 15


def _operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_document_is_valid_openapi_3_1() -> None:
    document = build_document("https://tp.example")
    validate(document)
    assert document["openapi"] == "3.1.0" and document["servers"] == [{"url": "https://tp.example"}]
    for (method, path), op in (
        ((m.upper(), p), item[m]) for p, item in document["paths"].items() for m in item
    ):
        codes = {c for c in op["responses"] if c.startswith(("4", "5"))}
        for code in codes:  # every error answer has the one error shape
            assert op["responses"][code]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            } or (path == "/readyz" and code == "503"), (method, path, code)
        if path.startswith("/api/v1/") and path != "/api/v1/openapi.json":
            assert op["security"] == [{"bearerAuth": []}, {"dashboardSession": []}], (method, path)
    webhooks = document["paths"]
    assert webhooks["/webhooks/halopsa/ticket_created"]["post"]["security"] == [{"haloBasic": []}]
    assert webhooks["/webhooks/twilio/sms_response"]["post"]["security"] == [{"twilioSignature": []}]


async def test_every_route_is_documented_and_every_documented_operation_is_routed(
    db_url: str, tmp_path: Path
) -> None:
    services = await start_services(make_settings(tmp_path), db_url)
    try:
        app = build_app(services)
        routed = {
            (route.method, route.resource.canonical)
            for route in app.router.routes()
            if route.resource is not None
            and route.method not in ("HEAD", "*")
            and (
                route.resource.canonical.startswith(DOCUMENTED_PREFIXES)
                or route.resource.canonical in DOCUMENTED_PATHS
            )
        }
    finally:
        await services.close()
    documented = _operations(build_document())
    assert sorted(routed - documented) == [], "routes missing from the OpenAPI document"
    assert sorted(documented - routed) == [], "documented operations the app does not serve"


async def test_document_is_served_without_authentication(db_url: str, tmp_path: Path) -> None:
    services = await start_services(make_settings(tmp_path, public_url="https://tp.example"), db_url)
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(services)))
    await client.start_server()
    try:
        resp = await client.get("/api/v1/openapi.json")
        assert resp.status == 200
        body = await resp.json()
        assert body["servers"] == [{"url": "https://tp.example"}]
        assert _operations(body) == _operations(build_document())
    finally:
        await client.close()
        await services.close()


# --- schemathesis against the running service ------------------------------------------------------

SCHEMA = schemathesis.openapi.from_dict(build_document())


@pytest.fixture(scope="module")
def service(
    pg_admin_url: str, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveService]:
    with (
        fresh_database(pg_admin_url, pg_template) as url,
        LiveService(make_settings(tmp_path_factory.mktemp("openapi")), url, build_app) as live,
    ):
        yield live


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,
)
def test_api_answers_match_the_document(case: schemathesis.Case[Any], service: LiveService) -> None:
    wait = case.body.get("wait_seconds") if isinstance(case.body, dict) else None
    if isinstance(wait, int | float) and not isinstance(wait, bool) and 0 < wait <= 60:
        case.body["wait_seconds"] = 0  # bounded run: the service endpoints answer 202 rather than wait
    case.call_and_validate(
        base_url=service.base_url,
        headers=BEARER,
        timeout=30,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
