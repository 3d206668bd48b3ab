"""E-mail from the service mailbox through Microsoft Graph ``sendMail`` (:class:`~.base.MailSender`).

``POST /users/{service_mailbox}/sendMail`` with ``saveToSentItems: false``: the message may carry a credential,
so no copy of it is kept in the mailbox. It rides on the directory's Graph client (same msal token, retries
honouring ``Retry-After``); the application needs ``Mail.Send``, best limited to the service mailbox by an
Exchange application access policy. Graph answers 202 Accepted: the message is queued, not yet delivered.
The body is never logged; the recipient only masked.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

import structlog

from ticketpilot.adapters.entra import GraphDirectory
from ticketpilot.logging import mask_email

log = structlog.get_logger(__name__)


class GraphMailSender:
    """Sends plain-text mail as ``mailbox`` (``[entra] service_mailbox``)."""

    def __init__(self, directory: GraphDirectory, mailbox: str) -> None:
        self._directory = directory
        self.mailbox = mailbox

    def __repr__(self) -> str:
        return f"GraphMailSender(mailbox={self.mailbox!r})"

    async def send_mail(self, to: str, subject: str, body: str, *, idempotency_key: str) -> None:
        message = {
            "subject": subject,
            "body": {"contentType": "Text", "content": body},
            "toRecipients": [{"emailAddress": {"address": to}}],
        }
        await self._directory.call(
            "POST",
            f"/users/{quote(self.mailbox, safe='@')}/sendMail",
            what="POST /users/{mailbox}/sendMail",
            json={"message": message, "saveToSentItems": False},
            headers={"client-request-id": str(uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key))},
        )
        log.info("graph_mail_sent", mailbox=self.mailbox, to=mask_email(to))
