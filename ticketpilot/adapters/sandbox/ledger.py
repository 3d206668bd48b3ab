"""What the sandbox "did" (pushes, cards, TAPs issued, SMS sent, ticket writes): bounded, in memory, and
optionally appended to a file.

Readable from tests and, in sandbox mode, from ``GET /api/v1/sandbox/ledger``. Entries never hold a
secret: the adapters record a credential's existence, never its value, and SMS bodies are redacted (the
body's SHA-256 is kept instead). With ``sandbox.ledger_path`` set, every entry is also written as one JSON
line to that file and flushed at once, so what the sandbox did survives a SIGKILL of the process (the
crash tests read it); the file therefore holds no secret either.

With a :class:`~.store.SandboxStore` attached (the running service), :meth:`SandboxLedger.add` also writes
each entry to ``sandbox_ledger`` in PostgreSQL, and :meth:`SandboxLedger.fetch` reads from there: the ledger
of every process on the database, across restarts.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ticketpilot.adapters.sandbox.store import SandboxStore

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
    """The last ``max_entries`` things the sandbox adapters did, oldest first.

    ``path``: also append every entry to this file as a JSON line (see :meth:`persist_to`).
    """

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], datetime] = _utcnow,
        *,
        path: str | Path | None = None,
    ) -> None:
        if max_entries <= 0:
            raise ValueError("max_entries must be positive")
        self._entries: deque[LedgerEntry] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)
        self._clock = clock
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._path: Path | None = None
        self._store: SandboxStore | None = None
        if path:
            self.persist_to(path)

    def __repr__(self) -> str:
        where = f", file={str(self._path)!r}" if self._path is not None else ""
        return f"SandboxLedger(entries={len(self._entries)}, max={self._entries.maxlen}{where})"

    @property
    def path(self) -> Path | None:
        """The file entries are appended to, or None."""
        return self._path

    def persist_to(self, path: str | Path) -> None:
        """From now on, append each entry to ``path`` (created if missing, never truncated: a restarted
        process adds to what its predecessor wrote) as one JSON line with this process's ``pid``."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        opened = target.open("a", encoding="utf-8")
        with self._lock:
            previous, self._file, self._path = self._file, opened, target
        if previous is not None:
            previous.close()

    def attach(self, store: SandboxStore) -> None:
        """Also keep every entry added with :meth:`add` in PostgreSQL (shared by every process)."""
        self._store = store

    @property
    def shared(self) -> bool:
        """Whether entries are kept in PostgreSQL."""
        return self._store is not None

    async def add(self, kind: str, **data: Any) -> LedgerEntry:
        """:meth:`record`, then (with a store attached) the same entry in PostgreSQL. The file line comes
        first: it is the trace that survives a SIGKILL between the side effect and the database write."""
        entry = self.record(kind, **data)
        if self._store is not None:
            await self._store.append_ledger(entry.at, entry.kind, entry.data)
        return entry

    async def fetch(self, kind: str | None = None, limit: int = DEFAULT_MAX_ENTRIES) -> list[dict[str, Any]]:
        """The newest ``limit`` entries (of ``kind``), oldest first: from PostgreSQL when a store is
        attached (every process's entries, ``seq`` numbered there), else from memory."""
        if self._store is not None:
            return await self._store.ledger(kind, limit)
        return [e.as_dict() for e in self.entries(kind)[-limit:]]

    def close(self) -> None:
        """Stop writing to the file (the in-memory ledger keeps working)."""
        with self._lock:
            opened, self._file = self._file, None
        if opened is not None:
            opened.close()

    def record(self, kind: str, **data: Any) -> LedgerEntry:
        with self._lock:
            entry = LedgerEntry(next(self._seq), self._clock(), kind, dict(data))
            self._entries.append(entry)
            if self._file is not None:
                # Under the lock: lines keep the order of ``seq``. Flushed per entry so that a SIGKILL right
                # after a side effect still leaves its trace (the OS has the bytes; no fsync needed for that).
                line = {"pid": os.getpid(), **entry.as_dict()}
                self._file.write(json.dumps(line, default=str, separators=(",", ":")) + "\n")
                self._file.flush()
        return entry

    def entries(self, kind: str | None = None) -> list[LedgerEntry]:
        with self._lock:
            snapshot = list(self._entries)
        return [e for e in snapshot if kind is None or e.kind == kind]

    def clear(self) -> None:
        """Forget the in-memory entries (the file, if any, keeps them)."""
        with self._lock:
            self._entries.clear()


def read_ledger_file(path: str | Path) -> list[dict[str, Any]]:
    """Every entry appended to a ledger file, oldest first; ``[]`` if it does not exist. A torn last line
    (the writer was killed in the middle of it) is skipped."""
    target = Path(path)
    if not target.exists():
        return []
    found: list[dict[str, Any]] = []
    for line in target.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found
