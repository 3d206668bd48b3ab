"""A HaloPSA fake: OAuth2 client credentials (``/api/authinfo`` + ``/auth/token``), tickets, users, actions.

Speaks the shapes of vendor-apis §1: POST bodies are JSON arrays (a bare object gets Halo's
"requires a JSON array" 400), an Action without an outcome is refused, a missing permission is an
empty 403. Paths are matched ignoring case, as Halo does. Requests under ``/api`` are checked against
the HaloPSA spec when one is given.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from fakes.server import FakeServer, RecordedRequest
from fakes.specs import SpecValidator, halopsa_spec


@dataclass
class TokenRequest:
    """A token request as received, without the secret."""

    client_id: str
    scope: str
    tenant: str | None
    grant_type: str
    secret_ok: bool


@dataclass
class HaloState:
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    """Every record POSTed to /api/Tickets, in order."""
    notes: list[dict[str, Any]] = field(default_factory=list)
    """Every record POSTed to /api/Actions, in order."""


class HaloPsaFake(FakeServer):
    """Knobs: ``authinfo`` (serve discovery), ``auth_path``, ``require_tenant``, ``token_lifetime_s``,
    ``forbid(path)``,
    ``revoke_tokens()``, ``custom_fields`` / ``statuses`` (what ``/api/FieldInfo`` / ``/api/Status`` list),
    plus :meth:`FakeServer.fail_next`. State: ``tickets``, ``users``, ``updates``, ``notes``,
    ``token_requests``."""

    name = "halopsa"

    def __init__(
        self,
        *,
        client_id: str = "halo-client",
        client_secret: str = "halo-secret",
        tenant: str | None = "acme",
        authinfo: bool = True,
        spec: SpecValidator | bool | None = True,
    ) -> None:
        super().__init__(spec=halopsa_spec() if spec is True else (spec or None))
        self.client_id = client_id
        self.client_secret = client_secret
        self.require_tenant = tenant
        self.authinfo = authinfo
        self.auth_path = "/auth"
        """Where ``/api/authinfo`` says the identity server lives (token endpoint: ``{auth_path}/token``)."""
        self.token_lifetime_s = 3600
        self.state = HaloState()
        self.token_requests: list[TokenRequest] = []
        self._valid_tokens: set[str] = set()
        self._token_seq = itertools.count(1)
        self._forbidden: list[str] = []
        # --- doctor (preflight) reads: GET /api/FieldInfo and GET /api/Status ---
        self.custom_fields: list[dict[str, Any]] = [
            {"id": 201, "name": "CFautomationStatus", "label": "Automation status", "type": 0},
            {"id": 202, "name": "CFplaybookId", "label": "Playbook", "type": 0},
            {"id": 203, "name": "CFautomationConfidence", "label": "Automation confidence", "type": 0},
        ]
        """What ``GET /api/FieldInfo`` lists (the instance's custom field definitions)."""
        self.statuses: list[dict[str, Any]] = [
            {"id": i, "name": n}
            for i, n in ((1, "New"), (2, "In Progress"), (3, "Action Required"), (4, "Updated"),
                         (8, "Resolved"), (9, "Closed"), (21, "Escalated to L1"))
        ]  # fmt: skip
        """What ``GET /api/Status`` lists."""

    # --- test-facing helpers -----------------------------------------------------------------------

    @property
    def tickets(self) -> dict[int, dict[str, Any]]:
        return self.state.tickets

    @property
    def users(self) -> dict[int, dict[str, Any]]:
        return self.state.users

    @property
    def updates(self) -> list[dict[str, Any]]:
        return self.state.updates

    @property
    def notes(self) -> list[dict[str, Any]]:
        return self.state.notes

    def add_ticket(self, ticket_id: int, **fields: Any) -> dict[str, Any]:
        record = {
            "id": ticket_id,
            "summary": "",
            "details": "",
            "user_id": 0,
            "user_name": "",
            "user_email": "",
            "status_id": 1,
            "hasbeenclosed": False,
            "client_name": "Acme Ltd",
            "dateoccurred": "2026-09-01T09:00:00",
            "customfields": [],
            **fields,
        }
        self.state.tickets[ticket_id] = record
        return record

    def add_user(self, user_id: int, *, email: str, azureoid: str = "", name: str = "") -> dict[str, Any]:
        record = {"id": user_id, "name": name or email, "emailaddress": email, "azureoid": azureoid}
        self.state.users[user_id] = record
        return record

    def forbid(self, path_contains: str) -> None:
        """Answer matching API calls with Halo's empty 403 (a permission the API application lacks)."""
        self._forbidden.append(path_contains.lower())

    def revoke_tokens(self) -> None:
        """Make every issued token invalid (the next API call gets 401)."""
        self._valid_tokens.clear()

    # --- FakeServer hooks --------------------------------------------------------------------------

    def in_spec_scope(self, request: RecordedRequest) -> bool:
        return request.path.lower().startswith("/api/")

    def spec_error_response(self, request: RecordedRequest, errors: list[str]) -> web.StreamResponse:
        if request.method == "POST" and request.body.lstrip()[:1] == b"{":
            return web.json_response("The request requires a JSON array.", status=400)
        return web.json_response({"message": "Bad request", "errors": errors}, status=400)

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._dispatch)

    # --- routing (case-insensitive, like Halo) -----------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.lower().rstrip("/")
        method = request.method
        if method == "GET" and path == "/api/authinfo":
            if not self.authinfo:
                return web.Response(status=404)
            return web.json_response(
                {"auth_url": f"{self.base_url}{self.auth_path}", "tenant_id": self.require_tenant}
            )
        if method == "POST" and path == f"{self.auth_path}/token".lower():
            return await self._token(request)
        if not path.startswith("/api/"):
            return web.Response(status=404)
        if not self._authorized(request):
            return web.Response(status=401)
        if any(p in path for p in self._forbidden):
            return web.Response(status=403)
        if match := re.fullmatch(r"/api/tickets/(\d+)", path):
            return self._get_by_id(self.state.tickets, int(match.group(1))) if method == "GET" else _405()
        if match := re.fullmatch(r"/api/users/(\d+)", path):
            return self._get_by_id(self.state.users, int(match.group(1))) if method == "GET" else _405()
        if path == "/api/tickets":
            return await self._post_tickets(request) if method == "POST" else self._list_tickets(request)
        if path == "/api/actions" and method == "POST":
            return await self._post_actions(request)
        if path == "/api/fieldinfo" and method == "GET":
            return web.json_response(self.custom_fields)
        if path == "/api/status" and method == "GET":
            return web.json_response(self.statuses)
        return web.Response(status=404)

    async def _token(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        tenant = request.query.get("tenant")
        self.token_requests.append(
            TokenRequest(
                client_id=str(form.get("client_id", "")),
                scope=str(form.get("scope", "")),
                tenant=tenant,
                grant_type=str(form.get("grant_type", "")),
                secret_ok=form.get("client_secret") == self.client_secret,
            )
        )
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return web.json_response({"error": "invalid_client"}, status=401)
        if self.require_tenant and tenant != self.require_tenant:
            return web.json_response({"error": "invalid_request", "error_description": "tenant"}, status=400)
        token = f"halo-at-{next(self._token_seq)}"
        self._valid_tokens.add(token)
        return web.json_response(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": self.token_lifetime_s,
                "scope": str(form.get("scope", "")),
            }
        )

    def _authorized(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth.removeprefix("Bearer ") in self._valid_tokens

    def _get_by_id(self, table: dict[int, dict[str, Any]], record_id: int) -> web.StreamResponse:
        record = table.get(record_id)
        if record is None:
            return web.json_response("Record not found", status=404)
        return web.json_response(record)

    def _list_tickets(self, request: web.Request) -> web.StreamResponse:
        start = request.query.get("startdate")
        rows = sorted(self.state.tickets.values(), key=lambda t: t["id"])
        if start:
            since = datetime.fromisoformat(start)
            rows = [t for t in rows if datetime.fromisoformat(t["dateoccurred"]) >= since]
        if request.query.get("pageinate") == "true":
            size = int(request.query.get("page_size", "50"))
            page = int(request.query.get("page_no", "1"))
            page_rows = rows[(page - 1) * size : page * size]
            return web.json_response(
                {"page_no": page, "page_size": size, "record_count": len(rows), "tickets": page_rows}
            )
        count = int(request.query.get("count") or len(rows))
        return web.json_response({"record_count": len(rows), "tickets": rows[:count]})

    async def _post_tickets(self, request: web.Request) -> web.StreamResponse:
        records = await request.json()
        if not isinstance(records, list):
            return web.json_response("The request requires a JSON array.", status=400)
        saved = []
        for record in records:
            self.state.updates.append(record)
            ticket = self.state.tickets.get(int(record.get("id", 0)))
            if ticket is None:
                return web.json_response("Ticket not found", status=404)
            for key, value in record.items():
                if key == "customfields":
                    ticket["customfields"] = _merge_customfields(ticket.get("customfields", []), value)
                elif key != "id":
                    ticket[key] = value
            saved.append(ticket)
        return web.json_response(saved[0] if len(saved) == 1 else saved)

    async def _post_actions(self, request: web.Request) -> web.StreamResponse:
        records = await request.json()
        if not isinstance(records, list):
            return web.json_response("The request requires a JSON array.", status=400)
        for record in records:
            if not record.get("outcome_id") and not record.get("outcome"):
                return web.json_response("An Outcome must be entered for this Action", status=400)
            if int(record.get("ticket_id", 0)) not in self.state.tickets:
                return web.json_response("Ticket not found", status=404)
        self.state.notes.extend(records)
        return web.json_response({**records[0], "id": len(self.state.notes)})


def _merge_customfields(
    existing: list[dict[str, Any]], changes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    merged = {(f.get("id"), f.get("name")): f for f in existing}
    for change in changes:
        merged[(change.get("id"), change.get("name"))] = change
    return list(merged.values())


def _405() -> web.StreamResponse:
    return web.Response(status=405)
