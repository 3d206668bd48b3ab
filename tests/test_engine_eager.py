"""Running a coroutine's first step in place: what finishes at once needs no task, what suspends is
finished by a task exactly as if the task had run it from the start."""

from __future__ import annotations

import asyncio

import pytest

from ticketpilot.engine.eager import Suspended, first_step


async def _at_once() -> str:
    return "done"


async def _after(future: asyncio.Future[str], log: list[str]) -> str:
    log.append("started")
    try:
        value = await future
    except asyncio.CancelledError:
        log.append("cancelled")
        raise
    log.append("resumed")
    return value.upper()


async def _fails_later(future: asyncio.Future[None]) -> str:
    await future
    raise ValueError("after the wait")


async def _fails_at_once() -> str:
    raise KeyError("before any wait")


async def _finish(pending: Suspended[str]) -> str:
    return await pending


async def test_a_coroutine_that_never_waits_is_finished_in_place() -> None:
    assert first_step(_at_once()) == (True, "done")


async def test_a_suspended_coroutine_is_finished_by_a_task_with_its_result() -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    log: list[str] = []
    done, pending = first_step(_after(future, log))
    assert not done and isinstance(pending, Suspended)
    assert log == ["started"]  # the first step ran right here
    task = loop.create_task(_finish(pending))
    await asyncio.sleep(0)
    assert not task.done()
    future.set_result("value")
    assert await task == "VALUE"
    assert log == ["started", "resumed"]


async def test_cancelling_the_task_cancels_the_suspended_coroutine() -> None:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    log: list[str] = []
    _, pending = first_step(_after(future, log))
    task = loop.create_task(_finish(pending))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["started", "cancelled"]
    assert future.cancelled()


async def test_errors_propagate_before_and_after_the_suspension() -> None:
    with pytest.raises(KeyError):
        first_step(_fails_at_once())
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()
    _, pending = first_step(_fails_later(future))
    task = loop.create_task(_finish(pending))
    future.set_result(None)
    with pytest.raises(ValueError, match="after the wait"):
        await task
