"""The live HaloPSA client against the HaloPSA fake (requests checked against the HaloPSA spec)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from fakes.halopsa import HaloPsaFake
from fakes.specs import require_halopsa_spec
from pydantic import SecretStr
from structlog.testing import capture_logs

from ticketpilot.adapters.base import AdapterError, NotFound
from ticketpilot.adapters.halopsa import HaloPsaClient
from ticketpilot.adapters.http_retry import RetryPolicy
from ticketpilot.config import HalopsaConfig

SECRET = "halo-secret-Zq81"
NOW = datetime(2026, 9, 25, 12, 0, tzinfo=UTC)


class Sleeps:
    """An injected ``sleep``: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def halo() -> AsyncIterator[HaloPsaFake]:
    fake = HaloPsaFake(client_secret=SECRET, tenant="acme")
    await fake.start()
    fake.add_user(42, email="alice@acme.example", azureoid="11111111-2222-3333-4444-555555555555")
    fake.add_ticket(
        1001,
        summary="Locked out",
        details="I can't sign in since this morning",
        user_id=42,
        user_name="Alice",
        user_email="alice@acme.example",
    )
    yield fake
    await fake.stop()
    assert fake.spec_errors == []


def make_client(
    fake: HaloPsaFake, sleeps: Sleeps | None = None, clock: Clock | None = None, **cfg: Any
) -> HaloPsaClient:
    config = HalopsaConfig(
        base_url=fake.base_url,
        client_id="halo-client",
        client_secret=SecretStr(SECRET),
        tenant="acme",
        **cfg,
    )
    return HaloPsaClient(
        config,
        http_timeout_s=5,
        retry=RetryPolicy(max_attempts=4, initial_backoff_s=0.01, max_backoff_s=0.05),
        sleep=sleeps or Sleeps(),
        clock=clock or Clock(),
        utcnow=lambda: NOW,
    )


async def test_token_discovered_from_authinfo_with_tenant_and_configured_scope(halo: HaloPsaFake) -> None:
    halo.auth_path = "/identity"
    client = make_client(halo, scope="read:tickets edit:tickets")
    try:
        ticket = await client.get_ticket(1001)
    finally:
        await client.aclose()
    assert [r.path for r in halo.requests[:2]] == ["/api/authinfo", "/identity/token"]
    (token_request,) = halo.token_requests
    assert token_request.tenant == "acme"
    assert token_request.scope == "read:tickets edit:tickets"
    assert token_request.grant_type == "client_credentials" and token_request.secret_ok
    assert ticket.summary == "Locked out"
    assert ticket.details == "I can't sign in since this morning"
    assert ticket.user_email == "alice@acme.example"
    assert ticket.user_azure_oid == "11111111-2222-3333-4444-555555555555"
    assert ticket.status_id == 1 and not ticket.closed
    assert halo.calls("GET", "/api/Tickets/1001")[0].query == {"includedetails": "true"}


async def test_token_falls_back_to_auth_token_without_discovery(halo: HaloPsaFake) -> None:
    halo.authinfo = False
    client = make_client(halo)
    try:
        await client.get_ticket(1001)
    finally:
        await client.aclose()
    assert halo.calls("POST", "/auth/token")
    assert halo.token_requests[0].tenant == "acme"


async def test_token_is_cached_then_refreshed_before_expiry_and_on_401(halo: HaloPsaFake) -> None:
    clock = Clock()
    halo.token_lifetime_s = 600
    client = make_client(halo, clock=clock)
    try:
        await client.get_ticket(1001)
        await client.get_ticket(1001)
        assert len(halo.token_requests) == 1
        clock.now += 600 - 59  # inside the refresh margin, before the real expiry
        await client.get_ticket(1001)
        assert len(halo.token_requests) == 2
        halo.revoke_tokens()
        await client.get_ticket(1001)
        assert len(halo.token_requests) == 3
    finally:
        await client.aclose()


async def test_wrong_secret_is_a_non_retryable_error_without_the_secret(halo: HaloPsaFake) -> None:
    halo.client_secret = "something-else"
    client = make_client(halo)
    with capture_logs() as logs:
        with pytest.raises(AdapterError) as err:
            await client.get_ticket(1001)
    await client.aclose()
    assert not err.value.retryable and err.value.status == 401
    assert "invalid_client" in str(err.value)
    assert SECRET not in repr(err.value) + str(logs)


async def test_ticket_closed_by_flag_or_closed_status(halo: HaloPsaFake) -> None:
    halo.add_ticket(1002, hasbeenclosed=True, status_id=3)
    halo.add_ticket(1003, status_id=9)
    client = make_client(halo)
    try:
        assert (await client.get_ticket(1002)).closed
        assert (await client.get_ticket(1003)).closed
    finally:
        await client.aclose()


