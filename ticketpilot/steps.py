"""The step interface: the only thing the engine knows of the services that playbooks name.

A step service is started once per attempt and may either finish at once (``Succeeded`` / ``Failed``) or
ask the engine to park it (``Waiting``) until a signal arrives (approve, deny, SMS reply) or a wake-up time
passes. While parked, no coroutine runs for the execution: the engine stores the wait durably and calls
``resume`` when the event comes. Every call carries the idempotency key ``{execution_id}:{step_id}:{attempt}``.

Secrets a step produces (a TAP, a password) are returned in ``Succeeded.secrets``: the engine keeps them in
memory only and hands them to later steps through ``StepCall.secrets``. ``outputs`` are persisted and must
never hold a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

REVOCATION_OUTPUT = "revocation"
"""The ``outputs`` key where a step that produces a secret says how to undo it if it is never delivered (the
execution escalates, fails or is cancelled before a step needing the secret succeeds). A mapping with
``kind``, ``undoable`` (bool) and ``what`` (for the ticket's note, e.g. "the Temporary Access Pass of
jane@contoso.com"), plus what the undo needs: ``{"kind": "temporary_access_pass", "undoable": true,
"user_id": ..., "method_id": ..., "what": ...}``. Never a secret. A ``password`` can't be undone
(``undoable: false``): the note says so."""


@dataclass(frozen=True)
class StepCall:
    execution_id: UUID
    ticket_id: int
    playbook_id: str
    step_id: str
    attempt: int
    params: Mapping[str, Any]
    context: Mapping[str, Any]
    """The execution's persisted context (requester, resolved user ids, earlier outputs); no secrets."""
    deadline: datetime
    """When this attempt times out (durable: the same after a restart)."""
    started_at: datetime
    secrets: Mapping[str, str] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        return f"{self.execution_id}:{self.step_id}:{self.attempt}"


@dataclass(frozen=True)
class Signal:
    """An external event for a parked step: ``kind`` is e.g. ``approve``, ``deny``, ``sms_reply``."""

    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    received_at: datetime | None = None


@dataclass(frozen=True)
class Wake:
    """The wake-up time a parked step asked for has come."""

    at: datetime


StepEvent = Signal | Wake


@dataclass(frozen=True)
class Succeeded:
    outputs: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    summary: str = ""


@dataclass(frozen=True)
class Failed:
    """``retryable`` failures are retried under the step's retry policy; others take ``on_failure``."""

    error: str
    retryable: bool = False
    retry_after: float | None = None
    """Seconds the remote asked us to wait (``Retry-After``), honoured as the minimum backoff."""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    timed_out: bool = False
    """Nobody answered (as opposed to a refusal): routed like a step timeout, to ``on_timeout`` if the step
    has one. A denied MFA push and an unanswered one are different facts and may lead to different steps."""


@dataclass(frozen=True)
class Waiting:
    """Park the step until one of ``signals`` arrives or ``wake_at`` (or the step deadline) passes."""

    signals: frozenset[str] = frozenset()
    wake_at: datetime | None = None
    outputs: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""


StepOutcome = Succeeded | Failed | Waiting


class StepService(Protocol):
    name: str
    """The service name a playbook uses, e.g. ``verification.mfa``."""
    rerun_safe: bool
    """May an attempt left in doubt by a crash (started, no result) simply be run again?"""
    requires_secrets: tuple[str, ...]
    """Secret names this step needs from earlier steps (e.g. ``credential`` for delivery)."""
    produces_secrets: tuple[str, ...]

    async def start(self, call: StepCall) -> StepOutcome: ...

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        """Called for a parked step when a signal or its wake-up time arrives."""
        ...


class StepError(Exception):
    """A step failed in a way the engine should classify; carries whether a retry may help."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"StepError({str(self)!r}, retryable={self.retryable}, retry_after={self.retry_after})"
