"""MFA push through the Azure MFA connector (:class:`~ticketpilot.adapters.base.MfaPush`).

Undocumented by Microsoft (vendor-apis §2.6): a v1 token for the "Azure Multi-Factor Auth Client"
(``981f26a1-…``) with a secret the operator added to that service principal, then a blocking
``BeginTwoWayAuthentication`` (``SyncCall=true``, ``PhoneAppNotification``) that returns once the user
approves, denies or ignores the prompt. Off unless ``mfa.enabled``: then :class:`DisabledMfaPush` fails
at once. The push itself is never retried here (a retry is a second prompt on the user's phone).
"""

from __future__ import annotations

import asyncio
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import structlog

from ticketpilot.adapters.base import AdapterError, MfaResult
from ticketpilot.adapters.http_retry import HttpClient, HttpResponse, RetryPolicy, Sleep, TransportTimeout
from ticketpilot.config import EntraConfig, MfaConfig

log = structlog.get_logger(__name__)

ADAPTER = "mfa"
MFA_CLIENT_APP_ID = "981f26a1-7f43-403b-a875-f8b09b8cd720"
CONNECTOR_RESOURCE = "https://adnotifications.windowsazure.com/StrongAuthenticationService.svc/Connector"
RESULTS: dict[str, MfaResult] = {
    "Success": "approved",
    "PhoneAppDenied": "denied",
    "PhoneAppNoResponse": "timeout",
}
_TOKEN_HINTS = {
    "AADSTS7000112": "the 'Azure Multi-Factor Auth Client' application is disabled in the tenant",
    "AADSTS500014": "the 'Azure Multi-Factor Auth Connector' application is disabled in the tenant",
    "AADSTS7000215": "mfa.client_secret is not a valid secret of the MFA client service principal",
    "AADSTS7000222": "mfa.client_secret has expired",
}


class DisabledMfaPush:
    """What ``verification.mfa`` gets when the connector is not enabled: a fast, non-retryable failure."""

    async def push(self, user_principal_name: str, *, context_id: str) -> MfaResult:
        raise AdapterError(ADAPTER, "MFA push is not configured", retryable=False)


@dataclass(frozen=True)
class ConnectorAnswer:
    value: str
    authenticated: bool
    message: str


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in node if _local(c.tag) == name), None)


def parse_connector_answer(text: str) -> ConnectorAnswer:
    """Read ``BeginTwoWayAuthenticationResponse`` (any namespace). DTDs are refused outright, so no entity
    can be declared, let alone expanded."""
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise AdapterError(ADAPTER, "connector answer declares a DTD: refused", retryable=False)
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        raise AdapterError(ADAPTER, "connector answer is not XML", retryable=False) from None
    node = (
        root
        if _local(root.tag) == "BeginTwoWayAuthenticationResponse"
        else next((e for e in root.iter() if _local(e.tag) == "BeginTwoWayAuthenticationResponse"), None)
    )
    result = _child(node, "Result") if node is not None else None
    value = _child(result, "Value") if result is not None else None
    if node is None or value is None or not (value.text or "").strip():
        raise AdapterError(ADAPTER, "connector answer has no Result/Value", retryable=False)
    message = _child(result, "Message") if result is not None else None
    auth = _child(node, "AuthenticationResult")
    return ConnectorAnswer(
        value=(value.text or "").strip(),
        authenticated=(auth.text or "").strip().lower() == "true" if auth is not None else False,
        message=((message.text or "") if message is not None else "").strip()[:200],
    )


def begin_request_xml(user_principal_name: str, context_id: str) -> str:
    """The ``BeginTwoWayAuthentication`` body: a blocking push (``SyncCall``) to the Authenticator app."""
    return (
        "<BeginTwoWayAuthenticationRequest>"
        "<Version>1.0</Version>"
        f"<UserPrincipalName>{escape(user_principal_name)}</UserPrincipalName>"
        "<Lcid>en-us</Lcid>"
        "<AuthenticationMethodId>PhoneAppNotification</AuthenticationMethodId>"
        '<AuthenticationMethodProperties xmlns:a="http://schemas.microsoft.com/2003/10/Serialization/Arrays">'
        "<a:KeyValueOfstringstring><a:Key>OverrideVoiceOtp</a:Key><a:Value>false</a:Value>"
        "</a:KeyValueOfstringstring></AuthenticationMethodProperties>"
        f"<ContextId>{escape(context_id)}</ContextId>"
        "<SyncCall>true</SyncCall>"
        "<RequireUserMatch>true</RequireUserMatch>"
        "<CallerName>radius</CallerName>"
        "<CallerIP>UNKNOWN:</CallerIP>"
        "</BeginTwoWayAuthenticationRequest>"
    )


