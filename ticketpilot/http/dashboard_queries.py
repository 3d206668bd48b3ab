"""Read models of the operator dashboard: plain SQL over the engine's and the gate's tables, JSON-ready.

Every function takes the asyncpg pool and returns dicts of JSON types (timestamps as ISO 8601 strings,
UUIDs as strings). Nothing here holds a secret: step ``detail`` and ``error`` never carry one by design,
and are scrubbed once more on the way out (secret-named keys, registered secrets, phone numbers).

The global kill switch is the ``runtime_flags`` row ``kill_switch``; the gate reads it on every decision
(``ticketpilot.gate.policy``). :func:`get_global_kill_switch` and :func:`set_global_kill_switch` are the
dashboard's way to read and flip it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from ticketpilot.logging import redact

KILL_SWITCH_FLAG = "kill_switch"
DEFAULT_MINUTES_SAVED = 15.0
EXECUTION_STATES = ("RUNNING", "WAITING", "RESOLVED", "ESCALATED", "CANCELLED", "FAILED")
DECISION_OUTCOMES = ("automated", "manual", "shadow")
# Single-service runs of the admin API are audited like playbooks but are not tickets handled end to end.
_NOT_ADHOC = (
    "NOT EXISTS (SELECT 1 FROM playbooks p WHERE p.playbook_id = e.playbook_id AND p.source = 'adhoc')"
)


@dataclass(frozen=True)
class Period:
    """A half-open time window ``[since, until)``; None on either side means unbounded."""

    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class ExecutionFilter:
    """What the executions list may be narrowed to (every field optional)."""

    states: tuple[str, ...] = ()
    playbook_id: str | None = None
    ticket_id: int | None = None
    period: Period = Period()
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class GlobalKillSwitch:
    """The operator's global kill switch as stored; ``forced_by_config`` is ``policy.kill_switch``."""

    on: bool
    by: str | None = None
    reason: str = ""
    updated_at: datetime | None = None

    def as_dict(self, *, forced_by_config: bool = False) -> dict[str, Any]:
        return {
            "on": self.on or forced_by_config,
            "runtime_flag": self.on,
            "forced_by_config": forced_by_config,
            "by": self.by,
            "reason": self.reason,
            "updated_at": iso(self.updated_at),
        }


def in_period(column: str, since: int, until: int) -> str:
    """SQL: ``column`` lies in ``[$since, $until)``, either bound NULL meaning unbounded."""
    return (
        f"(${since}::timestamptz IS NULL OR {column} >= ${since})"
        f" AND (${until}::timestamptz IS NULL OR {column} < ${until})"
    )


def iso(value: datetime | None) -> str | None:
    """A timestamp as ISO 8601, or None."""
    return value.isoformat() if value is not None else None


def decode_json(value: Any) -> Any:
    """A json/jsonb column value as Python data."""
    # The service's pool decodes jsonb; a bare asyncpg connection returns text.
    return json.loads(value) if isinstance(value, str) else value


def hours_saved(
    resolved_by_playbook: Mapping[str, int],
    minutes_per_ticket: Mapping[str, float],
    default_minutes: float = DEFAULT_MINUTES_SAVED,
) -> list[dict[str, Any]]:
    """Estimated engineer time saved per playbook: resolved tickets x minutes per ticket, in hours."""
    rows = []
    for playbook_id, resolved in sorted(resolved_by_playbook.items()):
        minutes = float(minutes_per_ticket.get(playbook_id, default_minutes))
        rows.append(
            {
                "playbook_id": playbook_id,
                "resolved": resolved,
                "minutes_per_ticket": minutes,
                "hours_saved": round(resolved * minutes / 60.0, 2),
            }
        )
    return rows


def scrub(value: Any) -> Any:
    """A value with secret-named keys, registered run-time secrets and phone numbers masked."""
    return redact(None, "", {"value": value})["value"]


# --- overview -------------------------------------------------------------------------------------


