"""The playbook tables: every version ever seen (``playbooks``) and the operator state (``playbook_state``).

The SQL edge of the registry. Versions are content-addressed (``ON CONFLICT DO NOTHING``); every change to
the state notifies ``ticketpilot_playbooks`` so other processes sharing the database can refresh.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

NOTIFY_CHANNEL = "ticketpilot_playbooks"
# Serialises file synchronisation between processes that share one database (any fixed 64-bit number).
_SYNC_LOCK_KEY = 0x71C3E7_2202


@dataclass(frozen=True)
class PlaybookState:
    playbook_id: str
    active_hash: str | None
    enabled: bool
    kill_switch: bool
    file_present: bool
    file_name: str | None
    """The file that defines the playbook; None for a playbook only ever given through the API."""
    file_hash: str | None

    @property
    def withdrawn(self) -> bool:
        """Its file was deleted: not served until the file is back."""
        return self.file_name is not None and not self.file_present


@dataclass(frozen=True)
class StoredVersion:
    playbook_id: str
    content_hash: str
    version: str
    source: str
    created_at: datetime


@dataclass(frozen=True)
class FileVersion:
    """A valid playbook file as found on disk."""

    playbook_id: str
    content_hash: str
    version: str
    yaml_text: str
    file_name: str


def file_takes_over(state: PlaybookState | None, file_hash: str) -> bool:
    """A file's version becomes active when the file is new or changed (the file is the source of truth on
    change); an unchanged file leaves an API activation in place, also across restarts."""
    return state is None or state.active_hash is None or state.file_hash != file_hash


def resolve_version(versions: list[StoredVersion], wanted: str) -> StoredVersion:
    """A stored version by full hash, unique hash prefix (8+ characters) or version string (newest wins).

    Raises KeyError when nothing matches.
    """
    wanted = wanted.strip()
    for v in versions:
        if v.content_hash == wanted:
            return v
    if len(wanted) >= 8:
        prefixed = [v for v in versions if v.content_hash.startswith(wanted.lower())]
        if len(prefixed) == 1:
            return prefixed[0]
    named = [v for v in versions if v.version == wanted]
    if named:
        return named[-1]
    raise KeyError(wanted)


class PlaybookStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def states(self) -> dict[str, PlaybookState]:
        rows = await self._pool.fetch(
            "SELECT playbook_id, active_hash, enabled, kill_switch, file_present, file_name, file_hash"
            " FROM playbook_state"
        )
        return {r["playbook_id"]: PlaybookState(**dict(r)) for r in rows}

    async def sync_files(self, files: Sequence[FileVersion], present_ids: Collection[str]) -> list[str]:
        """Store the files' versions and state in one transaction; return the ids whose active version moved.

        ``present_ids`` are the ids some file still claims (valid or not); a file-defined playbook missing
        from it had its file deleted.
        """
        activated: list[str] = []
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _SYNC_LOCK_KEY)
            rows = await conn.fetch(
                "SELECT playbook_id, active_hash, enabled, kill_switch, file_present, file_name, file_hash"
                " FROM playbook_state"
            )
            states = {r["playbook_id"]: PlaybookState(**dict(r)) for r in rows}
            for f in files:
                await _insert_version(conn, f.playbook_id, f.content_hash, f.version, f.yaml_text, "file")
                state = states.get(f.playbook_id)
                takes_over = file_takes_over(state, f.content_hash)
                if takes_over and (state is None or state.active_hash != f.content_hash):
                    activated.append(f.playbook_id)
                await conn.execute(
                    "INSERT INTO playbook_state"
                    " (playbook_id, active_hash, file_present, file_name, file_hash)"
                    " VALUES ($1, $2, true, $3, $2)"
                    " ON CONFLICT (playbook_id) DO UPDATE SET"
                    "  active_hash = CASE WHEN $4 THEN EXCLUDED.active_hash"
                    "                ELSE playbook_state.active_hash END,"
                    "  file_present = true, file_name = EXCLUDED.file_name, file_hash = EXCLUDED.file_hash,"
                    "  updated_at = now()",
                    f.playbook_id,
                    f.content_hash,
                    f.file_name,
                    takes_over,
                )
            good = {f.playbook_id for f in files}
            for state in states.values():
                present = state.playbook_id in present_ids
                if state.playbook_id in good or state.file_name is None or state.file_present == present:
                    continue
                await conn.execute(
                    "UPDATE playbook_state SET file_present = $2, updated_at = now() WHERE playbook_id = $1",
                    state.playbook_id,
                    present,
                )
            await conn.execute("SELECT pg_notify($1, '*')", NOTIFY_CHANNEL)
        return activated

    async def fetch_texts(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
        """``(playbook_id, content_hash)`` → ``(yaml_text, source)`` for the stored ones among ``keys``."""
        if not keys:
            return {}
        rows = await self._pool.fetch(
            "SELECT p.playbook_id, p.content_hash, p.yaml_text, p.source FROM playbooks p"
            " JOIN unnest($1::text[], $2::text[]) AS k(playbook_id, content_hash)"
            " USING (playbook_id, content_hash)",
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
        return {(r["playbook_id"], r["content_hash"]): (r["yaml_text"], r["source"]) for r in rows}

    async def versions(
        self, playbook_id: str | None = None, *, include_adhoc: bool = True
    ) -> list[StoredVersion]:
        """Stored versions (no YAML text), oldest first; all playbooks' when ``playbook_id`` is None."""
        rows = await self._pool.fetch(
            "SELECT playbook_id, content_hash, version, source, created_at FROM playbooks"
            " WHERE ($1::text IS NULL OR playbook_id = $1) AND ($2 OR source <> 'adhoc')"
            " ORDER BY playbook_id, created_at, content_hash",
            playbook_id,
            include_adhoc,
        )
        return [StoredVersion(**dict(r)) for r in rows]

    async def insert_version(
        self, playbook_id: str, content_hash: str, version: str, text: str, source: str
    ) -> bool:
        """Store a version; False when that exact content was already stored."""
        async with self._pool.acquire() as conn:
            return await _insert_version(conn, playbook_id, content_hash, version, text, source)

    async def set_active(self, playbook_id: str, content_hash: str) -> None:
        await self._update_state(playbook_id, "active_hash", content_hash)

    async def set_enabled(self, playbook_id: str, enabled: bool) -> None:
        await self._update_state(playbook_id, "enabled", enabled)

    async def set_kill_switch(self, playbook_id: str, on: bool) -> None:
        await self._update_state(playbook_id, "kill_switch", on)

    async def _update_state(self, playbook_id: str, column: str, value: object) -> None:
        if column not in ("active_hash", "enabled", "kill_switch"):
            raise ValueError(column)
        # A playbook known only through the API gets its state row here (no file: file_present = false).
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                f"INSERT INTO playbook_state (playbook_id, {column}, file_present) VALUES ($1, $2, false)"
                f" ON CONFLICT (playbook_id) DO UPDATE SET {column} = EXCLUDED.{column}, updated_at = now()",
                playbook_id,
                value,
            )
            await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, playbook_id)


async def _insert_version(
    conn: asyncpg.Connection, playbook_id: str, content_hash: str, version: str, text: str, source: str
) -> bool:
    status = await conn.execute(
        "INSERT INTO playbooks (playbook_id, content_hash, version, yaml_text, source)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        playbook_id,
        content_hash,
        version,
        text,
        source,
    )
    return bool(status == "INSERT 0 1")
