"""Adaptive Cards to a Teams channel or chat through a Workflows webhook (:class:`CardPoster`).

The Workflows trigger takes ``{"type":"message","attachments":[{"contentType":
"application/vnd.microsoft.card.adaptive","content": card}]}`` and answers 2xx (believed 202, empty).
The URL is a secret — its ``sig=`` is the only credential — so it is registered with the log scrubber
and never appears in a log line or an error message (vendor-apis §3, §7).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.http_retry import HttpClient, RetryPolicy, Sleep, status_error
from ticketpilot.config import TeamsConfig
from ticketpilot.logging import register_secret

log = structlog.get_logger(__name__)

ADAPTER = "teams"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_MESSAGE_BYTES = 28_000
"""Teams refuses messages over about 28 KB (vendor-apis §3)."""
WHAT = "POST Teams workflow"


def workflow_envelope(card: dict[str, Any]) -> dict[str, Any]:
    """The message a Workflows "When a Teams webhook request is received" trigger expects."""
    return {"type": "message", "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}]}


class TeamsWorkflowPoster:
    """The live :class:`~ticketpilot.adapters.base.CardPoster`."""

    def __init__(
        self,
        config: TeamsConfig,
        *,
        http_timeout_s: float = 15.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        ca_bundle: str = "",
    ) -> None:
        self._url = config.workflow_url.get_secret_value()
        if self._url:
            register_secret(self._url)
        self._http = HttpClient(ADAPTER, http_timeout_s, retry or RetryPolicy(), sleep, ca_bundle=ca_bundle)

    def __repr__(self) -> str:
        return f"TeamsWorkflowPoster(configured={bool(self._url)})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post_card(self, card: dict[str, Any]) -> None:
        """Post ``card`` (the Adaptive Card object); 429/5xx are retried, any 2xx is success."""
        if not self._url:
            raise AdapterError(ADAPTER, "teams.workflow_url is not configured", retryable=False)
        body = json.dumps(workflow_envelope(card), separators=(",", ":")).encode()
        if len(body) > MAX_MESSAGE_BYTES:
            raise AdapterError(
                ADAPTER, f"card is {len(body)} bytes; Teams accepts about 28 KB", retryable=False
            )
        resp = await self._http.send(
            "POST", self._url, what=WHAT, data=body, headers={"Content-Type": "application/json"}
        )
        if not resp.ok:
            raise status_error(ADAPTER, WHAT, resp)
        log.info("teams_card_posted", status=resp.status)
