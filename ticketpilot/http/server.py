"""Serving the app on TCP with bounds that slow or numerous clients cannot exhaust.

- **Header timeout** (``[http] header_timeout_s``): a new connection must deliver its first request's line
  and headers within this time, or it is closed. Later requests on a kept-alive connection are bounded by
  the keep-alive timeout (aiohttp closes a connection whose next request is not complete by then).
- **Keep-alive idle timeout** (``[http] keepalive_timeout_s``): an idle connection is closed after this.
- **Connection cap** (``[http] max_connections``): at the cap, a new connection first evicts the oldest one
  that has not yet sent a complete request header (a slow-header client), so health checks and real
  clients still get in; with none to evict it is answered 503 and closed at once — file descriptors are
  never exhausted by one client's connections.
- **Accept errors** (``socket.accept() out of system resource``, logged by asyncio on every retry while the
  process is out of file descriptors) are logged at most once per ``ACCEPT_LOG_INTERVAL_S`` with a count.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web

from ticketpilot.config import HttpConfig
from ticketpilot.metrics import HTTP_CONNECTIONS, HTTP_CONNECTIONS_REFUSED

log = structlog.get_logger(__name__)

ACCEPT_LOG_INTERVAL_S = 10.0
_ACCEPT_ERROR = "socket.accept() out of system resource"
_HEADER_END = b"\r\n\r\n"
_BUSY_BODY = b'{"error": "unavailable", "detail": "too many open connections"}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Retry-After: 1\r\nContent-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


@dataclass
class ConnectionGuard:
    """The open connections of one listening site, and the ones still waiting for their first header."""

    max_connections: int
    header_timeout_s: float
    open: int = 0
    _pending: OrderedDict[GuardedProtocol, None] = field(default_factory=OrderedDict)

    def admit(self, protocol: GuardedProtocol) -> bool:
        """Count ``protocol`` in, evicting the oldest slow-header connection at the cap; False: refuse it."""
        if self.open >= self.max_connections:
            if not self._pending:
                HTTP_CONNECTIONS_REFUSED.inc()
                return False
            oldest, _ = self._pending.popitem(last=False)
            oldest.abort("evicted at the connection cap while still sending its request header")
        self.open += 1
        HTTP_CONNECTIONS.inc()
        self._pending[protocol] = None
        return True

    def header_done(self, protocol: GuardedProtocol) -> None:
        self._pending.pop(protocol, None)

    def closed(self, protocol: GuardedProtocol) -> None:
        self._pending.pop(protocol, None)
        self.open -= 1
        HTTP_CONNECTIONS.dec()


class GuardedProtocol(asyncio.Protocol):
    """aiohttp's request handler for one connection, behind the guard's admission and header timeout."""

    def __init__(self, handler: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self._handler = handler
        self._guard = guard
        self._transport: asyncio.Transport | None = None
        self._admitted = False
        self._header_seen = False
        self._tail = b""
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if not self._guard.admit(self):
            transport.write(_BUSY)
            transport.close()
            return
        self._admitted = True
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._guard.header_timeout_s, self._header_timed_out)
        self._handler.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self._admitted:
            return
        if not self._header_seen:
            if _HEADER_END in self._tail + data:
                self._header_complete()
            else:
                self._tail = (self._tail + data)[-3:]
        self._handler.data_received(data)

    def eof_received(self) -> bool | None:
        return self._handler.eof_received() if self._admitted else None

    def pause_writing(self) -> None:
        if self._admitted:
            self._handler.pause_writing()

    def resume_writing(self) -> None:
        if self._admitted:
            self._handler.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._admitted:
            return
        self._admitted = False
        self._cancel_timer()
        self._guard.closed(self)
        self._handler.connection_lost(exc)

    def abort(self, why: str) -> None:
        """Close the connection now (its handler is told through ``connection_lost``)."""
        self._cancel_timer()
        if self._transport is not None and not self._transport.is_closing():
            log.info("http_connection_closed", reason=why, peer=_peer(self._transport))
            self._transport.abort()

    def _header_complete(self) -> None:
        self._header_seen = True
        self._tail = b""
        self._cancel_timer()
        self._guard.header_done(self)

    def _header_timed_out(self) -> None:
        self._timer = None
        if not self._header_seen:
            self.abort(f"no complete request header within {self._guard.header_timeout_s:g}s")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _peer(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else "?"


class GuardedTCPSite(web.BaseSite):
    """A TCP site whose connections go through a :class:`ConnectionGuard`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self.guard = guard

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        sockets = getattr(self._server, "sockets", None)  # an asyncio.Server once started
        if sockets:
            return int(sockets[0].getsockname()[1])
        return self._port

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        guard = self.guard
        self._server = await asyncio.get_running_loop().create_server(
            lambda: GuardedProtocol(server(), guard), self._host, self._port, backlog=self._backlog
        )


async def start_http(app: web.Application, http: HttpConfig) -> tuple[web.AppRunner, GuardedTCPSite]:
    """Serve ``app`` on ``http.host``/``http.port`` with the bounds above; ``runner.cleanup()`` stops it."""
    install_accept_error_limiter(asyncio.get_running_loop())
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=5.0, keepalive_timeout=http.keepalive_timeout_s
    )
    await runner.setup()
    guard = ConnectionGuard(max_connections=http.max_connections, header_timeout_s=http.header_timeout_s)
    site = GuardedTCPSite(runner, http.host, http.port, guard)
    await site.start()
    return runner, site


@dataclass
class AcceptErrorLimiter:
    """A loop exception handler that logs asyncio's accept errors at most once per ``interval_s``."""

    previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None
    interval_s: float = ACCEPT_LOG_INTERVAL_S
    clock: Callable[[], float] = time.monotonic
    _last: float | None = None
    _suppressed: int = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not str(context.get("message", "")).startswith(_ACCEPT_ERROR):
            if self.previous is not None:
                self.previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        now = self.clock()
        if self._last is not None and now - self._last < self.interval_s:
            self._suppressed += 1
            return
        exc = context.get("exception")
        log.error(
            "http_accept_failed",
            error=f"{type(exc).__name__}: {exc}" if exc is not None else _ACCEPT_ERROR,
            suppressed_since_last=self._suppressed,
            hint="out of file descriptors or memory: lower http.max_connections or raise the open-file limit",
        )
        self._last = now
        self._suppressed = 0


def install_accept_error_limiter(loop: asyncio.AbstractEventLoop) -> AcceptErrorLimiter:
    """Route ``loop``'s exception handler through an :class:`AcceptErrorLimiter` (once per loop)."""
    current = loop.get_exception_handler()
    if isinstance(current, AcceptErrorLimiter):
        return current
    limiter = AcceptErrorLimiter(previous=current)
    loop.set_exception_handler(limiter)
    return limiter
