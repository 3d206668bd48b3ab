"""The sandbox twin of the Teams Workflows card poster, and the sandbox manager who answers the card.

The manager "clicks" the card's link through the same :class:`LinkClicker` (the approval desk) as a real
confirmation, so single use and expiry hold exactly as in live mode. By default the manager approves after
``sandbox.manager_approve_after_s``; for a requester whose address starts ``manager-deny`` they deny,
for ``manager-silent`` they never answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import structlog

from ticketpilot.adapters.sandbox.ledger import SandboxLedger
from ticketpilot.adapters.sandbox.pending import PendingActions
from ticketpilot.adapters.sandbox.people import Behaviour, behaviour_of, subordinate_of
from ticketpilot.config import SandboxConfig

log = structlog.get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class LinkClicker(Protocol):
    """Acts on an approve/deny link as its recipient confirming it (``ApprovalDesk.follow_link``)."""

    async def follow_link(self, url: str) -> bool: ...


def _mentioned(card: dict[str, Any]) -> str:
    for entity in card.get("msteams", {}).get("entities", []):
        if entity.get("type") == "mention":
            return str(entity.get("mentioned", {}).get("id", ""))
    return ""


def _links(card: dict[str, Any]) -> dict[str, str]:
    return {
        str(a.get("title", "")).lower(): str(a.get("url", ""))
        for a in card.get("actions", [])
        if a.get("type") == "Action.OpenUrl"
    }


def _request_id(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] if url else ""


class SandboxCards:
    """Records each card (never its links: they carry tokens) and plays the manager's answer."""

    def __init__(
        self, config: SandboxConfig, ledger: SandboxLedger, clicker: LinkClicker, sleep: Sleep
    ) -> None:
        self._config = config
        self._ledger = ledger
        self._clicker = clicker
        self._sleep = sleep
        self._pending = PendingActions()

    def __repr__(self) -> str:
        return f"SandboxCards(pending_answers={len(self._pending)})"

    async def post_card(self, card: dict[str, Any]) -> None:
        to = _mentioned(card)
        links = _links(card)
        request_id = _request_id(links.get("approve", ""))
        self._ledger.record("teams_card", to=to, request_id=request_id, actions=sorted(links))
        subordinate = subordinate_of(to) if to else None
        behaviour = behaviour_of(subordinate) if subordinate else Behaviour.DEFAULT
        if behaviour is Behaviour.MANAGER_SILENT:
            return
        decision = "deny" if behaviour is Behaviour.MANAGER_DENY else "approve"
        url = links.get(decision)
        if not url:
            return
        self._pending.spawn(self._answer(to, request_id, decision, url), f"sandbox-manager-{request_id}")

    async def _answer(self, manager: str, request_id: str, decision: str, url: str) -> None:
        try:
            await self._sleep(self._config.manager_approve_after_s)
            accepted = await self._clicker.follow_link(url)
            self._ledger.record(
                "manager_click", by=manager, request_id=request_id, decision=decision, accepted=accepted
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sandbox_manager_click_failed", request_id=request_id)

    async def drain(self) -> None:
        """Wait for every pending manager answer (tests)."""
        await self._pending.drain()

    async def aclose(self) -> None:
        """Cancel pending answers (service shutdown)."""
        await self._pending.aclose()
