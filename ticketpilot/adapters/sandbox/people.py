"""The sandbox's people: a deterministic directory user for any email address, with a behaviour.

By default a user is enabled, not privileged, has a manager (``manager.<local>@<domain>``) and a phone on
record, and approves an MFA push after ``sandbox.mfa_approve_after_s``. The start of the local part
chooses another behaviour (see :class:`Behaviour`). Everything derives from the address — id = uuid5 of
the lower-cased address, phone ``+1555`` + 7 digits from its hash — so a restart finds the same people.
Managers (local part ``manager.…``) have no manager of their own and behave by default.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from enum import StrEnum

from ticketpilot.adapters.base import DirectoryUser, PhoneMethod

SANDBOX_NAMESPACE = uuid.UUID("6f1c4a52-4a0e-4d43-9b1e-7c1d2e0a5b11")
MANAGER_PREFIX = "manager."


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

    def __init__(self) -> None:
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
        )
        with self._lock:
            self._by_id[user.id] = user
            self._by_phone[phone] = address
        return user

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
