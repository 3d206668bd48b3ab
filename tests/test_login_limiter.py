"""The dashboard login limiter behind a reverse proxy (issue 10, item 8).

Forwarded addresses count only when the connection comes from a configured trusted proxy
(``[http] trusted_proxies``); failures are limited per client address and per account name, so one client's
wrong guesses behind a proxy no longer lock every user out, and a spoofed ``X-Forwarded-For`` from an
untrusted peer changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from service_support import ADMIN_TOKEN, running_service

from ticketpilot.config import load_settings
from ticketpilot.http.client_address import client_address_from
from ticketpilot.http.dashboard_auth import LoginLimiter, dashboard_state


async def _login(client: Any, secret: str, forwarded: str | None = None, **form: str) -> int:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    resp = await client.post(
        "/login", data={"secret": secret, **form}, headers=headers, allow_redirects=False
    )
    return int(resp.status)


async def test_behind_a_trusted_proxy_one_client_is_limited_not_everyone(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path, http={"trusted_proxies": ["127.0.0.1/32"]}) as svc:
        for _ in range(10):
            assert await _login(svc.client, "wrong", "198.51.100.7, 203.0.113.5") == 401
        assert await _login(svc.client, ADMIN_TOKEN, "203.0.113.5") == 429  # that client is held off
        # Another user behind the same proxy still gets in; the guesser cannot dodge by forging the
        # left-hand part of the header (the proxy appends the real address on the right).
        assert await _login(svc.client, ADMIN_TOKEN, "203.0.113.6") == 303
        assert await _login(svc.client, ADMIN_TOKEN, "10.9.9.9, 203.0.113.5") == 429


async def test_forwarded_addresses_from_an_untrusted_peer_are_ignored(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:  # default: no trusted proxies
        for i in range(10):
            assert await _login(svc.client, "wrong", f"203.0.113.{i}") == 401
        assert await _login(svc.client, ADMIN_TOKEN, "203.0.113.200") == 429  # the peer itself is limited


async def test_an_account_name_is_limited_across_addresses(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path, http={"trusted_proxies": ["127.0.0.0/8"]}) as svc:
        dashboard_state(svc.services).limiter.max_account_failures = 3
        for i in range(1, 4):  # a distributed guess at one account: each address fails once
            assert await _login(svc.client, "wrong", f"203.0.113.{i}", username=" Admin") == 401
        assert await _login(svc.client, ADMIN_TOKEN, "203.0.113.50", username="admin") == 429
        assert await _login(svc.client, ADMIN_TOKEN, "203.0.113.50") == 429  # the default account is "admin"
        assert await _login(svc.client, ADMIN_TOKEN, "203.0.113.50", username="ops") == 303


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("10.0.0.2", "203.0.113.5", [], "10.0.0.2"),
        ("10.0.0.2", "203.0.113.5", ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.2", "1.1.1.1, 203.0.113.5", ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.2", "203.0.113.5, 10.0.0.9", ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.2", "10.0.0.7, 10.0.0.9", ["10.0.0.0/8"], "10.0.0.7"),
        ("10.0.0.2", "garbage, 203.0.113.5", ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.2", "203.0.113.5, garbage", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
        ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
        ("192.0.2.1", "203.0.113.5", ["10.0.0.0/8"], "192.0.2.1"),
    ],
)
def test_the_client_address_is_the_rightmost_untrusted_hop(
    peer: str, forwarded: str, trusted: list[str], expected: str
) -> None:
    settings = load_settings(None, http={"trusted_proxies": trusted})
    assert (
        client_address_from(peer, [forwarded] if forwarded else [], settings.http.trusted_networks)
        == expected
    )


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    with pytest.raises(Exception, match="trusted_proxies"):
        load_settings(None, http={"trusted_proxies": ["not-an-address"]})


def test_limiter_counts_clients_and_accounts_apart() -> None:
    now = [0.0]
    limiter = LoginLimiter(max_failures=3, max_account_failures=5, window_s=60.0, clock=lambda: now[0])
    for _ in range(3):
        limiter.failed("10.0.0.1", "admin")
    assert limiter.blocked("10.0.0.1", "other") and not limiter.blocked("10.0.0.2", "other")
    limiter.failed("10.0.0.3", "admin")
    limiter.failed("10.0.0.4", "admin")
    assert limiter.blocked("10.0.0.5", "admin")
    now[0] = 61.0
    assert not limiter.blocked("10.0.0.1", "admin")
