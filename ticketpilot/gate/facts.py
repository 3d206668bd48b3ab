"""The inputs of the gate's decision, as plain data: requester facts, policy state, candidate playbooks.

These are produced at the edge (``enrichment.py`` from Entra, ``policy.py`` from PostgreSQL, the playbook
registry) and consumed by the pure function in ``decision.py``. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ticketpilot.playbooks.model import Playbook


@dataclass(frozen=True)
class RequesterFacts:
    """What the gate knows of the ticket's requester, resolved from HaloPSA data (never the ticket text).

    ``unresolved_reason`` is set when the requester is not exactly one Entra user; the other directory
    facts are then unknown (None / empty). The phone number itself is never held here: ``has_phone`` is
    enough to decide, and the delivery step reads the number from Entra when it sends.
    """

    email: str
    """The requester's address as HaloPSA has it."""
    azure_oid: str = ""
    """HaloPSA's ``azureoid`` for the requester, when the contact is linked to Entra."""
    user_id: str | None = None
    user_principal_name: str = ""
    mail: str = ""
    enabled: bool | None = None
    department: str = ""
    manager_id: str | None = None
    has_phone: bool = False
    """A mobile phone method in E.164 is on record."""
    privileged: bool | None = None
    privilege_detail: str = ""
    """Which roles make the account privileged, or why the check failed (then ``privileged`` is True)."""
    group_ids: tuple[str, ...] = ()
    unresolved_reason: str = ""
    identity_risk: str = ""
    """Identity Protection holds the user at risk, e.g. ``riskState atRisk, riskLevel high``."""
    security_info_changes: str = ""
    """Security info registered, changed or deleted inside ``policy.security_info_window_days``, newest first."""
    identity_signals_unavailable: str = ""
    """Why an identity signal could not be read (no licence, no permission, an error): blocks automation
    unless ``policy.require_identity_signals = false``."""
    unavailable_reason: str = ""
    """Set when the directory was throttled or failing (429, 5xx, timeout) while looking the requester up:
    the facts are incomplete, and the gate waits (``gate.max_decision_delay_s``) before deciding on them."""
    retry_after_s: float | None = None
    """With ``unavailable_reason``: the wait the directory asked for (``Retry-After``), if it said."""

    @property
    def resolved(self) -> bool:
        return self.user_id is not None and not self.unresolved_reason

    @property
    def identifiers(self) -> frozenset[str]:
        """Every identifier of this requester (lower-case), for matching against exclusion lists."""
        values = (self.email, self.azure_oid, self.user_id or "", self.user_principal_name, self.mail)
        return frozenset(v.strip().lower() for v in values if v and v.strip())

    @property
    def context_email(self) -> str:
        """The address handed to the engine: the Entra mail when known, else HaloPSA's."""
        return self.mail or self.email

    def as_dict(self) -> dict[str, Any]:
        """The public view (API, CLI): never the phone number itself."""
        return {
            "email": self.email,
            "user_id": self.user_id,
            "enabled": self.enabled,
            "privileged": self.privileged,
            "has_phone": self.has_phone,
        }

    def as_stored(self) -> dict[str, Any]:
        """What the decision row keeps of the requester (no phone, no secret)."""
        return {
            **self.as_dict(),
            "azure_oid": self.azure_oid,
            "user_principal_name": self.user_principal_name,
            "mail": self.mail,
            "department": self.department,
            "manager_id": self.manager_id,
            "privilege_detail": self.privilege_detail,
            "unresolved_reason": self.unresolved_reason,
            "identity_risk": self.identity_risk,
            "security_info_changes": self.security_info_changes,
            "identity_signals_unavailable": self.identity_signals_unavailable,
            "unavailable_reason": self.unavailable_reason,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> RequesterFacts:
        return cls(
            email=str(data.get("email") or ""),
            azure_oid=str(data.get("azure_oid") or ""),
            user_id=data.get("user_id"),
            user_principal_name=str(data.get("user_principal_name") or ""),
            mail=str(data.get("mail") or ""),
            enabled=data.get("enabled"),
            department=str(data.get("department") or ""),
            manager_id=data.get("manager_id"),
            has_phone=bool(data.get("has_phone")),
            privileged=data.get("privileged"),
            privilege_detail=str(data.get("privilege_detail") or ""),
            unresolved_reason=str(data.get("unresolved_reason") or ""),
            identity_risk=str(data.get("identity_risk") or ""),
            security_info_changes=str(data.get("security_info_changes") or ""),
            identity_signals_unavailable=str(data.get("identity_signals_unavailable") or ""),
            unavailable_reason=str(data.get("unavailable_reason") or ""),
        )


@dataclass(frozen=True)
class PolicySnapshot:
    """Operator policy and run-time state at the moment of one decision.

    A non-empty ``*_detail`` means that condition is in force (the text explains it for the note).
    """

    kill_switch_global: bool = False
    kill_switch_detail: str = ""
    killed_playbooks: frozenset[str] = frozenset()
    """Playbook ids whose operator kill switch is on (``playbook_state.kill_switch``)."""
    excluded_users: frozenset[str] = frozenset()
    """Lower-case e-mail addresses, UPNs or Entra object ids."""
    excluded_groups: frozenset[str] = frozenset()
    """Lower-case Entra group ids."""
    cooldown_detail: str = ""
    rate_limited_detail: str = ""
    require_identity_signals: bool = True
    """``policy.require_identity_signals``: an identity signal the tenant cannot give blocks automation."""


@dataclass(frozen=True)
class ClassifierFailure:
    """No usable answer from the classifier (error, timeout, refusal, invalid output): stays manual."""

    reason: str
    classifier: str
    classifier_version: str
    detail: str = ""
    transient: bool = False
    """Throttled, failing or timed out (429, 5xx, connection, timeout): worth deciding again later."""
    retry_after_s: float | None = None


class PlaybookCandidate(Protocol):
    """A playbook as the registry offers it: the definition, its content hash and the operator switches."""

    @property
    def playbook(self) -> Playbook: ...

    @property
    def content_hash(self) -> str: ...

    @property
    def enabled(self) -> bool: ...

    @property
    def kill_switch(self) -> bool: ...


@dataclass(frozen=True)
class Candidate:
    """A concrete :class:`PlaybookCandidate` (tests, preview, and callers without a registry)."""

    playbook: Playbook
    content_hash: str
    enabled: bool = True
    kill_switch: bool = False
