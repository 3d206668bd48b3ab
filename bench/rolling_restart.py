"""Rolling restart: three service processes (``python main.py serve``, sandbox adapters) on one database take a
steady stream of tickets from a mix of sandbox requesters while each replica is SIGTERMed and started again in
turn and the last one is SIGKILLed holding executions in flight. Prints tickets/s and time to resolution (p50,
p99) during the restarts and overall, and checks what the test checks (``tests/test_replicas.py``): every ticket
ends as it would without restarts, no ticket gets two credential SMS, no webhook is lost, dashboard = API.

    .venv/bin/python bench/rolling_restart.py [--database-url URL] [--tickets 150] [--rate 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from replica_fleet import FleetRun, credential_sms_per_execution, feed, make_fleet, roll, settle  # noqa: E402
from service_process import api_session, with_database  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _resolution_times(db: asyncpg.Connection) -> dict[int, tuple[float, float]]:
    """Ticket → (webhook received, execution finished) as epoch seconds, for finished executions."""
    rows = await db.fetch(
        "SELECT e.ticket_id, extract(epoch FROM min(w.received_at)) AS received,"
        " extract(epoch FROM e.finished_at) AS finished"
        " FROM playbook_executions e JOIN webhook_inbox w ON w.ticket_id = e.ticket_id"
        " WHERE e.finished_at IS NOT NULL GROUP BY e.ticket_id, e.finished_at"
    )
    return {r["ticket_id"]: (float(r["received"]), float(r["finished"])) for r in rows}


async def main(args: argparse.Namespace) -> int:
    name = f"tp_bench_roll_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(args.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    db_url = with_database(args.database_url, name)
    workdir = Path(tempfile.mkdtemp(prefix="tp-rolling-"))
    fleet = make_fleet(workdir, db_url)
    run = FleetRun(fleet)
    ok = True
    try:
        async with api_session() as session:
            await fleet[0].start()  # the first one migrates the new database
            await fleet[0].wait_ready(session, timeout=90)
            for replica in fleet[1:]:
                await replica.start()
            for replica in fleet[1:]:
                await replica.wait_ready(session, timeout=90)
            db = await asyncpg.connect(db_url)
            up = list(fleet)
            rolled = asyncio.Event()
            began = time.monotonic()
            feeding = asyncio.create_task(
                feed(run, session, rolled, 1.0 / args.rate, up, at_least=args.tickets)
            )
            while len(run.tickets) < min(20, args.tickets):
                await asyncio.sleep(0.05)
            windows: list[tuple[float, float]] = []
            for _ in range(args.rounds):
                await roll(run, session, db, up)
                windows.append((run.restarts_began, run.restarts_ended))
            rolled.set()
            await feeding
            await settle(run, session, db, timeout=300)
            ended = time.monotonic()
            board: dict[int, str] = {}
            for offset in range(0, 100_000, 200):
                async with session.get(
                    f"{fleet[0].base_url}/api/v1/dashboard/executions",
                    params={"limit": "200", "offset": str(offset)},
                    headers=fleet[0].headers,
                ) as resp:
                    page = (await resp.json())["items"]
                board.update({item["ticket_id"]: item["state"] for item in page})
                if len(page) < 200:
                    break
            times = await _resolution_times(db)
            sms = await credential_sms_per_execution(db)
            lost = await db.fetchval("SELECT count(*) FROM webhook_inbox WHERE status <> 'done'")
            decisions = await db.fetchval("SELECT count(DISTINCT ticket_id) FROM classification_results")
            for replica in fleet:
                await replica.stop(timeout=30)
            await db.close()
    finally:
        for replica in fleet:
            if replica.proc is not None and not replica.exited:
                await replica.kill()
        admin = await asyncpg.connect(args.database_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    # Wall-clock figures: monotonic times of the run mapped onto the database's epoch via the logging times.
    offset = time.time() - time.monotonic()
    in_window = [
        t
        for t in run.tickets
        if any(a <= t.logged_at <= b for a, b in windows)
        and t.ticket_id in times
        and t.expected == "RESOLVED"
    ]
    window_s = sum(b - a for a, b in windows)
    finished_in_window = sum(
        1
        for t in run.tickets
        if t.ticket_id in times and any(a + offset <= times[t.ticket_id][1] <= b + offset for a, b in windows)
    )
    resolve = [f - r for t, (r, f) in times.items() if (run.finals.get(t) or {}).get("state") == "RESOLVED"]
    during = [times[t.ticket_id][1] - times[t.ticket_id][0] for t in in_window]
    got = {t.ticket_id: (run.finals.get(t.ticket_id) or {}).get("state") for t in run.tickets}
    expected = {t.ticket_id: t.expected for t in run.tickets}
    api = {t: f["state"] for t, f in run.finals.items() if f is not None}

    start = run.events[0][0] if run.events else began
    print(
        f"replicas: {len(fleet)} on one database; {len(run.tickets)} tickets via {dict(Counter(t.via for t in run.tickets))}"
    )
    for at, what in run.events:
        print(f"  {at - start:+7.1f}s  {what}")
    print(f"outcomes: {dict(Counter(got.values()))}")
    print(
        f"throughput: {len(run.tickets) / (ended - began):.2f} tickets/s overall;"
        f" {finished_in_window / window_s if window_s else float('nan'):.2f} executions finished/s during the restarts"
        f" ({finished_in_window} in {window_s:.1f}s)"
    )
    print(
        f"time to resolution (webhook → RESOLVED): overall p50 {_percentile(resolve, 0.5):.2f}s"
        f" p99 {_percentile(resolve, 0.99):.2f}s (n={len(resolve)});"
        f" logged during the restarts p50 {_percentile(during, 0.5):.2f}s p99 {_percentile(during, 0.99):.2f}s"
        f" (n={len(during)})"
    )
    checks = {
        "every ticket ends as without restarts": got == expected,
        "at most one credential SMS per execution": max(sms.values(), default=0) <= 1,
        "no webhook lost (all decided, inbox drained)": lost == 0 and decisions == len(run.tickets),
        "dashboard agrees with the API": board == api,
    }
    for what, passed in checks.items():
        print(f"  {'✓' if passed else '✗'} {what}")
        ok = ok and passed
    if got != expected:
        print("  differing:", {t: (got[t], expected[t]) for t in got if got[t] != expected[t]})
    return 0 if ok else 1


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument(
        "--database-url", default=DEFAULT_URL, help="a PostgreSQL superuser URL (default: %(default)s)"
    )
    cli.add_argument(
        "--tickets", type=int, default=150, help="at least this many tickets (default: %(default)s)"
    )
    cli.add_argument(
        "--rate", type=float, default=4.0, help="tickets logged per second (default: %(default)s)"
    )
    cli.add_argument(
        "--rounds", type=int, default=2, help="rolling restarts of the whole fleet (default: %(default)s)"
    )
    sys.exit(asyncio.run(main(cli.parse_args())))
