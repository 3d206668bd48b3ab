"""Secrets produced by steps (a TAP, a password), held in memory per execution and nowhere else.

Values are registered with the log redactor while held, handed to later steps through ``StepCall.secrets``
and scrubbed from anything a step returns for persistence (summaries, errors, outputs) as a second line of
defence. A restart loses them by design; the engine then re-runs the step that produced them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from uuid import UUID

from ticketpilot.logging import REDACTED, forget_secret, register_secret
from ticketpilot.steps import Failed, StepOutcome, Succeeded, Waiting


class SecretVault:
    def __init__(self) -> None:
        self._by_execution: dict[UUID, dict[str, str]] = {}

    def put(self, execution_id: UUID, secrets: Mapping[str, str]) -> None:
        held = self._by_execution.setdefault(execution_id, {})
        for name, value in secrets.items():
            register_secret(value)
            old = held.get(name)
            if old is not None and old != value:
                forget_secret(old)
            held[name] = value

    def get(self, execution_id: UUID) -> Mapping[str, str]:
        return self._by_execution.get(execution_id, {})

    def missing(self, execution_id: UUID, names: tuple[str, ...]) -> tuple[str, ...]:
        held = self._by_execution.get(execution_id, {})
        return tuple(n for n in names if n not in held)

    def drop(self, execution_id: UUID) -> None:
        for value in self._by_execution.pop(execution_id, {}).values():
            forget_secret(value)

    def clear(self) -> None:
        for execution_id in list(self._by_execution):
            self.drop(execution_id)

    def __len__(self) -> int:
        return len(self._by_execution)

    def __repr__(self) -> str:
        return f"SecretVault(executions={len(self._by_execution)})"  # never the values


def scrub_outcome(outcome: StepOutcome, secrets: Mapping[str, str]) -> StepOutcome:
    """The outcome with every held secret value removed from what will be persisted."""
    values = tuple(v for v in secrets.values() if v)
    if isinstance(outcome, Succeeded):
        values += tuple(v for v in outcome.secrets.values() if v)
    if not values:
        return outcome
    if isinstance(outcome, Succeeded):
        return replace(
            outcome, summary=_scrub(outcome.summary, values), outputs=_scrub(outcome.outputs, values)
        )
    if isinstance(outcome, Failed):
        return replace(outcome, error=_scrub(outcome.error, values), outputs=_scrub(outcome.outputs, values))
    assert isinstance(outcome, Waiting)
    return replace(outcome, summary=_scrub(outcome.summary, values), outputs=_scrub(outcome.outputs, values))


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, secrets) for v in value)
    return value
