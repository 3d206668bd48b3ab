"""Recognising sandbox-issued credentials without keeping them: only their SHA-256 digests are held.

The sandbox SMS sender uses it to redact a credential from what it records, and the sandbox ticket
system to refuse (and flag) any write that carries one — the invariant "a credential never reaches
HaloPSA" made observable in the embedded default.
"""

from __future__ import annotations

import hashlib
import re
import threading

REDACTED = "[REDACTED]"
_TOKEN = re.compile(r"\S+")
_EDGE_PUNCTUATION = ".,;:!?()[]{}\"'"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class IssuedCredentials:
    """Digests of every credential the sandbox directory issued in this process."""

    def __init__(self) -> None:
        self._digests: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"IssuedCredentials(count={len(self._digests)})"

    def add(self, credential: str) -> None:
        with self._lock:
            self._digests.add(digest(credential))

    def _known(self, word: str) -> bool:
        with self._lock:
            return digest(word) in self._digests

    def redact(self, text: str) -> tuple[str, int]:
        """``text`` with every issued credential (a whitespace-separated word) replaced; and how many."""
        found = 0

        def replace(match: re.Match[str]) -> str:
            nonlocal found
            word = match.group(0)
            if self._known(word):
                found += 1
                return REDACTED
            core = word.strip(_EDGE_PUNCTUATION)
            if core and core != word and self._known(core):
                found += 1
                return word.replace(core, REDACTED)
            return word

        return _TOKEN.sub(replace, text), found

    def contains(self, text: str) -> bool:
        return self.redact(text)[1] > 0
