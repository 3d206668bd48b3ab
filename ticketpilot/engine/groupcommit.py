"""Group commit: transitions that are ready at the same moment share one database transaction.

Actors hand their checkpoint to :class:`GroupCommitter` and await its durability. The committer collects
for up to ``linger`` after the oldest queued item arrived (or until ``batch_max`` items), writes them all
with one statement (one transaction, one round trip) and resolves each actor's future. A batch that fails
is retried item by item, so one bad transition cannot sink the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import structlog

from ticketpilot.engine.store import CreateResult, PendingCheckpoint, PendingCreate, write_batch
from ticketpilot.metrics import CHECKPOINT_BATCH

log = structlog.get_logger(__name__)

Item = PendingCreate | PendingCheckpoint


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
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        owner: str,
        lease_s: float,
        linger_s: float,
        batch_max: int,
        max_in_flight: int = 2,
    ) -> None:
        self._pool = pool
        self._owner = owner
        self._lease_s = lease_s
        self._linger_s = linger_s
        self._batch_max = batch_max
        self._queue: list[_Waiter] = []
        self._first_at = 0.0
        """``loop.time()`` when the oldest queued item arrived: the linger runs from there."""
        self._ready = asyncio.Event()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._flushes: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="engine-group-commit")

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
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._queue:
            self._first_at = loop.time()
            self._ready.set()
        self._queue.append(_Waiter(item, future))
        return future

    async def close(self) -> None:
        """Commit what is queued, wait for flushes in flight, then stop."""
        self._closed = True
        self._ready.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)

    def abort(self) -> None:
        """Stop at once without committing anything more (a simulated crash)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
        for task in self._flushes:
            task.cancel()
        for waiter in self._queue:
            if not waiter.future.done():
                waiter.future.cancel()
        self._queue.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._ready.wait()
            if not self._queue:
                self._ready.clear()
                if self._closed:
                    return
                continue
            if len(self._queue) < self._batch_max and not self._closed:
                # A burst of actors that all resumed in one loop iteration has usually outlived the
                # linger by now: it is not waited again.
                remaining = self._first_at + self._linger_s - loop.time()
                if remaining > 0:
                    await asyncio.sleep(remaining)
            await self._slots.acquire()
            batch = self._queue[: self._batch_max]
            del self._queue[: self._batch_max]
            if not self._queue:  # what is left has waited its linger already: it goes next
                self._ready.clear()
            task = asyncio.create_task(self._flush(batch))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

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
            self._slots.release()

    async def _write(self, batch: list[_Waiter]) -> None:
        creates = [w.item for w in batch if isinstance(w.item, PendingCreate)]
        checkpoints = [w.item for w in batch if isinstance(w.item, PendingCheckpoint)]
        async with self._pool.acquire() as conn:
            # One statement: its own transaction, committed (durable) when it returns.
            results, applied = await write_batch(
                conn, creates, checkpoints, owner=self._owner, lease_s=self._lease_s
            )
            # Resolved before the connection goes back to the pool (its reset is off the actors' path).
            created = iter(results)
            for waiter in batch:
                if waiter.future.done():
                    continue
                if isinstance(waiter.item, PendingCreate):
                    waiter.future.set_result(next(created))
                else:
                    waiter.future.set_result(waiter.item.checkpoint.state.execution_id in applied)
        CHECKPOINT_BATCH.observe(len(batch))


def _fail(waiter: _Waiter, exc: Exception) -> None:
    if not waiter.future.done():
        waiter.future.set_exception(exc)
