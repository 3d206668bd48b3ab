"""Entra ID through Microsoft Graph (:class:`~ticketpilot.adapters.base.Directory`), app-only via msal.

The msal app is built lazily (it fetches the authority's discovery document when constructed) and every
token call runs in a thread, off the event loop. Graph calls use aiohttp with bounded retries honouring
``Retry-After`` (Graph throttles with 429 and 503). A TAP or a generated password is registered with the
log scrubber the moment it exists and is never logged or put into an error (vendor-apis §2).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import string
import threading
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import structlog

from ticketpilot.adapters.base import (
    AdapterError,
    AmbiguousUser,
    DirectoryUser,
    IdentitySignalUnavailable,
    NotFound,
    PhoneMethod,
    PrivilegeCheck,
    SecurityInfoChange,
    TemporaryAccessPass,
    UserRisk,
)
from ticketpilot.adapters.http_retry import HttpClient, HttpResponse, RetryPolicy, Sleep, status_error
from ticketpilot.adapters.outbound import requests_session
from ticketpilot.config import EntraConfig
from ticketpilot.logging import mask_phone, register_secret

log = structlog.get_logger(__name__)

ADAPTER = "entra"
USER_SELECT = ("id", "userPrincipalName", "mail", "displayName", "accountEnabled", "department", "otherMails")
PHONE_KINDS = ("mobile", "alternateMobile", "office")
MAX_PAGES = 20
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
_TRUNK_ZERO = re.compile(r"(?<=\d)\s*\(0\)")
"""The national trunk prefix written after a country code, as in ``+44 (0)20 7946 0018``: not dialled."""
_PASSWORD_SYMBOLS = "!#$%&*+-=?@^_"
SECURITY_INFO_ACTIVITIES = frozenset(
    {
        "User registered security info",
        "User registered all required security info",
        "User changed default security info",
        "User updated security info",
        "User deleted security info",
        "Admin registered security info",
        "Admin updated security info",
        "Admin deleted security info",
    }
)
"""The "Authentication Methods" audit activities (category ``UserManagement``) that add, change or remove a
user's security info. Starting, cancelling or reviewing a registration changes nothing and is left out."""
AUDIT_SELECT = ("activityDateTime", "activityDisplayName", "result", "initiatedBy", "loggedByService")
_LICENCE_HINT = re.compile(r"licen[cs]|premium|NonPremiumTenant", re.IGNORECASE)

GLOBAL_GRAPH = "https://graph.microsoft.com"
GRAPH_HOSTS = frozenset(
    {"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn"}
)
"""Microsoft Graph's hosts in the global and national clouds (each is also its token resource)."""
GRAPH_BY_LOGIN_HOST = {
    "login.microsoftonline.com": GLOBAL_GRAPH,
    "login.microsoft.com": GLOBAL_GRAPH,
    "login.windows.net": GLOBAL_GRAPH,
    "login.microsoftonline.us": "https://graph.microsoft.us",
    "login.chinacloudapi.cn": "https://microsoftgraph.chinacloudapi.cn",
    "login.partner.microsoftonline.cn": "https://microsoftgraph.chinacloudapi.cn",
}
"""The Graph resource of each cloud's sign-in host (US Gov DoD shares its sign-in host with US Gov: its
``dod-graph.microsoft.us`` comes from ``graph_url``)."""

T = TypeVar("T")


def graph_scope(config: EntraConfig) -> str:
    """The scope msal asks for: ``entra.graph_scope``, else the Graph resource of the configured cloud."""
    if config.graph_scope:
        return config.graph_scope
    graph_host = (urlsplit(config.graph_url).hostname or "").lower()
    if graph_host in GRAPH_HOSTS:
        return f"https://{graph_host}/.default"
    login_host = (urlsplit(config.authority_url).hostname or "").lower()
    return f"{GRAPH_BY_LOGIN_HOST.get(login_host, GLOBAL_GRAPH)}/.default"


