"""Three REAL service processes on one database behave like one service through a rolling restart: tickets for a
mix of sandbox requesters are logged across the replicas that are up while each replica is SIGTERMed and
started again in turn, and the last one is SIGKILLed while it holds executions in flight.

Every ticket ends as it would have without restarts (resolved, escalated, or manual with no execution), no
ticket gets two credential SMS, no webhook is lost (every ticket is decided once, every inbox row done), and
the dashboard agrees with the API. ``bench/rolling_restart.py`` runs the same scenario longer, with figures.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from replica_fleet import (
    FleetRun,
    credential_sms_per_execution,
    feed,
    make_fleet,
    roll,
    settle,
)
from service_process import api_session, drop_database, fresh_database, tap_shaped

pytestmark = pytest.mark.slow

TICKETS = 24


async def test_a_rolling_restart_and_a_killed_replica_change_no_outcome(
    pg_admin_url: str, pg_template: str, tmp_path: Path
) -> None:
    db_url = await fresh_database(pg_admin_url, pg_template, prefix="tp_fleet")
    fleet = make_fleet(tmp_path, db_url)
    db = await asyncpg.connect(db_url)
    run = FleetRun(fleet)
    try:
        async with api_session() as session:
            for replica in fleet:
                await replica.start()
            for replica in fleet:
                await replica.wait_ready(session, timeout=60)
            up = list(fleet)
            rolled = asyncio.Event()
            feeding = asyncio.create_task(feed(run, session, rolled, 0.3, up, at_least=TICKETS))
            while len(run.tickets) < 6:  # tickets in flight before the first replica stops
                await asyncio.sleep(0.05)
            await roll(run, session, db, up)
            rolled.set()
            await feeding
            await settle(run, session, db, timeout=90)

            # The dashboard (any replica) shows what the API shows.
            async with session.get(
                f"{fleet[0].base_url}/api/v1/dashboard/executions",
                params={"limit": "200"},
                headers=fleet[0].headers,
            ) as resp:
                assert resp.status == 200
                board = {item["ticket_id"]: item["state"] for item in (await resp.json())["items"]}
            for replica in fleet:
                assert await replica.stop(timeout=30) == 0, replica.log_tail()

        api = {t: f["state"] for t, f in run.finals.items() if f is not None}
        assert board == api
        # Every ticket as without restarts.
        got = {t.ticket_id: (run.finals[t.ticket_id] or {}).get("state") for t in run.tickets}
        assert got == {t.ticket_id: t.expected for t in run.tickets}, run.events
        # No webhook lost: each ticket decided once, every inbox row done; replicas shared the work.
        assert len(run.tickets) >= TICKETS
        decisions = await db.fetch("SELECT ticket_id, count(*) AS n FROM classification_results GROUP BY 1")
        assert {r["ticket_id"]: r["n"] for r in decisions} == {t.ticket_id: 1 for t in run.tickets}
        assert await db.fetchval("SELECT count(*) FROM webhook_inbox WHERE status <> 'done'") == 0
        assert len({t.via for t in run.tickets}) == len(fleet)
        # At most one credential SMS per execution; exactly one for each resolved one.
        sms = await credential_sms_per_execution(db)
        assert max(sms.values()) == 1, sms
        resolved = {str(f["execution_id"]) for f in run.finals.values() if f and f["state"] == "RESOLVED"}
        assert set(sms) == resolved
        # Each execution ended exactly once.
        terminal_rows = await db.fetch(
            "SELECT execution_id, count(*) AS n FROM playbook_step_executions WHERE outcome = 'terminal' GROUP BY 1"
        )
        assert all(r["n"] == 1 for r in terminal_rows) and len(terminal_rows) == len(api)
        for replica in fleet:
            assert tap_shaped(replica.logs()) == set()
        start = run.events[0][0]
        print(
            f"\nreplicas: {len(run.tickets)} tickets via {dict(Counter(t.via for t in run.tickets))},"
            f" outcomes {dict(Counter(got.values()))}; "
            + "; ".join(f"{at - start:+.1f}s {what}" for at, what in run.events)
        )
    finally:
        for replica in fleet:
            if replica.proc is not None and not replica.exited:
                await replica.kill()
        await db.close()
        await drop_database(pg_admin_url, db_url)
