"""Webhook intake and gate benchmark (not part of the test suite).

1. Intake: a load generator (aiohttp client, N concurrent connections on loopback) posts HaloPSA
   ``ticket_created`` deliveries, each with a new delivery id, for a fixed time, against
   a. a bare aiohttp handler that parses the JSON and answers 200 (the ceiling of this machine), and
   b. the real ``/webhooks/halopsa/ticket_created`` route: Basic auth, parsing, Redis fast path (when
      ``--redis-url`` is given) and the durable inbox (group-committed INSERTs into real PostgreSQL),
      answered only after the commit.
   Each server runs in its own process; it reports accepted webhooks/s and the time to answer
   (p50 / p99 / max).
2. Gate: ``Gate.decide`` for many tickets from one requester with an instant classifier, a cached
   directory and a no-op engine, so what is timed is the gate's own work: policy reads, the decision,
   the decision row and its outbox rows in one transaction. Reports p50 / p99 per ticket.

Usage: ``.venv/bin/python bench/webhook_intake.py [--database-url URL] [--redis-url URL] [--seconds 10]``.
The benchmark creates its own database (``tp_bench_<pid>``) and drops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing
import os
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ticketpilot.adapters.base import DirectoryUser, PhoneMethod, PrivilegeCheck, Ticket, UserRisk
from ticketpilot.config import HalopsaConfig, PolicyConfig, Settings
from ticketpilot.database import create_pool
from ticketpilot.engine.migrate import migrate
from ticketpilot.logging import configure_logging

USER, PASSWORD = "halo", "bench-password"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
HEADERS = {**AUTH, "Content-Type": "application/json"}


# --- servers (child processes) --------------------------------------------------------------------------


def _settings() -> Settings:
    from pydantic import SecretStr

    return Settings(halopsa=HalopsaConfig(webhook_username=USER, webhook_password=SecretStr(PASSWORD)))


async def _bare_app() -> tuple[web.Application, Any]:
    async def handler(request: web.Request) -> web.Response:
        await request.json()
        return web.json_response({"accepted": 1, "duplicates": 0, "ignored": 0})

    app = web.Application()
    app.router.add_post("/webhooks/halopsa/ticket_created", handler)

    async def close() -> None:
        return None

    return app, close


async def _intake_app(db_url: str, redis_url: str) -> tuple[web.Application, Any]:
    from redis.asyncio import Redis

    from ticketpilot.gate.dedupe import RedisDedupe
    from ticketpilot.gate.inbox_writer import InboxWriter
    from ticketpilot.gate.intake import WebhookIntake
    from ticketpilot.http import webhooks
    from ticketpilot.http.context import SERVICES
    from ticketpilot.http.errors import error_middleware

    pool = await create_pool(db_url, min_size=4, max_size=8)
    redis = Redis.from_url(redis_url, socket_timeout=0.5) if redis_url else None
    writer = InboxWriter(pool)
    dedupe = RedisDedupe(redis, ttl_s=86_400)
    intake = WebhookIntake(writer, dedupe)
    app = web.Application(middlewares=[error_middleware])
    app[SERVICES] = SimpleNamespace(settings=_settings(), pool=pool, extras={"intake": intake})  # type: ignore[assignment]
    app.router.add_routes(webhooks.routes)

    async def close() -> None:
        await writer.stop()
        await dedupe.close()
        await pool.close()
        if redis is not None:
            await redis.aclose()

    return app, close


def _serve(kind: str, db_url: str, redis_url: str, ready: Any, done: Any) -> None:
    async def main() -> None:
        configure_logging("WARNING", "console")
        app, close = await (_bare_app() if kind == "bare" else _intake_app(db_url, redis_url))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = runner.addresses[0][1]
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        ready.put(port)
        cpu_before = time.process_time()
        await stop.wait()
        done.put(time.process_time() - cpu_before)  # CPU seconds this server spent under load
        await runner.cleanup()
        await close()

    asyncio.run(main())


# --- load generator -------------------------------------------------------------------------------------


_BODY = (
    '{{"id":"{run}-{n}","webhook_id":"5a0e1c6e-0000-4000-8000-000000000001","notification_id":41,'
    '"escmsg_id":"{run}-m{n}","event":"New Ticket Logged","message":"A new ticket has been logged: {n}",'
    '"object_id":{ticket},"agent_id":3,"timestamp":"2026-09-25T06:41:08.79Z"}}'
)


def _delivery(run: str, n: int) -> bytes:
    """A HaloPSA delivery with a new id (cheap to build: the client shares the CPUs with the server)."""
    return _BODY.format(run=run, n=n, ticket=100_000 + n).encode()


async def _load(port: int, seconds: float, connections: int) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/webhooks/halopsa/ticket_created"
    latencies: list[float] = []
    errors = 0
    counter = 0
    run = uuid.uuid4().hex
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(record: bool) -> None:
            nonlocal errors, counter
            counter += 1
            started = time.perf_counter()
            async with session.post(url, data=_delivery(run, counter), headers=HEADERS) as resp:
                await resp.read()
                ok = resp.status == 200
            if record:
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

        async def client(deadline: float, record: bool) -> None:
            while time.perf_counter() < deadline:
                await one(record)

        warmup = time.perf_counter() + 1.0
        await asyncio.gather(*(client(warmup, False) for _ in range(connections)))
        began = time.perf_counter()
        await asyncio.gather(*(client(began + seconds, True) for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "rate": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "max_ms": 1000 * latencies[-1],
        "errors": errors,
        "count": len(latencies),
        "requests": counter,
    }


def _run_server_and_load(
    kind: str, db_url: str, redis_url: str, seconds: float, connections: int
) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Queue(), ctx.Queue()
    proc = ctx.Process(target=_serve, args=(kind, db_url, redis_url, ready, done), daemon=True)
    proc.start()
    try:
        port = ready.get(timeout=30)
        result = asyncio.run(_load(port, seconds, connections))
    finally:
        if proc.pid is not None:
            os.kill(proc.pid, signal.SIGTERM)
    result["cpu_us"] = 1e6 * done.get(timeout=30) / max(result["requests"], 1)
    proc.join(timeout=10)
    return result


# --- gate work per ticket -------------------------------------------------------------------------------


class _InstantClassifier:
    name = "bench"
    version = "1"

    async def classify(self, ticket: Any) -> Any:
        from ticketpilot.gate.classification import Classification, ClassifierResult

        return ClassifierResult(
            classification=Classification(
                category="REQUEST",
                sub_category="PASSWORD_RESET",
                confidence=0.95,
                reasoning="forgot password",
                own_account=True,
            ),
            classifier="bench",
            classifier_version="1",
        )


class _Directory:
    async def resolve_user(self, *, azure_oid: str = "", email: str = "") -> DirectoryUser:
        return DirectoryUser(
            id="u-1", user_principal_name=email, mail=email, phones=(PhoneMethod(number="+447700900123"),)
        )

    async def get_manager(self, user_id: str) -> DirectoryUser | None:
        return None

    async def check_privileged(self, user_id: str) -> PrivilegeCheck:
        return PrivilegeCheck(privileged=False)

    async def get_user_risk(self, user_id: str) -> UserRisk:
        return UserRisk()

    async def list_security_info_changes(self, user_id: str, *, since: Any) -> tuple[Any, ...]:
        return ()


class _Engine:
    async def start_execution(
        self, ticket_id: int, playbook: Any, content_hash: str, context: dict[str, Any]
    ) -> Any:
        return uuid.uuid4(), True


async def _gate_bench(db_url: str, tickets: int) -> dict[str, float]:
    from ticketpilot.gate.enrichment import RequesterResolver
    from ticketpilot.gate.facts import Candidate
    from ticketpilot.gate.policy import RuntimePolicy
    from ticketpilot.gate.service import Gate
    from ticketpilot.playbooks.model import Playbook

    playbook = Playbook.model_validate(
        {
            "id": "password_reset",
            "name": "Password reset",
            "version": "1.0.0",
            "confidence_threshold": 0.8,
            "triggers": {"sub_categories": ["PASSWORD_RESET"]},
            "steps": [
                {"id": "deliver", "service": "delivery.sms", "on_success": "done", "on_failure": "escalate"},
                {"id": "done", "terminal": "RESOLVED"},
                {"id": "escalate", "terminal": "ESCALATED"},
            ],
        }
    )
    loaded = Candidate(playbook=playbook, content_hash="bench")
    registry = SimpleNamespace(
        for_sub_category=lambda sub: [loaded], loaded=lambda: [loaded], active=lambda pid: loaded
    )
    pool = await create_pool(db_url, min_size=2, max_size=4)
    gate = Gate(
        pool=pool,
        classifier=_InstantClassifier(),
        resolver=RequesterResolver(_Directory(), ttl_s=300),
        registry=registry,  # type: ignore[arg-type]
        policy=RuntimePolicy(PolicyConfig(cooldown_hours=0, rate_limit_per_hour=1_000_000)),
        engine=_Engine(),
        taxonomy=("PASSWORD_RESET",),
    )
    timings: list[float] = []
    outcomes: set[str] = set()
    try:
        for i in range(tickets + 20):
            t = Ticket(
                id=500_000 + i, summary="Forgot my password", details="please reset", user_email="a@b.example"
            )
            started = time.perf_counter()
            record = await gate.decide(t, source="webhook")
            if i >= 20:  # warm-up
                timings.append(time.perf_counter() - started)
                outcomes.add(record.outcome.value)
    finally:
        await pool.close()
    timings.sort()
    return {
        "p50_ms": 1000 * statistics.median(timings),
        "p99_ms": 1000 * timings[int(0.99 * (len(timings) - 1))],
        "count": len(timings),
        "outcomes": ",".join(sorted(outcomes)),  # type: ignore[dict-item]
    }


# --- main -------------------------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _create_db(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = _with_database(admin_url, name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def _drop_db(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--redis-url", default="", help="enable the Redis fast path (e.g. redis://127.0.0.1:6379/15)"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per server and round")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds, servers interleaved (a shared machine is noisy)"
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--gate-tickets", type=int, default=1000)
    args = parser.parse_args()
    configure_logging("WARNING", "console")  # the figures, not a log line per request or decision

    name = f"tp_bench_{os.getpid()}"
    db_url = asyncio.run(_create_db(args.database_url, name))
    try:
        print(
            f"{args.connections} connections on loopback, {args.seconds:g} s per server per round, "
            f"{args.rounds} rounds, {os.cpu_count()} CPUs (client, servers and PostgreSQL share them)"
        )
        servers = [("bare aiohttp handler", "bare", ""), ("durable inbox (PostgreSQL)", "intake", "")]
        if args.redis_url:
            servers.append(("durable inbox + Redis fast path", "intake", args.redis_url))
        print(
            f"{'round':<6} {'server':<34} {'accepted/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}",
            end="",
        )
        print(f" {'errors':>7}")
        results: dict[str, list[dict[str, float]]] = {label: [] for label, _, _ in servers}
        for round_no in range(1, args.rounds + 1):
            for label, kind, redis_url in servers:
                r = _run_server_and_load(kind, db_url, redis_url, args.seconds, args.connections)
                results[label].append(r)
                print(
                    f"{round_no:<6} {label:<34} {r['rate']:>10.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}"
                    f" {r['max_ms']:>8.2f} {r['errors']:>7.0f} {r['cpu_us']:>12.0f} µs"
                )
        print("median over rounds:")
        for label, runs in results.items():
            rate = statistics.median(r["rate"] for r in runs)
            p99 = statistics.median(r["p99_ms"] for r in runs)
            cpu = statistics.median(r["cpu_us"] for r in runs)
            print(f"       {label:<34} {rate:>10.0f} {'':>8} {p99:>8.2f} {'':>8} {'':>7} {cpu:>12.0f} µs")
        rows, commits = asyncio.run(_inbox_commits(db_url))
        print(
            f"inbox: {rows} rows committed in {commits} transactions"
            f" ({rows / max(commits, 1):.1f} deliveries per commit)"
        )
        g = asyncio.run(_gate_bench(db_url, args.gate_tickets))
        print(
            f"gate work per ticket ({g['count']} tickets, instant classifier, cached enrichment, outcomes "
            f"{g['outcomes']}): p50 {g['p50_ms']:.2f} ms, p99 {g['p99_ms']:.2f} ms"
        )
    finally:
        asyncio.run(_drop_db(args.database_url, name))
    return 0


async def _inbox_commits(db_url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(db_url)
    try:
        row = await conn.fetchrow("SELECT count(*) AS n, count(DISTINCT xmin::text) AS tx FROM webhook_inbox")
        return int(row["n"]), int(row["tx"])
    finally:
        await conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
