"""Shared fixtures: a real PostgreSQL (configured, else embedded) and a real Redis (configured, else a
local ``redis-server`` if the machine has one), a fresh migrated database per test, and global resets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from ticketpilot.database import EmbeddedPostgres, create_pool
from ticketpilot.engine.migrate import migrate

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TEMPLATE_DB = f"tp_template_{os.getpid()}"


def shared_path(*parts: str) -> Path:
    """A file in ``../shared``; skips the test with a reason where that folder is absent (a fresh clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/ is not part of a fresh clone)")
    return path


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    if parts.path and parts.path != "/":
        return urlunsplit(parts._replace(path=f"/{database}"))
    # socket-style URI from the embedded server: postgresql://postgres:@/postgres?host=/dir
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A superuser URL on a real PostgreSQL: TICKETPILOT_TEST_DATABASE_URL, else an embedded server."""
    configured = os.environ.get("TICKETPILOT_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    datadir = Path(tempfile.mkdtemp(prefix="tp-pg-"))
    os.chmod(datadir, 0o755)
    server = EmbeddedPostgres(datadir / "data")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()
        shutil.rmtree(datadir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    """A migrated template database; each test gets a copy of it."""

    async def create() -> None:
        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
            await conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        finally:
            await conn.close()
        conn = await asyncpg.connect(_with_database(pg_admin_url, TEMPLATE_DB))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(pg_admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(create())
    yield TEMPLATE_DB
    asyncio.run(drop())


@contextlib.asynccontextmanager
async def _fresh_database(admin_url: str, prefix: str, template: str | None = None) -> AsyncIterator[str]:
    """A new database (a copy of ``template`` if given), dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_url)
    try:
        copy = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await conn.close()
    try:
        yield _with_database(admin_url, name)
    finally:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def db_url(pg_admin_url: str, pg_template: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test, dropped afterwards."""
    async with _fresh_database(pg_admin_url, "tp_test", pg_template) as url:
        yield url


@pytest.fixture
async def empty_db_url(pg_admin_url: str) -> AsyncIterator[str]:
    """A fresh database with no schema at all (for migration tests)."""
    async with _fresh_database(pg_admin_url, "tp_empty") as url:
        yield url


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(db_url, min_size=1, max_size=10)
    yield p
    await p.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """A real Redis: TICKETPILOT_TEST_REDIS_URL, else a throwaway ``redis-server`` if installed, else skip."""
    configured = os.environ.get("TICKETPILOT_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no Redis: set TICKETPILOT_TEST_REDIS_URL or install redis-server")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
async def redis_url(redis_server_url: str) -> AsyncIterator[str]:
    """Redis database 15 of the test server, flushed before and after the test."""
    from redis.asyncio import Redis

    url = redis_server_url.rsplit("/", 1)[0] + "/15" if redis_server_url.count("/") >= 3 else redis_server_url
    client = Redis.from_url(url)
    await client.flushdb()
    yield url
    await client.flushdb()
    await client.aclose()


@pytest.fixture(autouse=True)
def _reset_globals() -> Iterator[None]:
    """Reset process-wide registries so that no test sees another's state."""
    from ticketpilot import logging as tp_logging

    yield
    with tp_logging._live_lock:
        tp_logging._live_secrets.clear()
