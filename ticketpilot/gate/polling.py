"""The loop shared by the background workers (inbox, outbox): work while there is work, else sleep until
woken or until the poll interval passes.

A failed round is logged and retried with :class:`~ticketpilot.readiness.Backoff`, never slower than the
poll interval. When it failed because the database could not be reached (a restart, a failover, terminated
backends), ``readiness`` hears it (``/readyz`` says not ready) until a round succeeds again. The loop ends
only when cancelled or when ``stopping()`` says so (a graceful stop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from ticketpilot.database import is_connection_loss
from ticketpilot.readiness import Backoff, Readiness
from ticketpilot.waits import wait_event

log = structlog.get_logger(__name__)


async def run_rounds(
    run_once: Callable[[], Awaitable[int]],
    wake: asyncio.Event,
    poll_s: float,
    name: str,
    *,
    readiness: Readiness | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    """Call ``run_once`` until cancelled (or ``stopping()``); it returns how many items it handled
    (0: nothing due)."""
    backoff = Backoff(max_s=poll_s)
    while not stopping():
        try:
            handled = await run_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if backoff.failures == 0:
                log.exception(f"{name}_round_failed")
            else:
                log.warning(f"{name}_round_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            if readiness is not None and is_connection_loss(exc):  # a bug must not take replicas out
                readiness.failing(f"{name}_worker", exc)
            await asyncio.sleep(backoff.next_delay())
            continue
        if backoff.failures:
            backoff.reset()
        if readiness is not None:
            readiness.recovered(f"{name}_worker")
        if handled:
            continue
        await wait_event(wake, poll_s)
        wake.clear()


async def finish_within(task: asyncio.Task[None] | None, grace_s: float) -> None:
    """Let a polling ``task`` that was told to stop finish within ``grace_s``, then cancel it."""
    if task is None or task.done():
        return
    _, pending = await asyncio.wait({task}, timeout=grace_s)
    if pending:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
