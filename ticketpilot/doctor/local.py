"""The checks that need no vendor: PostgreSQL, Redis, migrations, playbooks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg

from ticketpilot.config import Settings
from ticketpilot.database import connect
from ticketpilot.doctor.report import CheckFailed
from ticketpilot.engine.migrate import applied_versions, available_migrations
from ticketpilot.playbooks.loader import LoadedPlaybook
from ticketpilot.playbooks.validate import Problem

Connect = Callable[[], AbstractAsyncContextManager[Any]]
"""Opens one PostgreSQL connection (an asyncpg ``Connection``) for the duration of a ``with`` block."""
SHOWN_PROBLEMS = 3


def dsn_connector(dsn: str, *, timeout_s: float = 10.0) -> Connect:
    """A :data:`Connect` that opens (and closes) its own connection to ``dsn``."""

    @contextlib.asynccontextmanager
    async def open_connection() -> AsyncIterator[Any]:
        conn = await connect(dsn, connect_timeout_s=timeout_s)
        try:
            yield conn
        finally:
            await conn.close()

    return open_connection


def pool_connector(pool: asyncpg.Pool) -> Connect:
    """A :data:`Connect` that borrows a connection of the running service's pool."""

    @contextlib.asynccontextmanager
    async def borrow() -> AsyncIterator[Any]:
        async with pool.acquire() as conn:
            yield conn

    return borrow


async def postgresql(open_connection: Connect) -> str:
    try:
        async with open_connection() as conn:
            await conn.fetchval("SELECT 1")
            version = await conn.fetchval("SHOW server_version")
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise CheckFailed(
            f"cannot connect: {type(exc).__name__}: {_first_line(exc)}",
            "check database.url (host, port, user, password, database) and that the server runs",
        ) from None
    return f"connected, SELECT 1 answered (PostgreSQL {version})"


async def migrations(open_connection: Connect) -> str:
    shipped = {m.version: m.name for m in available_migrations()}
    try:
        async with open_connection() as conn:
            applied = await applied_versions(conn)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise CheckFailed(
            f"cannot read schema_migrations: {type(exc).__name__}", "fix the postgresql check first"
        ) from None
    pending = [f"{v:04d}_{shipped[v]}" for v in sorted(set(shipped) - applied)]
    unknown = sorted(applied - set(shipped))
    if pending:
        raise CheckFailed(
            f"{len(pending)} of {len(shipped)} not applied: {', '.join(pending)}",
            "run python main.py migrate (the service also migrates when it starts)",
        )
    if unknown:
        raise CheckFailed(
            f"the database has migrations this version does not ship: {', '.join(f'{v:04d}' for v in unknown)}",
            "run the TicketPilot version that applied them (this one is older than the database)",
        )
    return f"all {len(shipped)} applied (latest {max(shipped):04d}_{shipped[max(shipped)]})"


async def redis(settings: Settings) -> str:
    url = settings.redis.url
    if not url:
        return "not configured (webhook deduplication relies on PostgreSQL alone)"
    from redis.asyncio import Redis

    timeout = settings.redis.timeout_s
    client = Redis.from_url(url, socket_timeout=max(timeout, 2.0), socket_connect_timeout=max(timeout, 2.0))
    try:
        answer = await client.ping()
    except Exception as exc:  # redis raises its own ConnectionError, TimeoutError, AuthenticationError...
        raise CheckFailed(
            f"PING failed: {type(exc).__name__}",
            "check redis.url and that Redis runs (or empty it: PostgreSQL alone still deduplicates)",
        ) from None
    finally:
        await client.aclose()
    if not answer:
        raise CheckFailed("PING was not answered with PONG", "check redis.url points at a Redis server")
    return "PING answered"


def playbooks(directory: str, loaded: Sequence[LoadedPlaybook], problems: Sequence[Problem]) -> str:
    if problems:
        shown = "; ".join(str(p) for p in problems[:SHOWN_PROBLEMS])
        more = f" (+{len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
        raise CheckFailed(
            f"{len(problems)} problem(s): {shown}{more}",
            f"fix the file(s); python main.py playbooks validate {directory} lists every problem",
        )
    names = ", ".join(
        f"{lp.playbook_id} {lp.version}" for lp in sorted(loaded, key=lambda lp: lp.playbook_id)
    )
    return f"{len(loaded)} valid in {directory}: {names}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""
