"""structlog set-up: JSON lines in production, console on a terminal, and redaction of secrets and phones.

Redaction is defence in depth. Code should never log a secret, but if it does:
- keys that name secrets (``password``, ``token``, ``temporary_access_pass`` …) have their value replaced;
- any value registered with :func:`register_secret` (a TAP or password produced in memory) is scrubbed
  wherever it appears in any string of the event;
- phone numbers are masked to their last two digits.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import Any

import structlog
from pydantic import SecretStr

REDACTED = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|secret|token|authorization|api[_-]?key|temporary_?access_?pass|\btap\b|credential|"
    r"cookie|signature|sms_code|code_hash)",
    re.IGNORECASE,
)
_SAFE_KEYS = frozenset({"token_type", "tokens_pending", "password_method", "credential_kind"})
# Not inside a longer token: a hyphen or word character on either side means an id (a UUID's digit run),
# not a phone number.
_PHONE = re.compile(r"(?<![\w+\-])\+?\d[\d \-().]{7,}\d(?![\w\-])")

_live_secrets: set[str] = set()
_live_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Scrub ``value`` from every later log line (for secrets produced at run time, e.g. a TAP)."""
    if len(value) >= 4:
        with _live_lock:
            _live_secrets.add(value)


def forget_secret(value: str) -> None:
    with _live_lock:
        _live_secrets.discard(value)


def mask_phone(phone: str) -> str:
    """``+447700900123`` → ``+*********23``: enough to tell two numbers apart, not to dial one."""
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 4:
        return "*" * len(phone)
    return ("+" if phone.strip().startswith("+") else "") + "*" * (len(digits) - 2) + "".join(digits[-2:])


def mask_email(address: str) -> str:
    """``jane.doe@example.net`` → ``j***@example.net``: enough to tell addresses apart in a log or a note."""
    local, at, domain = address.strip().partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def _scrub_text(text: str) -> str:
    with _live_lock:
        secrets = tuple(_live_secrets)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _PHONE.sub(_mask_match, text)


def _mask_match(match: re.Match[str]) -> str:
    candidate = match.group(0)
    digits = sum(c.isdigit() for c in candidate)
    # Dates and times (2026-11-28, 13:23:10) have fewer digits than any phone number in E.164 use.
    if digits < 9 or re.fullmatch(r"\d{4}-\d{2}-\d{2}.*|\d{8}(-\d{4}){3}-\d{12}", candidate):
        return candidate
    return mask_phone(candidate)


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return value
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, dict):
        return {k: (REDACTED if _is_secret_key(k) else _scrub(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, depth + 1) for v in value)
    if isinstance(value, BaseException):
        return _scrub_text(f"{type(value).__name__}: {value}")
    return value


def _is_secret_key(key: Any) -> bool:
    return isinstance(key, str) and key not in _SAFE_KEYS and bool(_SECRET_KEY.search(key))


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: redact secret-named keys, registered secrets and phone numbers."""
    for key in list(event_dict):
        if _is_secret_key(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def _scrub_rendered(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    # Exceptions are formatted after `redact` runs: scrub the rendered traceback too.
    exc = event_dict.get("exception")
    if isinstance(exc, str):
        event_dict["exception"] = _scrub_text(exc)
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: Any = None) -> None:
    """Configure structlog and the stdlib root logger once for the process."""
    out = stream if stream is not None else sys.stderr
    use_console = fmt == "console" or (fmt == "auto" and hasattr(out, "isatty") and out.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False) if use_console else structlog.processors.JSONRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        redact,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            _scrub_rendered,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level))
    for noisy in ("aiohttp.access", "watchfiles", "httpx", "httpx2", "msal", "twilio.http_client", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
