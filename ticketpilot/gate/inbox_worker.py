"""The inbox worker: turns recorded webhook deliveries into gate decisions and cancellations.

For each pending ``webhook_inbox`` row, oldest first:

1. re-read the ticket from HaloPSA by id (nothing in the webhook body is trusted beyond the id) and
   upsert it into ``tickets``;
2. ``ticket_created``: unless the ticket is already closed, ``Gate.decide`` it (once per ticket: a
   ticket already decided is not decided again);
3. ``ticket_updated``: a ticket closed in HaloPSA (``hasbeenclosed``, or a status in
   ``halopsa.status_closed_ids``) has its live executions cancelled with the reason
   "ticket closed in HaloPSA". An update never starts a decision.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` and a short lease renewed by a heartbeat
(``inbox_claims.py``), so several workers or processes share the table, a killed worker's rows are taken over
within one lease, and ``stop()`` gives back at once what a gracefully stopped one has not finished. Rows of one ticket are handled in order.
Failures back off exponentially (HaloPSA down, database hiccup); a refusal that cannot change (ticket
not found, 4xx) or ``max_attempts`` failures mark the row ``failed`` with its error.

A ``ticket_created`` decision that meets a throttled or failing vendor (the HaloPSA ticket read, Graph, the
LLM: 429, 5xx, timeouts) is deferred instead (``deferral.py``): the row records ``deferred_since`` and its
next attempt (``Retry-After`` honoured), so a restart keeps the schedule, and nothing is written to HaloPSA
meanwhile. Once ``gate.max_decision_delay_s`` has passed since the first deferral, the last attempt decides
with a ``*_unavailable`` blocker if the vendor still fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import structlog

from ticketpilot.adapters.base import AdapterError, Ticket
from ticketpilot.config import HalopsaConfig
from ticketpilot.gate.blockers import BlockerName
from ticketpilot.gate.deferral import DecisionDeferred, may_defer, next_attempt_at
from ticketpilot.gate.deliveries import TICKET_CREATED, TICKET_UPDATED
from ticketpilot.gate.inbox_claims import CLAIM, Heartbeat, release
from ticketpilot.gate.outbox import backoff_s
from ticketpilot.gate.policy import utc_now
from ticketpilot.gate.polling import finish_within, run_rounds
from ticketpilot.readiness import Readiness

log = structlog.get_logger(__name__)

CLOSED_REASON = "ticket closed in HaloPSA"


class TicketReader(Protocol):
    async def get_ticket(self, ticket_id: int) -> Ticket: ...


class TicketDecider(Protocol):
    """The part of :class:`ticketpilot.gate.service.Gate` the worker uses."""

    async def decide(self, ticket: Ticket, *, source: Any = "webhook", may_defer: bool = False) -> Any: ...

    async def decide_unreadable(self, ticket_id: int, detail: str) -> Any: ...

    async def hand_back_unstarted(self, ticket_id: int, error: str) -> bool: ...


class ExecutionCanceller(Protocol):
    """The part of the engine the worker uses."""

    async def cancel(self, execution_id: UUID, reason: str) -> Any: ...


_UPSERT_TICKET = """
INSERT INTO tickets (ticket_id, summary, requester_email, requester_oid, status_id, closed, updated_at)
VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6, $7)
ON CONFLICT (ticket_id) DO UPDATE SET
    summary = EXCLUDED.summary, requester_email = EXCLUDED.requester_email,
    requester_oid = EXCLUDED.requester_oid, status_id = EXCLUDED.status_id, closed = EXCLUDED.closed,
    updated_at = EXCLUDED.updated_at