async def test_missing_ticket_is_not_found_and_missing_user_oid_is_tolerated(halo: HaloPsaFake) -> None:
    halo.add_user(43, email="bob@acme.example")  # no azureoid on record
    halo.add_ticket(1004, user_id=43, user_email="")
    halo.add_ticket(1005, user_id=999, user_email="carol@acme.example")  # user deleted in Halo
    client = make_client(halo)
    try:
        with pytest.raises(NotFound):
            await client.get_ticket(4040)
        bob = await client.get_ticket(1004)
        carol = await client.get_ticket(1005)
    finally:
        await client.aclose()
    assert (bob.user_azure_oid, bob.user_email) == ("", "bob@acme.example")
    assert (carol.user_azure_oid, carol.user_email) == ("", "carol@acme.example")


async def test_update_ticket_posts_one_record_array_with_custom_fields_by_id_or_name(
    halo: HaloPsaFake,
) -> None:
    client = make_client(halo, customfield_automation_status=181, customfield_automation_confidence=183)
    try:
        await client.update_ticket(
            1001,
            custom_fields={
                "automation_status": "automated",
                "playbook_id": "password_reset",
                "automation_confidence": "0.93",
            },
            status_id=8,
        )
    finally:
        await client.aclose()
    (post,) = halo.calls("POST", "/api/Tickets")
    assert isinstance(post.json(), list)
    assert halo.updates == [
        {
            "id": 1001,
            "customfields": [
                {"id": 181, "value": "automated"},
                {"name": "playbook_id", "value": "password_reset"},
                {"id": 183, "value": "0.93"},
            ],
            "status_id": 8,
        }
    ]
    assert halo.tickets[1001]["status_id"] == 8


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param(
            {
                "customfield_automation_status_name": "CFautomationStatus",
                "customfield_playbook_id_name": "CFplaybookId",
                "customfield_automation_confidence_name": "CFautomationConfidence",
            },
            [
                {"name": "CFautomationStatus", "value": "manual"},
                {"name": "CFplaybookId", "value": "password_reset"},
                {"name": "CFautomationConfidence", "value": "0.42"},
            ],
            id="names only",
        ),
        pytest.param(
            {
                "customfield_automation_status": 181,
                "customfield_playbook_id": 182,
                "customfield_automation_confidence": 183,
            },
            [
                {"id": 181, "value": "manual"},
                {"id": 182, "value": "password_reset"},
                {"id": 183, "value": "0.42"},
            ],
            id="ids only",
        ),
        pytest.param(
            {
                "customfield_automation_status": 181,
                "customfield_automation_status_name": "CFautomationStatus",
                "customfield_playbook_id": 182,
                "customfield_playbook_id_name": "CFplaybookId",
                "customfield_automation_confidence_name": "CFautomationConfidence",
            },
            [
                {"id": 181, "name": "CFautomationStatus", "value": "manual"},
                {"id": 182, "name": "CFplaybookId", "value": "password_reset"},
                {"name": "CFautomationConfidence", "value": "0.42"},
            ],
            id="both",
        ),
        pytest.param(
            {},
            [
                {"name": "automation_status", "value": "manual"},
                {"name": "playbook_id", "value": "password_reset"},
                {"name": "automation_confidence", "value": "0.42"},
            ],
            id="neither: our names",
        ),
    ],
)
async def test_custom_fields_go_by_the_configured_names_and_ids(
    halo: HaloPsaFake, config: dict[str, Any], expected: list[dict[str, Any]]
) -> None:
    client = make_client(halo, **config)
    try:
        await client.update_ticket(
            1001,
            custom_fields={
                "automation_status": "manual",
                "playbook_id": "password_reset",
                "automation_confidence": "0.42",
            },
        )
    finally:
        await client.aclose()
    (post,) = halo.calls("POST", "/api/Tickets")
    assert post.text().lstrip().startswith("[")  # the one record in a JSON array, as Halo requires
    assert post.json() == [{"id": 1001, "customfields": expected}]
    assert halo.tickets[1001]["customfields"] == expected


async def test_routing_fields_are_sent_with_the_ticket_id(halo: HaloPsaFake) -> None:
    client = make_client(halo)
    try:
        await client.update_ticket(1001, team="Service Desk L1", agent_id=7, status_id=5, priority_id=2)
        await client.update_ticket(1001, team=None, agent_id=None, status_id=None, priority_id=None)
    finally:
        await client.aclose()
    (post,) = halo.calls("POST", "/api/Tickets")  # nothing to change: nothing sent
    assert post.json() == [
        {"id": 1001, "status_id": 5, "team": "Service Desk L1", "agent_id": 7, "priority_id": 2}
    ]
    assert {k: halo.tickets[1001][k] for k in ("team", "agent_id", "status_id", "priority_id")} == {
        "team": "Service Desk L1",
        "agent_id": 7,
        "status_id": 5,
        "priority_id": 2,
    }