async def overview(
    pool: asyncpg.Pool, period: Period, minutes_per_ticket: Mapping[str, float]
) -> dict[str, Any]:
    """Tickets received, the gate's outcomes, execution states, median time to resolution, time saved."""
    since, until = period.since, period.until
    async with pool.acquire() as conn:
        received = await conn.fetchval(
            "SELECT count(*) FROM ("
            " SELECT ticket_id FROM tickets"
            f"  WHERE {in_period('first_seen_at', 1, 2)}"
            " UNION"
            " SELECT ticket_id FROM classification_results"
            f"  WHERE {in_period('created_at', 1, 2)}"
            ") received",
            since,
            until,
        )
        outcome_rows = await conn.fetch(
            "SELECT outcome, count(*) AS n FROM ("
            " SELECT DISTINCT ON (ticket_id) ticket_id, outcome FROM classification_results"
            f"  WHERE {in_period('created_at', 1, 2)}"
            "  ORDER BY ticket_id, created_at DESC, id DESC"
            ") latest GROUP BY outcome",
            since,
            until,
        )
        state_rows = await conn.fetch(
            "SELECT e.playbook_id, e.state, count(*) AS n FROM playbook_executions e"
            f" WHERE {in_period('e.created_at', 1, 2)}"
            f" AND {_NOT_ADHOC} GROUP BY e.playbook_id, e.state",
            since,
            until,
        )
        median_s = await conn.fetchval(
            "SELECT percentile_cont(0.5) WITHIN GROUP"
            " (ORDER BY extract(epoch FROM e.finished_at - e.created_at))"
            " FROM playbook_executions e WHERE e.state = 'RESOLVED' AND e.finished_at IS NOT NULL"
            f" AND {in_period('e.created_at', 1, 2)}"
            f" AND {_NOT_ADHOC}",
            since,
            until,
        )
    outcomes = {o: 0 for o in DECISION_OUTCOMES}
    outcomes.update({r["outcome"]: int(r["n"]) for r in outcome_rows})
    decided = sum(outcomes.values())
    states = {s: 0 for s in EXECUTION_STATES}
    resolved_by_playbook: dict[str, int] = {}
    for r in state_rows:
        states[r["state"]] += int(r["n"])
        if r["state"] == "RESOLVED":
            resolved_by_playbook[r["playbook_id"]] = int(r["n"])
    saved = hours_saved(resolved_by_playbook, minutes_per_ticket)
    return {
        "period": {"since": iso(since), "until": iso(until)},
        "tickets_received": int(received),
        "decisions": outcomes,
        "automation_rate": round(outcomes["automated"] / decided, 4) if decided else None,
        "executions": {
            "resolved": states["RESOLVED"],
            "escalated": states["ESCALATED"] + states["FAILED"],
            "failed": states["FAILED"],
            "cancelled": states["CANCELLED"],
            "in_progress": states["RUNNING"] + states["WAITING"],
        },
        "median_time_to_resolution_s": round(float(median_s), 1) if median_s is not None else None,
        "hours_saved": saved,
        "hours_saved_total": round(sum(r["hours_saved"] for r in saved), 2),
    }


# --- executions -----------------------------------------------------------------------------------

_EXECUTION_WHERE = (
    " WHERE (cardinality($1::text[]) = 0 OR e.state = ANY($1::text[]))"
    " AND ($2::text IS NULL OR e.playbook_id = $2)"
    " AND ($3::bigint IS NULL OR e.ticket_id = $3)"
    " AND ($4::timestamptz IS NULL OR e.created_at >= $4)"
    " AND ($5::timestamptz IS NULL OR e.created_at < $5)"
)


def _execution_view(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "execution_id": str(r["execution_id"]),
        "ticket_id": r["ticket_id"],
        "ticket_summary": r["summary"],
        "playbook_id": r["playbook_id"],
        "playbook_version": r["playbook_version"],
        "playbook_hash": r["playbook_hash"],
        "state": r["state"],
        "current_step": r["current_step"],
        "attempt": r["attempt"],
        "escalation_reason": r["escalation_reason"],
        "cancel_reason": r["cancel_reason"],
        "created_at": iso(r["created_at"]),
        "updated_at": iso(r["updated_at"]),
        "finished_at": iso(r["finished_at"]),
        "duration_s": (
            round((r["finished_at"] - r["created_at"]).total_seconds(), 3)
            if r["finished_at"] is not None
            else None
        ),
    }