"""


class InboxWorker:
    """Processes ``webhook_inbox`` rows. ``run()`` is the background loop; ``run_once()`` one round."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        tickets: TicketReader,
        gate: TicketDecider,
        engine: ExecutionCanceller,
        halopsa: HalopsaConfig,
        *,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        poll_s: float = 2.0,
        batch_size: int = 32,
        concurrency: int = 4,
        lease_s: float = 300.0,
        owner: str | None = None,
        max_attempts: int = 10,
        backoff_base_s: float = 5.0,
        backoff_max_s: float = 900.0,
        max_decision_delay_s: float = 900.0,
    ) -> None:
        self._pool = pool
        self._tickets = tickets
        self._gate = gate
        self._engine = engine
        self._closed_ids = frozenset(halopsa.status_closed_ids)
        self._clock = clock
        self._rng = rng or random.Random()
        self._poll_s = poll_s
        self._batch_size = batch_size
        self._semaphore = asyncio.Semaphore(concurrency)
        self._lease = timedelta(seconds=lease_s)
        self._max_attempts = max_attempts
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._max_decision_delay = timedelta(seconds=max_decision_delay_s)
        self._wake = asyncio.Event()
        self._owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._heartbeat = Heartbeat(pool, self._owner, self._lease, clock)
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """New rows were committed: process soon."""
        self._wake.set()

    async def run(self, readiness: Readiness | None = None) -> None:
        """Process rows until cancelled or stopped; a failed round is logged, reported to ``readiness`` and
        retried. First gives back what this owner's previous incarnation held (it died or was stopped)."""
        self._task = asyncio.current_task()
        with contextlib.suppress(Exception):  # unreachable database: the lease brings those rows back anyway
            if released := await release(self._pool, self._owner, self._clock()):
                log.info("inbox_rows_released", owner=self._owner, count=released, why="previous run")
        self._heartbeat.start()
        try:
            await run_rounds(
                self.run_once,
                self._wake,
                self._poll_s,
                "inbox",
                readiness=readiness,
                stopping=lambda: self._stopping,
            )
        finally:
            await self._heartbeat.stop()

    async def stop(self, grace_s: float) -> None:
        """Graceful stop: claim nothing more, let the rows in progress finish within ``grace_s`` (their
        heartbeat keeps them), then give back at once every claimed row not finished."""
        self._stopping = True
        self._wake.set()
        await finish_within(self._task, grace_s)
        await self._heartbeat.stop()
        try:
            released = await release(self._pool, self._owner, self._clock())
        except Exception as exc:  # unreachable database: the short lease hands them over instead
            log.warning("inbox_release_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return
        log.info("inbox_worker_stopped", owner=self._owner, released=released)

    async def run_once(self) -> int:
        """Claim due rows and process them (in order per ticket); returns how many were claimed."""
        now = self._clock()
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(CLAIM, now, self._batch_size, now + self._lease, self._owner)
        self._heartbeat.hold(r["id"] for r in rows)
        by_ticket: dict[int | None, list[Any]] = defaultdict(list)
        for row in rows:
            by_ticket[row["ticket_id"]].append(row)
        results = await asyncio.gather(
            *(self._process_ticket(group) for group in by_ticket.values()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                log.warning("inbox_bookkeeping_failed", error=f"{type(result).__name__}: {result}")
        return len(rows)

    async def drain(self, max_rounds: int = 100) -> int:
        """Run rounds until nothing due is left (tests, shutdown); returns how many rows were claimed."""
        total = 0
        for _ in range(max_rounds):
            claimed = await self.run_once()
            total += claimed
            if not claimed:
                break
        return total

    async def _process_ticket(self, rows: list[Any]) -> None:
        async with self._semaphore:
            for row in rows:
                if self._stopping:
                    return  # not started: stop() gives it back
                try:
                    await self._process_row(row)
                finally:
                    self._heartbeat.let_go(row["id"])

    async def _process_row(self, row: Any) -> None:
        row_id: int = row["id"]
        attempts: int = row["attempts"]
        ticket_id: int | None = row["ticket_id"]
        try:
            if ticket_id is None:
                await self._finish(row_id, "ignored", "no ticket id")
                return
            deferrable = may_defer(row["deferred_since"], self._clock(), self._max_decision_delay)
            outcome = await self.process(row["event"], ticket_id, may_defer=deferrable)
        except asyncio.CancelledError:
            raise
        except DecisionDeferred as deferred:
            await self._defer(row_id, ticket_id, attempts, row["deferred_since"], deferred)
            return
        except AdapterError as exc:
            if not exc.retryable:
                await self._finish(row_id, "failed", repr(exc))
                log.error("inbox_row_failed", row_id=row_id, ticket_id=ticket_id, error=repr(exc))
                await self._hand_back(row["event"], ticket_id, repr(exc))
                return
            await self._retry_or_fail(row_id, ticket_id, attempts, repr(exc), exc.retry_after, row["event"])
            return
        except Exception as exc:
            log.warning("inbox_row_error", row_id=row_id, ticket_id=ticket_id, exc_info=True)
            error = f"{type(exc).__name__}: {exc}"
            await self._retry_or_fail(row_id, ticket_id, attempts, error, None, row["event"])
            return
        await self._finish(row_id, "done", None)
        log.info(
            "inbox_row_done", row_id=row_id, ticket_id=ticket_id, webhook_event=row["event"], outcome=outcome
        )

    async def _hand_back(self, event: str, ticket_id: int | None, error: str) -> None:
        """A ``ticket_created`` row given up on must not leave its ticket "automated" with nothing running."""
        if event != TICKET_CREATED or ticket_id is None:
            return
        try:
            if await self._gate.hand_back_unstarted(ticket_id, error):
                log.warning("ticket_handed_back", ticket_id=ticket_id, error=error)
        except Exception:
            log.exception("ticket_hand_back_failed", ticket_id=ticket_id)

    async def process(self, event: str, ticket_id: int, *, may_defer: bool = False) -> str:
        """Handle one delivery of ``event`` for ``ticket_id``; returns what was done, for the log.

        ``may_defer``: a ``ticket_created`` decision that meets a throttled or failing vendor raises
        :class:`DecisionDeferred`; without it, the decision is taken with that vendor's blocker.
        """
        try:
            ticket = await self._tickets.get_ticket(ticket_id)
        except AdapterError as exc:
            if event != TICKET_CREATED or not exc.retryable:
                raise
            detail = f"reading the ticket failed: {exc.message}"
            if may_defer:
                raise DecisionDeferred(BlockerName.HALOPSA_UNAVAILABLE, detail, exc.retry_after) from None
            record = await self._gate.decide_unreadable(ticket_id, detail)
            outcome = getattr(record, "outcome", None)
            return f"decided: {getattr(outcome, 'value', outcome)} (HaloPSA unavailable)"
        closed = ticket.closed or (ticket.status_id is not None and ticket.status_id in self._closed_ids)
        async with self._pool.acquire() as conn:
            await conn.execute(
                _UPSERT_TICKET,
                ticket.id,
                ticket.summary[:1000],
                ticket.user_email,
                ticket.user_azure_oid,
                ticket.status_id,
                closed,
                self._clock(),
            )
        if event == TICKET_CREATED:
            if closed:
                return "skipped: ticket already closed"
            record = await self._gate.decide(ticket, source="webhook", may_defer=may_defer)
            outcome = getattr(record, "outcome", None)
            return f"decided: {getattr(outcome, 'value', outcome)}"
        if event == TICKET_UPDATED and closed:
            cancelled = await self.cancel_live_executions(ticket_id)
            return f"closed: {cancelled} execution(s) cancelled"
        return "updated"

    async def cancel_live_executions(self, ticket_id: int) -> int:
        """Cancel every running or waiting execution of ``ticket_id``; returns how many."""
        async with self._pool.acquire() as conn:
            ids = [
                r["execution_id"]
                for r in await conn.fetch(
                    "SELECT execution_id FROM playbook_executions"
                    " WHERE ticket_id = $1 AND state IN ('RUNNING', 'WAITING')",
                    ticket_id,
                )
            ]
        for execution_id in ids:
            await self._engine.cancel(execution_id, CLOSED_REASON)
            log.info("execution_cancel_requested", ticket_id=ticket_id, execution_id=str(execution_id))
        return len(ids)

    async def _retry_or_fail(
        self,
        row_id: int,
        ticket_id: int | None,
        attempts: int,
        error: str,
        retry_after: float | None,
        event: str = "",
    ) -> None:
        if attempts >= self._max_attempts:
            log.error("inbox_row_failed", row_id=row_id, ticket_id=ticket_id, attempts=attempts, error=error)
            await self._finish(row_id, "failed", error)
            await self._hand_back(event, ticket_id, error)
            return
        delay = backoff_s(
            attempts,
            base_s=self._backoff_base_s,
            max_s=self._backoff_max_s,
            rng=self._rng,
            retry_after=retry_after,
        )
        async with self._pool.acquire() as conn:
            await conn.execute(
                "UPDATE webhook_inbox SET next_attempt_at = $2, last_error = $3, claimed_by = NULL WHERE id = $1",
                row_id,
                self._clock() + timedelta(seconds=delay),
                error[:1000],
            )

    async def _defer(
        self,
        row_id: int,
        ticket_id: int | None,
        attempts: int,
        deferred_since: datetime | None,
        deferred: DecisionDeferred,
    ) -> None:
        now = self._clock()
        since = deferred_since or now
        next_at = next_attempt_at(
            deferred,
            now=now,
            deferred_since=since,
            max_delay=self._max_decision_delay,
            attempts=attempts,
            base_s=self._backoff_base_s,
            max_s=self._backoff_max_s,
            rng=self._rng,
        )
        log.info(
            "decision_deferred",
            row_id=row_id,
            ticket_id=ticket_id,
            unavailable=deferred.blocker.value,
            retry_after_s=deferred.retry_after,
            next_attempt_in_s=round((next_at - now).total_seconds(), 1),
            error=deferred.detail,
        )
        async with self._pool.acquire() as conn:
            await conn.execute(
                "UPDATE webhook_inbox SET next_attempt_at = $2, last_error = $3, claimed_by = NULL,"
                " deferred_since = COALESCE(deferred_since, $4) WHERE id = $1",
                row_id,
                next_at,
                repr(deferred)[:1000],
                since,
            )

    async def _finish(self, row_id: int, status: str, error: str | None) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                "UPDATE webhook_inbox SET status = $2, last_error = $3, processed_at = $4, claimed_by = NULL"
                " WHERE id = $1",
                row_id,
                status,
                error[:1000] if error else None,
                self._clock(),
            )
