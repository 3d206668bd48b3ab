"""Handing a ticket back when its decided execution cannot start.

An ``automated`` decision is committed (and its write-back queued) before the execution starts
(invariant 1). If the start then fails for a reason that retrying cannot fix (a definition the engine
cannot run, a decided version no longer active), the ticket must not stay claimed with nothing running:
the decision becomes ``manual`` with an ``execution_not_started`` blocker naming the reason, and HaloPSA is
told through the outbox (custom fields and a private note, after the "automated" ones). A failure that
may pass (the database or the network away) is left to the caller's durable retry instead.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import asyncpg
import structlog

from ticketpilot.gate.blockers import Blocker, BlockerName
from ticketpilot.gate.outbox import enqueue
from ticketpilot.gate.record import DecisionRecord
from ticketpilot.gate.writeback import decision_messages
from ticketpilot.metrics import BLOCKERS

log = structlog.get_logger(__name__)

_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError and socket errors included
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)


def start_may_succeed_later(exc: BaseException) -> bool:
    """Whether a failed start is worth retrying (infrastructure trouble), rather than handing back."""
    return isinstance(exc, _TRANSIENT)


def not_started_reason(exc: BaseException) -> str:
    """The blocker detail for a start that raised ``exc`` (no secret can be in it: the engine has none yet)."""
    return f"the playbook's execution could not be started ({type(exc).__name__}: {exc})"[:500]


async def unclaim(pool: asyncpg.Pool, record: DecisionRecord, reason: str, now: datetime) -> DecisionRecord:
    """Turn the stored ``automated`` decision ``record`` manual, with ``reason``, and queue its write-back.

    Idempotent: a decision already handed back (by this or another process), or whose execution another
    process did start meanwhile, is returned as stored.
    """
    assert record.decision_id is not None and record.ticket_id is not None
    blocker = Blocker(BlockerName.EXECUTION_NOT_STARTED, reason)
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "UPDATE classification_results cr"
            " SET outcome = 'manual', blockers = cr.blockers || $2::text::jsonb"
            " WHERE cr.id = $1 AND cr.outcome = 'automated' AND NOT EXISTS ("
            "   SELECT 1 FROM playbook_executions e"
            "    WHERE e.ticket_id = cr.ticket_id AND e.playbook_id = cr.playbook_id)"  # started after all
            " RETURNING *",
            record.decision_id,
            json.dumps([blocker.as_dict()]),
        )
        if row is None:
            stored = await conn.fetchrow(
                "SELECT * FROM classification_results WHERE id = $1", record.decision_id
            )
            assert stored is not None
            return DecisionRecord.from_row(stored)
        handed_back = DecisionRecord.from_row(row)
        # The same write-back as any manual decision, queued under keys of its own (the "automated"
        # write-back of this decision holds the plain ones).
        messages = [
            replace(m, dedupe_key=f"{m.dedupe_key}:not_started") for m in decision_messages(handed_back)
        ]
        await enqueue(
            conn,
            messages,
            now=now,
        )
    BLOCKERS.labels(BlockerName.EXECUTION_NOT_STARTED.value).inc()
    log.error(
        "execution_not_started",
        ticket_id=record.ticket_id,
        decision_id=record.decision_id,
        playbook=record.playbook_id,
        reason=reason,
    )
    return handed_back
