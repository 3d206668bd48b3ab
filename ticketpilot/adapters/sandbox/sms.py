"""The sandbox twin of Twilio: records each message with any credential redacted, plus its SHA-256.

The hash of the real body lets a test check exactly what was sent without the sandbox storing the
credential. Behaviour follows the owner of the number: ``sms-flaky…`` fails twice (retryable) then
succeeds; ``sms-fail…`` always fails (not retryable).
"""

from __future__ import annotations

import hashlib
import secrets
import threading

from ticketpilot.adapters.base import AdapterError, SmsReceipt
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.ledger import SandboxLedger
from ticketpilot.adapters.sandbox.people import Behaviour, SandboxPeople, behaviour_of

ADAPTER = "sandbox-twilio"
FLAKY_FAILURES = 2


class SandboxSms:
    def __init__(self, people: SandboxPeople, ledger: SandboxLedger, issued: IssuedCredentials) -> None:
        self._people = people
        self._ledger = ledger
        self._issued = issued
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "SandboxSms()"

    async def send(
        self, to: str, body: str, *, idempotency_key: str, status_callback: str | None = None
    ) -> SmsReceipt:
        owner = self._people.owner_of_phone(to)
        behaviour = behaviour_of(owner) if owner else Behaviour.DEFAULT
        redacted, _ = self._issued.redact(body)
        entry = {
            "to": to,
            "body": redacted,
            "body_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
            "idempotency_key": idempotency_key,
            "status_callback": status_callback,
        }
        error = self._failure_for(to, behaviour)
        if error is not None:
            self._ledger.record("sms", **entry, status="failed", error=error.message)
            raise error
        sid = "SM" + secrets.token_hex(16)
        self._ledger.record("sms", **entry, status="queued", sid=sid)
        return SmsReceipt(sid=sid, status="queued")

    def _failure_for(self, to: str, behaviour: Behaviour) -> AdapterError | None:
        if behaviour is Behaviour.SMS_FAIL:
            return AdapterError(
                ADAPTER, "the number cannot receive SMS (sandbox sms-fail)", retryable=False, status=400
            )
        if behaviour is Behaviour.SMS_FLAKY:
            with self._lock:
                failures = self._failures.get(to, 0)
                if failures < FLAKY_FAILURES:
                    self._failures[to] = failures + 1
                    return AdapterError(
                        ADAPTER,
                        "carrier temporarily unavailable (sandbox sms-flaky)",
                        retryable=True,
                        status=503,
                    )
        return None
