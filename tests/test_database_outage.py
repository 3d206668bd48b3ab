"""Losing the database and getting it back: the REAL service process keeps answering and resumes by itself.

Two ways to lose it: every backend of the service's database terminated (``pg_terminate_backend``, what a
proxy or an operator does), and a real PostgreSQL restart (a throwaway cluster the test owns, stopped while
the service runs and started again on the same address, as after a restart or a failover). In both:

- while the database is unreachable, every webhook is *answered* (503, so HaloPSA retries) and ``/readyz``
  says not ready;
- once it is back, without restarting the service, webhooks are recorded again (200), ``/readyz`` is ready,
  new tickets are decided and run to their end;
- the LISTEN connection is back too: a signal sent from another process reaches a waiting execution at once
  (the periodic backstop read is set to once a minute here, and the execution's own timer to ten minutes,
  so only the NOTIFY can explain a prompt delivery);
- SIGTERM still stops the process promptly.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from pg_cluster import ThrowawayCluster
from service_process import (
    LOCKOUT_TEXT,
    WEBHOOK_AUTH,
    ServiceProcess,
    api_session,
    drop_database,
    fresh_database,
)
from service_support import HALO_PASSWORD, HALO_USER, running_service

from ticketpilot.engine.signals import CHANNEL, SignalListener, deliver_signal
from ticketpilot.gate.deliveries import Delivery
from ticketpilot.gate.inbox_writer import InboxUnavailable, InboxWriter
from ticketpilot.readiness import Readiness

pytestmark = pytest.mark.slow

OVERRIDES: dict[str, dict[str, Any]] = {
    # The backstop read of pending signals rides on the lease tick: once a minute here, so a prompt delivery
    # proves the LISTEN connection is back.
    "engine": {"lease_s": 180.0, "lease_renew_every_s": 60.0},
    # A manager-silent requester's execution parks for ten minutes waiting for the manager.
    "sandbox": {"manager_sms_fallback_after_s": 600.0, "manager_timeout_s": 600.0},
}


async def _until(what: str, check: Callable[[], Awaitable[Any]], timeout: float, svc: ServiceProcess) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        assert not svc.exited, f"{svc.name} exited ({svc.returncode}):\n{svc.log_tail()}"
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})\n{svc.log_tail()}")


async def _post_ticket(
    session: aiohttp.ClientSession, svc: ServiceProcess, ticket_id: int, email: str
) -> int:
    """POST one ``ticket_created`` webhook carrying the full sandbox ticket; its HTTP status.

    The session's 10 s timeout turns a hung request into a failure: every webhook must be answered."""
    ticket = {"id": ticket_id, "summary": LOCKOUT_TEXT[0], "details": LOCKOUT_TEXT[1], "user_email": email}
    delivery = {"id": f"created-{ticket_id}-{uuid.uuid4().hex[:6]}", "object_id": ticket_id, "ticket": ticket}
    try:
        async with session.post(
            f"{svc.base_url}/webhooks/halopsa/ticket_created", json=[delivery], auth=WEBHOOK_AUTH
        ) as resp:
            await resp.read()
            return resp.status
    except TimeoutError:
        raise AssertionError(f"webhook for ticket {ticket_id} was not answered:\n{svc.log_tail()}") from None


async def _readyz(session: aiohttp.ClientSession, svc: ServiceProcess) -> int:
    async with session.get(f"{svc.base_url}/readyz") as resp:
        await resp.read()
        return resp.status


async def _waiting_for_manager(session: aiohttp.ClientSession, svc: ServiceProcess, ticket_id: int) -> str:
    async def parked() -> str | None:
        execution = await svc.execution(session, ticket_id)
        if execution and execution["state"] == "WAITING" and execution["current_step"] == "verify_manager":
            return str(execution["execution_id"])
        return None

    return str(await _until(f"ticket {ticket_id} waiting for the manager", parked, 30, svc))


