"""The loop shared by the background workers (inbox, outbox): work while there is work, else sleep until
woken or until the poll interval passes. One failed round is logged and the loop carries on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


async def run_rounds(
    run_once: Callable[[], Awaitable[int]], wake: asyncio.Event, poll_s: float, name: str
) -> None:
    """Call ``run_once`` until cancelled; it returns how many items it handled (0: nothing due)."""
    while True:
        try:
            handled = await run_once()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(f"{name}_round_failed")
            handled = 0
        if handled:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), poll_s)
        wake.clear()
