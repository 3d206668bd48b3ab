"""Claims on webhook inbox rows: who is deciding a row, for how long, and giving rows back.

A worker claims due rows in its own name (``claimed_by``, the engine's owner id) with a short lease
(``[engine] inbox_lease_s``) carried by ``next_attempt_at``, and renews it while it works on them (a heartbeat
every third of the lease). A killed process stops renewing: another process takes its rows over within one
lease, not minutes later. A process stopped gracefully gives back at once the rows it has not finished, and a
restarted process gives back what its previous incarnation held (same owner id). Giving a row back does not
count as an attempt. Finishing, retrying or deferring a row clears its claim (see ``inbox_worker.py``), so a
late heartbeat can never move a retry's time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import asyncpg
import structlog

log = structlog.get_logger(__name__)

CLAIM = """
WITH claimable AS (
    SELECT id FROM webhook_inbox
     WHERE status = 'pending' AND next_attempt_at <= $1
     ORDER BY id
     LIMIT $2
     FOR UPDATE SKIP LOCKED
)
UPDATE webhook_inbox w SET attempts = w.attempts + 1, next_attempt_at = $3, claimed_by = $4
  FROM claimable WHERE w.id = claimable.id
RETURNING w.id, w.event, w.ticket_id, w.attempts, w.deferred_since
"""

_RENEW = """
UPDATE webhook_inbox SET next_attempt_at = $3
 WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status = 'pending'
"""

_RELEASE = """
UPDATE webhook_inbox SET claimed_by = NULL, next_attempt_at = $2, attempts = GREATEST(attempts - 1, 0)
 WHERE claimed_by = $1 AND status = 'pending'
"""


async def release(pool: asyncpg.Pool, owner: str, now: datetime) -> int:
    """Give back every unfinished row ``owner`` holds, due at once; returns how many."""
    async with pool.acquire() as conn:
        status = await conn.execute(_RELEASE, owner, now)
    return int(status.split()[-1])


class Heartbeat:
    """Renews the leases of the rows a worker is working on (``hold``/``let_go``), every ``lease / 3``."""

    def __init__(
        self, pool: asyncpg.Pool, owner: str, lease: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self._pool = pool
        self._owner = owner
        self._lease = lease
        self._clock = clock
        self._held: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"Heartbeat(owner={self._owner!r}, held={len(self._held)})"

    def hold(self, row_ids: Iterable[int]) -> None:
        self._held.update(row_ids)

    def let_go(self, row_id: int) -> None:
        self._held.discard(row_id)

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._beat(), name="inbox-heartbeat")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _beat(self) -> None:
        every = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            if not self._held:
                continue
            try:
                async with self._pool.acquire() as conn:
                    await conn.execute(_RENEW, list(self._held), self._owner, self._clock() + self._lease)
            except Exception as exc:  # the lease may run out: another worker then takes the rows over
                log.warning("inbox_heartbeat_failed", error=f"{type(exc).__name__}: {exc}"[:300])
