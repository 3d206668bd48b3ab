"""Waiting on an event with a timeout, without losing a cancellation.

``asyncio.wait_for(event.wait(), t)`` swallows the cancellation of the waiting task when the event is set
at the same moment (Python 3.11, gh-86296): a loop stopped that way never ends and its ``stop`` hangs.
``asyncio.timeout`` tells its own timeout from an outside cancellation, so every long-lived loop waits
through :func:`wait_event`.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait until ``event`` is set or ``timeout_s`` has passed; True if it was set. A cancellation of the
    caller is always raised."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True
