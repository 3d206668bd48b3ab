"""Recovery: SIGKILL a process holding 10,000 parked executions, restart it, time until every one is parked
again (in memory, timer armed) with its original deadlines. Target: <= 5 s, none lost.

    .venv/bin/python bench/recovery.py [--database-url URL] [--executions 10000]
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _engine_common import ApprovalWait, parser, playbook_doc, scratch_database, store

SCRIPT = str(Path(__file__).resolve())
OWNER = "bench-recovery"  # the same identity before and after the crash, as a restarted service has
STEPS = [
    {
        "id": "approve",
        "service": "approval",
        "timeout": "2h",
        "on_success": "resolved",
        "on_failure": "escalate",
    }
]


async def _engine(url: str) -> tuple[Any, Any, Any, str]:
    from ticketpilot.config import EngineConfig
    from ticketpilot.database import create_pool
    from ticketpilot.engine import Engine, SystemClock

    pool = await create_pool(url, min_size=2, max_size=10)
    playbook, digest = await store(pool, playbook_doc(STEPS))

    async def load(_pid: str, _hash: str) -> Any:
        return playbook

    engine = Engine(
        pool, {"approval": ApprovalWait()}, load, clock=SystemClock(), config=EngineConfig(), owner_id=OWNER
    )
    return engine, pool, playbook, digest


async def child_park(url: str, n: int) -> None:
    engine, pool, playbook, digest = await _engine(url)
    await engine.start()
    tickets = iter(range(n))

    async def worker() -> None:
        for ticket in tickets:
            await engine.start_execution(ticket, playbook, digest, {"requester": f"user{ticket}@example.com"})

    await asyncio.gather(*(worker() for _ in range(200)))
    while await pool.fetchval("SELECT count(*) FROM playbook_executions WHERE state = 'WAITING'") < n:
        await asyncio.sleep(0.05)
    print("PARKED", flush=True)
    await asyncio.sleep(3600)  # until SIGKILL


async def child_recover(url: str, n: int, process_began: float) -> None:
    engine, pool, _, _ = await _engine(url)
    began = time.perf_counter()
    await engine.start()
    started = time.perf_counter()
    while engine.live_executions < n or engine.timers_pending < n:
        await asyncio.sleep(0.01)
    ready = time.perf_counter()
    rows = await pool.fetch("SELECT execution_id, deadline FROM playbook_executions")
    timers = engine._runtime.timers
    mismatches = sum(1 for r in rows if timers.deadline(r["execution_id"]) != r["deadline"])
    print(
        json.dumps(
            {
                "engine_start_s": started - began,
                "ready_after_start_s": ready - began,
                "ready_after_process_start_s": ready - process_began,
                "live": engine.live_executions,
                "timers": engine.timers_pending,
                "timer_deadline_mismatches": mismatches,
            }
        ),
        flush=True,
    )
    await engine.stop()
    await pool.close()


async def parent(args: Any) -> None:
    n = args.executions
    async with scratch_database(args.database_url) as url:
        import asyncpg

        me = [sys.executable, SCRIPT, "--database-url", args.database_url]
        park = await asyncio.create_subprocess_exec(
            *me, "--child", "park", "--url", url, "--executions", str(n), stdout=asyncio.subprocess.PIPE
        )
        assert park.stdout is not None
        began = time.perf_counter()
        line = await asyncio.wait_for(park.stdout.readline(), 300)
        assert line.strip() == b"PARKED", line
        print(f"{n} executions parked in {time.perf_counter() - began:.1f} s by process {park.pid}")
        conn = await asyncpg.connect(url)
        before = {
            r["execution_id"]: r["deadline"]
            for r in await conn.fetch(
                "SELECT execution_id, deadline FROM playbook_executions WHERE state = 'WAITING'"
            )
        }
        os.kill(park.pid, signal.SIGKILL)
        await park.wait()
        print(f"  SIGKILL: exit code {park.returncode}; {len(before)} executions WAITING in the database")

        spawned = time.perf_counter()
        recover = await asyncio.create_subprocess_exec(
            *me, "--child", "recover", "--url", url, "--executions", str(n), stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(recover.communicate(), 300)
        wall = time.perf_counter() - spawned
        result = json.loads(out.decode().strip().splitlines()[-1])
        after = {
            r["execution_id"]: r["deadline"]
            for r in await conn.fetch(
                "SELECT execution_id, deadline FROM playbook_executions WHERE state = 'WAITING'"
            )
        }
        await conn.close()
    moved = sum(1 for k, v in before.items() if after.get(k) != v)
    lost = n - len(after)
    print(
        f"  restart: engine.start() {result['engine_start_s']:.2f} s; all {result['live']} parked again with "
        f"timers armed {result['ready_after_start_s']:.2f} s after start() "
        f"({result['ready_after_process_start_s']:.2f} s after interpreter start, {wall:.2f} s wall incl. exit)"
    )
    print(
        f"  in-memory deadlines differing from the stored ones: {result['timer_deadline_mismatches']}; "
        f"stored deadlines moved: {moved}; executions lost: {lost}  "
        f"[target <= 5 s, none lost: "
        f"{'ok' if result['ready_after_process_start_s'] <= 5 and lost == 0 and moved == 0 else 'MISSED'}]"
    )


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--executions", type=int, default=10_000)
    p.add_argument("--child", choices=["park", "recover"])
    p.add_argument("--url")
    args = p.parse_args()
    from ticketpilot.logging import configure_logging

    configure_logging("WARNING", "console", stream=sys.stderr)
    if args.child == "park":
        asyncio.run(child_park(args.url, args.executions))
    elif args.child == "recover":
        asyncio.run(child_recover(args.url, args.executions, PROCESS_BEGAN))
    else:
        asyncio.run(parent(args))


PROCESS_BEGAN = time.perf_counter() - (time.time() - __import__("psutil").Process().create_time())

if __name__ == "__main__":
    main()
