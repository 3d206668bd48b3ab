"""The vocabulary of the engine's pure core: an execution's state, the events it reacts to and the commands
it asks the supervisor to carry out. Plain frozen data; no I/O anywhere in this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from ticketpilot.steps import StepEvent, StepOutcome


class Status(StrEnum):
    """``playbook_executions.state``."""

    RUNNING = "RUNNING"
    WAITING = "WAITING"
    RESOLVED = "RESOLVED"
    ESCALATED = "ESCALATED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset(s for s in Status if s not in (Status.RUNNING, Status.WAITING))
TERMINAL_STATES = frozenset(s.value for s in Status if s.is_terminal)
LIVE_STATES = frozenset({Status.RUNNING.value, Status.WAITING.value})


class Phase(StrEnum):
    """Where the current step's attempt stands (``playbook_executions.step_phase``).

    ``pending``: chosen, no side effect yet. ``started``: recorded as started, its side effect may have run
    (a crash here leaves it *in doubt*). ``waiting``: parked until a signal or a wake-up. ``backoff``: waiting
    for the retry time. ``done``: terminal.
    """

    PENDING = "pending"
    STARTED = "started"
    WAITING = "waiting"
    BACKOFF = "backoff"
    DONE = "done"


ENGINE_KEY = "_engine"
"""Context key of the engine's own bookkeeping (attempt numbers, which step produced which secret)."""
OUTPUTS_KEY = "steps"
"""Context key under which each step's persisted ``outputs`` are kept, by step id."""


@dataclass(frozen=True, slots=True)
class StepTraits:
    """What the pure core must know of a step service (never its behaviour)."""

    rerun_safe: bool = False
    requires_secrets: tuple[str, ...] = ()
    produces_secrets: tuple[str, ...] = ()
    reask_after_restart: bool = False
    """Not safe to re-run as the same attempt, but may be asked again once as a new attempt after a restart
    (an MFA push: a new push, its own idempotency key); the step's ``on_restart`` chooses."""


@dataclass(frozen=True, slots=True)
class MachineEnv:
    """The static knowledge ``advance`` uses besides the definition: service traits and defaults."""

    traits: Mapping[str, StepTraits] = field(default_factory=dict)
    default_step_timeout_s: float = 60.0


@dataclass(frozen=True, slots=True)
class PendingCancel:
    signal_id: int
    reason: str


@dataclass(frozen=True)
class ExecutionState:
    """One execution, as persisted in ``playbook_executions`` (plus ``pending_cancel``, held in memory: the
    cancel signal stays unconsumed in the database until it takes effect, so a restart re-reads it)."""

    execution_id: UUID
    ticket_id: int
    playbook_id: str
    playbook_hash: str
    playbook_version: str
    status: Status = Status.RUNNING
    current_step: str | None = None
    phase: Phase = Phase.PENDING
    attempt: int = 0
    """The current step's attempt number: part of the idempotency key, never reused for that step."""
    tries: int = 0
    """Attempts made in the current retry cycle (compared with ``retry.max_attempts``)."""
    seq: int = 0
    """The last ``playbook_step_executions.seq`` written."""
    context: Mapping[str, Any] = field(default_factory=dict)
    step_started_at: datetime | None = None
    step_deadline: datetime | None = None
    """The current attempt's timeout: fixed when the attempt starts, the same after any restart."""
    wake_at: datetime | None = None
    deadline: datetime | None = None
    """The one instant this execution waits for next (step deadline, retry time or wake-up)."""
    awaiting: frozenset[str] = frozenset()
    resume_event: Mapping[str, Any] | None = None
    """When a parked step is being resumed: the event handed to ``resume`` (re-used if in doubt)."""
    escalation_reason: str | None = None
    cancel_reason: str | None = None
    failed_step: str | None = None
    last_error: str | None = None
    pending_cancel: PendingCancel | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in _TERMINAL

    def evolve(self, **changes: Any) -> ExecutionState:
        """A copy with ``changes``: ``dataclasses.replace`` without its per-call introspection and
        frozen ``__init__`` (this runs several times per transition)."""
        if not _STATE_FIELDS.issuperset(changes):
            raise TypeError(f"ExecutionState has no field(s) {sorted(changes.keys() - _STATE_FIELDS)}")
        new = object.__new__(ExecutionState)
        attrs = new.__dict__
        attrs.update(self.__dict__)
        attrs.update(changes)
        return new

    def attempts_of(self, step_id: str) -> int:
        attempts: Mapping[str, int] = self.context.get(ENGINE_KEY, {}).get("attempts", {})
        return int(attempts.get(step_id, 0))

    def secret_producer(self, name: str) -> str | None:
        producers: Mapping[str, str] = self.context.get(ENGINE_KEY, {}).get("secret_producers", {})
        return producers.get(name)


