"""The playbook registry: the playbooks folder and the API in, an immutable snapshot out.

- Every distinct content (file or API) is stored once in ``playbooks``, keyed by its sha256.
- ``playbook_state`` says which version is active, and the operator's switches. A new or changed valid file
  makes its version active (the file is the source of truth on change); an API activation holds until the
  file changes again. A broken file never replaces the last good version: its problems are logged and
  shown by :meth:`PlaybookRegistry.problems` (and so by ``/readyz`` and the API). A deleted file withdraws
  its playbook; executions are pinned to a content hash and read it with :meth:`get_version`.
- The gate reads :meth:`active` and :meth:`for_sub_category` on its hot path: plain lookups in a snapshot
  swapped in whole, no lock and no database call.
- Several processes may share the database: each change is announced with ``NOTIFY`` and every registry
  listening rebuilds its snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from ticketpilot.listening import Listener
from ticketpilot.metrics import PLAYBOOK_ERRORS
from ticketpilot.playbooks.loader import FileResult, LoadedPlaybook, Source, content_hash, scan_directory
from ticketpilot.playbooks.model import Playbook
from ticketpilot.playbooks.store import (
    NOTIFY_CHANNEL,
    FileVersion,
    PlaybookState,
    PlaybookStore,
    StoredVersion,
    resolve_version,
)
from ticketpilot.playbooks.validate import PlaybookConflict, PlaybookInvalid, Problem, validate_text
from ticketpilot.playbooks.views import playbook_detail, playbook_summary
from ticketpilot.playbooks.watcher import watch_directory

log = structlog.get_logger(__name__)

__all__ = ["API_FILE", "PlaybookConflict", "PlaybookInvalid", "PlaybookRegistry"]

_CACHE_MAX = 1024
API_FILE = "<api>"
"""The file name that problems in YAML given through the API carry."""


@dataclass(frozen=True)
class _Definition:
    playbook: Playbook
    yaml_text: str
    source: Source


@dataclass(frozen=True)
class _Snapshot:
    by_id: Mapping[str, LoadedPlaybook] = field(default_factory=dict)
    by_sub_category: Mapping[str, tuple[LoadedPlaybook, ...]] = field(default_factory=dict)
    states: Mapping[str, PlaybookState] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    """Stored active versions that no longer validate (rare: a model change between releases)."""


class PlaybookRegistry:
    """Loads, versions, hot-reloads and serves playbooks. See the module docstring for the rules."""

    def __init__(self, pool: asyncpg.Pool, directory: Path, *, watch: bool, debounce_ms: int) -> None:
        self._pool = pool
        self._store = PlaybookStore(pool)
        self._directory = Path(directory)
        self._watch = watch
        self._debounce_ms = debounce_ms
        self._snapshot = _Snapshot()
        self._file_problems: dict[str, tuple[Problem, ...]] = {}
        self._fingerprint: tuple[tuple[str, str | None, str | None], ...] | None = None
        self._definitions: dict[tuple[str, str], _Definition] = {}
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self._listener: Listener | None = None
        self._refresh: asyncio.Task[None] | None = None
        self._dirty = False

    # --- life cycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the folder, store its versions, then follow changes (folder watch, other processes)."""
        await self._reload_files(force=True)
        # Re-made after a lost connection; changes notified meanwhile are caught by one rebuild.
        listener = Listener(
            self._pool, NOTIFY_CHANNEL, self._on_notify, part="playbook_listener", on_reconnect=self._changed
        )
        await listener.start()
        self._listener = listener
        if self._watch:
            self._stop.clear()
            self._watcher = asyncio.create_task(
                watch_directory(
                    self._directory, self._on_files_changed, debounce_ms=self._debounce_ms, stop=self._stop
                ),
                name="playbook-watcher",
            )
            await asyncio.sleep(0)  # let the watcher register its folder watch (see watch_directory) ...
            await self._reload_files(force=False)  # ... then catch anything changed since the first load

    async def stop(self) -> None:
        """Stop watching and listening; idempotent."""
        self._stop.set()
        if self._watcher is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._watcher), timeout=2.0)
            except TimeoutError:
                self._watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._watcher
            self._watcher = None
        if self._refresh is not None:
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh
            self._refresh = None
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.stop()

    # --- the hot path: snapshot reads, no I/O -------------------------------------------------------

    def problems(self) -> list[Problem]:
        """Every current load error: broken files (their last good version stays active), by file and line."""
        return [p for probs in self._file_problems.values() for p in probs] + list(self._snapshot.problems)

    def loaded(self) -> list[LoadedPlaybook]:
        """The active version of every playbook that has one (enabled or not), by id."""
        return [self._snapshot.by_id[k] for k in sorted(self._snapshot.by_id)]

    def active(self, playbook_id: str) -> LoadedPlaybook | None:
        return self._snapshot.by_id.get(playbook_id)

    def for_sub_category(self, sub_category: str) -> list[LoadedPlaybook]:
        """Enabled active playbooks triggered by ``sub_category`` (kill-switched ones included: the gate
        records the kill switch as its own blocker)."""
        return list(self._snapshot.by_sub_category.get(sub_category, ()))

    # --- database-backed reads ----------------------------------------------------------------------

    async def get_version(self, playbook_id: str, content_hash: str) -> Playbook:
        """The definition stored under ``content_hash`` (pinned executions); KeyError if unknown."""
        return (await self._definition(playbook_id, content_hash)).playbook

    async def list_all(self, *, include_adhoc: bool = True) -> list[dict[str, Any]]:
        """Every known playbook: versions, active version, switches and current errors.

        ``include_adhoc=False`` leaves out the single-service playbooks of the per-service admin endpoints.
        """
        versions = await self._store.versions(include_adhoc=include_adhoc)
        states = await self._store.states()
        ids = sorted({v.playbook_id for v in versions} | set(states))
        return [
            self._summary(pid, [v for v in versions if v.playbook_id == pid], states.get(pid)) for pid in ids
        ]

    async def get(self, playbook_id: str, version: str | None = None) -> dict[str, Any]:
        """One playbook with the YAML and definition of ``version`` (a version string or hash; default the
        active one). KeyError for an unknown playbook or version."""
        versions = await self._store.versions(playbook_id)
        state = (await self._store.states()).get(playbook_id)
        if not versions:
            raise KeyError(playbook_id)
        if version is not None:
            chosen = resolve_version(versions, version)
        else:
            active = state.active_hash if state else None
            chosen = next((v for v in versions if v.content_hash == active), versions[-1])
        definition = await self._definition(playbook_id, chosen.content_hash)
        summary = self._summary(playbook_id, versions, state)
        return playbook_detail(summary, chosen, definition.yaml_text, definition.playbook)

    # --- changes --------------------------------------------------------------------------------------

    async def add_from_yaml(self, text: str, source: Source = "api") -> LoadedPlaybook:
        """Validate and store a version (not activated). Raises PlaybookInvalid with every problem, or
        PlaybookConflict when its version string is taken by other content."""
        result = await asyncio.to_thread(validate_text, text, API_FILE)  # ruamel is slow on large input
        if result.playbook is None:
            raise PlaybookInvalid(result.problems)
        playbook, digest = result.playbook, content_hash(text)
        for stored in await self._store.versions(playbook.id):
            if stored.version == playbook.version and stored.content_hash != digest:
                raise PlaybookConflict(playbook.id, playbook.version, stored.content_hash)
        if await self._store.insert_version(playbook.id, digest, playbook.version, text, source):
            log.info(
                "playbook_version_stored",
                playbook_id=playbook.id,
                version=playbook.version,
                content_hash=digest[:16],
                source=source,
            )
        stored_def = await self._definition(playbook.id, digest)
        state = self._snapshot.states.get(playbook.id)
        return LoadedPlaybook(
            playbook,
            digest,
            text,
            stored_def.source,
            enabled=state.enabled if state else True,
            kill_switch=state.kill_switch if state else False,
        )

    async def activate(self, playbook_id: str, version_or_hash: str) -> LoadedPlaybook:
        """Make a stored version active (until its file next changes); KeyError if unknown."""
        chosen = resolve_version(await self._store.versions(playbook_id), version_or_hash)
        definition = await self._definition(playbook_id, chosen.content_hash)  # it must still validate
        await self._store.set_active(playbook_id, chosen.content_hash)
        await self._refresh_now()
        log.info(
            "playbook_activated",
            playbook_id=playbook_id,
            version=chosen.version,
            content_hash=chosen.content_hash[:16],
            by="api",
        )
        activated = self.active(playbook_id)
        if activated is None or activated.content_hash != chosen.content_hash:  # raced with another change
            return LoadedPlaybook(
                definition.playbook, chosen.content_hash, definition.yaml_text, definition.source
            )
        return activated

    async def set_enabled(self, playbook_id: str, enabled: bool) -> LoadedPlaybook | None:
        """The operator's switch; KeyError for an unknown playbook. Returns the active version, if any."""
        await self._require_known(playbook_id)
        await self._store.set_enabled(playbook_id, enabled)
        await self._refresh_now()
        log.info("playbook_enabled" if enabled else "playbook_disabled", playbook_id=playbook_id)
        return self.active(playbook_id)

    async def set_kill_switch(self, playbook_id: str, on: bool) -> LoadedPlaybook | None:
        """The per-playbook kill switch (a gate blocker); KeyError for an unknown playbook."""
        await self._require_known(playbook_id)
        await self._store.set_kill_switch(playbook_id, on)
        await self._refresh_now()
        log.warning("playbook_kill_switch", playbook_id=playbook_id, on=on)
        return self.active(playbook_id)

    async def reload(self) -> None:
        """Rescan the folder and the database now (what the folder watch does on a change)."""
        await self._reload_files(force=True)

    # --- internals ------------------------------------------------------------------------------------

    async def _on_files_changed(self) -> None:
        await self._reload_files(force=False)

    async def _reload_files(self, *, force: bool) -> None:
        async with self._lock:
            if not self._directory.is_dir():
                problem = Problem(
                    str(self._directory), 1, "playbooks folder not found; nothing loaded from it"
                )
                self._set_file_problems({str(self._directory): (problem,)})
                await self._rebuild()  # the database still knows the last good versions
                return
            results = await asyncio.to_thread(scan_directory, self._directory)
            fingerprint = tuple(
                (r.path.name, r.content_hash if r.ok else None, r.playbook_id) for r in results
            )
            self._set_file_problems({str(r.path): r.result.problems for r in results if not r.ok})
            if not force and fingerprint == self._fingerprint:
                return  # an unrelated file, or a save that changed nothing
            activated = await self._store.sync_files(
                [_file_version(r) for r in results if r.ok], self._present_ids(results)
            )
            self._fingerprint = fingerprint
            before = self._snapshot.states
            await self._rebuild()
            for pid in activated:
                lp = self._snapshot.by_id.get(pid)
                if lp is not None:
                    log.info(
                        "playbook_activated",
                        playbook_id=pid,
                        version=lp.version,
                        content_hash=lp.short_hash,
                        by="file",
                    )
            for pid, state in self._snapshot.states.items():
                if state.withdrawn and pid in before and not before[pid].withdrawn:
                    log.warning("playbook_file_deleted", playbook_id=pid, file=state.file_name)

    def _present_ids(self, results: list[FileResult]) -> set[str]:
        present = {r.playbook_id for r in results if r.playbook_id is not None}
        unreadable = {r.path.name for r in results if r.playbook_id is None}  # broken beyond telling its id
        present |= {pid for pid, s in self._snapshot.states.items() if s.file_name in unreadable}
        return present

    def _set_file_problems(self, problems: dict[str, tuple[Problem, ...]]) -> None:
        for file, probs in problems.items():
            if self._file_problems.get(file) != probs:
                keeping = self.active(probs[0].playbook_id) if probs[0].playbook_id else None
                log.error(
                    "playbook_invalid",
                    file=file,
                    problems=[str(p) for p in probs],
                    keeping=f"{keeping.version} ({keeping.short_hash})" if keeping else None,
                )
        for file in self._file_problems.keys() - problems.keys():
            log.info("playbook_file_fixed", file=file)
        self._file_problems = problems
        PLAYBOOK_ERRORS.set(len(problems))

    async def _definition(self, playbook_id: str, digest: str) -> _Definition:
        """A stored version, parsed once (content-addressed, so the cache never goes stale)."""
        key = (playbook_id, digest)
        if key in self._definitions:
            return self._definitions[key]
        found = await self._store.fetch_texts([key])
        if key not in found:
            raise KeyError(f"{playbook_id}@{digest}")
        text, source = found[key]
        result = validate_text(text, f"{playbook_id}@{digest[:16]}")
        if result.playbook is None:
            raise PlaybookInvalid(result.problems)
        definition = _Definition(result.playbook, text, _source(source))
        if len(self._definitions) >= _CACHE_MAX:  # ad hoc playbooks are many and short-lived
            del self._definitions[next(iter(self._definitions))]
        self._definitions[key] = definition
        return definition

    async def _rebuild(self) -> None:
        """Read the state from the database and swap in a new snapshot."""
        states = await self._store.states()
        by_id: dict[str, LoadedPlaybook] = {}
        stored_problems: list[Problem] = []
        for pid, state in sorted(states.items()):
            if state.active_hash is None:
                continue
            try:
                definition = await self._definition(pid, state.active_hash)
            except PlaybookInvalid as exc:
                stored_problems.extend(exc.problems)
                continue
            except KeyError:
                log.error(
                    "playbook_active_version_missing", playbook_id=pid, content_hash=state.active_hash[:16]
                )
                continue
            by_id[pid] = LoadedPlaybook(
                definition.playbook,
                state.active_hash,
                definition.yaml_text,
                definition.source,
                enabled=state.enabled and definition.playbook.enabled and not state.withdrawn,
                kill_switch=state.kill_switch,
                file_path=self._directory / state.file_name if state.file_name else None,
            )
        by_sub: dict[str, list[LoadedPlaybook]] = {}
        for lp in by_id.values():
            if lp.enabled:
                for sub in lp.playbook.triggers.sub_categories:
                    by_sub.setdefault(sub, []).append(lp)
        self._snapshot = _Snapshot(
            by_id, {k: tuple(v) for k, v in by_sub.items()}, states, tuple(stored_problems)
        )

    async def _refresh_now(self) -> None:
        async with self._lock:
            await self._rebuild()

    def _on_notify(self, _payload: str) -> None:
        self._changed()

    def _changed(self) -> None:
        # Another process (or this one) changed the state: rebuild, coalescing bursts of notifications.
        self._dirty = True
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.get_running_loop().create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self._refresh_now()
            except Exception:
                log.exception("playbook_refresh_failed")
                return

    async def _require_known(self, playbook_id: str) -> None:
        if playbook_id not in self._snapshot.states and not await self._store.versions(playbook_id):
            raise KeyError(playbook_id)

    def _summary(
        self, pid: str, versions: list[StoredVersion], state: PlaybookState | None
    ) -> dict[str, Any]:
        errors = [
            p
            for p in self.problems()
            if p.playbook_id == pid
            or (state is not None and state.file_name and Path(p.file).name == state.file_name)
        ]
        return playbook_summary(pid, versions, state, self.active(pid), errors)


def _source(stored: str) -> Source:
    return "api" if stored == "api" else "adhoc" if stored == "adhoc" else "file"


def _file_version(result: FileResult) -> FileVersion:
    lp = result.loaded()
    return FileVersion(lp.playbook_id, lp.content_hash, lp.version, lp.yaml_text, result.path.name)
