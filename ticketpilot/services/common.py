"""What every step service shares: the clock, finding the requester, adapter errors as outcomes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from ticketpilot.adapters.base import AdapterError, AmbiguousUser, Directory, DirectoryUser, NotFound
from ticketpilot.steps import Failed

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (UTC). Injected so tests drive time."""

KillSwitchCheck = Callable[[str], Awaitable[str]]
"""Given a playbook id: why it may not act now (the global or its own kill switch is on), "" when it may."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class RequesterUnresolved(Exception):
    """The execution context does not lead to exactly one directory user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __repr__(self) -> str:
        return f"RequesterUnresolved({self.reason!r})"


async def resolve_requester(directory: Directory, context: Mapping[str, Any]) -> DirectoryUser:
    """The ticket's requester, from the execution context the gate wrote (``user_id``, ``user_email``).

    Always re-read from the directory: phone numbers and the manager come from there, never from the
    context or the ticket. Raises :class:`RequesterUnresolved` or :class:`AdapterError` (retryable ones).
    """
    user_id = str(context.get("user_id") or "")
    email = str(context.get("user_email") or "")
    if not user_id and not email:
        raise RequesterUnresolved("the execution context names no requester (user_id / user_email)")
    try:
        return await directory.resolve_user(azure_oid=user_id, email=email)
    except AmbiguousUser as exc:
        raise RequesterUnresolved(f"requester is ambiguous in the directory: {exc.message}") from None
    except NotFound as exc:
        raise RequesterUnresolved(f"requester not found in the directory: {exc.message}") from None


def failed_from_adapter(what: str, error: AdapterError) -> Failed:
    """A :class:`Failed` that keeps the adapter's retry classification and ``Retry-After``."""
    return Failed(f"{what}: {error.message}", retryable=error.retryable, retry_after=error.retry_after)
