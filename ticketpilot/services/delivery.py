"""``delivery.sms``: text the credential to the requester's phone on record, and wait for the carrier.

The number comes from the directory (the mobile MFA method, else the alternate mobile), re-read here; a
number in the ticket, the execution context or the step params is never used. Not safe to re-run: an
attempt left in doubt might already have delivered, and two messages with a credential is one too many.

Twilio accepting a message is not delivery. Each attempt's message carries a ``StatusCallback`` naming the
attempt (:func:`~ticketpilot.services.sms_reports.status_callback_url`) and the step parks until the final
report arrives as the signal ``sms_status``: ``delivered``/``read`` succeed; ``failed``/``undelivered`` fail
retryably, so the step's retry policy sends a new SMS (the credential is still in memory) and, once the
attempts are spent, ``on_failure`` takes over. No final report within the wait (carriers often send none)
counts as delivered: Twilio accepted the message and nothing says it failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog

from ticketpilot.adapters.base import AdapterError, Directory, SmsSender
from ticketpilot.logging import mask_phone
from ticketpilot.services.common import RequesterUnresolved, failed_from_adapter, resolve_requester
from ticketpilot.services.sms_reports import DELIVERED, NOT_DELIVERED, REPORT_SIGNAL, status_callback_url
from ticketpilot.steps import Failed, Signal, StepCall, StepEvent, StepOutcome, Succeeded, Waiting, Wake

log = structlog.get_logger(__name__)

REPORT_MARGIN_S = 1.0
"""The wait for a delivery report ends this long before the attempt's deadline: at the deadline the engine
would time the attempt out, and a timed-out delivery is never retried (its SMS may have gone)."""
OUTPUTS_KEY = "steps"
"""Where the execution context keeps each step's outputs (``StepCall.context["steps"][step_id]``)."""


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

    def __init__(
        self, directory: Directory, sms: SmsSender, *, public_url: str, report_wait_s: float = 120.0
    ) -> None:
        self._directory = directory
        self._sms = sms
        self._public_url = public_url.rstrip("/")
        self._report_wait = timedelta(seconds=report_wait_s)

    def __repr__(self) -> str:
        wait = self._report_wait.total_seconds()
        return f"SmsDelivery(public_url={self._public_url!r}, report_wait_s={wait:g})"

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
        callback = status_callback_url(self._public_url, call.execution_id, call.step_id, call.attempt)
        try:
            receipt = await self._sms.send(
                phone, body, idempotency_key=call.idempotency_key, status_callback=callback
            )
        except AdapterError as exc:
            return failed_from_adapter("SMS delivery failed", exc)
        masked = mask_phone(phone)
        log.info("credential_sms_sent", execution_id=str(call.execution_id), to=masked, sid=receipt.sid)
        outputs = {"to": masked, "sid": receipt.sid, "status": receipt.status, "attempt": call.attempt}
        if receipt.status in DELIVERED:  # nothing left to wait for
            return _delivered(outputs, receipt.status)
        return self._waiting(call, outputs)

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        sent = _own_outputs(call)
        if isinstance(event, Wake):
            return Succeeded(
                outputs={**sent, "delivery_report": "none"},
                summary=f"credential texted to the phone on record ({sent.get('to', '?')}); "
                "accepted by Twilio, no delivery report",
            )
        if not (isinstance(event, Signal) and event.kind == REPORT_SIGNAL and _is_ours(call, sent, event)):
            return self._waiting(call, sent)  # a report for another attempt's message: keep waiting
        status = str(event.payload.get("status", ""))
        if status in DELIVERED:
            return _delivered(sent, status)
        if status in NOT_DELIVERED:
            code = str(event.payload.get("error_code") or "none")
            log.warning(
                "credential_sms_not_delivered",
                execution_id=str(call.execution_id),
                attempt=call.attempt,
                sid=sent.get("sid"),
                status=status,
                error_code=code,
            )
            return Failed(
                f"SMS {status} (error {code})",
                retryable=True,
                outputs={"status": status, "error_code": code},
            )
        return self._waiting(call, sent)

    def _waiting(self, call: StepCall, outputs: Mapping[str, Any]) -> Waiting:
        return Waiting(
            signals=frozenset({REPORT_SIGNAL}),
            wake_at=self._report_due(call),
            outputs=dict(outputs),
            summary=f"SMS accepted by Twilio; waiting for its delivery report ({outputs.get('to', '?')})",
        )

    def _report_due(self, call: StepCall) -> datetime:
        """When the attempt stops waiting: counted from its start (so the same after a restart or a resume),
        and always before its deadline."""
        return min(call.started_at + self._report_wait, call.deadline - timedelta(seconds=REPORT_MARGIN_S))


def _own_outputs(call: StepCall) -> dict[str, Any]:
    """What this step's start returned (``to``, ``sid``, ``attempt``), from the execution context."""
    steps = call.context.get(OUTPUTS_KEY)
    mine = steps.get(call.step_id) if isinstance(steps, Mapping) else None
    if not isinstance(mine, Mapping):
        return {}
    return {k: mine[k] for k in ("to", "sid", "status", "attempt") if k in mine}


def _is_ours(call: StepCall, sent: Mapping[str, Any], signal: Signal) -> bool:
    """The report is about this attempt's message: same step and attempt (from the signed callback URL) and,
    when the attempt's SID is known, the same message."""
    payload, attempt = signal.payload, str(call.attempt)
    if str(payload.get("step_id", "")) != call.step_id or str(payload.get("attempt", "")) != attempt:
        return False
    sid = sent.get("sid") if str(sent.get("attempt", "")) == attempt else None
    return sid is None or str(payload.get("sid", "")) == str(sid)


def _delivered(outputs: Mapping[str, Any], status: str) -> Succeeded:
    return Succeeded(
        outputs={**outputs, "status": status, "delivery_report": status},
        summary=f"credential texted to the phone on record ({outputs.get('to', '?')}); {status}",
    )
