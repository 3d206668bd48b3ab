"""``build_live_adapters``: live settings pointed at every vendor fake, one call through each adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fakes.graph import GraphFake
from fakes.halopsa import HaloPsaFake
from fakes.mfa import MfaConnectorFake
from fakes.teams import TeamsWorkflowFake
from fakes.twilio import TwilioFake

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.live import build_live_adapters, close
from ticketpilot.config import Settings

ACCOUNT = "AC" + "0123456789abcdef" * 2


@dataclass
class Fakes:
    halo: HaloPsaFake
    graph: GraphFake
    mfa: MfaConnectorFake
    teams: TeamsWorkflowFake
    twilio: TwilioFake


@pytest.fixture
async def fakes(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Fakes]:
    all_fakes = Fakes(
        HaloPsaFake(client_secret="hs", tenant="acme"),
        GraphFake(tenant_id="contoso-tenant", client_secret="gs"),
        MfaConnectorFake(tenant_id="contoso-tenant", client_secret="ms"),
        TeamsWorkflowFake(),
        TwilioFake(account_sid=ACCOUNT, auth_token="tt"),
    )
    for fake in vars(all_fakes).values():
        await fake.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(all_fakes.graph.ca_file))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    yield all_fakes
    for fake in vars(all_fakes).values():
        await fake.stop()
        assert fake.spec_errors == []


def live_settings(f: Fakes, *, mfa_enabled: bool) -> Settings:
    return Settings(
        adapters={"mode": "live", "http_timeout_s": 5},
        http={"admin_token": "admin"},
        halopsa={
            "base_url": f.halo.base_url,
            "client_id": "halo-client",
            "client_secret": "hs",
            "tenant": "acme",
            "webhook_password": "wp",
        },
        entra={
            "tenant_id": "contoso-tenant",
            "client_id": "graph-app",
            "client_secret": "gs",
            "authority_url": f.graph.authority_url,
            "graph_url": f.graph.graph_url,
        },
        mfa={
            "enabled": mfa_enabled,
            "connector_url": f.mfa.connector_url,
            "token_url": f.mfa.token_url,
            "client_secret": "ms",
        },
        teams={"workflow_url": f.teams.workflow_url},
        twilio={
            "account_sid": ACCOUNT,
            "auth_token": "tt",
            "from_number": "+15005550006",
            "base_url": f.twilio.base_url,
        },
    )  # type: ignore[arg-type]


async def test_every_live_adapter_reaches_its_vendor(fakes: Fakes) -> None:
    fakes.halo.add_ticket(7, summary="Password expired", user_email="alice@contoso.example")
    alice = fakes.graph.add_user(
        "alice@contoso.example", mail="alice@contoso.example", phones=[("+44 7700 900123", "mobile")]
    )
    adapters = build_live_adapters(live_settings(fakes, mfa_enabled=True))
    assert adapters.mode == "live"
    try:
        ticket = await adapters.tickets.get_ticket(7)
        user = await adapters.directory.resolve_user(email=ticket.user_email)
        assert user.id == alice.id
        assert await adapters.mfa.push(user.user_principal_name, context_id="exec-1:mfa:1") == "approved"
        await adapters.cards.post_card({"type": "AdaptiveCard", "version": "1.4", "body": []})
        assert user.phone_on_record is not None
        receipt = await adapters.sms.send(user.phone_on_record, "hello", idempotency_key="exec-1:sms:1")
    finally:
        await adapters.extras["close"]()
    assert receipt.sid == fakes.twilio.messages[0]["sid"]
    assert len(fakes.teams.cards) == 1 and len(fakes.mfa.pushes) == 1


async def test_mfa_stays_off_unless_enabled(fakes: Fakes) -> None:
    adapters = build_live_adapters(live_settings(fakes, mfa_enabled=False))
    try:
        with pytest.raises(AdapterError, match="MFA push is not configured"):
            await adapters.mfa.push("alice@contoso.example", context_id="c")
    finally:
        await close(adapters)
    assert fakes.mfa.requests == []
