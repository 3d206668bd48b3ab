"""JSON errors everywhere: ``{"error": CODE, "detail": ...}``; never a traceback to a client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from ticketpilot.http.json_body import JsonRejected, parse_json_body

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An error answer with an HTTP status, a stable machine code and a human detail."""

    def __init__(
        self, status: int, code: str, detail: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"ApiError(status={self.status}, code={self.code!r}, detail={self.detail!r})"


def error_response(
    status: int, code: str, detail: Any = None, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response({"error": code, "detail": detail}, status=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable_entity",
    429: "too_many_requests",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.detail, exc.headers)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app._client_max_size
        return error_response(413, "payload_too_large", f"request body exceeds the limit of {limit} bytes")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "www-authenticate")}
        return error_response(exc.status, code, exc.reason, headers)
    except Exception:
        log.exception("unhandled_error", path=request.path, method=request.method)
        return error_response(500, "internal_error", "an internal error occurred; see the service log")


async def read_json(request: web.Request) -> Any:
    """The request body as JSON, or a 400 with a clear detail: the one JSON-body reader of every handler
    (bounded depth and number size, no lone surrogates; see ``json_body.py``)."""
    raw = await request.read()
    try:
        return parse_json_body(raw)
    except JsonRejected as exc:
        raise ApiError(400, "invalid_json", exc.detail) from None


def validation_detail(exc: Any) -> list[dict[str, Any]]:
    """A pydantic ValidationError as a client-safe list of {loc, msg}."""
    return [
        {"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": str(e.get("msg", ""))}
        for e in exc.errors(include_url=False, include_input=False)
    ]
