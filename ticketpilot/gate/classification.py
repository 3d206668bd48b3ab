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
    SKIP_VERIFICATION = "skip_verification"
    """Asks to skip or weaken a check: no MFA push, no manager approval, an exception to the policy."""
    PRIVILEGE_REQUEST = "privilege_request"
    """Widens the target: an admin, service or second account, more rights, another group."""
    CHANNEL_CHANGE = "channel_change"
    """Asks for another channel or number than the one on record (chat apps, the ticket, e-mail, "this number")."""
    AUTHORITY_PRESSURE = "authority_pressure"
    """Claims rank or threatens to get the request through ("this is the CEO", "or you're fired")."""
    HIDDEN_OR_ENCODED_TEXT = "hidden_or_encoded_text"
    """Encoded or obfuscated text: base64/hex blobs, reversed or ROT13 text, zero-width or bidi characters,
    mixed-script look-alike words, hidden HTML."""
    LINK_IN_BODY = "link_in_body"
    """A link in the request itself (not in a signature)."""
    QUOTED_OTHER_SENDER = "quoted_other_sender"
    """A quoted thread or forwarded message from someone other than the requester or the helpdesk."""
    AUTOMATED_SENDER = "automated_sender"
    """A machine wrote it: no-reply or monitoring senders, RMM or security alerts, auto-replies."""
    MULTIPLE_PEOPLE = "multiple_people"
    """More than one person is the subject of the request."""
    NOT_A_REQUEST = "not_a_request"
    """A question, a hypothetical or a plan for later rather than a request to act now."""


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
    """The classifier could not give a usable answer: the ticket stays manual. ``reason`` is recorded.

    ``transient``: the classifier's service was throttled, failing or timed out (429, 5xx, connection,
    timeout), so asking again later may help; ``retry_after`` is the wait it asked for, if any.
    """

    def __init__(
        self,
        reason: str,
        *,
        classifier: str = "",
        detail: str = "",
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.classifier = classifier
        self.detail = detail
        self.transient = transient
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"ClassificationError(reason={self.reason!r}, classifier={self.classifier!r},"
            f" transient={self.transient})"
        )


class Classifier(Protocol):
    name: str
    version: str

    async def classify(self, ticket: TicketText) -> ClassifierResult:
        """Classify; raise :class:`ClassificationError` when no trustworthy answer is possible."""
        ...
