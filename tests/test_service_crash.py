"""Crash matrix on the REAL service: ``python main.py serve`` SIGKILLed at each crash point of each step of
``playbooks/password_reset.yml`` (sandbox adapters, real PostgreSQL), then restarted without the crash.

Each scenario has its own database, port and sandbox ledger file. A ticket goes in through
``POST /api/v1/sandbox/tickets`` (the real intake → gate → engine), the process kills itself at the named
point (``TICKETPILOT_CRASH_AT``), and the restarted process (same engine owner id, so it resumes at once)
must bring the execution to its end. Then, per scenario:

- exactly one terminal state (the execution row and exactly one ``terminal`` step row agree);
- no step row written twice (same step, attempt and outcome);
- at most one SMS carrying a credential, to the requester's phone on record — and exactly the number the
  crash point implies (an SMS left in doubt is never re-sent: the execution is escalated instead);
- no credential in a dump of every table, in the service's logs, or in the sandbox ledger file. The
  sandbox issues TAPs of 16 letters and digits and keeps only their digests, so the test looks for any
  TAP-shaped word (see ``service_process.tap_shaped``); the ledger's redacted SMS body proves the SMS did
  carry an issued credential, and the ``tap_issued`` entries show how many were issued.

Plus one scenario killed while the execution is parked on a wait (manager approval, its SMS fallback
due at a stored time): after the restart the stored deadlines are unchanged and the wait ends at the
original time, not one restarted from the moment of recovery.

The scenarios run concurrently (one module fixture, several processes at once) to keep the file well
under two minutes on a 2-core machine; each test then checks one scenario's record. For the same reason the
gate classifies through the LLM path against a loopback OpenAI-compatible fake (``fakes/openai.py``, which
answers PASSWORD_RESET with confidence 0.93) instead of the offline model: importing scikit-learn and
training that model costs each process ~4 s of CPU, twice the rest of its start, and this matrix starts 20
processes. The offline classifier gets the process-level run in ``test_service_two_processes.py``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from fakes.openai import OpenAiFake
from service_process import (
    ServiceProcess,
    api_session,
    credential_sms,
    drop_database,
    dump_all_tables,
    fresh_database,
    tap_shaped,
)

from ticketpilot.adapters.sandbox import SandboxLedger
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.directory import SandboxDirectory
from ticketpilot.adapters.sandbox.people import SandboxPeople, phone_of
from ticketpilot.engine.crashpoints import POINTS

pytestmark = pytest.mark.slow

STEPS = ("verify_mfa", "create_credential", "deliver_sms")
PARALLEL = 5
"""Scenarios in flight at once: each is one service process (two runs) and one database."""


@dataclass(frozen=True)
class Expect:
    state: str
    credential_sms: int
    taps_issued: int
    why: str


EXPECTED: dict[tuple[str, str], Expect] = {
    # verify_mfa is not safe to re-run as the same attempt; a push in doubt is asked again once (on_restart:
    # reask, the default): a new push by the restarted process, then the ticket resolves as without a crash.
    ("before_side_effect", "verify_mfa"): Expect("RESOLVED", 1, 1, "push in doubt → asked again once"),
    ("after_side_effect", "verify_mfa"): Expect(
        "RESOLVED", 1, 1, "the push was answered but not recorded → in doubt → one new push → resolved"
    ),
    ("after_checkpoint", "verify_mfa"): Expect("RESOLVED", 1, 1, "verified durably → continues"),
    ("before_side_effect", "create_credential"): Expect("RESOLVED", 1, 1, "safe to re-run → re-run"),
    ("after_side_effect", "create_credential"): Expect(
        "RESOLVED", 1, 2, "the TAP was lost with the process → a new TAP replaces it"
    ),
    ("after_checkpoint", "create_credential"): Expect(
        "RESOLVED", 1, 2, "the TAP lived in memory only → the credential step runs again"
    ),
    # delivery.sms is not safe to re-run: a delivery in doubt is never sent again. password_reset.yml falls
    # back to e-mail: the TAP lost with the process is issued anew for it (the old one deleted first), and
    # with no alternate address on record (otherMails) a human takes over (the new TAP deleted too).
    ("before_side_effect", "deliver_sms"): Expect(
        "ESCALATED", 0, 2, "delivery in doubt → e-mail fallback (new TAP) → no otherMails → escalate"
    ),
    ("after_side_effect", "deliver_sms"): Expect(
        "ESCALATED", 1, 2, "sent but not recorded → in doubt → never re-sent; e-mail fallback → escalate"
    ),
    ("after_checkpoint", "deliver_sms"): Expect("RESOLVED", 1, 1, "delivered and recorded in one commit"),
}
CASES = [(point, step) for step in STEPS for point in POINTS]
WAIT_CASE = "parked_on_manager"
WAIT_REQUESTER = "mfa-timeout.wait@contoso.example"
WAIT_SANDBOX = {
    "mfa_timeout_s": 0.3,
    "manager_approve_after_s": 120.0,  # the manager never answers the card before the crash
    "manager_sms_fallback_after_s": 20.0,
    "manager_timeout_s": 26.0,
}


@dataclass
class Scenario:
    """What one scenario left behind (its database is dropped once this is filled in)."""

    name: str
    requester: str
    crash_exit: int | None = None
    crash_log: str = ""
    ticket_id: int = 0
    final: dict[str, Any] = field(default_factory=dict)
    executions: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    duplicate_steps: list[dict[str, Any]] = field(default_factory=list)
    dump: str = ""
    logs: str = ""
    ledger: list[dict[str, Any]] = field(default_factory=list)
    ledger_text: str = ""
    pids: list[int] = field(default_factory=list)
    wait_at_crash: dict[str, Any] = field(default_factory=dict)
    wait_after_claim: dict[str, Any] = field(default_factory=dict)
    restarted_ready_at: datetime | None = None
    error: BaseException | None = None


_WAIT_COLUMNS = "deadline, step_deadline, wake_at, step_started_at, current_step, step_phase, state, epoch"


async def _wait_row(db: asyncpg.Connection) -> dict[str, Any]:
    row = await db.fetchrow(f"SELECT {_WAIT_COLUMNS} FROM playbook_executions")
    assert row is not None, "no execution was started before the crash"
    return dict(row)


async def _claimed(db: asyncpg.Connection, epoch: int, svc: ServiceProcess) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            row = await _wait_row(db)
            if row["epoch"] > epoch:
                return row
            assert not svc.exited, svc.log_tail()
            await asyncio.sleep(0.05)


async def _run(
    name: str,
    requester: str,
    crash_at: str,
    *,
    workdir: Path,
    admin_url: str,
    template: str,
    session: aiohttp.ClientSession,
    llm: dict[str, Any],
    sandbox: dict[str, Any] | None = None,
    parked: bool = False,
) -> Scenario:
    """Start (crashing at ``crash_at``), create a ticket, see the SIGKILL, restart, wait for the end, collect.

    ``parked``: the crash leaves the execution parked on a wait; its stored deadlines are read at the crash
    and again once the restarted process has claimed it."""
    result = Scenario(name, requester)
    db_url = await fresh_database(admin_url, template, prefix="tp_crash")
    svc = ServiceProcess(name, workdir / name, db_url, overrides={"sandbox": sandbox or {}, "llm": llm})
    db = await asyncpg.connect(db_url)
    try:
        await svc.start(crash_at=crash_at)
        await svc.wait_ready(session)
        result.ticket_id = await svc.create_ticket(session, requester)
        result.crash_exit = await svc.wait_exit(timeout=40)
        result.crash_log = svc.logs()
        if parked:
            result.wait_at_crash = await _wait_row(db)

        await svc.start()
        await svc.wait_ready(session)
        result.restarted_ready_at = datetime.now().astimezone()
        if parked:
            result.wait_after_claim = await _claimed(db, result.wait_at_crash["epoch"], svc)
        result.final = await svc.wait_execution(session, result.ticket_id, timeout=45)
        assert await svc.stop() == 0, svc.log_tail()

        result.executions = [dict(r) for r in await db.fetch("SELECT * FROM playbook_executions")]
        result.steps = [
            dict(r)
            for r in await db.fetch("SELECT * FROM playbook_step_executions ORDER BY execution_id, seq")
        ]
        result.duplicate_steps = [
            dict(r)
            for r in await db.fetch(
                "SELECT execution_id, step_id, attempt, outcome, count(*) AS n FROM playbook_step_executions"
                " GROUP BY 1, 2, 3, 4 HAVING count(*) > 1"
            )
        ]
        result.dump = await dump_all_tables(db)
        result.logs = svc.logs()
        result.ledger = svc.ledger()
        result.ledger_text = svc.ledger_path.read_text(encoding="utf-8")
        result.pids = list(svc.pids)
    except Exception as exc:  # recorded: the scenario's own test reports it
        result.error = exc
        result.logs = svc.logs() if svc.runs else ""
    finally:
        if svc.proc is not None and not svc.exited:
            await svc.kill()
        await db.close()
        await drop_database(admin_url, db_url)
    return result


async def _run_all(workdir: Path, admin_url: str, template: str) -> dict[str, Scenario]:
    gate = asyncio.Semaphore(PARALLEL)
    async with OpenAiFake(spec=False) as llm, api_session() as session:
        assert isinstance(llm, OpenAiFake)
        llm_config = {"base_url": llm.base_url, "api_key": llm.api_key, "max_retries": 0, "mode": "llm"}

        async def one(name: str, requester: str, crash_at: str, **kw: Any) -> Scenario:
            async with gate:
                return await _run(
                    name,
                    requester,
                    crash_at,
                    workdir=workdir,
                    admin_url=admin_url,
                    template=template,
                    session=session,
                    llm=llm_config,
                    **kw,
                )

        jobs = [
            one(
                WAIT_CASE,
                WAIT_REQUESTER,
                "after_checkpoint:verify_manager",
                sandbox=WAIT_SANDBOX,
                parked=True,
            ),
            *(
                one(f"{point}-{step}", f"crash.{i}@contoso.example", f"{point}:{step}")
                for i, (point, step) in enumerate(CASES)
            ),
        ]
        done = await asyncio.gather(*jobs)
    return {s.name: s for s in done}


@pytest.fixture(scope="module")
def scenarios(
    pg_admin_url: str, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Scenario]:
    """Every scenario, run once, concurrently (its own event loop: the processes outlive no test)."""
    workdir = tmp_path_factory.mktemp("service-crash")
    started = time.monotonic()
    found = asyncio.run(_run_all(workdir, pg_admin_url, pg_template))
    print(f"\nservice crash scenarios: {len(found)} in {time.monotonic() - started:.1f}s")
    for s in found.values():
        print(f"  {s.name}: {s.final.get('state')} {[(r['step_id'], r['outcome']) for r in s.steps]}")
    parked = found[WAIT_CASE]
    if parked.wait_at_crash and parked.restarted_ready_at and parked.ledger:
        started_at = parked.wait_at_crash["step_started_at"]
        times = {
            "restarted": parked.restarted_ready_at,
            **{
                f"sms to {e['to']}": datetime.fromisoformat(e["at"])
                for e in parked.ledger
                if e["kind"] == "sms"
            },
            "finished": parked.executions[0]["finished_at"] if parked.executions else None,
        }
        print(f"  {WAIT_CASE}, seconds after the wait began: ", end="")
        print({k: round((v - started_at).total_seconds(), 2) for k, v in times.items() if v is not None})
    return found


def _ok(scenario: Scenario) -> Scenario:
    if scenario.error is not None:
        raise AssertionError(f"{scenario.name} did not run through:\n{scenario.logs[-3000:]}") from (
            scenario.error
        )
    return scenario


def _trail(s: Scenario) -> list[tuple[Any, ...]]:
    return [(r["seq"], r["step_id"], r["attempt"], r["outcome"], r["error"]) for r in s.steps]


def _assert_common_invariants(s: Scenario) -> None:
    # The crash really happened: SIGKILL by the crash point, not an exit or a timeout.
    assert s.crash_exit == -9, s.crash_log[-2000:]
    assert "reached: SIGKILL" in s.crash_log
    assert len(s.pids) == 2

    # One execution for the ticket, and exactly one terminal state.
    [execution] = s.executions
    assert execution["ticket_id"] == s.ticket_id
    assert execution["state"] in {"RESOLVED", "ESCALATED", "CANCELLED", "FAILED"}
    assert execution["finished_at"] is not None
    terminal_rows = [r for r in s.steps if r["outcome"] == "terminal"]
    assert len(terminal_rows) == 1, terminal_rows
    assert terminal_rows[0]["seq"] == max(r["seq"] for r in s.steps), "nothing may follow the terminal row"
    assert s.final["state"] == execution["state"]
    assert [r["seq"] for r in s.steps] == list(range(1, len(s.steps) + 1))
    assert s.duplicate_steps == []

    # At most one credential SMS for the execution, only ever to the requester's phone on record.
    sms = list(credential_sms(s.ledger))
    assert len(sms) <= 1, sms
    for entry in sms:
        assert entry["to"] == phone_of(s.requester)
        assert entry["idempotency_key"].startswith(f"{execution['execution_id']}:deliver_sms:")

    # No credential anywhere: database, logs, the ledger file.
    assert s.dump and s.logs and s.ledger_text
    assert tap_shaped(s.dump) == set(), "a TAP-shaped value is stored in the database"
    assert tap_shaped(s.logs) == set(), "a TAP-shaped value is in the service's logs"
    assert tap_shaped(s.ledger_text) == set(), "a TAP-shaped value is in the sandbox ledger file"


@pytest.mark.parametrize(("point", "step"), CASES, ids=[f"{p}:{s}" for p, s in CASES])
def test_crash_at_each_point_of_each_step_then_restart(
    scenarios: dict[str, Scenario], point: str, step: str
) -> None:
    s = _ok(scenarios[f"{point}-{step}"])
    expect = EXPECTED[(point, step)]
    _assert_common_invariants(s)
    assert s.final["state"] == expect.state, (expect.why, _trail(s))
    assert len(list(credential_sms(s.ledger))) == expect.credential_sms, expect.why
    assert len([e for e in s.ledger if e["kind"] == "tap_issued"]) == expect.taps_issued, expect.why
    outcomes = {(r["step_id"], r["outcome"]) for r in s.steps}
    if point != "after_checkpoint" and step == "deliver_sms":
        assert (step, "in_doubt") in outcomes, "an interrupted delivery is recorded as in doubt"
    pushes = [e["pid"] for e in s.ledger if e["kind"] == "mfa_push"]
    if point != "after_checkpoint" and step == "verify_mfa":
        assert (step, "restart_reask") in outcomes, "an interrupted push is recorded as asked again"
        first_run = [] if point == "before_side_effect" else [s.pids[0]]
        assert pushes == [*first_run, s.pids[1]], "asked again once, by the restarted run"
    else:
        assert pushes == [s.pids[0]], "one push, by the first run: never repeated after the restart"
    for sms in credential_sms(s.ledger):
        # Sent by the run that was delivering: the first one if it crashed in or after the delivery.
        assert sms["pid"] == (s.pids[0] if step == "deliver_sms" else s.pids[1])


def test_a_wait_spanning_a_crash_keeps_its_original_deadlines(scenarios: dict[str, Scenario]) -> None:
    s = _ok(scenarios[WAIT_CASE])
    _assert_common_invariants(s)
    before, after = s.wait_at_crash, s.wait_after_claim
    assert before["state"] == "WAITING" and before["current_step"] == "verify_manager", before
    # Recovery re-arms the stored deadlines; it never starts the wait again.
    for column in ("deadline", "step_deadline", "wake_at", "step_started_at"):
        assert after[column] == before[column], column
    started: datetime = before["step_started_at"]
    fallback_at = started + timedelta(seconds=WAIT_SANDBOX["manager_sms_fallback_after_s"])
    give_up_at = started + timedelta(seconds=WAIT_SANDBOX["manager_timeout_s"])
    assert before["deadline"] == fallback_at, "parked until the SMS fallback"
    ready = s.restarted_ready_at
    assert ready is not None and ready < fallback_at - timedelta(seconds=1), (
        "the restart must come before the deadline, or this scenario proves nothing"
    )

    # The SMS fallback to the manager's phone went out at the original time, from the restarted process.
    manager_phone = phone_of(f"manager.{s.requester}")
    [fallback] = [e for e in s.ledger if e["kind"] == "sms" and e["to"] == manager_phone]
    sent_at = datetime.fromisoformat(fallback["at"])
    assert fallback["pid"] == s.pids[-1]
    assert fallback_at <= sent_at < fallback_at + timedelta(seconds=2.5), (sent_at, fallback_at)
    # A restarted wait would have fired fallback_after seconds after the restart at the earliest.
    assert sent_at < ready + timedelta(seconds=WAIT_SANDBOX["manager_sms_fallback_after_s"] - 2)

    # Nobody answers: the step gives up at its original time and the execution is escalated.
    finished: datetime = s.executions[0]["finished_at"]
    assert s.final["state"] == "ESCALATED"
    assert give_up_at <= finished < give_up_at + timedelta(seconds=2.5), (finished, give_up_at)
    assert len(list(credential_sms(s.ledger))) == 0


async def test_the_leak_check_sees_a_sandbox_tap_however_it_is_quoted() -> None:
    """The scans above can fail: a real sandbox TAP is found in a JSON row, a repr or a log line."""
    directory = SandboxDirectory(SandboxPeople(), SandboxLedger(), IssuedCredentials())
    user = await directory.resolve_user(email="jane@contoso.example")
    for _ in range(20):
        tap = await directory.create_temporary_access_pass(
            user.id, lifetime_minutes=60, one_time=True, idempotency_key="k"
        )
        body = f"Your temporary access pass for jane@contoso.example is:\n{tap}\nIt expires in 60 minutes."
        assert tap_shaped(json.dumps({"detail": {"body": body}})) == {tap}
        assert tap_shaped(f"error=SmsFailed({body!r})") == {tap}
        assert tap_shaped(f'{{"event": "sent", "credential": "{tap}"}}') == {tap}
