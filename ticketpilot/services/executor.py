"""``executor.reset_password``: a Temporary Access Pass (default) or a password reset in Entra ID.

The credential is returned in ``Succeeded.secrets`` only (memory; never outputs, logs or the database)
and registered with the log redactor at once. Its outputs say how to undo it (``revocation``): a TAP by its
method id, which the engine deletes if the execution ends without delivering it; a password can't be undone.
Safe to re-run: a TAP issued again in the same execution (the first was lost in a restart before delivery)
replaces the old one, which is deleted in Entra first. The requester's privilege is checked again here — a role granted after the gate decided must not get
an automated reset — and a failed check counts as privileged. So is the identity-provider evidence
(:class:`IdentityRecheck`): a user put at risk, or a phone registered, while the verification waited gets
no credential.

The kill switches are checked here too, at the moment a credential would be issued: whatever started the
execution (the gate, the admin API, an operator retry, a restart), no credential is issued while the global
kill switch or the playbook's own is on. The step then fails without retry and the playbook's
``on_failure`` path (normally an escalation to a technician) is taken; a kill switch that cannot be read
counts as on for this attempt (a retryable failure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import asyncpg
import structlog

from ticketpilot.adapters.base import AdapterError, Directory
from ticketpilot.gate.identity_signals import read_identity_signals
from ticketpilot.logging import register_secret
from ticketpilot.services.common import (
    Clock,
    KillSwitchCheck,
    RequesterUnresolved,
    failed_from_adapter,
    resolve_requester,
    utcnow,
)
from ticketpilot.steps import REVOCATION_OUTPUT, Failed, StepCall, StepEvent, StepOutcome, Succeeded

log = structlog.get_logger(__name__)

TAP_MIN_MINUTES = 10
TAP_MAX_MINUTES = 43_200
"""Entra's bounds for a TAP's lifetime (10 minutes to 30 days)."""


class InvalidParams(ValueError):
    """The playbook's ``params`` for this step are not usable."""


@dataclass(frozen=True)
class ResetParams:
    method: Literal["temporary_access_pass", "password"] = "temporary_access_pass"
    lifetime_minutes: int = 60
    one_time: bool = True

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> ResetParams:
        unknown = set(params) - {"method", "lifetime_minutes", "one_time"}
        if unknown:
            raise InvalidParams(f"unknown params: {sorted(unknown)}")
        method = params.get("method", "temporary_access_pass")
        if method not in ("temporary_access_pass", "password"):
            raise InvalidParams(f"method must be temporary_access_pass or password, not {method!r}")
        lifetime = params.get("lifetime_minutes", 60)
        if isinstance(lifetime, bool) or not isinstance(lifetime, int):
            raise InvalidParams("lifetime_minutes must be a whole number of minutes")
        if not TAP_MIN_MINUTES <= lifetime <= TAP_MAX_MINUTES:
            raise InvalidParams(f"lifetime_minutes must be between {TAP_MIN_MINUTES} and {TAP_MAX_MINUTES}")
        one_time = params.get("one_time", True)
        if not isinstance(one_time, bool):
            raise InvalidParams("one_time must be true or false")
        return cls("password" if method == "password" else "temporary_access_pass", lifetime, one_time)


@dataclass(frozen=True)
class IdentityRecheck:
    """Identity-provider evidence read again just before a credential is issued (``[policy]``): the gate read
    it when it decided, but a verification can take an hour, and a phone registered meanwhile must not receive
    the credential."""

    security_info_window_days: float = 7.0
    require_identity_signals: bool = True
    clock: Clock = utcnow


