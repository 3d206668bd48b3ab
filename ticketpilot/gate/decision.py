"""The gate's decision, a pure function: (classification, requester, candidates, policy) → Decision.

No I/O, no clock, no randomness: the same inputs always give the same decision, which makes every
blocker and the shadow mode testable as plain data. The rules:

- a playbook is chosen among the enabled candidates triggered by the classification's sub-category
  (``active`` mode before ``shadow``, then by id, so the choice is stable);
- every blocker is recorded, not only the first;
- any blocker ⇒ ``manual``;
- no blocker and the chosen playbook is in ``mode: shadow`` ⇒ ``shadow`` (it *would* have run; nothing
  is started);
- otherwise ⇒ ``automated``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ticketpilot.gate.blockers import (
    Blocker,
    BlockerName,
    check_classification,
    check_classifier,
    check_phone,
    check_playbook,
    check_policy,
    check_requester,
    check_taxonomy,
)
from ticketpilot.gate.classification import ClassifierResult
from ticketpilot.gate.facts import ClassifierFailure, PlaybookCandidate, PolicySnapshot, RequesterFacts


class Outcome(StrEnum):
    AUTOMATED = "automated"
    MANUAL = "manual"
    SHADOW = "shadow"


@dataclass(frozen=True)
class Decision:
    """What the gate decided, with the playbook it chose (if any) and every blocker it found."""

    outcome: Outcome
    candidate: PlaybookCandidate | None
    blockers: tuple[Blocker, ...]

    @property
    def playbook_id(self) -> str | None:
        return self.candidate.playbook.id if self.candidate is not None else None

    @property
    def blocker_names(self) -> tuple[BlockerName, ...]:
        return tuple(b.name for b in self.blockers)

    @property
    def only_rate_limited(self) -> bool:
        """The global rate limit alone stopped an automation (this is what opens the breaker)."""
        return self.candidate is not None and self.blocker_names == (BlockerName.RATE_LIMITED,)


def choose_playbook(
    sub_category: str, candidates: Sequence[PlaybookCandidate]
) -> tuple[PlaybookCandidate | None, list[Blocker]]:
    """The enabled playbook triggered by ``sub_category``; else why there is none."""
    triggered = [c for c in candidates if sub_category in c.playbook.triggers.sub_categories]
    enabled = [c for c in triggered if c.enabled and c.playbook.enabled]
    if enabled:
        enabled.sort(key=lambda c: (c.playbook.mode != "active", c.playbook.id))
        return enabled[0], []
    if triggered:
        ids = ", ".join(sorted({c.playbook.id for c in triggered}))
        return None, [
            Blocker(BlockerName.PLAYBOOK_DISABLED, f"playbook(s) for {sub_category} disabled: {ids}")
        ]
    return None, [Blocker(BlockerName.NO_PLAYBOOK, f"no playbook is triggered by {sub_category}")]


def decide(
    classified: ClassifierResult | ClassifierFailure,
    requester: RequesterFacts,
    candidates: Sequence[PlaybookCandidate],
    policy: PolicySnapshot,
    *,
    taxonomy: Collection[str],
) -> Decision:
    """Decide whether a ticket may be automated. Pure: see the module docstring for the rules."""
    blockers: list[Blocker] = []
    candidate: PlaybookCandidate | None = None
    if isinstance(classified, ClassifierFailure):
        blockers += check_classifier(classified)
    else:
        classification = classified.classification
        taxonomy_blockers = check_taxonomy(classification, taxonomy)
        if taxonomy_blockers:
            blockers += taxonomy_blockers
        else:
            candidate, why_none = choose_playbook(classification.sub_category, candidates)
            blockers += why_none
        if candidate is not None:
            blockers += check_playbook(candidate, classification, policy)
        blockers += check_classification(classification)
    blockers += check_requester(requester, policy)
    if candidate is not None:
        blockers += check_phone(candidate, requester)
    blockers += check_policy(policy)

    if blockers or candidate is None:
        outcome = Outcome.MANUAL
    elif candidate.playbook.mode == "shadow":
        outcome = Outcome.SHADOW
    else:
        outcome = Outcome.AUTOMATED
    return Decision(outcome=outcome, candidate=candidate, blockers=tuple(blockers))
