"""A Microsoft Graph + Entra token fake, with users, managers, phone methods, groups and directory roles.

msal refuses any ``http://`` authority (vendor-apis §7), so the identity endpoints are served over HTTPS
with a self-signed certificate made by ``openssl`` at start; point ``REQUESTS_CA_BUNDLE`` at ``ca_file``.
Graph itself is served on both listeners: ``graph_url`` (plain HTTP, what aiohttp clients use without a
custom CA) and ``graph_url_tls``. Every Graph request is checked against the v1.0 CSDL when it is present
(URL navigation, ``$select``/``$filter``/``$expand`` names, body keys), and every object the fake
returns is recorded in ``emitted`` with its Graph type, so a test can check the fake's own shapes too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import shutil
import ssl
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from fakes.server import FakeServer, RecordedRequest
from fakes.specs import GraphCsdl, graph_csdl

ROLE_TEMPLATE_IDS = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Helpdesk Administrator": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
}


def role_id(name: str) -> str:
    return ROLE_TEMPLATE_IDS.get(name) or str(uuid.uuid5(uuid.NAMESPACE_OID, name))


APPLICATION_PERMISSIONS = frozenset(
    {
        "User.Read.All",
        "GroupMember.Read.All",
        "UserAuthenticationMethod.Read.All",
        "UserAuthenticationMethod.ReadWrite.All",
        "User-PasswordProfile.ReadWrite.All",
        "RoleManagement.Read.Directory",
        "IdentityRiskyUser.Read.All",
        "AuditLog.Read.All",
        "Mail.Send",
    }
)
"""What a token's ``roles`` claim lists: every permission TicketPilot may need, less ``denied_permissions``."""
_READ_PERMISSIONS = (
    (re.compile(r"/users(/[^/]+)?"), "User.Read.All"),
    (re.compile(r"/users/[^/]+/transitiveMemberOf(/.*)?"), "GroupMember.Read.All"),
    (re.compile(r"/users/[^/]+/authentication/phoneMethods"), "UserAuthenticationMethod.Read.All"),
    (re.compile(r"/roleManagement/directory/.*"), "RoleManagement.Read.Directory"),
)
"""GET paths answered 403 when their permission is in ``denied_permissions`` (the others check their own)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (EC P-256, one day), made with ``openssl``."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class FakeUser:
    id: str
    upn: str
    mail: str = ""
    display_name: str = ""
    account_enabled: bool = True
    department: str = ""
    manager_id: str | None = None
    phones: list[tuple[str, str]] = field(default_factory=list)
    """(phoneNumber as Graph shows it, phoneType)."""
    groups: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    """Directly assigned (active) directory role names."""
    eligible_roles: list[str] = field(default_factory=list)
    password: str | None = None
    force_change: bool | None = None
    taps: list[dict[str, Any]] = field(default_factory=list)
    risk_state: str | None = None
    """Identity Protection's ``riskState``; None: never at risk (``riskyUsers/{id}`` answers 404)."""
    risk_level: str = "none"
    other_mails: list[str] = field(default_factory=list)
    """Graph ``otherMails``: alternate addresses on record."""
    mailbox: bool = False
    """Has an Exchange Online mailbox (may send with ``sendMail``)."""


@dataclass
class FakeGroup:
    id: str
    display_name: str
    role_assignable: bool = False
    roles: list[str] = field(default_factory=list)
    eligible_roles: list[str] = field(default_factory=list)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, "innerError": {}}}, status=status)