_STATE_FIELDS = frozenset(f.name for f in fields(ExecutionState))


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One ``playbook_step_executions`` row (never a secret in ``error`` or ``detail``)."""

    seq: int
    step_id: str
    service: str | None
    attempt: int
    outcome: str
    """success | failure | timeout | retry | in_doubt | restart_reask | secret_missing | cancelled |
    operator_retry | terminal"""
    error: str | None
    detail: Mapping[str, Any]
    started_at: datetime | None
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One HaloPSA write, delivered after the commit by the outbox worker."""

    kind: str
    ticket_id: int
    payload: Mapping[str, Any]
    dedupe_key: str


# ---- events ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Started:
    """Begin (or, after a restart, begin again) the current pending step."""

    now: datetime


@dataclass(frozen=True, slots=True)
class StepFinished:
    """A service call returned. ``jitter`` is a draw in [0, 1) from the supervisor's RNG (full jitter)."""

    step_id: str
    attempt: int
    outcome: StepOutcome
    now: datetime
    jitter: float = 1.0


@dataclass(frozen=True, slots=True)
class StepCrashed:
    """An exception escaped the service: an engine error (FAILED, escalated)."""

    step_id: str
    attempt: int
    error: str
    now: datetime


@dataclass(frozen=True, slots=True)
class SignalReceived:
    """A persisted signal (``execution_signals.id``); kind ``cancel`` carries ``payload["reason"]``."""

    signal_id: int
    kind: str
    payload: Mapping[str, Any]
    now: datetime


@dataclass(frozen=True, slots=True)
class DeadlineReached:
    """The execution's durable timer fired (step timeout, retry time or wake-up; the state tells which)."""

    now: datetime
    jitter: float = 1.0


@dataclass(frozen=True, slots=True)
class InDoubtOnRecovery:
    """Found ``started`` with no result after a restart or a takeover."""

    now: datetime
    jitter: float = 1.0


@dataclass(frozen=True, slots=True)
class SecretMissing:
    """The current step needs secrets that are not in memory (lost in a restart)."""

    step_id: str
    missing: tuple[str, ...]
    now: datetime


@dataclass(frozen=True, slots=True)
class EngineError:
    """Something the playbook cannot route (unknown service, unloadable definition): FAILED."""

    error: str
    now: datetime


@dataclass(frozen=True, slots=True)
class RetryRequested:
    """An operator re-runs an ESCALATED or FAILED execution from the step that failed."""

    now: datetime
    reason: str = "operator retry"


Event = (
    Started
    | StepFinished
    | StepCrashed
    | SignalReceived
    | DeadlineReached
    | InDoubtOnRecovery
    | SecretMissing
    | EngineError
    | RetryRequested
)

# ---- commands -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Write ``state`` (fenced by epoch and the previous seq), ``steps`` rows and ``outbox`` rows and mark
    ``consume`` signals consumed, all in one transaction; wait until durable before anything else."""

    state: ExecutionState
    prev_seq: int
    steps: tuple[StepRecord, ...] = ()
    outbox: tuple[OutboxRecord, ...] = ()
    consume: tuple[int, ...] = ()

    @property
    def starts_attempt(self) -> bool:
        """Only marks an attempt as started (no step row): skipped when the engine is stopping."""
        return not self.steps and self.state.phase is Phase.STARTED


@dataclass(frozen=True, slots=True)
class RunStep:
    """Call the service (``start``, or ``resume`` with ``event``); arm the timer at ``deadline``."""

    step_id: str
    service: str
    attempt: int
    started_at: datetime
    deadline: datetime
    event: StepEvent | None = None


@dataclass(frozen=True, slots=True)
class AbortStep:
    """Stop waiting for the running call (it timed out); its late result is ignored."""

    step_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Park:
    """Release the coroutine until a signal of ``signals`` or ``deadline``; re-read pending signals."""

    deadline: datetime
    signals: frozenset[str]


@dataclass(frozen=True, slots=True)
class ScheduleRetry:
    at: datetime


@dataclass(frozen=True, slots=True)
class ConsumeSignals:
    """Mark late or duplicate signals consumed (no state change)."""

    signal_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Finish:
    status: Status
    reason: str | None


Command = Checkpoint | RunStep | AbortStep | Park | ScheduleRetry | ConsumeSignals | Finish