def normalize_e164(raw: str) -> str | None:
    """``"+1 (206) 555-5555"`` → ``"+12065555555"``; ``None`` for anything that is not E.164 after that.

    Strips spaces, dashes, dots and parentheses, and a ``(0)`` trunk prefix after the country code.
    """
    candidate = _PHONE_PUNCTUATION.sub("", _TRUNK_ZERO.sub("", raw or ""))
    return candidate if _E164.fullmatch(candidate) else None


def generate_password(length: int = 20) -> str:
    """A random password with upper, lower, digit and symbol (Entra's complexity rule), from ``secrets``."""
    classes = (string.ascii_uppercase, string.ascii_lowercase, string.digits, _PASSWORD_SYMBOLS)
    alphabet = "".join(classes)
    chars = [secrets.choice(c) for c in classes] + [
        secrets.choice(alphabet) for _ in range(length - len(classes))
    ]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _graph_message(resp: HttpResponse) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text()[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('code', '')}: {str(error.get('message', ''))[:200]}"
    return ""


async def _all(*calls: Awaitable[T]) -> list[T]:
    """Run concurrently, wait for all, then raise the first failure (no orphaned requests)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)  # type: ignore[arg-type]


class GraphDirectory:
    """The live :class:`~ticketpilot.adapters.base.Directory`."""

    def __init__(
        self,
        config: EntraConfig,
        *,
        http_timeout_s: float = 15.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        msal_http_client: Any = None,
        ca_bundle: str = "",
    ) -> None:
        self._config = config
        self._graph = config.graph_url.rstrip("/")
        self._scope = graph_scope(config)
        self._http = HttpClient(ADAPTER, http_timeout_s, retry or RetryPolicy(), sleep, ca_bundle=ca_bundle)
        # msal (requests) honours HTTPS_PROXY/NO_PROXY itself; the CA bundle needs a session of our own.
        if msal_http_client is None and ca_bundle:
            msal_http_client = requests_session(ca_bundle)
        self._msal_http_client = msal_http_client
        self._app: Any = None
        self._app_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GraphDirectory(graph_url={self._graph!r}, tenant_id={self._config.tenant_id!r})"

    async def aclose(self) -> None:
        await self._http.aclose()
        with self._app_lock:
            app, self._app = self._app, None
        if app is not None:  # msal's requests session keeps its connections (and a proxy tunnel) open
            await asyncio.to_thread(app.http_client.close)

    # --- token (msal, in a thread) -----------------------------------------------------------------

    def _credential(self) -> Any:
        secret = self._config.client_secret.get_secret_value()
        if secret:
            return secret
        path = Path(self._config.certificate_path)
        if path.suffix.lower() in (".pfx", ".p12"):
            return {"private_key_pfx_path": str(path)}
        pem = path.read_text("utf-8")
        thumbprint = self._config.certificate_thumbprint
        if not thumbprint:
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes

            thumbprint = x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA1()).hex()
        return {"private_key": pem, "thumbprint": thumbprint}

    def _msal_app(self) -> Any:
        with self._app_lock:
            if self._app is None:
                import msal
                from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

                authority = f"{self._config.authority_url.rstrip('/')}/{self._config.tenant_id}"
                known = urlsplit(authority).hostname in WELL_KNOWN_AUTHORITY_HOSTS
                self._app = msal.ConfidentialClientApplication(
                    self._config.client_id,
                    client_credential=self._credential(),
                    authority=authority,
                    instance_discovery=None if known else False,
                    http_client=self._msal_http_client,
                )
            return self._app

    def _acquire_token_sync(self) -> str:
        try:
            result = self._msal_app().acquire_token_for_client(scopes=[self._scope])
        except Exception as exc:  # msal raises requests/ValueError on network or discovery failures
            raise AdapterError(
                ADAPTER, f"token request failed ({type(exc).__name__})", retryable=True
            ) from None
        if not isinstance(result, dict) or "access_token" not in result:
            error = result.get("error", "unknown") if isinstance(result, dict) else "unknown"
            codes = result.get("error_codes", []) if isinstance(result, dict) else []
            transient = error in ("temporarily_unavailable", "server_error")
            raise AdapterError(
                ADAPTER,
                f"token request refused: {error} {codes or ''} — "
                "check entra.tenant_id/client_id and the credential",
                retryable=transient,
            )
        return str(result["access_token"])

    async def _token(self) -> str:
        return await asyncio.to_thread(self._acquire_token_sync)

    async def app_roles(self) -> frozenset[str]:
        """The application permissions granted to the app: the ``roles`` claim of a Graph token (decoded
        without a signature check: for a preflight report only, never for a decision)."""
        token = await self._token()
        try:
            payload = token.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError):
            raise AdapterError(
                ADAPTER, "the Graph token is not a JWT: its roles cannot be read", retryable=False
            ) from None
        roles = claims.get("roles") if isinstance(claims, dict) else None
        return frozenset(str(r) for r in roles) if isinstance(roles, list) else frozenset()

    # --- Graph calls -------------------------------------------------------------------------------

    async def _call(self, method: str, path: str, *, what: str, **kwargs: Any) -> HttpResponse:
        token = await self._token()
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        url = path if path.startswith("https://") or path.startswith("http://") else f"{self._graph}{path}"
        resp = await self._http.send(method, url, what=what, headers=headers, **kwargs)
        if not resp.ok:
            raise status_error(ADAPTER, what, resp, _graph_message(resp) + self._hint(resp.status, what))
        return resp

    async def call(self, method: str, path: str, *, what: str, **kwargs: Any) -> HttpResponse:
        """One Graph request with this directory's token and retries (for :mod:`.graph_mail`)."""
        return await self._call(method, path, what=what, **kwargs)

    def _hint(self, status: int, what: str) -> str:
        if status == 401:
            return " (token rejected: check the app registration and tenant)"
        if status != 403:
            return ""
        if "temporaryAccessPass" in what:
            return (
                " (needs UserAuthenticationMethod.ReadWrite.All; admins need Privileged Authentication Admin)"
            )
        if "password" in what:
            return " (needs User-PasswordProfile.ReadWrite.All and the User Administrator role)"
        if "sendMail" in what:
            return " (needs Mail.Send, and an application access policy that includes the service mailbox)"
        return " (check the app's Graph application permissions)"

    async def _get(self, path: str, *, what: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        body = (await self._call("GET", path, what=what, params=params)).json()
        if not isinstance(body, dict):
            raise AdapterError(ADAPTER, f"{what}: unexpected response shape", retryable=False)
        return body

    async def _get_all(
        self, path: str, *, what: str, params: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        body = await self._get(path, what=what, params=params)
        for _ in range(MAX_PAGES):
            rows.extend(r for r in body.get("value", []) if isinstance(r, dict))
            next_link = str(body.get("@odata.nextLink") or "")
            if not next_link:
                return rows
            if not next_link.startswith(self._graph + "/"):
                raise AdapterError(ADAPTER, f"{what}: nextLink leaves the Graph base URL", retryable=False)
            body = await self._get(next_link, what=what)
        raise AdapterError(ADAPTER, f"{what}: more than {MAX_PAGES} pages", retryable=False)

    # --- Directory ---------------------------------------------------------------------------------

    async def resolve_user(self, *, azure_oid: str = "", email: str = "") -> DirectoryUser:
        """By object id when given (absent → :class:`NotFound`), else exactly one user by mail or UPN."""
        if azure_oid:
            return await self.get_user(azure_oid)
        if not email:
            raise NotFound(ADAPTER, "no object id or email to resolve")
        literal = email.replace("'", "''")
        body = await self._get(
            "/users",
            what="GET /users?$filter=mail/userPrincipalName",
            params={
                "$filter": f"mail eq '{literal}' or userPrincipalName eq '{literal}'",
                "$select": "id",
                "$top": "2",
            },
        )
        matches = [r for r in body.get("value", []) if isinstance(r, dict)]
        if not matches:
            raise NotFound(ADAPTER, "no user has this mail or userPrincipalName")
        if len(matches) > 1:
            raise AmbiguousUser(ADAPTER, "more than one user has this mail or userPrincipalName")
        return await self.get_user(str(matches[0]["id"]))

    async def get_user(self, user_id: str) -> DirectoryUser:
        """The user with manager id, MFA phone methods (E.164) and transitive group ids."""
        uid = quote(user_id, safe="")
        raw, manager_id, phones, group_ids = await _all(
            self._get(f"/users/{uid}", what="GET /users/{id}", params={"$select": ",".join(USER_SELECT)}),
            self._manager_id(uid),
            self._phones(uid),
            self._group_ids(uid),
        )
        assert isinstance(raw, dict)
        return DirectoryUser(
            id=str(raw["id"]),
            user_principal_name=str(raw.get("userPrincipalName") or ""),
            mail=str(raw.get("mail") or ""),
            display_name=str(raw.get("displayName") or ""),
            account_enabled=bool(raw.get("accountEnabled", False)),
            department=str(raw.get("department") or ""),
            manager_id=manager_id if isinstance(manager_id, str) else None,
            phones=tuple(phones) if isinstance(phones, list) else (),
            group_ids=tuple(group_ids) if isinstance(group_ids, list) else (),
            other_mails=_addresses(raw.get("otherMails")),
        )

    async def _manager_id(self, uid: str) -> str | None:
        try:
            body = await self._get(
                f"/users/{uid}/manager", what="GET /users/{id}/manager", params={"$select": "id"}
            )
        except NotFound:
            return None
        if body.get("@odata.type", "#microsoft.graph.user") != "#microsoft.graph.user":
            return None  # an organisational contact cannot approve in Teams
        return str(body["id"]) if body.get("id") else None

    async def _phones(self, uid: str) -> list[PhoneMethod]:
        rows = await self._get_all(
            f"/users/{uid}/authentication/phoneMethods", what="GET /users/{id}/authentication/phoneMethods"
        )
        phones: list[PhoneMethod] = []
        for row in rows:
            number = normalize_e164(str(row.get("phoneNumber") or ""))
            kind = row.get("phoneType")
            if number is None or kind not in PHONE_KINDS:
                log.warning(
                    "entra_phone_ignored", phone=mask_phone(str(row.get("phoneNumber") or "")), kind=kind
                )
                continue
            phones.append(PhoneMethod(number=number, kind=kind))
        return phones

    async def _group_ids(self, uid: str) -> list[str]:
        rows = await self._get_all(
            f"/users/{uid}/transitiveMemberOf/microsoft.graph.group",
            what="GET /users/{id}/transitiveMemberOf/microsoft.graph.group",
            params={"$select": "id"},
        )
        return [str(r["id"]) for r in rows if r.get("id")]

    async def get_manager(self, user_id: str) -> DirectoryUser | None:
        manager_id = await self._manager_id(quote(user_id, safe=""))
        return await self.get_user(manager_id) if manager_id else None

    async def check_privileged(self, user_id: str) -> PrivilegeCheck:
        """Direct and PIM-eligible role assignments, roles held through groups, and role-assignable groups.

        Any failure raises: the caller must then treat the user as privileged.
        """
        direct, eligible, member_of = await _all(
            self._role_rows("roleAssignments", user_id),
            self._role_rows("roleEligibilityScheduleInstances", user_id),
            self._get_all(
                f"/users/{quote(user_id, safe='')}/transitiveMemberOf",
                what="GET /users/{id}/transitiveMemberOf",
            ),
        )
        reasons = [f"direct:{_role_name(r)}" for r in direct] + [
            f"eligible:{_role_name(r)}" for r in eligible
        ]
        explained = {str(r.get("roleDefinitionId")) for r in direct}
        for group in (o for o in member_of if _is(o, "group") and o.get("isAssignableToRole")):
            name = str(group.get("displayName") or group.get("id"))
            g_active, g_eligible = await _all(
                self._role_rows("roleAssignments", str(group["id"])),
                self._role_rows("roleEligibilityScheduleInstances", str(group["id"])),
            )
            reasons += [f"group:{_role_name(r)} via {name}" for r in g_active]
            reasons += [f"eligible:{_role_name(r)} via {name}" for r in g_eligible]
            explained |= {str(r.get("roleDefinitionId")) for r in g_active}
        # A directory role the user holds that no assignment above explains (e.g. through a nested group).
        for role in (o for o in member_of if _is(o, "directoryRole")):
            if str(role.get("roleTemplateId")) not in explained:
                reasons.append(f"group:{role.get('displayName') or role.get('roleTemplateId')}")
        unique = tuple(dict.fromkeys(reasons))
        return PrivilegeCheck(privileged=bool(unique), roles=unique)

    async def get_user_risk(self, user_id: str) -> UserRisk:
        """``GET /identityProtection/riskyUsers/{id}`` (Entra ID P2, ``IdentityRiskyUser.Read.All``).

        Graph answers 404 for a user who was never at risk. A 403 (no licence, no permission) raises
        :class:`IdentitySignalUnavailable`; 429/5xx stay retryable :class:`AdapterError`s.
        """
        what = "GET /identityProtection/riskyUsers/{id}"
        try:
            body = await self._signal_get(f"/identityProtection/riskyUsers/{quote(user_id, safe='')}", what)
        except NotFound:
            return UserRisk()
        return UserRisk(
            risk_state=str(body.get("riskState") or "none"),
            risk_level=str(body.get("riskLevel") or "none"),
            risk_detail=str(body.get("riskDetail") or ""),
            last_updated=_parse_time(body.get("riskLastUpdatedDateTime")),
        )

    async def list_security_info_changes(
        self, user_id: str, *, since: datetime
    ) -> tuple[SecurityInfoChange, ...]:
        """Security info added, changed or removed for the user since ``since``, from the directory audit log.

        ``GET /auditLogs/directoryAudits`` filtered to category ``UserManagement``, the user as a target
        resource and ``activityDateTime ge since`` (``AuditLog.Read.All``); the activities are matched
        here (:data:`SECURITY_INFO_ACTIVITIES`), and failed attempts are kept (fail safe).
        """
        literal = user_id.replace("'", "''")
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        what = "GET /auditLogs/directoryAudits"
        params = {
            "$filter": (
                f"activityDateTime ge {stamp} and category eq 'UserManagement'"
                f" and targetResources/any(t:t/id eq '{literal}')"
            ),
            "$select": ",".join(AUDIT_SELECT),
        }
        try:
            rows = await self._get_all("/auditLogs/directoryAudits", what=what, params=params)
        except AdapterError as exc:
            raise _unavailable(exc, what) from None
        changes = []
        for row in rows:
            activity = str(row.get("activityDisplayName") or "")
            at = _parse_time(row.get("activityDateTime"))
            if activity not in SECURITY_INFO_ACTIVITIES or at is None or at < since:
                continue
            changes.append(SecurityInfoChange(activity=activity, at=at, initiated_by=_initiator(row)))
        return tuple(sorted(changes, key=lambda c: c.at, reverse=True))

    async def _signal_get(self, path: str, what: str) -> dict[str, Any]:
        try:
            return await self._get(path, what=what)
        except NotFound:
            raise
        except AdapterError as exc:
            raise _unavailable(exc, what) from None

    async def _role_rows(self, collection: str, principal_id: str) -> list[dict[str, Any]]:
        literal = principal_id.replace("'", "''")
        return await self._get_all(
            f"/roleManagement/directory/{collection}",
            what=f"GET /roleManagement/directory/{collection}",
            params={"$filter": f"principalId eq '{literal}'", "$expand": "roleDefinition"},
        )

    async def create_temporary_access_pass(
        self, user_id: str, *, lifetime_minutes: int, one_time: bool, idempotency_key: str
    ) -> TemporaryAccessPass:
        """Create a TAP (replaces a valid one); returns the secret, already registered for log scrubbing,
        with the id of its method (what :meth:`delete_temporary_access_pass` needs)."""
        resp = await self._call(
            "POST",
            f"/users/{quote(user_id, safe='')}/authentication/temporaryAccessPassMethods",
            what="POST temporaryAccessPassMethods",
            json={"lifetimeInMinutes": lifetime_minutes, "isUsableOnce": one_time},
            headers={"client-request-id": str(uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key))},
        )
        body = resp.json() if resp.body else None
        tap = body.get("temporaryAccessPass") if isinstance(body, dict) else None
        if not tap:
            raise AdapterError(ADAPTER, "TAP created but no temporaryAccessPass returned", retryable=False)
        register_secret(str(tap))
        method_id = str(body.get("id") or "") if isinstance(body, dict) else ""
        log.info(
            "entra_tap_created",
            user_id=user_id,
            method_id=method_id,
            lifetime_minutes=lifetime_minutes,
            one_time=one_time,
        )
        return TemporaryAccessPass(str(tap), method_id=method_id)

    async def delete_temporary_access_pass(self, user_id: str, method_id: str) -> bool:
        """DELETE the TAP method (204). A 404 means it is already gone (used, expired, replaced): False."""
        if not method_id:
            raise AdapterError(ADAPTER, "no TAP method id to delete", retryable=False)
        try:
            await self._call(
                "DELETE",
                f"/users/{quote(user_id, safe='')}/authentication/temporaryAccessPassMethods/"
                f"{quote(method_id, safe='')}",
                what="DELETE temporaryAccessPassMethods",
            )
        except NotFound:
            log.info("entra_tap_already_gone", user_id=user_id, method_id=method_id)
            return False
        log.info("entra_tap_deleted", user_id=user_id, method_id=method_id)
        return True

    async def reset_password(self, user_id: str, *, force_change: bool, idempotency_key: str) -> str:
        """PATCH ``passwordProfile`` with a generated password (app-only route, vendor-apis §2.4)."""
        password = generate_password()
        register_secret(password)
        await self._call(
            "PATCH",
            f"/users/{quote(user_id, safe='')}",
            what="PATCH /users/{id} passwordProfile",
            json={"passwordProfile": {"password": password, "forceChangePasswordNextSignIn": force_change}},
            headers={"client-request-id": str(uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key))},
        )
        log.info("entra_password_reset", user_id=user_id, force_change=force_change)
        return password


