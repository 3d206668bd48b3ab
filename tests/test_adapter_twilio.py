"""The Twilio SMS sender (official SDK, async client) against the Twilio fake and Twilio's spec."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from fakes.specs import require_twilio_spec
from fakes.twilio import TwilioFake
from pydantic import SecretStr
from structlog.testing import capture_logs

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.twilio_sms import TwilioSmsSender
from ticketpilot.config import TwilioConfig

ACCOUNT = "AC" + "0123456789abcdef" * 2
SERVICE = "MG" + "fedcba9876543210" * 2
TOKEN = "twilio-token-Hn55"
TAP_TEXT = "Your temporary access pass is Q7x!pLm2 (valid 60 minutes)."


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioFake]:
    fake = TwilioFake(account_sid=ACCOUNT, auth_token=TOKEN)
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.spec_errors == []


def make_sender(fake: TwilioFake, **cfg: object) -> TwilioSmsSender:
    settings: dict[str, object] = {
        "account_sid": ACCOUNT,
        "auth_token": SecretStr(TOKEN),
        "from_number": "+15005550006",
        "base_url": fake.base_url,
    } | cfg
    return TwilioSmsSender(TwilioConfig(**settings), http_timeout_s=5)  # type: ignore[arg-type]


async def test_send_returns_the_receipt_and_reaches_twilio_as_specified(twilio: TwilioFake) -> None:
    sender = make_sender(twilio)
    try:
        with capture_logs() as logs:
            receipt = await sender.send(
                "+447700900123",
                TAP_TEXT,
                idempotency_key="exec-1:deliver:1",
                status_callback="https://tp.example/webhooks/twilio/status",
            )
    finally:
        await sender.aclose()
    (message,) = twilio.messages
    assert (receipt.sid, receipt.status) == (message["sid"], "queued")
    assert message["To"] == "+447700900123" and message["From"] == "+15005550006"
    assert message["Body"] == TAP_TEXT
    assert message["StatusCallback"] == "https://tp.example/webhooks/twilio/status"
    assert TAP_TEXT not in str(logs) and "Q7x!pLm2" not in str(logs)
    assert "+447700900123" not in str(logs)


async def test_messaging_service_instead_of_a_from_number(twilio: TwilioFake) -> None:
    sender = make_sender(twilio, from_number="", messaging_service_sid=SERVICE)
    try:
        receipt = await sender.send("+447700900123", "hello", idempotency_key="k")
    finally:
        await sender.aclose()
    (message,) = twilio.messages
    assert message["MessagingServiceSid"] == SERVICE and "From" not in message
    assert receipt.status == "accepted"


async def test_invalid_recipient_is_not_retryable_and_the_number_is_masked(twilio: TwilioFake) -> None:
    twilio.reject["+15005550001"] = (400, 21211, "The 'To' number +15005550001 is not a valid phone number.")
    sender = make_sender(twilio)
    try:
        with pytest.raises(AdapterError) as err:
            await sender.send("+15005550001", TAP_TEXT, idempotency_key="k")
    finally:
        await sender.aclose()
    assert not err.value.retryable and err.value.status == 400
    assert "21211" in err.value.message
    assert "+15005550001" not in repr(err.value) and TAP_TEXT not in repr(err.value)


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_server_errors_and_throttling_are_retryable(twilio: TwilioFake, status: int) -> None:
    twilio.fail_next(status, body={"code": 20500, "message": "Internal Server Error", "status": status})
    sender = make_sender(twilio)
    try:
        with pytest.raises(AdapterError) as err:
            await sender.send("+447700900123", "hello", idempotency_key="k")
    finally:
        await sender.aclose()
    assert err.value.retryable and err.value.status == status
    assert len(twilio.requests) == 1  # never re-sent here: a 5xx may already have gone out


async def test_wrong_credentials_are_not_retryable(twilio: TwilioFake) -> None:
    sender = make_sender(twilio, auth_token=SecretStr("wrong"))
    try:
        with pytest.raises(AdapterError) as err:
            await sender.send("+447700900123", "hello", idempotency_key="k")
    finally:
        await sender.aclose()
    assert not err.value.retryable and err.value.status == 401


async def test_region_and_edge_from_the_environment_are_ignored(
    twilio: TwilioFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    sender = make_sender(twilio)
    try:
        await sender.send("+447700900123", "hello", idempotency_key="k")
    finally:
        await sender.aclose()
    assert len(twilio.messages) == 1


async def test_non_e164_recipient_is_never_sent(twilio: TwilioFake) -> None:
    sender = make_sender(twilio)
    with pytest.raises(AdapterError) as err:
        await sender.send("07700 900123", "hello", idempotency_key="k")
    await sender.aclose()
    assert not err.value.retryable
    assert twilio.requests == []


async def test_unreachable_twilio_is_retryable() -> None:
    sender = TwilioSmsSender(
        TwilioConfig(
            account_sid=ACCOUNT,
            auth_token=SecretStr(TOKEN),
            from_number="+15005550006",
            base_url="http://127.0.0.1:9",
        ),
        http_timeout_s=5,
    )
    try:
        with pytest.raises(AdapterError) as err:
            await sender.send("+447700900123", "hello", idempotency_key="k")
    finally:
        await sender.aclose()
    assert err.value.retryable


async def test_spec_catches_a_message_without_recipient(twilio: TwilioFake) -> None:
    require_twilio_spec()
    sender = make_sender(twilio)
    try:
        await sender.send("+447700900123", "hello", idempotency_key="k")
    finally:
        await sender.aclose()
    assert twilio.validated == 1 and twilio.spec_errors == []  # request and response both conform
    auth = aiohttp.BasicAuth(ACCOUNT, TOKEN)
    async with aiohttp.ClientSession(auth=auth) as http:
        url = f"{twilio.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        async with http.post(url, data={"From": "+15005550006", "Body": "no recipient"}) as resp:
            assert resp.status == 400
    assert len(twilio.spec_errors) == 1 and "To" in twilio.spec_errors[0]
    twilio.spec_errors.clear()
