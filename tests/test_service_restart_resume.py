"""Issue 11's "must show": log ordinary and mfa-timeout tickets in the sandbox, SIGKILL the real service while
their MFA pushes are out (and one ticket's webhook is recorded but not yet decided), start it again on the same
database: every ticket ends RESOLVED, each with exactly one credential SMS.

Before: every push in doubt escalated ("verify_mfa: attempt 1 was interrupted by a restart … not safe to
re-run"), and the undecided ticket never got an execution ("no execution for ticket …": the sandbox HaloPSA
lived in the dead process's memory). Now the push is asked again once (``on_restart: reask``) and the sandbox
keeps its tickets, people, pushes and pending manager answers in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from service_process import (
    ServiceProcess,
    api_session,
    credential_sms,
    drop_database,
    fresh_database,
    tap_shaped,
)

pytestmark = pytest.mark.slow

ORDINARY = ("ann.lee", "bo.chen", "cy.diaz")
MFA_TIMEOUT = ("mfa-timeout.dee", "mfa-timeout.eli")
DOMAIN = "contoso.example"
SANDBOX = {
    # Long enough that every push is still out when the process is killed, whatever the machine's load.
    "mfa_approve_after_s": 4.0,
    "mfa_timeout_s": 4.0,
    "manager_approve_after_s": 0.3,
    "manager_sms_fallback_after_s": 30.0,
    "manager_timeout_s": 60.0,
    "sms_report_after_s": 0.2,
}
ENGINE = {
    "inbox_poll_s": 0.2,
    "outbox_poll_s": 0.2,
    "inbox_lease_s": 2.0,
    "lease_s": 3.0,
    "lease_renew_every_s": 1.0,
}


async def _wait_for(what: str, check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_sigkill_during_verification_then_restart_resolves_every_ticket_once(
    pg_admin_url: str, pg_template: str, tmp_path: Path
) -> None:
    db_url = await fresh_database(pg_admin_url, pg_template, prefix="tp_resume")
    svc = ServiceProcess("resume", tmp_path, db_url, overrides={"sandbox": SANDBOX, "engine": ENGINE})
    db = await asyncpg.connect(db_url)
    try:
        async with api_session() as session:
            await svc.start()
            await svc.wait_ready(session)
            requesters = {}
            for local in (*ORDINARY, *MFA_TIMEOUT):
                email = f"{local}@{DOMAIN}"
                requesters[await svc.create_ticket(session, email)] = email

            async def pushes_out() -> bool:
                out = await db.fetchval("SELECT count(*) FROM sandbox_mfa_pushes WHERE answered_at IS NULL")
                return int(out) == len(requesters)

            await _wait_for("every MFA push to be out", pushes_out)
            # One more ticket: its webhook is recorded (201), then the process dies before deciding it.
            late = f"fay.gold@{DOMAIN}"
            requesters[await svc.create_ticket(session, late)] = late
            assert await svc.kill() == -9

            in_flight = await db.fetch(
                "SELECT ticket_id, state, current_step, step_phase FROM playbook_executions ORDER BY ticket_id"
            )
            assert {(r["state"], r["current_step"], r["step_phase"]) for r in in_flight} == {
                ("RUNNING", "verify_mfa", "started")
            }, "every execution was killed with its push out"
            assert len(in_flight) == len(requesters) - 1

            await svc.start()
            await svc.wait_ready(session)
            finals = {t: await svc.wait_execution(session, t, timeout=60) for t in requesters}
            assert await svc.stop() == 0, svc.log_tail()

        assert {t: f["state"] for t, f in finals.items()} == dict.fromkeys(requesters, "RESOLVED"), finals
        ledger = svc.ledger()
        sms = Counter(e["idempotency_key"].split(":")[0] for e in credential_sms(ledger))
        executions = {t: f["execution_id"] for t, f in finals.items()}
        assert {t: sms[str(e)] for t, e in executions.items()} == dict.fromkeys(requesters, 1)

        # Each push in doubt was asked again exactly once, by the restarted run, and recorded as such.
        trail = await db.fetch(
            "SELECT e.ticket_id, s.outcome FROM playbook_step_executions s"
            " JOIN playbook_executions e USING (execution_id) WHERE s.step_id = 'verify_mfa'"
        )
        reasks = Counter(r["ticket_id"] for r in trail if r["outcome"] == "restart_reask")
        assert reasks == Counter({r["ticket_id"]: 1 for r in in_flight})
        assert not [r for r in trail if r["outcome"] == "in_doubt"]
        pushes = Counter(e["user_principal_name"] for e in ledger if e["kind"] == "mfa_push")
        assert max(pushes.values()) == 1, "the killed run's pushes were never answered; one new push each"
        assert svc.pids[0] not in {e["pid"] for e in ledger if e["kind"] == "mfa_push"}
        # The mfa-timeout requesters went on to their manager, as without the restart.
        clicks = [e for e in ledger if e["kind"] == "manager_click"]
        assert len(clicks) == len(MFA_TIMEOUT) and all(c["accepted"] for c in clicks)
        assert tap_shaped(svc.logs()) == set()
    finally:
        if svc.proc is not None and not svc.exited:
            await svc.kill()
        await db.close()
        await drop_database(pg_admin_url, db_url)
