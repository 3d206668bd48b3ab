"""The fixed classification schema every classifier (LLM or offline) must return, validated in code."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RiskFlag(StrEnum):
    """Signals that make a ticket unsafe to automate, whatever its sub-category."""

    OTHER_PERSON = "other_person"
    """The request concerns someone else's account (on behalf of, a colleague, a new hire)."""
    THIRD_PARTY_SYSTEM = "third_party_system"
    """The account is not the work (Entra) account: a vendor portal, a line-of-business app, personal mail."""
    COMPROMISE_SIGNS = "compromise_signs"
    """Unexpected codes, sign-ins, changes the user didn't make, phishing clicked."""
    MANIPULATION = "manipulation"
    """Text aimed at the automation: fake directives, forged verification, pressure to skip humans."""
    CONTACT_IN_BODY = "contact_in_body"
    """The ticket supplies a phone, address or channel for delivery, or asks to register one."""
    NO_ACTION_NEEDED = "no_action_needed"
    """Resolved itself, information only, an auto-notification, out of office."""
    POLICY_EXCEPTION = "policy_exception"
    """Asks to disable MFA, change policy, or asks a question rather than recovery."""
    SHARED_OR_SERVICE_ACCOUNT = "shared_or_service_account"
    OUTAGE = "outage"
    """Many users affected: an incident, not an account problem."""


class TicketText(BaseModel):
    """What a classifier may see of a ticket: untrusted text plus the requester's address."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(default="", max_length=2_000)
    body: str = Field(default="", max_length=100_000)
    requester_email: str = ""


class Classification(BaseModel):
    """The schema of DESIGN §3. ``sub_category`` is checked against the configured taxonomy by the gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str = Field(description="INCIDENT, REQUEST or QUESTION")
    sub_category: str
    confidence: float = Field(ge=0.0, le=1.0)
    reasoning: str = Field(max_length=2_000)
    own_account: bool = Field(description="The request concerns the requester's own work account")
    risk_flags: tuple[RiskFlag, ...] = ()

    @field_validator("confidence")
    @classmethod
    def _finite(cls, v: float) -> float:
        if math.isnan(v) or math.isinf(v):
            raise ValueError("confidence must be finite")
        return v


class ClassifierResult(BaseModel):
    """A classification and who produced it."""

    model_config = ConfigDict(frozen=True)

    classification: Classification
    classifier: str
    classifier_version: str


class ClassificationError(Exception):
    """The classifier could not give a usable answer: the ticket stays manual. ``reason`` is recorded."""

    def __init__(self, reason: str, *, classifier: str = "", detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.classifier = classifier
        self.detail = detail

    def __repr__(self) -> str:
        return f"ClassificationError(reason={self.reason!r}, classifier={self.classifier!r})"


class Classifier(Protocol):
    name: str
    version: str

    async def classify(self, ticket: TicketText) -> ClassifierResult:
        """Classify; raise :class:`ClassificationError` when no trustworthy answer is possible."""
        ...
