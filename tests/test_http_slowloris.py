"""Slow and numerous clients cannot hold the service (issue 10, item 7), on the real served app over
loopback: header and keep-alive timeouts close slow connections, a connection cap keeps file descriptors in
reserve (a slow-header connection is evicted for a new one; 503 when none can be), and asyncio's accept
errors are logged at a bounded rate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from service_support import BEARER, running_service
from structlog.testing import capture_logs

from ticketpilot.http.app import build_app
from ticketpilot.http.server import AcceptErrorLimiter, GuardedTCPSite, start_http
from ticketpilot.metrics import REGISTRY

WITHIN_S = 20.0  # generous: the bound under test is far smaller; a loaded machine must not fail it


@pytest.fixture
async def site(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[GuardedTCPSite]:
    limits = getattr(request, "param", {})
    http = {"header_timeout_s": 0.5, "keepalive_timeout_s": 1.0, "max_connections": 8, **limits}
    async with running_service(db_url, tmp_path, http=http) as svc:
        served = svc.services.settings.http.model_copy(update={"port": 0})
        runner, guarded = await start_http(build_app(svc.services), served)
        try:
            yield guarded
        finally:
            await runner.cleanup()


async def _closed_by_server(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, trickle: bool
) -> bool:
    """Keep the connection busy like a slowloris client (one header line at a time) until the server
    closes it or ``WITHIN_S`` passes; True when the server closed it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN_S
    while loop.time() < deadline:
        try:
            if trickle:
                writer.write(b"X-Slow: 1\r\n")
                await writer.drain()
            data = await asyncio.wait_for(reader.read(65536), timeout=0.2)
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
        if data == b"":
            return True
    return False


async def _slow_connection(site: GuardedTCPSite) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    await writer.drain()
    return reader, writer


async def _wait_for(condition: object, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WITHIN_S
    while not condition():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError(f"not within {WITHIN_S}s: {what}")
        await asyncio.sleep(0.02)


def _open_gauge() -> float:
    return REGISTRY.get_sample_value("ticketpilot_http_connections_open") or 0.0


async def test_a_client_trickling_header_lines_is_disconnected(site: GuardedTCPSite) -> None:
    reader, writer = await _slow_connection(site)
    try:
        assert await _closed_by_server(reader, writer, trickle=True)
    finally:
        writer.close()
    await _wait_for(lambda: site.guard.open == 0, "the connection is no longer counted")


async def test_an_idle_kept_alive_connection_is_closed(site: GuardedTCPSite) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WITHIN_S)
        assert head.startswith(b"HTTP/1.1 200")
        assert await _closed_by_server(reader, writer, trickle=False)
    finally:
        writer.close()


@pytest.mark.parametrize("site", [{"header_timeout_s": 60.0, "keepalive_timeout_s": 60.0}], indirect=True)
async def test_at_the_cap_slow_connections_make_room_and_busy_ones_get_503(site: GuardedTCPSite) -> None:
    slow = [await _slow_connection(site) for _ in range(8)]
    busy: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        await _wait_for(lambda: site.guard.open == 8, "eight connections are open")
        assert _open_gauge() >= 8
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{site.port}/healthz") as resp:
                assert resp.status == 200  # the cap does not shut out health checks ...
        reader, writer = slow[0]
        assert await _closed_by_server(reader, writer, trickle=False)  # ... the oldest slow one made room

        # Connections that have sent a whole header (a request waiting for its body) are not evicted.
        for _ in range(8):
            reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
            auth = BEARER["Authorization"].encode()
            writer.write(
                b"POST /api/v1/classify_ticket HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth + b"\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            await writer.drain()
            busy.append((reader, writer))
        await _wait_for(lambda: site.guard.open == 8 and not site.guard._pending, "eight busy connections")
        reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
        try:
            answer = await asyncio.wait_for(reader.read(), WITHIN_S)
        finally:
            writer.close()
        assert answer.startswith(b"HTTP/1.1 503") and b'"error": "unavailable"' in answer
        refused = REGISTRY.get_sample_value("ticketpilot_http_connections_refused_total")
        assert refused is not None and refused >= 1
    finally:
        for _reader, writer in slow + busy:
            writer.close()
    await _wait_for(lambda: site.guard.open == 0, "every connection is released")


def test_accept_errors_are_logged_at_a_bounded_rate() -> None:
    now = [0.0]
    passed: list[str] = []
    limiter = AcceptErrorLimiter(
        previous=lambda _loop, ctx: passed.append(ctx["message"]), clock=lambda: now[0]
    )
    loop = asyncio.new_event_loop()
    try:
        context = {"message": "socket.accept() out of system resource", "exception": OSError(24, "Too many")}
        with capture_logs() as logs:
            for _ in range(10_000):
                limiter(loop, dict(context))
            now[0] = 11.0
            limiter(loop, dict(context))
            limiter(loop, {"message": "something else"})
    finally:
        loop.close()
    lines = [e for e in logs if e["event"] == "http_accept_failed"]
    assert [e["suppressed_since_last"] for e in lines] == [0, 9_999]
    assert passed == ["something else"]  # other loop errors go to the handler that was there before
