"""PostgreSQL persistence of executions: one transaction writes a whole batch of transitions.

Each transition is fenced: the execution row is updated only ``WHERE epoch = <the writer's epoch> AND
seq = <the seq it read>``. A writer that lost its lease (another process claimed the execution and bumped
the epoch) updates 0 rows and none of its step or outbox rows are written; ``playbook_step_executions``'
primary key (execution_id, seq) stops a double write even if fencing were bypassed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from ticketpilot.database import encode_json
from ticketpilot.engine.model import Checkpoint, ExecutionState, Phase, Status

EXECUTION_COLUMNS = (
    "execution_id, ticket_id, playbook_id, playbook_hash, playbook_version, state, current_step, attempt, "
    "tries, step_phase, seq, context, deadline, step_started_at, step_deadline, wake_at, awaiting, "
    "resume_event, escalation_reason, cancel_reason, failed_step, last_error, owner, epoch"
)

_WRITE = """
WITH created AS (
    INSERT INTO playbook_executions (execution_id, ticket_id, playbook_id, playbook_hash, playbook_version,
        state, current_step, attempt, tries, step_phase, seq, context, deadline, step_started_at,
        step_deadline, awaiting, idempotency_key, owner, lease_until, epoch)
    SELECT c.execution_id, c.ticket_id, c.playbook_id, c.playbook_hash, c.playbook_version, c.state,
        c.current_step, c.attempt, c.tries, c.phase, 0, c.context::jsonb, c.deadline, c.step_started_at,
        c.step_deadline, '[]'::jsonb, c.idempotency_key, $1, now() + make_interval(secs => $2), 1
    FROM unnest($3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
        $10::int[], $11::int[], $12::text[], $13::text[], $14::timestamptz[], $15::timestamptz[],
        $16::timestamptz[], $17::text[])
        AS c(execution_id, ticket_id, playbook_id, playbook_hash, playbook_version, state, current_step,
             attempt, tries, phase, context, deadline, step_started_at, step_deadline, idempotency_key)
    ON CONFLICT (ticket_id, playbook_id) DO NOTHING
    RETURNING execution_id
),
applied AS (
    UPDATE playbook_executions AS e SET
        state = u.state, current_step = u.current_step, attempt = u.attempt, tries = u.tries,
        step_phase = u.phase, seq = u.seq, context = u.context::jsonb, deadline = u.deadline,
        step_started_at = u.step_started_at, step_deadline = u.step_deadline, wake_at = u.wake_at,
        awaiting = u.awaiting::jsonb, resume_event = u.resume_event::jsonb,
        escalation_reason = u.escalation_reason, cancel_reason = u.cancel_reason,
        failed_step = u.failed_step, last_error = u.last_error,
        finished_at = CASE WHEN u.state IN ('RUNNING', 'WAITING') THEN NULL ELSE u.now END,
        owner = CASE WHEN u.state IN ('RUNNING', 'WAITING') THEN e.owner END,
        lease_until = CASE WHEN u.state IN ('RUNNING', 'WAITING') THEN e.lease_until END,
        updated_at = now()
    FROM unnest($18::uuid[], $19::bigint[], $20::int[], $21::text[], $22::text[], $23::int[], $24::int[],
        $25::text[], $26::int[], $27::text[], $28::timestamptz[], $29::timestamptz[], $30::timestamptz[],
        $31::timestamptz[], $32::text[], $33::text[], $34::text[], $35::text[], $36::text[], $37::text[],
        $38::timestamptz[])
        AS u(execution_id, epoch, prev_seq, state, current_step, attempt, tries, phase, seq, context,
             deadline, step_started_at, step_deadline, wake_at, awaiting, resume_event, escalation_reason,
             cancel_reason, failed_step, last_error, now)
    WHERE e.execution_id = u.execution_id AND e.epoch = u.epoch AND e.seq = u.prev_seq
    RETURNING e.execution_id, e.state
),
step_rows AS (
    INSERT INTO playbook_step_executions (execution_id, seq, step_id, service, attempt, outcome, error,
        detail, started_at, finished_at)
    SELECT r.execution_id, r.seq, r.step_id, r.service, r.attempt, r.outcome, r.error, r.detail::jsonb,
        r.started_at, r.finished_at
    FROM unnest($39::uuid[], $40::int[], $41::text[], $42::text[], $43::int[], $44::text[], $45::text[],
        $46::text[], $47::timestamptz[], $48::timestamptz[])
        AS r(execution_id, seq, step_id, service, attempt, outcome, error, detail, started_at, finished_at)
    JOIN applied a ON a.execution_id = r.execution_id
),
outbox_rows AS (
    INSERT INTO outbox (kind, ticket_id, payload, dedupe_key)
    SELECT o.kind, o.ticket_id, o.payload::jsonb, o.dedupe_key
    FROM unnest($49::uuid[], $50::text[], $51::bigint[], $52::text[], $53::text[])
        AS o(execution_id, kind, ticket_id, payload, dedupe_key)
    JOIN applied a ON a.execution_id = o.execution_id
    ON CONFLICT (dedupe_key) DO NOTHING
),
consumed AS (
    UPDATE execution_signals g SET consumed_at = now()
    FROM applied a
    WHERE g.execution_id = a.execution_id AND g.consumed_at IS NULL
      AND (a.state NOT IN ('RUNNING', 'WAITING') OR g.id = ANY($54::bigint[]))
)
SELECT true AS created, execution_id FROM created
UNION ALL
SELECT false, execution_id FROM applied
"""
"""Every write of a batch in ONE statement (so one transaction even without an explicit one, and one round
trip): new executions, fenced checkpoints with their step rows, outbox rows and consumed signals. Typed
arrays (binary-encoded by asyncpg) rather than JSON documents: cheaper to build here and to read there."""

_EXISTING = """
SELECT e.execution_id, e.ticket_id, e.playbook_id FROM playbook_executions e
JOIN unnest($1::bigint[], $2::text[]) AS u(ticket_id, playbook_id)
  ON e.ticket_id = u.ticket_id AND e.playbook_id = u.playbook_id
