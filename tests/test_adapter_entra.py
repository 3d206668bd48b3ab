"""The live Graph directory (msal + aiohttp) against the Graph fake; names checked against the v1.0 CSDL."""

from __future__ import annotations

import string
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from fakes.graph import GraphFake, trusted_graph
from fakes.specs import require_graph_csdl
from pydantic import SecretStr
from structlog.testing import capture_logs

from ticketpilot.adapters.base import (
    AdapterError,
    AmbiguousUser,
    IdentitySignalUnavailable,
    NotFound,
    PhoneMethod,
)
from ticketpilot.adapters.entra import GraphDirectory, graph_scope, normalize_e164
from ticketpilot.adapters.http_retry import RetryPolicy
from ticketpilot.config import EntraConfig
from ticketpilot.logging import REDACTED, redact

SECRET = "graph-secret-Kp20"
TENANT = "contoso-tenant"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def graph(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GraphFake]:
    async with trusted_graph(monkeypatch, tenant_id=TENANT, client_secret=SECRET) as fake:
        bob = fake.add_user(
            "bob@contoso.example",
            mail="bob@contoso.example",
            display_name="Bob",
            phones=[("+44 7700 900456", "mobile")],
        )
        helpdesk = fake.add_group("Helpdesk Admins", role_assignable=True, roles=["Helpdesk Administrator"])
        staff = fake.add_group("All Staff")
        fake.add_user(
            "alice@contoso.example",
            id="a1111111-0000-4000-8000-000000000001",
            mail="alice@contoso.example",
            display_name="Alice",
            department="Finance",
            manager_id=bob.id,
            phones=[
                ("+44 7700 900123", "mobile"),
                ("+1 (206) 555-5555", "office"),
                ("07700 900999", "alternateMobile"),
            ],
            groups=[staff.id],
        )
        fake.add_user(
            "root@contoso.example", id="r0000000-0000-4000-8000-000000000002", roles=["Global Administrator"]
        )
        fake.add_user(
            "hd@contoso.example", id="h0000000-0000-4000-8000-000000000003", groups=[helpdesk.id, staff.id]
        )
        fake.add_user(
            "pim@contoso.example",
            id="p0000000-0000-4000-8000-000000000004",
            eligible_roles=["Privileged Authentication Administrator"],
        )
        yield fake


def make_directory(fake: GraphFake, sleeps: Sleeps | None = None, **cfg: object) -> GraphDirectory:
    settings: dict[str, object] = {
        "tenant_id": TENANT,
        "client_id": "graph-app",
        "client_secret": SecretStr(SECRET),
        "authority_url": fake.authority_url,
        "graph_url": fake.graph_url,
    } | cfg
    return GraphDirectory(
        EntraConfig(**settings),  # type: ignore[arg-type]
        http_timeout_s=5,
        retry=RetryPolicy(max_attempts=4, initial_backoff_s=0.01, max_backoff_s=0.05),
        sleep=sleeps or Sleeps(),
    )


ALICE = "a1111111-0000-4000-8000-000000000001"


async def test_resolve_by_object_id_reads_user_manager_phones_and_groups(graph: GraphFake) -> None:
    directory = make_directory(graph)
    assert graph.requests == []  # msal is built lazily: nothing is fetched before the first call
    try:
        alice = await directory.resolve_user(azure_oid=ALICE, email="ignored@contoso.example")
    finally:
        await directory.aclose()
    assert (alice.id, alice.user_principal_name, alice.display_name) == (
        ALICE,
        "alice@contoso.example",
        "Alice",
    )
    assert alice.department == "Finance" and alice.account_enabled
    assert alice.manager_id == next(u.id for u in graph.users.values() if u.upn.startswith("bob"))
    assert alice.phones == (
        PhoneMethod(number="+447700900123", kind="mobile"),
        PhoneMethod(number="+12065555555", kind="office"),
    )  # the alternate "07700 900999" is not E.164: dropped, never guessed
    assert alice.phone_on_record == "+447700900123"
    assert len(alice.group_ids) == 1
    token_request = graph.token_requests[0]
    assert token_request["grant_type"] == "client_credentials"
    # A test double's host is no Graph resource: the default is the global cloud's Graph.
    assert token_request["scope"] == "https://graph.microsoft.com/.default"


