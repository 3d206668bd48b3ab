"""``delivery.email``: e-mail the credential from the service mailbox to an address on record.

PRD §2.7 ("SMS or email"). The destination comes from the directory only, re-read here: by default the
requester's alternate e-mail address on record (Graph ``otherMails``, e.g. a personal address registered for
self-service password reset), or with ``params: {to: manager}`` the mail of the requester's Entra manager.
An address in the ticket, the execution context or the params is never used, and neither is the requester's
own work mailbox (the account being recovered, and possibly the one an attacker holds). Same secret handling
as ``delivery.sms``: the credential is only in the message body (never in outputs, logs or the subject), and
Graph keeps no copy in Sent Items.

Not safe to re-run: an attempt left in doubt may already have sent the credential. Graph's 202 means queued:
there is no delivery report to wait for. Typical use is the fallback of an SMS delivery that failed::

    - id: deliver_sms
      service: delivery.sms
      on_failure: deliver_email
    - id: deliver_email
      service: delivery.email
      params: {to: requester}
      on_success: resolved
      on_failure: escalate
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import structlog

from ticketpilot.adapters.base import AdapterError, Directory, DirectoryUser, MailSender
from ticketpilot.logging import mask_email
from ticketpilot.services.common import RequesterUnresolved, failed_from_adapter, resolve_requester
from ticketpilot.services.delivery import credential_message
from ticketpilot.steps import Failed, StepCall, StepEvent, StepOutcome, Succeeded

log = structlog.get_logger(__name__)

Recipient = Literal["requester", "manager"]
RECIPIENTS: tuple[str, ...] = ("requester", "manager")
SUBJECT = "Your temporary sign-in details from the helpdesk"
"""Says nothing secret (subjects show in previews and notifications)."""


class InvalidEmailParams(ValueError):
    """The playbook's ``params`` for a ``delivery.email`` step are not usable."""


def parse_recipient(params: Mapping[str, Any]) -> Recipient:
    """``params: {to: requester | manager}`` (default ``requester``); anything else is refused."""
    unknown = set(params) - {"to"}
    if unknown:
        raise InvalidEmailParams(f"unknown params: {sorted(unknown)} (only 'to')")
    to = params.get("to", "requester")
    if to not in RECIPIENTS:
        raise InvalidEmailParams(f"to must be one of {', '.join(RECIPIENTS)}, not {to!r}")
    return "manager" if to == "manager" else "requester"


def alternate_address(user: DirectoryUser) -> str | None:
    """The first ``otherMails`` address that is not the account's own mailbox or sign-in name."""
    own = {user.mail.lower(), user.user_principal_name.lower()}
    return next((a for a in user.other_mails if a.lower() not in own), None)


class EmailDelivery:
    """The ``delivery.email`` step service."""

    name = "delivery.email"
    rerun_safe = False
    requires_secrets: tuple[str, ...] = ("credential",)
    produces_secrets: tuple[str, ...] = ()

    def __init__(self, directory: Directory, mail: MailSender | None) -> None:
        self._directory = directory
        self._mail = mail

    def __repr__(self) -> str:
        return f"EmailDelivery(mail={self._mail!r})"

    async def start(self, call: StepCall) -> StepOutcome:
        try:
            recipient = parse_recipient(call.params)
        except InvalidEmailParams as exc:
            return Failed(f"invalid params: {exc}")
        if self._mail is None:
            return Failed("e-mail delivery is not configured ([entra] service_mailbox is empty)")
        credential = call.secrets.get("credential")
        if not credential:
            return Failed("no credential to deliver (it lives in memory only and was lost)")
        try:
            requester = await resolve_requester(self._directory, call.context)
            address = await self._address(requester, recipient)
        except RequesterUnresolved as exc:
            return Failed(exc.reason)
        except AdapterError as exc:
            return failed_from_adapter("directory lookup failed", exc)
        if address is None:
            where = "alternate e-mail address (otherMails)" if recipient == "requester" else "manager's mail"
            return Failed(f"no {where} on record")
        body = credential_message(call, requester.user_principal_name, credential)
        if recipient == "manager":
            body = (
                f"{requester.display_name or requester.user_principal_name} asked the helpdesk for help and "
                "you are their manager on record. Please pass this on to them in person or by phone:\n\n"
                + body
            )
        try:
            await self._mail.send_mail(address, SUBJECT, body, idempotency_key=call.idempotency_key)
        except AdapterError as exc:
            return failed_from_adapter("e-mail delivery failed", exc)
        masked = mask_email(address)
        log.info("credential_emailed", execution_id=str(call.execution_id), to=masked, recipient=recipient)
        where = "the alternate e-mail address on record" if recipient == "requester" else "the manager"
        return Succeeded(
            outputs={"to": masked, "recipient": recipient, "attempt": call.attempt},
            summary=f"credential e-mailed to {where} ({masked})",
        )

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        return Failed("delivery.email does not wait for events")

    async def _address(self, requester: DirectoryUser, recipient: Recipient) -> str | None:
        if recipient == "requester":
            return alternate_address(requester)
        manager = await self._directory.get_manager(requester.id)
        if manager is None:
            return None
        return manager.mail or None