class ResetPassword:
    """The ``executor.reset_password`` step service."""

    name = "executor.reset_password"
    rerun_safe = True
    requires_secrets: tuple[str, ...] = ()
    produces_secrets: tuple[str, ...] = ("credential",)

    def __init__(
        self,
        directory: Directory,
        *,
        kill_switch: KillSwitchCheck | None = None,
        identity_recheck: IdentityRecheck | None = None,
    ) -> None:
        self._directory = directory
        self._kill_switch = kill_switch
        self._identity_recheck = identity_recheck

    def __repr__(self) -> str:
        return "ResetPassword()"

    async def start(self, call: StepCall) -> StepOutcome:
        try:
            params = ResetParams.parse(call.params)
        except InvalidParams as exc:
            return Failed(f"invalid params: {exc}")
        stopped = await self._stopped(call.playbook_id)
        if stopped is not None:
            return stopped
        try:
            requester = await resolve_requester(self._directory, call.context)
            privilege = await self._directory.check_privileged(requester.id)
        except RequesterUnresolved as exc:
            return Failed(exc.reason)
        except AdapterError as exc:
            return failed_from_adapter("directory check failed (treated as privileged)", exc)
        if privilege.privileged:
            return Failed(f"requester holds a privileged role ({', '.join(privilege.roles) or 'unknown'})")
        if not requester.account_enabled:
            return Failed("requester's account is disabled")
        refused = await self._identity_refusal(requester.id)
        if refused is not None:
            return refused
        if params.method == "temporary_access_pass":
            refused = await self._delete_previous(call)
            if refused is not None:
                return refused
        method_id = ""
        try:
            if params.method == "temporary_access_pass":
                tap = await self._directory.create_temporary_access_pass(
                    requester.id,
                    lifetime_minutes=params.lifetime_minutes,
                    one_time=params.one_time,
                    idempotency_key=call.idempotency_key,
                )
                credential, method_id = str(tap), tap.method_id
            else:
                credential = await self._directory.reset_password(
                    requester.id, force_change=True, idempotency_key=call.idempotency_key
                )
        except AdapterError as exc:
            return failed_from_adapter("creating the credential failed", exc)
        register_secret(credential)
        log.info("credential_issued", execution_id=str(call.execution_id), credential_kind=params.method)
        outputs: dict[str, Any] = {"credential_kind": params.method}
        upn = requester.user_principal_name
        if params.method == "temporary_access_pass":
            outputs.update(lifetime_minutes=params.lifetime_minutes, one_time=params.one_time)
            outputs[REVOCATION_OUTPUT] = {
                "kind": "temporary_access_pass",
                "undoable": True,
                "user_id": requester.id,
                "method_id": method_id,
                "what": f"the Temporary Access Pass of {upn}",
            }
        else:
            outputs.update(force_change=True)
            outputs[REVOCATION_OUTPUT] = {
                "kind": "password",
                "undoable": False,
                "user_id": requester.id,
                "what": f"the new password of {upn}",
            }
        what = "Temporary Access Pass" if params.method == "temporary_access_pass" else "new password"
        return Succeeded(outputs=outputs, secrets={"credential": credential}, summary=f"{what} issued")

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        return Failed("executor.reset_password does not wait for events")

    async def _delete_previous(self, call: StepCall) -> Failed | None:
        """Delete the TAP this step issued earlier in the execution, before issuing the next one.

        The step runs again when its TAP was lost from memory in a restart before it was delivered; the new
        TAP replaces the old one, so the old one is deleted first (``DELETE .../temporaryAccessPassMethods/
        {id}``): whatever Entra's policy, one execution never leaves two TAPs behind. An old TAP already gone
        (used, expired, replaced) is fine; one that cannot be deleted now means no new TAP this attempt."""
        previous = _previous_tap(call)
        if previous is None:
            return None
        user_id, method_id = previous
        try:
            deleted = await self._directory.delete_temporary_access_pass(user_id, method_id)
        except AdapterError as exc:
            return failed_from_adapter("deleting the Temporary Access Pass issued before failed", exc)
        log.info(
            "previous_tap_deleted", execution_id=str(call.execution_id), method_id=method_id, deleted=deleted
        )
        return None

    async def _identity_refusal(self, user_id: str) -> Failed | None:
        """A failure when Identity Protection holds the user at risk, their security info changed inside the
        window, or (when required) the tenant can't say; None when the credential may be issued."""
        recheck = self._identity_recheck
        if recheck is None:
            return None
        since = recheck.clock() - timedelta(days=recheck.security_info_window_days)
        signals = await read_identity_signals(self._directory, user_id, since=since)
        if signals.transient is not None:
            return failed_from_adapter("identity signals unavailable; nothing issued", signals.transient)
        reasons = [signals.identity_risk]
        if signals.security_info_changes:
            reasons.append(f"security info changed recently: {signals.security_info_changes}")
        if signals.identity_signals_unavailable and recheck.require_identity_signals:
            reasons.append(f"identity signals unavailable: {signals.identity_signals_unavailable}")
        reasons = [r for r in reasons if r]
        if not reasons:
            return None
        log.warning("credential_refused_by_identity_signals", user_id=user_id, reasons=reasons)
        return Failed(f"no credential issued: {'; '.join(reasons)}"[:1000])

    async def _stopped(self, playbook_id: str) -> Failed | None:
        """A failure when a kill switch forbids issuing a credential now; None when it may go ahead."""
        if self._kill_switch is None:
            return None
        try:
            detail = await self._kill_switch(playbook_id)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            return Failed(
                f"could not read the kill switches ({type(exc).__name__}); nothing issued", retryable=True
            )
        if not detail:
            return None
        log.warning("credential_refused_by_kill_switch", playbook_id=playbook_id, detail=detail)
        return Failed(f"no credential issued: {detail}")


def _previous_tap(call: StepCall) -> tuple[str, str] | None:
    """(user id, method id) of the TAP an earlier attempt of this step issued, from the checkpointed outputs."""
    steps = call.context.get("steps")
    mine = steps.get(call.step_id) if isinstance(steps, Mapping) else None
    revocation = mine.get(REVOCATION_OUTPUT) if isinstance(mine, Mapping) else None
    if not isinstance(revocation, Mapping) or revocation.get("kind") != "temporary_access_pass":
        return None
    user_id, method_id = revocation.get("user_id"), revocation.get("method_id")
    if not user_id or not method_id:
        return None
    return str(user_id), str(method_id)
