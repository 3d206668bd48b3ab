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

_CREATE = """
INSERT INTO playbook_executions (execution_id, ticket_id, playbook_id, playbook_hash, playbook_version, state,
    current_step, attempt, tries, step_phase, seq, context, deadline, step_started_at, step_deadline, awaiting,
    idempotency_key, owner, lease_until, epoch)
SELECT u.execution_id, u.ticket_id, u.playbook_id, u.playbook_hash, u.playbook_version, u.state,
    u.current_step, u.attempt, u.tries, u.phase, 0, u.context::jsonb, u.deadline, u.step_started_at,
    u.step_deadline, '[]'::jsonb, u.idempotency_key, $14, now() + make_interval(secs => $15), 1
FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[],
    $9::int[], $10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[], $16::timestamptz[],
    $17::text[])
    AS u(execution_id, ticket_id, playbook_id, playbook_hash, playbook_version, state, current_step, attempt,
         tries, phase, context, deadline, step_started_at, step_deadline, idempotency_key)
ON CONFLICT (ticket_id, playbook_id) DO NOTHING
RETURNING execution_id
"""

_EXISTING = """
SELECT e.execution_id, e.ticket_id, e.playbook_id FROM playbook_executions e
JOIN unnest($1::bigint[], $2::text[]) AS u(ticket_id, playbook_id)
  ON e.ticket_id = u.ticket_id AND e.playbook_id = u.playbook_id
"""

_CHECKPOINT = """
WITH u AS (
    SELECT * FROM jsonb_to_recordset($1::text::jsonb) AS u(
        execution_id uuid, epoch bigint, prev_seq int, state text, current_step text, attempt int, tries int,
        phase text, seq int, context jsonb, deadline timestamptz, step_started_at timestamptz,
        step_deadline timestamptz, wake_at timestamptz, awaiting jsonb, resume_event jsonb,
        escalation_reason text, cancel_reason text, failed_step text, last_error text, now timestamptz)
),
applied AS (
    UPDATE playbook_executions AS e SET
        state = u.state, current_step = u.current_step, attempt = u.attempt, tries = u.tries,
        step_phase = u.phase, seq = u.seq, context = u.context, deadline = u.deadline,
        step_started_at = u.step_started_at, step_deadline = u.step_deadline, wake_at = u.wake_at,
        awaiting = u.awaiting, resume_event = u.resume_event,
        escalation_reason = u.escalation_reason, cancel_reason = u.cancel_reason,
        failed_step = u.failed_step, last_error = u.last_error,
        finished_at = CASE WHEN u.state IN ('RUNNING', 'WAITING') THEN NULL ELSE u.now END,
        owner = CASE WHEN u.state IN ('RUNNING', 'WAITING') THEN e.owner END,
        lease_until = CASE WHEN u.state IN ('RUNNING', 'WAITING') THEN e.lease_until END,
        updated_at = now()
    FROM u
    WHERE e.execution_id = u.execution_id AND e.epoch = u.epoch AND e.seq = u.prev_seq
    RETURNING e.execution_id, e.state
),
step_rows AS (
    INSERT INTO playbook_step_executions (execution_id, seq, step_id, service, attempt, outcome, error,
        detail, started_at, finished_at)
    SELECT r.execution_id, r.seq, r.step_id, r.service, r.attempt, r.outcome, r.error, r.detail,
        r.started_at, r.finished_at
    FROM jsonb_to_recordset($2::text::jsonb) AS r(execution_id uuid, seq int, step_id text, service text,
        attempt int, outcome text, error text, detail jsonb, started_at timestamptz, finished_at timestamptz)
    JOIN applied a ON a.execution_id = r.execution_id
),
outbox_rows AS (
    INSERT INTO outbox (kind, ticket_id, payload, dedupe_key)
    SELECT o.kind, o.ticket_id, o.payload, o.dedupe_key
    FROM jsonb_to_recordset($3::text::jsonb)
        AS o(execution_id uuid, kind text, ticket_id bigint, payload jsonb, dedupe_key text)
    JOIN applied a ON a.execution_id = o.execution_id
    ON CONFLICT (dedupe_key) DO NOTHING
),
consumed AS (
    UPDATE execution_signals g SET consumed_at = now()
    FROM applied a
    WHERE g.execution_id = a.execution_id AND g.consumed_at IS NULL
      AND (a.state NOT IN ('RUNNING', 'WAITING') OR g.id = ANY($4::bigint[]))
)
SELECT execution_id FROM applied
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


def _iso(value: datetime | None) -> str | None:
    # Formatted up front: cheaper than the encoder's ``default`` hook for every timestamp.
    return None if value is None else value.isoformat()


def dumps(value: Any) -> str:
    """Compact JSON; datetimes as ISO 8601 (PostgreSQL reads them back as timestamptz), UUIDs as text."""
    return encode_json(value, separators=(",", ":"), default=_json_default)


def loads(value: Any) -> Any:
    """jsonb as decoded by the pool's codec, or as text on a plain connection."""
    return json.loads(value) if isinstance(value, str) else value