async def test_token_request_carries_the_configured_graph_scope(graph: GraphFake) -> None:
    """Behind a gateway that rewrites the URL, the token is still asked for Graph (not for the gateway)."""
    directory = make_directory(graph, graph_scope="https://graph.microsoft.us/.default")
    try:
        alice = await directory.resolve_user(azure_oid=ALICE)
    finally:
        await directory.aclose()
    assert alice.id == ALICE
    scopes = {r["scope"] for r in graph.token_requests}  # concurrent Graph calls may each ask for a token
    assert scopes == {"https://graph.microsoft.us/.default"}


@pytest.mark.parametrize(
    ("authority_url", "graph_url", "scope"),
    [
        ("https://login.microsoftonline.com", "https://graph.microsoft.com/v1.0", "https://graph.microsoft.com"),
        ("https://login.microsoftonline.us", "https://graph.microsoft.us/v1.0", "https://graph.microsoft.us"),
        ("https://login.microsoftonline.us", "https://dod-graph.microsoft.us/v1.0", "https://dod-graph.microsoft.us"),
        ("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn/v1.0",
         "https://microsoftgraph.chinacloudapi.cn"),
        # graph_url through a gateway: the cloud comes from the sign-in host.
        ("https://login.microsoftonline.us", "https://egress.contoso.example/graph/v1.0", "https://graph.microsoft.us"),
        ("https://login.chinacloudapi.cn", "https://egress.contoso.example/v1.0", "https://microsoftgraph.chinacloudapi.cn"),
        ("https://login.microsoftonline.com", "https://egress.contoso.example/v1.0", "https://graph.microsoft.com"),
        ("https://127.0.0.1:8443", "http://127.0.0.1:8080/v1.0", "https://graph.microsoft.com"),
    ],
)  # fmt: skip
def test_default_graph_scope_is_the_clouds_graph(authority_url: str, graph_url: str, scope: str) -> None:
    config = EntraConfig(authority_url=authority_url, graph_url=graph_url)
    assert graph_scope(config) == scope + "/.default"
    assert graph_scope(config.model_copy(update={"graph_scope": "api://gw/.default"})) == "api://gw/.default"


async def test_resolve_by_mail_or_upn_exactly_one(graph: GraphFake) -> None:
    graph.add_user("o'brien@contoso.example", mail="sean@contoso.example")
    graph.add_user("twin1@contoso.example", mail="shared@contoso.example")
    graph.add_user("twin2@contoso.example", mail="shared@contoso.example")
    directory = make_directory(graph)
    try:
        assert (await directory.resolve_user(email="alice@contoso.example")).id == ALICE
        assert (await directory.resolve_user(email="o'brien@contoso.example")).mail == "sean@contoso.example"
        with pytest.raises(NotFound):
            await directory.resolve_user(email="nobody@contoso.example")
        with pytest.raises(AmbiguousUser):
            await directory.resolve_user(email="shared@contoso.example")
        with pytest.raises(NotFound):
            await directory.resolve_user(azure_oid="00000000-0000-4000-8000-00000000dead")
        with pytest.raises(NotFound):
            await directory.resolve_user()
    finally:
        await directory.aclose()
    searches = [r.query["$filter"] for r in graph.calls("GET", "/v1.0/users") if r.path == "/v1.0/users"]
    assert "mail eq 'o''brien@contoso.example' or userPrincipalName eq 'o''brien@contoso.example'" in searches


async def test_manager_or_none(graph: GraphFake) -> None:
    directory = make_directory(graph)
    try:
        manager = await directory.get_manager(ALICE)
        assert manager is not None and manager.display_name == "Bob"
        assert manager.phone_on_record == "+447700900456"
        assert await directory.get_manager(manager.id) is None
    finally:
        await directory.aclose()


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        (ALICE, ()),
        ("r0000000-0000-4000-8000-000000000002", ("direct:Global Administrator",)),
        ("h0000000-0000-4000-8000-000000000003", ("group:Helpdesk Administrator via Helpdesk Admins",)),
        ("p0000000-0000-4000-8000-000000000004", ("eligible:Privileged Authentication Administrator",)),
    ],
)
async def test_privileged_checks(graph: GraphFake, user_id: str, expected: tuple[str, ...]) -> None:
    directory = make_directory(graph)
    try:
        check = await directory.check_privileged(user_id)
    finally:
        await directory.aclose()
    assert check.roles == expected
    assert check.privileged is bool(expected)


