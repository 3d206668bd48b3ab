"""How the services hand an external answer (approve, deny) to the engine, without importing it.

The engine exposes ``deliver_signal(execution_id, kind, dedupe_key, payload) -> bool``; it persists the
signal first and ignores duplicates by ``dedupe_key``. Services and the approval desk depend only on the
:class:`SignalSink` protocol. :class:`DeferredSignalSink` breaks the construction cycle (the engine needs
the step services, which need the desk, which needs the engine's sink): build it first, ``bind`` it once
the engine exists.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID


class SignalSink(Protocol):
    """``deliver_signal`` of the engine: True when the signal was recorded (False: duplicate or not live)."""

    async def __call__(
        self, execution_id: UUID, kind: str, dedupe_key: str, payload: dict[str, Any]
    ) -> bool: ...


class SinkNotBound(RuntimeError):
    """A signal arrived before the engine was wired in (a start-up ordering bug)."""


class DeferredSignalSink:
    """A :class:`SignalSink` that forwards to the engine's, bound after construction."""

    def __init__(self) -> None:
        self._target: SignalSink | None = None

    def bind(self, target: SignalSink) -> None:
        self._target = target

    @property
    def bound(self) -> bool:
        return self._target is not None

    async def __call__(self, execution_id: UUID, kind: str, dedupe_key: str, payload: dict[str, Any]) -> bool:
        if self._target is None:
            raise SinkNotBound("DeferredSignalSink used before bind(engine.deliver_signal)")
        return await self._target(execution_id, kind, dedupe_key, payload)

    def __repr__(self) -> str:
        return f"DeferredSignalSink(bound={self.bound})"
