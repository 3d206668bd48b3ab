"""Parsing request bodies as JSON within bounds, so that no body can make a handler fail with a 500.

Checked before parsing (on the raw bytes, at C speed): the nesting depth (a 50,000-deep array would
exhaust the parser's recursion) and the length of every number (a 5,000-digit integer exceeds Python's
int conversion limit). Checked after: no lone surrogate (``"\\ud800"``) in any string or key — such text
cannot be stored in PostgreSQL or written to a log as UTF-8 — and no ``NaN``/``Infinity`` (not JSON), spelled out or overflowing (``1e999``).
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects a body may have (every real payload is under 10)."""
MAX_NUMBER_CHARS = 64
"""The longest number a body may spell out."""

# A string token (escapes included); the closing quote is optional so that an unterminated string is
# consumed to the end in one pass instead of being retried from every quote inside it.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_LONG_NUMBER = re.compile(rb"[0-9]{%d,}" % (MAX_NUMBER_CHARS + 1))
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEP = [0] * 256
for _open in b"[{":
    _BRACKET_STEP[_open] = 1
for _close in b"]}":
    _BRACKET_STEP[_close] = -1


class JsonRejected(ValueError):
    """The body is not JSON this service accepts; ``detail`` says why (safe to show the client)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def __repr__(self) -> str:
        return f"JsonRejected(detail={self.detail!r})"


def parse_json_body(raw: bytes) -> Any:
    """``raw`` as JSON, or :class:`JsonRejected` (never another exception)."""
    if not raw:
        raise JsonRejected("request body is empty; expected JSON")
    outside_strings = _STRING.sub(b'""', raw)
    if _LONG_NUMBER.search(outside_strings):
        raise JsonRejected(f"a number in the body is longer than {MAX_NUMBER_CHARS} digits")
    brackets = outside_strings.translate(None, _NOT_BRACKETS)
    if (
        len(brackets) > MAX_JSON_DEPTH
        and max(accumulate(map(_BRACKET_STEP.__getitem__, brackets))) > MAX_JSON_DEPTH
    ):
        raise JsonRejected(f"the body is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except JsonRejected:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JsonRejected(f"request body is not valid JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:  # belt and braces: the checks above should prevent these
        raise JsonRejected(f"request body cannot be read as JSON ({type(exc).__name__})") from None
    if _has_lone_surrogate(value, MAX_JSON_DEPTH + 1):
        raise JsonRejected(
            "a string in the body contains a lone surrogate (\\ud800-\\udfff); not valid Unicode"
        )
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"the number {text[:20]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON value")


def _has_lone_surrogate(value: Any, depth: int) -> bool:
    if isinstance(value, str):
        return _surrogate(value)
    if depth <= 0:
        return False
    if isinstance(value, dict):
        return any(_surrogate(k) or _has_lone_surrogate(v, depth - 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v, depth - 1) for v in value)
    return False


def _surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