"""


@dataclass(frozen=True, slots=True)
class PendingCreate:
    state: ExecutionState
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class PendingCheckpoint:
    checkpoint: Checkpoint
    epoch: int


@dataclass(frozen=True, slots=True)
class CreateResult:
    execution_id: UUID
    created: bool


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset | set | tuple):
        return sorted(value) if isinstance(value, frozenset | set) else list(value)
    return str(value)


_ENCODE = json.JSONEncoder(separators=(",", ":"), default=_json_default).encode


def dumps(value: Any) -> str:
    """Compact JSON; datetimes as ISO 8601 (PostgreSQL reads them back as timestamptz), UUIDs as text."""
    if not value and isinstance(value, Mapping):
        return "{}"
    text = _ENCODE(value)
    if "\\u0000" in text:  # rare: let the shared encoder replace the NUL characters jsonb cannot hold
        text = encode_json(value, separators=(",", ":"), default=_json_default)
    return text


def loads(value: Any) -> Any:
    """jsonb as decoded by the pool's codec, or as text on a plain connection."""
    return json.loads(value) if isinstance(value, str) else value


def _awaiting(signals: frozenset[str]) -> str:
    return dumps(sorted(signals)) if signals else "[]"


async def write_batch(
    conn: asyncpg.Connection,
    creates: Sequence[PendingCreate],
    checkpoints: Sequence[PendingCheckpoint],
    *,
    owner: str,
    lease_s: float,
) -> tuple[list[CreateResult], set[UUID]]:
    """Insert new executions and apply checkpoints, all in one statement (one transaction by itself, or
    part of the caller's).

    Returns the create results (in order) and the ids whose checkpoint was applied; a checkpoint missing
    from that set was fenced out (stale epoch or seq) and wrote nothing.
    """
    rows = await conn.fetch(
        _WRITE, owner, lease_s, *_create_columns(creates), *_checkpoint_columns(checkpoints)
    )
    inserted: set[UUID] = set()
    applied: set[UUID] = set()
    for row in rows:
        (inserted if row[0] else applied).add(row[1])
    results: list[CreateResult] = []
    if creates:
        results = await _create_results(conn, creates, inserted)
    return results, applied


def _create_columns(creates: Sequence[PendingCreate]) -> list[Sequence[Any]]:
    if not creates:
        return [()] * 15
    rows = []
    for c in creates:
        x = c.state
        rows.append(
            (
                x.execution_id,
                x.ticket_id,
                x.playbook_id,
                x.playbook_hash,
                x.playbook_version,
                x.status.value,
                x.current_step,
                x.attempt,
                x.tries,
                x.phase.value,
                dumps(x.context),
                x.deadline,
                x.step_started_at,
                x.step_deadline,
                c.idempotency_key,
            )
        )
    return list(zip(*rows, strict=True))


