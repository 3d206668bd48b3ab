"""Requester enrichment: the HaloPSA requester → exactly one Entra user, fail-safe, cached with a clock."""

from __future__ import annotations

from gate_fakes import FakeDirectory, user_id_for

from ticketpilot.adapters.base import DirectoryUser, PhoneMethod, PrivilegeCheck
from ticketpilot.gate.enrichment import RequesterResolver, normalise_e164


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def resolver(directory: FakeDirectory, clock: Clock | None = None, ttl_s: float = 300.0) -> RequesterResolver:
    return RequesterResolver(directory, ttl_s=ttl_s, clock=clock or Clock())


async def test_a_requester_resolves_to_one_enabled_user_with_a_phone() -> None:
    facts = await resolver(FakeDirectory()).resolve(email="alice@contoso.com")
    assert facts.resolved
    assert facts.user_id == user_id_for("alice@contoso.com")
    assert facts.enabled is True and facts.privileged is False and facts.has_phone is True
    assert facts.manager_id == user_id_for("manager@contoso.com")
    assert "+447700900123" not in str(facts.as_dict())


async def test_the_azure_object_id_is_preferred_to_the_email() -> None:
    directory = FakeDirectory()
    oid = directory.know("bob@contoso.com")
    facts = await resolver(directory).resolve(email="alice@contoso.com", azure_oid=oid)
    assert facts.user_id == oid
    assert facts.user_principal_name == "bob@contoso.com"
    assert directory.calls[0] == ("resolve_user", oid)


async def test_not_exactly_one_user_is_unresolved_with_the_reason() -> None:
    r = resolver(FakeDirectory())
    ghost = await r.resolve(email="ghost@contoso.com")
    twin = await r.resolve(email="twin@contoso.com")
    nobody = await r.resolve(email="")
    assert not ghost.resolved and "no Entra user" in ghost.unresolved_reason
    assert not twin.resolved and "more than one" in twin.unresolved_reason
    assert not nobody.resolved and "no requester" in nobody.unresolved_reason


async def test_a_directory_outage_is_unresolved_and_not_cached() -> None:
    directory = FakeDirectory()
    r = resolver(directory)
    directory.down = True
    assert not (await r.resolve(email="alice@contoso.com")).resolved
    directory.down = False
    assert (await r.resolve(email="alice@contoso.com")).resolved


async def test_a_failing_privilege_check_counts_as_privileged_and_is_not_cached() -> None:
    directory = FakeDirectory()
    r = resolver(directory)
    directory.fail_privilege_check = True
    facts = await r.resolve(email="alice@contoso.com")
    assert facts.privileged is True
    assert "privilege check failed" in facts.privilege_detail
    directory.fail_privilege_check = False
    assert (await r.resolve(email="alice@contoso.com")).privileged is False


async def test_privileged_and_disabled_accounts_are_reported() -> None:
    r = resolver(FakeDirectory())
    admin = await r.resolve(email="admin.jane@contoso.com")
    disabled = await r.resolve(email="disabled.joe@contoso.com")
    assert admin.privileged is True and admin.privilege_detail == "direct:Global Administrator"
    assert disabled.enabled is False


async def test_results_are_cached_for_the_ttl_only() -> None:
    directory = FakeDirectory()
    clock = Clock()
    r = resolver(directory, clock, ttl_s=300)
    await r.resolve(email="alice@contoso.com")
    await r.resolve(email="ALICE@contoso.com")
    assert sum(1 for c in directory.calls if c[0] == "resolve_user") == 1
    clock.t += 301
    await r.resolve(email="alice@contoso.com")
    assert sum(1 for c in directory.calls if c[0] == "resolve_user") == 2


class OfficeOnlyDirectory(FakeDirectory):
    def user(self, email: str) -> DirectoryUser:
        base = super().user(email)
        return base.model_copy(update={"phones": (PhoneMethod(number="+44 20 7946 0000", kind="office"),)})


class BadPhoneDirectory(FakeDirectory):
    def user(self, email: str) -> DirectoryUser:
        base = super().user(email)
        return base.model_copy(update={"phones": (PhoneMethod(number="07700 900123", kind="mobile"),)})

    async def check_privileged(self, user_id: str) -> PrivilegeCheck:
        return PrivilegeCheck(privileged=False)


async def test_only_an_e164_mobile_counts_as_a_phone_on_record() -> None:
    assert not (await resolver(OfficeOnlyDirectory()).resolve(email="a@contoso.com")).has_phone
    assert not (await resolver(BadPhoneDirectory()).resolve(email="a@contoso.com")).has_phone


def test_e164_normalisation() -> None:
    assert normalise_e164("+44 7700 900-123") == "+447700900123"
    assert normalise_e164("07700900123") is None
    assert normalise_e164("+0123456789") is None
    assert normalise_e164("") is None
