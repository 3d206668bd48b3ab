"""Delayed actions of the sandbox twins (a manager's click, a delivery report): in memory (kept so that tests
can wait for them and a shutdown can cancel them), or durable in PostgreSQL (:class:`DurablePendingActions`,
the running service), so that they outlive a restart and any replica carries them out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from ticketpilot.adapters.sandbox.store import PendingAction, SandboxStore
from ticketpilot.waits import wait_event

log = structlog.get_logger(__name__)


class PendingActions:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, action: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(action, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every pending action (and any it started) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel every pending action (service shutdown)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


Handler = Callable[[Mapping[str, Any]], Awaitable[None]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DurablePendingActions:
    """Delayed actions kept in PostgreSQL (``sandbox_pending_actions``): scheduled by any process, run once
    when due by whichever process claims it (a lease, ``FOR UPDATE SKIP LOCKED``). An action outlives the
    process that scheduled it: a restart, or another replica, carries it out. One loop per process, asleep
    until the next due time (at most ``poll_s``, for actions other processes scheduled).

    An action whose handler fails is tried again after its lease, up to ``MAX_TRIES`` times.
    """

    MAX_TRIES = 3

    def __init__(
        self,
        store: SandboxStore,
        *,
        owner: str | None = None,
        poll_s: float = 1.0,
        lease_s: float = 15.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._store = store
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._poll_s = poll_s
        self._lease_s = lease_s
        self._clock = clock
        self._handlers: dict[str, Handler] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._running = PendingActions()

    def __repr__(self) -> str:
        return f"DurablePendingActions(owner={self.owner!r}, running={len(self._running)})"

    def __len__(self) -> int:
        return len(self._running)

    def on(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    async def schedule(self, kind: str, delay_s: float, payload: Mapping[str, Any]) -> None:
        await self._store.schedule(kind, self._clock() + timedelta(seconds=delay_s), payload)
        self._wake.set()

    def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._run(), name="sandbox-pending-actions")

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            timeout = self._poll_s
            try:
                now = self._clock()
                for action in await self._store.claim_due(self.owner, now, self._lease_s, 50):
                    self._running.spawn(self._execute(action), f"sandbox-action-{action.kind}-{action.id}")
                next_due = await self._store.next_due(now)
                if next_due is not None:
                    timeout = min(self._poll_s, max(0.01, (next_due - self._clock()).total_seconds()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("sandbox_pending_actions_failed", exc_info=True)
            await wait_event(self._wake, timeout)

    async def _execute(self, action: PendingAction) -> None:
        handler = self._handlers.get(action.kind)
        try:
            if handler is not None:
                await handler(action.payload)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sandbox_action_failed", kind=action.kind, action_id=action.id, tries=action.tries)
            if action.tries < self.MAX_TRIES:
                return  # its lease runs out, then a process tries it again
        await self._store.finish_action(action.id, self._clock())

    async def drain(self) -> None:
        """Wait for the actions this process is running."""
        await self._running.drain()

    async def aclose(self) -> None:
        """Stop claiming and cancel what runs (its lease runs out; another process carries it out)."""
        task, self._loop_task = self._loop_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._running.aclose()
