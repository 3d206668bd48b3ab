"""Requester enrichment: the ticket's requester (HaloPSA ``azureoid``, else e-mail) → facts from Entra ID.

The lookup is fail-safe: whatever cannot be established counts against automation. No user, several
users or a directory error ⇒ unresolved; a privilege check that fails ⇒ privileged. Results are cached
for ``entra.cache_ttl_s`` (clock injected) so a burst of tickets from one person costs one lookup;
outcomes caused by a transient error are not cached. Identity-provider signals (Identity Protection risk,
recent security-info changes: :mod:`ticketpilot.gate.identity_signals`) are read fresh for every decision.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog

from ticketpilot.adapters.base import AdapterError, AmbiguousUser, DirectoryUser, NotFound, PrivilegeCheck
from ticketpilot.gate.facts import RequesterFacts
from ticketpilot.gate.identity_signals import IdentitySignalSource, read_identity_signals

log = structlog.get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_MAX_CACHE = 10_000


class RequesterDirectory(IdentitySignalSource, Protocol):
    """The part of :class:`ticketpilot.adapters.base.Directory` the gate uses."""

    async def resolve_user(self, *, azure_oid: str = "", email: str = "") -> DirectoryUser: ...

    async def get_manager(self, user_id: str) -> DirectoryUser | None: ...

    async def check_privileged(self, user_id: str) -> PrivilegeCheck: ...


def normalise_e164(number: str) -> str | None:
    """``+44 7700 900123`` → ``+447700900123``; None when it is not an E.164 number."""
    compact = re.sub(r"[\s\-().]", "", number or "")
    return compact if E164.match(compact) else None


@dataclass(frozen=True)
class _Cached:
    expires_at: float
    facts: RequesterFacts


class RequesterResolver:
    """Resolves requesters to :class:`RequesterFacts`, with a short TTL cache."""

    def __init__(
        self,
        directory: RequesterDirectory,
        *,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        security_info_window_days: float = 7.0,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._directory = directory
        self._security_info_window_days = security_info_window_days
        self._wall_clock = wall_clock
        self._ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[tuple[str, str], _Cached] = {}

    def clear(self) -> None:
        self._cache.clear()

    async def resolve(self, *, email: str, azure_oid: str = "") -> RequesterFacts:
        """Facts about the requester identified by HaloPSA's ``azure_oid`` (preferred) or ``email``."""
        email = (email or "").strip()
        azure_oid = (azure_oid or "").strip()
        key = (azure_oid.lower(), "" if azure_oid else email.lower())
        now = self._clock()
        hit = self._cache.get(key)
        if hit is not None and hit.expires_at > now:
            return await self._with_identity_signals(hit.facts)
        facts, cacheable = await self._lookup(email, azure_oid)
        if cacheable:
            if len(self._cache) >= _MAX_CACHE:
                self._cache = {k: v for k, v in self._cache.items() if v.expires_at > now}
                if len(self._cache) >= _MAX_CACHE:
                    self._cache.clear()
            self._cache[key] = _Cached(now + self._ttl_s, facts)
        return await self._with_identity_signals(facts)

    async def _with_identity_signals(self, facts: RequesterFacts) -> RequesterFacts:
        """Add Identity Protection risk and recent security-info changes, read fresh (never cached)."""
        if not facts.resolved or facts.unavailable_reason or facts.user_id is None:
            return facts
        since = self._wall_clock() - timedelta(days=self._security_info_window_days)
        signals = await read_identity_signals(self._directory, facts.user_id, since=since)
        return replace(
            facts,
            identity_risk=signals.identity_risk,
            security_info_changes=signals.security_info_changes,
            identity_signals_unavailable=signals.identity_signals_unavailable,
            **_unavailable(signals.transient, "identity signals"),
        )

    async def _lookup(self, email: str, azure_oid: str) -> tuple[RequesterFacts, bool]:
        base = RequesterFacts(email=email, azure_oid=azure_oid)
        if not email and not azure_oid:
            return _unresolved(base, "the ticket has no requester e-mail or Entra object id"), True
        try:
            if azure_oid:
                user = await self._directory.resolve_user(azure_oid=azure_oid)
            else:
                user = await self._directory.resolve_user(email=email)
        except NotFound:
            return _unresolved(base, f"no Entra user for {_who(email, azure_oid)}"), True
        except AmbiguousUser:
            return _unresolved(base, f"more than one Entra user for {_who(email, azure_oid)}"), True
        except AdapterError as exc:
            log.warning("requester_lookup_failed", error=repr(exc))
            if exc.retryable:  # throttled or failing: not an answer about the requester
                return replace(base, **_unavailable(exc, "directory lookup")), False
            return _unresolved(base, f"directory lookup failed: {exc.message}"), False
        except Exception as exc:
            log.exception("requester_lookup_error")
            return _unresolved(base, f"directory lookup failed: {type(exc).__name__}"), False

        privileged, privilege_detail, privilege_failure = await self._privilege(user.id)
        manager_id = user.manager_id
        if manager_id is None:
            manager_id = await self._manager_id(user.id)
        phone = user.phone_on_record
        facts = RequesterFacts(
            email=email,
            azure_oid=azure_oid,
            user_id=user.id,
            user_principal_name=user.user_principal_name,
            mail=user.mail,
            enabled=user.account_enabled,
            department=user.department,
            manager_id=manager_id,
            has_phone=phone is not None and normalise_e164(phone) is not None,
            privileged=privileged,
            privilege_detail=privilege_detail,
            group_ids=tuple(user.group_ids),
            **_unavailable(privilege_failure, "privilege check"),
        )
        return facts, privilege_failure is None

    async def _privilege(self, user_id: str) -> tuple[bool, str, Exception | None]:
        """(privileged, why, the check's failure if it failed). A failed check counts as privileged."""
        try:
            check = await self._directory.check_privileged(user_id)
        except Exception as exc:
            log.warning("privilege_check_failed", user_id=user_id, error=repr(exc))
            return True, f"privilege check failed ({type(exc).__name__}): treated as privileged", exc
        if check.privileged:
            return True, ", ".join(check.roles) or "privileged directory roles", None
        return False, "", None

    async def _manager_id(self, user_id: str) -> str | None:
        try:
            manager = await self._directory.get_manager(user_id)
        except Exception as exc:  # the manager is context, not a blocker: never fail the lookup on it
            log.info("manager_lookup_failed", user_id=user_id, error=repr(exc))
            return None
        return manager.id if manager is not None else None


def _unavailable(failure: Exception | None, what: str) -> dict[str, Any]:
    """``unavailable_reason`` and ``retry_after_s`` for a transient directory failure (429, 5xx, timeout)."""
    if isinstance(failure, AdapterError) and failure.retryable:
        return {
            "unavailable_reason": f"{what} failed: {failure.message}",
            "retry_after_s": failure.retry_after,
        }
    return {}


def _unresolved(base: RequesterFacts, reason: str) -> RequesterFacts:
    return RequesterFacts(email=base.email, azure_oid=base.azure_oid, unresolved_reason=reason)


def _who(email: str, azure_oid: str) -> str:
    return f"object id {azure_oid}" if azure_oid else email
