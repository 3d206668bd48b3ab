"""HaloPSA REST client (:class:`~ticketpilot.adapters.base.TicketSystem`).

Auth is OAuth2 client credentials. The token URL is discovered from ``GET {base}/api/authinfo``
(``{auth_url}/token``), else ``{base}/auth/token``; ``?tenant=`` is added for hosted instances. Halo's
POST endpoints take JSON *arrays* even for one record, and an Action needs an outcome (vendor-apis §1.2).
The client secret and the tokens are never logged or put in an error message.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from ticketpilot.adapters.base import AdapterError, NotFound, Ticket
from ticketpilot.adapters.http_retry import HttpClient, HttpResponse, RetryPolicy, Sleep, status_error
from ticketpilot.config import HalopsaConfig

log = structlog.get_logger(__name__)

ADAPTER = "halopsa"
PAGE_SIZE = 100
MAX_PAGES = 200
TOKEN_REFRESH_MARGIN_S = 60.0

# Our names for the decision fields → the HalopsaConfig keys holding the instance's custom field id
# (``customfield_<name>``) and name (``customfield_<name>_name``).
CUSTOM_FIELD_IDS = {
    "automation_status": "customfield_automation_status",
    "playbook_id": "customfield_playbook_id",
    "automation_confidence": "customfield_automation_confidence",
}

_TAG = re.compile(r"<[^>]+>")


@dataclass
class _Token:
    value: str
    expires_at: float
    granted_scope: str


def _html_to_text(value: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", value)
    return html.unescape(_TAG.sub("", text)).strip()


def _opt_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def ticket_from_halo(
    raw: dict[str, Any], *, closed_status_ids: tuple[int, ...], azure_oid: str = ""
) -> Ticket:
    """Map a HaloPSA ``Faults`` record to :class:`Ticket` (``details_html`` when ``details`` is empty)."""
    status_id = _opt_int(raw.get("status_id"))
    details = str(raw.get("details") or "") or _html_to_text(str(raw.get("details_html") or ""))
    nested = raw.get("user")
    user: dict[str, Any] = nested if isinstance(nested, dict) else {}
    return Ticket(
        id=int(raw["id"]),
        summary=str(raw.get("summary") or ""),
        details=details,
        user_email=str(raw.get("user_email") or ""),
        user_name=str(raw.get("user_name") or ""),
        user_azure_oid=azure_oid or str(raw.get("azureoid") or user.get("azureoid") or ""),
        status_id=status_id,
        closed=bool(raw.get("hasbeenclosed")) or (status_id is not None and status_id in closed_status_ids),
        client_name=str(raw.get("client_name") or ""),
    )


class HaloPsaClient:
    """The live :class:`~ticketpilot.adapters.base.TicketSystem` on HaloPSA's REST API."""

    def __init__(
        self,
        config: HalopsaConfig,
        *,
        http_timeout_s: float = 15.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        utcnow: Callable[[], datetime] = lambda: datetime.now(UTC),
        ca_bundle: str = "",
    ) -> None:
        self._config = config
        self._base = config.base_url.rstrip("/")
        self._http = HttpClient(ADAPTER, http_timeout_s, retry or RetryPolicy(), sleep, ca_bundle=ca_bundle)
        self._clock = clock
        self._utcnow = utcnow
        self._token: _Token | None = None
        self._token_url: str | None = None
        self._token_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"HaloPsaClient(base_url={self._base!r}, client_id={self._config.client_id!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- auth --------------------------------------------------------------------------------------

    async def _discover_token_url(self) -> str:
        tenant = self._config.tenant
        auth_url = ""
        try:
            resp = await self._http.send_once("GET", f"{self._base}/api/authinfo", what="GET /api/authinfo")
            info = resp.json() if resp.ok else None
            if isinstance(info, dict):
                auth_url = str(info.get("auth_url") or "").rstrip("/")
                tenant = tenant or str(info.get("tenant_id") or info.get("tenant") or "")
        except (AdapterError, ValueError):
            auth_url = ""
        url = f"{auth_url}/token" if auth_url else f"{self._base}/auth/token"
        log.info("halopsa_token_endpoint", discovered=bool(auth_url), tenant=tenant or None)
        return f"{url}?tenant={tenant}" if tenant else url

    async def _access_token(self, *, force: bool = False) -> str:
        async with self._token_lock:
            now = self._clock()
            if not force and self._token is not None and now < self._token.expires_at:
                return self._token.value
            if self._token_url is None:
                self._token_url = await self._discover_token_url()
            form = {
                "grant_type": "client_credentials",
                "client_id": self._config.client_id,
                "client_secret": self._config.client_secret.get_secret_value(),
                "scope": self._config.scope,
            }
            resp = await self._http.send("POST", self._token_url, what="HaloPSA token request", data=form)
            body = _json_or_none(resp)
            if not resp.ok or not isinstance(body, dict) or not body.get("access_token"):
                error = body.get("error") if isinstance(body, dict) else None
                raise AdapterError(
                    ADAPTER,
                    f"token request refused: HTTP {resp.status}"
                    + (f" ({error})" if error else "")
                    + " — check halopsa.client_id/client_secret/tenant and the API application",
                    retryable=resp.status >= 500,
                    status=resp.status,
                )
            lifetime = float(body.get("expires_in") or 3600)
            margin = min(TOKEN_REFRESH_MARGIN_S, lifetime / 10)
            self._token = _Token(
                value=str(body["access_token"]),
                expires_at=now + lifetime - margin,
                granted_scope=str(body.get("scope") or self._config.scope),
            )
            log.info("halopsa_token_acquired", granted_scope=self._token.granted_scope, expires_in=lifetime)
            return self._token.value

    async def _api(self, method: str, path: str, *, what: str, **kwargs: Any) -> HttpResponse:
        """Call ``{base}/api{path}`` with a bearer token; on 401 fetch a new token once and retry."""
        url = f"{self._base}/api{path}"
        for force in (False, True):
            token = await self._access_token(force=force)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            resp = await self._http.send(method, url, what=what, headers=headers, **kwargs)
            if resp.status != 401:
                break
            log.warning("halopsa_token_rejected", call=what, retry=not force)
        if resp.status == 401:
            raise AdapterError(
                ADAPTER,
                f"{what}: HTTP 401 with a fresh token — check the API application",
                retryable=False,
                status=401,
            )
        if resp.status == 403:
            raise self._forbidden(what, resp)
        return resp

    def _forbidden(self, what: str, resp: HttpResponse) -> AdapterError:
        granted = self._token.granted_scope if self._token else self._config.scope
        if not resp.body.strip():
            detail = (
                "HaloPSA answered 403 with an empty body: the API application lacks the permission for this "
                f"call. Check the Halo API application's permissions (and its agent) and that scope "
                f"{self._config.scope!r} covers it (granted scope: {granted!r})"
            )
        else:
            detail = f"forbidden: {resp.text()[:300]} (granted scope: {granted!r})"
        log.warning("halopsa_forbidden", call=what, granted_scope=granted, empty_body=not resp.body.strip())
        return AdapterError(ADAPTER, f"{what}: {detail}", retryable=False, status=403)

    # --- read-only checks (``python main.py doctor``) -------------------------------------------------

    async def authenticate(self) -> str:
        """Fetch a fresh token (never a cached one); return the scope HaloPSA granted."""
        await self._access_token(force=True)
        assert self._token is not None
        return self._token.granted_scope

    async def read(self, path: str, *, what: str, params: dict[str, str] | None = None) -> Any:
        """``GET {base}/api{path}`` as JSON: a read for preflight checks (404 → :class:`NotFound`)."""
        return self._expect_json(what, await self._api("GET", path, what=what, params=params))

    # --- TicketSystem ------------------------------------------------------------------------------

    async def get_ticket(self, ticket_id: int) -> Ticket:
        """``GET /api/Tickets/{id}?includedetails=true``, plus the user's ``azureoid`` from ``/api/Users``."""
        what = f"GET /api/Tickets/{ticket_id}"
        resp = await self._api("GET", f"/Tickets/{ticket_id}", what=what, params={"includedetails": "true"})
        raw = self._expect_json(what, resp)
        if not isinstance(raw, dict) or not raw.get("id"):
            raise NotFound(ADAPTER, f"{what}: no such ticket")
        ticket = ticket_from_halo(raw, closed_status_ids=self._config.status_closed_ids)
        user_id = _opt_int(raw.get("user_id"))
        if not ticket.user_azure_oid and user_id is not None and user_id > 0:
            user = await self._get_user(user_id)
            if user:
                ticket = ticket.model_copy(
                    update={
                        "user_azure_oid": str(user.get("azureoid") or ""),
                        "user_email": ticket.user_email or str(user.get("emailaddress") or ""),
                    }
                )
        return ticket

    async def _get_user(self, user_id: int) -> dict[str, Any] | None:
        what = f"GET /api/Users/{user_id}"
        resp = await self._api("GET", f"/Users/{user_id}", what=what)
        if resp.status == 404:
            return None
        raw = self._expect_json(what, resp)
        return raw if isinstance(raw, dict) else None

    async def update_ticket(
        self,
        ticket_id: int,
        *,
        custom_fields: dict[str, str] | None = None,
        status_id: int | None = None,
        team: str | None = None,
        agent_id: int | None = None,
        priority_id: int | None = None,
    ) -> None:
        """``POST /api/Tickets`` with a one-record array (``Faults``: ``status_id``, ``team``, ``agent_id``,
        ``priority_id``, ``customfields``); custom fields by the configured id and/or name."""
        record: dict[str, Any] = {"id": ticket_id}
        if custom_fields:
            record["customfields"] = [
                self._custom_field(name, value) for name, value in custom_fields.items()
            ]
        assignment = {"status_id": status_id, "team": team, "agent_id": agent_id, "priority_id": priority_id}
        record.update({key: value for key, value in assignment.items() if value is not None})
        if len(record) == 1:
            return
        what = f"POST /api/Tickets (update {ticket_id})"
        resp = await self._api("POST", "/Tickets", what=what, json=[record])
        self._expect_ok(what, resp)

    def _custom_field(self, name: str, value: str) -> dict[str, Any]:
        """``{"id", "value"}``, ``{"name", "value"}`` or both, as configured; unconfigured: by our name."""
        key = CUSTOM_FIELD_IDS.get(name)
        field_id = int(getattr(self._config, key)) if key else 0
        field_name = str(getattr(self._config, f"{key}_name")) if key else ""
        field: dict[str, Any] = {}
        if field_id:
            field["id"] = field_id
        if field_name or not field_id:
            field["name"] = field_name or name
        field["value"] = value
        return field

    async def add_note(self, ticket_id: int, note: str, *, private: bool = True) -> None:
        """``POST /api/Actions`` with a one-record array and the configured outcome (Halo refuses none)."""
        action = {
            "ticket_id": ticket_id,
            "outcome_id": self._config.note_outcome_id,
            "hiddenfromuser": private,
            "note": note,
        }
        what = f"POST /api/Actions (ticket {ticket_id})"
        resp = await self._api("POST", "/Actions", what=what, json=[action])
        if resp.status == 400 and "outcome" in resp.text().lower():
            raise AdapterError(
                ADAPTER,
                f"{what}: HTTP 400 — {resp.text()[:200]} (is halopsa.note_outcome_id="
                f"{self._config.note_outcome_id} an outcome the API agent may use?)",
                retryable=False,
                status=400,
            )
        self._expect_ok(what, resp)

    async def list_tickets_since(self, days: int) -> list[Ticket]:
        """Tickets logged in the last ``days`` days (``datesearch=dateoccurred``), all pages."""
        start = (self._utcnow() - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")
        tickets: list[Ticket] = []
        for page in range(1, MAX_PAGES + 1):
            params = {
                "pageinate": "true",
                "page_size": str(PAGE_SIZE),
                "page_no": str(page),
                "datesearch": "dateoccurred",
                "startdate": start,
                "order": "id",
            }
            what = f"GET /api/Tickets (page {page})"
            body = self._expect_json(what, await self._api("GET", "/Tickets", what=what, params=params))
            rows = body.get("tickets", []) if isinstance(body, dict) else body
            if not isinstance(rows, list):
                raise AdapterError(ADAPTER, f"{what}: unexpected response shape", retryable=False)
            tickets.extend(
                ticket_from_halo(r, closed_status_ids=self._config.status_closed_ids)
                for r in rows
                if isinstance(r, dict) and r.get("id")
            )
            total = _opt_int(body.get("record_count")) if isinstance(body, dict) else None
            if len(rows) < PAGE_SIZE or (total is not None and len(tickets) >= total):
                break
        return tickets

    # --- responses ---------------------------------------------------------------------------------

    def _expect_ok(self, what: str, resp: HttpResponse) -> None:
        if not resp.ok:
            raise status_error(ADAPTER, what, resp, _halo_message(resp))

    def _expect_json(self, what: str, resp: HttpResponse) -> Any:
        self._expect_ok(what, resp)
        try:
            return resp.json()
        except ValueError:
            raise AdapterError(
                ADAPTER, f"{what}: response is not JSON", retryable=False, status=resp.status
            ) from None


def _json_or_none(resp: HttpResponse) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _halo_message(resp: HttpResponse) -> str:
    body = _json_or_none(resp)
    if isinstance(body, dict):
        for key in ("message", "error_description", "error", "title"):
            if body.get(key):
                return str(body[key])[:300]
    if isinstance(body, str):
        return body[:300]
    return resp.text()[:300]
