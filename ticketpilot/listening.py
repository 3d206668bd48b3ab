"""A LISTEN connection that outlives its connection: PostgreSQL ``NOTIFY`` for the engine and the registry.

A lost connection (a restart, a failover, a terminated backend) is noticed at once through asyncpg's
termination callback and re-made in the background with :class:`~ticketpilot.readiness.Backoff`. Once it
listens again, ``on_reconnect()`` runs: notifications sent meanwhile are gone, so the owner re-reads what
they would have told it. ``readiness`` (optional) hears about the outage and the recovery.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog

from ticketpilot.database import release_quietly
from ticketpilot.readiness import Backoff, Readiness

log = structlog.get_logger(__name__)


class Listener:
    """Holds one pooled connection that LISTENs on ``channel``; ``on_notify(payload)`` for every NOTIFY."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        channel: str,
        on_notify: Callable[[str], None],
        *,
        part: str,
        on_reconnect: Callable[[], None] | None = None,
        readiness: Readiness | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._pool = pool
        self._channel = channel
        self._on_notify = on_notify
        self._part = part
        self._on_reconnect = on_reconnect
        self._readiness = readiness
        self._backoff = backoff or Backoff()
        self._conn: Any = None
        self._stopped = True
        self._reconnecting: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channel={self._channel!r}, connected={self.connected})"

    @property
    def connected(self) -> bool:
        conn = self._conn
        if conn is None:
            return False
        try:
            return not conn.is_closed()
        except asyncpg.InterfaceError:  # the pool detached it: the connection was lost
            return False

    async def start(self) -> None:
        self._stopped = False
        await self._listen()

    async def ensure(self) -> None:
        """Re-make the connection now if it is gone (a no-op while connected or stopped); raises if the
        database cannot be reached."""
        async with self._lock:  # the reconnect task and a periodic caller must not both re-make it
            if self.connected or self._stopped:
                return
            await self._drop_connection()
            await self._listen()
        log.info("listener_reconnected", channel=self._channel)
        if self._readiness is not None:
            self._readiness.recovered(self._part)
        if self._on_reconnect is not None:
            self._on_reconnect()

    async def stop(self) -> None:
        """Stop listening and give the connection back; idempotent, never raises for a lost connection."""
        self._stopped = True
        task, self._reconnecting = self._reconnecting, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._drop_connection()

    async def _listen(self) -> None:
        conn = await self._pool.acquire()
        try:
            await conn.add_listener(self._channel, self._notified)
            conn.add_termination_listener(self._lost)
        except BaseException:
            await release_quietly(self._pool, conn)
            raise
        self._conn = conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):  # a lost connection is detached: any call on it raises
            conn.remove_termination_listener(self._lost)
            if not conn.is_closed():
                await conn.remove_listener(self._channel, self._notified)
        await asyncio.shield(release_quietly(self._pool, conn))

    def _lost(self, _conn: Any) -> None:
        if self._stopped or (self._reconnecting is not None and not self._reconnecting.done()):
            return
        log.warning("listener_lost", channel=self._channel)
        if self._readiness is not None:
            self._readiness.failing(self._part, "LISTEN connection lost")
        self._reconnecting = asyncio.get_running_loop().create_task(
            self._reconnect(), name=f"listener-{self._channel}"
        )

    async def _reconnect(self) -> None:
        while not self._stopped:
            try:
                await self.ensure()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._readiness is not None:
                    self._readiness.failing(self._part, exc)
                await asyncio.sleep(self._backoff.next_delay())
                continue
            self._backoff.reset()
            return

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._on_notify(payload)
