"""A fake Teams Workflows trigger ("When a Teams webhook request is received").

Accepts ``POST /workflows/{id}/triggers/manual/paths/invoke?api-version=…&sp=…&sv=1.0&sig=…`` with the
message envelope of vendor-apis §3, checks the ``sig`` and the envelope (problems go to ``spec_errors``),
records each card in ``cards`` and answers 202 with an empty body.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from fakes.server import FakeServer, RecordedRequest

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


class TeamsWorkflowFake(FakeServer):
    """``workflow_url`` is the secret URL to configure; ``cards`` the Adaptive Cards received."""

    name = "teams"

    def __init__(self) -> None:
        super().__init__()
        self.workflow_id = secrets.token_hex(16)
        self.sig = secrets.token_urlsafe(32)
        self.cards: list[dict[str, Any]] = []

    @property
    def workflow_url(self) -> str:
        return (
            f"{self.base_url}/workflows/{self.workflow_id}/triggers/manual/paths/invoke"
            f"?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={self.sig}"
        )

    def in_spec_scope(self, request: RecordedRequest) -> bool:
        return False

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/workflows/{id}/triggers/manual/paths/invoke", self._invoke)

    def _envelope_problems(self, body: Any) -> list[str]:
        if not isinstance(body, dict) or body.get("type") != "message":
            return ["envelope type must be 'message'"]
        attachments = body.get("attachments")
        if not isinstance(attachments, list) or len(attachments) != 1:
            return ["exactly one attachment expected"]
        attachment = attachments[0]
        if attachment.get("contentType") != CARD_CONTENT_TYPE:
            return [f"contentType {attachment.get('contentType')!r}"]
        card = attachment.get("content")
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard" or "version" not in card:
            return ["content must be an AdaptiveCard with a version"]
        return []

    async def _invoke(self, request: web.Request) -> web.Response:
        if request.match_info["id"] != self.workflow_id or request.query.get("sig") != self.sig:
            return web.json_response(
                {
                    "error": {
                        "code": "DirectApiAuthorizationRequired",
                        "message": "The request must be authenticated",
                    }
                },
                status=401,
            )
        try:
            body = json.loads(await request.read())
        except ValueError:
            self.spec_errors.append("teams: body is not JSON")
            return web.Response(status=400)
        problems = self._envelope_problems(body)
        if problems:
            self.spec_errors.extend(f"teams: {p}" for p in problems)
            return web.json_response(
                {"error": {"code": "InvalidTemplate", "message": "; ".join(problems)}}, status=400
            )
        self.cards.append(body["attachments"][0]["content"])
        return web.Response(status=202)