def _unavailable(exc: AdapterError, what: str) -> AdapterError:
    """A 403 — or a 401 that names the licence — as :class:`IdentitySignalUnavailable`; others unchanged."""
    if exc.status == 403 or (exc.status == 401 and _LICENCE_HINT.search(exc.message)):
        licence = bool(_LICENCE_HINT.search(exc.message))
        problem = (
            "the tenant has no licence for it (Microsoft Entra ID P2 for risk, P1 for audit logs)"
            if licence
            else "permission denied (needs IdentityRiskyUser.Read.All and AuditLog.Read.All)"
        )
        return IdentitySignalUnavailable(
            ADAPTER, f"{what}: {problem} — {exc.message[:200]}", reason="licence" if licence else "permission"
        )
    return exc


def _addresses(value: Any) -> tuple[str, ...]:
    """``otherMails`` as given (a list of strings); anything that is not an address is left out."""
    if not isinstance(value, list):
        return ()
    return tuple(
        v.strip() for v in value if isinstance(v, str) and v.count("@") == 1 and " " not in v.strip()
    )


def _parse_time(value: Any) -> datetime | None:
    """Graph's ``2026-12-01T10:00:00.1234567Z`` (7 fractional digits) → an aware datetime; None if absent."""
    if not isinstance(value, str) or not value:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _initiator(row: dict[str, Any]) -> str:
    initiated = row.get("initiatedBy")
    if not isinstance(initiated, dict):
        return ""
    for kind, key in (("user", "userPrincipalName"), ("app", "displayName")):
        actor = initiated.get(kind)
        if isinstance(actor, dict) and actor.get(key):
            return str(actor[key])
    return ""


def _role_name(row: dict[str, Any]) -> str:
    definition = row.get("roleDefinition")
    if isinstance(definition, dict) and definition.get("displayName"):
        return str(definition["displayName"])
    return str(row.get("roleDefinitionId") or "unknown role")


def _is(obj: dict[str, Any], kind: str) -> bool:
    return obj.get("@odata.type") == f"#microsoft.graph.{kind}"
