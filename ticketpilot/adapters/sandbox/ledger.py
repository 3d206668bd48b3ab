"""What the sandbox "did" (pushes, cards, TAPs issued, SMS sent, ticket writes): bounded, in memory.

Readable from tests and, in sandbox mode, from ``GET /api/v1/sandbox/ledger``. Entries never hold a
secret: the adapters record a credential's existence, never its value, and SMS bodies are redacted.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_MAX_ENTRIES = 1_000


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: datetime
    kind: str
    """``mfa_push``, ``teams_card``, ``manager_click``, ``tap_issued``, ``password_reset``, ``sms``,
    ``ticket_update``, ``ticket_note``, ``secret_refused``."""
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at.isoformat(), "kind": self.kind, **self.data}


class SandboxLedger:
    """The last ``max_entries`` things the sandbox adapters did, oldest first."""

    def __init__(
        self, max_entries: int = DEFAULT_MAX_ENTRIES, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        if max_entries <= 0:
            raise ValueError("max_entries must be positive")
        self._entries: deque[LedgerEntry] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)
        self._clock = clock
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SandboxLedger(entries={len(self._entries)}, max={self._entries.maxlen})"

    def record(self, kind: str, **data: Any) -> LedgerEntry:
        with self._lock:
            entry = LedgerEntry(next(self._seq), self._clock(), kind, dict(data))
            self._entries.append(entry)
        return entry

    def entries(self, kind: str | None = None) -> list[LedgerEntry]:
        with self._lock:
            snapshot = list(self._entries)
        return [e for e in snapshot if kind is None or e.kind == kind]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
