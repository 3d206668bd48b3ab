"""Delayed actions of the sandbox twins (a manager's click, a delivery report), kept so that tests can wait
for them and a shutdown can cancel them."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


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
