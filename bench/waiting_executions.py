"""Parked executions cost memory, not CPU: 10,000 executions waiting on approvals in one process.

Targets: RSS <= 200 MB with 10,000 parked; CPU while idle <= 2 % of one core over 30 s (lease renewal,
takeover scan and the signal backstop included).

    .venv/bin/python bench/waiting_executions.py [--database-url URL] [--executions 10000] [--idle-s 30]
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
from _engine_common import ApprovalWait, parser, playbook_doc, scratch_database, store

from ticketpilot.config import EngineConfig
from ticketpilot.database import create_pool
from ticketpilot.engine import Engine, SystemClock

STEPS = [
    {
        "id": "approve",
        "service": "approval",
        "timeout": "2h",
        "on_success": "resolved",
        "on_failure": "escalate",
    }
]


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


async def park(url: str, n: int, concurrency: int = 200) -> tuple[Engine, Any]:
    pool = await create_pool(url, min_size=2, max_size=10)
    playbook, digest = await store(pool, playbook_doc(STEPS))

    async def load(_pid: str, _hash: str) -> Any:
        return playbook

    engine = Engine(
        pool,
        {"approval": ApprovalWait()},
        load,
        clock=SystemClock(),
        config=EngineConfig(),
        owner_id="bench-waiting",
    )
    await engine.start()
    tickets = iter(range(n))

    async def worker() -> None:
        for ticket in tickets:
            await engine.start_execution(ticket, playbook, digest, {"requester": f"user{ticket}@example.com"})

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    while await pool.fetchval("SELECT count(*) FROM playbook_executions WHERE state = 'WAITING'") < n:
        await asyncio.sleep(0.1)
    while engine.timers_pending < n:
        await asyncio.sleep(0.05)
    return engine, pool


async def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--executions", type=int, default=10_000)
    p.add_argument("--idle-s", type=float, default=30.0)
    args = p.parse_args()
    async with scratch_database(args.database_url) as url:
        gc.collect()
        baseline = rss_mb()
        began = time.perf_counter()
        engine, pool = await park(url, args.executions)
        parked_in = time.perf_counter() - began
        await asyncio.sleep(1.0)
        gc.collect()
        rss = rss_mb()
        print(
            f"{args.executions} executions parked in {parked_in:.1f} s "
            f"(live {engine.live_executions}, timers {engine.timers_pending})"
        )
        print(
            f"  RSS: {rss:.0f} MB with them parked (process baseline before: {baseline:.0f} MB; "
            f"{(rss - baseline) * 1024 / args.executions:.1f} KB per parked execution)  "
            f"[target <= 200 MB: {'ok' if rss <= 200 else 'MISSED'}]"
        )
        tasks = len(asyncio.all_tasks())
        proc = psutil.Process()
        cpu0, wall0 = proc.cpu_times(), time.perf_counter()
        await asyncio.sleep(args.idle_s)
        cpu1, wall1 = proc.cpu_times(), time.perf_counter()
        used = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        share = 100 * used / (wall1 - wall0)
        print(
            f"  idle for {wall1 - wall0:.0f} s: {used * 1000:.0f} ms CPU = {share:.2f} % of one core "
            f"(lease renewal every {EngineConfig().lease_renew_every_s:g} s included)  "
            f"[target <= 2 %: {'ok' if share <= 2 else 'MISSED'}]"
        )
        print(f"  asyncio tasks alive while parked: {tasks} (no coroutine per parked execution)")
        await engine.stop()
        await pool.close()


if __name__ == "__main__":
    from ticketpilot.logging import configure_logging

    configure_logging("WARNING", "console")
    asyncio.run(main())
