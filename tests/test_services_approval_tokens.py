"""Signed link tokens and SMS reply parsing (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ticketpilot.services.approval_tokens import (
    InvalidToken,
    SmsReply,
    parse_sms_reply,
    phone_hash,
    sign_token,
    verify_token,
)

KEY = b"k" * 32
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_a_token_verifies_only_for_its_request_decision_key_and_lifetime() -> None:
    request_id = uuid.uuid4()
    token = sign_token(KEY, request_id, "approve", NOW + timedelta(minutes=30), "nonce-1")
    claims = verify_token(KEY, request_id, "approve", token, NOW)
    assert (claims.request_id, claims.decision, claims.nonce) == (request_id, "approve", "nonce-1")
    for key, rid, decision, now, reason in [
        (KEY, request_id, "deny", NOW, "signature"),
        (KEY, uuid.uuid4(), "approve", NOW, "signature"),
        (b"other-key", request_id, "approve", NOW, "signature"),
        (KEY, request_id, "approve", NOW + timedelta(minutes=30), "expired"),
        (KEY, request_id, "maybe", NOW, "malformed"),
    ]:
        with pytest.raises(InvalidToken) as info:
            verify_token(key, rid, decision, token, now)
        assert info.value.reason == reason
    for broken in ("", "a.b", "x.nonce.sig", token + ".extra"):
        with pytest.raises(InvalidToken):
            verify_token(KEY, request_id, "approve", broken, NOW)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("YES 123456", SmsReply("approve", "123456")),
        ("  yes   123 456 ", SmsReply("approve", "123456")),
        ("Yes: 123-456.", SmsReply("approve", "123456")),
        ("no 000123", SmsReply("deny", "000123")),
        ("N 654321", SmsReply("deny", "654321")),
        ("YES", None),
        ("YES 12345", None),
        ("YES 1234567", None),
        ("yesterday 123456", None),
        ("maybe 123456", None),
        ("", None),
    ],
)
def test_sms_replies(body: str, expected: SmsReply | None) -> None:
    assert parse_sms_reply(body) == expected


def test_phone_hash_ignores_formatting_but_not_digits() -> None:
    assert phone_hash(KEY, "+1 (555) 000-1234") == phone_hash(KEY, "+15550001234")
    assert phone_hash(KEY, "+15550001234") != phone_hash(KEY, "+15550001235")
