"""The supervisor on a real PostgreSQL: full runs, durable time across restarts, signals, cancellation,
in-doubt recovery, pinning, operator retry and two processes sharing one database."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
import pytest
from engine_harness import (
    ESCALATE,
    PASSWORD_RESET_STEPS,
    RESOLVED,
    Approval,
    CreateCredential,
    DeliverCredential,
    FakeService,
    Flaky,
    Noop,
    Raising,
    Slow,
    eventually,
    execution_row,
    make_engine,
    playbook_yaml,
    state_of,
    step,
    step_rows,
    store_playbook,
)

from ticketpilot.database import create_pool
from ticketpilot.engine import Engine, ManualClock
from ticketpilot.engine.model import Checkpoint, Status
from ticketpilot.engine.signals import deliver_signal
from ticketpilot.engine.store import PendingCheckpoint, state_from_row, write_batch
from ticketpilot.steps import StepCall, StepOutcome, Waiting

CTX = {"requester": "ann@example.com"}


async def _outcomes(pool: asyncpg.Pool, eid: UUID) -> list[tuple[str, str]]:
    return [(r["step_id"], r["outcome"]) for r in await step_rows(pool, eid)]


async def test_a_playbook_runs_to_resolved_and_a_second_start_returns_the_same_execution(
    pool: asyncpg.Pool,
) -> None:
    services = {
        "verify": Approval("verify"),
        "create": CreateCredential("create"),
        "deliver": DeliverCredential("deliver"),
    }
    playbook, digest = await store_playbook(pool, playbook_yaml(PASSWORD_RESET_STEPS))
    finished: list[dict[str, Any]] = []
    engine = make_engine(pool, services)
    engine._on_terminal = finished.append
    await engine.start()
    try:
        eid, created = await engine.start_execution(10, playbook, digest, CTX)
        assert created
        assert await engine.start_execution(10, playbook, digest, CTX) == (eid, False)
        await eventually(lambda: state_of(pool, eid), what="parked")
        await eventually(lambda: _is(pool, eid, "WAITING"))
        assert await engine.deliver_signal(eid, "approve", "teams:1", {"by": "manager@example.com"})
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "RESOLVED"
    assert [(s["step_id"], s["outcome"]) for s in execution["steps"]] == [
        ("verify", "success"),
        ("create_credential", "success"),
        ("deliver", "success"),
        ("resolved", "terminal"),
    ]
    credential = services["create"].created[0]
    assert services["deliver"].delivered == [credential]
    assert services["verify"].calls[0].idempotency_key == f"{eid}:verify:1"
    assert credential not in repr(execution) and "[REDACTED]" in repr(
        execution
    )  # the leaky summary is scrubbed
    kinds = [r["kind"] for r in await pool.fetch("SELECT kind FROM outbox ORDER BY id")]
    assert kinds == ["halopsa.note"] * 3 + ["halopsa.resolve"]
    assert [f["state"] for f in finished] == ["RESOLVED"]
    assert await pool.fetchval("SELECT owner FROM playbook_executions") is None


async def _is(pool: asyncpg.Pool, eid: UUID, state: str) -> bool:
    return await state_of(pool, eid) == state


async def test_retries_back_off_on_the_clock_and_the_attempt_count_survives_a_restart(
    pool: asyncpg.Pool,
) -> None:
    retry = {"max_attempts": 3, "backoff": "fixed", "initial": "10s", "max": "10s"}
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml(
            [
                step("a", "flaky", on_success="resolved", on_failure="escalate", retry=retry),
                RESOLVED,
                ESCALATE,
            ]
        ),
    )
    flaky = Flaky("flaky", failures=2)
    clock = ManualClock()
    engine = make_engine(pool, {"flaky": flaky}, clock=clock)
    await engine.start()
    eid, _ = await engine.start_execution(11, playbook, digest, CTX)
    await eventually(lambda: _phase(pool, eid, "backoff"))
    await engine.stop()
    deadline = (await execution_row(pool, eid))["deadline"]
    assert timedelta(0) <= deadline - clock.now() <= timedelta(seconds=10)

    engine = make_engine(pool, {"flaky": flaky}, clock=clock)
    await engine.start()
    try:
        clock.set(deadline)
        await eventually(lambda: len(flaky.calls) == 2)
        await eventually(lambda: _phase(pool, eid, "backoff"))
        clock.advance(10)
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "RESOLVED"
    assert [c.idempotency_key.rsplit(":", 1)[1] for c in flaky.calls] == ["1", "2", "3"]
    assert [s["outcome"] for s in execution["steps"]] == ["retry", "retry", "success", "terminal"]


async def _phase(pool: asyncpg.Pool, eid: UUID, phase: str) -> bool:
    return (
        await pool.fetchval("SELECT step_phase FROM playbook_executions WHERE execution_id = $1", eid)
        == phase
    )


async def test_a_restart_waits_only_the_remainder_of_the_original_deadlines(pool: asyncpg.Pool) -> None:
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml(
            [
                step("approve", "approval", on_success="resolved", on_failure="escalate", timeout="30m"),
                RESOLVED,
                ESCALATE,
            ]
        ),
    )
    approval = Approval("approval", wake_after_s=300)
    clock = ManualClock()
    t0 = clock.now()
    engine = make_engine(pool, {"approval": approval}, clock=clock)
    await engine.start()
    eid, _ = await engine.start_execution(12, playbook, digest, CTX)
    await eventually(lambda: _is(pool, eid, "WAITING"))
    await engine.stop()
    row = await execution_row(pool, eid)
    assert row["deadline"] == t0 + timedelta(seconds=300) and row["step_deadline"] == t0 + timedelta(
        minutes=30
    )

    clock.advance(200)  # down for 200 s
    engine = make_engine(pool, {"approval": approval}, clock=clock, owner_id="another-process")
    await engine.start()
    try:
        assert engine.timers_pending == 1
        clock.advance(99)
        await asyncio.sleep(0.05)
        assert approval.wakes == 0
        clock.advance(1)  # 300 s after the start: the wake-up (e.g. the SMS fallback) happens now
        await eventually(lambda: approval.wakes == 1)
        await eventually(lambda: _is(pool, eid, "WAITING"))
        assert (await execution_row(pool, eid))["step_deadline"] == t0 + timedelta(minutes=30)
        clock.set(t0 + timedelta(minutes=30))
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "ESCALATED"
    assert [s["outcome"] for s in execution["steps"]] == ["timeout", "terminal"]


async def test_signals_sent_while_no_process_runs_are_delivered_after_the_restart(pool: asyncpg.Pool) -> None:
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml(
            [step("approve", "approval", on_success="resolved", on_failure="escalate"), RESOLVED, ESCALATE]
        ),
    )
    approval = Approval("approval")
    engine = make_engine(pool, {"approval": approval})
    await engine.start()
    eid, _ = await engine.start_execution(13, playbook, digest, CTX)
    await eventually(lambda: _is(pool, eid, "WAITING"))
    await engine.stop()
    assert await deliver_signal(pool, eid, "approve", "teams:1", {"by": "boss"})
    engine = make_engine(pool, {"approval": approval})
    await engine.start()
    try:
        execution = await engine.wait_terminal(eid, timeout=10)
        assert not await engine.deliver_signal(eid, "approve", "teams:1", {"by": "boss"})  # duplicate
        assert not await engine.deliver_signal(eid, "deny", "teams:2")  # late
    finally:
        await engine.stop()
    assert execution["state"] == "RESOLVED" and len(approval.resumes) == 1
    assert await pool.fetchval("SELECT count(*) FROM execution_signals WHERE consumed_at IS NULL") == 0


class _ParksAfterRelease(FakeService):
    def __init__(self) -> None:
        super().__init__("gate")
        self.release = asyncio.Event()

    async def behave(self, call: StepCall) -> StepOutcome:
        await self.release.wait()
        return Waiting(signals=frozenset({"approve"}))

    async def resume(self, call: StepCall, event: Any) -> StepOutcome:
        self.resumes.append((call, event))
        from ticketpilot.steps import Succeeded

        return Succeeded(summary="approved")


async def test_a_signal_that_arrives_before_the_step_waits_is_not_lost(pool: asyncpg.Pool) -> None:
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml([step("a", "gate", on_success="resolved", on_failure="escalate"), RESOLVED, ESCALATE]),
    )
    gate = _ParksAfterRelease()
    engine = make_engine(pool, {"gate": gate})
    await engine.start()
    try:
        eid, _ = await engine.start_execution(14, playbook, digest, CTX)
        await eventually(lambda: len(gate.calls) == 1)
        assert await engine.deliver_signal(eid, "approve", "early")
        await asyncio.sleep(0.05)
        gate.release.set()
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "RESOLVED" and len(gate.resumes) == 1


async def test_cancel_while_parked_and_cancel_during_a_side_effect(pool: asyncpg.Pool) -> None:
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml(
            [
                step("a", "slow", on_success="b", on_failure="escalate"),
                step("b", "approval", on_success="resolved", on_failure="escalate"),
                RESOLVED,
                ESCALATE,
            ]
        ),
    )
    slow, approval = Slow("slow"), Approval("approval")
    engine = make_engine(pool, {"slow": slow, "approval": approval})
    await engine.start()
    try:
        busy, _ = await engine.start_execution(15, playbook, digest, CTX)
        await eventually(lambda: len(slow.calls) == 1)
        await engine.cancel(busy, "ticket closed in HaloPSA")
        await asyncio.sleep(0.1)
        assert await state_of(pool, busy) == "RUNNING" and slow.cancelled == 0  # never mid side effect
        slow.release.set()
        first = await engine.wait_terminal(busy, timeout=10)
        parked, _ = await engine.start_execution(16, playbook, digest, CTX)
        await eventually(lambda: _is(pool, parked, "WAITING"))
        await engine.cancel(parked, "requester withdrew")
        second = await engine.wait_terminal(parked, timeout=10)
    finally:
        await engine.stop()
    assert first["state"] == "CANCELLED" and first["cancel_reason"] == "ticket closed in HaloPSA"
    assert [(s["step_id"], s["outcome"]) for s in first["steps"]] == [("a", "success"), ("a", "terminal")]
    assert approval.calls and len(approval.calls) == 1  # only the second execution reached b
    assert second["state"] == "CANCELLED"
    assert [s["outcome"] for s in second["steps"]] == ["success", "cancelled", "terminal"]


async def test_a_step_past_its_timeout_is_abandoned_and_takes_on_failure(pool: asyncpg.Pool) -> None:
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml(
            [
                step("a", "slow", on_success="resolved", on_failure="escalate", timeout="10s"),
                RESOLVED,
                ESCALATE,
            ]
        ),
    )
    slow, clock = Slow("slow", rerun_safe=False), ManualClock()
    engine = make_engine(pool, {"slow": slow}, clock=clock)
    await engine.start()
    try:
        eid, _ = await engine.start_execution(17, playbook, digest, CTX)
        await eventually(lambda: len(slow.calls) == 1)
        clock.advance(10)
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "ESCALATED" and slow.cancelled == 1
    assert "no result within 10s" in execution["escalation_reason"]


@pytest.mark.parametrize("rerun_safe", [True, False])
async def test_an_attempt_left_in_doubt_by_a_crash(pool: asyncpg.Pool, rerun_safe: bool) -> None:
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml([step("a", "slow", on_success="resolved", on_failure="escalate"), RESOLVED, ESCALATE]),
    )
    slow = Slow("slow", rerun_safe=rerun_safe)
    engine = make_engine(pool, {"slow": slow})
    await engine.start()
    eid, _ = await engine.start_execution(18, playbook, digest, CTX)
    await eventually(lambda: len(slow.calls) == 1)
    await engine.abort()  # the process dies mid side effect
    slow.release.set()
    engine = make_engine(pool, {"slow": slow})  # same owner id: a restart of the same process
    await engine.start()
    try:
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    if rerun_safe:
        assert execution["state"] == "RESOLVED"
        assert [c.idempotency_key for c in slow.calls] == [f"{eid}:a:1"] * 2
        assert slow.calls[0].deadline == slow.calls[1].deadline
    else:
        assert execution["state"] == "ESCALATED" and len(slow.calls) == 1
        assert [s["outcome"] for s in execution["steps"]] == ["in_doubt", "terminal"]


@dataclass
class _SlowPush(Slow):
    """Like ``verification.mfa``: not safe to re-run as the same attempt, may be asked again once."""

    reask_after_restart: bool = True


async def test_a_push_left_in_doubt_by_a_crash_is_asked_again_once(pool: asyncpg.Pool) -> None:
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml([step("a", "push", on_success="resolved", on_failure="escalate"), RESOLVED, ESCALATE]),
    )
    push = _SlowPush("push", rerun_safe=False)
    engine = make_engine(pool, {"push": push})
    await engine.start()
    eid, _ = await engine.start_execution(19, playbook, digest, CTX)
    await eventually(lambda: len(push.calls) == 1)
    await engine.abort()  # the process dies while the push is out
    push.release.set()
    engine = make_engine(pool, {"push": push})
    await engine.start()
    try:
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "RESOLVED"
    assert [c.idempotency_key for c in push.calls] == [f"{eid}:a:1", f"{eid}:a:2"], "one new push"
    assert [s["outcome"] for s in execution["steps"]] == ["restart_reask", "success", "terminal"]


class _BlockingDeliver(Slow):
    """Needs the credential; declared safe to re-run so the restart reaches the secret check."""


async def test_a_secret_lost_in_a_restart_reruns_the_step_that_produced_it(pool: asyncpg.Pool) -> None:
    steps = [
        step("create_credential", "create", on_success="deliver", on_failure="escalate"),
        step("deliver", "deliver", on_success="resolved", on_failure="escalate"),
        RESOLVED,
        ESCALATE,
    ]
    playbook, digest = await store_playbook(pool, playbook_yaml(steps))
    create = CreateCredential("create")
    blocked = _BlockingDeliver("deliver", requires_secrets=("credential",))
    engine = make_engine(pool, {"create": create, "deliver": blocked})
    await engine.start()
    eid, _ = await engine.start_execution(19, playbook, digest, CTX)
    await eventually(lambda: len(blocked.calls) == 1)
    await engine.abort()
    deliver = DeliverCredential("deliver", rerun_safe=True)
    engine = make_engine(pool, {"create": create, "deliver": deliver})
    await engine.start()
    try:
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "RESOLVED"
    assert len(create.created) == 2 and deliver.delivered == [create.created[1]]  # the new TAP, once
    assert [(s["step_id"], s["outcome"], s["attempt"]) for s in execution["steps"]] == [
        ("create_credential", "success", 1),
        ("deliver", "secret_missing", 1),
        ("create_credential", "success", 2),
        ("deliver", "success", 2),
        ("resolved", "terminal", 1),
    ]


async def test_engine_errors_fail_and_escalate(pool: asyncpg.Pool) -> None:
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml(
            [step("a", "raising", on_success="resolved", on_failure="escalate"), RESOLVED, ESCALATE]
        ),
    )
    engine = make_engine(pool, {"raising": Raising("raising")})
    await engine.start()
    try:
        eid, _ = await engine.start_execution(20, playbook, digest, CTX)
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "FAILED" and "boom inside the service" in execution["escalation_reason"]
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE kind = 'halopsa.escalate'") == 1


async def test_an_execution_keeps_the_playbook_version_it_started_on(pool: asyncpg.Pool) -> None:
    v1, h1 = await store_playbook(
        pool,
        playbook_yaml(
            [
                step("a", "approval", on_success="b", on_failure="escalate"),
                step("b", "noop", on_success="resolved", on_failure="escalate"),
                RESOLVED,
                ESCALATE,
            ]
        ),
    )
    await store_playbook(  # an edit: "a" now leads straight to an escalation
        pool,
        playbook_yaml(
            [step("a", "approval", on_success="escalate", on_failure="escalate"), RESOLVED, ESCALATE],
            version="2.0.0",
        ),
    )
    services = {"approval": Approval("approval"), "noop": Noop("noop")}
    engine = make_engine(pool, services)
    await engine.start()
    eid, _ = await engine.start_execution(21, v1, h1, CTX)
    await eventually(lambda: _is(pool, eid, "WAITING"))
    await engine.stop()
    engine = make_engine(pool, services)
    await engine.start()
    try:
        await engine.deliver_signal(eid, "approve", "1")
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "RESOLVED" and execution["playbook_version"] == "1.0.0"
    assert len(services["noop"].calls) == 1


async def test_operator_retry_reruns_an_escalated_execution_from_the_failed_step(pool: asyncpg.Pool) -> None:
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml(
            [
                step("a", "noop", on_success="b", on_failure="escalate"),
                step("b", "flaky", on_success="resolved", on_failure="escalate"),
                RESOLVED,
                ESCALATE,
            ]
        ),
    )
    services = {"noop": Noop("noop"), "flaky": Flaky("flaky", failures=1, retryable=False)}
    engine = make_engine(pool, services)
    await engine.start()
    try:
        eid, _ = await engine.start_execution(22, playbook, digest, CTX)
        assert (await engine.wait_terminal(eid, timeout=10))["state"] == "ESCALATED"
        await engine.retry(eid)
        execution = await engine.wait_terminal(eid, timeout=10)
    finally:
        await engine.stop()
    assert execution["state"] == "RESOLVED" and len(services["noop"].calls) == 1
    assert [(s["step_id"], s["outcome"], s["attempt"]) for s in execution["steps"]] == [
        ("a", "success", 1),
        ("b", "failure", 1),
        ("escalate", "terminal", 1),
        ("b", "operator_retry", 1),
        ("b", "success", 2),
        ("resolved", "terminal", 1),
    ]


class _Sleepy(FakeService):
    async def behave(self, call: StepCall) -> StepOutcome:
        await asyncio.sleep(0.02)
        from ticketpilot.steps import Succeeded

        return Succeeded()


async def test_two_processes_one_dies_the_other_takes_over_and_every_execution_ends_once(db_url: str) -> None:
    steps = [
        step("s1", "sleepy", on_success="s2", on_failure="escalate"),
        step("s2", "sleepy", on_success="s3", on_failure="escalate"),
        step("s3", "sleepy", on_success="resolved", on_failure="escalate"),
        RESOLVED,
        ESCALATE,
    ]
    pool_a = await create_pool(db_url, min_size=1, max_size=5)
    pool_b = await create_pool(db_url, min_size=1, max_size=5)
    services = {"sleepy": _Sleepy("sleepy")}
    fast_leases = {"lease_s": 1.0, "lease_renew_every_s": 0.2}
    a = make_engine(pool_a, services, owner_id="process-a", **fast_leases)
    b = make_engine(pool_b, services, owner_id="process-b", **fast_leases)
    try:
        playbook, digest = await store_playbook(pool_a, playbook_yaml(steps))
        await a.start()
        await b.start()
        ids = await asyncio.gather(
            *(e.start_execution(1000 + i, playbook, digest, CTX) for i, e in enumerate([a, b] * 100))
        )
        await asyncio.sleep(0.03)
        await a.abort()  # process A dies: no lease released
        orphans = await pool_b.fetchval("SELECT count(*) FROM playbook_executions WHERE owner = 'process-a'")
        assert orphans > 0
        for eid, _ in ids:
            await b.wait_terminal(eid, timeout=20)
        rows = await pool_b.fetch(
            "SELECT e.execution_id, e.state, e.epoch, array_agg(s.seq ORDER BY s.seq) AS seqs,"
            " count(*) FILTER (WHERE s.outcome = 'terminal') AS terminals"
            " FROM playbook_executions e JOIN playbook_step_executions s USING (execution_id)"
            " GROUP BY e.execution_id"
        )
        assert len(rows) == 200
        assert all(r["state"] == "RESOLVED" and r["terminals"] == 1 for r in rows)
        assert all(r["seqs"] == list(range(1, len(r["seqs"]) + 1)) for r in rows)
        successes = await pool_b.fetchval(
            "SELECT count(*) FROM (SELECT execution_id, step_id FROM playbook_step_executions"
            " WHERE outcome = 'success' GROUP BY 1, 2 HAVING count(*) > 1) d"
        )
        assert successes == 0
        taken = [r for r in rows if r["epoch"] > 1]
        assert taken  # B took A's executions over
        # A's view of one of them is stale: its checkpoint (old epoch) is fenced out.
        row = await execution_row(pool_b, taken[0]["execution_id"])
        stale = Checkpoint(state_from_row(row), prev_seq=row["seq"])
        async with pool_a.acquire() as conn, conn.transaction():
            _, applied = await write_batch(
                conn, [], [PendingCheckpoint(stale, 1)], owner="process-a", lease_s=1
            )
        assert applied == set()
    finally:
        await b.stop()
        await pool_a.close()
        await pool_b.close()


async def test_a_graceful_stop_releases_leases_so_another_process_resumes_at_once(pool: asyncpg.Pool) -> None:
    playbook, digest = await store_playbook(
        pool,
        playbook_yaml(
            [step("a", "approval", on_success="resolved", on_failure="escalate"), RESOLVED, ESCALATE]
        ),
    )
    approval = Approval("approval")
    first = make_engine(pool, {"approval": approval}, owner_id="first")
    await first.start()
    eid, _ = await first.start_execution(23, playbook, digest, CTX)
    await eventually(lambda: _is(pool, eid, "WAITING"))
    await first.stop()
    assert (await execution_row(pool, eid))["owner"] is None
    second = make_engine(pool, {"approval": approval}, owner_id="second")
    await second.start()
    try:
        assert second.live_executions == 1
        await second.deliver_signal(eid, "approve", "x")
        assert (await second.wait_terminal(eid, timeout=10))["state"] == Status.RESOLVED.value
    finally:
        await second.stop()


def test_engine_is_exported() -> None:
    assert Engine.__name__ == "Engine"