def _context_guid(context_id: str) -> str:
    try:
        return str(uuid.UUID(context_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, context_id))


class AzureMfaConnector:
    """The live :class:`~ticketpilot.adapters.base.MfaPush` (only built when ``mfa.enabled``)."""

    def __init__(
        self,
        mfa: MfaConfig,
        entra: EntraConfig,
        *,
        http_timeout_s: float = 15.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        ca_bundle: str = "",
    ) -> None:
        self._mfa = mfa
        self._connector = mfa.connector_url.rstrip("/")
        self._token_url = mfa.token_url or f"{entra.authority_url.rstrip('/')}/{entra.tenant_id}/oauth2/token"
        self._http = HttpClient(ADAPTER, http_timeout_s, retry or RetryPolicy(), sleep, ca_bundle=ca_bundle)
        self._clock = clock
        self._token: tuple[str, float] | None = None

    def __repr__(self) -> str:
        return f"AzureMfaConnector(connector_url={self._connector!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _access_token(self, *, force: bool = False) -> str:
        now = self._clock()
        if not force and self._token is not None and now < self._token[1]:
            return self._token[0]
        form = {
            "resource": CONNECTOR_RESOURCE,
            "client_id": MFA_CLIENT_APP_ID,
            "client_secret": self._mfa.client_secret.get_secret_value(),
            "grant_type": "client_credentials",
            "scope": "openid",
        }
        resp = await self._http.send("POST", self._token_url, what="MFA connector token request", data=form)
        body = _json(resp)
        if not resp.ok or not body.get("access_token"):
            description = str(body.get("error_description") or "")
            hint = next((h for code, h in _TOKEN_HINTS.items() if code in description), "")
            raise AdapterError(
                ADAPTER,
                f"token request refused: HTTP {resp.status} {body.get('error', '')}"
                + (f" — {hint}" if hint else ""),
                retryable=resp.status >= 500,
                status=resp.status,
            )
        lifetime = float(body.get("expires_in") or 3600)
        self._token = (str(body["access_token"]), now + lifetime - min(60.0, lifetime / 10))
        return self._token[0]

    async def authenticate(self) -> None:
        """Fetch a fresh connector token (a preflight check: no push is sent)."""
        await self._access_token(force=True)

    async def push(self, user_principal_name: str, *, context_id: str) -> MfaResult:
        """Blocks until the user answers the Authenticator prompt, or ``mfa.timeout_s`` passes (→ timeout)."""
        body = begin_request_xml(user_principal_name, _context_guid(context_id))
        resp: HttpResponse | None = None
        for force in (False, True):
            token = await self._access_token(force=force)
            try:
                resp = await self._http.send_once(
                    "POST",
                    f"{self._connector}/BeginTwoWayAuthentication",
                    what="MFA BeginTwoWayAuthentication",
                    timeout_s=self._mfa.timeout_s,
                    data=body.encode(),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/xml"},
                )
            except TransportTimeout:
                log.info("mfa_push_result", result="timeout", reason="no answer within mfa.timeout_s")
                return "timeout"
            if resp.status != 401:
                break
        assert resp is not None
        if not resp.ok:
            raise AdapterError(
                ADAPTER,
                f"MFA BeginTwoWayAuthentication: HTTP {resp.status}",
                retryable=resp.status == 429 or resp.status >= 500,
                status=resp.status,
            )
        answer = parse_connector_answer(resp.text())
        result = RESULTS.get(answer.value)
        if result is None or (result == "approved" and not answer.authenticated):
            raise AdapterError(
                ADAPTER,
                f"connector answered {answer.value!r} (authenticated={answer.authenticated}) "
                f"{answer.message}".strip(),
                retryable=False,
            )
        log.info("mfa_push_result", result=result, connector_value=answer.value)
        return result


def _json(resp: HttpResponse) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
