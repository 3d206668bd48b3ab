"""Twilio delivery reports (``StatusCallback``) handed to the ``delivery.sms`` step that sent the message.

``delivery.sms`` gives Twilio a callback URL that names the step attempt: ``?e={execution_id}&s={step_id}
&a={attempt}``. Twilio signs the full URL, query included, so once ``X-Twilio-Signature`` is checked those
values are authentic. A final report (:data:`DELIVERED` or :data:`NOT_DELIVERED`) becomes the signal
:data:`REPORT_SIGNAL` for that execution, deduplicated by ``sms:{MessageSid}:{MessageStatus}``; intermediate
statuses (``queued``, ``sending``, ``sent``, ``accepted``…) are only logged. There is no callback for the
initial status (vendor-apis §4), and many carriers never report at all: the step stops waiting on its own.

The webhook and the sandbox Twilio both call :meth:`SmsReports.receive`, so the sandbox exercises this path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import structlog

from ticketpilot.logging import mask_phone
from ticketpilot.services.signals import SignalSink

log = structlog.get_logger(__name__)

REPORT_SIGNAL = "sms_status"
"""The signal kind a parked ``delivery.sms`` attempt waits for."""
DELIVERED = frozenset({"delivered", "read"})
NOT_DELIVERED = frozenset({"failed", "undelivered"})
STATUS_PATH = "/webhooks/twilio/status"


def status_callback_url(public_url: str, execution_id: UUID, step_id: str, attempt: int) -> str:
    """The ``StatusCallback`` of one step attempt's message (signed by Twilio as a whole)."""
    query = urlencode({"e": str(execution_id), "s": step_id, "a": str(attempt)})
    return f"{public_url.rstrip('/')}{STATUS_PATH}?{query}"


@dataclass(frozen=True)
class DeliveryReport:
    """A final delivery status for the message of one step attempt."""

    execution_id: UUID
    step_id: str
    attempt: int
    sid: str
    status: str
    error_code: str

    @property
    def delivered(self) -> bool:
        return self.status in DELIVERED

    @property
    def dedupe_key(self) -> str:
        return f"sms:{self.sid}:{self.status}"

    def payload(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "status": self.status,
            "error_code": self.error_code,
            "step_id": self.step_id,
            "attempt": self.attempt,
        }

    @classmethod
    def parse(cls, query: Mapping[str, str], form: Mapping[str, str]) -> DeliveryReport | None:
        """The report in a (signature-checked) callback; None if not final or not addressed to a step."""
        status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        if status not in DELIVERED | NOT_DELIVERED or not sid:
            return None
        try:
            execution_id = UUID(query.get("e", ""))
            attempt = int(query.get("a", ""))
        except ValueError:
            return None
        step_id = query.get("s", "")
        if not step_id or attempt < 1:
            return None
        return cls(execution_id, step_id, attempt, sid, status, form.get("ErrorCode") or "")


class SmsReports:
    """Receives Twilio status callbacks (already authenticated) and signals the step that sent the message."""

    def __init__(self, sink: SignalSink) -> None:
        self._sink = sink

    def __repr__(self) -> str:
        return f"SmsReports(sink={self._sink!r})"

    async def receive(self, query: Mapping[str, str], form: Mapping[str, str]) -> bool:
        """Log the status; hand a final report to the engine. True when the engine took it (False: not a
        final report of a step's message, a duplicate, or the execution no longer waits / does not exist).
        Errors of the engine propagate."""
        _log_status(form)
        report = DeliveryReport.parse(query, form)
        if report is None:
            return False
        try:
            delivered = await self._sink(
                report.execution_id, REPORT_SIGNAL, report.dedupe_key, report.payload()
            )
        except LookupError:  # the engine knows no such execution (a stale or foreign callback URL)
            delivered = False
        log.info(
            "sms_delivery_report",
            execution_id=str(report.execution_id),
            step_id=report.step_id,
            attempt=report.attempt,
            sid=report.sid,
            status=report.status,
            signalled=delivered,
        )
        return delivered


def _log_status(form: Mapping[str, str]) -> None:
    status = form.get("MessageStatus") or form.get("SmsStatus") or ""
    fields = {
        "sid": form.get("MessageSid", ""),
        "status": status,
        "to": mask_phone(form.get("To", "")),
        "error_code": form.get("ErrorCode", ""),
    }
    if status in NOT_DELIVERED:
        log.warning("sms_delivery_failed", **fields, error_message=form.get("ErrorMessage", ""))
    else:
        log.info("sms_delivery_status", **fields)
