"""Identity-provider evidence as blockers: Identity Protection risk, recent security-info changes, and a tenant
that cannot answer — the real Graph adapter and resolver against the Graph fake (checked against the CSDL),
then the gate on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from fakes.graph import FakeUser, GraphFake, trusted_graph
from gate_fakes import build_harness, ticket
from pydantic import SecretStr

from ticketpilot.adapters.base import IdentitySignalUnavailable
from ticketpilot.adapters.entra import GraphDirectory
from ticketpilot.adapters.http_retry import RetryPolicy
from ticketpilot.config import EntraConfig
from ticketpilot.gate.blockers import BlockerName, check_requester
from ticketpilot.gate.decision import Outcome
from ticketpilot.gate.enrichment import RequesterResolver
from ticketpilot.gate.facts import PolicySnapshot, RequesterFacts

TENANT = "contoso-tenant"
SECRET = "graph-secret-Id9"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
IDENTITY_BLOCKERS = {
    BlockerName.IDENTITY_RISK,
    BlockerName.RECENT_SECURITY_INFO_CHANGE,
    BlockerName.IDENTITY_SIGNALS_UNAVAILABLE,
}


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
async def graph(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GraphFake]:
    async with trusted_graph(monkeypatch, tenant_id=TENANT, client_secret=SECRET) as fake:
        fake.add_user(
            "carol@contoso.example", mail="carol@contoso.example", phones=[("+44 7700 900321", "mobile")]
        )
        yield fake


@pytest.fixture
async def directory(graph: GraphFake) -> AsyncIterator[GraphDirectory]:
    live = GraphDirectory(
        EntraConfig(
            tenant_id=TENANT,
            client_id="graph-app",
            client_secret=SecretStr(SECRET),
            authority_url=graph.authority_url,
            graph_url=graph.graph_url,
        ),
        http_timeout_s=5,
        retry=RetryPolicy(max_attempts=2, initial_backoff_s=0.0, max_backoff_s=0.0),
        sleep=_no_sleep,
    )
    yield live
    await live.aclose()


def carol(graph: GraphFake) -> FakeUser:
    return next(u for u in graph.users.values() if u.upn.startswith("carol"))


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def facts_of(directory: GraphDirectory, window_days: float = 7.0) -> RequesterFacts:
    resolver = RequesterResolver(
        directory, ttl_s=300, security_info_window_days=window_days, wall_clock=lambda: NOW
    )
    return await resolver.resolve(email="carol@contoso.example")


def identity_blockers(facts: RequesterFacts, *, require: bool = True) -> dict[BlockerName, str]:
    found = check_requester(facts, PolicySnapshot(require_identity_signals=require))
    return {b.name: b.detail for b in found if b.name in IDENTITY_BLOCKERS}


async def test_a_user_never_at_risk_with_no_recent_change_has_no_identity_blocker(
    graph: GraphFake, directory: GraphDirectory
) -> None:
    graph.add_audit(carol(graph), "User registered security info", ago(30))
    facts = await facts_of(directory)
    assert facts.resolved and facts.has_phone
    assert identity_blockers(facts) == {}
    assert check_requester(facts, PolicySnapshot()) == []
    assert graph.calls("GET", "/identityProtection/riskyUsers/")
    assert graph.calls("GET", "/auditLogs/directoryAudits")


@pytest.mark.parametrize(
    ("state", "level"), [("atRisk", "low"), ("confirmedCompromised", "high"), ("none", "high")]
)
async def test_identity_protection_risk_blocks(
    graph: GraphFake, directory: GraphDirectory, state: str, level: str
) -> None:
    carol(graph).risk_state, carol(graph).risk_level = state, level
    blockers = identity_blockers(await facts_of(directory))
    assert set(blockers) == {BlockerName.IDENTITY_RISK}
    assert f"riskState {state}, riskLevel {level}" in blockers[BlockerName.IDENTITY_RISK]


async def test_remediated_risk_does_not_block(graph: GraphFake, directory: GraphDirectory) -> None:
    carol(graph).risk_state, carol(graph).risk_level = "remediated", "none"
    assert identity_blockers(await facts_of(directory)) == {}


async def test_security_info_changed_inside_the_window_blocks_outside_does_not(
    graph: GraphFake, directory: GraphDirectory
) -> None:
    graph.add_audit(carol(graph), "User registered security info", ago(2))
    inside = identity_blockers(await facts_of(directory, window_days=7))
    assert set(inside) == {BlockerName.RECENT_SECURITY_INFO_CHANGE}
    assert (
        "User registered security info at " + ago(2)[:10] in inside[BlockerName.RECENT_SECURITY_INFO_CHANGE]
    )
    # the window is configuration: the same change two days ago is outside a one-day window
    assert identity_blockers(await facts_of(directory, window_days=1)) == {}
    query = graph.calls("GET", "/auditLogs/directoryAudits")[-1].query["$filter"]
    assert f"activityDateTime ge {ago(1)}" in query


async def test_a_tenant_without_the_licence_fails_closed_and_says_so(
    graph: GraphFake, directory: GraphDirectory
) -> None:
    graph.identity_protection_licensed = False
    facts = await facts_of(directory)
    blockers = identity_blockers(facts)
    assert set(blockers) == {BlockerName.IDENTITY_SIGNALS_UNAVAILABLE}
    detail = blockers[BlockerName.IDENTITY_SIGNALS_UNAVAILABLE]
    assert "identity risk" in detail and "no licence" in detail and "not licensed" in detail
    # the operator may choose to carry on without the signal
    assert identity_blockers(facts, require=False) == {}
    assert check_requester(facts, PolicySnapshot(require_identity_signals=False)) == []


async def test_an_unlicensed_audit_log_does_not_hide_a_risk(
    graph: GraphFake, directory: GraphDirectory
) -> None:
    graph.audit_log_licensed = False
    carol(graph).risk_state, carol(graph).risk_level = "atRisk", "medium"
    facts = await facts_of(directory)
    assert set(identity_blockers(facts)) == {
        BlockerName.IDENTITY_RISK,
        BlockerName.IDENTITY_SIGNALS_UNAVAILABLE,
    }
    assert set(identity_blockers(facts, require=False)) == {BlockerName.IDENTITY_RISK}


async def test_a_missing_permission_fails_closed_naming_it(
    graph: GraphFake, directory: GraphDirectory
) -> None:
    graph.denied_permissions.add("AuditLog.Read.All")
    detail = identity_blockers(await facts_of(directory))[BlockerName.IDENTITY_SIGNALS_UNAVAILABLE]
    assert "security info audit" in detail and "AuditLog.Read.All" in detail


async def test_throttling_is_a_transient_directory_failure_not_an_answer(
    graph: GraphFake, directory: GraphDirectory
) -> None:
    graph.fail_next(429, times=5, headers={"Retry-After": "90"}, path_contains="/riskyUsers/")
    facts = await facts_of(directory)
    # the throttling mechanism of the gate (durable retry, then directory_unavailable) takes it from here
    assert "identity signals failed" in facts.unavailable_reason and "HTTP 429" in facts.unavailable_reason
    assert facts.retry_after_s == 90
    assert not facts.identity_signals_unavailable
    names = [b.name for b in check_requester(facts, PolicySnapshot())]
    assert BlockerName.DIRECTORY_UNAVAILABLE in names
    # once Graph answers again, the next read is fresh (identity signals are never cached)
    graph.clear_failures()
    assert not (await facts_of(directory)).unavailable_reason


def test_identity_signal_unavailable_is_not_retryable() -> None:
    exc = IdentitySignalUnavailable("entra", "no licence", reason="licence")
    assert exc.status == 403 and not exc.retryable and exc.reason == "licence"


# --- the gate, on a real database --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "blocker"),
    [
        ("risky.ann@contoso.com", BlockerName.IDENTITY_RISK),
        ("newphone.bo@contoso.com", BlockerName.RECENT_SECURITY_INFO_CHANGE),
    ],
)
async def test_the_gate_keeps_identity_risks_manual_and_records_why(
    pool: asyncpg.Pool, email: str, blocker: BlockerName
) -> None:
    h = build_harness(pool)
    try:
        record = await h.gate.decide(ticket(7101, email=email), source="webhook")
        assert record.outcome is Outcome.MANUAL
        assert [b.name for b in record.blockers] == [blocker]
        assert h.engine.starts == []
        stored = await h.gate.stored_decision(7101)
        assert stored is not None and [b.name for b in stored.blockers] == [blocker]
        assert stored.requester.identity_risk or stored.requester.security_info_changes
    finally:
        await h.close()


async def test_the_gate_fails_closed_when_the_tenant_cannot_answer_unless_configured(
    pool: asyncpg.Pool,
) -> None:
    strict = build_harness(pool)
    lenient = build_harness(pool, require_identity_signals=False)
    try:
        for h in (strict, lenient):
            h.directory.identity_failure = IdentitySignalUnavailable(
                "fake-directory", "riskyUsers: no licence", reason="licence"
            )
        closed = await strict.gate.decide(ticket(7201), source="webhook")
        assert closed.outcome is Outcome.MANUAL
        assert [b.name for b in closed.blockers] == [BlockerName.IDENTITY_SIGNALS_UNAVAILABLE]
        opened = await lenient.gate.decide(ticket(7202, email="bob@contoso.com"), source="webhook")
        assert opened.outcome is Outcome.AUTOMATED
    finally:
        await strict.close()
        await lenient.close()
