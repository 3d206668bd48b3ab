"""The sandbox's people: a deterministic directory user for any email address, with a behaviour.

By default a user is enabled, not privileged, has a manager (``manager.<local>@<domain>``) and a phone on
record, and approves an MFA push after ``sandbox.mfa_approve_after_s``. The start of the local part
chooses another behaviour (see :class:`Behaviour`). Everything derives from the address — id = uuid5 of
the lower-cased address, phone ``+1555`` + 7 digits from its hash — so a restart finds the same people.
Managers (local part ``manager.…``) have no manager of their own and behave by default.

A local part containing ``+alt`` (``sms-undelivered.ray+alt@contoso.example``) gives the user an alternate
e-mail address on record (Graph ``otherMails``): ``ray@personal.example``, where ``delivery.email`` sends.
Without it a user has none.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from enum import StrEnum
from typing import TYPE_CHECKING

from ticketpilot.adapters.base import DirectoryUser, PhoneMethod

if TYPE_CHECKING:
    from ticketpilot.adapters.sandbox.store import SandboxStore

SANDBOX_NAMESPACE = uuid.UUID("6f1c4a52-4a0e-4d43-9b1e-7c1d2e0a5b11")
MANAGER_PREFIX = "manager."
ALT_MAIL_TAG = "+alt"
ALT_MAIL_DOMAIN = "personal.example"


def other_mails_of(email: str) -> tuple[str, ...]:
    """The alternate address on record of a ``+alt`` user: the last word of the local part, tag removed."""
    local, _ = split_address(email)
    if ALT_MAIL_TAG not in local:
        return ()
    words = [w for w in re.split(r"[._]+", local.replace(ALT_MAIL_TAG, "")) if w]
    return (f"{words[-1] if words else 'user'}@{ALT_MAIL_DOMAIN}",)


class Behaviour(StrEnum):
    """Chosen by the start of the address's local part (e.g. ``mfa-deny.jane@example.com``)."""

    DEFAULT = "default"
    MFA_DENY = "mfa-deny"
    MFA_TIMEOUT = "mfa-timeout"
    """Never answers the push (timeout after ``sandbox.mfa_timeout_s``) → the playbook asks the manager."""
    MANAGER_DENY = "manager-deny"
    MANAGER_SILENT = "manager-silent"
    """The manager answers neither Teams nor SMS → SMS fallback, then escalation."""
    SMS_FLAKY = "sms-flaky"
    """Delivery to this user's phone fails twice (retryable), then succeeds."""
    SMS_UNDELIVERED = "sms-undelivered"
    """Twilio accepts every message to this user's phone, then reports it ``undelivered`` (→ retries, then
    escalation)."""
    SMS_FAIL = "sms-fail"
    """Delivery to this user's phone always fails (not retryable)."""
    DISABLED = "disabled"
    ADMIN = "admin"
    """Holds a privileged directory role (Global Administrator)."""
    NO_PHONE = "no-phone"
    NO_MANAGER = "no-manager"
    RISKY = "risky"
    """Identity Protection holds the user at risk (riskState atRisk, riskLevel high) → ``identity_risk``."""
    NEW_PHONE = "new-phone"
    """Registered a new phone as security info a day ago → ``recent_security_info_change``."""
    UNLICENSED = "unlicensed"
    """The user's tenant has no Entra ID P2/P1 licence: identity signals unavailable (fails closed)."""


_BY_PREFIX = sorted((b for b in Behaviour if b is not Behaviour.DEFAULT), key=lambda b: -len(b.value))


def split_address(email: str) -> tuple[str, str]:
    local, _, domain = email.strip().lower().partition("@")
    return local, domain


def behaviour_of(email: str) -> Behaviour:
    local, _ = split_address(email)
    for behaviour in _BY_PREFIX:
        if local.startswith(behaviour.value):
            return behaviour
    return Behaviour.DEFAULT


def is_manager_address(email: str) -> bool:
    return split_address(email)[0].startswith(MANAGER_PREFIX)


def subordinate_of(manager_email: str) -> str | None:
    """``manager.jane@x`` → ``jane@x`` (whose behaviour decides how the manager answers)."""
    local, domain = split_address(manager_email)
    if not local.startswith(MANAGER_PREFIX):
        return None
    return f"{local.removeprefix(MANAGER_PREFIX)}@{domain}"


def user_id_of(email: str) -> str:
    return str(uuid.uuid5(SANDBOX_NAMESPACE, email.strip().lower()))


def phone_of(email: str) -> str:
    number = int(hashlib.sha256(email.strip().lower().encode()).hexdigest(), 16) % 10**7
    return f"+1555{number:07d}"


def display_name_of(email: str) -> str:
    local, _ = split_address(email)
    words = [w for w in re.split(r"[._+\-]+", local) if w]
    return " ".join(w.capitalize() for w in words) or local


class SandboxPeople:
    """Builds the fake users and remembers them by id and by phone (for the SMS sender's behaviours)."""

    def __init__(self, store: SandboxStore | None = None) -> None:
        self._store = store
        self._by_id: dict[str, DirectoryUser] = {}
        self._by_phone: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SandboxPeople(known={len(self._by_id)})"

    def user(self, email: str) -> DirectoryUser:
        address = email.strip().lower()
        local, domain = split_address(address)
        if not local or not domain:
            raise ValueError(f"not an email address: {email!r}")
        behaviour = behaviour_of(address)
        manager_id = None
        if behaviour is not Behaviour.NO_MANAGER and not is_manager_address(address):
            manager_id = user_id_of(f"{MANAGER_PREFIX}{local}@{domain}")
        phone = phone_of(address)
        user = DirectoryUser(
            id=user_id_of(address),
            user_principal_name=address,
            mail=address,
            display_name=display_name_of(address),
            account_enabled=behaviour is not Behaviour.DISABLED,
            department="Sandbox",
            manager_id=manager_id,
            phones=() if behaviour is Behaviour.NO_PHONE else (PhoneMethod(number=phone, kind="mobile"),),
            other_mails=other_mails_of(address),
        )
        with self._lock:
            self._by_id[user.id] = user
            self._by_phone[phone] = address
        return user

    async def remember(self, user: DirectoryUser) -> DirectoryUser:
        """With a store: record the person in PostgreSQL, so that every process (and this one after a
        restart) resolves their id and phone number. Returns ``user``."""
        if self._store is not None:
            await self._store.remember_person(user.id, user.user_principal_name, phone_of(user.mail))
        return user

    async def recall(self, user_id: str) -> DirectoryUser | None:
        """The person with this id: known here, or seen by any process on the database (with a store)."""
        known = self.known(user_id)
        if known is not None or self._store is None:
            return known
        email = await self._store.email_of(user_id)
        return None if email is None else self.user(email)

    async def recall_phone_owner(self, phone: str) -> str | None:
        """The address whose phone on record is ``phone``, here or (with a store) in any process."""
        owner = self.owner_of_phone(phone)
        if owner is not None or self._store is None:
            return owner
        return await self._store.owner_of_phone(phone)

    def manager_of(self, user: DirectoryUser) -> DirectoryUser | None:
        if user.manager_id is None:
            return None
        local, domain = split_address(user.user_principal_name)
        return self.user(f"{MANAGER_PREFIX}{local}@{domain}")

    def known(self, user_id: str) -> DirectoryUser | None:
        with self._lock:
            return self._by_id.get(user_id)

    def owner_of_phone(self, phone: str) -> str | None:
        with self._lock:
            return self._by_phone.get(phone)
