"""The sandbox twins' state in PostgreSQL (migration ``0007_sandbox_state.sql``; sandbox mode only).

What a real HaloPSA, Entra, MFA connector, Teams and Twilio keep on their side, kept here so that the embedded
default survives a restart and several processes on one database behave like one service. One small method
per question the twins ask; no secret is ever passed in (credentials arrive as SHA-256 digests, ledger
entries already redacted).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from ticketpilot.adapters.base import Ticket


@dataclass(frozen=True)
class PendingAction:
    """A delayed action claimed by this process (see :class:`~.pending.DurablePendingActions`)."""

    id: int
    kind: str
    payload: Mapping[str, Any]
    tries: int


def _obj(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class SandboxStore:
    """Reads and writes the ``sandbox_*`` tables through the service's pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    def __repr__(self) -> str:
        return "SandboxStore()"

    # ---- HaloPSA: tickets, fields, notes -------------------------------------------------------------------

    async def put_ticket(self, ticket: Ticket, seen_at: datetime) -> None:
        await self._pool.execute(
            "INSERT INTO sandbox_tickets (id, ticket, seen_at) VALUES ($1, $2::jsonb, $3)"
            " ON CONFLICT (id) DO UPDATE SET ticket = EXCLUDED.ticket, seen_at = EXCLUDED.seen_at",
            ticket.id,
            ticket.model_dump(mode="json"),
            seen_at,
        )

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        raw = await self._pool.fetchval("SELECT ticket FROM sandbox_tickets WHERE id = $1", ticket_id)
        return None if raw is None else Ticket.model_validate(_obj(raw))

    async def update_ticket(
        self, ticket_id: int, fields: Mapping[str, str], status_id: int | None, closed: bool
    ) -> bool:
        """Merge ``fields``; set the status (and ``closed``) when given. False if no such ticket."""
        status = {} if status_id is None else {"status_id": status_id, "closed": closed}
        result = await self._pool.execute(
            "UPDATE sandbox_tickets SET custom_fields = custom_fields || $2::jsonb, ticket = ticket || $3::jsonb"
            " WHERE id = $1",
            ticket_id,
            dict(fields),
            status,
        )
        return bool(result != "UPDATE 0")

    async def add_note(self, ticket_id: int, note: str, private: bool) -> None:
        await self._pool.execute(
            "INSERT INTO sandbox_ticket_notes (ticket_id, note, private) VALUES ($1, $2, $3)",
            ticket_id,
            note,
            private,
        )

    async def notes(self, ticket_id: int) -> list[str]:
        rows = await self._pool.fetch(
            "SELECT note FROM sandbox_ticket_notes WHERE ticket_id = $1 ORDER BY id", ticket_id
        )
        return [r["note"] for r in rows]

    async def custom_fields(self, ticket_id: int) -> dict[str, str]:
        raw = await self._pool.fetchval("SELECT custom_fields FROM sandbox_tickets WHERE id = $1", ticket_id)
        return {str(k): str(v) for k, v in (_obj(raw) or {}).items()}

    async def tickets_since(self, since: datetime) -> list[Ticket]:
        rows = await self._pool.fetch(
            "SELECT ticket FROM sandbox_tickets WHERE seen_at >= $1 ORDER BY id", since
        )
        return [Ticket.model_validate(_obj(r["ticket"])) for r in rows]

    # ---- directory: people, issued credentials -------------------------------------------------------------

    async def remember_person(self, user_id: str, email: str, phone: str) -> None:
        await self._pool.execute(
            "INSERT INTO sandbox_people (user_id, email, phone) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            user_id,
            email,
            phone,
        )

    async def email_of(self, user_id: str) -> str | None:
        value = await self._pool.fetchval("SELECT email FROM sandbox_people WHERE user_id = $1", user_id)
        return None if value is None else str(value)

    async def owner_of_phone(self, phone: str) -> str | None:
        value = await self._pool.fetchval(
            "SELECT email FROM sandbox_people WHERE phone = $1 ORDER BY email LIMIT 1", phone
        )
        return None if value is None else str(value)

    async def add_credential_digest(self, digest: str) -> None:
        await self._pool.execute(
            "INSERT INTO sandbox_issued_credentials (digest) VALUES ($1) ON CONFLICT DO NOTHING", digest
        )

    async def known_digests(self, digests: Iterable[str]) -> set[str]:
        wanted = sorted(set(digests))
        if not wanted:
            return set()
        rows = await self._pool.fetch(
            "SELECT digest FROM sandbox_issued_credentials WHERE digest = ANY($1::text[])", wanted
        )
        return {r["digest"] for r in rows}

    # ---- Twilio: per-number failures -----------------------------------------------------------------------

    async def take_failure(self, phone: str, limit: int) -> bool:
        """Count one more failure for ``phone`` if it has had fewer than ``limit``; whether it was counted."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO sandbox_sms_failures (phone, failures) VALUES ($1, 0) ON CONFLICT DO NOTHING",
                phone,
            )
            counted = await conn.fetchval(
                "UPDATE sandbox_sms_failures SET failures = failures + 1"
                " WHERE phone = $1 AND failures < $2 RETURNING failures",
                phone,
                limit,
            )
        return counted is not None

    # ---- MFA connector: pushes -----------------------------------------------------------------------------

    async def open_push(
        self, context_id: str, upn: str, result: str, pushed_at: datetime, answer_at: datetime
    ) -> tuple[str, datetime, bool]:
        """The push of ``context_id`` (created now, or the one already sent): its result, when it is answered,
        and whether it was answered already."""
        row = await self._pool.fetchrow(
            "INSERT INTO sandbox_mfa_pushes (context_id, user_principal_name, result, pushed_at, answer_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (context_id)"
            " DO UPDATE SET context_id = EXCLUDED.context_id"
            " RETURNING result, answer_at, answered_at IS NOT NULL AS answered",
            context_id,
            upn,
            result,
            pushed_at,
            answer_at,
        )
        assert row is not None
        return str(row["result"]), row["answer_at"], bool(row["answered"])

    async def answer_push(self, context_id: str, at: datetime) -> bool:
        """Mark the push answered; False if it already was (its ledger entry exists)."""
        result = await self._pool.execute(
            "UPDATE sandbox_mfa_pushes SET answered_at = $2 WHERE context_id = $1 AND answered_at IS NULL",
            context_id,
            at,
        )
        return bool(result != "UPDATE 0")

    # ---- delayed actions -----------------------------------------------------------------------------------

    async def schedule(self, kind: str, due_at: datetime, payload: Mapping[str, Any]) -> int:
        return int(
            await self._pool.fetchval(
                "INSERT INTO sandbox_pending_actions (kind, due_at, payload) VALUES ($1, $2, $3::jsonb)"
                " RETURNING id",
                kind,
                due_at,
                dict(payload),
            )
        )

    async def claim_due(self, owner: str, now: datetime, lease_s: float, limit: int) -> list[PendingAction]:
        """Due actions nobody holds (or whose holder's lease ran out), now leased to ``owner``."""
        rows = await self._pool.fetch(
            "UPDATE sandbox_pending_actions SET owner = $1, lease_until = $3, tries = tries + 1"
            " WHERE id IN (SELECT id FROM sandbox_pending_actions"
            "   WHERE done_at IS NULL AND due_at <= $2 AND (lease_until IS NULL OR lease_until < $2)"
            "   ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, kind, payload, tries",
            owner,
            now,
            now + timedelta(seconds=lease_s),
            limit,
        )
        return [PendingAction(r["id"], r["kind"], _obj(r["payload"]), r["tries"]) for r in rows]

    async def finish_action(self, action_id: int, at: datetime) -> None:
        await self._pool.execute(
            "UPDATE sandbox_pending_actions SET done_at = $2, lease_until = NULL WHERE id = $1", action_id, at
        )

    async def next_due(self, now: datetime) -> datetime | None:
        """When the next action nobody holds becomes due (a held one: when its lease runs out)."""
        value = await self._pool.fetchval(
            "SELECT min(greatest(due_at, coalesce(lease_until, due_at))) FROM sandbox_pending_actions"
            " WHERE done_at IS NULL"
        )
        return value if isinstance(value, datetime) else None

    # ---- the ledger ----------------------------------------------------------------------------------------

    async def append_ledger(self, at: datetime, kind: str, data: Mapping[str, Any]) -> int:
        return int(
            await self._pool.fetchval(
                "INSERT INTO sandbox_ledger (at, kind, pid, data) VALUES ($1, $2, $3, $4::jsonb) RETURNING seq",
                at,
                kind,
                os.getpid(),
                json.loads(json.dumps(dict(data), default=str)),
            )
        )

    async def ledger(self, kind: str | None, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` entries (of ``kind``), oldest first."""
        rows = await self._pool.fetch(
            "SELECT seq, at, kind, pid, data FROM ("
            "  SELECT * FROM sandbox_ledger WHERE $1::text IS NULL OR kind = $1 ORDER BY seq DESC LIMIT $2"
            ") newest ORDER BY seq",
            kind,
            limit,
        )
        return [
            {
                "seq": r["seq"],
                "at": r["at"].isoformat(),
                "kind": r["kind"],
                "pid": r["pid"],
                **_obj(r["data"]),
            }
            for r in rows
        ]
