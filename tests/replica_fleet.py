"""Several real service processes on one database, restarted one after another while tickets flow: the scenario
behind ``test_replicas.py`` (a short run) and ``bench/rolling_restart.py`` (a longer one, with figures).

Tickets are logged through ``POST /api/v1/sandbox/tickets`` spread over the replicas that are up (the sandbox
HaloPSA lives in PostgreSQL, so any replica may decide any ticket), for a mix of sandbox requesters whose
outcome without restarts is known. Meanwhile the replicas are stopped one after another (SIGTERM, then
started again) and one is SIGKILLed while it holds executions in flight. :class:`FleetRun` records what the
fleet did for the assertions and figures.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from service_process import TERMINAL, ServiceProcess

DOMAIN = "contoso.example"
EXPECTED: dict[str, str | None] = {
    "": "RESOLVED",  # an ordinary requester: push approved, TAP, SMS
    "mfa-timeout.": "RESOLVED",  # push unanswered → manager approves
    "manager-silent.": "ESCALATED",  # push unanswered, manager answers neither card nor SMS
    "sms-flaky.": "RESOLVED",  # delivery fails twice (retried), then works
    "disabled.": None,  # the gate keeps it manual: no execution
    "admin.": None,  # privileged: manual
}
"""Requester prefix → the execution's terminal state without any restart (None: no execution)."""

SANDBOX: dict[str, Any] = {
    "mfa_approve_after_s": 0.5,
    "mfa_timeout_s": 1.0,
    "manager_approve_after_s": 0.3,
    "manager_sms_fallback_after_s": 1.0,
    "manager_timeout_s": 4.0,
    "sms_report_after_s": 0.2,
    "sms_report_wait_s": 5.0,
}
ENGINE: dict[str, Any] = {
    "inbox_poll_s": 0.3,
    "outbox_poll_s": 0.3,
    "inbox_lease_s": 2.0,
    "lease_s": 3.0,
    "lease_renew_every_s": 1.0,
    "shutdown_grace_s": 5.0,
}


@dataclass
class Ticket:
    ticket_id: int
    email: str
    expected: str | None
    logged_at: float
    via: str


@dataclass
class FleetRun:
    replicas: list[ServiceProcess]
    tickets: list[Ticket] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    finals: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    finished_at: dict[int, float] = field(default_factory=dict)
    restarts_began: float = 0.0
    restarts_ended: float = 0.0

    def note(self, what: str) -> None:
        self.events.append((time.monotonic(), what))


def make_fleet(workdir: Path, db_url: str, size: int = 3) -> list[ServiceProcess]:
    overrides = {"sandbox": SANDBOX, "engine": ENGINE, "logging": {"level": "WARNING", "format": "json"}}
    return [
        ServiceProcess(f"replica-{chr(97 + i)}", workdir, db_url, overrides=overrides) for i in range(size)
    ]


def requester(n: int) -> tuple[str, str | None]:
    prefix = list(EXPECTED)[n % len(EXPECTED)]
    return f"{prefix}user{n}@{DOMAIN}", EXPECTED[prefix]


async def _log_ticket(
    run: FleetRun, session: aiohttp.ClientSession, n: int, up: list[ServiceProcess]
) -> None:
    """Log ticket ``n`` on the next replica that is up; a replica going down answers 503 or not at all, and
    the client (like a proxy) tries the next one."""
    email, expected = requester(n)
    last: object = None
    for attempt in range(60):
        candidates = [r for r in up if not r.exited] or up
        replica = candidates[(n + attempt) % len(candidates)]
        try:
            ticket_id = await replica.create_ticket(session, email)
        except (aiohttp.ClientError, AssertionError, TimeoutError) as exc:
            last = exc
            await asyncio.sleep(0.1)
            continue
        run.tickets.append(Ticket(ticket_id, email, expected, time.monotonic(), replica.name))
        return
    raise AssertionError(f"ticket {n} could not be logged on any replica: {last}")


