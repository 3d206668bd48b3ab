"""Engine throughput: a 3-step no-op playbook, N concurrent executions, every transition durably committed.

Side by side in one run: the TicketPilot engine (group commit), a plain asyncpg loop committing once per
transition (the same rows), and DBOS Transact (a 3-step workflow on the same server) when installed.
``--repeat`` runs the whole set several times and ends with the medians (a shared machine is noisy: compare
figures of the same run, and note the load average printed with each line).

    .venv/bin/python bench/engine_throughput.py [--database-url URL] [--executions 5000] [--concurrency 100]
        [--repeat 3]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _engine_common import (
    CpuMeter,
    NoopService,
    describe,
    load_average,
    parser,
    percentile,
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
    metric = next(iter(CHECKPOINT_BATCH.collect()))
    samples = {s.name: s.value for s in metric.samples if not s.labels.get("le")}
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
        cpu = CpuMeter(url)
        load0 = load_average()
        await cpu.start()
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        own_cpu, pg_cpu = await cpu.stop()
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
        "load": load0,
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
        cpu = CpuMeter(url)
        load0 = load_average()
        await cpu.start()
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
        own_cpu, pg_cpu = await cpu.stop()
        commits = await _commits(pool) - commits0
        await pool.close()
    return {
        "name": "plain asyncpg, one commit per transition",
        "rate": n / elapsed,
        "latencies": latencies,
        "load": load0,
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

            cpu = CpuMeter(url)
            load0 = load_average()
            await cpu.start()
            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - began
            own_cpu, pg_cpu = await cpu.stop()
        finally:
            DBOS.destroy(destroy_registry=True)
    return {
        "name": f"DBOS Transact {_version('dbos')}, 3-step workflow",
        "rate": n / elapsed,
        "latencies": latencies,
        "load": load0,
        "extra": _cpu(own_cpu, pg_cpu, n),
    }


def _cpu(own: float, pg: float, n: int) -> str:
    per = (own + pg) / n * 1000
    return (
        f"CPU per execution: {own / n * 1000:.2f} ms Python + {pg / n * 1000:.2f} ms PostgreSQL backends"
        f" = {per:.2f} ms"
    )


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def report(result: dict[str, Any] | str) -> dict[str, Any] | None:
    if isinstance(result, str):
        print(f"  {result}")
        return None
    print(
        f"  {result['name']:<48} {result['rate']:8.0f} exec/s   {describe(result['latencies'])}"
        f"   load {result['load']}"
    )
    if result["extra"]:
        print(f"  {'':<48} {result['extra']}")
    return result


def summarise(runs: list[dict[str, dict[str, Any]]]) -> None:
    """Medians over the runs, and the ratios of the engine to the others (median of per-run ratios)."""
    print(f"medians over {len(runs)} runs:")
    for name in runs[0]:
        results = [run[name] for run in runs if name in run]
        rate = statistics.median(r["rate"] for r in results)
        p50 = statistics.median(percentile(r["latencies"], 50) for r in results) * 1000
        p99 = statistics.median(percentile(r["latencies"], 99) for r in results) * 1000
        print(f"  {name:<48} {rate:8.0f} exec/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    for other in ("dbos", "plain"):
        ratios = [run["engine"]["rate"] / run[other]["rate"] for run in runs if other in run]
        if ratios:
            each = ", ".join(f"{r:.1f}x" for r in ratios)
            print(f"  engine / {other}: {statistics.median(ratios):.1f}x (runs: {each})")


async def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--executions", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=100)
    p.add_argument("--dbos-executions", type=int, default=1000, help="fewer: DBOS is much slower")
    p.add_argument("--skip-dbos", action="store_true")
    p.add_argument("--batch-max", type=int, default=EngineConfig().commit_batch_max)
    p.add_argument("--linger-ms", type=float, default=EngineConfig().commit_linger_ms)
    p.add_argument("--engine-only", action="store_true")
    p.add_argument("--repeat", type=int, default=1, help="run the whole set this many times; print medians")
    args = p.parse_args()
    n, c = args.executions, args.concurrency
    print(f"{n} executions of a 3-step no-op playbook, {c} concurrent, PostgreSQL at {args.database_url}")
    tuning = {"batch_max": args.batch_max, "linger_ms": args.linger_ms}
    print(f"engine config: commit_batch_max={args.batch_max} commit_linger_ms={args.linger_ms}")
    runs: list[dict[str, dict[str, Any]]] = []
    for i in range(args.repeat):
        if args.repeat > 1:
            print(f"run {i + 1}/{args.repeat}")
        run: dict[str, dict[str, Any]] = {}
        contenders: list[tuple[str, Callable[[], Awaitable[dict[str, Any] | str]]]] = [
            ("engine", lambda: bench_engine(args.database_url, n, c, rerun_safe=True, **tuning))
        ]
        if not args.engine_only:
            contenders += [
                ("engine_unsafe", lambda: bench_engine(args.database_url, n, c, rerun_safe=False, **tuning)),
                ("plain", lambda: bench_asyncpg(args.database_url, n, c)),
            ]
            if not args.skip_dbos:
                contenders.append(("dbos", lambda: bench_dbos(args.database_url, args.dbos_executions, c)))
        for key, bench in contenders:
            result = report(await bench())
            if result is not None:
                run[key] = result
        for other in ("dbos", "plain"):
            if "engine" in run and other in run:
                print(f"  engine / {other}: {run['engine']['rate'] / run[other]['rate']:.1f}x")
        runs.append(run)
    if len(runs) > 1:
        summarise(runs)


if __name__ == "__main__":
    import logging

    from ticketpilot.logging import configure_logging

    configure_logging("WARNING", "console")
    logging.getLogger("dbos").setLevel(logging.WARNING)
    asyncio.run(main())
