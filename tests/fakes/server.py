"""The base of every vendor fake: a loopback aiohttp server that records, validates and scripts failures.

Each fake records every request (method, path, query, headers minus credentials, body) in ``requests``,
checks it against the vendor's spec when one is given (problems land in ``spec_errors`` and the request
is answered 400, as the vendor would refuse it), and can be told to fail the next calls
(:meth:`FakeServer.fail_next`) with a status, headers such as ``Retry-After``, and a delay.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from fakes.specs import SpecValidator

_CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "api-key", "x-api-key"})


@dataclass
class RecordedRequest:
    """One request as the fake saw it; credentials are not kept."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.text(), keep_blank_values=True))


@dataclass
class Failure:
    """A scripted answer that replaces the normal one for matching requests."""

    status: int
    times: int = 1
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    method: str | None = None
    path_contains: str | None = None

    def matches(self, request: RecordedRequest) -> bool:
        if self.method is not None and request.method != self.method.upper():
            return False
        return self.path_contains is None or self.path_contains.lower() in request.path.lower()


class FakeServer:
    """Start with ``await fake.start()`` (returns the base URL), stop with ``await fake.stop()``."""

    name = "fake"
    validate_responses = False

    def __init__(
        self, *, spec: SpecValidator | None = None, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.spec = spec
        self.requests: list[RecordedRequest] = []
        self.spec_errors: list[str] = []
        self.validated = 0
        self._failures: list[Failure] = []
        self._ssl = ssl_context
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self.base_url = ""

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> str:
        self._closing = asyncio.Event()
        app = web.Application(middlewares=[self._middleware], client_max_size=16 * 1024 * 1024)
        self.setup_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"{'https' if self._ssl else 'http'}://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._closing is not None:
            self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def use_tls(self, context: ssl.SSLContext) -> None:
        """Serve HTTPS with ``context`` (call before :meth:`start`)."""
        self._ssl = context

    # --- knobs -------------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        body: bytes | str | dict[str, Any] = b"",
        headers: dict[str, str] | None = None,
        delay_s: float = 0.0,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (after ``delay_s`` seconds)."""
        raw = (
            json.dumps(body).encode()
            if isinstance(body, dict)
            else body.encode()
            if isinstance(body, str)
            else body
        )
        hdrs = dict(headers or {})
        if isinstance(body, dict):
            hdrs.setdefault("Content-Type", "application/json")
        self._failures.append(Failure(status, times, raw, hdrs, delay_s, method, path_contains))

    def failures_left(self) -> int:
        """How many scripted failures have not been served yet."""
        return sum(f.times for f in self._failures)

    def clear_failures(self) -> None:
        """Forget every scripted failure still pending (an outage ends)."""
        self._failures.clear()

    async def pause(self, seconds: float) -> None:
        """Sleep up to ``seconds``, cut short when the fake stops (so a hung call never blocks teardown)."""
        assert self._closing is not None
        try:
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)
        except TimeoutError:
            pass

    def calls(self, method: str, path_contains: str = "") -> list[RecordedRequest]:
        """The recorded requests with this method whose path contains ``path_contains`` (any case)."""
        return [
            r for r in self.requests if r.method == method.upper() and path_contains.lower() in r.path.lower()
        ]

    # --- hooks for subclasses ----------------------------------------------------------------------

    def setup_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def in_spec_scope(self, request: RecordedRequest) -> bool:
        """Whether the vendor's spec describes this request (token endpoints often are not)."""
        return True

    def spec_error_response(self, request: RecordedRequest, errors: list[str]) -> web.StreamResponse:
        return web.json_response(
            {"error": "request does not match the vendor spec", "detail": errors}, status=400
        )

    # --- machinery ---------------------------------------------------------------------------------

    def _take_failure(self, request: RecordedRequest) -> Failure | None:
        for failure in self._failures:
            if failure.times > 0 and failure.matches(request):
                failure.times -= 1
                return failure
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k: v for k, v in request.headers.items() if k.lower() not in _CREDENTIAL_HEADERS},
            body=body,
        )
        self.requests.append(recorded)
        in_scope = self.spec is not None and self.in_spec_scope(recorded)
        if in_scope:
            assert self.spec is not None
            self.validated += 1
            errors = self.spec.request_errors(
                request.method, request.path, request.query, request.headers, body
            )
            if errors:
                self.spec_errors.extend(errors)
                return self.spec_error_response(recorded, errors)
        failure = self._take_failure(recorded)
        if failure is not None:
            if failure.delay_s:
                await self.pause(failure.delay_s)
            return web.Response(status=failure.status, body=failure.body, headers=failure.headers)
        response: web.StreamResponse = await handler(request)
        # Vendor specs describe success bodies only; error shapes are the fakes' own (from the vendors' docs).
        success = 200 <= response.status < 300
        if in_scope and self.validate_responses and success and isinstance(response, web.Response):
            assert self.spec is not None
            self.spec_errors.extend(
                self.spec.response_errors(
                    request.method,
                    request.path,
                    request.query,
                    request.headers,
                    body,
                    response.status,
                    response.body if isinstance(response.body, bytes) else b"",
                )
            )
        return response
