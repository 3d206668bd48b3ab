"""Read models of the dashboard's Decisions page: the gate's classification results, and the shadow-mode
report (what shadow playbooks would have automated, set against how each ticket was finally handled)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from ticketpilot.http.dashboard_queries import DECISION_OUTCOMES, Period, decode_json, in_period, iso

__all__ = ["DECISION_OUTCOMES", "DecisionFilter", "final_handling", "list_decisions", "shadow_report"]


@dataclass(frozen=True)
class DecisionFilter:
    """What the decisions list may be narrowed to (every field optional)."""

    outcome: str | None = None
    playbook_id: str | None = None
    ticket_id: int | None = None
    period: Period = field(default_factory=Period)
    limit: int = 50
    offset: int = 0


def _decision_view(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": r["id"],
        "ticket_id": r["ticket_id"],
        "ticket_summary": r["summary"],
        "created_at": iso(r["created_at"]),
        "classifier": r["classifier"],
        "classifier_version": r["classifier_version"],
        "category": r["category"],
        "sub_category": r["sub_category"],
        "confidence": r["confidence"],
        "reasoning": r["reasoning"],
        "own_account": r["own_account"],
        "risk_flags": decode_json(r["risk_flags"]),
        "playbook_id": r["playbook_id"],
        "playbook_hash": r["playbook_hash"],
        "outcome": r["outcome"],
        "blockers": decode_json(r["blockers"]),
        "latency_ms": r["latency_ms"],
        "source": r["source"],
    }


async def list_decisions(pool: asyncpg.Pool, f: DecisionFilter) -> dict[str, Any]:
    """Classification results (the gate's decisions), newest first, narrowed by ``f``."""
    where = (
        " WHERE ($1::text IS NULL OR c.outcome = $1) AND ($2::text IS NULL OR c.playbook_id = $2)"
        " AND ($3::bigint IS NULL OR c.ticket_id = $3)"
        f" AND {in_period('c.created_at', 4, 5)}"
    )
    args = (f.outcome, f.playbook_id, f.ticket_id, f.period.since, f.period.until)
    async with pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM classification_results c" + where, *args)
        rows = await conn.fetch(
            "SELECT c.*, t.summary FROM classification_results c"
            " LEFT JOIN tickets t ON t.ticket_id = c.ticket_id"
            + where
            + " ORDER BY c.created_at DESC, c.id DESC LIMIT $6 OFFSET $7",
            *args,
            f.limit,
            f.offset,
        )
    return {
        "total": int(total),
        "limit": f.limit,
        "offset": f.offset,
        "items": [_decision_view(r) for r in rows],
    }


def final_handling(closed: bool | None, later_states: list[str]) -> str:
    """How a ticket was finally handled, after a shadow decision, in one word the report groups by."""
    if any(s == "RESOLVED" for s in later_states):
        return "automated_resolved"
    if any(s in ("ESCALATED", "FAILED") for s in later_states):
        return "automation_escalated"
    if any(s in ("RUNNING", "WAITING") for s in later_states):
        return "automation_in_progress"
    if closed:
        return "closed_by_technician"
    return "open"


async def shadow_report(pool: asyncpg.Pool, period: Period, limit: int = 100) -> dict[str, Any]:
    """What shadow-mode playbooks would have automated, set against how each ticket was finally handled."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT c.id, c.ticket_id, c.created_at, c.playbook_id, c.sub_category, c.confidence,"
            " c.reasoning, c.blockers, t.summary, t.closed, t.status_id,"
            " COALESCE((SELECT array_agg(e.state ORDER BY e.created_at) FROM playbook_executions e"
            "   WHERE e.ticket_id = c.ticket_id AND e.created_at >= c.created_at), '{}') AS later_states,"
            " (SELECT c2.outcome FROM classification_results c2 WHERE c2.ticket_id = c.ticket_id"
            "   AND c2.created_at > c.created_at ORDER BY c2.created_at DESC, c2.id DESC LIMIT 1)"
            " AS later_outcome"
            " FROM classification_results c LEFT JOIN tickets t ON t.ticket_id = c.ticket_id"
            " WHERE c.outcome = 'shadow'"
            f" AND {in_period('c.created_at', 1, 2)}"
            " ORDER BY c.created_at DESC, c.id DESC",
            period.since,
            period.until,
        )
    items: list[dict[str, Any]] = []
    by_playbook: dict[str, dict[str, int]] = {}
    for r in rows:
        handling = final_handling(r["closed"], list(r["later_states"]))
        pid = r["playbook_id"] or "(none)"
        counts = by_playbook.setdefault(pid, {"would_automate": 0})
        counts["would_automate"] += 1
        counts[handling] = counts.get(handling, 0) + 1
        if len(items) < limit:
            items.append(
                {
                    "decision_id": r["id"],
                    "ticket_id": r["ticket_id"],
                    "ticket_summary": r["summary"],
                    "created_at": iso(r["created_at"]),
                    "playbook_id": r["playbook_id"],
                    "sub_category": r["sub_category"],
                    "confidence": r["confidence"],
                    "reasoning": r["reasoning"],
                    "blockers": decode_json(r["blockers"]),
                    "ticket_closed": r["closed"],
                    "ticket_status_id": r["status_id"],
                    "later_executions": list(r["later_states"]),
                    "later_outcome": r["later_outcome"],
                    "final_handling": handling,
                }
            )
    return {
        "period": {"since": iso(period.since), "until": iso(period.until)},
        "total": len(rows),
        "by_playbook": [{"playbook_id": k, **v} for k, v in sorted(by_playbook.items())],
        "items": items,
    }