class GraphFake(FakeServer):
    """Knobs: ``users``/``groups`` (add with :meth:`add_user`/:meth:`add_group`), ``page_size`` (forces
    ``@odata.nextLink`` paging), ``client_secret``, plus :meth:`FakeServer.fail_next`."""

    name = "graph"

    def __init__(
        self,
        *,
        tenant_id: str = "contoso-tenant",
        client_id: str = "graph-app",
        client_secret: str = "graph-secret",
        csdl: GraphCsdl | bool | None = True,
    ) -> None:
        super().__init__()
        self._tmp: Path | None = None
        self.ca_file = Path()
        """The self-signed certificate of the HTTPS listener (set by :meth:`start`)."""
        self.csdl = graph_csdl() if csdl is True else (csdl or None)
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.users: dict[str, FakeUser] = {}
        self.groups: dict[str, FakeGroup] = {}
        self.page_size = 100
        self.token_requests: list[dict[str, str]] = []
        self.issued_taps: list[str] = []
        """Every Temporary Access Pass value handed out, in order (a user's ``taps`` keeps only the last)."""
        self.sent_mail: list[dict[str, Any]] = []
        """Every ``sendMail`` accepted: ``{"from": upn, "message": {...}, "saveToSentItems": ...}``."""
        self.deleted_taps: list[tuple[str, str]] = []
        """``(user id, method id)`` of every TAP deleted (``DELETE …/temporaryAccessPassMethods/{id}``)."""
        self.emitted: list[tuple[str, dict[str, Any]]] = []
        self.audits: list[dict[str, Any]] = []
        """``directoryAudit`` rows (add with :meth:`add_audit`)."""
        self.identity_protection_licensed = True
        """False: ``riskyUsers`` answers 403 "not licensed" (no Entra ID P2)."""
        self.audit_log_licensed = True
        """False: ``directoryAudits`` answers 403 ``Authentication_RequestFromNonPremiumTenantOrB2CTenant``."""
        self.denied_permissions: set[str] = set()
        """Application permissions not granted: ``IdentityRiskyUser.Read.All``, ``AuditLog.Read.All``,
        ``Mail.Send``, ``UserAuthenticationMethod.ReadWrite.All``, and the reads of ``_READ_PERMISSIONS``.
        Tokens are JWT-shaped (unsigned) with the granted ones in their ``roles`` claim."""
        self._tokens: set[str] = set()
        self._seq = itertools.count(1)
        self.authority_url = ""
        self.graph_url = ""
        self.graph_url_tls = ""

    async def start(self) -> str:
        self._tmp = Path(tempfile.mkdtemp(prefix="tp-graph-fake-"))
        self.ca_file, key = await asyncio.to_thread(make_self_signed_cert, self._tmp)
        self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ssl.load_cert_chain(self.ca_file, key)
        tls_base = await super().start()
        assert self._runner is not None
        plain = web.TCPSite(self._runner, "127.0.0.1", 0)
        await plain.start()
        host, port = self._runner.addresses[-1][:2]
        self.authority_url = tls_base
        self.graph_url_tls = f"{tls_base}/v1.0"
        self.graph_url = f"http://{host}:{port}/v1.0"
        return self.graph_url

    async def stop(self) -> None:
        await super().stop()
        if self._tmp is not None:
            await asyncio.to_thread(shutil.rmtree, self._tmp, True)
            self._tmp = None

    # --- directory set-up --------------------------------------------------------------------------

    def add_user(self, upn: str, **fields: Any) -> FakeUser:
        user = FakeUser(id=fields.pop("id", str(uuid.uuid4())), upn=upn, **fields)
        self.users[user.id] = user
        return user

    def add_audit(
        self, target: FakeUser, activity: str, at: str, *, initiator: FakeUser | None = None
    ) -> dict[str, Any]:
        """A ``directoryAudit`` of the Authentication Methods service about ``target`` at ``at`` (ISO, Z)."""
        actor = initiator or target
        row: dict[str, Any] = {
            "id": f"Directory_{uuid.uuid4()}",
            "category": "UserManagement",
            "correlationId": str(uuid.uuid4()),
            "result": "success",
            "resultReason": "",
            "activityDisplayName": activity,
            "activityDateTime": at,
            "loggedByService": "Authentication Methods",
            "operationType": "Add",
            "initiatedBy": {
                "app": None,
                "user": {
                    "id": actor.id,
                    "displayName": actor.display_name or None,
                    "userPrincipalName": actor.upn,
                    "ipAddress": "203.0.113.7",
                },
            },
            "targetResources": [
                {
                    "id": target.id,
                    "displayName": target.display_name or None,
                    "type": "User",
                    "userPrincipalName": target.upn,
                    "modifiedProperties": [],
                }
            ],
            "additionalDetails": [],
        }
        self.audits.append(row)
        return row

    def add_group(self, display_name: str, **fields: Any) -> FakeGroup:
        group = FakeGroup(id=fields.pop("id", str(uuid.uuid4())), display_name=display_name, **fields)
        self.groups[group.id] = group
        return group

    # --- FakeServer hooks --------------------------------------------------------------------------

    def in_spec_scope(self, request: RecordedRequest) -> bool:
        return False  # the CSDL check happens in the Graph handler (it is not an OpenAPI document)

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_route("*", "/v1.0/{tail:.*}", self._graph)

    # --- identity ----------------------------------------------------------------------------------

    async def _discovery(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if tenant != self.tenant_id:
            return web.json_response({"error": "invalid_tenant"}, status=400)
        base = f"{self.authority_url}/{tenant}"
        return web.json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{base}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_requests.append(
            {k: v for k, v in form.items() if k not in ("client_secret", "client_assertion")}
        )
        credential_ok = form.get("client_secret") == self.client_secret or bool(form.get("client_assertion"))
        if form.get("client_id") != self.client_id or not credential_ok:
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                },
                status=401,
            )
        if not form.get("scope", "").endswith("/.default") or form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "invalid_scope", "error_codes": [1002012]}, status=400)
        claims = {
            "aud": form["scope"].removesuffix("/.default"),
            "tid": self.tenant_id,
            "appid": self.client_id,
            "idtyp": "app",
            "roles": sorted(APPLICATION_PERMISSIONS - self.denied_permissions),
            "uti": f"graph-at-{next(self._seq)}",
        }
        header = _b64url(json.dumps({"typ": "JWT", "alg": "RS256"}).encode())
        token = f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(b'fake-signature')}"
        self._tokens.add(token)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599, "access_token": token})

    # --- Graph -------------------------------------------------------------------------------------

    async def _graph(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") not in self._tokens:
            return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        raw = await request.read()
        body = json.loads(raw) if raw else None
        if self.csdl is not None:
            problems = self.csdl.request_problems(request.method, request.path, request.query, body)
            if problems:
                self.spec_errors.extend(problems)
                return _error(400, "BadRequest", "; ".join(problems))
        path = request.path.removeprefix("/v1.0").rstrip("/")
        method = request.method
        needed = next((p for rx, p in _READ_PERMISSIONS if method == "GET" and rx.fullmatch(path)), None)
        if needed in self.denied_permissions:
            return _error(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        if path == "/identityProtection/riskyUsers" and method == "GET":
            return self._risky_users(request)
        if path == "/users" and method == "GET":
            return self._find_users(request)
        if path == "/auditLogs/directoryAudits" and method == "GET":
            return self._directory_audits(request)
        if m := re.fullmatch(r"/identityProtection/riskyUsers/([^/]+)", path):
            return self._risky_user(m.group(1)) if method == "GET" else _error(405, "BadRequest", "")
        if m := re.fullmatch(
            r"/roleManagement/directory/(roleAssignments|roleEligibilityScheduleInstances)", path
        ):
            return self._role_rows(request, m.group(1))
        m = re.fullmatch(r"/users/([^/]+)(/.*)?", path)
        if not m:
            return _error(400, "BadRequest", f"Resource not found for the segment '{path}'.")
        user = self._user(m.group(1))
        if user is None:
            return _error(404, "Request_ResourceNotFound", f"Resource '{m.group(1)}' does not exist.")
        rest = m.group(2) or ""
        if rest == "" and method == "GET":
            return self._json("user", self._user_json(user, request.query.get("$select")))
        if rest == "" and method == "PATCH":
            profile = (body or {}).get("passwordProfile") or {}
            user.password = profile.get("password")
            user.force_change = profile.get("forceChangePasswordNextSignIn")
            return web.Response(status=204)
        if rest == "/sendMail":
            return self._send_mail(user, body) if method == "POST" else _error(405, "BadRequest", "")
        if rest == "/manager" and method == "GET":
            manager = self.users.get(user.manager_id or "")
            if manager is None:
                return _error(404, "Request_ResourceNotFound", "Resource 'manager' does not exist.")
            return self._json(
                "user", {"@odata.type": "#microsoft.graph.user", **self._user_json(manager, "id")}
            )
        if rest == "/authentication/phoneMethods" and method == "GET":
            rows = [
                {
                    "id": f"phone-{i}",
                    "phoneNumber": number,
                    "phoneType": kind,
                    "smsSignInState": "notAllowedByPolicy",
                }
                for i, (number, kind) in enumerate(user.phones)
            ]
            return self._page(request, "phoneAuthenticationMethod", rows)
        if rest == "/authentication/temporaryAccessPassMethods" and method == "POST":
            return self._create_tap(user, body or {})
        if m := re.fullmatch(r"/authentication/temporaryAccessPassMethods/([^/]+)", rest):
            return self._delete_tap(user, m.group(1)) if method == "DELETE" else _error(405, "BadRequest", "")
        if rest == "/transitiveMemberOf/microsoft.graph.group" and method == "GET":
            rows = [{"id": g.id} for g in self._groups_of(user)]
            return self._page(request, "group", rows)
        if rest == "/transitiveMemberOf" and method == "GET":
            return self._page(request, "directoryObject", self._member_of(user))
        return _error(400, "BadRequest", f"Unsupported request {method} {path}")

    def _user(self, key: str) -> FakeUser | None:
        return self.users.get(key) or next(
            (u for u in self.users.values() if u.upn.lower() == key.lower()), None
        )

    def _user_json(self, user: FakeUser, select: str | None) -> dict[str, Any]:
        full = {
            "id": user.id,
            "userPrincipalName": user.upn,
            "mail": user.mail or None,
            "displayName": user.display_name,
            "accountEnabled": user.account_enabled,
            "department": user.department or None,
            "otherMails": list(user.other_mails),
        }
        if not select:
            return {k: full[k] for k in ("id", "userPrincipalName", "mail", "displayName")}
        return {k: full.get(k) for k in select.split(",")}

    def _find_users(self, request: web.Request) -> web.Response:
        wanted = re.findall(r"(mail|userPrincipalName) eq '((?:[^']|'')*)'", request.query.get("$filter", ""))
        values = {v.replace("''", "'").lower() for _, v in wanted}
        rows = [
            self._user_json(u, request.query.get("$select"))
            for u in self.users.values()
            if "$filter" not in request.query
            or u.upn.lower() in values
            or (u.mail and u.mail.lower() in values)
        ]
        top = int(request.query.get("$top", "100"))
        return self._page(request, "user", rows[:top])

    def _risky_user(self, user_id: str) -> web.Response:
        if "IdentityRiskyUser.Read.All" in self.denied_permissions:
            return _error(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        if not self.identity_protection_licensed:
            return _error(403, "Forbidden", "Your tenant is not licensed for this feature.")
        user = self.users.get(user_id)
        if user is None or user.risk_state is None:
            return _error(404, "ResourceNotFound", f"Resource '{user_id}' does not exist.")
        return self._json(
            "riskyUser",
            {
                "id": user.id,
                "isDeleted": False,
                "isProcessing": False,
                "riskLastUpdatedDateTime": "2026-12-04T09:30:12.1234567Z",
                "riskLevel": user.risk_level,
                "riskState": user.risk_state,
                "riskDetail": "none",
                "userDisplayName": user.display_name,
                "userPrincipalName": user.upn,
            },
        )

    def _risky_users(self, request: web.Request) -> web.Response:
        """``GET /identityProtection/riskyUsers`` (``$top``): the users ever at risk."""
        if "IdentityRiskyUser.Read.All" in self.denied_permissions:
            return _error(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        if not self.identity_protection_licensed:
            return _error(403, "Forbidden", "Your tenant is not licensed for this feature.")
        rows = [
            {"id": u.id, "riskLevel": u.risk_level, "riskState": u.risk_state, "userPrincipalName": u.upn}
            for u in self.users.values()
            if u.risk_state is not None
        ]
        return self._page(request, "riskyUser", rows[: int(request.query.get("$top", "100"))])

    def _directory_audits(self, request: web.Request) -> web.Response:
        if "AuditLog.Read.All" in self.denied_permissions:
            return _error(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        if not self.audit_log_licensed:
            return _error(
                403,
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                "Neither tenant is B2C or tenant doesn't have premium license",
            )
        query = request.query.get("$filter", "")
        since = re.search(r"activityDateTime ge (\S+)", query)
        target = re.search(r"targetResources/any\(t:t/id eq '((?:[^']|'')*)'\)", query)
        category = re.search(r"category eq '([^']*)'", query)
        rows = [
            row
            for row in self.audits
            if (since is None or row["activityDateTime"] >= since.group(1))
            and (target is None or any(t["id"] == target.group(1) for t in row["targetResources"]))
            and (category is None or row["category"] == category.group(1))
        ]
        rows.sort(key=lambda r: r["activityDateTime"], reverse=True)
        select = request.query.get("$select")
        if select:
            rows = [{k: r.get(k) for k in ["id", *select.split(",")]} for r in rows]
        return self._page(request, "directoryAudit", rows)

    def _groups_of(self, user: FakeUser) -> list[FakeGroup]:
        return [self.groups[g] for g in user.groups if g in self.groups]

    def _member_of(self, user: FakeUser) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = [
            {
                "@odata.type": "#microsoft.graph.group",
                "id": g.id,
                "displayName": g.display_name,
                "isAssignableToRole": g.role_assignable,
            }
            for g in self._groups_of(user)
        ]
        held = list(user.roles) + [r for g in self._groups_of(user) for r in g.roles]
        for name in dict.fromkeys(held):
            rows.append(
                {
                    "@odata.type": "#microsoft.graph.directoryRole",
                    "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
                    "displayName": name,
                    "roleTemplateId": role_id(name),
                }
            )
        return rows

    def _role_rows(self, request: web.Request, collection: str) -> web.Response:
        m = re.fullmatch(r"principalId eq '([^']*)'", request.query.get("$filter", ""))
        if not m:
            return _error(400, "BadRequest", "Invalid filter clause")
        principal = m.group(1)
        user = self.users.get(principal)
        group = self.groups.get(principal)
        eligible = collection == "roleEligibilityScheduleInstances"
        names = (
            (user.eligible_roles if eligible else user.roles)
            if user
            else (group.eligible_roles if eligible else group.roles)
            if group
            else []
        )
        expand = request.query.get("$expand") == "roleDefinition"
        rows = []
        for name in names:
            row: dict[str, Any] = {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{collection}/{principal}/{name}")),
                "principalId": principal,
                "roleDefinitionId": role_id(name),
                "directoryScopeId": "/",
            }
            if eligible:
                row |= {"memberType": "Direct", "startDateTime": "2026-01-01T00:00:00Z", "endDateTime": None}
            if expand:
                row["roleDefinition"] = {"id": role_id(name), "displayName": name, "isBuiltIn": True}
            rows.append(row)
        kind = "unifiedRoleEligibilityScheduleInstance" if eligible else "unifiedRoleAssignment"
        return self._page(request, kind, rows)

    def _create_tap(self, user: FakeUser, body: dict[str, Any]) -> web.Response:
        lifetime = int(body.get("lifetimeInMinutes", 60))
        if not 10 <= lifetime <= 43200:
            return _error(400, "invalidLifetime", "lifetimeInMinutes must be between 10 and 43200.")
        tap = {
            "id": str(uuid.uuid4()),
            "temporaryAccessPass": f"TAP-{uuid.uuid4().hex[:8]}",
            "createdDateTime": "2026-09-25T12:00:00Z",
            "startDateTime": "2026-09-25T12:00:00Z",
            "lifetimeInMinutes": lifetime,
            "isUsableOnce": bool(body.get("isUsableOnce", False)),
            "isUsable": True,
            "methodUsabilityReason": "EnabledByPolicy",
        }
        user.taps = [tap]  # a new TAP replaces a valid one
        self.issued_taps.append(str(tap["temporaryAccessPass"]))
        return self._json("temporaryAccessPassAuthenticationMethod", tap, status=201)

    def _send_mail(self, user: FakeUser, body: Any) -> web.Response:
        """202 for a message with at least one recipient, sent from a user with a mailbox."""
        if "Mail.Send" in self.denied_permissions:
            return _error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        if not user.mailbox:
            return _error(
                404,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
        message = (body or {}).get("message") if isinstance(body, dict) else None
        recipients = message.get("toRecipients") if isinstance(message, dict) else None
        if not recipients:
            return _error(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        self.sent_mail.append({"from": user.upn, **(body or {})})
        return web.Response(status=202)

    def _delete_tap(self, user: FakeUser, method_id: str) -> web.Response:
        """204 when the user's TAP has that method id; 404 when it is gone (used, expired or replaced)."""
        if "UserAuthenticationMethod.ReadWrite.All" in self.denied_permissions:
            return _error(
                403, "accessDenied", "Request Authorization failed: insufficient privileges to delete."
            )
        if not any(tap["id"] == method_id for tap in user.taps):
            return _error(404, "itemNotFound", f"Authentication method '{method_id}' not found.")
        user.taps = [tap for tap in user.taps if tap["id"] != method_id]
        self.deleted_taps.append((user.id, method_id))
        return web.Response(status=204)

    def _json(self, kind: str, obj: dict[str, Any], status: int = 200) -> web.Response:
        self.emitted.append((kind, obj))
        return web.json_response(obj, status=status)

    def _page(self, request: web.Request, kind: str, rows: list[dict[str, Any]]) -> web.Response:
        offset = int(request.query.get("$skiptoken", "0"))
        chunk = rows[offset : offset + self.page_size]
        for row in chunk:
            odata = str(row.get("@odata.type", ""))
            self.emitted.append((odata.removeprefix("#microsoft.graph.") or kind, row))
        body: dict[str, Any] = {"@odata.context": f"{self.graph_url}/$metadata", "value": chunk}
        if offset + self.page_size < len(rows):
            query = {k: v for k, v in request.query.items() if k != "$skiptoken"} | {
                "$skiptoken": str(offset + self.page_size)
            }
            body["@odata.nextLink"] = (
                f"{self.graph_url}{request.path.removeprefix('/v1.0')}?{urlencode(query)}"
            )
        return web.json_response(body)


@contextlib.asynccontextmanager
async def trusted_graph(monkeypatch: Any, **kwargs: Any) -> AsyncIterator[GraphFake]:
    """A started :class:`GraphFake` that msal trusts (its ``verify=`` loses to ``REQUESTS_CA_BUNDLE`` and
    ``CURL_CA_BUNDLE``, so the variables point at the fake's certificate); stopped on exit, and every request
    it saw must have matched the Graph CSDL."""
    fake = GraphFake(**kwargs)
    await fake.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.ca_file))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    try:
        yield fake
    finally:
        await fake.stop()
    assert fake.spec_errors == []