async def _outage_scenario(
    svc: ServiceProcess,
    db_url: str,
    lose_database: Callable[[], Awaitable[None]],
    restore: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """``lose_database()`` cuts the service off. Without ``restore`` the database is reachable again when it
    returns; with it, the scenario first checks the answers during the outage, then calls ``restore()``."""
    async with api_session() as session:
        await svc.start()
        await svc.wait_ready(session)
        # Before: one ticket runs to its end, one parks waiting for a manager who stays silent.
        assert await _post_ticket(session, svc, 910_001, "before.outage@contoso.example") == 200
        assert (await svc.wait_execution(session, 910_001))["state"] == "RESOLVED"
        assert await _post_ticket(session, svc, 910_002, "manager-silent.outage@contoso.example") == 200
        waiting = await _waiting_for_manager(session, svc, 910_002)
        if restore is not None:  # and one whose MFA push is in flight when the database goes
            assert await _post_ticket(session, svc, 910_010, "inflight.outage@contoso.example") == 200
            execution = await svc.wait_execution(session, 910_010, terminal=False)
            assert execution["current_step"] == "verify_mfa", execution

        await lose_database()
        if restore is not None:
            # The push is answered while the database is down: its outcome waits for the database (or, when
            # the call itself needed the database, the execution is resumed from its record once it is back).
            await _until(
                "the in-flight execution to wait for the database",
                lambda: _is_true(
                    any(e in svc.logs() for e in ("waiting_for_database", "step_lost_database"))
                ),
                30,
                svc,
            )
            # Unreachable: answered (never hung), with 503, and not ready.
            assert await _post_ticket(session, svc, 910_003, "during.outage@contoso.example") == 503
            await _until("/readyz to say not ready", lambda: _is(_readyz(session, svc), 503), 30, svc)
            assert await _post_ticket(session, svc, 910_003, "during.outage@contoso.example") == 503
            await restore()

        # Back: every webhook answered (a first 503 is allowed while connections are re-made), then recorded.
        statuses: list[int] = []

        async def recorded() -> bool:
            status = await _post_ticket(session, svc, 910_004, "after.outage@contoso.example")
            statuses.append(status)
            assert status in (200, 503), statuses
            return status == 200

        await _until("a webhook to be recorded again", recorded, 30, svc)
        for n in range(910_005, 910_008):  # and the ones after it too (each answered within the timeout)
            assert await _post_ticket(session, svc, n, f"after{n}.outage@contoso.example") == 200
        await _until("/readyz to say ready", lambda: _is(_readyz(session, svc), 200), 30, svc)
        for n in [*range(910_004, 910_008), *([910_010] if restore is not None else [])]:
            assert (await svc.wait_execution(session, n, timeout=60))["state"] == "RESOLVED", n

        # A signal from another process (this test) reaches the parked execution through NOTIFY.
        db = await asyncpg.connect(db_url)
        try:
            assert await deliver_signal(db, uuid.UUID(waiting), "cancel", "cancel", {"reason": "test"})
        finally:
            await db.close()
        cancelled = await svc.wait_execution(session, 910_002, timeout=20)
        assert cancelled["state"] == "CANCELLED", cancelled

        # SIGTERM still stops it promptly.
        began = time.monotonic()
        assert await svc.stop(timeout=15) == 0, svc.log_tail()
        assert time.monotonic() - began < 15


async def _is_true(value: bool) -> bool:
    return value


async def _is(status: Awaitable[int], expected: int) -> bool:
    try:
        return await status == expected
    except aiohttp.ClientError:
        return False


async def test_terminated_backends_leave_no_loop_hung(
    pg_admin_url: str, pg_template: str, tmp_path: Path
) -> None:
    db_url = await fresh_database(pg_admin_url, pg_template, prefix="tp_outage")
    name = db_url.rsplit("/", 1)[1]
    svc = ServiceProcess("terminated", tmp_path, db_url, overrides=OVERRIDES)

    async def terminate_backends() -> None:
        admin = await asyncpg.connect(pg_admin_url)
        try:
            for _ in range(3):  # connections re-made meanwhile are cut too, as in the report
                await admin.fetch(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = $1 AND pid <> pg_backend_pid()",
                    name,
                )
                await asyncio.sleep(0.2)
        finally:
            await admin.close()

    try:
        await _outage_scenario(svc, db_url, terminate_backends)
    finally:
        if not svc.exited and svc.proc is not None:
            await svc.kill()
        await drop_database(pg_admin_url, db_url)


async def test_postgresql_restart_is_survived_without_restarting_the_service(tmp_path: Path) -> None:
    cluster = ThrowawayCluster().create()
    await asyncio.to_thread(cluster.start)
    try:
        db_url = cluster.url("postgres")
        # Pushes answered after 3 s: the in-flight one is answered during the outage.
        overrides = {**OVERRIDES, "sandbox": {**OVERRIDES["sandbox"], "mfa_approve_after_s": 3.0}}
        svc = ServiceProcess("restart", tmp_path, db_url, overrides=overrides)

        async def stop_server() -> None:
            await asyncio.to_thread(cluster.stop)

        async def start_server() -> None:
            await asyncio.to_thread(cluster.start)

        try:
            await _outage_scenario(svc, db_url, stop_server, start_server)
        finally:
            if not svc.exited and svc.proc is not None:
                await svc.kill()
    finally:
        await asyncio.to_thread(cluster.remove)


# ---- the two loops the report named, in process: fast and exact --------------------------------------------


async def _terminate_backends(admin_url: str, db_url: str) -> None:
    """Terminate every backend of the database; returns once this process has seen its connections drop
    (a probe connection closed by the same termination), so the pool has detached the lost ones."""
    probe = await asyncpg.connect(db_url)
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            db_url.rsplit("/", 1)[1],
        )
    finally:
        await admin.close()
    deadline = time.monotonic() + 10
    while not probe.is_closed() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert probe.is_closed()
    for _ in range(5):  # the other connections' end-of-stream, read in the same loop iterations
        await asyncio.sleep(0)


