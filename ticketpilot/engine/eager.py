"""Running a coroutine eagerly: its first step runs at once, in the caller, and only a coroutine that
really suspends gets a task (``asyncio.eager_task_factory`` does the same from Python 3.12).

Most step calls of a playbook either return without ever waiting (a no-op, a cached answer, a validation
failure) or suspend on I/O. The first kind then costs no task, no loop iteration and no timer.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Suspended(Generic[T]):
    """A coroutine whose first step already ran and suspended on ``pending`` (what it yielded).

    Awaiting this object (inside a task) finishes the coroutine exactly as if the task had run it from
    the start: it hands ``pending`` to the task, then forwards every wake-up, exception and cancellation.
    """

    __slots__ = ("_coro", "_pending")

    def __init__(self, coro: Coroutine[Any, Any, T], pending: Any) -> None:
        self._coro = coro
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, T]:
        coro, pending = self._coro, self._pending
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # a cancellation, or an error thrown into the awaiting task
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Suspended({self._coro!r})"


def first_step(coro: Coroutine[Any, Any, T]) -> tuple[bool, Any]:
    """Run ``coro`` up to its first suspension: ``(True, result)`` when it finished without suspending,
    ``(False, Suspended)`` when it must be awaited (in a task) to finish. Its exceptions propagate."""
    try:
        pending = coro.send(None)
    except StopIteration as stop:
        return True, stop.value
    return False, Suspended(coro, pending)