_EXECUTION_COLUMNS = (
    "SELECT e.execution_id, e.ticket_id, t.summary, e.playbook_id, e.playbook_version, e.playbook_hash,"
    " e.state, e.current_step, e.attempt, e.escalation_reason, e.cancel_reason,"
    " e.created_at, e.updated_at, e.finished_at"
    " FROM playbook_executions e LEFT JOIN tickets t ON t.ticket_id = e.ticket_id"
)


async def list_executions(pool: asyncpg.Pool, f: ExecutionFilter) -> dict[str, Any]:
    """Executions, newest first, narrowed by ``f``; ``total`` counts every match (not only this page)."""
    args = (list(f.states), f.playbook_id, f.ticket_id, f.period.since, f.period.until)
    async with pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM playbook_executions e" + _EXECUTION_WHERE, *args)
        rows = await conn.fetch(
            _EXECUTION_COLUMNS
            + _EXECUTION_WHERE
            + " ORDER BY e.created_at DESC, e.execution_id LIMIT $6 OFFSET $7",
            *args,
            f.limit,
            f.offset,
        )
    return {
        "total": int(total),
        "limit": f.limit,
        "offset": f.offset,
        "items": [_execution_view(r) for r in rows],
    }


async def execution_timeline(pool: asyncpg.Pool, execution_id: UUID) -> dict[str, Any] | None:
    """One execution and its audit trail (every step attempt, its duration and outcome); None if unknown."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_EXECUTION_COLUMNS + " WHERE e.execution_id = $1", execution_id)
        if row is None:
            return None
        steps = await conn.fetch(
            "SELECT seq, step_id, service, attempt, outcome, error, detail, started_at, finished_at"
            " FROM playbook_step_executions WHERE execution_id = $1 ORDER BY seq",
            execution_id,
        )
    timeline = []
    for s in steps:
        started, finished = s["started_at"], s["finished_at"]
        timeline.append(
            {
                "seq": s["seq"],
                "step_id": s["step_id"],
                "service": s["service"],
                "attempt": s["attempt"],
                "outcome": s["outcome"],
                "error": scrub(s["error"]),
                "detail": scrub(decode_json(s["detail"])),
                "started_at": iso(started),
                "finished_at": iso(finished),
                "duration_ms": round((finished - started).total_seconds() * 1000.0, 1) if started else None,
            }
        )
    return {**_execution_view(row), "timeline": timeline}


# --- the global kill switch -----------------------------------------------------------------------


async def get_global_kill_switch(pool: asyncpg.Pool) -> GlobalKillSwitch:
    """The ``runtime_flags`` kill switch as the gate reads it: ``{"on": b}``, ``{"enabled": b}`` or a bool."""
    row = await pool.fetchrow("SELECT value, updated_at FROM runtime_flags WHERE name = $1", KILL_SWITCH_FLAG)
    if row is None:
        return GlobalKillSwitch(on=False)
    value = decode_json(row["value"])
    if isinstance(value, dict):
        on = value.get("enabled", value.get("on")) is True
        return GlobalKillSwitch(on, value.get("by"), str(value.get("reason") or ""), row["updated_at"])
    return GlobalKillSwitch(value is True, None, "", row["updated_at"])


async def set_global_kill_switch(
    pool: asyncpg.Pool, on: bool, actor: str, reason: str = ""
) -> GlobalKillSwitch:
    """Flip the global kill switch; the gate's next decision sees it. Returns the stored state."""
    value = json.dumps({"on": on, "by": actor, "reason": reason})
    row = await pool.fetchrow(
        "INSERT INTO runtime_flags (name, value, updated_at) VALUES ($1, $2::text::jsonb, now())"
        " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at"
        " RETURNING updated_at",
        KILL_SWITCH_FLAG,
        value,
    )
    return GlobalKillSwitch(on, actor, reason, row["updated_at"])