def _delivery(n: int) -> Delivery:
    return Delivery("halopsa", "ticket_created", f"outage-{n}", n, {"id": f"outage-{n}"})


async def test_the_inbox_writer_answers_every_request_after_losing_its_connection(
    pool: asyncpg.Pool, db_url: str, pg_admin_url: str
) -> None:
    writer = InboxWriter(pool)
    try:
        assert await writer.record([_delivery(1)]) == [True]
        await _terminate_backends(pg_admin_url, db_url)
        # The batch on the lost connection is refused (503), never left waiting; the next ones are recorded.
        outcomes: list[object] = []
        for n in (2, 3, 4):
            try:
                outcomes.append(await asyncio.wait_for(writer.record([_delivery(n)]), 10))
            except InboxUnavailable:
                outcomes.append("unavailable")
        assert outcomes[1:] == [[True], [True]], outcomes
        assert outcomes[0] in ("unavailable", [True]), outcomes
    finally:
        await writer.stop()


async def test_the_signal_listener_comes_back_by_itself_and_says_so(
    pool: asyncpg.Pool, db_url: str, pg_admin_url: str
) -> None:
    readiness = Readiness()
    heard: list[uuid.UUID] = []
    reconnected = asyncio.Event()
    listener = SignalListener(pool, heard.append, on_reconnect=reconnected.set, readiness=readiness)
    await listener.start()
    try:
        await _terminate_backends(pg_admin_url, db_url)
        # Nobody calls ensure(): the lost connection is noticed and re-made in the background, and the engine
        # is told to re-read what it may have missed.
        await asyncio.wait_for(reconnected.wait(), 10)
        assert listener.connected and readiness.ready, readiness.problems
        execution_id = uuid.uuid4()
        await pool.execute("SELECT pg_notify($1, $2)", CHANNEL, str(execution_id))
        deadline = time.monotonic() + 10
        while execution_id not in heard and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert heard == [execution_id]
    finally:
        await listener.stop()


async def test_a_connection_left_on_a_read_only_standby_is_not_ready_and_refuses_webhooks(
    db_url: str, tmp_path: Path, pg_admin_url: str
) -> None:
    """After a failover a connection can land on a standby: reachable, but nothing can be recorded there."""
    name = db_url.rsplit("/", 1)[1]
    auth = aiohttp.BasicAuth(HALO_USER, HALO_PASSWORD)

    async def post(n: int) -> int:
        delivery = {"id": f"standby-{n}", "object_id": n}
        resp = await svc.client.post("/webhooks/halopsa/ticket_created", json=[delivery], auth=auth)
        return resp.status

    async with running_service(db_url, tmp_path) as svc:
        admin = await asyncpg.connect(pg_admin_url)
        try:
            await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            await _terminate_backends(pg_admin_url, db_url)  # every new connection is now read-only
            ready = await svc.client.get("/readyz")
            body = await ready.json()
            assert ready.status == 503 and body["checks"]["database"]["ok"] is False, body
            assert await post(940_001) == 503
            # The primary is back at that address (its sessions are writable again).
            await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
            await admin.close()
        deadline = time.monotonic() + 15
        ready_status, posted = 0, 0
        while time.monotonic() < deadline and (ready_status, posted) != (200, 200):
            ready_status = (await svc.client.get("/readyz")).status
            posted = await post(940_002)
            await asyncio.sleep(0.05)
        assert (ready_status, posted) == (200, 200)
