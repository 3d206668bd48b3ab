"""The sandbox twin of Twilio: records each message with any credential redacted, plus its SHA-256.

The hash of the real body lets a test check exactly what was sent without the sandbox storing the
credential. Behaviour follows the owner of the number: ``sms-flaky…`` fails twice (retryable) then
succeeds; ``sms-fail…`` always fails (not retryable); ``sms-undelivered…`` is accepted, then reported
undelivered.

Like Twilio, the twin reports each accepted message's final status to its ``status_callback``, after
``sandbox.sms_report_after_s``: it hands the callback's query and a Twilio-shaped form to a
:class:`StatusCallbackReceiver` (the service's ``SmsReports``, what the webhook calls once the signature
is checked), so the sandbox runs the same path as a real delivery report. Entries ``sms_status`` record
each report.

The ledger promises no secret: besides issued credentials, the reply code of a manager's approval SMS
(``Reply YES 123456``) is redacted, and such a message's body hash is not kept (six digits are quickly
guessed from a hash).

With a :class:`~.store.SandboxStore` the flaky numbers' failure counts are in PostgreSQL and each pending
delivery report is a durable action: a restart, or another replica, still delivers it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import structlog

from ticketpilot.adapters.base import AdapterError, SmsReceipt
from ticketpilot.adapters.sandbox.credentials import REDACTED, IssuedCredentials
from ticketpilot.adapters.sandbox.ledger import SandboxLedger
from ticketpilot.adapters.sandbox.pending import DurablePendingActions, PendingActions
from ticketpilot.adapters.sandbox.people import Behaviour, SandboxPeople, behaviour_of
from ticketpilot.adapters.sandbox.store import SandboxStore

log = structlog.get_logger(__name__)

ADAPTER = "sandbox-twilio"
FLAKY_FAILURES = 2
SANDBOX_ACCOUNT_SID = "AC" + "0" * 32
SANDBOX_FROM = "+15005550006"
UNREACHABLE_HANDSET = "30003"
"""Twilio's error code for "Unreachable destination handset", reported for ``sms-undelivered`` numbers."""

Sleep = Callable[[float], Awaitable[None]]

_REPLY_CODE = re.compile(r"\b(YES|NO|Y|N|APPROVE|DENY)([\s:#-]+)\d[\d\s-]{3,}\d\b", re.IGNORECASE)
"""A reply code in an approval SMS (``Reply YES 123456 to approve``): what the manager answers with."""


def redact_reply_codes(text: str) -> tuple[str, int]:
    """``text`` with the code after each YES/NO replaced by ``[REDACTED]``; and how many."""
    return _REPLY_CODE.subn(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


class StatusCallbackReceiver(Protocol):
    """Takes a Twilio status callback (its URL query and form), as the webhook does after the signature."""

    async def receive(self, query: Mapping[str, str], form: Mapping[str, str]) -> bool: ...


class SandboxSms:
    def __init__(
        self,
        people: SandboxPeople,
        ledger: SandboxLedger,
        issued: IssuedCredentials,
        *,
        reports: StatusCallbackReceiver | None = None,
        report_after_s: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        store: SandboxStore | None = None,
        durable: DurablePendingActions | None = None,
    ) -> None:
        self._people = people
        self._ledger = ledger
        self._issued = issued
        self._reports = reports
        self._report_after_s = report_after_s
        self._sleep = sleep
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()
        self._pending = PendingActions()
        self._store = store
        self._durable = durable
        if durable is not None:
            durable.on("sms_report", self._report_due)

    def __repr__(self) -> str:
        return f"SandboxSms(pending_reports={len(self._pending)})"

    async def send(
        self, to: str, body: str, *, idempotency_key: str, status_callback: str | None = None
    ) -> SmsReceipt:
        owner = await self._people.recall_phone_owner(to)
        behaviour = behaviour_of(owner) if owner else Behaviour.DEFAULT
        redacted, _ = await self._issued.aredact(body)
        redacted, codes = redact_reply_codes(redacted)
        entry = {
            "to": to,
            "body": redacted,
            "body_sha256": None if codes else hashlib.sha256(body.encode("utf-8")).hexdigest(),
            "idempotency_key": idempotency_key,
            "status_callback": status_callback,
        }
        error = await self._failure_for(to, behaviour)
        if error is not None:
            await self._ledger.add("sms", **entry, status="failed", error=error.message)
            raise error
        sid = "SM" + secrets.token_hex(16)
        await self._ledger.add("sms", **entry, status="queued", sid=sid)
        if status_callback and self._reports is not None:
            status = "undelivered" if behaviour is Behaviour.SMS_UNDELIVERED else "delivered"
            if self._durable is not None:
                payload = {"callback": status_callback, "sid": sid, "to": to, "status": status}
                await self._durable.schedule("sms_report", self._report_after_s, payload)
            else:
                self._pending.spawn(
                    self._report(status_callback, sid, to, status), f"sandbox-sms-report-{sid}"
                )
        return SmsReceipt(sid=sid, status="queued")

    async def _report_due(self, payload: Mapping[str, Any]) -> None:
        await self._deliver_report(
            str(payload["callback"]), str(payload["sid"]), str(payload["to"]), str(payload["status"])
        )

    async def _report(self, callback: str, sid: str, to: str, status: str) -> None:
        try:
            await self._sleep(self._report_after_s)
            await self._deliver_report(callback, sid, to, status)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sandbox_sms_report_failed", sid=sid)

    async def _deliver_report(self, callback: str, sid: str, to: str, status: str) -> None:
        assert self._reports is not None
        form = {
            "AccountSid": SANDBOX_ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "From": SANDBOX_FROM,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": to,
        }
        if status == "undelivered":
            form["ErrorCode"] = UNREACHABLE_HANDSET
        query = dict(parse_qsl(urlsplit(callback).query))
        signalled = await self._reports.receive(query, form)
        await self._ledger.add(
            "sms_status", sid=sid, status=status, error_code=form.get("ErrorCode"), signalled=signalled
        )

    async def drain(self) -> None:
        """Wait for every pending delivery report of this process (tests)."""
        await self._pending.drain()
        if self._durable is not None:
            await self._durable.drain()

    async def aclose(self) -> None:
        """Cancel pending delivery reports (service shutdown)."""
        await self._pending.aclose()

    async def _failure_for(self, to: str, behaviour: Behaviour) -> AdapterError | None:
        if behaviour is Behaviour.SMS_FAIL:
            return AdapterError(
                ADAPTER, "the number cannot receive SMS (sandbox sms-fail)", retryable=False, status=400
            )
        if behaviour is Behaviour.SMS_FLAKY and await self._take_failure(to):
            return AdapterError(
                ADAPTER, "carrier temporarily unavailable (sandbox sms-flaky)", retryable=True, status=503
            )
        return None

    async def _take_failure(self, to: str) -> bool:
        if self._store is not None:
            return await self._store.take_failure(to, FLAKY_FAILURES)
        with self._lock:
            failures = self._failures.get(to, 0)
            if failures < FLAKY_FAILURES:
                self._failures[to] = failures + 1
                return True
        return False
