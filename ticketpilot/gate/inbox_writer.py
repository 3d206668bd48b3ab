"""The durable webhook inbox writer: group commits across concurrent requests.

Each webhook request hands its deliveries to :meth:`InboxWriter.record` and waits. A small number of
flusher tasks take everything queued so far and INSERT it in one transaction (one multi-row
``INSERT … ON CONFLICT DO NOTHING``); every waiting request is answered after *its* rows are committed.
Under load many requests share one commit (the natural batching of a group commit: while one batch
commits, the next one gathers); when idle, a lone request is written at once, with no linger.

A failed batch (database unreachable) fails every request in it, which then answers 503: HaloPSA
retries, and nothing is acknowledged that is not durable.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog

from ticketpilot.database import leave_standby, release_quietly
from ticketpilot.gate.deliveries import Delivery

log = structlog.get_logger(__name__)

_INSERT = """
INSERT INTO webhook_inbox (source, event, delivery_id, ticket_id, payload)
SELECT s, e, d, t, p::jsonb
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) AS u(s, e, d, t, p)
ON CONFLICT (source, event, delivery_id) DO NOTHING
RETURNING source, event, delivery_id
"""


@dataclass
class _Request:
    deliveries: Sequence[Delivery]
    done: asyncio.Future[list[bool]]


@dataclass
class InboxWriter:
    """Writes deliveries to ``webhook_inbox``; ``record`` returns, per delivery, True if it was new."""

    pool: asyncpg.Pool
    max_batch: int = 512
    flushers: int = 1
    acquire_timeout_s: float = 10.0
    """A request waits at most this long for a connection (pool exhausted, server unreachable): then 503."""
    _queue: deque[_Request] = field(default_factory=deque)
    _kick: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _closed: bool = False

    async def record(self, deliveries: Sequence[Delivery]) -> list[bool]:
        """Commit ``deliveries`` (with whatever else is queued); per delivery, True if it was new."""
        if not deliveries:
            return []
        if self._closed:
            raise RuntimeError("the inbox writer is stopped")
        self._start()
        request = _Request(deliveries, asyncio.get_running_loop().create_future())
        self._queue.append(request)
        self._kick.set()
        return await request.done

    async def stop(self) -> None:
        """Write what is queued, then stop the flushers."""
        self._closed = True
        self._kick.set()
        tasks, self._tasks = self._tasks, []
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self) -> None:
        # A flusher never ends on its own while the writer is open; should one have died all the same, a
        # new one takes its place, so no request can wait on a queue that nobody serves.
        self._tasks = [t for t in self._tasks if not t.done()]
        for i in range(len(self._tasks), self.flushers):
            self._tasks.append(asyncio.create_task(self._flush_loop(), name=f"inbox-writer-{i}"))

    async def _flush_loop(self) -> None:
        # Each flusher keeps one pooled connection: a release per batch would cost a reset round trip. A
        # batch that fails gives its connection back (a lost one is detached by the pool already, and any
        # call on it raises), so the next batch starts from a fresh connection: after a restart, a failover
        # or terminated backends, the first batch answers 503 and the next one is recorded.
        conn: Any = None
        try:
            while True:
                if not self._queue:
                    if self._closed:
                        return
                    self._kick.clear()
                    await self._kick.wait()
                    continue
                batch = self._take()
                error: BaseException | None = None
                try:
                    if conn is None:
                        conn = await self.pool.acquire(timeout=self.acquire_timeout_s)
                    write = asyncio.ensure_future(self._write(conn, batch))
                    try:
                        await asyncio.shield(write)
                    except asyncio.CancelledError:
                        # Shutdown: still finish the commit the callers wait for, and answer them.
                        await asyncio.wait([write])
                        _settle(batch, write)
                        raise
                    error = write.exception()
                    _settle(batch, write)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # acquiring failed: the batch is not recorded
                    error = exc
                    _fail(batch, exc)
                if error is not None and conn is not None:
                    conn, lost = None, conn
                    await release_quietly(self.pool, lost)
                await leave_standby(self.pool, error)
        finally:
            if conn is not None:
                await release_quietly(self.pool, conn)

    def _take(self) -> list[_Request]:
        batch: list[_Request] = []
        size = 0
        while self._queue and (not batch or size + len(self._queue[0].deliveries) <= self.max_batch):
            request = self._queue.popleft()
            batch.append(request)
            size += len(request.deliveries)
        return batch

    async def _write(self, conn: Any, batch: list[_Request]) -> list[list[bool]]:
        unique: dict[tuple[str, str, str], Delivery] = {}
        for request in batch:
            for delivery in request.deliveries:
                unique.setdefault(delivery.key, delivery)
        rows = list(unique.values())
        inserted_rows = await conn.fetch(
            _INSERT,
            [d.source for d in rows],
            [d.event for d in rows],
            [d.delivery_id for d in rows],
            [d.ticket_id for d in rows],
            [_payload_text(d.payload) for d in rows],
        )
        inserted = {(r["source"], r["event"], r["delivery_id"]) for r in inserted_rows}
        results: list[list[bool]] = []
        for request in batch:
            flags: list[bool] = []
            for delivery in request.deliveries:
                # The first copy of a key in the batch was inserted; later copies are duplicates.
                flags.append(delivery.key in inserted)
                inserted.discard(delivery.key)
            results.append(flags)
        return results


def _settle(batch: list[_Request], write: asyncio.Future[list[list[bool]]]) -> None:
    """Answer every request of ``batch`` from the finished ``write``."""
    exc = write.exception()
    if exc is not None:
        _fail(batch, exc)
        return
    for request, result in zip(batch, write.result(), strict=True):
        if not request.done.done():
            request.done.set_result(result)


def _fail(batch: list[_Request], exc: BaseException) -> None:
    log.warning("inbox_write_failed", requests=len(batch), error=f"{type(exc).__name__}: {exc}")
    for request in batch:
        if not request.done.done():
            request.done.set_exception(InboxUnavailable(str(exc)))


class InboxUnavailable(Exception):
    """The inbox could not be written (database error): the webhook must not be acknowledged."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __repr__(self) -> str:
        return f"InboxUnavailable(reason={self.reason!r})"


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _payload_text(payload: dict[str, Any]) -> str:
    text = _ENCODER.encode(payload)
    if "\\u0000" in text:  # PostgreSQL jsonb rejects NUL characters; one bad body must not fail a batch
        text = _ENCODER.encode(_strip_nul(payload))
    return text


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    return value
