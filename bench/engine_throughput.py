"""Engine throughput: a 3-step no-op playbook, N concurrent executions, every transition durably committed.

Side by side in one run: the TicketPilot engine (group commit), a plain asyncpg loop committing once per
transition (the same rows), and DBOS Transact (a 3-step workflow on the same server) when installed.

    .venv/bin/python bench/engine_throughput.py [--database-url URL] [--executions 5000] [--concurrency 100]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _engine_common import (
    CpuMeter,
    NoopService,
    describe,
    parser,
    playbook_doc,
    scratch_database,
    store,
)

from ticketpilot.config import EngineConfig
from ticketpilot.database import create_pool
from ticketpilot.engine import Engine, SystemClock
from ticketpilot.metrics import CHECKPOINT_BATCH

POOL_MAX = 20
STEPS = [
    {"id": "s1", "service": "noop", "on_success": "s2", "on_failure": "escalate"},
    {"id": "s2", "service": "noop", "on_success": "s3", "on_failure": "escalate"},
    {"id": "s3", "service": "noop", "on_success": "resolved", "on_failure": "escalate"},
]


async def _commits(pool: Any) -> int:
    return int(
        await pool.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    )


def _batch_stats() -> tuple[float, float]:
    samples = {s.name: s.value for s in CHECKPOINT_BATCH.collect()[0].samples if not s.labels.get("le")}
    return samples.get("ticketpilot_checkpoint_batch_size_count", 0.0), samples.get(
        "ticketpilot_checkpoint_batch_size_sum", 0.0
    )


async def bench_engine(
    admin_url: str,
    n: int,
    concurrency: int,
    *,
    rerun_safe: bool,
    batch_max: int = 256,
    linger_ms: float = 1.0,
) -> dict[str, Any]:
    async with scratch_database(admin_url) as url:
        pool = await create_pool(url, min_size=4, max_size=POOL_MAX)
        playbook, digest = await store(pool, playbook_doc(STEPS))
        done: dict[uuid.UUID, asyncio.Future[float]] = {}
        loop = asyncio.get_running_loop()

        def finished(summary: dict[str, Any]) -> None:
            done.setdefault(summary["execution_id"], loop.create_future()).set_result(time.perf_counter())

        async def load(_pid: str, _hash: str) -> Any:
            return playbook

        engine = Engine(
            pool,
            {"noop": NoopService("noop", rerun_safe=rerun_safe)},
            load,
            clock=SystemClock(),
            config=EngineConfig(commit_linger_ms=linger_ms, commit_batch_max=batch_max),
            owner_id="bench",
            on_terminal=finished,
        )
        await engine.start()
        tickets = iter(range(n))
        latencies: list[float] = []

        async def worker() -> None:
            for ticket in tickets:
                began = time.perf_counter()
                eid, _ = await engine.start_execution(ticket, playbook, digest, {"requester": "bench"})
                ended = await done.setdefault(eid, loop.create_future())
                latencies.append(ended - began)

        count0, sum0 = _batch_stats()
        commits0 = await _commits(pool)
        cpu = CpuMeter()
        cpu.start()
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        own_cpu, pg_cpu = cpu.stop()
        commits = await _commits(pool) - commits0
        count1, sum1 = _batch_stats()
        resolved = await pool.fetchval("SELECT count(*) FROM playbook_executions WHERE state = 'RESOLVED'")
        rows = await pool.fetchval("SELECT count(*) FROM playbook_step_executions")
        await engine.stop()
        await pool.close()
    assert resolved == n, f"only {resolved}/{n} resolved"
    return {
        "name": f"ticketpilot engine (steps rerun_safe={rerun_safe})",
        "rate": n / elapsed,
        "latencies": latencies,
        "extra": f"{rows} step rows, {commits} commits, mean checkpoint batch "
        f"{(sum1 - sum0) / max(1, count1 - count0):.1f}; " + _cpu(own_cpu, pg_cpu, n),
    }


async def bench_asyncpg(admin_url: str, n: int, concurrency: int) -> dict[str, Any]:
    """The same rows, one transaction per transition, no batching."""
    async with scratch_database(admin_url) as url:
        pool = await create_pool(url, min_size=4, max_size=POOL_MAX)
        playbook, digest = await store(pool, playbook_doc(STEPS))
        tickets = iter(range(n))
        latencies: list[float] = []

        async def one(ticket: int) -> None:
            eid = uuid.uuid4()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO playbook_executions (execution_id, ticket_id, playbook_id, playbook_hash,"
                    " playbook_version, state, current_step, step_phase, context, owner, epoch)"
                    " VALUES ($1, $2, $3, $4, '1.0.0', 'RUNNING', 's1', 'started', $5::text::jsonb, 'bench', 1)",
                    eid,
                    ticket,
                    playbook.id,
                    digest,
                    json.dumps({"requester": "bench"}),
                )
            for seq, (sid, nxt) in enumerate((("s1", "s2"), ("s2", "s3"), ("s3", None)), start=1):
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute(
                        "INSERT INTO playbook_step_executions (execution_id, seq, step_id, service, attempt, outcome)"
                        " VALUES ($1, $2, $3, 'noop', 1, 'success')",
                        eid,
                        seq,
                        sid,
                    )
                    await conn.execute(
                        "UPDATE playbook_executions SET current_step = $2, seq = $3, state = $4, updated_at = now()"
                        " WHERE execution_id = $1 AND epoch = 1",
                        eid,
                        nxt or "resolved",
                        seq,
                        "RUNNING" if nxt else "RESOLVED",
                    )
                    await conn.execute(
                        "INSERT INTO outbox (kind, ticket_id, payload, dedupe_key) VALUES ('halopsa.note', $1,"
                        " '{}'::jsonb, $2)",
                        ticket,
                        f"{eid}:{seq}:note",
                    )

        async def worker() -> None:
            for ticket in tickets:
                began = time.perf_counter()
                await one(ticket)
                latencies.append(time.perf_counter() - began)

        commits0 = await _commits(pool)
        cpu = CpuMeter()
        cpu.start()
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        own_cpu, pg_cpu = cpu.stop()
        commits = await _commits(pool) - commits0
        await pool.close()
    return {
        "name": "plain asyncpg, one commit per transition",
        "rate": n / elapsed,
        "latencies": latencies,
        "extra": f"{commits} commits; " + _cpu(own_cpu, pg_cpu, n),
    }


async def bench_dbos(admin_url: str, n: int, concurrency: int) -> dict[str, Any] | str:
    try:
        from dbos import DBOS
    except ImportError as exc:
        return (
            f"DBOS Transact not installed ({exc}); `.venv/bin/pip install dbos` to compare (benchmark only)"
        )
    async with scratch_database(admin_url, prefix="tp_bench_dbos") as url:
        sys_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        try:
            DBOS(
                config={
                    "name": "tp_bench",
                    "system_database_url": sys_url,
                    "log_level": "WARNING",
                    "sys_db_pool_size": POOL_MAX,
                }
            )

            @DBOS.step()
            async def noop(i: int) -> int:
                return i

            @DBOS.workflow()
            async def three_steps(i: int) -> int:
                await noop(i)
                await noop(i)
                await noop(i)
                return i

            DBOS.launch()
        except Exception as exc:
            DBOS.destroy(destroy_registry=True)
            return f"DBOS could not start: {exc!r}"
        try:
            tickets = iter(range(n))
            latencies: list[float] = []

            async def worker() -> None:
                for ticket in tickets:
                    began = time.perf_counter()
                    handle = await DBOS.start_workflow_async(three_steps, ticket)
                    await handle.get_result()
                    latencies.append(time.perf_counter() - began)

            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - began
        finally:
            DBOS.destroy(destroy_registry=True)
    return {
        "name": f"DBOS Transact {_version('dbos')}, 3-step workflow",
        "rate": n / elapsed,
        "latencies": latencies,
        "extra": "",
    }


def _cpu(own: float, pg: float, n: int) -> str:
    per = (own + pg) / n * 1000
    return f"CPU per execution: {own / n * 1000:.2f} ms Python + {pg / n * 1000:.2f} ms PostgreSQL = {per:.2f} ms"


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def report(result: dict[str, Any] | str) -> float | None:
    if isinstance(result, str):
        print(f"  {result}")
        return None
    print(f"  {result['name']:<48} {result['rate']:8.0f} exec/s   {describe(result['latencies'])}")
    if result["extra"]:
        print(f"  {'':<48} {result['extra']}")
    return float(result["rate"])


async def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--executions", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--dbos-executions", type=int, default=1000, help="fewer: DBOS is much slower")
    p.add_argument("--skip-dbos", action="store_true")
    p.add_argument("--batch-max", type=int, default=EngineConfig().commit_batch_max)
    p.add_argument("--linger-ms", type=float, default=EngineConfig().commit_linger_ms)
    p.add_argument("--engine-only", action="store_true")
    args = p.parse_args()
    n, c = args.executions, args.concurrency
    print(f"{n} executions of a 3-step no-op playbook, {c} concurrent, PostgreSQL at {args.database_url}")
    tuning = {"batch_max": args.batch_max, "linger_ms": args.linger_ms}
    print(f"engine config: commit_batch_max={args.batch_max} commit_linger_ms={args.linger_ms}")
    engine = report(await bench_engine(args.database_url, n, c, rerun_safe=True, **tuning))
    if args.engine_only:
        return
    report(await bench_engine(args.database_url, n, c, rerun_safe=False, **tuning))
    report(await bench_asyncpg(args.database_url, n, c))
    dbos = None if args.skip_dbos else report(await bench_dbos(args.database_url, args.dbos_executions, c))
    if engine and dbos:
        print(f"  engine / DBOS: {engine / dbos:.1f}x")


if __name__ == "__main__":
    import logging

    from ticketpilot.logging import configure_logging

    configure_logging("WARNING", "console")
    logging.getLogger("dbos").setLevel(logging.WARNING)
    asyncio.run(main())
