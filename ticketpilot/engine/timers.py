"""One durable-time mechanism for every execution: a heap of deadlines keyed by execution, one armed handle.

The deadlines themselves are durable (``playbook_executions.deadline``, written before the wait begins);
this heap only mirrors them in memory, so after a restart the same deadlines are re-armed and only the
remainder is waited. However many executions wait, exactly one clock callback is armed: an idle service
sleeps.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from ticketpilot.engine.clock import Clock, TimerHandle
from ticketpilot.metrics import TIMERS_PENDING

K = TypeVar("K")


class TimerWheel(Generic[K]):
    """``set(key, when)`` replaces the key's previous deadline; ``on_due(key, when)`` runs when it passes."""

    def __init__(self, clock: Clock, on_due: Callable[[K, datetime], None]) -> None:
        self._clock = clock
        self._on_due = on_due
        self._heap: list[tuple[datetime, int, K]] = []
        self._live: dict[K, tuple[datetime, int]] = {}
        self._counter = itertools.count()
        self._armed: tuple[datetime, TimerHandle] | None = None
        self._closed = False

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: K) -> bool:
        return key in self._live

    def deadline(self, key: K) -> datetime | None:
        entry = self._live.get(key)
        return entry[0] if entry else None

    def set(self, key: K, when: datetime) -> None:
        if self._closed:
            return
        n = next(self._counter)
        self._live[key] = (when, n)
        heapq.heappush(self._heap, (when, n, key))
        self._compact_if_needed()
        TIMERS_PENDING.set(len(self._live))
        if self._armed is None or when < self._armed[0]:
            self._arm()

    def cancel(self, key: K) -> None:
        if self._live.pop(key, None) is not None:
            TIMERS_PENDING.set(len(self._live))
            self._compact_if_needed()

    def close(self) -> None:
        self._closed = True
        if self._armed is not None:
            self._armed[1].cancel()
            self._armed = None
        self._heap.clear()
        self._live.clear()
        TIMERS_PENDING.set(0)

    def _arm(self) -> None:
        if self._armed is not None:
            self._armed[1].cancel()
            self._armed = None
        self._drop_stale_head()
        if self._heap and not self._closed:
            when = self._heap[0][0]
            self._armed = (when, self._clock.call_at(when, self._fire))

    def _fire(self) -> None:
        self._armed = None
        now = self._clock.now()
        due: list[tuple[K, datetime]] = []
        while self._heap and self._heap[0][0] <= now:
            when, n, key = heapq.heappop(self._heap)
            if self._live.get(key) == (when, n):
                del self._live[key]
                due.append((key, when))
        TIMERS_PENDING.set(len(self._live))
        self._arm()
        for key, when in due:
            self._on_due(key, when)

    def _drop_stale_head(self) -> None:
        while self._heap:
            when, n, key = self._heap[0]
            if self._live.get(key) == (when, n):
                return
            heapq.heappop(self._heap)

    def _compact_if_needed(self) -> None:
        # Lazy deletion leaves stale entries behind; rebuild when they outnumber the live ones.
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self._live):
            self._heap = [(when, n, key) for key, (when, n) in self._live.items()]
            heapq.heapify(self._heap)
            self._arm()

    def __repr__(self) -> str:
        return f"TimerWheel(pending={len(self._live)})"
