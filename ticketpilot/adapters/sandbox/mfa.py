"""The sandbox twin of the Azure MFA connector: every user "answers" the push after a short delay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ticketpilot.adapters.base import MfaResult
from ticketpilot.adapters.sandbox.ledger import SandboxLedger
from ticketpilot.adapters.sandbox.people import Behaviour, behaviour_of
from ticketpilot.config import SandboxConfig

Sleep = Callable[[float], Awaitable[None]]


class SandboxMfa:
    """Approves after ``mfa_approve_after_s``; ``mfa-deny…`` denies; ``mfa-timeout…`` waits
    ``mfa_timeout_s`` and times out."""

    def __init__(self, config: SandboxConfig, ledger: SandboxLedger, sleep: Sleep) -> None:
        self._config = config
        self._ledger = ledger
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"SandboxMfa(approve_after={self._config.mfa_approve_after_s}s)"

    async def push(self, user_principal_name: str, *, context_id: str) -> MfaResult:
        behaviour = behaviour_of(user_principal_name)
        result: MfaResult
        # The manager behaviours only show if the push goes unanswered, so those requesters never answer it.
        if behaviour in (Behaviour.MFA_TIMEOUT, Behaviour.MANAGER_DENY, Behaviour.MANAGER_SILENT):
            await self._sleep(self._config.mfa_timeout_s)
            result = "timeout"
        else:
            await self._sleep(self._config.mfa_approve_after_s)
            result = "denied" if behaviour is Behaviour.MFA_DENY else "approved"
        self._ledger.record(
            "mfa_push", user_principal_name=user_principal_name, context_id=context_id, result=result
        )
        return result
