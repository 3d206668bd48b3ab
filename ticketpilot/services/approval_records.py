"""The records of the approval desk: a request as stored, the links of a new one, a decision taken."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ticketpilot.services.approval_tokens import Decision

RejectReason = Literal["invalid", "expired", "answered", "closed"]


class ApprovalRejected(Exception):
    """A link or reply that must change nothing: ``invalid`` (unknown, tampered, wrong decision),
    ``expired``, ``answered`` (already used) or ``closed`` (its execution has finished or was cancelled:
    the answer is no longer needed)."""

    def __init__(self, reason: RejectReason, request_id: UUID | None = None) -> None:
        super().__init__(reason)
        self.reason: RejectReason = reason
        self.request_id = request_id

    def __repr__(self) -> str:
        return f"ApprovalRejected(reason={self.reason!r}, request_id={self.request_id})"


@dataclass(frozen=True)
class ApprovalRequest:
    """One row of ``approval_requests`` (hashes left out)."""

    id: UUID
    execution_id: UUID
    step_id: str
    attempt: int
    ticket_id: int | None
    approver_email: str
    requester_name: str
    requester_upn: str
    purpose: str
    expires_at: datetime
    decided_at: datetime | None
    decision: str | None
    channel: str | None
    card_posted_at: datetime | None
    sms_sent_at: datetime | None
    sms_code_issued: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ApprovalRequest:
        return cls(
            id=row["id"],
            execution_id=row["execution_id"],
            step_id=row["step_id"],
            attempt=row["attempt"],
            ticket_id=row["ticket_id"],
            approver_email=row["approver_email"],
            requester_name=row["requester_name"],
            requester_upn=row["requester_upn"],
            purpose=row["purpose"],
            expires_at=row["expires_at"],
            decided_at=row["decided_at"],
            decision=row["decision"],
            channel=row["channel"],
            card_posted_at=row["card_posted_at"],
            sms_sent_at=row["sms_sent_at"],
            sms_code_issued=row["sms_code_hash"] is not None,
        )


@dataclass(frozen=True)
class ApprovalLinks:
    approve_url: str
    deny_url: str


@dataclass(frozen=True)
class OpenedRequest:
    """``links`` is None when the card for this request was already posted (nothing more to send)."""

    request: ApprovalRequest
    links: ApprovalLinks | None


@dataclass(frozen=True)
class DecisionOutcome:
    request: ApprovalRequest
    decision: Decision
    channel: str
    delivered: bool
    """Did the engine take the signal (False: the execution no longer waits for it)."""
