"""``verification.mfa``: an MFA push to the requester, who proves it is them by approving it.

Not safe to re-run as the same attempt: the push may already be on the requester's phone. An attempt left
in doubt by a restart is asked again at most once, as a new attempt (a new push, recorded as a
``restart_reask`` step row), or, with the step's ``on_restart: fallback``, goes where an unanswered push goes
(``on_timeout``, usually manager approval). Never more than one extra push: a re-ask interrupted again falls
back, so restarts cannot train users to approve pushes they did not expect (push fatigue).
"""

from __future__ import annotations

import structlog

from ticketpilot.adapters.base import AdapterError, Directory, MfaPush
from ticketpilot.services.common import RequesterUnresolved, failed_from_adapter, resolve_requester
from ticketpilot.steps import Failed, StepCall, StepEvent, StepOutcome, Succeeded

log = structlog.get_logger(__name__)


class MfaVerification:
    """The ``verification.mfa`` step service: answers within the push, never parks."""

    name = "verification.mfa"
    rerun_safe = False
    reask_after_restart = True
    requires_secrets: tuple[str, ...] = ()
    produces_secrets: tuple[str, ...] = ()

    def __init__(self, directory: Directory, mfa: MfaPush) -> None:
        self._directory = directory
        self._mfa = mfa

    def __repr__(self) -> str:
        return f"MfaVerification(mfa={type(self._mfa).__name__})"

    async def start(self, call: StepCall) -> StepOutcome:
        try:
            requester = await resolve_requester(self._directory, call.context)
        except RequesterUnresolved as exc:
            return Failed(exc.reason)
        except AdapterError as exc:
            return failed_from_adapter("directory lookup failed", exc)
        if not requester.account_enabled:
            return Failed("requester's account is disabled")
        upn = requester.user_principal_name
        try:
            result = await self._mfa.push(upn, context_id=call.idempotency_key)
        except AdapterError as exc:
            return failed_from_adapter("MFA push failed", exc)
        log.info("mfa_push_answered", execution_id=str(call.execution_id), result=result)
        if result == "approved":
            return Succeeded(
                outputs={"verified_by": "mfa_push", "user_principal_name": upn}, summary="MFA approved"
            )
        if result == "denied":
            return Failed("requester denied the MFA push")
        return Failed("no answer to MFA push", timed_out=True)

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        # start() never parks; an event here is a stray one (the engine should not send it).
        return Failed("verification.mfa does not wait for events")
