"""Playbook definitions as typed, frozen data.

A playbook is a small state machine: named steps, each calling one service (DESIGN §4) and naming the
step to go to on success and on failure; terminal steps end the execution in ``RESOLVED`` or ``ESCALATED``.
Structural checks that need the whole graph (reachability, dangling transitions) live in ``validate.py``
so that every problem can be reported at once with its line.
"""

from __future__ import annotations

import math
import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SERVICES: frozenset[str] = frozenset(
    {"verification.mfa", "verification.manager", "executor.reset_password", "delivery.sms", "delivery.email"}
)
"""The step services playbooks may name (DESIGN §4)."""

REASKABLE_SERVICES: frozenset[str] = frozenset({"verification.mfa"})
"""Services whose attempt, left in doubt by a restart, may be asked again (``on_restart``): a verification
that asks the requester. A credential or a delivery in doubt is never re-sent; ``verification.manager``
simply resumes its wait (the same request, no second card)."""

EMAIL_RECIPIENTS: tuple[str, ...] = ("requester", "manager")
"""``delivery.email``'s ``params.to``: the requester's alternate address on record, or their manager's mail."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
MIN_DURATION_S = 0.001
MAX_DURATION_S = 30 * 24 * 3600.0
"""Every duration in a playbook lies between 1 ms and 30 days, so deadlines and timers never overflow."""


def parse_duration(value: Any) -> float:
    """``90``, ``"90s"``, ``"5m"``, ``"1h"``, ``"250ms"`` → seconds, between 1 ms and 30 days."""
    if isinstance(value, bool):
        raise ValueError("a duration must be a number of seconds or a string like '30s', '5m', '1h'")
    if isinstance(value, int) and abs(value) > 10 * MAX_DURATION_S:
        seconds = math.copysign(math.inf, value)  # float() of a huge int would overflow
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value[:40]!r} is not a duration (use seconds or '30s', '5m', '1h')")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError("a duration must be a number of seconds or a string like '30s', '5m', '1h'")
    if math.isnan(seconds) or math.isinf(seconds) or seconds <= 0:
        raise ValueError("a duration must be positive and finite")
    if not MIN_DURATION_S <= seconds <= MAX_DURATION_S:
        raise ValueError("a duration must be between 1ms and 720h (30 days)")
    return seconds


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Backoff(StrEnum):
    EXPONENTIAL = "exponential"
    FIXED = "fixed"


class RetryPolicy(Strict):
    max_attempts: int = Field(ge=1, le=20)
    backoff: Backoff = Backoff.EXPONENTIAL
    initial: float = 1.0
    max: float = 60.0

    @field_validator("initial", "max", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float:
        return parse_duration(v)


class TerminalOutcome(StrEnum):
    RESOLVED = "RESOLVED"
    ESCALATED = "ESCALATED"


class Step(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    name: str = ""
    service: str | None = None
    """None for a terminal step."""
    params: dict[str, Any] = Field(default_factory=dict)
    timeout: float | None = None
    retry: RetryPolicy | None = None
    on_success: str | None = None
    on_failure: str | None = None
    on_timeout: str | None = None
    """Where a timeout leads; defaults to ``on_failure``."""
    on_restart: Literal["reask", "fallback"] | None = None
    """An attempt left in doubt by a restart (a push sent, no answer recorded), for a service in
    :data:`REASKABLE_SERVICES`: ``reask`` (the default) asks again once, a new attempt; ``fallback`` goes
    where an unanswered one would (``on_timeout``, else ``on_failure``). A second interruption always
    takes the fallback."""
    terminal: TerminalOutcome | None = None
    reason: str = ""
    """For an ESCALATED terminal step: the escalation reason written to the ticket."""

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, v: Any) -> float | None:
        return None if v is None else parse_duration(v)

    @property
    def is_terminal(self) -> bool:
        return self.terminal is not None


class EscalationTarget(Strict):
    """Where an escalated ticket lands in HaloPSA; each key overrides the ``[halopsa] escalation_*`` default.

    Ids are the instance's own (``GET /api/Status``, ``/api/Agent``, ``/api/Priority`` → ``priorityid``).
    """

    team: str | None = Field(None, min_length=1, max_length=200)
    """The HaloPSA team (queue) name, e.g. ``"Service Desk L1"``."""
    agent_id: int | None = Field(None, ge=1)
    status_id: int | None = Field(None, ge=1)
    priority_id: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _not_empty(self) -> EscalationTarget:
        if (
            self.team is None
            and self.agent_id is None
            and self.status_id is None
            and self.priority_id is None
        ):
            raise ValueError("give at least one of team, agent_id, status_id, priority_id")
        return self

    def as_payload(self) -> dict[str, str | int]:
        """The keys that are set, for the HaloPSA escalation (outbox payload)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Triggers(Strict):
    sub_categories: tuple[str, ...] = Field(min_length=1)


class Playbook(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    name: str
    version: str = Field(min_length=1, max_length=64)
    description: str = ""
    enabled: bool = True
    mode: Literal["active", "shadow"] = "active"
    confidence_threshold: float = Field(0.85, ge=0.0, le=1.0)
    triggers: Triggers
    delivers_by_sms: bool | None = None
    """Whether a phone on record is required; derived from the steps when not given."""
    escalation: EscalationTarget | None = None
    """Where this playbook's escalated or failed tickets land (team, agent, status, priority)."""
    steps: tuple[Step, ...] = Field(min_length=1)

    @property
    def first_step(self) -> Step:
        return self.steps[0]

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    @property
    def needs_phone(self) -> bool:
        if self.delivers_by_sms is not None:
            return self.delivers_by_sms
        return any(s.service == "delivery.sms" for s in self.steps)
