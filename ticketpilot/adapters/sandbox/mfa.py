"""The sandbox twin of the Azure MFA connector: every user "answers" the push after a short delay.

With a :class:`~.store.SandboxStore` each push is a row of ``sandbox_mfa_pushes`` (its result and when it is
answered, chosen when it is sent): a push for the same context id (the step attempt) is the same push, in any
process and after a restart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from ticketpilot.adapters.base import MfaResult
from ticketpilot.adapters.sandbox.ledger import SandboxLedger
from ticketpilot.adapters.sandbox.people import Behaviour, behaviour_of
from ticketpilot.adapters.sandbox.store import SandboxStore
from ticketpilot.config import SandboxConfig

Sleep = Callable[[float], Awaitable[None]]


class SandboxMfa:
    """Approves after ``mfa_approve_after_s``; ``mfa-deny…`` denies; ``mfa-timeout…`` waits
    ``mfa_timeout_s`` and times out."""

    def __init__(
        self, config: SandboxConfig, ledger: SandboxLedger, sleep: Sleep, store: SandboxStore | None = None
    ) -> None:
        self._config = config
        self._ledger = ledger
        self._sleep = sleep
        self._store = store

    def __repr__(self) -> str:
        return f"SandboxMfa(approve_after={self._config.mfa_approve_after_s}s)"

    def _answer(self, user_principal_name: str) -> tuple[MfaResult, float]:
        behaviour = behaviour_of(user_principal_name)
        # The manager behaviours only show if the push goes unanswered, so those requesters never answer it.
        if behaviour in (Behaviour.MFA_TIMEOUT, Behaviour.MANAGER_DENY, Behaviour.MANAGER_SILENT):
            return "timeout", self._config.mfa_timeout_s
        return ("denied" if behaviour is Behaviour.MFA_DENY else "approved"), self._config.mfa_approve_after_s

    async def push(self, user_principal_name: str, *, context_id: str) -> MfaResult:
        result, after_s = self._answer(user_principal_name)
        if self._store is None:
            await self._sleep(after_s)
            await self._ledger.add(
                "mfa_push", user_principal_name=user_principal_name, context_id=context_id, result=result
            )
            return result
        now = datetime.now(UTC)
        stored, answer_at, _ = await self._store.open_push(
            context_id, user_principal_name, result, now, now + timedelta(seconds=after_s)
        )
        remaining = (answer_at - datetime.now(UTC)).total_seconds()
        if remaining > 0:
            await self._sleep(remaining)
        if await self._store.answer_push(context_id, datetime.now(UTC)):
            await self._ledger.add(
                "mfa_push", user_principal_name=user_principal_name, context_id=context_id, result=stored
            )
        return "approved" if stored == "approved" else "denied" if stored == "denied" else "timeout"
