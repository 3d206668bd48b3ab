"""A stored (or previewed) gate decision, and its JSON form for the API and the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ticketpilot.gate.blockers import Blocker
from ticketpilot.gate.classification import Classification, ClassifierResult, RiskFlag
from ticketpilot.gate.decision import Decision, Outcome
from ticketpilot.gate.facts import ClassifierFailure, RequesterFacts


@dataclass(frozen=True)
class DecisionRecord:
    """Everything the gate decided about one ticket. ``decision_id`` is None for a preview."""

    ticket_id: int | None
    outcome: Outcome
    playbook_id: str | None
    playbook_version: str | None
    playbook_hash: str | None
    classification: Classification | None
    """None when the classifier failed (the ``classifier_error`` blocker says why)."""
    classifier: str
    classifier_version: str
    blockers: tuple[Blocker, ...]
    requester: RequesterFacts
    latency_ms: float
    decision_id: int | None = None

    @classmethod
    def of(
        cls,
        ticket_id: int | None,
        classified: ClassifierResult | ClassifierFailure,
        requester: RequesterFacts,
        decision: Decision,
        latency_ms: float,
        decision_id: int | None = None,
    ) -> DecisionRecord:
        """The record of ``decision`` taken on ``classified`` for ``requester``."""
        candidate = decision.candidate
        return cls(
            ticket_id=ticket_id,
            outcome=decision.outcome,
            playbook_id=candidate.playbook.id if candidate else None,
            playbook_version=candidate.playbook.version if candidate else None,
            playbook_hash=candidate.content_hash if candidate else None,
            classification=classified.classification if isinstance(classified, ClassifierResult) else None,
            classifier=classified.classifier,
            classifier_version=classified.classifier_version,
            blockers=decision.blockers,
            requester=requester,
            latency_ms=latency_ms,
            decision_id=decision_id,
        )

    def as_dict(self) -> dict[str, Any]:
        """The decision JSON of ``POST /api/v1/classify_ticket`` and ``main.py classify``."""
        c = self.classification
        return {
            "ticket_id": self.ticket_id,
            "outcome": self.outcome.value,
            "playbook_id": self.playbook_id,
            "playbook_version": self.playbook_version,
            "classification": {
                "category": c.category if c else None,
                "sub_category": c.sub_category if c else None,
                "confidence": c.confidence if c else None,
                "reasoning": c.reasoning if c else "",
                "own_account": c.own_account if c else None,
                "risk_flags": [f.value for f in c.risk_flags] if c else [],
            },
            "classifier": self.classifier,
            "classifier_version": self.classifier_version,
            "blockers": [b.as_dict() for b in self.blockers],
            "requester": self.requester.as_dict(),
            "latency_ms": round(self.latency_ms, 3),
            "decision_id": self.decision_id,
        }

    @classmethod
    def from_row(cls, row: Any) -> DecisionRecord:
        """Rebuild a record from its ``classification_results`` row."""
        classification: Classification | None = None
        if row["sub_category"] is not None and row["confidence"] is not None:
            classification = Classification(
                category=row["category"] or "",
                sub_category=row["sub_category"],
                confidence=row["confidence"],
                reasoning=row["reasoning"] or "",
                own_account=bool(row["own_account"]),
                risk_flags=tuple(RiskFlag(f) for f in _json(row["risk_flags"])),
            )
        return cls(
            ticket_id=row["ticket_id"],
            outcome=Outcome(row["outcome"]),
            playbook_id=row["playbook_id"],
            playbook_version=row["playbook_version"],
            playbook_hash=row["playbook_hash"],
            classification=classification,
            classifier=row["classifier"],
            classifier_version=row["classifier_version"],
            blockers=tuple(Blocker.from_dict(b) for b in _json(row["blockers"])),
            requester=RequesterFacts.from_stored(_json(row["requester"])),
            latency_ms=float(row["latency_ms"] or 0.0),
            decision_id=row["id"],
        )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
