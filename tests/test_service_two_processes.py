"""Two REAL service processes on one database: 200 executions, one process SIGKILLed mid-flight, the other
takes over; then a process paused past its leases (SIGSTOP) finds them taken and can no longer write.

Both processes run ``python main.py serve`` with the sandbox adapters, the offline classifier, the same
playbooks and short leases (3 s, renewed every second). Every write to the execution tables is attributed
to its process: each process connects with its own ``application_name`` and test triggers log who wrote
each step row, each checkpoint and each claim.

The sandbox HaloPSA keeps its tickets in each process's memory, and either process's inbox (and outbox)
worker may pick up any webhook row. So every ticket is first sent to *both* processes as a
``ticket_updated`` delivery carrying the full ticket (it seeds each sandbox; an update never starts a
decision), then its ``ticket_created`` delivery is sent to one of them — the same path HaloPSA takes.
(``POST /api/v1/sandbox/tickets`` seeds only the process it is posted to: with two processes, the other's
inbox worker can claim the row first, gets "ticket not found" and marks the row failed.)

How the paused process is stopped: when it resumes, its next lease renewal finds the epochs bumped and
drops the executions before any of their step calls can checkpoint. The other path — a checkpoint sent
with a stale epoch is fenced out by the ``WHERE epoch = …`` of the write itself — is shown directly in
``test_engine_supervisor.py::test_two_processes_one_dies_the_other_takes_over_and_every_execution_ends_once``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg
import pytest
from service_process import (
    LOCKOUT_TEXT,
    TERMINAL,
    ServiceProcess,
    api_session,
    credential_sms,
    dump_all_tables,
    tap_shaped,
)

pytestmark = pytest.mark.slow

TICKETS = 200
FENCED = 8
WAVES = 4
WAVE_GAP_S = 1.5
FIRST_TICKET = 700_001
LEASES = {"lease_s": 3.0, "lease_renew_every_s": 1.0, "inbox_poll_s": 1.0}
SANDBOX = {
    "mfa_approve_after_s": 3.0,  # every execution spends 3 s in its MFA push: many are in flight at the kill
    "mfa_timeout_s": 8.0,  # the fenced ones (mfa-timeout.…) are still pushing when their process is paused
    "manager_approve_after_s": 0.5,
    "manager_sms_fallback_after_s": 2.0,
    "manager_timeout_s": 5.0,
}

WRITE_LOG = """
CREATE TABLE test_writes (
    id           bigserial PRIMARY KEY,
    kind         text        NOT NULL,
    execution_id uuid        NOT NULL,
    seq          integer,
    epoch        bigint,
    owner        text,
    state        text,
    writer       text        NOT NULL DEFAULT current_setting('application_name'),
    at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION test_log_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO test_writes (kind, execution_id, seq) VALUES ('step', NEW.execution_id, NEW.seq);
    RETURN NEW;
END $$;
CREATE TRIGGER test_log_step AFTER INSERT ON playbook_step_executions
    FOR EACH ROW EXECUTE FUNCTION test_log_step();
CREATE FUNCTION test_log_execution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO test_writes (kind, execution_id, seq, epoch, owner, state)
    VALUES (CASE WHEN OLD.epoch IS DISTINCT FROM NEW.epoch THEN 'claim' ELSE 'checkpoint' END,
            NEW.execution_id, NEW.seq, NEW.epoch, NEW.owner, NEW.state);
    RETURN NEW;
END $$;
CREATE TRIGGER test_log_execution AFTER UPDATE ON playbook_executions FOR EACH ROW
    WHEN (OLD.epoch IS DISTINCT FROM NEW.epoch OR OLD.seq IS DISTINCT FROM NEW.seq
          OR OLD.state IS DISTINCT FROM NEW.state OR OLD.step_phase IS DISTINCT FROM NEW.step_phase
          OR OLD.deadline IS DISTINCT FROM NEW.deadline)
    EXECUTE FUNCTION test_log_execution();
"""


def _ticket(number: int, email: str) -> dict[str, Any]:
    return {"id": number, "summary": LOCKOUT_TEXT[0], "details": LOCKOUT_TEXT[1], "user_email": email}


def _deliveries(event: str, tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": f"{event}-{t['id']}", "object_id": t["id"], "ticket": t} for t in tickets]


async def _until(what: str, check: Any, timeout: float, *processes: ServiceProcess) -> Any:
    """Poll ``check()`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        for p in processes:
            assert not p.exited, f"{p.name} exited ({p.returncode}):\n{p.log_tail()}"
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


async def _seed(
    session: aiohttp.ClientSession, db: asyncpg.Connection, tickets: list[dict[str, Any]], *to: ServiceProcess
) -> None:
    """Every process's sandbox HaloPSA learns every ticket; returns once their update rows are handled."""
    for process in to:
        await process.post_webhook(session, "ticket_updated", _deliveries("ticket_updated", tickets))

    async def handled() -> bool:
        pending = await db.fetchval("SELECT count(*) FROM webhook_inbox WHERE status = 'pending'")
        return bool(pending == 0)

    await _until("the seeding updates to be handled", handled, 30, *to)


async def _live_by_owner(db: asyncpg.Connection) -> dict[str, set[UUID]]:
    found: dict[str, set[UUID]] = {}
    for r in await db.fetch(
        "SELECT owner, execution_id FROM playbook_executions WHERE state IN ('RUNNING', 'WAITING')"
    ):
        found.setdefault(r["owner"] or "", set()).add(r["execution_id"])
    return found


def _dropped(process: ServiceProcess) -> dict[str, str]:
    """``execution_id → reason`` of every ``execution_dropped`` event in the process's logs."""
    found: dict[str, str] = {}
    for line in process.logs().splitlines():
        if '"execution_dropped"' not in line:
            continue
        event = json.loads(line)
        found[event["execution_id"]] = event["reason"]
    return found


async def _assert_each_ends_once(db: asyncpg.Connection, expected: int) -> dict[UUID, str]:
    states = {
        r["execution_id"]: r["state"]
        for r in await db.fetch("SELECT execution_id, state FROM playbook_executions")
    }
    assert len(states) == expected
    assert set(states.values()) <= TERMINAL, Counter(states.values())
    terminal_rows = await db.fetch(
        "SELECT execution_id, count(*) AS n FROM playbook_step_executions WHERE outcome = 'terminal' GROUP BY 1"
    )
    assert {r["execution_id"] for r in terminal_rows} == set(states)
    assert all(r["n"] == 1 for r in terminal_rows), "an execution with two terminal states"
    twice = await db.fetch(
        "SELECT execution_id, step_id, attempt, outcome, count(*) FROM playbook_step_executions"
        " GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
    )
    assert twice == [], "a step row written twice"
    gaps = await db.fetchval(
        "SELECT count(*) FROM (SELECT execution_id, max(seq) AS m, count(*) AS n"
        " FROM playbook_step_executions GROUP BY 1) s WHERE m <> n"
    )
    assert gaps == 0, "step rows are numbered 1..n per execution"
    return states


async def test_two_processes_one_killed_the_other_takes_over_and_a_paused_one_is_fenced(
    db_url: str, tmp_path: Path
) -> None:
    db = await asyncpg.connect(db_url)
    await db.execute(WRITE_LOG)
    overrides = {"engine": LEASES, "sandbox": SANDBOX}
    sep = "&" if "?" in db_url else "?"  # the embedded server's URL already has ?host=<socket dir>
    a = ServiceProcess("a", tmp_path, f"{db_url}{sep}application_name=proc-a", overrides=overrides)
    b = ServiceProcess("b", tmp_path, f"{db_url}{sep}application_name=proc-b", overrides=overrides)
    started = time.monotonic()
    try:
        async with api_session() as session:
            await asyncio.gather(a.start(), b.start())
            await asyncio.gather(a.wait_ready(session), b.wait_ready(session))

            # ---- 200 tickets, created half on each process ---------------------------------------------
            emails = [
                f"sms-flaky.user{i}@contoso.example" if i % 5 == 0 else f"user{i}@contoso.example"
                for i in range(TICKETS)
            ]
            tickets = [_ticket(FIRST_TICKET + i, email) for i, email in enumerate(emails)]
            await _seed(session, db, tickets, a, b)
            # In waves, so that at the kill some executions are done, some pushing MFA, some (sms-flaky)
            # parked in a retry backoff with a stored deadline.
            created = _deliveries("ticket_created", tickets)
            wave = TICKETS // WAVES
            for start in range(0, TICKETS, wave):
                batch = created[start : start + wave]
                await asyncio.gather(
                    a.post_webhook(session, "ticket_created", batch[0::2]),
                    b.post_webhook(session, "ticket_created", batch[1::2]),
                )
                await asyncio.sleep(WAVE_GAP_S)

            async def ready_to_kill() -> bool:
                # Every ticket decided (a process killed while deciding leaves its inbox rows leased for 5
                # minutes: correct, but longer than this test), and A holds an execution parked in a retry
                # backoff that still has a while to go: the kill lands in the middle of a durable wait.
                ready = await db.fetchval(
                    "SELECT count(*) = $1 AND count(*) FILTER (WHERE owner = 'proc-a' AND step_phase = 'backoff'"
                    " AND deadline > clock_timestamp() + interval '0.5 seconds') > 0 FROM playbook_executions",
                    TICKETS,
                )
                return bool(ready)

            await _until("every ticket decided and A parked in a backoff", ready_to_kill, 60, a, b)
            decisions = Counter(
                r["outcome"] for r in await db.fetch("SELECT outcome FROM classification_results")
            )
            assert decisions == {"automated": TICKETS}, decisions
            owners = Counter(r["owner"] for r in await db.fetch("SELECT owner FROM playbook_executions"))

            # ---- A dies mid-flight ---------------------------------------------------------------------
            await a.kill()
            killed_at: datetime = await db.fetchval("SELECT clock_timestamp()")
            at_kill = {
                r["execution_id"]: dict(r)
                for r in await db.fetch(
                    "SELECT execution_id, current_step, step_phase, deadline FROM playbook_executions"
                    " WHERE owner = 'proc-a' AND state IN ('RUNNING', 'WAITING')"
                )
            }
            held_by_a = set(at_kill)
            assert held_by_a, f"A held no live execution when it died (owners at the kill: {owners})"
            mix = Counter((r["current_step"], r["step_phase"]) for r in at_kill.values())
            backoff = {eid: r["deadline"] for eid, r in at_kill.items() if r["step_phase"] == "backoff"}
            assert backoff, f"no execution of A was parked in a retry backoff at the kill: {mix}"

            async def all_terminal() -> bool:
                live = await db.fetchval(
                    "SELECT count(*) FROM playbook_executions WHERE state IN ('RUNNING', 'WAITING')"
                )
                return bool(live == 0)

            await _until("every execution to end", all_terminal, 60, b)
            states = await _assert_each_ends_once(db, TICKETS)

            # B claimed every execution A held, and only B wrote for them after the kill.
            claims = await db.fetch(
                "SELECT execution_id, writer, owner, at FROM test_writes WHERE kind = 'claim' AND at > $1",
                killed_at,
            )
            assert held_by_a <= {c["execution_id"] for c in claims if c["owner"] == "proc-b"}
            assert {c["writer"] for c in claims} == {"proc-b"}
            late_writers = await db.fetch(
                "SELECT DISTINCT writer FROM test_writes WHERE at > $1 AND execution_id = ANY($2::uuid[])",
                killed_at,
                list(held_by_a),
            )
            assert [r["writer"] for r in late_writers] == ["proc-b"]
            # A retry backoff that spanned the kill ended at its stored deadline (or at once, if that had
            # passed when B claimed it): only the remainder was waited, never the whole delay again.
            claimed_at = {c["execution_id"]: c["at"] for c in claims}
            for eid, deadline in backoff.items():
                resumed = await db.fetchval(
                    "SELECT min(started_at) FROM playbook_step_executions"
                    " WHERE execution_id = $1 AND step_id = 'deliver_sms' AND started_at >= $2",
                    eid,
                    deadline,
                )
                assert resumed is not None, f"{eid}: no delivery attempt after its backoff"
                assert resumed < max(deadline, claimed_at[eid]) + timedelta(seconds=1.5), (
                    eid,
                    deadline,
                    resumed,
                )

            # At most one credential SMS per execution, across both processes; one for each RESOLVED.
            ledger = a.ledger() + b.ledger()
            sent = Counter(e["idempotency_key"].split(":", 1)[0] for e in credential_sms(ledger))
            twice = {eid: n for eid, n in sent.items() if n > 1}
            assert not twice, f"a credential texted more than once to one requester: {twice}"
            resolved = {str(eid) for eid, state in states.items() if state == "RESOLVED"}
            assert resolved <= set(sent), "a RESOLVED execution whose credential SMS is missing"
            assert set(sent) <= {str(eid) for eid in states}

            # ---- a paused process finds its leases taken and writes nothing more -------------------------
            await a.start(env={"TICKETPILOT_ENGINE__INBOX_POLL_S": "3600"})  # A2 never decides a ticket
            await a.wait_ready(session)
            fenced_tickets = [
                _ticket(FIRST_TICKET + TICKETS + i, f"mfa-timeout.fence{i}@contoso.example")
                for i in range(FENCED)
            ]
            await _seed(session, db, fenced_tickets, b, a)
            await b.post_webhook(session, "ticket_created", _deliveries("ticket_created", fenced_tickets))
            numbers = [t["id"] for t in fenced_tickets]

            async def pushing() -> list[Any]:
                rows = await db.fetch(
                    "SELECT execution_id, owner, current_step, step_phase FROM playbook_executions"
                    " WHERE ticket_id = ANY($1::bigint[])",
                    numbers,
                )
                in_flight = [
                    r for r in rows if (r["current_step"], r["step_phase"]) == ("verify_mfa", "started")
                ]
                return in_flight if len(in_flight) == FENCED else []

            rows = await _until("B to be pushing MFA for every new ticket", pushing, 30, a, b)
            assert {r["owner"] for r in rows} == {"proc-b"}
            fenced = {r["execution_id"] for r in rows}
            b.pause()
            paused_at: datetime = await db.fetchval("SELECT clock_timestamp()")

            async def taken_and_ended() -> bool:
                ended = await db.fetchval(
                    "SELECT count(*) FROM playbook_executions WHERE execution_id = ANY($1::uuid[])"
                    " AND state IN ('RESOLVED', 'ESCALATED', 'CANCELLED', 'FAILED')",
                    list(fenced),
                )
                return bool(ended == FENCED)

            await _until("A to take over and end B's executions", taken_and_ended, 30, a)
            b.resume()
            resumed_at: datetime = await db.fetchval("SELECT clock_timestamp()")

            async def b_gave_up() -> bool:
                return {str(e) for e in fenced} <= set(_dropped(b))

            await _until(f"B to log the drop of each of {sorted(map(str, fenced))}", b_gave_up, 20, b)
            await asyncio.sleep(1.0)  # anything B still meant to write would land now
            assert await b.stop() == 0, b.log_tail()
            assert await a.stop() == 0, a.log_tail()

        # B held them when paused; A claimed every one (epoch bumped) and alone wrote their outcome.
        writes = await db.fetch(
            "SELECT kind, execution_id, writer, owner, at FROM test_writes WHERE execution_id = ANY($1::uuid[])",
            list(fenced),
        )
        assert {
            w["execution_id"] for w in writes if w["kind"] == "claim" and w["writer"] == "proc-a"
        } == fenced
        after_pause = [w for w in writes if w["at"] > paused_at]
        assert after_pause and {w["writer"] for w in after_pause} == {"proc-a"}, (
            "B wrote after losing its leases"
        )
        assert not [w for w in writes if w["writer"] == "proc-b" and w["kind"] == "step"]
        dropped = _dropped(b)
        assert all("lease lost" in dropped[str(e)] for e in fenced), dropped
        # B did nothing further for them: no manager card, no credential, no SMS after it resumed.
        b_after = [
            e for e in b.ledger() if datetime.fromisoformat(e["at"]) > resumed_at and e["pid"] == b.pids[-1]
        ]
        assert not [e for e in b_after if e["kind"] in ("teams_card", "tap_issued", "password_reset", "sms")]
        # The push in flight when B was paused is in doubt for A: asked again once (a new push, never the same
        # attempt), which goes unanswered like the first (mfa-timeout), so the manager approves: resolved.
        trail = await db.fetch(
            "SELECT execution_id, step_id, outcome FROM playbook_step_executions"
            " WHERE execution_id = ANY($1::uuid[]) ORDER BY execution_id, seq",
            list(fenced),
        )
        outcomes = Counter((r["step_id"], r["outcome"]) for r in trail)
        assert outcomes[("verify_mfa", "restart_reask")] == FENCED
        assert outcomes[("verify_mfa", "in_doubt")] == 0
        assert outcomes[("resolved", "terminal")] == FENCED, outcomes
        await _assert_each_ends_once(db, TICKETS + FENCED)

        # No credential in any table, log or ledger file.
        assert tap_shaped(await dump_all_tables(db)) == set()
        for process in (a, b):
            assert tap_shaped(process.logs()) == set()
            assert tap_shaped(process.ledger_path.read_text(encoding="utf-8")) == set()
        print(
            f"\ntwo processes: {TICKETS} executions (owners {dict(owners)}), {len(held_by_a)} live on A at the"
            f" kill ({dict(mix)}), {len(fenced)} fenced (B dropped them: {dict(Counter(dropped.values()))},"
            f" B's pushes that ended after it resumed: {len([e for e in b_after if e['kind'] == 'mfa_push'])}); states {dict(Counter(states.values()))};"
            f" {time.monotonic() - started:.1f}s"
        )
    finally:
        for process in (a, b):
            if process.proc is not None and not process.exited:
                await process.kill()
        await db.close()
