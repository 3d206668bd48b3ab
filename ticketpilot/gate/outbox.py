"""HaloPSA write-back through the outbox: rows committed with the change that causes them, delivered after.

Writers (the gate, the engine) call :func:`enqueue` inside their own transaction; the
:class:`OutboxWorker` delivers the rows to the :class:`~ticketpilot.adapters.base.TicketSystem`. A HaloPSA
outage loses nothing: rows stay pending with exponential backoff until HaloPSA answers again.

Row kinds and their ``payload`` (jsonb; ``outbox.ticket_id`` is the HaloPSA ticket id):

``halopsa.fields``
    ``{"custom_fields": {"automation_status": "automated", "playbook_id": "...", ...}, "status_id": 8,
    "route": "manual"}`` (``status_id``, ``route`` optional) → ``update_ticket``. Custom fields are sent by
    our names; the HaloPSA adapter maps them to the instance's ids and names. ``route: manual`` (a ticket the
    gate leaves to a human) also applies ``halopsa.manual_*`` (team, agent, status, priority).
``halopsa.note``
    ``{"note": "text", "private": true}`` (``private`` defaults to true) → ``add_note``.
``halopsa.resolve``
    ``{"note": "text", "private": true, "status_id": 8}`` → the note (a default one if absent), then the
    status (default ``halopsa.status_resolved_id``).
``halopsa.escalate``
    ``{"note": "text", "reason": "why", "private": true, "status_id": 5, "team": "L1",
    "escalation": {"team": "Identity", "agent_id": 12, "status_id": 5, "priority_id": 2}}`` → the note (or,
    without one, a note naming ``reason``, and where the ticket goes), then the ticket's team, agent, status
    and priority (``routing.py``: ``halopsa.escalation_*``/``status_escalated_id`` by default, overridden by
    the payload's ``team``/``status_id``, then by the playbook's ``escalation`` block; unset values leave the
    ticket's own alone).

``credential.revoke`` (the ``entra`` lane, not HaloPSA)
    ``{"kind": "temporary_access_pass", "user_id": "...", "method_id": "...", "what": "the Temporary Access
    Pass of jane@contoso.com", "execution_id": "..."}`` → ``delete_temporary_access_pass`` in Entra ID, for a
    credential issued but never delivered (written by the engine with the execution's ending). Once done (or
    found already gone) a ``halopsa.note`` says so; a refusal (e.g. 403) queues a note asking an engineer to
    delete it by hand, and the row is failed.

Two-part kinds record ``"note_delivered": true`` in the payload once the note is in, so a retry after a
failed status change does not post the note twice. ``dedupe_key`` is unique: a transaction retried by
its writer cannot queue the same write twice.

Delivery: rows are claimed with ``FOR UPDATE SKIP LOCKED`` and a lease (``next_attempt_at`` pushed
forward), so several workers or processes can share the table and a crashed worker's rows come back.
Rows of one ticket are delivered in insertion order within their lane, the kind's prefix (only the oldest
undelivered row of a ticket and lane is claimable): a HaloPSA outage never holds up the deletion of a TAP in
Entra ID, nor a Graph outage the ticket's notes. Retryable failures (``AdapterError.retryable``, timeouts, connection errors) back off
exponentially with jitter, honouring ``retry_after``; HaloPSA refusing a row (a non-retryable
``AdapterError``) marks it ``failed_at`` and logs it, since repeating it cannot help.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import asyncpg
import structlog

from ticketpilot.adapters.base import AdapterError
from ticketpilot.config import HalopsaConfig
from ticketpilot.gate.policy import utc_now
from ticketpilot.gate.polling import finish_within, run_rounds
from ticketpilot.gate.routing import TicketRoute, escalation_route, manual_route
from ticketpilot.metrics import OUTBOX_BACKLOG
from ticketpilot.readiness import Readiness

log = structlog.get_logger(__name__)

FIELDS = "halopsa.fields"
NOTE = "halopsa.note"
RESOLVE = "halopsa.resolve"
ESCALATE = "halopsa.escalate"
REVOKE = "credential.revoke"
KINDS = frozenset({FIELDS, NOTE, RESOLVE, ESCALATE, REVOKE})


class TicketWriter(Protocol):
    """The part of :class:`ticketpilot.adapters.base.TicketSystem` the outbox delivers to."""

    async def update_ticket(
        self,
        ticket_id: int,
        *,
        custom_fields: dict[str, str] | None = None,
        status_id: int | None = None,
        team: str | None = None,
        agent_id: int | None = None,
        priority_id: int | None = None,
    ) -> None: ...

    async def add_note(self, ticket_id: int, note: str, *, private: bool = True) -> None: ...


class CredentialRevoker(Protocol):
    """The part of :class:`ticketpilot.adapters.base.Directory` that undoes an undelivered credential."""

    async def delete_temporary_access_pass(self, user_id: str, method_id: str) -> bool: ...


@dataclass(frozen=True)
class OutboxMessage:
    """One write to HaloPSA, queued by :func:`enqueue`."""

    kind: str
    ticket_id: int
    payload: dict[str, Any]
    dedupe_key: str


class PayloadError(Exception):
    """A row whose payload cannot be delivered as written (a bug in its writer): it is marked failed."""

    def __init__(self, row_id: int, problem: str) -> None:
        super().__init__(f"outbox row {row_id}: {problem}")
        self.row_id = row_id
        self.problem = problem

    def __repr__(self) -> str:
        return f"PayloadError(row_id={self.row_id}, problem={self.problem!r})"


async def enqueue(
    conn: asyncpg.Connection, messages: Iterable[OutboxMessage], *, now: datetime | None = None
) -> None:
    """Queue ``messages`` in the caller's transaction. A repeated ``dedupe_key`` is silently skipped."""
    rows = [(m.kind, m.ticket_id, json.dumps(m.payload), m.dedupe_key) for m in messages]
    for kind, *_ in rows:
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}")
    if not rows:
        return
    await conn.execute(
        "INSERT INTO outbox (kind, ticket_id, payload, dedupe_key, next_attempt_at)"
        " SELECT k, t, p::jsonb, d, $5"
        " FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS u(k, t, p, d)"
        " ON CONFLICT (dedupe_key) DO NOTHING",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        now or utc_now(),
    )


