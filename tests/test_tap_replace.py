"""A Temporary Access Pass issued again in the same execution (the first one was lost from memory in a restart,
before delivery) replaces the old one: the old one is deleted in Entra ID first (issue 10, item 2)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fakes.graph import GraphFake, trusted_graph
from pydantic import SecretStr
from test_services_support import RecordingSleep, build_harness, make_call

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.entra import GraphDirectory
from ticketpilot.adapters.http_retry import RetryPolicy
from ticketpilot.config import EntraConfig
from ticketpilot.services import ResetPassword
from ticketpilot.steps import Failed, StepOutcome, Succeeded

TAP_PARAMS = {"method": "temporary_access_pass", "lifetime_minutes": 60, "one_time": True}
TENANT, SECRET = "contoso-tenant", "graph-secret-Kp20"
ALICE = "a1111111-0000-4000-8000-000000000001"


def _after(first: StepOutcome) -> dict[str, Any]:
    """The execution context the engine hands the step's next attempt: the outputs it checkpointed."""
    assert isinstance(first, Succeeded)
    return {"steps": {"create_credential": dict(first.outputs)}}


async def test_the_sandbox_deletes_the_previous_tap_before_issuing_the_next() -> None:
    h = build_harness(None)
    service, eid = h.steps["executor.reset_password"], uuid.uuid4()
    first = await service.start(make_call(eid, h.clock, step_id="create_credential", params=TAP_PARAMS))
    second = await service.start(
        make_call(
            eid, h.clock, step_id="create_credential", attempt=2, params=TAP_PARAMS, context=_after(first)
        )
    )
    assert isinstance(second, Succeeded)
    kinds = [(e.kind, e.data.get("method_id")) for e in h.ledger.entries() if e.kind.startswith("tap_")]
    (_, old), (_, new) = [k for k in kinds if k[0] == "tap_issued"]
    assert kinds == [("tap_issued", old), ("tap_deleted", old), ("tap_issued", new)]
    assert second.outputs["revocation"]["method_id"] == new != old


async def test_no_new_tap_while_the_old_one_cannot_be_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    h = build_harness(None)
    service, eid = h.steps["executor.reset_password"], uuid.uuid4()
    first = await service.start(make_call(eid, h.clock, step_id="create_credential", params=TAP_PARAMS))

    async def unavailable(user_id: str, method_id: str) -> bool:
        raise AdapterError("sandbox-directory", "Graph 503", retryable=True, status=503)

    monkeypatch.setattr(h.adapters.directory, "delete_temporary_access_pass", unavailable)
    second = await service.start(
        make_call(
            eid, h.clock, step_id="create_credential", attempt=2, params=TAP_PARAMS, context=_after(first)
        )
    )
    assert isinstance(second, Failed) and second.retryable
    assert len(h.ledger.entries("tap_issued")) == 1


@pytest.fixture
async def graph(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GraphFake]:
    async with trusted_graph(monkeypatch, tenant_id=TENANT, client_secret=SECRET) as fake:
        fake.add_user("alice@contoso.example", id=ALICE, mail="alice@contoso.example")
        yield fake


async def test_live_graph_sees_the_delete_of_the_old_tap_before_the_new_one(graph: GraphFake) -> None:
    config = EntraConfig(
        tenant_id=TENANT,
        client_id="graph-app",
        client_secret=SecretStr(SECRET),
        authority_url=graph.authority_url,
        graph_url=graph.graph_url,
    )
    retry = RetryPolicy(max_attempts=2, initial_backoff_s=0.01, max_backoff_s=0.02)
    directory = GraphDirectory(config, http_timeout_s=5, retry=retry, sleep=RecordingSleep())
    service, h = ResetPassword(directory), build_harness(None)
    context = {"user_id": ALICE, "user_email": "alice@contoso.example"}
    eid = uuid.uuid4()
    try:
        first = await service.start(
            make_call(eid, h.clock, step_id="create_credential", params=TAP_PARAMS, context=context)
        )
        second = await service.start(
            make_call(
                eid,
                h.clock,
                step_id="create_credential",
                attempt=2,
                params=TAP_PARAMS,
                context={**context, **_after(first)},
            )
        )
    finally:
        await directory.aclose()
    assert isinstance(first, Succeeded) and isinstance(second, Succeeded)
    old = first.outputs["revocation"]["method_id"]
    calls = [
        (r.method, r.path.rsplit("/", 1)[-1])
        for r in graph.requests
        if "temporaryAccessPassMethods" in r.path
    ]
    assert calls == [
        ("POST", "temporaryAccessPassMethods"),
        ("DELETE", old),
        ("POST", "temporaryAccessPassMethods"),
    ]
    assert graph.deleted_taps == [(ALICE, old)]
    assert [t["id"] for t in graph.users[ALICE].taps] == [second.outputs["revocation"]["method_id"]]