async def write_batch(
    conn: asyncpg.Connection,
    creates: Sequence[PendingCreate],
    checkpoints: Sequence[PendingCheckpoint],
    *,
    owner: str,
    lease_s: float,
) -> tuple[list[CreateResult], set[UUID]]:
    """Inside the caller's transaction: insert new executions and apply checkpoints.

    Returns the create results (in order) and the ids whose checkpoint was applied; a checkpoint missing
    from that set was fenced out (stale epoch or seq) and wrote nothing.
    """
    results: list[CreateResult] = []
    if creates:
        results = await _create(conn, creates, owner, lease_s)
    applied: set[UUID] = set()
    if checkpoints:
        applied = await _checkpoint(conn, checkpoints)
    return results, applied


async def _create(
    conn: asyncpg.Connection, creates: Sequence[PendingCreate], owner: str, lease_s: float
) -> list[CreateResult]:
    s = [c.state for c in creates]
    rows = await conn.fetch(
        _CREATE,
        [x.execution_id for x in s],
        [x.ticket_id for x in s],
        [x.playbook_id for x in s],
        [x.playbook_hash for x in s],
        [x.playbook_version for x in s],
        [x.status.value for x in s],
        [x.current_step for x in s],
        [x.attempt for x in s],
        [x.tries for x in s],
        [x.phase.value for x in s],
        [dumps(x.context) for x in s],
        [x.deadline for x in s],
        [x.step_started_at for x in s],
        owner,
        lease_s,
        [x.step_deadline for x in s],
        [c.idempotency_key for c in creates],
    )
    inserted = {r["execution_id"] for r in rows}
    existing: dict[tuple[int, str], UUID] = {}
    if len(inserted) < len(s):
        missing = [x for x in s if x.execution_id not in inserted]
        found = await conn.fetch(_EXISTING, [x.ticket_id for x in missing], [x.playbook_id for x in missing])
        existing = {(r["ticket_id"], r["playbook_id"]): r["execution_id"] for r in found}
    return [
        CreateResult(x.execution_id, True)
        if x.execution_id in inserted
        else CreateResult(existing[(x.ticket_id, x.playbook_id)], False)
        for x in s
    ]


async def _checkpoint(conn: asyncpg.Connection, items: Sequence[PendingCheckpoint]) -> set[UUID]:
    updates: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    consume: list[int] = []
    for item in items:
        cp, x = item.checkpoint, item.checkpoint.state
        eid = str(x.execution_id)
        updates.append(
            {
                "execution_id": eid,
                "epoch": item.epoch,
                "prev_seq": cp.prev_seq,
                "state": x.status.value,
                "current_step": x.current_step,
                "attempt": x.attempt,
                "tries": x.tries,
                "phase": x.phase.value,
                "seq": x.seq,
                "context": x.context,
                "deadline": _iso(x.deadline),
                "step_started_at": _iso(x.step_started_at),
                "step_deadline": _iso(x.step_deadline),
                "wake_at": _iso(x.wake_at),
                "awaiting": sorted(x.awaiting),
                "resume_event": x.resume_event,
                "escalation_reason": x.escalation_reason,
                "cancel_reason": x.cancel_reason,
                "failed_step": x.failed_step,
                "last_error": x.last_error,
                "now": _iso(_finished_at(cp)),
            }
        )
        for r in cp.steps:
            steps.append(
                {
                    "execution_id": eid,
                    "seq": r.seq,
                    "step_id": r.step_id,
                    "service": r.service,
                    "attempt": r.attempt,
                    "outcome": r.outcome,
                    "error": r.error,
                    "detail": r.detail,
                    "started_at": _iso(r.started_at),
                    "finished_at": r.finished_at.isoformat(),
                }
            )
        for o in cp.outbox:
            outbox.append(
                {
                    "execution_id": eid,
                    "kind": o.kind,
                    "ticket_id": o.ticket_id,
                    "payload": o.payload,
                    "dedupe_key": o.dedupe_key,
                }
            )
        consume.extend(cp.consume)
    rows = await conn.fetch(_CHECKPOINT, dumps(updates), dumps(steps), dumps(outbox), consume)
    return {r["execution_id"] for r in rows}


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