def backoff_s(
    attempts: int, *, base_s: float, max_s: float, rng: random.Random, retry_after: float | None
) -> float:
    """Exponential backoff with half jitter: attempt n waits in [d/2, d], d = min(max, base·2^(n-1))."""
    delay: float = min(max_s, base_s * 2.0 ** max(0, attempts - 1))
    jittered = delay / 2 + rng.uniform(0, delay / 2)
    return max(jittered, retry_after or 0.0)


_CLAIM = """
WITH claimable AS (
    SELECT o.id FROM outbox o
     WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= $1
       AND NOT EXISTS (SELECT 1 FROM outbox p
                        WHERE p.ticket_id = o.ticket_id AND p.id < o.id
                          AND split_part(p.kind, '.', 1) = split_part(o.kind, '.', 1)
                          AND p.delivered_at IS NULL AND p.failed_at IS NULL)
     ORDER BY o.next_attempt_at, o.id
     LIMIT $2
     FOR UPDATE SKIP LOCKED
)
UPDATE outbox SET attempts = outbox.attempts + 1, next_attempt_at = $3
  FROM claimable WHERE outbox.id = claimable.id
RETURNING outbox.id, outbox.kind, outbox.ticket_id, outbox.payload, outbox.attempts
"""


class OutboxWorker:
    """Delivers pending outbox rows to HaloPSA. ``run()`` is the background loop; ``run_once()`` one round."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        tickets: TicketWriter,
        halopsa: HalopsaConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        poll_s: float = 2.0,
        batch_size: int = 32,
        concurrency: int = 8,
        lease_s: float = 120.0,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 600.0,
        revoker: CredentialRevoker | None = None,
    ) -> None:
        self._pool = pool
        self._tickets = tickets
        self._revoker = revoker
        self._halopsa = halopsa
        self._clock = clock
        self._rng = rng or random.Random()
        self._poll_s = poll_s
        self._batch_size = batch_size
        self._semaphore = asyncio.Semaphore(concurrency)
        self._lease = timedelta(seconds=lease_s)
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Deliver soon: called by writers after they commit rows."""
        self._wake.set()

    async def run(self, readiness: Readiness | None = None) -> None:
        """Deliver until cancelled or stopped. A failed round is logged, reported to ``readiness`` and retried."""
        self._task = asyncio.current_task()
        await run_rounds(
            self.run_once,
            self._wake,
            self._poll_s,
            "outbox",
            readiness=readiness,
            stopping=lambda: self._stopping,
        )

    async def stop(self, grace_s: float) -> None:
        """Graceful stop: claim nothing more; deliveries in flight get up to ``grace_s`` (a row cut short comes
        back to any replica when its lease ends)."""
        self._stopping = True
        self._wake.set()
        await finish_within(self._task, grace_s)

    async def run_once(self) -> int:
        """Claim and try to deliver one batch of due rows; returns how many were claimed.

        A claimed row is delivered, or rescheduled (backoff), or failed; claiming again at once only finds
        rows that became due in the meantime (such as the next row of a ticket just delivered).
        """
        now = self._clock()
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(_CLAIM, now, self._batch_size, now + self._lease)
        results = await asyncio.gather(*(self._deliver_row(row) for row in rows), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                # Recording the outcome failed (database unreachable): the lease brings the row back.
                log.warning("outbox_bookkeeping_failed", error=f"{type(result).__name__}: {result}")
        await self.update_backlog()
        return len(rows)

    async def drain(self, max_rounds: int = 100) -> int:
        """Run rounds until nothing due is left (tests, shutdown); returns how many rows were handled."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_once()
            total += handled
            if not handled:
                break
        return total

    async def update_backlog(self) -> int:
        async with self._pool.acquire() as conn:
            backlog: int = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL"
            )
        OUTBOX_BACKLOG.set(backlog)
        return backlog

    async def _deliver_row(self, row: Any) -> bool:
        row_id: int = row["id"]
        attempts: int = row["attempts"]
        async with self._semaphore:
            try:
                await self._deliver(row_id, row["kind"], row["ticket_id"], _json(row["payload"]))
            except asyncio.CancelledError:
                raise
            except AdapterError as exc:
                if exc.retryable:
                    await self._retry_later(row_id, attempts, repr(exc), exc.retry_after)
                else:
                    await self._fail(row_id, row["kind"], row["ticket_id"], repr(exc))
                return False
            except PayloadError as exc:
                await self._fail(row_id, row["kind"], row["ticket_id"], repr(exc))
                return False
            except Exception as exc:  # timeouts, connection errors, anything unforeseen: keep it, retry
                log.warning("outbox_delivery_error", row_id=row_id, error=f"{type(exc).__name__}: {exc}")
                await self._retry_later(row_id, attempts, f"{type(exc).__name__}: {exc}", None)
                return False
        async with self._pool.acquire() as conn:
            await conn.execute(
                "UPDATE outbox SET delivered_at = $2, last_error = NULL WHERE id = $1", row_id, self._clock()
            )
        return True

    async def _deliver(self, row_id: int, kind: str, ticket_id: int | None, payload: Any) -> None:
        if ticket_id is None or not isinstance(payload, dict):
            raise PayloadError(row_id, "a row needs a ticket_id and an object payload")
        if kind == FIELDS:
            fields = payload.get("custom_fields") or {}
            if not isinstance(fields, dict):
                raise PayloadError(row_id, "custom_fields must be an object")
            route = TicketRoute(status_id=_status(row_id, payload.get("status_id")))
            if payload.get("route") == "manual":  # a ticket the gate leaves to a human
                route = manual_route(self._halopsa).overridden_by({"status_id": route.status_id})
            await self._tickets.update_ticket(
                ticket_id,
                custom_fields={str(k): str(v) for k, v in fields.items()} or None,
                **route.update_args(),
            )
        elif kind == NOTE:
            await self._tickets.add_note(
                ticket_id, _note(row_id, payload), private=bool(payload.get("private", True))
            )
        elif kind in (RESOLVE, ESCALATE):
            await self._note_then_status(row_id, kind, ticket_id, payload)
        elif kind == REVOKE:
            await self._revoke(row_id, ticket_id, payload)
        else:
            raise PayloadError(row_id, f"unknown kind {kind!r}")

    async def _note_then_status(
        self, row_id: int, kind: str, ticket_id: int, payload: dict[str, Any]
    ) -> None:
        if kind == RESOLVE:
            status = _status(row_id, payload.get("status_id")) or self._halopsa.status_resolved_id
            route = TicketRoute(status_id=status or None)
            note = _note(row_id, payload, default="Resolved automatically by TicketPilot.")
        else:
            try:
                route = escalation_route(self._halopsa, payload)
            except ValueError as exc:
                raise PayloadError(row_id, str(exc)) from None
            reason = str(payload.get("reason") or "automation could not complete safely")
            note = _note(row_id, payload, default=f"TicketPilot handed this ticket to an engineer: {reason}")
            note += f"\n\nHanded to: {route.describe()}." if not route.empty else ""
        if not payload.get("note_delivered"):
            await self._tickets.add_note(ticket_id, note, private=bool(payload.get("private", True)))
            async with self._pool.acquire() as conn:
                await conn.execute(
                    "UPDATE outbox SET payload = payload || jsonb_build_object('note_delivered', true)"
                    " WHERE id = $1",
                    row_id,
                )
        if not route.empty:
            await self._tickets.update_ticket(ticket_id, **route.update_args())

    async def _revoke(self, row_id: int, ticket_id: int, payload: dict[str, Any]) -> None:
        """Delete a TAP that was never delivered; then a note on the ticket says what happened."""
        user_id, method_id = str(payload.get("user_id") or ""), str(payload.get("method_id") or "")
        what = str(payload.get("what") or "the Temporary Access Pass")
        if payload.get("kind") != "temporary_access_pass" or not user_id or not method_id:
            raise PayloadError(
                row_id, "credential.revoke needs kind temporary_access_pass, user_id, method_id"
            )
        if self._revoker is None:  # a wiring bug: keep the row, it is retried once a revoker is there
            raise AdapterError("outbox", "no credential revoker is wired in", retryable=True)
        try:
            deleted = await self._revoker.delete_temporary_access_pass(user_id, method_id)
        except AdapterError as exc:
            if not exc.retryable:
                await self._follow_up_note(
                    row_id,
                    ticket_id,
                    f"TicketPilot could not delete {what} in Entra ID ({exc.message[:300]}). It was never "
                    "delivered, but stays valid until it expires: delete it by hand (Entra admin center → "
                    "Users → the user → Authentication methods → Temporary Access Pass).",
                )
            raise
        log.info("outbox_credential_revoked", row_id=row_id, ticket_id=ticket_id, deleted=deleted)
        await self._follow_up_note(
            row_id,
            ticket_id,
            f"TicketPilot deleted {what} in Entra ID: it was never delivered and can no longer be used."
            if deleted
            else f"{what[:1].upper()}{what[1:]} was already gone from Entra ID (used, expired or replaced): "
            "nothing was left to delete.",
        )

    async def _follow_up_note(self, row_id: int, ticket_id: int, note: str) -> None:
        """A private note queued once per row (its dedupe key), delivered after the ticket's earlier notes."""
        async with self._pool.acquire() as conn:
            await enqueue(
                conn,
                [OutboxMessage(NOTE, ticket_id, {"note": note, "private": True}, f"outbox:{row_id}:note")],
                now=self._clock(),
            )
        self.wake()

    async def _retry_later(self, row_id: int, attempts: int, error: str, retry_after: float | None) -> None:
        delay = backoff_s(
            attempts,
            base_s=self._backoff_base_s,
            max_s=self._backoff_max_s,
            rng=self._rng,
            retry_after=retry_after,
        )
        log.info(
            "outbox_delivery_retry", row_id=row_id, attempts=attempts, retry_in_s=round(delay, 1), error=error
        )
        async with self._pool.acquire() as conn:
            await conn.execute(
                "UPDATE outbox SET next_attempt_at = $2, last_error = $3 WHERE id = $1",
                row_id,
                self._clock() + timedelta(seconds=delay),
                error[:1000],
            )

    async def _fail(self, row_id: int, kind: str, ticket_id: int | None, error: str) -> None:
        log.error("outbox_delivery_refused", row_id=row_id, kind=kind, ticket_id=ticket_id, error=error)
        async with self._pool.acquire() as conn:
            await conn.execute(
                "UPDATE outbox SET failed_at = $2, last_error = $3 WHERE id = $1",
                row_id,
                self._clock(),
                error[:1000],
            )


def _note(row_id: int, payload: dict[str, Any], *, default: str = "") -> str:
    note = payload.get("note")
    if note is None and default:
        return default
    if not isinstance(note, str) or not note.strip():
        raise PayloadError(row_id, "payload.note must be a non-empty string")
    return note


def _status(row_id: int, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(row_id, "status_id must be an integer")
    return value or None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
