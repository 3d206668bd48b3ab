"""HTTP plumbing shared by the live adapters: one session per adapter, bounded retries, error mapping.

Retries cover what a vendor tells us to retry: connection failures, timeouts, 408/425/429 and 5xx. A
``Retry-After`` header is honoured (seconds or an HTTP date). A wait longer than the policy allows is not
slept here: the :class:`AdapterError` goes up with ``retry_after`` so the engine can wait durably.

Error messages name the call (``what``), never the URL: some URLs are secrets (a Teams Workflows URL
carries ``sig=``), and aiohttp's own exception texts quote the URL, so only their type name is kept.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from multidict import CIMultiDict

from ticketpilot.adapters.base import AdapterError, NotFound
from ticketpilot.adapters.outbound import client_session, env_proxy
from ticketpilot.metrics import EXTERNAL_ERRORS, EXTERNAL_LATENCY

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long an adapter retries one call before giving up with a retryable error."""

    max_attempts: int = 4
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 10.0
    """A ``Retry-After`` longer than this is handed to the caller instead of being slept in-process, so the
    in-process waits stay well inside a step's timeout and longer ones are waited durably by the engine."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial_backoff_s < 0 or self.max_backoff_s < 0 or self.max_retry_after_s < 0:
            raise ValueError("backoff and retry-after bounds must be >= 0")


@dataclass(frozen=True)
class HttpResponse:
    """A fully read response (the connection is already back in the pool)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON; raises ``ValueError`` when it is not JSON."""
        import json

        return json.loads(self.body) if self.body else None


class TransportTimeout(AdapterError):
    """The vendor did not answer in time (retryable; a blocking call may read it as "no answer")."""

    def __init__(self, adapter: str, message: str) -> None:
        super().__init__(adapter, message, retryable=True)


def is_retryable_status(status: int) -> bool:
    """Throttled, timed out or a server fault: worth another try later."""
    return status in (408, 425, 429) or status >= 500


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter for retry number ``attempt`` (1-based)."""
    cap = min(policy.max_backoff_s, policy.initial_backoff_s * (2 ** (attempt - 1)))
    return (rng or random).uniform(0, cap)


def status_error(adapter: str, what: str, response: HttpResponse, detail: str = "") -> AdapterError:
    """The :class:`AdapterError` for a non-2xx answer: 404 → :class:`NotFound`; 408/429/5xx retryable."""
    message = f"{what}: HTTP {response.status}" + (f" — {detail}" if detail else "")
    if response.status == 404:
        return NotFound(adapter, message)
    return AdapterError(
        adapter,
        message,
        retryable=is_retryable_status(response.status),
        status=response.status,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


_DETAIL = re.compile(r"\s*\(.*\)\s*$")
_ID_SEGMENT = re.compile(r"/[^/?\s]*[\d@][^/?\s]*")


def operation_label(what: str) -> str:
    """A low-cardinality metric label: ``GET /api/Tickets/4242`` → ``GET /api/Tickets/{id}``."""
    return _ID_SEGMENT.sub("/{id}", _DETAIL.sub("", what))[:80]


@dataclass
class HttpClient:
    """One lazily created ``aiohttp.ClientSession`` per adapter, with timeouts and bounded retries.

    Created lazily because a session must be made inside the running event loop, while the adapters are
    built at start-up. ``sleep`` is injectable so tests can observe backoff without waiting.
    """

    adapter: str
    timeout_s: float
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Sleep = asyncio.sleep
    rng: random.Random | None = None
    ca_bundle: str = ""
    """``[adapters] ca_bundle``: the CAs to trust instead of the defaults (see :mod:`.outbound`)."""
    _session: aiohttp.ClientSession | None = field(default=None, init=False, repr=False)

    def session(self) -> aiohttp.ClientSession:
        """The adapter's session, trusting ``ca_bundle`` when set (each request finds its proxy)."""
        if self._session is None or self._session.closed:
            self._session = client_session(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s, connect=min(self.timeout_s, 10.0)),
                ca_bundle=self.ca_bundle,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def send_once(
        self,
        method: str,
        url: str,
        *,
        what: str,
        timeout_s: float | None = None,
        **kwargs: Any,
    ) -> HttpResponse:
        """One request, no retry. Transport failures become retryable :class:`AdapterError`s."""
        if timeout_s is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=timeout_s)
        started = time.perf_counter()
        try:
            proxy = env_proxy(url)  # HTTPS_PROXY / HTTP_PROXY / NO_PROXY, read per request
            async with self.session().request(method, url, allow_redirects=False, **proxy, **kwargs) as resp:
                body = await resp.read()
                response = HttpResponse(resp.status, CIMultiDict(resp.headers), body)
        except TimeoutError:
            EXTERNAL_ERRORS.labels(self.adapter, "timeout").inc()
            limit = timeout_s if timeout_s is not None else self.timeout_s
            raise TransportTimeout(self.adapter, f"{what}: timed out after {limit:g}s") from None
        except aiohttp.ClientError as exc:
            EXTERNAL_ERRORS.labels(self.adapter, "connection").inc()
            raise AdapterError(
                self.adapter, f"{what}: connection failed ({type(exc).__name__})", retryable=True
            ) from None
        finally:
            EXTERNAL_LATENCY.labels(self.adapter, operation_label(what)).observe(
                time.perf_counter() - started
            )
        if response.status >= 400:
            EXTERNAL_ERRORS.labels(self.adapter, f"http_{response.status}").inc()
        return response

    async def send(self, method: str, url: str, *, what: str, **kwargs: Any) -> HttpResponse:
        """Send with retries; returns the first non-retryable answer (2xx or a 4xx for the caller to map).

        Raises a retryable :class:`AdapterError` once the attempts are spent, or at once when the vendor
        asks for a longer wait than ``policy.max_retry_after_s``.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.send_once(method, url, what=what, **kwargs)
            except AdapterError:
                if attempt >= self.policy.max_attempts:
                    raise
                await self.sleep(backoff_delay(attempt, self.policy, self.rng))
                continue
            if not is_retryable_status(response.status):
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            too_long = retry_after is not None and retry_after > self.policy.max_retry_after_s
            if attempt >= self.policy.max_attempts or too_long:
                raise AdapterError(
                    self.adapter,
                    f"{what}: HTTP {response.status} after {attempt} attempt(s)",
                    retryable=True,
                    status=response.status,
                    retry_after=retry_after,
                )
            await self.sleep(
                retry_after if retry_after is not None else backoff_delay(attempt, self.policy, self.rng)
            )