async def test_role_held_through_an_unexplained_path_still_counts(graph: GraphFake) -> None:
    nested = graph.add_group(
        "Nested", roles=["User Administrator"]
    )  # not role-assignable: seen only as a role
    graph.users[ALICE].groups.append(nested.id)
    directory = make_directory(graph)
    try:
        check = await directory.check_privileged(ALICE)
    finally:
        await directory.aclose()
    assert check.privileged and check.roles == ("group:User Administrator",)


@pytest.mark.parametrize(("status", "retryable"), [(403, False), (503, True)])
async def test_privileged_check_failure_raises(graph: GraphFake, status: int, retryable: bool) -> None:
    graph.fail_next(
        status,
        times=10,
        path_contains="roleEligibilityScheduleInstances",
        body={"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}},
    )
    directory = make_directory(graph)
    try:
        with pytest.raises(AdapterError) as err:
            await directory.check_privileged(ALICE)
    finally:
        await directory.aclose()
    assert err.value.retryable is retryable and err.value.status == status


async def test_throttling_storm_is_waited_out(graph: GraphFake) -> None:
    sleeps = Sleeps()
    graph.fail_next(429, times=3, headers={"Retry-After": "1"}, path_contains="/phoneMethods")
    directory = make_directory(graph, sleeps)
    try:
        alice = await directory.get_user(ALICE)
    finally:
        await directory.aclose()
    assert alice.phone_on_record == "+447700900123"
    assert sleeps.delays == [1.0, 1.0, 1.0]


async def test_temporary_access_pass_is_created_and_scrubbed_from_logs(graph: GraphFake) -> None:
    directory = make_directory(graph)
    try:
        with capture_logs() as logs:
            tap = await directory.create_temporary_access_pass(
                ALICE, lifetime_minutes=60, one_time=True, idempotency_key="exec-1:tap:1"
            )
    finally:
        await directory.aclose()
    assert tap == graph.users[ALICE].taps[0]["temporaryAccessPass"]
    (post,) = graph.calls("POST", "temporaryAccessPassMethods")
    assert post.json() == {"lifetimeInMinutes": 60, "isUsableOnce": True}
    assert tap not in str(logs)
    assert redact(None, "info", {"event": f"oops {tap}"})["event"] == f"oops {REDACTED}"


async def test_tap_refused_by_policy_is_not_retryable(graph: GraphFake) -> None:
    directory = make_directory(graph)
    try:
        with pytest.raises(AdapterError) as err:
            await directory.create_temporary_access_pass(
                ALICE, lifetime_minutes=5, one_time=True, idempotency_key="k"
            )
    finally:
        await directory.aclose()
    assert not err.value.retryable and err.value.status == 400
    assert "invalidLifetime" in err.value.message


async def test_password_reset_sets_a_strong_random_password(graph: GraphFake) -> None:
    directory = make_directory(graph)
    try:
        first = await directory.reset_password(ALICE, force_change=True, idempotency_key="exec-1:reset:1")
        second = await directory.reset_password(ALICE, force_change=True, idempotency_key="exec-1:reset:2")
    finally:
        await directory.aclose()
    assert graph.users[ALICE].password == second and graph.users[ALICE].force_change is True
    assert first != second and len(first) >= 16
    for chars in (string.ascii_uppercase, string.ascii_lowercase, string.digits):
        assert any(c in chars for c in first)
    assert redact(None, "info", {"event": second})["event"] == REDACTED


async def test_token_refused_is_not_retryable_and_hides_the_secret(graph: GraphFake) -> None:
    graph.client_secret = "rotated"
    directory = make_directory(graph)
    try:
        with pytest.raises(AdapterError) as err:
            await directory.get_user(ALICE)
    finally:
        await directory.aclose()
    assert not err.value.retryable and "invalid_client" in err.value.message
    assert SECRET not in repr(err.value)


async def test_paging_follows_next_links(graph: GraphFake) -> None:
    for i in range(5):
        graph.users[ALICE].groups.append(graph.add_group(f"g{i}").id)
    graph.page_size = 2
    directory = make_directory(graph)
    try:
        alice = await directory.get_user(ALICE)
    finally:
        await directory.aclose()
    assert len(alice.group_ids) == 6
    assert len(graph.calls("GET", "/transitiveMemberOf/microsoft.graph.group")) == 3


@pytest.fixture
def app_certificate(tmp_path: Path) -> Path:
    """An RSA key and self-signed certificate in one PEM, as an app registration's certificate credential."""
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=ticketpilot",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    pem = tmp_path / "app.pem"
    pem.write_text(key.read_text() + cert.read_text())
    return pem


async def test_certificate_credential_signs_a_client_assertion(
    graph: GraphFake, app_certificate: Path
) -> None:
    pem = app_certificate
    directory = make_directory(graph, client_secret=SecretStr(""), certificate_path=str(pem))
    try:
        assert (await directory.get_user(ALICE)).id == ALICE
    finally:
        await directory.aclose()
    assert graph.token_requests[0]["client_assertion_type"].endswith("jwt-bearer")


def test_phone_normalisation() -> None:
    assert normalize_e164("+1 2065555555") == "+12065555555"
    assert normalize_e164("+44 (0)20-7946 0018") == "+442079460018"  # the trunk "(0)" is not dialled
    assert normalize_e164("+1 (206) 555-5555") == "+12065555555"
    assert normalize_e164("+33 1.23.45.67.89") == "+33123456789"
    assert normalize_e164("2065555555") is None
    assert normalize_e164("+0 123456789") is None
    assert normalize_e164("+1 206 555 5555 x12") is None
    assert normalize_e164("") is None


# --- identity signals: Identity Protection risk and security-info changes ---------------------------------


@pytest.mark.parametrize(
    ("state", "level", "at_risk"),
    [
        ("atRisk", "low", True),
        ("confirmedCompromised", "high", True),
        ("none", "medium", True),
        ("remediated", "none", False),
        ("dismissed", "low", False),
        (None, "none", False),  # never at risk: Graph answers 404
    ],
)
async def test_user_risk_from_identity_protection(
    graph: GraphFake, state: str | None, level: str, at_risk: bool
) -> None:
    graph.users[ALICE].risk_state = state
    graph.users[ALICE].risk_level = level
    directory = make_directory(graph)
    try:
        risk = await directory.get_user_risk(ALICE)
    finally:
        await directory.aclose()
    assert risk.at_risk is at_risk
    assert (risk.risk_state, risk.risk_level) == ((state, level) if state else ("none", "none"))
    assert graph.calls("GET", f"/identityProtection/riskyUsers/{ALICE}")


async def test_security_info_changes_inside_the_window_only(graph: GraphFake) -> None:
    alice, bob = graph.users[ALICE], next(u for u in graph.users.values() if u.upn.startswith("bob"))
    graph.add_audit(alice, "User registered security info", "2026-12-04T10:00:00Z")
    graph.add_audit(alice, "Admin deleted security info", "2026-12-03T08:00:00Z", initiator=bob)
    graph.add_audit(alice, "User started security info registration", "2026-12-04T09:59:00Z")
    graph.add_audit(alice, "User changed default security info", "2026-11-20T10:00:00Z")  # outside
    graph.add_audit(bob, "User registered security info", "2026-12-04T11:00:00Z")  # someone else
    directory = make_directory(graph)
    try:
        changes = await directory.list_security_info_changes(ALICE, since=datetime(2026, 11, 28, tzinfo=UTC))
    finally:
        await directory.aclose()
    assert [(c.activity, c.at.day, c.initiated_by) for c in changes] == [
        ("User registered security info", 4, "alice@contoso.example"),
        ("Admin deleted security info", 3, "bob@contoso.example"),
    ]
    audit_query = graph.calls("GET", "/auditLogs/directoryAudits")[0].query["$filter"]
    assert "activityDateTime ge 2026-11-28T00:00:00Z" in audit_query
    assert f"targetResources/any(t:t/id eq '{ALICE}')" in audit_query


@pytest.mark.parametrize(
    ("knob", "reason"),
    [
        ("identity_protection_licensed", "licence"),
        ("audit_log_licensed", "licence"),
        ("IdentityRiskyUser.Read.All", "permission"),
        ("AuditLog.Read.All", "permission"),
    ],
)
async def test_a_tenant_without_the_licence_or_permission_says_so(
    graph: GraphFake, knob: str, reason: str
) -> None:
    if knob.endswith("licensed"):
        setattr(graph, knob, False)
    else:
        graph.denied_permissions.add(knob)
    risk_side = knob in ("identity_protection_licensed", "IdentityRiskyUser.Read.All")
    directory = make_directory(graph)
    try:
        with pytest.raises(IdentitySignalUnavailable) as err:
            if risk_side:
                await directory.get_user_risk(ALICE)
            else:
                await directory.list_security_info_changes(ALICE, since=datetime(2026, 12, 1, tzinfo=UTC))
    finally:
        await directory.aclose()
    assert err.value.reason == reason and err.value.status == 403 and not err.value.retryable
    assert ("licence" if reason == "licence" else "AuditLog.Read.All") in err.value.message


async def test_throttled_identity_signals_stay_retryable(graph: GraphFake) -> None:
    graph.fail_next(429, times=2, headers={"Retry-After": "120"}, path_contains="/riskyUsers/")
    graph.fail_next(429, times=2, headers={"Retry-After": "120"}, path_contains="/directoryAudits")
    directory = make_directory(graph)
    try:
        with pytest.raises(AdapterError) as risk_err:
            await directory.get_user_risk(ALICE)
        with pytest.raises(AdapterError) as audit_err:
            await directory.list_security_info_changes(ALICE, since=datetime(2026, 12, 1, tzinfo=UTC))
    finally:
        await directory.aclose()
    for err in (risk_err, audit_err):
        assert not isinstance(err.value, IdentitySignalUnavailable)
        assert err.value.retryable and err.value.status == 429 and err.value.retry_after == 120


async def test_requests_and_fake_shapes_match_the_graph_csdl(graph: GraphFake) -> None:
    csdl = require_graph_csdl()
    directory = make_directory(graph)
    try:
        await directory.resolve_user(email="alice@contoso.example")
        await directory.get_manager(ALICE)
        for uid in (
            ALICE,
            "r0000000-0000-4000-8000-000000000002",
            "h0000000-0000-4000-8000-000000000003",
            "p0000000-0000-4000-8000-000000000004",
        ):
            await directory.check_privileged(uid)
        await directory.create_temporary_access_pass(
            ALICE, lifetime_minutes=60, one_time=True, idempotency_key="k"
        )
        await directory.reset_password(ALICE, force_change=True, idempotency_key="k2")
        graph.users[ALICE].risk_state = "atRisk"
        graph.add_audit(graph.users[ALICE], "User registered security info", "2026-12-04T10:00:00Z")
        assert (await directory.get_user_risk(ALICE)).at_risk
        assert await directory.list_security_info_changes(ALICE, since=datetime(2026, 12, 1, tzinfo=UTC))
    finally:
        await directory.aclose()
    assert graph.spec_errors == []
    graph_paths = {r.path for r in graph.requests if r.path.startswith("/v1.0/")}
    assert len(graph_paths) >= 10
    assert {"riskyUser", "directoryAudit"} <= {kind for kind, _ in graph.emitted}
    for kind, obj in graph.emitted:
        assert csdl.unknown(kind, obj) == set(), (kind, obj)
        for key, value in obj.items():
            if isinstance(value, dict):
                assert csdl.unknown(csdl.type_of(kind, key), value) == set()
    # and the checker is live: a misspelt property is refused by the fake
    token = next(iter(graph._tokens))
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(
            f"{graph.graph_url}/users/{ALICE}", params={"$select": "id,mobilePhonee"}
        ) as resp:
            assert resp.status == 400
        async with http.patch(
            f"{graph.graph_url}/users/{ALICE}", json={"passwordProfile": {"pwd": "x"}}
        ) as resp:
            assert resp.status == 400
    assert len(graph.spec_errors) == 2
    graph.spec_errors.clear()
