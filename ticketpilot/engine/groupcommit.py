"""Group commit: transitions that are ready at the same moment share one database transaction.

Actors hand their checkpoint to :class:`GroupCommitter` and await its durability. The committer collects
for up to ``linger`` after the oldest queued item arrived (or until ``eager_at`` items are queued), writes
up to ``batch_max`` of them with one statement (one transaction, one round trip) and resolves each actor's
future once that statement has committed. A batch that fails is retried item by item, so one bad
transition cannot sink the others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import asyncpg
import structlog

from ticketpilot.engine.store import CreateResult, PendingCheckpoint, PendingCreate, write_batch
from ticketpilot.metrics import CHECKPOINT_BATCH

log = structlog.get_logger(__name__)

Item = PendingCreate | PendingCheckpoint

EAGER_AT = 50
"""Queued items that are worth a transaction of their own, without waiting for the linger. Measured with
bench/engine_throughput.py (100 concurrent): 50 beat 32, 64 and 256 (no early flush), and beat a threshold
adapted to the number of items circulating (better at 200 concurrent, worse at 100 and 30)."""


class CommitterClosed(RuntimeError):
    """The engine is stopping: no more transitions are accepted."""


class _Waiter:
    __slots__ = ("future", "item")

    def __init__(self, item: Item, future: asyncio.Future[Any]) -> None:
        self.item = item
        self.future = future

    def __repr__(self) -> str:
        return f"_Waiter({self.item!r})"


class GroupCommitter:
    """Batches checkpoints (and new executions) of every actor into few transactions.

    No dispatcher task: a batch is started (as a task) by whatever makes it due — the submit that makes the
    queue ``eager_at`` long, the linger timer, or the end of the previous flush. A committed batch wakes its
    actors ``eager_at`` at a time, one loop iteration apart: the first ones' next checkpoints are on their
    way to the database while the later ones still compute theirs (database and Python overlap instead of
    taking turns).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        owner: str,
        lease_s: float,
        linger_s: float,
        batch_max: int,
        max_in_flight: int = 2,
        eager_at: int | None = None,
    ) -> None:
        """``linger_s``: how long the oldest queued item may wait for company. ``eager_at``: a queue this
        long is flushed without waiting for the linger (default: ``EAGER_AT``, at most ``batch_max``)."""
        self._pool = pool
        self._owner = owner
        self._lease_s = lease_s
        self._linger_s = linger_s
        self._batch_max = batch_max
        self._eager_at = max(1, min(batch_max, eager_at or EAGER_AT))
        self._free = max_in_flight
        self._queue: list[_Waiter] = []
        self._first_at = 0.0
        """``loop.time()`` when the oldest queued item arrived: the linger runs from there."""
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()
        self._wake: deque[tuple[asyncio.Future[Any], Any]] = deque()
        self._waking = False
        self._aborted = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"GroupCommitter(queued={len(self._queue)}, in_flight={len(self._flushes)}, closed={self._closed})"

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    def create(self, item: PendingCreate) -> asyncio.Future[CreateResult]:
        """Resolves to the new execution (or the existing one of that ticket and playbook) once durable."""
        return self._submit(item)

    def checkpoint(self, item: PendingCheckpoint) -> asyncio.Future[bool]:
        """Resolves to True once durable; False when fenced out (this process no longer holds the
        execution). Raises :class:`CommitterClosed` at once when the engine is stopping."""
        return self._submit(item)

    def _submit(self, item: Item) -> asyncio.Future[Any]:
        # A plain function handing out the future: no coroutine per transition.
        if self._closed:
            raise CommitterClosed("the engine is stopping")
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        queue = self._queue
        queue.append(_Waiter(item, future))
        if len(queue) == 1:
            self._first_at = loop.time()
            self._arm(loop)
        elif len(queue) >= self._eager_at and self._free:
            self._dispatch()
        return future

    async def close(self) -> None:
        """Commit what is queued, wait for flushes in flight, then stop."""
        self._closed = True
        self._dispatch()
        while self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def abort(self) -> None:
        """Stop at once without committing anything more (a simulated crash): queued items are dropped,
        flushes in flight cancelled, and no actor is woken any more (not even for a batch that did commit:
        after a crash nobody hears of it)."""
        self._closed = self._aborted = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for waiter in self._queue:
            if not waiter.future.done():
                waiter.future.cancel()
        self._queue.clear()
        self._wake.clear()
        for task in self._flushes:
            task.cancel()
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)

    # ---- dispatch ----------------------------------------------------------------------------------------

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(self._first_at + self._linger_s, self._on_linger)

    def _on_linger(self) -> None:
        self._timer = None
        self._dispatch()

    def _dispatch(self) -> None:
        """Start flushes while an in-flight slot is free and the head of the queue is due: closing, long
        enough, or lingered long enough. Not due yet: the linger timer comes back for it."""
        loop = self._loop
        queue = self._queue
        while queue and self._free:
            if not (
                self._closed
                or len(queue) >= self._eager_at
                or loop is None
                or loop.time() >= self._first_at + self._linger_s
            ):
                if self._timer is None and loop is not None:
                    self._arm(loop)
                return
            # Left-overs keep the oldest arrival time: they have waited already and go next.
            batch = queue[: self._batch_max]
            del queue[: self._batch_max]
            self._free -= 1
            task = asyncio.ensure_future(self._flush(batch), loop=loop)
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)
        if not queue and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _flush(self, batch: list[_Waiter]) -> None:
        try:
            try:
                await self._write(batch)
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0], exc)
                    return
                log.warning("checkpoint_batch_failed", size=len(batch), error=repr(exc))
                for waiter in batch:  # isolate the culprit
                    try:
                        await self._write([waiter])
                    except Exception as item_exc:
                        _fail(waiter, item_exc)
        finally:
            self._free += 1
            if self._queue:
                self._dispatch()

    async def _write(self, batch: list[_Waiter]) -> None:
        creates = [w.item for w in batch if isinstance(w.item, PendingCreate)]
        checkpoints = [w.item for w in batch if isinstance(w.item, PendingCheckpoint)]
        async with self._pool.acquire() as conn:
            # One statement: its own transaction, committed (durable) when it returns.
            results, applied = await write_batch(
                conn, creates, checkpoints, owner=self._owner, lease_s=self._lease_s
            )
            created = iter(results)
            outcomes = [
                (
                    w.future,
                    next(created)
                    if isinstance(w.item, PendingCreate)
                    else w.item.checkpoint.state.execution_id in applied,
                )
                for w in batch
            ]
            # Before the connection goes back to the pool: its reset is off the actors' path.
            if not self._aborted:
                self._wake.extend(outcomes)
                if not self._waking:
                    self._wake_some()
        CHECKPOINT_BATCH.observe(len(batch))

    def _wake_some(self) -> None:
        """Resolve the next ``eager_at`` durable futures; the rest one loop iteration later. Batches that
        complete together are woken one after the other, so the first group's next batch goes out while
        the next group computes."""
        wake = self._wake
        for _ in range(min(self._eager_at, len(wake))):
            future, value = wake.popleft()
            if not future.done():
                future.set_result(value)
        self._waking = bool(wake)
        if wake:
            (self._loop or asyncio.get_running_loop()).call_soon(self._wake_some)


def _fail(waiter: _Waiter, exc: Exception) -> None:
    if not waiter.future.done():
        waiter.future.set_exception(exc)
