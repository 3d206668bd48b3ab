"""Watching the playbooks folder: any change there (debounced) triggers one callback.

The callback rescans the whole folder, so the kind of change does not matter: an editor's atomic save
(write a temporary file, rename it over the original), a deletion, or a Kubernetes ConfigMap's symlink swap
all end in the same full, idempotent reload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog
from watchfiles import awatch

from ticketpilot.waits import wait_event

log = structlog.get_logger(__name__)

_RETRY_AFTER_ERROR_S = 2.0


async def watch_directory(
    directory: Path,
    on_change: Callable[[], Awaitable[None]],
    *,
    debounce_ms: int,
    stop: asyncio.Event,
) -> None:
    """Call ``on_change`` after each burst of changes in ``directory`` until ``stop`` is set.

    The folder watch is registered before this coroutine first suspends (watchfiles creates its notifier
    synchronously), so a caller that yields once after starting the task will not miss a later change.
    A failing callback or watcher is logged and the watch goes on.
    """
    debounce = max(debounce_ms, 1)
    step = min(50, debounce)
    while not stop.is_set():
        try:
            async for _changes in awatch(
                directory, watch_filter=None, debounce=debounce, step=step, stop_event=stop, recursive=False
            ):
                try:
                    await on_change()
                except Exception:
                    log.exception("playbook_reload_failed", directory=str(directory))
            return
        except Exception as exc:  # e.g. the folder was removed; wait for it to come back
            log.warning(
                "playbook_watch_failed", directory=str(directory), error=f"{type(exc).__name__}: {exc}"
            )
            if await wait_event(stop, _RETRY_AFTER_ERROR_S):
                return
            try:
                await on_change()
            except Exception:
                log.exception("playbook_reload_failed", directory=str(directory))
