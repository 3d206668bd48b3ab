"""Admin authentication: ``Authorization: Bearer <http.admin_token>`` or a dashboard session cookie."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web

from ticketpilot.http.errors import ApiError

SESSION_COOKIE = "tp_session"
CSRF_HEADER = "X-TP-CSRF"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class SessionStore:
    """In-memory dashboard sessions: random ids → expiry. A restart logs everyone out (by design)."""

    ttl_s: float
    _sessions: dict[str, float] = field(default_factory=dict)
    _csrf_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def create(self) -> str:
        sid = secrets.token_urlsafe(32)
        self._sessions[_digest(sid)] = time.monotonic() + self.ttl_s
        return sid

    def valid(self, sid: str) -> bool:
        key = _digest(sid)
        expiry = self._sessions.get(key)
        if expiry is None:
            return False
        if expiry < time.monotonic():
            del self._sessions[key]
            return False
        return True

    def drop(self, sid: str) -> None:
        self._sessions.pop(_digest(sid), None)

    def csrf_token(self, sid: str) -> str:
        """The token a cookie-authenticated change must carry in ``X-TP-CSRF`` (bound to the session)."""
        return hmac.new(self._csrf_key, header_bytes(sid), hashlib.sha256).hexdigest()

    def csrf_valid(self, sid: str, presented: str) -> bool:
        return hmac.compare_digest(header_bytes(presented), self.csrf_token(sid).encode())


def _digest(value: str) -> str:
    return hashlib.sha256(header_bytes(value)).hexdigest()


def header_bytes(value: str) -> bytes:
    """A header or cookie value as bytes, whatever it holds: aiohttp hands undecodable bytes (``\xff``) over
    as surrogate escapes, which a plain ``encode()`` refuses; such a value must simply not match."""
    return value.encode("utf-8", "surrogatepass")


def token_matches(presented: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(header_bytes(presented), expected.encode())


def require_admin(request: web.Request, admin_token: str, sessions: SessionStore | None = None) -> None:
    """Raise 401 unless the request carries the admin bearer token or a valid dashboard session."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() == "bearer" and token_matches(presented.strip(), admin_token):
        return
    if sessions is not None:
        sid = request.cookies.get(SESSION_COOKIE, "")
        if sid and sessions.valid(sid):
            # A browser sends the cookie on cross-site requests too: changes need the session's CSRF token.
            if request.method not in SAFE_METHODS and not sessions.csrf_valid(
                sid, request.headers.get(CSRF_HEADER, "")
            ):
                raise ApiError(
                    403, "csrf_failed", f"a change made with a dashboard session needs {CSRF_HEADER}"
                )
            return
    raise ApiError(
        401,
        "unauthorized",
        "admin endpoints need 'Authorization: Bearer <http.admin_token>'",
        {"WWW-Authenticate": 'Bearer realm="ticketpilot"'},
    )
