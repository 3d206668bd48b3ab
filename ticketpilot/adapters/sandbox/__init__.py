"""Sandbox twins of every adapter: the embedded default needs no accounts and no network.

See :mod:`.people` for the behaviours chosen by an address's local part (``mfa-deny``, ``mfa-timeout``,
``manager-deny``, ``manager-silent``, ``sms-flaky``, ``sms-fail``, ``sms-undelivered``, ``disabled``,
``admin``, and the extras ``no-phone``, ``no-manager``). What the twins do is recorded in a
:class:`SandboxLedger`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

from ticketpilot.adapters.base import AdapterSet
from ticketpilot.adapters.sandbox.cards import LinkClicker, SandboxCards
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.directory import SandboxDirectory
from ticketpilot.adapters.sandbox.ledger import LedgerEntry, SandboxLedger, read_ledger_file
from ticketpilot.adapters.sandbox.mfa import SandboxMfa
from ticketpilot.adapters.sandbox.people import Behaviour, SandboxPeople
from ticketpilot.adapters.sandbox.sms import SandboxSms, StatusCallbackReceiver
from ticketpilot.adapters.sandbox.tickets import SandboxTickets
from ticketpilot.config import Settings

__all__ = [
    "Behaviour",
    "LedgerEntry",
    "LinkClicker",
    "SandboxCards",
    "SandboxDirectory",
    "SandboxLedger",
    "SandboxMfa",
    "SandboxSms",
    "SandboxTickets",
    "StatusCallbackReceiver",
    "build_sandbox_adapters",
    "read_ledger_file",
]


def build_sandbox_adapters(
    settings: Settings,
    ledger: SandboxLedger,
    approvals: LinkClicker,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], datetime] | None = None,
    sms_reports: StatusCallbackReceiver | None = None,
) -> AdapterSet:
    """The sandbox :class:`AdapterSet`. ``approvals`` (the approval desk) is how the sandbox manager answers
    a card, through the same single-use path as a real click. ``sms_reports`` (the service's ``SmsReports``)
    is where the sandbox Twilio delivers each message's status report, as the status webhook would; without
    it no report is sent. ``sleep`` is injectable so tests need not wait.

    ``extras``: ``ledger``, ``people``, ``aclose`` (cancel the sandbox manager's pending answers and the
    pending delivery reports, close the ledger file). With ``sandbox.ledger_path`` set, the ledger also
    appends every entry to that file.
    """
    if settings.sandbox.ledger_path:
        ledger.persist_to(settings.sandbox.ledger_path)
    people = SandboxPeople()
    issued = IssuedCredentials()
    cards = SandboxCards(settings.sandbox, ledger, approvals, sleep)
    sms = SandboxSms(
        people,
        ledger,
        issued,
        reports=sms_reports,
        report_after_s=settings.sandbox.sms_report_after_s,
        sleep=sleep,
    )
    tickets = (
        SandboxTickets(ledger, issued, closed_status_ids=settings.halopsa.status_closed_ids, clock=clock)
        if clock is not None
        else SandboxTickets(ledger, issued, closed_status_ids=settings.halopsa.status_closed_ids)
    )

    async def aclose() -> None:
        try:
            await cards.aclose()
            await sms.aclose()
        finally:
            ledger.close()

    return AdapterSet(
        tickets=tickets,
        directory=SandboxDirectory(people, ledger, issued),
        mfa=SandboxMfa(settings.sandbox, ledger, sleep),
        cards=cards,
        sms=sms,
        mode="sandbox",
        extras={"ledger": ledger, "people": people, "aclose": aclose},
    )
