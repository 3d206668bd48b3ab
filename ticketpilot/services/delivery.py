"""``delivery.sms``: text the credential to the requester's phone on record.

The number comes from the directory (the mobile MFA method, else the alternate mobile), re-read here; a
number in the ticket, the execution context or the step params is never used. Not safe to re-run: an
attempt left in doubt might already have delivered, and two messages with a credential is one too many.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from ticketpilot.adapters.base import AdapterError, Directory, SmsSender
from ticketpilot.logging import mask_phone
from ticketpilot.services.common import RequesterUnresolved, failed_from_adapter, resolve_requester
from ticketpilot.steps import Failed, StepCall, StepEvent, StepOutcome, Succeeded

log = structlog.get_logger(__name__)


def _find(context: Mapping[str, Any], key: str, depth: int = 0) -> Any:
    """``key`` at the top of the context or inside an earlier step's outputs (nested mappings)."""
    if key in context:
        return context[key]
    if depth < 3:
        for value in context.values():
            if isinstance(value, Mapping):
                found = _find(value, key, depth + 1)
                if found is not None:
                    return found
    return None


def credential_message(call: StepCall, user_principal_name: str, credential: str) -> str:
    """The SMS text, shaped by what the credential step reported (kind, lifetime, one-time).

    The credential stands alone on its line, so it is easy to copy and no punctuation sticks to it."""
    kind = (
        call.params.get("credential_kind")
        or _find(call.context, "credential_kind")
        or "temporary_access_pass"
    )
    if kind == "password":
        return (
            f"Your new temporary password for {user_principal_name} is:\n{credential}\n"
            "You will be asked to choose a new one when you sign in."
        )
    lifetime = call.params.get("lifetime_minutes") or _find(call.context, "lifetime_minutes") or 60
    one_time = _find(call.context, "one_time")
    once = " and works once" if one_time is not False else ""
    return (
        f"Your temporary access pass for {user_principal_name} is:\n{credential}\n"
        f"It expires in {lifetime} minutes{once}."
    )


class SmsDelivery:
    """The ``delivery.sms`` step service."""

    name = "delivery.sms"
    rerun_safe = False
    requires_secrets: tuple[str, ...] = ("credential",)
    produces_secrets: tuple[str, ...] = ()

    def __init__(self, directory: Directory, sms: SmsSender, *, public_url: str) -> None:
        self._directory = directory
        self._sms = sms
        self._status_callback = f"{public_url.rstrip('/')}/webhooks/twilio/status"

    def __repr__(self) -> str:
        return f"SmsDelivery(status_callback={self._status_callback!r})"

    async def start(self, call: StepCall) -> StepOutcome:
        credential = call.secrets.get("credential")
        if not credential:
            return Failed("no credential to deliver (it lives in memory only and was lost)")
        try:
            requester = await resolve_requester(self._directory, call.context)
        except RequesterUnresolved as exc:
            return Failed(exc.reason)
        except AdapterError as exc:
            return failed_from_adapter("directory lookup failed", exc)
        phone = requester.phone_on_record
        if not phone:
            return Failed("no phone on record")
        body = credential_message(call, requester.user_principal_name, credential)
        try:
            receipt = await self._sms.send(
                phone, body, idempotency_key=call.idempotency_key, status_callback=self._status_callback
            )
        except AdapterError as exc:
            return failed_from_adapter("SMS delivery failed", exc)
        masked = mask_phone(phone)
        log.info("credential_sms_sent", execution_id=str(call.execution_id), to=masked, sid=receipt.sid)
        return Succeeded(
            outputs={"to": masked, "sid": receipt.sid, "status": receipt.status},
            summary=f"credential texted to the phone on record ({masked})",
        )

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        return Failed("delivery.sms does not wait for events")
