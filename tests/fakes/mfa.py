"""A fake of the Azure MFA connector: the v1 token endpoint and ``BeginTwoWayAuthentication``.

There is no published spec; the fake checks the request shape known from CIPP/XSOAR (vendor-apis §2.6,
§7) itself — the v1 token form for the MFA client app, a bearer token, and an XML request with
``SyncCall=true`` and ``PhoneAppNotification`` — and records deviations in ``spec_errors``. It answers
with a WCF-style ``BeginTwoWayAuthenticationResponse`` (default namespace, as the real service does).
"""

from __future__ import annotations

import itertools
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fakes.server import FakeServer, RecordedRequest

MFA_CLIENT_APP_ID = "981f26a1-7f43-403b-a875-f8b09b8cd720"
CONNECTOR_RESOURCE = "https://adnotifications.windowsazure.com/StrongAuthenticationService.svc/Connector"
CONNECTOR_PATH = "/StrongAuthenticationService.svc/Connector"
REQUIRED = ("Version", "UserPrincipalName", "Lcid", "AuthenticationMethodId", "ContextId", "SyncCall")


@dataclass
class Push:
    user_principal_name: str
    context_id: str
    method: str
    sync_call: str


def answer_xml(value: str, *, authenticated: bool, message: str = "") -> str:
    message_xml = f"<Message>{message}</Message>" if message else '<Message i:nil="true"/>'
    return (
        "<BeginTwoWayAuthenticationResponse "
        'xmlns="http://schemas.microsoft.com/2010/08/StrongAuthentication" '
        'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        f"<Version>1.0</Version><SessionId>{uuid.uuid4()}</SessionId>"
        f"<Result><Value>{value}</Value>{message_xml}</Result>"
        f"<AuthenticationResult>{'true' if authenticated else 'false'}</AuthenticationResult>"
        "</BeginTwoWayAuthenticationResponse>"
    )


class MfaConnectorFake(FakeServer):
    """Knobs: ``results`` (UPN → Result/Value, default ``default_result``), ``answer_after_s`` (how long the
    blocking call takes), ``raw_answer`` (send this body verbatim), ``token_error`` (AADSTS description)."""

    name = "mfa"

    def __init__(self, *, tenant_id: str = "contoso-tenant", client_secret: str = "mfa-secret") -> None:
        super().__init__()
        self.tenant_id = tenant_id
        self.client_secret = client_secret
        self.results: dict[str, str] = {}
        self.default_result = "Success"
        self.answer_after_s = 0.0
        self.raw_answer: str | None = None
        self.token_error: str | None = None
        self.pushes: list[Push] = []
        self.token_requests: list[dict[str, str]] = []
        self._tokens: set[str] = set()
        self._seq = itertools.count(1)

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/{self.tenant_id}/oauth2/token"

    @property
    def connector_url(self) -> str:
        return f"{self.base_url}{CONNECTOR_PATH}"

    def in_spec_scope(self, request: RecordedRequest) -> bool:
        return False

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/{tenant}/oauth2/token", self._token)
        app.router.add_post(f"{CONNECTOR_PATH}/BeginTwoWayAuthentication", self._begin)
        app.router.add_post(f"{CONNECTOR_PATH}//BeginTwoWayAuthentication", self._begin)

    def _problem(self, text: str) -> None:
        self.spec_errors.append(f"mfa: {text}")

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append({k: v for k, v in form.items() if k != "client_secret"})
        expected = {
            "resource": CONNECTOR_RESOURCE,
            "client_id": MFA_CLIENT_APP_ID,
            "grant_type": "client_credentials",
        }
        for key, value in expected.items():
            if form.get(key) != value:
                self._problem(f"token form {key}={form.get(key)!r}, expected {value!r}")
        if self.token_error or form.get("client_secret") != self.client_secret:
            description = self.token_error or "AADSTS7000215: Invalid client secret provided."
            return web.json_response(
                {"error": "invalid_client", "error_description": description}, status=401
            )
        token = f"mfa-at-{next(self._seq)}"
        self._tokens.add(token)
        # the v1 endpoint sends numbers as strings
        return web.json_response({"token_type": "Bearer", "expires_in": "3599", "access_token": token})

    async def _begin(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self._tokens:
            return web.Response(status=401)
        if not request.content_type.endswith("xml"):
            self._problem(f"content type {request.content_type!r}")
        try:
            root = ET.fromstring(await request.text())
        except ET.ParseError as exc:
            self._problem(f"request is not XML: {exc}")
            return web.Response(status=400)
        fields: dict[str, Any] = {child.tag: (child.text or "") for child in root}
        if root.tag != "BeginTwoWayAuthenticationRequest":
            self._problem(f"root element {root.tag!r}")
        for name in REQUIRED:
            if name not in fields:
                self._problem(f"missing <{name}>")
        if fields.get("SyncCall") != "true" or fields.get("AuthenticationMethodId") != "PhoneAppNotification":
            self._problem("not a blocking PhoneAppNotification push")
        push = Push(
            fields.get("UserPrincipalName", ""),
            fields.get("ContextId", ""),
            fields.get("AuthenticationMethodId", ""),
            fields.get("SyncCall", ""),
        )
        self.pushes.append(push)
        if self.answer_after_s:
            await self.pause(self.answer_after_s)
        if self.raw_answer is not None:
            return web.Response(text=self.raw_answer, content_type="application/xml")
        value = self.results.get(push.user_principal_name, self.default_result)
        # AuthenticationResult says the prompt round-trip worked; Result/Value says what the user did.
        completed = value in ("Success", "PhoneAppDenied", "PhoneAppNoResponse")
        return web.Response(text=answer_xml(value, authenticated=completed), content_type="application/xml")
