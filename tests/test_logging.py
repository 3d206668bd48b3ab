"""Log redaction: secrets never reach a log line; phone numbers are masked."""

from __future__ import annotations

import io
import json
import logging

import structlog
from pydantic import SecretStr

from ticketpilot.logging import REDACTED, configure_logging, mask_phone, register_secret


def _log_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_secret_keys_are_redacted() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    structlog.get_logger("t").info(
        "token_acquired",
        access_token="eyJhbGciOi.secret",
        client_secret="s3cr3t",
        password="Hunter2!",
        temporary_access_pass="TAP-abc123",
        nested={"api_key": "sk-live-123", "ok": "fine"},
        token_type="Bearer",
    )
    text = out.getvalue()
    for secret in ("eyJhbGciOi.secret", "s3cr3t", "Hunter2!", "TAP-abc123", "sk-live-123"):
        assert secret not in text
    (line,) = _log_lines(out)
    assert line["password"] == REDACTED
    assert line["nested"] == {"api_key": REDACTED, "ok": "fine"}
    assert line["token_type"] == "Bearer"


def test_registered_secret_is_scrubbed_anywhere() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    register_secret("Zq8-pass-WORD")
    structlog.get_logger("t").info("sms_sent", body="Your pass is Zq8-pass-WORD, valid 60 min")
    logging.getLogger("stdlib").warning("oops Zq8-pass-WORD leaked")
    try:
        raise ValueError("failed with Zq8-pass-WORD")
    except ValueError:
        structlog.get_logger("t").exception("boom")
    assert "Zq8-pass-WORD" not in out.getvalue()
    assert out.getvalue().count(REDACTED) >= 3


def test_secretstr_values_are_redacted() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    structlog.get_logger("t").info("config", workflow=SecretStr("https://x/sig=abc"))
    assert "sig=abc" not in out.getvalue()


def test_phone_numbers_are_masked() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    structlog.get_logger("t").info("sending", to="+447700900123", note="call me on +1 206 555 5555 please")
    text = out.getvalue()
    assert "+447700900123" not in text
    assert "206 555 5555" not in text
    (line,) = _log_lines(out)
    assert line["to"] == "+**********23"
    assert "T" in str(line["timestamp"])  # timestamps are not mistaken for phone numbers


def test_dates_and_ids_are_not_masked() -> None:
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    structlog.get_logger("t").info("seen", day="2026-11-28", ticket_id=4242, at="13:23:10")
    (line,) = _log_lines(out)
    assert (line["day"], line["ticket_id"], line["at"]) == ("2026-11-28", 4242, "13:23:10")


def test_mask_phone_keeps_last_two_digits() -> None:
    assert mask_phone("+15551234567") == "+*********67"
    assert mask_phone("12") == "**"


def test_uuids_are_not_mistaken_for_phone_numbers() -> None:
    import uuid

    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    ids = ["b66d3d10-9235-4055-8649-31a8b15bccee", "12345678-1234-1234-1234-123456789012"]
    ids += [str(uuid.uuid4()) for _ in range(2000)]
    structlog.get_logger("t").info("ids", ids=ids, text=" ".join(ids))
    (line,) = _log_lines(out)
    assert line["ids"] == ids
    assert line["text"] == " ".join(ids)