def _checkpoint_columns(items: Sequence[PendingCheckpoint]) -> list[Sequence[Any]]:
    """The columns of ``applied``, ``step_rows``, ``outbox_rows`` and ``consumed``, in parameter order."""
    updates: list[tuple[Any, ...]] = []
    steps: list[tuple[Any, ...]] = []
    outbox: list[tuple[Any, ...]] = []
    consume: list[int] = []
    for item in items:
        cp = item.checkpoint
        x = cp.state
        eid = x.execution_id
        updates.append(
            (
                eid,
                item.epoch,
                cp.prev_seq,
                x.status.value,
                x.current_step,
                x.attempt,
                x.tries,
                x.phase.value,
                x.seq,
                dumps(x.context),
                x.deadline,
                x.step_started_at,
                x.step_deadline,
                x.wake_at,
                _awaiting(x.awaiting),
                None if x.resume_event is None else dumps(x.resume_event),
                x.escalation_reason,
                x.cancel_reason,
                x.failed_step,
                x.last_error,
                _finished_at(cp),
            )
        )
        for r in cp.steps:
            steps.append(
                (
                    eid,
                    r.seq,
                    r.step_id,
                    r.service,
                    r.attempt,
                    r.outcome,
                    r.error,
                    dumps(r.detail),
                    r.started_at,
                    r.finished_at,
                )
            )
        for o in cp.outbox:
            outbox.append((eid, o.kind, o.ticket_id, dumps(o.payload), o.dedupe_key))
        if cp.consume:
            consume.extend(cp.consume)
    return [
        *(list(zip(*updates, strict=True)) if updates else [()] * 21),
        *(list(zip(*steps, strict=True)) if steps else [()] * 10),
        *(list(zip(*outbox, strict=True)) if outbox else [()] * 5),
        consume,
    ]


async def _create_results(
    conn: asyncpg.Connection, creates: Sequence[PendingCreate], inserted: set[UUID]
) -> list[CreateResult]:
    s = [c.state for c in creates]
    existing: dict[tuple[int, str], UUID] = {}
    if len(inserted) < len(s):
        # Lost to an existing execution of the same ticket and playbook (committed before ours, or
        # earlier in this batch): read which one.
        missing = [x for x in s if x.execution_id not in inserted]
        found = await conn.fetch(_EXISTING, [x.ticket_id for x in missing], [x.playbook_id for x in missing])
        existing = {(r["ticket_id"], r["playbook_id"]): r["execution_id"] for r in found}
    return [
        CreateResult(x.execution_id, True)
        if x.execution_id in inserted
        else CreateResult(existing[(x.ticket_id, x.playbook_id)], False)
        for x in s
    ]


def _finished_at(checkpoint: Checkpoint) -> datetime | None:
    if checkpoint.steps:
        return checkpoint.steps[-1].finished_at
    return checkpoint.state.step_started_at


def state_from_row(row: Mapping[str, Any]) -> ExecutionState:
    """An :class:`ExecutionState` from a ``playbook_executions`` row (``SELECT`` of EXECUTION_COLUMNS)."""
    resume = loads(row["resume_event"])
    return ExecutionState(
        execution_id=row["execution_id"],
        ticket_id=row["ticket_id"],
        playbook_id=row["playbook_id"],
        playbook_hash=row["playbook_hash"],
        playbook_version=row["playbook_version"],
        status=Status(row["state"]),
        current_step=row["current_step"],
        phase=Phase(row["step_phase"]) if row["step_phase"] in Phase._value2member_map_ else Phase.PENDING,
        attempt=row["attempt"],
        tries=row["tries"],
        seq=row["seq"],
        context=loads(row["context"]) or {},
        step_started_at=row["step_started_at"],
        step_deadline=row["step_deadline"],
        wake_at=row["wake_at"],
        deadline=row["deadline"],
        awaiting=frozenset(loads(row["awaiting"]) or ()),
        resume_event=resume if resume else None,
        escalation_reason=row["escalation_reason"],
        cancel_reason=row["cancel_reason"],
        failed_step=row["failed_step"],
        last_error=row["last_error"],
    )


async def fetch_execution_row(conn: asyncpg.Connection | asyncpg.Pool, execution_id: UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {EXECUTION_COLUMNS}, created_at, finished_at FROM playbook_executions WHERE execution_id = $1",
        execution_id,
    )


async def describe_execution(
    conn: asyncpg.Connection | asyncpg.Pool, row: Mapping[str, Any]
) -> dict[str, Any]:
    """The public view of an execution: its state and every step row. Never a secret (none is stored)."""
    steps = await conn.fetch(
        "SELECT seq, step_id, service, attempt, outcome, error, started_at, finished_at, detail"
        " FROM playbook_step_executions WHERE execution_id = $1 ORDER BY seq",
        row["execution_id"],
    )
    return {
        "execution_id": row["execution_id"],
        "ticket_id": row["ticket_id"],
        "playbook_id": row["playbook_id"],
        "playbook_version": row["playbook_version"],
        "playbook_hash": row["playbook_hash"],
        "state": row["state"],
        "current_step": row["current_step"],
        "step_phase": row["step_phase"],
        "attempt": row["attempt"],
        "deadline": row["deadline"],
        "escalation_reason": row["escalation_reason"],
        "cancel_reason": row["cancel_reason"],
        "created_at": row["created_at"],
        "finished_at": row["finished_at"],
        "steps": [{**dict(s), "detail": loads(s["detail"]) or {}} for s in steps],
    }


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
