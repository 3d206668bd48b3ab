"""The sandbox twin of the Teams Workflows card poster, and the sandbox manager who answers the card.

The manager "clicks" the card's link through the same :class:`LinkClicker` (the approval desk) as a real
confirmation, so single use and expiry hold exactly as in live mode. By default the manager approves after
``sandbox.manager_approve_after_s``; for a requester whose address starts ``manager-deny`` they deny,
for ``manager-silent`` they never answer.

With durable actions (the running service) the manager's pending answer is a row of
``sandbox_pending_actions`` (request id and decision, never the link: it carries a token), so it is given
even if the process that posted the card dies. The link stays in the posting process's memory; a process
that does not hold it asks the desk for the card's links again (``reissue_link``: the request's nonce
rotates, so the lost links die), then clicks through the same single-use path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID

import structlog

from ticketpilot.adapters.sandbox.ledger import SandboxLedger
from ticketpilot.adapters.sandbox.pending import DurablePendingActions, PendingActions
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
        self,
        config: SandboxConfig,
        ledger: SandboxLedger,
        clicker: LinkClicker,
        sleep: Sleep,
        durable: DurablePendingActions | None = None,
    ) -> None:
        self._config = config
        self._ledger = ledger
        self._clicker = clicker
        self._sleep = sleep
        self._pending = PendingActions()
        self._durable = durable
        self._links: dict[tuple[str, str], str] = {}
        if durable is not None:
            durable.on("manager_answer", self._answer_due)

    def __repr__(self) -> str:
        return f"SandboxCards(pending_answers={len(self._pending)})"

    async def post_card(self, card: dict[str, Any]) -> None:
        to = _mentioned(card)
        links = _links(card)
        request_id = _request_id(links.get("approve", ""))
        await self._ledger.add("teams_card", to=to, request_id=request_id, actions=sorted(links))
        subordinate = subordinate_of(to) if to else None
        behaviour = behaviour_of(subordinate) if subordinate else Behaviour.DEFAULT
        if behaviour is Behaviour.MANAGER_SILENT:
            return
        decision = "deny" if behaviour is Behaviour.MANAGER_DENY else "approve"
        url = links.get(decision)
        if not url:
            return
        if self._durable is not None:
            self._links[(request_id, decision)] = url
            payload = {"manager": to, "request_id": request_id, "decision": decision}
            await self._durable.schedule("manager_answer", self._config.manager_approve_after_s, payload)
            return
        self._pending.spawn(self._answer(to, request_id, decision, url), f"sandbox-manager-{request_id}")

    async def _answer(self, manager: str, request_id: str, decision: str, url: str) -> None:
        try:
            await self._sleep(self._config.manager_approve_after_s)
            await self._click(manager, request_id, decision, url)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("sandbox_manager_click_failed", request_id=request_id)

    async def _answer_due(self, payload: Mapping[str, Any]) -> None:
        manager, request_id, decision = (
            str(payload["manager"]),
            str(payload["request_id"]),
            str(payload["decision"]),
        )
        url = self._links.pop((request_id, decision), None)
        reissue = getattr(self._clicker, "reissue_link", None)
        if url is None and reissue is not None:
            url = await reissue(UUID(request_id), decision)
        if url is None:
            await self._ledger.add(
                "manager_click", by=manager, request_id=request_id, decision=decision, accepted=False
            )
            return
        await self._click(manager, request_id, decision, url)

    async def _click(self, manager: str, request_id: str, decision: str, url: str) -> None:
        accepted = await self._clicker.follow_link(url)
        await self._ledger.add(
            "manager_click", by=manager, request_id=request_id, decision=decision, accepted=accepted
        )

    async def drain(self) -> None:
        """Wait for every pending manager answer of this process (tests)."""
        await self._pending.drain()
        if self._durable is not None:
            await self._durable.drain()

    async def aclose(self) -> None:
        """Cancel pending answers (service shutdown)."""
        await self._pending.aclose()
