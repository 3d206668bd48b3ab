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
    SELECT (c->>0)::uuid, (c->>1)::bigint, c->>2, c->>3, c->>4, c->>5, c->>6, (c->>7)::int, (c->>8)::int,
        c->>9, 0, c->10, (c->>11)::timestamptz, (c->>12)::timestamptz, (c->>13)::timestamptz, '[]'::jsonb,
        c->>14, $1, now() + make_interval(secs => $2), 1
    FROM jsonb_array_elements($3::text::jsonb) AS c
    ON CONFLICT (ticket_id, playbook_id) DO NOTHING
    RETURNING execution_id
),
u AS (
    SELECT (j->>0)::uuid AS execution_id, (j->>1)::bigint AS epoch, (j->>2)::int AS prev_seq,
        j->>3 AS state, j->>4 AS current_step, (j->>5)::int AS attempt, (j->>6)::int AS tries,
        j->>7 AS phase, (j->>8)::int AS seq, j->9 AS context, (j->>10)::timestamptz AS deadline,
        (j->>11)::timestamptz AS step_started_at, (j->>12)::timestamptz AS step_deadline,
        (j->>13)::timestamptz AS wake_at, j->14 AS awaiting, j->15 AS resume_event,
        j->>16 AS escalation_reason, j->>17 AS cancel_reason, j->>18 AS failed_step, j->>19 AS last_error,
        (j->>20)::timestamptz AS now
    FROM jsonb_array_elements($4::text::jsonb) AS j
),
applied AS (
    UPDATE playbook_executions AS e SET
        state = u.state, current_step = u.current_step, attempt = u.attempt, tries = u.tries,
        step_phase = u.phase, seq = u.seq, context = u.context, deadline = u.deadline,
        step_started_at = u.step_started_at, step_deadline = u.step_deadline, wake_at = u.wake_at,
        awaiting = u.awaiting, resume_event = NULLIF(u.resume_event, 'null'::jsonb),
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
    SELECT a.execution_id, (r->>1)::int, r->>2, r->>3, (r->>4)::int, r->>5, r->>6, r->7,
        (r->>8)::timestamptz, (r->>9)::timestamptz
    FROM jsonb_array_elements($5::text::jsonb) AS r
    JOIN applied a ON a.execution_id = (r->>0)::uuid
),
outbox_rows AS (
    INSERT INTO outbox (kind, ticket_id, payload, dedupe_key)
    SELECT o->>1, (o->>2)::bigint, o->3, o->>4
    FROM jsonb_array_elements($6::text::jsonb) AS o
    JOIN applied a ON a.execution_id = (o->>0)::uuid
    ON CONFLICT (dedupe_key) DO NOTHING
),
consumed AS (
    UPDATE execution_signals g SET consumed_at = now()
    FROM applied a
    WHERE g.execution_id = a.execution_id AND g.consumed_at IS NULL
      AND (a.state NOT IN ('RUNNING', 'WAITING') OR g.id = ANY($7::bigint[]))
)
SELECT true AS created, execution_id FROM created
UNION ALL
SELECT false, execution_id FROM applied
"""
"""Every write of a batch in ONE statement (so one transaction even without an explicit one, and one round
trip): new executions, fenced checkpoints with their step rows, outbox rows and consumed signals. Rows travel
as one JSON document per table, each row a positional array: one C-encoder call here (asyncpg's typed
arrays cost more per element than the whole document) and one parse there."""

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
    text = _ENCODE(value)
    if "\\u0000" in text:  # rare: let the shared encoder replace the NUL characters jsonb cannot hold
        text = encode_json(value, separators=(",", ":"), default=_json_default)
    return text


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
    """Insert new executions and apply checkpoints, all in one statement (one transaction by itself, or
    part of the caller's).

    Returns the create results (in order) and the ids whose checkpoint was applied; a checkpoint missing
    from that set was fenced out (stale epoch or seq) and wrote nothing.
    """
    rows = await conn.fetch(_WRITE, owner, lease_s, _create_rows(creates), *_checkpoint_rows(checkpoints))
    inserted: set[UUID] = set()
    applied: set[UUID] = set()
    for row in rows:
        (inserted if row[0] else applied).add(row[1])
    results: list[CreateResult] = []
    if creates:
        results = await _create_results(conn, creates, inserted)
    return results, applied


class _IsoTimes(dict[datetime, str]):
    """ISO 8601 text of the batch's timestamps, each formatted once: a transition repeats the same
    instants (a step's finish is the next one's start; the deadline is the step deadline). Formatted up
    front: cheaper than the encoder's ``default`` hook."""

    def __missing__(self, key: datetime) -> str:
        text = self[key] = key.isoformat()
        return text

    def of(self, value: datetime | None) -> str | None:
        return None if value is None else self[value]


def _create_rows(creates: Sequence[PendingCreate]) -> str:
    """``created``'s rows (positional: see the ``c->>n`` in ``_WRITE``)."""
    iso = _IsoTimes().of
    return dumps(
        [
            (
                str(x.execution_id),
                x.ticket_id,
                x.playbook_id,
                x.playbook_hash,
                x.playbook_version,
                x.status,
                x.current_step,
                x.attempt,
                x.tries,
                x.phase,
                x.context,
                iso(x.deadline),
                iso(x.step_started_at),
                iso(x.step_deadline),
                c.idempotency_key,
            )
            for c in creates
            for x in (c.state,)
        ]
    )


def _checkpoint_rows(items: Sequence[PendingCheckpoint]) -> tuple[str, str, str, list[int]]:
    """The rows of ``u`` (the new states), ``step_rows`` and ``outbox_rows`` (positional, like
    ``_create_rows``), and the signals to mark consumed."""
    updates: list[tuple[Any, ...]] = []
    steps: list[tuple[Any, ...]] = []
    outbox: list[tuple[Any, ...]] = []
    consume: list[int] = []
    iso = _IsoTimes().of
    for item in items:
        cp = item.checkpoint
        x = cp.state
        eid = str(x.execution_id)
        updates.append(
            (
                eid,
                item.epoch,
                cp.prev_seq,
                x.status,
                x.current_step,
                x.attempt,
                x.tries,
                x.phase,
                x.seq,
                x.context,
                iso(x.deadline),
                iso(x.step_started_at),
                iso(x.step_deadline),
                iso(x.wake_at),
                sorted(x.awaiting) if x.awaiting else (),
                x.resume_event,
                x.escalation_reason,
                x.cancel_reason,
                x.failed_step,
                x.last_error,
                iso(_finished_at(cp)),
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
                    r.detail,
                    iso(r.started_at),
                    iso(r.finished_at),
                )
            )
        for o in cp.outbox:
            outbox.append((eid, o.kind, o.ticket_id, o.payload, o.dedupe_key))
        if cp.consume:
            consume.extend(cp.consume)
    return dumps(updates), dumps(steps), dumps(outbox), consume


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
        # An operator's start through the admin API, and any audited policy override (never a secret).
        "operator": (loads(row["context"]) or {}).get("operator"),
        "steps": [{**dict(s), "detail": loads(s["detail"]) or {}} for s in steps],
    }


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
