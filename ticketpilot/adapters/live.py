"""The live adapter set: HaloPSA, Graph (and its ``sendMail`` when ``[entra] service_mailbox`` is set), the MFA
connector (only when enabled), Teams and Twilio.

``adapters.mode = "live"`` with a missing credential is already refused by :mod:`ticketpilot.config`.
Nothing here touches the network: every client opens its connections on first use, inside the event
loop. :func:`close` releases them (also reachable as ``adapter_set.extras["close"]``).
"""

from __future__ import annotations

import contextlib
from typing import Any

from ticketpilot.adapters.base import AdapterSet, MfaPush
from ticketpilot.adapters.entra import GraphDirectory
from ticketpilot.adapters.graph_mail import GraphMailSender
from ticketpilot.adapters.halopsa import HaloPsaClient
from ticketpilot.adapters.mfa_connector import AzureMfaConnector, DisabledMfaPush
from ticketpilot.adapters.teams import TeamsWorkflowPoster
from ticketpilot.adapters.twilio_sms import TwilioSmsSender
from ticketpilot.config import Settings


def build_live_adapters(settings: Settings) -> AdapterSet:
    """Construct every live adapter from ``settings`` (no I/O)."""
    timeout = settings.adapters.http_timeout_s
    ca = settings.adapters.ca_bundle
    mfa: MfaPush = (
        AzureMfaConnector(settings.mfa, settings.entra, http_timeout_s=timeout, ca_bundle=ca)
        if settings.mfa.enabled
        else DisabledMfaPush()
    )
    directory = GraphDirectory(settings.entra, http_timeout_s=timeout, ca_bundle=ca)
    mailbox = settings.entra.service_mailbox
    adapters = AdapterSet(
        tickets=HaloPsaClient(settings.halopsa, http_timeout_s=timeout, ca_bundle=ca),
        directory=directory,
        mfa=mfa,
        cards=TeamsWorkflowPoster(settings.teams, http_timeout_s=timeout, ca_bundle=ca),
        sms=TwilioSmsSender(settings.twilio, http_timeout_s=timeout, ca_bundle=ca),
        mail=GraphMailSender(directory, mailbox) if mailbox else None,  # the directory's Graph session
        mode="live",
    )

    async def close_these() -> None:
        await close(adapters)

    adapters.extras["close"] = close_these
    return adapters


async def close(adapters: AdapterSet) -> None:
    """Close every adapter's HTTP session (each one even if another fails)."""
    for adapter in (adapters.tickets, adapters.directory, adapters.mfa, adapters.cards, adapters.sms):
        aclose: Any = getattr(adapter, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
