"""Interfaces of the external systems, shared by the live adapters and their sandbox twins.

Adapters never import the engine or the gate. They raise :class:`AdapterError` (with ``retryable`` and
``retry_after``) so callers can tell a throttled or unavailable vendor from a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict


class AdapterError(Exception):
    """A call to an external system failed. ``retryable``: timeouts, 429, 5xx; not: 4xx, refusals."""

    def __init__(
        self,
        adapter: str,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{adapter}: {message}")
        self.adapter = adapter
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"AdapterError(adapter={self.adapter!r}, message={self.message!r}, retryable={self.retryable}, "
            f"status={self.status}, retry_after={self.retry_after})"
        )


class NotFound(AdapterError):
    def __init__(self, adapter: str, message: str) -> None:
        super().__init__(adapter, message, retryable=False, status=404)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- HaloPSA -------------------------------------------------------------------------------------------


class Ticket(Frozen):
    """A ticket as read from HaloPSA (the only source trusted for it)."""

    id: int
    summary: str = ""
    details: str = ""
    user_email: str = ""
    user_name: str = ""
    user_azure_oid: str = ""
    status_id: int | None = None
    closed: bool = False
    client_name: str = ""


class TicketSystem(Protocol):
    async def get_ticket(self, ticket_id: int) -> Ticket:
        """Raises :class:`NotFound` for an unknown ticket."""
        ...

    async def update_ticket(
        self,
        ticket_id: int,
        *,
        custom_fields: dict[str, str] | None = None,
        status_id: int | None = None,
        team: str | None = None,
        agent_id: int | None = None,
        priority_id: int | None = None,
    ) -> None:
        """Set what is given (None: leave it): custom fields by our names, status, team, agent, priority."""
        ...

    async def add_note(self, ticket_id: int, note: str, *, private: bool = True) -> None: ...

    async def list_tickets_since(self, days: int) -> list[Ticket]: ...


# --- Entra ID (Microsoft Graph) ----------------------------------------------------------------------


class PhoneMethod(Frozen):
    number: str
    """E.164, e.g. ``+447700900123``."""
    kind: Literal["mobile", "alternateMobile", "office"] = "mobile"


class DirectoryUser(Frozen):
    id: str
    user_principal_name: str
    mail: str = ""
    display_name: str = ""
    account_enabled: bool = True
    department: str = ""
    manager_id: str | None = None
    phones: tuple[PhoneMethod, ...] = ()
    group_ids: tuple[str, ...] = ()
    other_mails: tuple[str, ...] = ()
    """The user's alternate e-mail addresses on record (Graph ``otherMails``), e.g. a personal address."""

    @property
    def phone_on_record(self) -> str | None:
        """The mobile MFA phone method, else an alternate mobile; never an office line or the ticket's."""
        for kind in ("mobile", "alternateMobile"):
            for phone in self.phones:
                if phone.kind == kind:
                    return phone.number
        return None


class PrivilegeCheck(Frozen):
    privileged: bool
    roles: tuple[str, ...] = ()
    """Why: e.g. ``direct:Global Administrator``, ``group:Helpdesk Administrator``, ``eligible:...``."""


class AmbiguousUser(AdapterError):
    def __init__(self, adapter: str, message: str) -> None:
        super().__init__(adapter, message, retryable=False, status=409)


RISKY_STATES = frozenset({"atRisk", "confirmedCompromised"})
RISKY_LEVELS = frozenset({"medium", "high"})


class UserRisk(Frozen):
    """Identity Protection's verdict on a user (Graph ``riskyUser``); a user never at risk has none."""

    risk_state: str = "none"
    """``none | confirmedSafe | remediated | dismissed | atRisk | confirmedCompromised``."""
    risk_level: str = "none"
    """``low | medium | high | hidden | none``; ``hidden`` when the tenant's licence does not disclose it."""
    risk_detail: str = ""
    last_updated: datetime | None = None

    @property
    def at_risk(self) -> bool:
        return self.risk_state in RISKY_STATES or self.risk_level in RISKY_LEVELS


class SecurityInfoChange(Frozen):
    """One registration, change or deletion of a user's security info (MFA methods), from the audit log."""

    activity: str
    """The audit activity, e.g. ``User registered security info``, ``Admin deleted security info``."""
    at: datetime
    initiated_by: str = ""


