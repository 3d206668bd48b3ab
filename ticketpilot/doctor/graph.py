"""Microsoft Graph: the app-only token (``[entra] graph_scope``) and each application permission the enabled
features need: one read per read permission, the token's ``roles`` claim for the write permissions."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.entra import GraphDirectory, graph_scope
from ticketpilot.adapters.http_retry import RetryPolicy
from ticketpilot.config import Settings
from ticketpilot.doctor.report import Check, CheckFailed
from ticketpilot.doctor.timebox import timed
from ticketpilot.playbooks.loader import LoadedPlaybook

TOKEN_FIX = (
    "check entra.tenant_id, client_id and client_secret (or certificate_path) of the app registration; "
    "a client secret may have expired"
)
SCOPE_FIX = "check entra.graph_scope: the Graph resource of your cloud followed by /.default"
_LICENCE = re.compile(r"licen[cs]|premium|NonPremiumTenant", re.IGNORECASE)
IDENTITY_SIGNALS = ("IdentityRiskyUser.Read.All", "AuditLog.Read.All")


def grant(permission: str) -> str:
    return f"grant {permission} (application) to the app registration and admin-consent"


@dataclass(frozen=True)
class WritePermission:
    name: str
    why: str
    alternatives: tuple[str, ...] = ()


def write_permissions(settings: Settings, playbooks: Sequence[LoadedPlaybook]) -> list[WritePermission]:
    """The write permissions the enabled features need (these cannot be tried without changing something)."""
    methods = {
        str(step.params.get("method", "temporary_access_pass"))
        for lp in playbooks
        for step in lp.playbook.steps
        if step.service == "executor.reset_password"
    }
    needed: list[WritePermission] = []
    if "temporary_access_pass" in methods:
        needed.append(WritePermission("UserAuthenticationMethod.ReadWrite.All", "Temporary Access Passes"))
    if "password" in methods:
        needed.append(
            WritePermission("User-PasswordProfile.ReadWrite.All", "password resets", ("User.ReadWrite.All",))
        )
    if settings.entra.service_mailbox:
        needed.append(WritePermission("Mail.Send", f"e-mail from {settings.entra.service_mailbox}"))
    return needed


async def check(settings: Settings, playbooks: Sequence[LoadedPlaybook], timeout_s: float) -> list[Check]:
    directory = GraphDirectory(
        settings.entra,
        http_timeout_s=min(settings.adapters.http_timeout_s, timeout_s),
        retry=RetryPolicy(max_attempts=1),
        ca_bundle=settings.adapters.ca_bundle,
    )
    try:
        return await _checks(directory, settings, playbooks, timeout_s)
    finally:
        await directory.aclose()


async def _checks(
    directory: GraphDirectory, settings: Settings, playbooks: Sequence[LoadedPlaybook], timeout_s: float
) -> list[Check]:
    scope = graph_scope(settings.entra)
    roles: frozenset[str] = frozenset()

    async def token() -> str:
        nonlocal roles
        try:
            roles = await directory.app_roles()
        except AdapterError as exc:
            if "refused" in exc.message:
                fix = SCOPE_FIX if "invalid_scope" in exc.message else TOKEN_FIX
                raise CheckFailed(exc.message.split(" — ")[0], fix) from None
            raise
        return f"app-only token for {scope} ({len(roles)} application permission(s) in its roles)"

    first = await timed("graph token", token(), timeout_s)
    if not first.ok:
        return [first]
    sample_user = ""

    async def users() -> str:
        nonlocal sample_user
        body = await _read(directory, "/users", {"$top": "1", "$select": "id"}, "User.Read.All")
        rows = body.get("value") if isinstance(body, dict) else None
        if isinstance(rows, list) and rows and isinstance(rows[0], dict):
            sample_user = str(rows[0].get("id") or "")
        return "GET /users?$top=1 answered"

    user_check = await timed("graph User.Read.All", users(), timeout_s)
    uid = quote(sample_user, safe="")
    literal = sample_user.replace("'", "''")
    per_user: list[tuple[str, str, dict[str, str]]] = [
        ("GroupMember.Read.All", f"/users/{uid}/transitiveMemberOf/microsoft.graph.group", {"$top": "1", "$select": "id"}),
        ("UserAuthenticationMethod.Read.All", f"/users/{uid}/authentication/phoneMethods", {}),
        ("RoleManagement.Read.Directory", "/roleManagement/directory/roleAssignments", {"$filter": f"principalId eq '{literal}'", "$top": "1"}),
    ]  # fmt: skip
    reads: list[tuple[str, Callable[[], Awaitable[str]]]] = []
    for permission, path, params in per_user:
        reads.append((permission, _reader(directory, permission, path, params, roles, bool(sample_user))))
    for permission, path in (
        ("IdentityRiskyUser.Read.All", "/identityProtection/riskyUsers"),
        ("AuditLog.Read.All", "/auditLogs/directoryAudits"),
    ):
        reads.append((permission, _signal_reader(directory, permission, path, settings)))
    checks = await asyncio.gather(*(timed(f"graph {name}", read(), timeout_s) for name, read in reads))
    writes = [_write_check(need, roles) for need in write_permissions(settings, playbooks)]
    return [first, user_check, *checks, *writes]


async def _read(directory: GraphDirectory, path: str, params: dict[str, str], permission: str) -> object:
    try:
        return (await directory.call("GET", path, what=f"GET {path}", params=params)).json()
    except AdapterError as exc:
        raise _failure(exc, path, permission) from None


def _failure(exc: AdapterError, path: str, permission: str) -> CheckFailed:
    where = "GET " + re.sub(r"/users/[^/]+", "/users/{id}", path)
    if exc.status == 403:
        return CheckFailed(f"{where}: HTTP 403: the app lacks {permission}", grant(permission))
    if exc.status == 401:
        return CheckFailed(
            f"{where}: HTTP 401: Graph rejected the token",
            "check entra.graph_scope: it must be the Graph resource that entra.graph_url serves (…/.default)",
        )
    return CheckFailed(f"{where}: {exc.message.split(': ', 1)[-1][:200]}")


def _reader(
    directory: GraphDirectory,
    permission: str,
    path: str,
    params: dict[str, str],
    roles: frozenset[str],
    have_user: bool,
) -> Callable[[], Awaitable[str]]:
    async def read() -> str:
        if not have_user:  # no user to read with (none in the tenant, or User.Read.All missing)
            if permission in roles:
                return "in the token's roles (not read-tested: no user could be read)"
            raise CheckFailed(
                "not in the token's roles (no user could be read to test it)", grant(permission)
            )
        await _read(directory, path, params, permission)
        shown = re.sub(r"/users/[^/]+", "/users/{id}", path)
        return f"GET {shown} answered"

    return read


def _signal_reader(
    directory: GraphDirectory, permission: str, path: str, settings: Settings
) -> Callable[[], Awaitable[str]]:
    """Identity Protection and the audit log: a 403 may also mean the tenant has no licence for them."""

    async def read() -> str:
        try:
            await directory.call("GET", path, what=f"GET {path}", params={"$top": "1"})
        except AdapterError as exc:
            failure = _failure(exc, path, permission)
            if exc.status == 403 and _LICENCE.search(exc.message):
                licence = "Microsoft Entra ID P2" if "risky" in path.lower() else "Microsoft Entra ID P1"
                failure = CheckFailed(
                    f"GET {path}: HTTP 403: the tenant has no {licence} licence for it",
                    "license the tenant, or set policy.require_identity_signals = false",
                )
            if exc.status == 403 and not settings.policy.require_identity_signals:
                return (
                    f"not available ({failure.detail}); policy.require_identity_signals = false: not needed"
                )
            raise failure from None
        return f"GET {path}?$top=1 answered"

    return read


def _write_check(need: WritePermission, roles: frozenset[str]) -> Check:
    name = f"graph {need.name}"
    held = [p for p in (need.name, *need.alternatives) if p in roles]
    if held:
        return Check(name, True, f"in the token's roles ({need.why})")
    return Check(name, False, f"not in the token's roles: {need.why} will be refused", grant(need.name))
