"""Dashboard authentication: who is calling (admin token or session), CSRF for cookie-borne changes,
the login secret check and a small failed-login limiter. See ``dashboard.py`` for the flow."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from ticketpilot.http.auth import CSRF_HEADER, SESSION_COOKIE, require_admin, token_matches
from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import ApiError
from ticketpilot.service import Services

VIA_TOKEN = "admin token"
VIA_SESSION = "dashboard session"


DEFAULT_ACCOUNT = "admin"
"""The account a login names when the form gives none (the dashboard has one shared secret today)."""


@dataclass
class LoginLimiter:
    """Failed logins within ``window_s``: at most ``max_failures`` per client address (behind a trusted
    proxy, the forwarded one) and ``max_account_failures`` per account name from any number of addresses.
    Either limit reached means 429 until the failures age out. At most ``max_tracked`` keys are kept."""

    max_failures: int = 10
    max_account_failures: int = 50
    window_s: float = 300.0
    max_tracked: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def blocked(self, client: str, account: str | None = None) -> bool:
        if len(self._recent(_client_key(client))) >= self.max_failures:
            return True
        return account is not None and len(self._recent(_account_key(account))) >= self.max_account_failures

    def failed(self, client: str, account: str | None = None) -> None:
        keys = [_client_key(client)] + ([_account_key(account)] if account is not None else [])
        for key in keys:
            self._failures.setdefault(key, self._recent(key)).append(self.clock())
        while len(self._failures) > self.max_tracked:  # many addresses: forget the longest-known first
            del self._failures[next(iter(self._failures))]

    def succeeded(self, client: str, account: str | None = None) -> None:
        self._failures.pop(_client_key(client), None)
        if account is not None:
            self._failures.pop(_account_key(account), None)

    def _recent(self, key: str) -> deque[float]:
        """The key's failures still inside the window (a key with none is forgotten)."""
        recent = self._failures.get(key, deque())
        horizon = self.clock() - self.window_s
        while recent and recent[0] < horizon:
            recent.popleft()
        if not recent:
            self._failures.pop(key, None)
        return recent


def _client_key(client: str) -> str:
    return f"client:{client}"


def _account_key(account: str) -> str:
    return f"account:{account}"


def account_name(presented: object) -> str:
    """The account a login form names (``username``), normalised; :data:`DEFAULT_ACCOUNT` when absent."""
    if not isinstance(presented, str) or not presented.strip():
        return DEFAULT_ACCOUNT
    return presented.strip().lower()[:64]


@dataclass
class DashboardState:
    """Per-process dashboard state, kept in ``services.extras`` (a restart logs everyone out anyway)."""

    limiter: LoginLimiter = field(default_factory=LoginLimiter)


def dashboard_state(services: Services) -> DashboardState:
    """This process's dashboard state, created on first use."""
    state = services.extras.get("dashboard")
    if not isinstance(state, DashboardState):
        state = services.extras["dashboard"] = DashboardState()
    return state


def bearer_ok(request: web.Request, admin_token: str) -> bool:
    """The request carries ``Authorization: Bearer <http.admin_token>``."""
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and token_matches(presented.strip(), admin_token)


def session_id(request: web.Request, services: Services) -> str | None:
    """The request's valid dashboard session id, else None."""
    sid = request.cookies.get(SESSION_COOKIE, "")
    return sid if sid and services.sessions.valid(sid) else None


def authenticate(request: web.Request, *, changes_state: bool = False) -> tuple[Services, str]:
    """Authenticate (bearer or session; 401 otherwise), enforce CSRF on cookie-borne changes; return who."""
    services = request.app[SERVICES]
    admin_token = services.settings.http.admin_token.get_secret_value()
    require_admin(request, admin_token, services.sessions)
    if bearer_ok(request, admin_token):
        return services, VIA_TOKEN
    if changes_state:
        sid = request.cookies.get(SESSION_COOKIE, "")
        if not services.sessions.csrf_valid(sid, request.headers.get(CSRF_HEADER, "")):
            raise ApiError(
                403, "csrf_failed", f"a dashboard change needs the {CSRF_HEADER} header of its session"
            )
    return services, VIA_SESSION


def secret_matches(services: Services, presented: str) -> bool:
    """The login secret is the admin token or, when set, ``http.dashboard_password``."""
    http = services.settings.http
    password = http.dashboard_password.get_secret_value()
    # Both are checked (no early exit) so the timing does not tell which one is configured.
    by_token = token_matches(presented, http.admin_token.get_secret_value())
    by_password = token_matches(presented, password)
    return by_token or by_password


def same_origin(request: web.Request, services: Services) -> bool:
    """No ``Origin`` header, or this service's own origin (as reached, or as ``http.public_url``)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    own = {f"{request.scheme}://{request.host}", services.settings.http.public_url}
    return origin in own
