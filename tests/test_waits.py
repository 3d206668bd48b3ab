"""``wait_event`` never loses the cancellation of the waiting task, even when the event is set at the same
moment (``asyncio.wait_for`` does, on Python 3.11: a loop stopped that way never ends)."""

from __future__ import annotations

import asyncio

import pytest

from ticketpilot.waits import wait_event


async def test_set_timeout_and_cancel() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 1.0) is True

    event.clear()
    task = asyncio.create_task(wait_event(event, 10.0))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_cancel_arriving_as_the_event_is_set_is_not_lost() -> None:
    """The race of gh-86296, made deterministic: the event is set and the task cancelled in the same
    iteration of the loop. A loop built on wait_event must end."""
    for _ in range(50):
        event = asyncio.Event()
        rounds = 0

        async def loop_forever(event: asyncio.Event) -> None:
            nonlocal rounds
            while True:
                await wait_event(event, 10.0)
                event.clear()
                rounds += 1

        task = asyncio.create_task(loop_forever(event))
        await asyncio.sleep(0)  # the task waits on the event now
        event.set()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)