class IdentitySignalUnavailable(AdapterError):
    """The tenant cannot answer an identity-signal query: no licence for it, or no permission (HTTP 403).

    Not retryable; ``reason`` is ``licence`` or ``permission``.
    """

    def __init__(self, adapter: str, message: str, *, reason: Literal["licence", "permission"]) -> None:
        super().__init__(adapter, message, retryable=False, status=403)
        self.reason = reason


class TemporaryAccessPass(str):
    """A Temporary Access Pass as Entra issued it: the value itself (a ``str``, a secret: never log or store
    it) and ``method_id``, the id of its ``temporaryAccessPassAuthenticationMethod`` (not a secret), which
    is what deletes it. Its ``repr`` shows the method id only."""

    method_id: str

    def __new__(cls, value: str, *, method_id: str) -> TemporaryAccessPass:
        tap = super().__new__(cls, value)
        tap.method_id = method_id
        return tap

    def __repr__(self) -> str:
        return f"TemporaryAccessPass(method_id={self.method_id!r})"


class Directory(Protocol):
    async def resolve_user(self, *, azure_oid: str = "", email: str = "") -> DirectoryUser:
        """Exactly one user by object id, else by mail/UPN; :class:`NotFound` or :class:`AmbiguousUser`."""
        ...

    async def get_user(self, user_id: str) -> DirectoryUser: ...

    async def get_manager(self, user_id: str) -> DirectoryUser | None: ...

    async def check_privileged(self, user_id: str) -> PrivilegeCheck:
        """Direct, group-based and PIM-eligible directory roles. Raises on failure (caller: privileged)."""
        ...

    async def get_user_risk(self, user_id: str) -> UserRisk:
        """Identity Protection user risk (a user never at risk: ``UserRisk()``).

        Raises :class:`IdentitySignalUnavailable` when the tenant lacks the licence or the permission.
        """
        ...

    async def list_security_info_changes(
        self, user_id: str, *, since: datetime
    ) -> tuple[SecurityInfoChange, ...]:
        """Security info registered, changed or deleted for the user since ``since`` (the audit log).

        Raises :class:`IdentitySignalUnavailable` when the tenant lacks the licence or the permission.
        """
        ...

    async def create_temporary_access_pass(
        self, user_id: str, *, lifetime_minutes: int, one_time: bool, idempotency_key: str
    ) -> TemporaryAccessPass:
        """Returns the TAP (a secret: never log or store it) with the id of its method (not a secret)."""
        ...

    async def delete_temporary_access_pass(self, user_id: str, method_id: str) -> bool:
        """Delete the user's TAP method ``method_id``: True when deleted, False when it was already gone
        (used, expired or replaced by a newer TAP). Raises :class:`AdapterError` otherwise."""
        ...

    async def reset_password(self, user_id: str, *, force_change: bool, idempotency_key: str) -> str:
        """Sets and returns a new random password (a secret)."""
        ...


# --- MFA push (Azure MFA connector) ------------------------------------------------------------------

MfaResult = Literal["approved", "denied", "timeout"]


class MfaPush(Protocol):
    async def push(self, user_principal_name: str, *, context_id: str) -> MfaResult: ...


# --- Teams (Workflows webhook) -----------------------------------------------------------------------


class CardPoster(Protocol):
    async def post_card(self, card: dict[str, Any]) -> None:
        """Post an Adaptive Card (the ``content`` object) to the configured Workflows URL."""
        ...


# --- Twilio -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmsReceipt:
    sid: str
    status: str
    extra: dict[str, Any] = field(default_factory=dict)


class SmsSender(Protocol):
    async def send(
        self, to: str, body: str, *, idempotency_key: str, status_callback: str | None = None
    ) -> SmsReceipt:
        """Send ``body`` to ``to`` (E.164). The body may hold a secret: never log it."""
        ...


# --- E-mail (Graph sendMail from the service mailbox) ----------------------------------------------


class MailSender(Protocol):
    async def send_mail(self, to: str, subject: str, body: str, *, idempotency_key: str) -> None:
        """Send a plain-text message from the configured service mailbox to ``to``. The body may hold a
        secret: never log it, and keep no copy (no Sent Items)."""
        ...


@dataclass
class AdapterSet:
    """The adapters of one running service (live or sandbox)."""

    tickets: TicketSystem
    directory: Directory
    mfa: MfaPush
    cards: CardPoster
    sms: SmsSender
    mail: MailSender | None = None
    """``delivery.email``; None when no service mailbox is configured (the step then fails)."""
    mode: Literal["sandbox", "live"] = "sandbox"
    extras: dict[str, Any] = field(default_factory=dict)
