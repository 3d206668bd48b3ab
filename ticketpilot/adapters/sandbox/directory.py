"""The sandbox twin of Entra ID: answers for any email address (see :mod:`.people`)."""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import UTC, datetime, timedelta

from ticketpilot.adapters.base import (
    DirectoryUser,
    IdentitySignalUnavailable,
    NotFound,
    PrivilegeCheck,
    SecurityInfoChange,
    TemporaryAccessPass,
    UserRisk,
)
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.ledger import SandboxLedger
from ticketpilot.adapters.sandbox.people import Behaviour, SandboxPeople, behaviour_of, user_id_of

ADAPTER = "sandbox-directory"
_TAP_ALPHABET = string.ascii_letters + string.digits
_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "#%*+=@"


class SandboxDirectory:
    """Deterministic fake users; TAPs and passwords are random, recorded in the ledger without their value."""

    def __init__(self, people: SandboxPeople, ledger: SandboxLedger, issued: IssuedCredentials) -> None:
        self._people = people
        self._ledger = ledger
        self._issued = issued

    def __repr__(self) -> str:
        return f"SandboxDirectory({self._people!r})"

    async def resolve_user(self, *, azure_oid: str = "", email: str = "") -> DirectoryUser:
        if azure_oid:
            known = await self._people.recall(azure_oid)
            if known is not None:
                return known
            # Without a store, after a restart the id is unknown until the address is seen again.
            if email and user_id_of(email) == azure_oid:
                return await self._people.remember(self._people.user(email))
            raise NotFound(ADAPTER, f"no user with object id {azure_oid}")
        if not email or "@" not in email:
            raise NotFound(ADAPTER, "no user for an empty or malformed address")
        return await self._people.remember(self._people.user(email))

    async def get_user(self, user_id: str) -> DirectoryUser:
        user = await self._people.recall(user_id)
        if user is None:
            raise NotFound(ADAPTER, f"no user with object id {user_id}")
        return user

    async def get_manager(self, user_id: str) -> DirectoryUser | None:
        manager = self._people.manager_of(await self.get_user(user_id))
        return None if manager is None else await self._people.remember(manager)

    async def check_privileged(self, user_id: str) -> PrivilegeCheck:
        user = await self.get_user(user_id)
        if behaviour_of(user.user_principal_name) is Behaviour.ADMIN:
            return PrivilegeCheck(privileged=True, roles=("direct:Global Administrator",))
        return PrivilegeCheck(privileged=False)

    async def get_user_risk(self, user_id: str) -> UserRisk:
        user = await self.get_user(user_id)
        behaviour = behaviour_of(user.user_principal_name)
        if behaviour is Behaviour.UNLICENSED:
            raise IdentitySignalUnavailable(
                ADAPTER, "riskyUsers: the tenant has no licence for it (Entra ID P2)", reason="licence"
            )
        if behaviour is Behaviour.RISKY:
            return UserRisk(
                risk_state="atRisk",
                risk_level="high",
                risk_detail="none",
                last_updated=datetime.now(UTC) - timedelta(hours=2),
            )
        return UserRisk()

    async def list_security_info_changes(
        self, user_id: str, *, since: datetime
    ) -> tuple[SecurityInfoChange, ...]:
        user = await self.get_user(user_id)
        behaviour = behaviour_of(user.user_principal_name)
        if behaviour is Behaviour.UNLICENSED:
            raise IdentitySignalUnavailable(
                ADAPTER, "directoryAudits: the tenant has no licence for it (Entra ID P1)", reason="licence"
            )
        if behaviour is not Behaviour.NEW_PHONE:
            return ()
        change = SecurityInfoChange(
            activity="User registered security info",
            at=datetime.now(UTC) - timedelta(days=1),
            initiated_by=user.user_principal_name,
        )
        return (change,) if change.at >= since else ()

    async def create_temporary_access_pass(
        self, user_id: str, *, lifetime_minutes: int, one_time: bool, idempotency_key: str
    ) -> TemporaryAccessPass:
        user = await self.get_user(user_id)
        tap = "".join(secrets.choice(_TAP_ALPHABET) for _ in range(16))
        method_id = str(uuid.uuid4())
        await self._issued.aadd(tap)
        await self._ledger.add(
            "tap_issued",
            user_id=user.id,
            user_principal_name=user.user_principal_name,
            method_id=method_id,
            lifetime_minutes=lifetime_minutes,
            one_time=one_time,
            idempotency_key=idempotency_key,
        )
        return TemporaryAccessPass(tap, method_id=method_id)

    async def delete_temporary_access_pass(self, user_id: str, method_id: str) -> bool:
        """Records the deletion (``tap_deleted``) in the ledger; the sandbox keeps no TAPs to look up."""
        user = await self.get_user(user_id)
        await self._ledger.add(
            "tap_deleted", user_id=user.id, user_principal_name=user.user_principal_name, method_id=method_id
        )
        return True

    async def reset_password(self, user_id: str, *, force_change: bool, idempotency_key: str) -> str:
        user = await self.get_user(user_id)
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(16))
        await self._issued.aadd(password)
        await self._ledger.add(
            "password_reset",
            user_id=user.id,
            user_principal_name=user.user_principal_name,
            force_change=force_change,
            idempotency_key=idempotency_key,
        )
        return password
