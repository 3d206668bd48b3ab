"""The sandbox twin of Graph ``sendMail``: records each message in the ledger, credentials redacted.

The ledger keeps the recipient, the sender mailbox, the subject, the body with every issued credential
replaced by ``[REDACTED]`` and the body's SHA-256 (so a test can tell two messages apart without the
secret). Addresses ending ``@bounce.example`` are refused as Graph refuses an invalid recipient.
"""

from __future__ import annotations

import hashlib

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.ledger import SandboxLedger

ADAPTER = "sandbox-mail"
SANDBOX_MAILBOX = "helpdesk@sandbox.example"
"""The sender of the sandbox's e-mail when ``[entra] service_mailbox`` is empty."""


class SandboxMail:
    def __init__(self, ledger: SandboxLedger, issued: IssuedCredentials, mailbox: str = "") -> None:
        self._ledger = ledger
        self._issued = issued
        self.mailbox = mailbox or SANDBOX_MAILBOX

    def __repr__(self) -> str:
        return f"SandboxMail(mailbox={self.mailbox!r})"

    async def send_mail(self, to: str, subject: str, body: str, *, idempotency_key: str) -> None:
        redacted, _ = await self._issued.aredact(body)
        entry = {
            "from": self.mailbox,
            "to": to,
            "subject": subject,
            "body": redacted,
            "body_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
            "idempotency_key": idempotency_key,
        }
        if to.lower().endswith("@bounce.example"):
            await self._ledger.add("email", **entry, status="refused")
            raise AdapterError(
                ADAPTER, "sendMail: HTTP 400 — ErrorInvalidRecipients", retryable=False, status=400
            )
        await self._ledger.add("email", **entry, status="accepted")
