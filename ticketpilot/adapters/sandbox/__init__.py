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
from ticketpilot.adapters.sandbox.mail import SandboxMail
from ticketpilot.adapters.sandbox.mfa import SandboxMfa
from ticketpilot.adapters.sandbox.pending import DurablePendingActions
from ticketpilot.adapters.sandbox.people import Behaviour, SandboxPeople
from ticketpilot.adapters.sandbox.sms import SandboxSms, StatusCallbackReceiver
from ticketpilot.adapters.sandbox.store import SandboxStore
from ticketpilot.adapters.sandbox.tickets import SandboxTickets
from ticketpilot.config import Settings

__all__ = [
    "Behaviour",
    "LedgerEntry",
    "LinkClicker",
    "SandboxCards",
    "SandboxDirectory",
    "SandboxLedger",
    "SandboxMail",
    "SandboxMfa",
    "SandboxSms",
    "SandboxStore",
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
    store: SandboxStore | None = None,
) -> AdapterSet:
    """The sandbox :class:`AdapterSet`. ``approvals`` (the approval desk) is how the sandbox manager answers
    a card, through the same single-use path as a real click. ``sms_reports`` (the service's ``SmsReports``)
    is where the sandbox Twilio delivers each message's status report, as the status webhook would; without
    it no report is sent. ``sleep`` is injectable so tests need not wait.

    ``extras``: ``ledger``, ``people``, ``aclose`` (cancel the sandbox manager's pending answers and the
    pending delivery reports, close the ledger file). With ``sandbox.ledger_path`` set, the ledger also
    appends every entry to that file.

    ``store`` (the running service): the twins keep their state in PostgreSQL (tickets, notes, fields,
    people, issued credentials' digests, pushes, the ledger) and their delayed actions (the manager's answer,
    delivery reports) are durable: ``extras["actions"]`` is the :class:`DurablePendingActions` to ``start()``
    in the process that should carry them out. Without it everything lives in this process's memory.
    """
    if settings.sandbox.ledger_path:
        ledger.persist_to(settings.sandbox.ledger_path)
    if store is not None:
        ledger.attach(store)
    durable = DurablePendingActions(store) if store is not None else None
    people = SandboxPeople(store)
    issued = IssuedCredentials(store)
    cards = SandboxCards(settings.sandbox, ledger, approvals, sleep, durable)
    sms = SandboxSms(
        people,
        ledger,
        issued,
        reports=sms_reports,
        report_after_s=settings.sandbox.sms_report_after_s,
        sleep=sleep,
        store=store,
        durable=durable,
    )
    closed = settings.halopsa.status_closed_ids
    tickets = (
        SandboxTickets(ledger, issued, closed_status_ids=closed, clock=clock, store=store)
        if clock is not None
        else SandboxTickets(ledger, issued, closed_status_ids=closed, store=store)
    )

    async def aclose() -> None:
        try:
            if durable is not None:
                await durable.aclose()
            await cards.aclose()
            await sms.aclose()
        finally:
            ledger.close()

    return AdapterSet(
        tickets=tickets,
        directory=SandboxDirectory(people, ledger, issued),
        mfa=SandboxMfa(settings.sandbox, ledger, sleep, store),
        cards=cards,
        sms=sms,
        mail=SandboxMail(ledger, issued, settings.entra.service_mailbox),
        mode="sandbox",
        extras={"ledger": ledger, "people": people, "aclose": aclose, "actions": durable},
    )