async def feed(
    run: FleetRun,
    session: aiohttp.ClientSession,
    done: asyncio.Event,
    every_s: float,
    up: list[ServiceProcess],
    *,
    at_least: int,
) -> None:
    """Log a ticket every ``every_s`` until ``done`` is set and at least ``at_least`` were logged."""
    for n in itertools.count():
        if done.is_set() and n >= at_least:
            return
        await _log_ticket(run, session, n, up)
        await asyncio.sleep(every_s)


async def _in_flight(db: asyncpg.Connection, owner: str) -> tuple[int, int]:
    """(live executions ``owner`` holds, of which in a credential or delivery side effect right now)."""
    row = await db.fetchrow(
        "SELECT count(*) AS live, count(*) FILTER (WHERE step_phase = 'started'"
        "  AND current_step IN ('create_credential', 'deliver_sms')) AS effects"
        " FROM playbook_executions WHERE owner = $1 AND state IN ('RUNNING', 'WAITING')",
        owner,
    )
    assert row is not None
    return int(row["live"]), int(row["effects"])


async def roll(
    run: FleetRun, session: aiohttp.ClientSession, db: asyncpg.Connection, up: list[ServiceProcess]
) -> None:
    """SIGTERM and restart each replica but the last in turn, then SIGKILL the last one while it holds
    executions (none of them inside a credential or delivery call: a delivery in doubt is never re-sent, so
    that would change the ticket's outcome by design) and restart it."""
    run.restarts_began = time.monotonic()
    for replica in run.replicas[:-1]:
        run.note(f"SIGTERM {replica.name}")
        up.remove(replica)
        assert await replica.stop(timeout=30) == 0, replica.log_tail()
        await replica.start()
        await replica.wait_ready(session, timeout=60)
        up.append(replica)
        run.note(f"{replica.name} ready")
    victim = run.replicas[-1]
    owner = f"proc-{victim.name}"
    deadline = time.monotonic() + 60
    while True:
        live, effects = await _in_flight(db, owner)
        if live and not effects:
            break
        assert time.monotonic() < deadline, f"{victim.name} never held executions in flight"
        await asyncio.sleep(0.02)
    run.note(f"SIGKILL {victim.name} holding {live} live executions")
    up.remove(victim)
    await victim.kill()
    await victim.start()
    await victim.wait_ready(session, timeout=60)
    up.append(victim)
    run.note(f"{victim.name} ready")
    run.restarts_ended = time.monotonic()


async def settle(
    run: FleetRun, session: aiohttp.ClientSession, db: asyncpg.Connection, timeout: float
) -> None:
    """Wait until every ticket is decided and, where an execution is expected, it is terminal (asking the
    replicas in turn)."""
    deadline = time.monotonic() + timeout
    pending = {t.ticket_id: t for t in run.tickets}
    rotation = itertools.cycle(run.replicas)
    while pending:
        assert time.monotonic() < deadline, f"not settled: {sorted(pending)}"
        decided = {
            r["ticket_id"]
            for r in await db.fetch(
                "SELECT ticket_id FROM classification_results WHERE ticket_id = ANY($1::bigint[])",
                list(pending),
            )
        }
        for ticket_id, ticket in list(pending.items()):
            if ticket_id not in decided:
                continue
            replica = next(rotation)
            if replica.exited:
                continue
            execution = await replica.execution(session, ticket_id)
            if ticket.expected is None:
                run.finals[ticket_id] = execution
                del pending[ticket_id]
            elif execution is not None and execution["state"] in TERMINAL:
                run.finals[ticket_id] = execution
                run.finished_at[ticket_id] = time.monotonic()
                del pending[ticket_id]
        await asyncio.sleep(0.2)


async def credential_sms_per_execution(db: asyncpg.Connection) -> Counter[str]:
    """Credential SMS the sandbox Twilio accepted, by execution (from the shared ledger in PostgreSQL)."""
    rows = await db.fetch("SELECT data FROM sandbox_ledger WHERE kind = 'sms'")
    sent: Counter[str] = Counter()
    for row in rows:
        data = row["data"] if isinstance(row["data"], dict) else json.loads(row["data"])
        key = str(data.get("idempotency_key", ""))
        if (
            data.get("status") == "queued"
            and ":deliver_sms:" in key
            and "[REDACTED]" in str(data.get("body"))
        ):
            sent[key.split(":")[0]] += 1
    return sent
