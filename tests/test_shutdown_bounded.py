"""A stop never hangs: a shutdown step that does not finish is abandoned (and named in the log), and a pool
whose connections are still held is terminated after a bounded wait."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import structlog
from structlog.testing import capture_logs

from ticketpilot.config import load_settings
from ticketpilot.database import close_pool, create_pool
from ticketpilot.http.auth import SessionStore
from ticketpilot.service import Services


async def test_a_shutdown_step_that_hangs_is_abandoned_and_named(pool: asyncpg.Pool) -> None:
    services = Services(
        settings=load_settings(None),
        pool=pool,
        registry=None,
        sessions=SessionStore(ttl_s=60),  # type: ignore[arg-type]
    )
    services.close_step_timeout_s = 0.2
    ran: list[str] = []

    async def hangs() -> None:
        await asyncio.Event().wait()

    async def later() -> None:
        ran.append("later")

    services.on_close(later)  # runs after the hanging one (reverse order)
    services.on_close(hangs)
    with capture_logs() as logs:
        await asyncio.wait_for(services.close(), timeout=10)
    assert ran == ["later"]
    [event] = [e for e in logs if e["event"] == "shutdown_step_timed_out"]
    assert "hangs" in event["step"]
    structlog.reset_defaults()


async def test_a_pool_with_a_connection_still_held_is_terminated_not_waited_for(db_url: str) -> None:
    pool = await create_pool(db_url, min_size=1, max_size=2)
    held = await pool.acquire()  # a task that never gives it back
    with capture_logs() as logs:
        await asyncio.wait_for(close_pool(pool, timeout_s=0.2), timeout=10)
    assert [e["event"] for e in logs if e["event"] == "pool_close_timed_out"] == ["pool_close_timed_out"]
    del held
    with pytest.raises(asyncpg.InterfaceError, match="closed"):
        await pool.acquire()
