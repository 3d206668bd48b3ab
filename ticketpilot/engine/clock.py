"""Time as a dependency: the engine reads ``now()`` and arms callbacks through a :class:`Clock`.

:class:`SystemClock` is wall time on the running event loop. :class:`ManualClock` is moved by tests with
``advance(seconds)``: callbacks whose time has come run at once, nothing ever sleeps for real.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """What the engine needs of time: the current instant, and one callback armed at an instant."""

    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...

    def call_at(self, when: datetime, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` (on the event loop, soon after ``when``); the handle cancels it."""
        ...


class SystemClock:
    """Wall-clock time; callbacks armed with ``loop.call_later`` (one handle for the whole engine)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def call_at(self, when: datetime, callback: Callable[[], None]) -> TimerHandle:
        delay = max(0.0, (when - self.now()).total_seconds())
        return asyncio.get_running_loop().call_later(delay, callback)

    def __repr__(self) -> str:
        return "SystemClock()"


class _ManualHandle:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that only moves when told to: ``advance(seconds)`` fires every callback now due."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
        self._heap: list[tuple[datetime, int, _ManualHandle, Callable[[], None]]] = []
        self._counter = itertools.count()

    def now(self) -> datetime:
        return self._now

    def call_at(self, when: datetime, callback: Callable[[], None]) -> TimerHandle:
        handle = _ManualHandle()
        if when <= self._now:
            # Already due: run soon, never re-entrantly inside the caller.
            asyncio.get_running_loop().call_soon(lambda: None if handle.cancelled else callback())
            return handle
        heapq.heappush(self._heap, (when, next(self._counter), handle, callback))
        return handle

    def advance(self, seconds: float) -> None:
        """Move time forward and run (synchronously) every callback that became due."""
        if seconds < 0:
            raise ValueError("a clock never goes back")
        self._now += timedelta(seconds=seconds)
        self._fire_due()

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (not earlier than now)."""
        self.advance(max(0.0, (when - self._now).total_seconds()))

    def _fire_due(self) -> None:
        while self._heap and self._heap[0][0] <= self._now:
            _when, _n, handle, callback = heapq.heappop(self._heap)
            if not handle.cancelled:
                callback()

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now.isoformat()})"
