"""Shared bits of the engine benchmarks: a throwaway database, the playbooks, simple statistics."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from ticketpilot.engine.migrate import migrate
from ticketpilot.playbooks.model import Playbook
from ticketpilot.steps import StepCall, StepEvent, StepOutcome, Succeeded, Waiting

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--database-url", default=DEFAULT_URL, help="a PostgreSQL superuser URL (default: %(default)s)"
    )
    return p


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def scratch_database(admin_url: str, prefix: str = "tp_bench") -> AsyncIterator[str]:
    """Create a fresh, migrated database; drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = with_database(admin_url, name)
    try:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield url
    finally:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def playbook_doc(steps: list[dict[str, Any]], playbook_id: str = "bench") -> dict[str, Any]:
    return {
        "id": playbook_id,
        "name": "Benchmark",
        "version": "1.0.0",
        "triggers": {"sub_categories": ["PASSWORD_RESET"]},
        "steps": [
            *steps,
            {"id": "resolved", "terminal": "RESOLVED"},
            {"id": "escalate", "terminal": "ESCALATED"},
        ],
    }


async def store(pool: asyncpg.Pool, doc: dict[str, Any]) -> tuple[Playbook, str]:
    import json

    text = json.dumps(doc, sort_keys=True)  # JSON is YAML: stored as the registry would store a file
    digest = hashlib.sha256(text.encode()).hexdigest()
    playbook = Playbook.model_validate(doc)
    await pool.execute(
        "INSERT INTO playbooks (playbook_id, content_hash, version, yaml_text) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING",
        playbook.id,
        digest,
        playbook.version,
        text,
    )
    return playbook, digest


class NoopService:
    """Does nothing, successfully."""

    requires_secrets: tuple[str, ...] = ()
    produces_secrets: tuple[str, ...] = ()

    def __init__(self, name: str, *, rerun_safe: bool = True) -> None:
        self.name = name
        self.rerun_safe = rerun_safe

    async def start(self, call: StepCall) -> StepOutcome:
        return Succeeded()

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        return Succeeded()


class ApprovalWait:
    """Parks until ``approve`` (or its 2-hour deadline), wakes up once after an hour (an SMS fallback)."""

    name = "approval"
    rerun_safe = True
    requires_secrets: tuple[str, ...] = ()
    produces_secrets: tuple[str, ...] = ()

    async def start(self, call: StepCall) -> StepOutcome:
        return Waiting(signals=frozenset({"approve", "deny"}), wake_at=call.started_at + timedelta(hours=1))

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        return Waiting(signals=frozenset({"approve", "deny"}))


def _cpu_s(pids: Iterable[int]) -> dict[int, float]:
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        return {}
    seen: dict[int, float] = {}
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        seen[pid] = t.user + t.system
    return seen


class CpuMeter:
    """CPU seconds of this process (every thread) and of the PostgreSQL backends serving the benchmark's
    database between ``start()`` and ``stop()``.

    Only that database's backends are counted (other work on a shared server is not): a backend that
    appears during the run counts in full, one that exits during the run is lost (pools keep theirs).
    Needs psutil and a server on this machine; otherwise the PostgreSQL figure is 0.
    """

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._proc0 = 0.0
        self._pg0: dict[int, float] = {}

    async def _backends(self) -> list[int]:
        conn = await asyncpg.connect(self._url)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()
        return [r["pid"] for r in rows]

    async def start(self) -> None:
        self._pg0 = _cpu_s(await self._backends())
        self._proc0 = time.process_time()

    async def stop(self) -> tuple[float, float]:
        own = time.process_time() - self._proc0
        pg1 = _cpu_s(await self._backends())
        return own, sum(t - self._pg0.get(pid, 0.0) for pid, t in pg1.items())


def load_average() -> str:
    """The 1-minute load average (how busy the shared machine was), or '?' where unavailable."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def describe(latencies_s: list[float]) -> str:
    ms = [x * 1000 for x in latencies_s]
    return f"p50 {percentile(ms, 50):7.1f} ms   p99 {percentile(ms, 99):7.1f} ms   mean {statistics.fmean(ms):6.1f} ms"
