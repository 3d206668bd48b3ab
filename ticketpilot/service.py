"""The running service: its parts, started in order and stopped in reverse."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from redis.asyncio import Redis

from ticketpilot.config import Settings
from ticketpilot.database import EmbeddedPostgres, connect, create_pool
from ticketpilot.engine.migrate import migrate
from ticketpilot.http.auth import SessionStore
from ticketpilot.playbooks.registry import PlaybookRegistry

log = structlog.get_logger(__name__)

Closer = Callable[[], Awaitable[None]]


@dataclass
class Services:
    """Everything a request handler or background task may use."""

    settings: Settings
    pool: asyncpg.Pool
    registry: PlaybookRegistry
    sessions: SessionStore
    redis: Redis | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    _closers: list[Closer] = field(default_factory=list)

    def on_close(self, closer: Closer) -> None:
        self._closers.append(closer)

    async def close(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            try:
                await closer()
            except Exception:
                log.exception("shutdown_step_failed")


@contextlib.asynccontextmanager
async def database_url(settings: Settings) -> AsyncIterator[str]:
    """The configured PostgreSQL URL, or an embedded server's (started here, stopped on exit)."""
    url = settings.database.url.get_secret_value()
    if url:
        yield url
        return
    embedded = EmbeddedPostgres(Path(settings.database.embedded_dir))
    dsn = await asyncio.to_thread(embedded.start)
    try:
        yield dsn
    finally:
        await asyncio.to_thread(embedded.stop)


async def run_migrations(dsn: str) -> list[int]:
    conn = await connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def connect_redis(url: str, timeout: float) -> Redis | None:
    """A Redis client, or None when not configured. An unreachable Redis is logged, not fatal."""
    if not url:
        return None
    client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        await client.ping()
    except Exception as exc:
        log.warning("redis_unavailable", error=str(exc))
    return client


async def start_services(settings: Settings, dsn: str) -> Services:
    """Migrate, open the pool, load playbooks and start every background part."""
    applied = await run_migrations(dsn)
    if applied:
        log.info("migrations_applied", versions=applied)
    pool = await create_pool(
        dsn,
        min_size=settings.database.pool_min,
        max_size=settings.database.pool_max,
        timeout=settings.database.command_timeout_s,
    )
    registry = PlaybookRegistry(
        pool,
        Path(settings.playbooks.dir),
        watch=settings.playbooks.watch,
        debounce_ms=settings.playbooks.watch_debounce_ms,
    )
    services = Services(
        settings=settings,
        pool=pool,
        registry=registry,
        sessions=SessionStore(ttl_s=settings.http.session_ttl_s),
    )
    services.on_close(pool.close)
    try:
        services.redis = await connect_redis(settings.redis.url, settings.redis.timeout_s)
        if services.redis is not None:
            services.on_close(services.redis.aclose)
        await registry.start()
        services.on_close(registry.stop)
    except BaseException:
        await services.close()
        raise
    return services


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop every part cleanly (embedded PostgreSQL included)."""
    from aiohttp import web

    from ticketpilot.http.app import build_app

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with database_url(settings) as dsn:
        services = await start_services(settings, dsn)
        try:
            runner = web.AppRunner(build_app(services), access_log=None, shutdown_timeout=5.0)
            await runner.setup()
            site = web.TCPSite(runner, settings.http.host, settings.http.port)
            await site.start()
            log.info(
                "service_started",
                url=f"http://{settings.http.host}:{settings.http.port}",
                adapters=settings.adapters.mode,
            )
            try:
                await stop.wait()
            finally:
                log.info("service_stopping")
                await runner.cleanup()
        finally:
            await services.close()
    log.info("service_stopped")
