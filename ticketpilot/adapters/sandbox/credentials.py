"""Recognising sandbox-issued credentials without keeping them: only their SHA-256 digests are held.

The sandbox SMS sender uses it to redact a credential from what it records, and the sandbox ticket
system to refuse (and flag) any write that carries one — the invariant "a credential never reaches
HaloPSA" made observable in the embedded default.

With a :class:`~.store.SandboxStore` (the running service) the digests are also kept in PostgreSQL, so that
every process on the database recognises a credential another one issued (``aadd`` / ``aredact``).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ticketpilot.adapters.sandbox.store import SandboxStore

REDACTED = "[REDACTED]"
_TOKEN = re.compile(r"\S+")
_EDGE_PUNCTUATION = ".,;:!?()[]{}\"'"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class IssuedCredentials:
    """Digests of every credential the sandbox directory issued in this process."""

    def __init__(self, store: SandboxStore | None = None) -> None:
        self._digests: set[str] = set()
        self._lock = threading.Lock()
        self._store = store

    def __repr__(self) -> str:
        return f"IssuedCredentials(count={len(self._digests)})"

    def add(self, credential: str) -> None:
        with self._lock:
            self._digests.add(digest(credential))

    def _known(self, word: str) -> bool:
        with self._lock:
            return digest(word) in self._digests

    async def aadd(self, credential: str) -> None:
        """:meth:`add`, and (with a store) the digest in PostgreSQL for the other processes."""
        self.add(credential)
        if self._store is not None:
            await self._store.add_credential_digest(digest(credential))

    async def aredact(self, text: str) -> tuple[str, int]:
        """:meth:`redact`, also knowing the credentials any process on the database issued."""
        if self._store is None:
            return self.redact(text)
        words = set(_TOKEN.findall(text))
        words |= {w.strip(_EDGE_PUNCTUATION) for w in words}
        shared = await self._store.known_digests(digest(w) for w in words if w)
        return _redact(text, lambda word: digest(word) in shared or self._known(word))

    async def acontains(self, text: str) -> bool:
        return (await self.aredact(text))[1] > 0

    def redact(self, text: str) -> tuple[str, int]:
        """``text`` with every issued credential (a whitespace-separated word) replaced; and how many."""
        return _redact(text, self._known)

    def contains(self, text: str) -> bool:
        return self.redact(text)[1] > 0


def _redact(text: str, known: Callable[[str], bool]) -> tuple[str, int]:
    """``text`` with every word ``known`` says is a credential replaced; and how many."""
    found = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        word = match.group(0)
        if known(word):
            found += 1
            return REDACTED
        core = word.strip(_EDGE_PUNCTUATION)
        if core and core != word and known(core):
            found += 1
            return word.replace(core, REDACTED)
        return word

    return _TOKEN.sub(replace, text), found
