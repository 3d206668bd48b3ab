"""A Twilio REST fake for ``POST /2010-04-01/Accounts/{Sid}/Messages.json`` (and GET of one message).

Checks HTTP Basic ``AccountSid:AuthToken`` itself and every request *and* response against Twilio's
OpenAPI spec (``spec_errors``). Records each accepted message in ``messages``. Knobs: ``reject`` (a
recipient → (status, Twilio error code, message)) and :meth:`FakeServer.fail_next`.

Like Twilio, a message created with a ``StatusCallback`` gets status callbacks there, shortly after the
create answered: ``sent``, then the final status — ``delivered`` unless :meth:`script_statuses` scripted
another for the recipient (``undelivered``/``failed`` come with an ``ErrorCode``; None: no final report, as
with many carriers). Each is a form POST signed with ``X-Twilio-Signature`` over the exact callback URL
and the auth token; what the receiver answered is kept in ``callbacks``. Only loopback URLs are called (a
test never reaches out to the internet): another host is recorded with answer 0, a refused connection -1.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from fakes.server import FakeServer, RecordedRequest
from fakes.specs import SpecValidator, twilio_spec


def twilio_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
    )


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
ERROR_CODES = {"undelivered": "30003", "failed": "30008"}
"""What Twilio reports with a failed delivery: unreachable handset, unknown error."""


@dataclass(frozen=True)
class StatusCallback:
    """One status callback the fake posted, and the receiver's answer."""

    url: str
    params: dict[str, str]
    answer: int


class TwilioFake(FakeServer):
    name = "twilio"
    validate_responses = True

    def __init__(
        self,
        *,
        account_sid: str = "AC" + "0123456789abcdef" * 2,
        auth_token: str = "twilio-token",
        spec: SpecValidator | bool | None = True,
    ) -> None:
        super().__init__(spec=twilio_spec() if spec is True else (spec or None))
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, Any]] = []
        self.reject: dict[str, tuple[int, int, str]] = {}
        self.callbacks: list[StatusCallback] = []
        self.phone_numbers: list[str] = ["+15005550006"]
        """The account's numbers (``IncomingPhoneNumbers.json``); Twilio's magic test From by default."""
        self.account_status = "active"
        """``GET /Accounts/{Sid}.json``'s ``status``: active, suspended or closed."""
        self.report_after_s = 0.05
        self._statuses: dict[str, list[str | None]] = {}
        self._reports: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def script_statuses(self, to: str, *statuses: str | None) -> None:
        """The final status of each next message to ``to``, in order (then ``delivered``)."""
        self._statuses.setdefault(to, []).extend(statuses)

    async def stop(self) -> None:
        for task in list(self._reports):
            task.cancel()
        await asyncio.gather(*self._reports, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        await super().stop()

    def in_spec_scope(self, request: RecordedRequest) -> bool:
        return request.path.startswith("/2010-04-01/")

    def spec_error_response(self, request: RecordedRequest, errors: list[str]) -> web.StreamResponse:
        return twilio_error(400, 21604, "; ".join(errors)[:500])

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{sid}/Messages/{msid}.json", self._fetch)
        app.router.add_get("/2010-04-01/Accounts/{sid}.json", self._account)
        app.router.add_get("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json", self._numbers)

    async def _account(self, request: web.Request) -> web.Response:
        """The account (never its auth token: the fake has no reason to echo a secret)."""
        if not self._authorized(request):
            return twilio_error(401, 20003, "Authenticate")
        uri = f"/2010-04-01/Accounts/{self.account_sid}.json"
        return web.json_response(
            {
                "date_created": "Thu, 30 Jul 2015 20:00:00 +0000",
                "date_updated": "Thu, 30 Jul 2015 20:00:00 +0000",
                "friendly_name": "Contoso helpdesk",
                "owner_account_sid": self.account_sid,
                "sid": self.account_sid,
                "status": self.account_status,
                "subresource_uris": {
                    "incoming_phone_numbers": uri.replace(".json", "/IncomingPhoneNumbers.json")
                },
                "type": "Full",
                "uri": uri,
            }
        )

    async def _numbers(self, request: web.Request) -> web.Response:
        """The account's numbers, filtered by ``PhoneNumber`` as Twilio does."""
        if not self._authorized(request):
            return twilio_error(401, 20003, "Authenticate")
        wanted = request.query.get("PhoneNumber")
        base = f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers"
        rows = [
            {
                "account_sid": self.account_sid,
                "phone_number": number,
                "friendly_name": number,
                "sid": "PN" + secrets.token_hex(16),
                "capabilities": {"sms": True, "mms": False, "voice": True, "fax": False},
                "status": "in-use",
                "uri": f"{base}.json",
            }
            for number in self.phone_numbers
            if wanted is None or number == wanted
        ]
        return web.json_response(
            {
                "incoming_phone_numbers": rows,
                "end": max(len(rows) - 1, 0),
                "first_page_uri": f"{base}.json?PageSize=50&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{base}.json?PageSize=50&Page=0",
            }
        )

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return (
            request.headers.get("Authorization") == f"Basic {expected}"
            and request.match_info["sid"] == self.account_sid
        )

    def _resource(self, form: dict[str, str], sid: str) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC), usegmt=True)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": form.get("To"),
            "uri": uri,
        }

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return twilio_error(401, 20003, "Authenticate")
        form = {k: str(v) for k, v in (await request.post()).items()}
        if form.get("To") in self.reject:
            status, code, message = self.reject[form["To"]]
            return twilio_error(status, code, message)
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return twilio_error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
        resource = self._resource(form, "SM" + secrets.token_hex(16))
        self.messages.append({**form, "sid": resource["sid"]})
        if form.get("StatusCallback"):
            scripted = self._statuses.get(form["To"])
            final = scripted.pop(0) if scripted else "delivered"
            task = asyncio.create_task(self._report(form, resource["sid"], final))
            self._reports.add(task)
            task.add_done_callback(self._reports.discard)
        return web.json_response(resource, status=201)

    async def _report(self, form: dict[str, str], sid: str, final: str | None) -> None:
        """``sent``, then the final status (if any), to the message's StatusCallback."""
        await asyncio.sleep(self.report_after_s)
        for status in ("sent", final):
            if status is not None:
                await self._post_status(form, sid, status)

    async def _post_status(self, form: dict[str, str], sid: str, status: str) -> None:
        url = form["StatusCallback"]
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": form.get("From") or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": form["To"],
        }
        if status in ERROR_CODES:
            params["ErrorCode"] = ERROR_CODES[status]
        if urlsplit(url).hostname not in LOOPBACK:
            self.callbacks.append(StatusCallback(url, params, 0))
            return
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"X-Twilio-Signature": signature}
        try:
            async with self._session.post(url, data=params, headers=headers) as resp:
                await resp.read()
                answer = resp.status
        except aiohttp.ClientError:
            answer = -1
        self.callbacks.append(StatusCallback(url, params, answer))

    async def _fetch(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return twilio_error(401, 20003, "Authenticate")
        for message in self.messages:
            if message["sid"] == request.match_info["msid"]:
                return web.json_response(self._resource(message, message["sid"]))
        return twilio_error(404, 20404, "The requested resource was not found")