async def test_add_note_posts_private_action_array_with_the_configured_outcome(halo: HaloPsaFake) -> None:
    client = make_client(halo, note_outcome_id=21)
    try:
        await client.add_note(1001, "TicketPilot: classified PASSWORD_RESET (0.93)")
    finally:
        await client.aclose()
    assert halo.notes == [
        {
            "ticket_id": 1001,
            "outcome_id": 21,
            "hiddenfromuser": True,
            "note": "TicketPilot: classified PASSWORD_RESET (0.93)",
        }
    ]


async def test_missing_outcome_is_explained(halo: HaloPsaFake) -> None:
    client = make_client(halo, note_outcome_id=0)
    try:
        with pytest.raises(AdapterError) as err:
            await client.add_note(1001, "note")
    finally:
        await client.aclose()
    assert not err.value.retryable
    assert "note_outcome_id" in err.value.message


async def test_bare_object_post_fails_spec_validation_in_the_fake(halo: HaloPsaFake) -> None:
    require_halopsa_spec()
    client = make_client(halo)
    try:
        await client.get_ticket(1001)  # obtains a token we can borrow
        token = client._token.value if client._token else ""
    finally:
        await client.aclose()
    assert halo.validated > 0 and halo.spec_errors == []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        for path, record in (
            ("/api/Tickets", {"id": 1001, "status_id": 8}),
            ("/api/Actions", {"ticket_id": 1001}),
        ):
            async with http.post(f"{halo.base_url}{path}", json=record) as resp:
                assert resp.status == 400
                assert "requires a JSON array" in await resp.text()
    assert len(halo.spec_errors) == 2
    assert halo.updates == [] and halo.notes == []
    halo.spec_errors.clear()


async def test_429_with_retry_after_is_waited_then_succeeds(halo: HaloPsaFake) -> None:
    sleeps = Sleeps()
    halo.fail_next(429, headers={"Retry-After": "2"}, path_contains="/api/Tickets/1001")
    client = make_client(halo, sleeps)
    try:
        ticket = await client.get_ticket(1001)
    finally:
        await client.aclose()
    assert ticket.id == 1001
    assert sleeps.delays == [2.0]
    assert len(halo.calls("GET", "/api/Tickets/1001")) == 2


async def test_outage_gives_a_retryable_error_after_bounded_attempts(halo: HaloPsaFake) -> None:
    sleeps = Sleeps()
    halo.fail_next(503, times=100, path_contains="/api/Tickets")
    client = make_client(halo, sleeps)
    try:
        with pytest.raises(AdapterError) as err:
            await client.update_ticket(1001, status_id=8)
    finally:
        await client.aclose()
    assert err.value.retryable and err.value.status == 503
    assert len(halo.calls("POST", "/api/Tickets")) == 4
    assert len(sleeps.delays) == 3


async def test_long_retry_after_is_handed_to_the_caller(halo: HaloPsaFake) -> None:
    sleeps = Sleeps()
    halo.fail_next(429, headers={"Retry-After": "120"}, path_contains="/api/Actions")
    client = make_client(halo, sleeps)
    try:
        with pytest.raises(AdapterError) as err:
            await client.add_note(1001, "n")
    finally:
        await client.aclose()
    assert err.value.retryable and err.value.retry_after == 120.0
    assert sleeps.delays == []


async def test_empty_403_names_the_permission_problem(halo: HaloPsaFake) -> None:
    halo.forbid("/api/actions")
    client = make_client(halo)
    try:
        with pytest.raises(AdapterError) as err:
            await client.add_note(1001, "n")
    finally:
        await client.aclose()
    assert not err.value.retryable and err.value.status == 403
    assert "empty body" in err.value.message
    assert "permission" in err.value.message and "scope" in err.value.message


async def test_list_tickets_since_filters_by_date_and_pages(halo: HaloPsaFake) -> None:
    for i in range(230):
        when = NOW - timedelta(days=3, hours=i % 48)
        halo.add_ticket(2000 + i, summary=f"t{i}", dateoccurred=when.strftime("%Y-%m-%dT%H:%M:%S"))
    halo.add_ticket(9000, summary="old", dateoccurred="2026-01-01T00:00:00")
    client = make_client(halo)
    try:
        tickets = await client.list_tickets_since(7)
    finally:
        await client.aclose()
    ids = {t.id for t in tickets}
    assert 9000 not in ids and 1001 not in ids  # the fixture ticket is older than 7 days
    assert ids == {2000 + i for i in range(230)}
    pages = halo.calls("GET", "/api/Tickets")
    assert [p.query["page_no"] for p in pages] == ["1", "2", "3"]
    assert pages[0].query["startdate"] == "2026-09-18T12:00:00"
    assert pages[0].query["datesearch"] == "dateoccurred"


async def test_no_secret_or_token_in_logs(halo: HaloPsaFake) -> None:
    client = make_client(halo)
    with capture_logs() as logs:
        await client.get_ticket(1001)
        halo.revoke_tokens()
        await client.add_note(1001, "n")
    await client.aclose()
    rendered = str(logs)
    assert SECRET not in rendered
    assert "halo-at-" not in rendered
    assert "halo-at-" not in repr(client) and SECRET not in repr(client)
