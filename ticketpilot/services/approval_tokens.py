"""Signed approve/deny link tokens and SMS reply codes: pure functions, no I/O.

A link token is ``{expiry}.{nonce}.{signature}`` where the signature is HMAC-SHA256 (the Teams approval
signing key) over the request id, the decision, the expiry and the nonce. The approve link and the deny
link of one request share the nonce but not the signature, so a token signed for ``approve`` is refused
for ``deny``. Only a keyed hash of the nonce is stored (``approval_requests.token_hash``): a database
reader cannot rebuild a link, and rotating the nonce voids links never sent.

SMS codes are six random digits; only their keyed hash is stored (``sms_code_hash``), as is the keyed
hash of the approver's phone number (``approver_phone_hash``) that a reply must come from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

Decision = Literal["approve", "deny"]
DECISIONS: frozenset[str] = frozenset({"approve", "deny"})

SMS_CODE_DIGITS = 6
_TOKEN_VERSION = "v1"
_SMS_REPLY = re.compile(r"^\s*(yes|y|approve|no|n|deny)\b[\s:.,#-]*([\d\s-]+?)\s*[.!]?\s*$", re.IGNORECASE)


class InvalidToken(Exception):
    """A link token failed verification. ``reason`` is ``malformed``, ``signature`` or ``expired``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __repr__(self) -> str:
        return f"InvalidToken({self.reason!r})"


@dataclass(frozen=True)
class TokenClaims:
    request_id: UUID
    decision: Decision
    expires_at: datetime
    nonce: str


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _mac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def keyed_hash(key: bytes, purpose: str, value: str) -> str:
    """Hex HMAC-SHA256 of ``value`` for one ``purpose`` (nonce, sms code, phone): what the database stores."""
    return hmac.new(key, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def sign_token(key: bytes, request_id: UUID, decision: Decision, expires_at: datetime, nonce: str) -> str:
    expiry = int(expires_at.timestamp())
    signature = _mac(key, f"{_TOKEN_VERSION}|{request_id}|{decision}|{expiry}|{nonce}")
    return f"{expiry}.{nonce}.{_b64(signature)}"


def verify_token(key: bytes, request_id: UUID, decision: str, token: str, now: datetime) -> TokenClaims:
    """Check the signature (constant time) for this request and decision, then the expiry."""
    if decision not in DECISIONS:
        raise InvalidToken("malformed")
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1] or not parts[2]:
        raise InvalidToken("malformed")
    expiry_text, nonce, presented = parts
    expected = _b64(_mac(key, f"{_TOKEN_VERSION}|{request_id}|{decision}|{expiry_text}|{nonce}"))
    if not hmac.compare_digest(expected.encode(), presented.encode()):
        raise InvalidToken("signature")
    expires_at = datetime.fromtimestamp(int(expiry_text), UTC)
    if now >= expires_at:
        raise InvalidToken("expired")
    return TokenClaims(request_id, "approve" if decision == "approve" else "deny", expires_at, nonce)


def nonce_hash(key: bytes, nonce: str) -> str:
    return keyed_hash(key, "nonce", nonce)


def new_sms_code() -> str:
    return f"{secrets.randbelow(10**SMS_CODE_DIGITS):0{SMS_CODE_DIGITS}d}"


def sms_code_hash(key: bytes, request_id: UUID, code: str) -> str:
    return keyed_hash(key, f"sms-code|{request_id}", code)


def normalize_phone(phone: str) -> str:
    """E.164 as Twilio sends it: ``+`` and digits only."""
    digits = "".join(c for c in phone if c.isdigit())
    return f"+{digits}" if digits else ""


def phone_hash(key: bytes, phone: str) -> str:
    return keyed_hash(key, "phone", normalize_phone(phone))


@dataclass(frozen=True)
class SmsReply:
    decision: Decision
    code: str


def parse_sms_reply(body: str) -> SmsReply | None:
    """``YES 123456`` / ``no 123 456`` → decision and code; anything else → None."""
    match = _SMS_REPLY.match(body or "")
    if not match:
        return None
    code = re.sub(r"[\s-]", "", match.group(2))
    if len(code) != SMS_CODE_DIGITS or not code.isdigit():
        return None
    word = match.group(1).lower()
    return SmsReply("approve" if word in ("yes", "y", "approve") else "deny", code)
