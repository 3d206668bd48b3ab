"""Outbound HTTP of every live client: the standard proxy variables through a real forward proxy
(proxy.py in its own process), and ``[adapters] ca_bundle`` against a private CA made in the test."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakes.graph import GraphFake
from fakes.halopsa import HaloPsaFake
from fakes.mfa import MfaConnectorFake
from fakes.openai import OpenAiFake
from fakes.server import FakeServer
from fakes.teams import TeamsWorkflowFake
from fakes.tls import PrivateCa, make_private_ca
from fakes.twilio import TwilioFake

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.entra import GraphDirectory
from ticketpilot.adapters.halopsa import HaloPsaClient
from ticketpilot.adapters.http_retry import RetryPolicy
from ticketpilot.adapters.live import build_live_adapters
from ticketpilot.adapters.mfa_connector import AzureMfaConnector
from ticketpilot.adapters.teams import TeamsWorkflowPoster
from ticketpilot.adapters.twilio_sms import TwilioSmsSender
from ticketpilot.config import Settings
from ticketpilot.gate.classification import ClassificationError, TicketText
from ticketpilot.gate.llm import LlmClassifier

pytest.importorskip("proxy", reason="proxy.py (the [test] extra) runs the forward proxy")

ACCOUNT = "AC" + "0123456789abcdef" * 2
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
BYPASS_VARIABLES = ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")
TICKET = TicketText(
    subject="Locked out",
    body="I'm locked out of my account, please reset my password. Thanks, Alice",
    requester_email="alice@contoso.example",
)


# --- a real forward proxy -------------------------------------------------------------------------------


@dataclass
class ForwardProxy:
    url: str
    log_file: Path

    def access_lines(self) -> list[str]:
        if not self.log_file.exists():
            return []
        return [
            line for line in self.log_file.read_text("utf-8", "replace").splitlines() if "access_log" in line
        ]

    def saw(self, base_url: str) -> bool:
        """Whether a request to ``base_url``'s host:port went through the proxy (tunnelled or forwarded)."""
        host_port = base_url.split("://", 1)[1].split("/", 1)[0]
        return any(f" {host_port}" in line for line in self.access_lines())

    def wait_for(self, base_url: str, timeout_s: float = 20.0) -> bool:
        """proxy.py writes an access line when a client connection closes: poll for it, bounded."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.saw(base_url):
                return True
            time.sleep(0.05)
        return self.saw(base_url)


@pytest.fixture
def forward_proxy(tmp_path: Path) -> Iterator[ForwardProxy]:
    port_file, log_file = tmp_path / "proxy.port", tmp_path / "proxy.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
         "--num-acceptors", "1", "--num-workers", "1", "--log-level", "INFO", "--log-file", str(log_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert proc.poll() is None, "proxy.py exited at start"
            assert time.monotonic() < deadline, "proxy.py did not start within 30 s"
            time.sleep(0.05)
        yield ForwardProxy(f"http://127.0.0.1:{port_file.read_text().strip()}", log_file)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _through(monkeypatch: pytest.MonkeyPatch, proxy: ForwardProxy, no_proxy: str = "") -> None:
    """Point every standard variable at the proxy. NO_PROXY is set deliberately: machines often exclude
    loopback in it, which would make every fake call here skip the proxy."""
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, proxy.url)
    for name in BYPASS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)
        monkeypatch.setenv("no_proxy", no_proxy)


# --- the vendor fakes --------------------------------------------------------------------------------


@dataclass
class Vendors:
    halo: HaloPsaFake
    graph: GraphFake
    mfa: MfaConnectorFake
    teams: TeamsWorkflowFake
    twilio: TwilioFake
    llm: OpenAiFake

    def all(self) -> list[FakeServer]:
        return list(vars(self).values())


def _vendors() -> Vendors:
    return Vendors(
        HaloPsaFake(client_secret="hs", tenant="acme"),
        GraphFake(tenant_id="contoso-tenant", client_secret="gs"),
        MfaConnectorFake(tenant_id="contoso-tenant", client_secret="ms"),
        TeamsWorkflowFake(),
        TwilioFake(account_sid=ACCOUNT, auth_token="tt"),
        OpenAiFake(api_key="sk-test"),
    )


async def _started(vendors: Vendors) -> Vendors:
    for fake in vendors.all():
        await fake.start()
    vendors.halo.add_ticket(7, summary="Locked out", user_email="alice@contoso.example")
    vendors.graph.add_user(
        "alice@contoso.example", mail="alice@contoso.example", phones=[("+44 7700 900123", "mobile")]
    )
    return vendors


async def _stopped(vendors: Vendors) -> None:
    for fake in vendors.all():
        await fake.stop()
        assert fake.spec_errors == []


def _settings(v: Vendors, *, graph_url: str, ca_bundle: str = "") -> Settings:
    return Settings(
        adapters={"mode": "live", "http_timeout_s": 5, "ca_bundle": ca_bundle},
        http={"admin_token": "admin"},
        halopsa={"base_url": v.halo.base_url, "client_id": "halo-client", "client_secret": "hs",
                 "tenant": "acme", "webhook_password": "wp"},
        entra={"tenant_id": "contoso-tenant", "client_id": "graph-app", "client_secret": "gs",
               "authority_url": v.graph.authority_url, "graph_url": graph_url},
        mfa={"enabled": True, "connector_url": v.mfa.connector_url, "token_url": v.mfa.token_url,
             "client_secret": "ms"},
        teams={"workflow_url": v.teams.workflow_url},
        twilio={"account_sid": ACCOUNT, "auth_token": "tt", "from_number": "+15005550006",
                "base_url": v.twilio.base_url},
        llm={"base_url": v.llm.base_url, "api_key": "sk-test", "timeout_s": 5, "max_retries": 0},
    )  # type: ignore[arg-type]  # fmt: skip


async def _every_client_calls_its_vendor(settings: Settings) -> None:
    """One real call through each live client: HaloPSA, Graph (msal token + Graph), MFA, Teams, Twilio, LLM."""
    adapters = build_live_adapters(settings)
    classifier = LlmClassifier(settings.llm, ca_bundle=settings.adapters.ca_bundle)
    try:
        ticket = await adapters.tickets.get_ticket(7)
        user = await adapters.directory.resolve_user(email=ticket.user_email)
        assert await adapters.mfa.push(user.user_principal_name, context_id="exec-1:mfa:1") == "approved"
        await adapters.cards.post_card({"type": "AdaptiveCard", "version": "1.4", "body": []})
        assert user.phone_on_record is not None
        await adapters.sms.send(user.phone_on_record, "hello", idempotency_key="exec-1:sms:1")
        result = await classifier.classify(TICKET)
        assert result.classification.sub_category
    finally:
        await classifier.aclose()
        await adapters.extras["close"]()


# --- proxy ---------------------------------------------------------------------------------------------


@pytest.fixture
async def vendors(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Vendors]:
    started = await _started(_vendors())
    # msal (requests) trusts the Graph fake's self-signed identity endpoint through this variable.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(started.graph.ca_file))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    yield started
    await _stopped(started)


async def test_every_client_goes_through_the_https_proxy(
    vendors: Vendors, forward_proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _through(monkeypatch, forward_proxy)
    await _every_client_calls_its_vendor(_settings(vendors, graph_url=vendors.graph.graph_url))
    endpoints = {
        "halopsa": vendors.halo.base_url,
        "entra token (msal)": vendors.graph.authority_url,
        "graph": vendors.graph.graph_url,
        "mfa connector": vendors.mfa.base_url,
        "teams": vendors.teams.base_url,
        "twilio": vendors.twilio.base_url,
        "openai": vendors.llm.base_url,
    }
    missed = [
        name for name, url in endpoints.items() if not await asyncio.to_thread(forward_proxy.wait_for, url)
    ]
    assert missed == [], f"these clients bypassed HTTPS_PROXY/HTTP_PROXY: {missed}"
    assert any("CONNECT" in line for line in forward_proxy.access_lines()), "HTTPS is tunnelled (msal)"


async def test_no_proxy_sends_those_hosts_direct(
    vendors: Vendors, forward_proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    _through(monkeypatch, forward_proxy, no_proxy="127.0.0.1,localhost")
    await _every_client_calls_its_vendor(_settings(vendors, graph_url=vendors.graph.graph_url))
    # A marker through the proxy: once its line is logged, the lines of every earlier connection are too.
    marker = f"{vendors.teams.base_url}/proxy-marker"
    reader, writer = await asyncio.open_connection(*forward_proxy.url.removeprefix("http://").split(":"))
    writer.write(f"GET {marker} HTTP/1.0\r\nHost: {marker.split('/')[2]}\r\n\r\n".encode())
    await writer.drain()
    assert (await reader.readline()).startswith(b"HTTP/1.")
    writer.close()
    await writer.wait_closed()
    assert await asyncio.to_thread(forward_proxy.wait_for, marker)
    lines = forward_proxy.access_lines()
    assert len(lines) == 1 and "/proxy-marker" in lines[0], lines


# --- private CA --------------------------------------------------------------------------------------


@pytest.fixture
async def tls_vendors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Vendors, Path]]:
    """Every vendor fake on HTTPS with a certificate of a private CA (Graph: its own self-signed one); the
    bundle file holds both, as an MSP's bundle would hold its CAs."""
    for name in (*PROXY_VARIABLES, *BYPASS_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    import certifi

    # The variables that override a requests session's own trust point at the public roots only.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    monkeypatch.setenv("CURL_CA_BUNDLE", certifi.where())
    ca: PrivateCa = await asyncio.to_thread(make_private_ca, tmp_path / "ca")
    vendors = _vendors()
    for fake in vendors.all():
        if fake is not vendors.graph:
            fake.use_tls(ca.server_context())
    await _started(vendors)
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(ca.ca_file.read_bytes() + vendors.graph.ca_file.read_bytes())
    yield vendors, bundle
    await _stopped(vendors)


async def test_ca_bundle_is_trusted_by_every_client(tls_vendors: tuple[Vendors, Path]) -> None:
    vendors, bundle = tls_vendors
    assert all(f.base_url.startswith("https://") for f in vendors.all())
    settings = _settings(vendors, graph_url=vendors.graph.graph_url_tls, ca_bundle=str(bundle))
    await _every_client_calls_its_vendor(settings)
    assert len(vendors.twilio.messages) == 1 and len(vendors.teams.cards) == 1


async def test_without_ca_bundle_the_private_ca_is_refused(tls_vendors: tuple[Vendors, Path]) -> None:
    vendors, _ = tls_vendors
    settings = _settings(vendors, graph_url=vendors.graph.graph_url_tls)
    once = RetryPolicy(max_attempts=1)
    halo = HaloPsaClient(settings.halopsa, http_timeout_s=5, retry=once)
    graph = GraphDirectory(settings.entra, http_timeout_s=5, retry=once)
    mfa = AzureMfaConnector(settings.mfa, settings.entra, http_timeout_s=5, retry=once)
    teams = TeamsWorkflowPoster(settings.teams, http_timeout_s=5, retry=once)
    twilio = TwilioSmsSender(settings.twilio, http_timeout_s=5)
    llm = LlmClassifier(settings.llm)
    calls: dict[str, Any] = {
        "halopsa": lambda: halo.get_ticket(7),
        "graph (msal token)": lambda: graph.resolve_user(email="alice@contoso.example"),
        "mfa connector": lambda: mfa.push("alice@contoso.example", context_id="exec-1:mfa:1"),
        "teams": lambda: teams.post_card({"type": "AdaptiveCard", "version": "1.4", "body": []}),
        "twilio": lambda: twilio.send("+447700900123", "hello", idempotency_key="exec-1:sms:1"),
    }
    try:
        for name, call in calls.items():
            with pytest.raises(AdapterError) as err:
                await call()
            assert "Certificate" in err.value.message or "SSLError" in err.value.message, (name, err.value)
        with pytest.raises(ClassificationError) as llm_err:
            await llm.classify(TICKET)
        assert llm_err.value.reason
    finally:
        for client in (halo, graph, mfa, teams, twilio, llm):
            await client.aclose()
    assert [f.requests for f in vendors.all()] == [[]] * 6, "no request got through the TLS handshake"


async def test_a_netrc_default_entry_changes_no_vendor_call(
    vendors: Vendors, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proxies are read from the environment without aiohttp's ``trust_env``, which would also apply
    ``~/.netrc``: a ``default`` entry there made every call with its own ``Authorization`` header fail."""
    for name in (*PROXY_VARIABLES, *BYPASS_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password not-for-vendors\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    await _every_client_calls_its_vendor(_settings(vendors, graph_url=vendors.graph.graph_url))
    assert len(vendors.graph.requests) > 1 and len(vendors.teams.cards) == 1
