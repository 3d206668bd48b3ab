"""Blockers: the named reasons a ticket is not automated (DESIGN §3), and the pure checks that find them.

Every check takes plain data and returns the blockers it found (an empty list when it passes). The
decision function runs them all, so a decision records *every* reason a ticket stays manual, not just
the first one: an engineer reading the note sees the whole picture.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ticketpilot.gate.classification import Classification
from ticketpilot.gate.facts import ClassifierFailure, PlaybookCandidate, PolicySnapshot, RequesterFacts


class BlockerName(StrEnum):
    """Stable names: they appear in the database, the HaloPSA note, the API and the metrics."""

    CLASSIFIER_ERROR = "classifier_error"
    NO_PLAYBOOK = "no_playbook"
    PLAYBOOK_DISABLED = "playbook_disabled"
    LOW_CONFIDENCE = "low_confidence"
    NOT_OWN_ACCOUNT = "not_own_account"
    RISK_FLAGS = "risk_flags"
    REQUESTER_UNRESOLVED = "requester_unresolved"
    ACCOUNT_DISABLED = "account_disabled"
    PRIVILEGED_ACCOUNT = "privileged_account"
    EXCLUDED_USER = "excluded_user"
    EXCLUDED_GROUP = "excluded_group"
    NO_PHONE_ON_RECORD = "no_phone_on_record"
    COOLDOWN = "cooldown"
    RATE_LIMITED = "rate_limited"
    KILL_SWITCH_GLOBAL = "kill_switch_global"
    KILL_SWITCH_PLAYBOOK = "kill_switch_playbook"
    EXECUTION_NOT_STARTED = "execution_not_started"
    """Decided automated, but the execution could not be started: handed back (``gate/unclaim.py``)."""
    IDENTITY_RISK = "identity_risk"
    RECENT_SECURITY_INFO_CHANGE = "recent_security_info_change"
    IDENTITY_SIGNALS_UNAVAILABLE = "identity_signals_unavailable"
    CLASSIFIERS_DISAGREE = "classifiers_disagree"
    """``[llm] mode = "both"``: the LLM and the offline classifier lead to different playbooks."""
    HALOPSA_UNAVAILABLE = "halopsa_unavailable"
    DIRECTORY_UNAVAILABLE = "directory_unavailable"
    LLM_UNAVAILABLE = "llm_unavailable"
    """The vendor stayed throttled or failing (429, 5xx, timeouts) for ``gate.max_decision_delay_s``."""


@dataclass(frozen=True)
class Blocker:
    """One reason the ticket stays with a human, with a short human-readable detail."""

    name: BlockerName
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name.value, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Blocker:
        return cls(BlockerName(str(data["name"])), str(data.get("detail") or ""))


def check_classifier(failure: ClassifierFailure | None) -> list[Blocker]:
    if failure is None:
        return []
    detail = f"{failure.reason}: {failure.detail}" if failure.detail else failure.reason
    name = BlockerName.LLM_UNAVAILABLE if failure.transient else BlockerName.CLASSIFIER_ERROR
    return [Blocker(name, f"{failure.classifier}: {detail}"[:500])]


def check_taxonomy(classification: Classification, taxonomy: Collection[str]) -> list[Blocker]:
    if classification.sub_category in taxonomy:
        return []
    return [
        Blocker(
            BlockerName.NO_PLAYBOOK,
            f"sub_category {classification.sub_category!r} is not in the configured taxonomy",
        )
    ]


def check_classification(classification: Classification) -> list[Blocker]:
    """What the classifier said about the request itself: own account, risk flags."""
    found: list[Blocker] = []
    if not classification.own_account:
        found.append(
            Blocker(
                BlockerName.NOT_OWN_ACCOUNT, "the request does not concern the requester's own work account"
            )
        )
    if classification.risk_flags:
        flags = ", ".join(sorted({flag.value for flag in classification.risk_flags}))
        found.append(Blocker(BlockerName.RISK_FLAGS, flags))
    return found


def check_playbook(
    candidate: PlaybookCandidate, classification: Classification, policy: PolicySnapshot
) -> list[Blocker]:
    """Per-playbook checks once a playbook has been chosen: kill switch and confidence threshold."""
    found: list[Blocker] = []
    playbook = candidate.playbook
    if candidate.kill_switch or playbook.id in policy.killed_playbooks:
        found.append(Blocker(BlockerName.KILL_SWITCH_PLAYBOOK, f"kill switch on for playbook {playbook.id}"))
    if classification.confidence < playbook.confidence_threshold:
        found.append(
            Blocker(
                BlockerName.LOW_CONFIDENCE,
                f"confidence {classification.confidence:.2f} < threshold {playbook.confidence_threshold:.2f}"
                f" of {playbook.id}",
            )
        )
    return found


def check_requester(requester: RequesterFacts, policy: PolicySnapshot) -> list[Blocker]:
    """The requester must be exactly one enabled, unprivileged, non-excluded Entra user."""
    found: list[Blocker] = []
    if requester.identifiers & policy.excluded_users:
        found.append(Blocker(BlockerName.EXCLUDED_USER, "requester is on policy.excluded_users"))
    if requester.unavailable_reason:  # the directory could not answer: nothing else is known for sure
        found.append(Blocker(BlockerName.DIRECTORY_UNAVAILABLE, requester.unavailable_reason))
        return found
    if not requester.resolved:
        reason = requester.unresolved_reason or "no Entra user"
        found.append(Blocker(BlockerName.REQUESTER_UNRESOLVED, reason))
        return found
    if requester.enabled is not True:
        found.append(Blocker(BlockerName.ACCOUNT_DISABLED, "the Entra account is disabled"))
    if requester.privileged is not False:
        found.append(
            Blocker(
                BlockerName.PRIVILEGED_ACCOUNT, requester.privilege_detail or "privileged directory roles"
            )
        )
    groups = {g.lower() for g in requester.group_ids} & policy.excluded_groups
    if groups:
        found.append(
            Blocker(BlockerName.EXCLUDED_GROUP, "member of excluded group(s): " + ", ".join(sorted(groups)))
        )
    return found + check_identity_signals(requester, policy)


def check_identity_signals(requester: RequesterFacts, policy: PolicySnapshot) -> list[Blocker]:
    """Identity-provider evidence: user risk, security info changed recently, or a tenant that can't say."""
    found: list[Blocker] = []
    if requester.identity_risk:
        found.append(Blocker(BlockerName.IDENTITY_RISK, requester.identity_risk))
    if requester.security_info_changes:
        found.append(
            Blocker(
                BlockerName.RECENT_SECURITY_INFO_CHANGE,
                f"security info changed recently: {requester.security_info_changes}"[:500],
            )
        )
    if requester.identity_signals_unavailable and policy.require_identity_signals:
        found.append(
            Blocker(
                BlockerName.IDENTITY_SIGNALS_UNAVAILABLE,
                f"{requester.identity_signals_unavailable} (policy.require_identity_signals)"[:500],
            )
        )
    return found


def check_phone(candidate: PlaybookCandidate, requester: RequesterFacts) -> list[Blocker]:
    """A playbook that delivers by SMS needs a mobile phone on record (never one from the ticket)."""
    if not candidate.playbook.needs_phone or not requester.resolved or requester.has_phone:
        return []
    return [
        Blocker(
            BlockerName.NO_PHONE_ON_RECORD, f"{candidate.playbook.id} delivers by SMS; no mobile on record"
        )
    ]


def check_policy(policy: PolicySnapshot) -> list[Blocker]:
    """Global and per-user run-time policy: kill switch, rate limit (breaker), cooldown."""
    found: list[Blocker] = []
    if policy.kill_switch_global:
        found.append(
            Blocker(BlockerName.KILL_SWITCH_GLOBAL, policy.kill_switch_detail or "global kill switch on")
        )
    if policy.rate_limited_detail:
        found.append(Blocker(BlockerName.RATE_LIMITED, policy.rate_limited_detail))
    if policy.cooldown_detail:
        found.append(Blocker(BlockerName.COOLDOWN, policy.cooldown_detail))
    return found
