"""The Azure MFA connector adapter against its fake: approve, deny, no answer, HTTP timeout, off."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fakes.mfa import MfaConnectorFake, answer_xml
from pydantic import SecretStr
from structlog.testing import capture_logs

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.mfa_connector import AzureMfaConnector, DisabledMfaPush, parse_connector_answer
from ticketpilot.config import EntraConfig, MfaConfig

SECRET = "mfa-secret-Vw73"
CONTEXT = "8b6f3c7e-2d1a-4c55-9f0e-1a2b3c4d5e6f"


@pytest.fixture
async def connector() -> AsyncIterator[MfaConnectorFake]:
    fake = MfaConnectorFake(tenant_id="contoso-tenant", client_secret=SECRET)
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.spec_errors == []


def make_push(fake: MfaConnectorFake, timeout_s: float = 5.0, token_url: str = "") -> AzureMfaConnector:
    mfa = MfaConfig(
        enabled=True,
        connector_url=fake.connector_url,
        token_url=token_url,
        client_secret=SecretStr(SECRET),
        timeout_s=timeout_s,
    )
    entra = EntraConfig(tenant_id="contoso-tenant", authority_url=fake.base_url)
    return AzureMfaConnector(mfa, entra, http_timeout_s=5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Success", "approved"), ("PhoneAppDenied", "denied"), ("PhoneAppNoResponse", "timeout")],
)
async def test_user_answer_is_mapped(connector: MfaConnectorFake, value: str, expected: str) -> None:
    connector.results["alice@contoso.example"] = value
    push = make_push(connector)  # token URL derived from entra.authority_url + tenant (v1 endpoint)
    try:
        assert await push.push("alice@contoso.example", context_id=CONTEXT) == expected
    finally:
        await push.aclose()
    (token_request,) = connector.token_requests
    assert token_request["resource"].endswith("/StrongAuthenticationService.svc/Connector")
    assert token_request["client_id"] == "981f26a1-7f43-403b-a875-f8b09b8cd720"
    (sent,) = connector.pushes
    assert (sent.user_principal_name, sent.context_id, sent.sync_call) == (
        "alice@contoso.example",
        CONTEXT,
        "true",
    )


async def test_token_is_reused_and_upn_is_escaped(connector: MfaConnectorFake) -> None:
    push = make_push(connector, token_url=connector.token_url)
    try:
        await push.push("o'neil&co@contoso.example", context_id="exec-1:verify:1")
        await push.push("bob@contoso.example", context_id="exec-2:verify:1")
    finally:
        await push.aclose()
    assert len(connector.token_requests) == 1
    assert connector.pushes[0].user_principal_name == "o'neil&co@contoso.example"
    assert len(connector.pushes[0].context_id) == 36  # a non-GUID context becomes a stable GUID


async def test_no_http_answer_within_timeout_is_a_timeout(connector: MfaConnectorFake) -> None:
    connector.answer_after_s = 5
    push = make_push(connector, timeout_s=0.2)
    try:
        assert await push.push("alice@contoso.example", context_id=CONTEXT) == "timeout"
    finally:
        await push.aclose()
    assert len(connector.pushes) == 1  # a second prompt is never sent on its own


async def test_other_results_are_errors(connector: MfaConnectorFake) -> None:
    connector.default_result = "UserPrincipalNameNotFound"
    push = make_push(connector)
    try:
        with pytest.raises(AdapterError) as err:
            await push.push("ghost@contoso.example", context_id=CONTEXT)
    finally:
        await push.aclose()
    assert not err.value.retryable and "UserPrincipalNameNotFound" in err.value.message


async def test_success_without_authentication_result_is_not_approval(connector: MfaConnectorFake) -> None:
    connector.raw_answer = answer_xml("Success", authenticated=False)
    push = make_push(connector)
    try:
        with pytest.raises(AdapterError):
            await push.push("alice@contoso.example", context_id=CONTEXT)
    finally:
        await push.aclose()


async def test_entity_declarations_are_refused(connector: MfaConnectorFake) -> None:
    connector.raw_answer = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "Success">]>'
        "<BeginTwoWayAuthenticationResponse><Result><Value>&a;</Value></Result>"
        "<AuthenticationResult>true</AuthenticationResult></BeginTwoWayAuthenticationResponse>"
    )
    push = make_push(connector)
    try:
        with pytest.raises(AdapterError) as err:
            await push.push("alice@contoso.example", context_id=CONTEXT)
    finally:
        await push.aclose()
    assert "DTD" in err.value.message


async def test_disabled_mfa_client_app_is_explained(connector: MfaConnectorFake) -> None:
    connector.token_error = "AADSTS7000112: Application '981f26a1-...' is disabled."
    push = make_push(connector)
    with capture_logs() as logs:
        try:
            with pytest.raises(AdapterError) as err:
                await push.push("alice@contoso.example", context_id=CONTEXT)
        finally:
            await push.aclose()
    assert not err.value.retryable
    assert "Multi-Factor Auth Client" in err.value.message
    assert SECRET not in repr(err.value) + str(logs)
    assert connector.pushes == []


async def test_off_unless_enabled_fails_fast() -> None:
    with pytest.raises(AdapterError) as err:
        await DisabledMfaPush().push("alice@contoso.example", context_id=CONTEXT)
    assert not err.value.retryable
    assert err.value.message == "MFA push is not configured"


def test_parser_reads_namespaced_and_wrapped_answers() -> None:
    answer = parse_connector_answer(
        answer_xml("PhoneAppDenied", authenticated=True, message="Denied by user")
    )
    assert (answer.value, answer.authenticated, answer.message) == ("PhoneAppDenied", True, "Denied by user")
    wrapped = parse_connector_answer(f"<Envelope>{answer_xml('Success', authenticated=True)}</Envelope>")
    assert wrapped.value == "Success"
    with pytest.raises(AdapterError):
        parse_connector_answer("<BeginTwoWayAuthenticationResponse/>")
    with pytest.raises(AdapterError):
        parse_connector_answer("not xml")
