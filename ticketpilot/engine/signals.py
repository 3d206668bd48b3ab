"""Signals to executions (approve, deny, SMS reply, cancel): persisted first, then announced.

``deliver_signal`` inserts into ``execution_signals`` (a duplicate ``dedupe_key`` is ignored) and sends a
``NOTIFY`` in the same transaction; the process that owns the execution hears it through its
:class:`SignalListener` and reads the unconsumed signals. Nothing is lost when nobody listens: pending
signals are read again whenever an execution is recovered or parks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from ticketpilot.database import encode_json
from ticketpilot.engine.model import TERMINAL_STATES
from ticketpilot.engine.store import loads
from ticketpilot.listening import Listener
from ticketpilot.readiness import Readiness

log = structlog.get_logger(__name__)

CHANNEL = "ticketpilot_signals"
RELEASED = "released"
"""The payload that says "executions were given back": every engine listening claims at once."""


class UnknownExecution(LookupError):
    def __init__(self, execution_id: UUID) -> None:
        super().__init__(f"no execution {execution_id}")
        self.execution_id = execution_id

    def __repr__(self) -> str:
        return f"UnknownExecution({self.execution_id!s})"


async def deliver_signal(
    pool: asyncpg.Pool | asyncpg.Connection,
    execution_id: UUID,
    kind: str,
    dedupe_key: str,
    payload: Mapping[str, Any] | None = None,
) -> bool:
    """Persist a signal; True when it was new and the execution is live (False: duplicate or late)."""
    if isinstance(pool, asyncpg.Pool):
        async with pool.acquire() as conn:
            return await _deliver(conn, execution_id, kind, dedupe_key, payload or {})
    return await _deliver(pool, execution_id, kind, dedupe_key, payload or {})


async def _deliver(
    conn: asyncpg.Connection, execution_id: UUID, kind: str, dedupe_key: str, payload: Mapping[str, Any]
) -> bool:
    async with conn.transaction():
        # FOR SHARE: a concurrent terminal checkpoint waits for us, then consumes this signal too.
        state = await conn.fetchval(
            "SELECT state FROM playbook_executions WHERE execution_id = $1 FOR SHARE", execution_id
        )
        if state is None:
            raise UnknownExecution(execution_id)
        signal_id = await conn.fetchval(
            "INSERT INTO execution_signals (execution_id, kind, dedupe_key, payload)"
            " VALUES ($1, $2, $3, $4::text::jsonb) ON CONFLICT (execution_id, dedupe_key) DO NOTHING RETURNING id",
            execution_id,
            kind,
            dedupe_key,
            encode_json(dict(payload), default=str),
        )
        if signal_id is None:
            return False
        if state in TERMINAL_STATES:
            await conn.execute("UPDATE execution_signals SET consumed_at = now() WHERE id = $1", signal_id)
            return False
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(execution_id))
        return True


async def announce_released(pool: asyncpg.Pool) -> None:
    """Tell the other processes that executions were just released (a graceful stop), so that they claim
    them now rather than at their next lease tick."""
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, RELEASED)


async def pending_signals(pool: asyncpg.Pool, execution_ids: Sequence[UUID]) -> list[Any]:
    """Unconsumed signals of ``execution_ids``, oldest first."""
    if not execution_ids:
        return []
    async with pool.acquire() as conn:
        return list(
            await conn.fetch(
                "SELECT id, execution_id, kind, payload FROM execution_signals"
                " WHERE execution_id = ANY($1::uuid[]) AND consumed_at IS NULL ORDER BY id",
                list(execution_ids),
            )
        )


async def pending_for_waiting(pool: asyncpg.Pool, owner: str) -> list[Any]:
    """Backstop for a lost NOTIFY: unconsumed signals of this owner's parked executions."""
    async with pool.acquire() as conn:
        return list(
            await conn.fetch(
                "SELECT s.id, s.execution_id, s.kind, s.payload FROM execution_signals s"
                " JOIN playbook_executions e ON e.execution_id = s.execution_id"
                " WHERE s.consumed_at IS NULL AND e.owner = $1 AND e.state = 'WAITING' ORDER BY s.id",
                owner,
            )
        )


async def consume_signals(pool: asyncpg.Pool, signal_ids: Sequence[int]) -> None:
    if not signal_ids:
        return
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE execution_signals SET consumed_at = now() WHERE id = ANY($1::bigint[]) AND consumed_at IS NULL",
            list(signal_ids),
        )


def signal_payload(row: Mapping[str, Any]) -> dict[str, Any]:
    return dict(loads(row["payload"]) or {})


class SignalListener(Listener):
    """LISTENs for signals; calls ``on_signal(execution_id)`` for every NOTIFY. Re-made after a lost
    connection (see :class:`~ticketpilot.listening.Listener`); ``on_reconnect()`` then lets the engine re-read
    what was signalled meanwhile."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        on_signal: Callable[[UUID], None],
        *,
        on_reconnect: Callable[[], None] | None = None,
        on_released: Callable[[], None] | None = None,
        readiness: Readiness | None = None,
    ) -> None:
        """``on_released()``: another process released executions (see :func:`announce_released`)."""
        super().__init__(
            pool,
            CHANNEL,
            self._payload,
            part="signal_listener",
            on_reconnect=on_reconnect,
            readiness=readiness,
        )
        self._on_signal = on_signal
        self._on_released = on_released

    def _payload(self, payload: str) -> None:
        if payload == RELEASED:
            if self._on_released is not None:
                self._on_released()
            return
        try:
            execution_id = UUID(payload)
        except ValueError:
            log.warning("signal_notify_malformed", payload=payload[:80])
            return
        self._on_signal(execution_id)
