"""Errors of the engine's public surface (each carries what the caller needs to act on it)."""

from __future__ import annotations

from uuid import UUID


class EngineStopped(RuntimeError):
    """The engine is not running (not started yet, or stopping)."""


class NotRetryable(RuntimeError):
    def __init__(self, execution_id: UUID, why: str) -> None:
        super().__init__(f"execution {execution_id} cannot be retried: {why}")
        self.execution_id = execution_id
        self.why = why

    def __repr__(self) -> str:
        return f"NotRetryable({self.execution_id!s}, {self.why!r})"
