"""Persistence against a real PostgreSQL: one transaction per transition, fencing, group commit, signals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from engine_harness import ESCALATE, RESOLVED, parse_playbook, playbook_yaml, step, store_playbook

from ticketpilot.engine import leases
from ticketpilot.engine.groupcommit import GroupCommitter
from ticketpilot.engine.machine import advance, initial_state
from ticketpilot.engine.model import Checkpoint, ExecutionState, MachineEnv, Started, StepFinished, StepTraits
from ticketpilot.engine.signals import UnknownExecution, deliver_signal, pending_signals
from ticketpilot.engine.store import PendingCheckpoint, PendingCreate, state_from_row, write_batch
from ticketpilot.metrics import CHECKPOINT_BATCH
from ticketpilot.playbooks.model import Playbook
from ticketpilot.steps import Succeeded

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
ENV = MachineEnv(traits={"safe": StepTraits(rerun_safe=True)})
YAML = playbook_yaml(
    [
        step("a", "safe", on_success="b", on_failure="escalate"),
        step("b", "safe", on_success="resolved", on_failure="escalate"),
        RESOLVED,
        ESCALATE,
    ]
)


async def _new(pool: asyncpg.Pool, ticket_id: int, owner: str = "me") -> tuple[Playbook, ExecutionState]:
    playbook, digest = await store_playbook(pool, YAML)
    state = initial_state(playbook, uuid.uuid4(), ticket_id, digest, {"requester": "ann@example.com"})
    state, _ = advance(playbook, state, Started(T0), ENV)
    async with pool.acquire() as conn, conn.transaction():
        (result,), _ = await write_batch(conn, [PendingCreate(state, None)], [], owner=owner, lease_s=30)
    assert result.created
    return playbook, state


def _finish_a(playbook: Playbook, state: ExecutionState) -> tuple[ExecutionState, Checkpoint]:
    state, commands = advance(
        playbook, state, StepFinished("a", 1, Succeeded(summary="a done"), T0 + timedelta(seconds=1)), ENV
    )
    cp = commands[0]
    assert isinstance(cp, Checkpoint)
    return state, cp


async def _apply(pool: asyncpg.Pool, cp: Checkpoint, epoch: int) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        _, applied = await write_batch(conn, [], [PendingCheckpoint(cp, epoch)], owner="me", lease_s=30)
    return cp.state.execution_id in applied


async def test_a_transition_writes_step_row_execution_row_and_outbox_together(pool: asyncpg.Pool) -> None:
    playbook, state = await _new(pool, 1)
    state, cp = _finish_a(playbook, state)
    assert await _apply(pool, cp, epoch=1)
    row = await pool.fetchrow("SELECT * FROM playbook_executions WHERE execution_id = $1", state.execution_id)
    assert (row["current_step"], row["step_phase"], row["seq"], row["state"]) == (
        "b",
        "started",
        1,
        "RUNNING",
    )
    assert row["step_deadline"] == T0 + timedelta(seconds=61)  # default timeout from when b started
    assert state_from_row(row).context == state.context
    steps = await pool.fetch(
        "SELECT * FROM playbook_step_executions WHERE execution_id = $1", state.execution_id
    )
    assert [(s["seq"], s["step_id"], s["outcome"]) for s in steps] == [(1, "a", "success")]
    notes = await pool.fetch("SELECT * FROM outbox WHERE ticket_id = 1")
    assert [n["dedupe_key"] for n in notes] == [f"{state.execution_id}:1:note"]
    assert notes[0]["payload"]["note"].endswith("a done")


async def test_a_failing_transition_writes_nothing_at_all(pool: asyncpg.Pool) -> None:
    playbook, state = await _new(pool, 2)
    _, cp = _finish_a(playbook, state)
    # Someone already wrote seq 1 (bypassing the fence): the primary key rejects the whole transaction.
    await pool.execute(
        "INSERT INTO playbook_step_executions (execution_id, seq, step_id, attempt, outcome)"
        " VALUES ($1, 1, 'a', 1, 'success')",
        state.execution_id,
    )
    with pytest.raises(asyncpg.UniqueViolationError):
        await _apply(pool, cp, epoch=1)
    row = await pool.fetchrow(
        "SELECT seq, current_step FROM playbook_executions WHERE execution_id = $1", state.execution_id
    )
    assert (row["seq"], row["current_step"]) == (0, "a")
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_the_same_transition_cannot_be_written_twice(pool: asyncpg.Pool) -> None:
    playbook, state = await _new(pool, 3)
    _, cp = _finish_a(playbook, state)
    assert await _apply(pool, cp, epoch=1)
    assert not await _apply(pool, cp, epoch=1)  # its prev_seq is stale now: fenced, nothing written
    assert await pool.fetchval("SELECT count(*) FROM playbook_step_executions") == 1
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_a_stale_owner_is_fenced_out_after_another_process_claims_the_execution(
    pool: asyncpg.Pool,
) -> None:
    playbook, state = await _new(pool, 4, owner="old")
    await pool.execute("UPDATE playbook_executions SET lease_until = now() - interval '1 second'")
    claimed = await leases.claim(pool, "new", 30, 10)
    assert [r["epoch"] for r in claimed] == [2]
    _, cp = _finish_a(playbook, state)
    assert not await _apply(pool, cp, epoch=1)
    assert await pool.fetchval("SELECT count(*) FROM playbook_step_executions") == 0
    assert await pool.fetchval("SELECT owner FROM playbook_executions") == "new"
    assert await _apply(pool, cp, epoch=2)


async def test_claim_skips_live_leases_and_renew_release_work_per_owner(pool: asyncpg.Pool) -> None:
    _, s1 = await _new(pool, 5, owner="a")
    _, s2 = await _new(pool, 6, owner="a")
    assert await leases.claim(pool, "b", 30, 10) == []
    assert await leases.renew(pool, "a", [s1.execution_id, s2.execution_id], 30) == {
        s1.execution_id: 1,
        s2.execution_id: 1,
    }
    assert await leases.renew(pool, "b", [s1.execution_id], 30) == {}
    await leases.release(pool, "a", [s1.execution_id])
    taken = await leases.claim(pool, "b", 30, 10)
    assert [r["execution_id"] for r in taken] == [s1.execution_id]
    assert await leases.release_previous(pool, "a") == 1  # "a" restarting gives back what it held
    again = await leases.claim(pool, "a", 30, 10)
    assert [(r["execution_id"], r["epoch"]) for r in again] == [(s2.execution_id, 2)]


async def test_creating_the_same_ticket_and_playbook_twice_returns_the_existing_execution(
    pool: asyncpg.Pool,
) -> None:
    _, first = await _new(pool, 7)
    playbook = parse_playbook(YAML)
    again = initial_state(playbook, uuid.uuid4(), 7, first.playbook_hash, {})
    twin = initial_state(playbook, uuid.uuid4(), 7, first.playbook_hash, {})
    async with pool.acquire() as conn, conn.transaction():
        results, _ = await write_batch(
            conn, [PendingCreate(again, None), PendingCreate(twin, None)], [], owner="me", lease_s=30
        )
    assert [(r.execution_id, r.created) for r in results] == [(first.execution_id, False)] * 2
    assert await pool.fetchval("SELECT count(*) FROM playbook_executions") == 1


async def test_group_commit_puts_concurrent_transitions_in_few_transactions(pool: asyncpg.Pool) -> None:
    states = [(await _new(pool, 100 + i)) for i in range(40)]
    committer = GroupCommitter(pool, owner="me", lease_s=30, linger_s=0.005, batch_max=256)
    committer.start()
    before = next(iter(CHECKPOINT_BATCH.collect()))
    count_before = next(s.value for s in before.samples if s.name.endswith("_count"))
    try:
        results = await asyncio.gather(
            *(committer.checkpoint(PendingCheckpoint(_finish_a(p, s)[1], 1)) for p, s in states)
        )
    finally:
        await committer.close()
    after = next(iter(CHECKPOINT_BATCH.collect()))
    count_after = next(s.value for s in after.samples if s.name.endswith("_count"))
    assert all(results)
    assert count_after - count_before <= 3  # 40 transitions, a handful of transactions
    assert await pool.fetchval("SELECT count(*) FROM playbook_step_executions") == 40


async def test_one_fenced_transition_does_not_sink_the_rest_of_its_batch(pool: asyncpg.Pool) -> None:
    good = [await _new(pool, 200 + i) for i in range(3)]
    bad_pb, bad = await _new(pool, 210)
    await pool.execute(
        "INSERT INTO playbook_step_executions (execution_id, seq, step_id, attempt, outcome)"
        " VALUES ($1, 1, 'a', 1, 'success')",
        bad.execution_id,
    )
    committer = GroupCommitter(pool, owner="me", lease_s=30, linger_s=0.01, batch_max=256)
    committer.start()
    try:
        outcomes = await asyncio.gather(
            *(
                committer.checkpoint(PendingCheckpoint(_finish_a(p, s)[1], 1))
                for p, s in [*good, (bad_pb, bad)]
            ),
            return_exceptions=True,
        )
    finally:
        await committer.close()
    assert outcomes[:3] == [True, True, True]
    assert isinstance(outcomes[3], asyncpg.UniqueViolationError)


async def test_signals_are_deduplicated_and_late_ones_are_consumed(pool: asyncpg.Pool) -> None:
    _, state = await _new(pool, 8)
    eid = state.execution_id
    assert await deliver_signal(pool, eid, "approve", "teams:1", {"by": "boss"})
    assert not await deliver_signal(pool, eid, "approve", "teams:1", {"by": "boss"})
    pending = await pending_signals(pool, [eid])
    assert [(p["kind"], p["payload"]) for p in pending] == [("approve", {"by": "boss"})]
    await pool.execute("UPDATE playbook_executions SET state = 'RESOLVED'")
    assert not await deliver_signal(pool, eid, "deny", "teams:2")
    assert await pool.fetchval("SELECT consumed_at IS NOT NULL FROM execution_signals WHERE kind = 'deny'")
    with pytest.raises(UnknownExecution):
        await deliver_signal(pool, uuid.uuid4(), "approve", "x")


async def test_a_batch_is_one_transaction_even_without_an_explicit_one(pool: asyncpg.Pool) -> None:
    # The committer sends each batch as one statement outside any BEGIN: a failing checkpoint in it must
    # still take the batch's other writes (here a new execution) down with it.
    playbook, state = await _new(pool, 11)
    _, cp = _finish_a(playbook, state)
    await pool.execute(
        "INSERT INTO playbook_step_executions (execution_id, seq, step_id, attempt, outcome)"
        " VALUES ($1, 1, 'a', 1, 'success')",
        state.execution_id,
    )
    newcomer, _ = advance(
        playbook, initial_state(playbook, uuid.uuid4(), 12, state.playbook_hash, {}), Started(T0), ENV
    )
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.UniqueViolationError):
            await write_batch(
                conn, [PendingCreate(newcomer, None)], [PendingCheckpoint(cp, 1)], owner="me", lease_s=30
            )
    assert await pool.fetchval("SELECT count(*) FROM playbook_executions WHERE ticket_id = 12") == 0
    assert await pool.fetchval("SELECT seq FROM playbook_executions WHERE ticket_id = 11") == 0
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_a_batch_written_without_a_transaction_is_durable_when_its_future_resolves(
    pool: asyncpg.Pool,
) -> None:
    playbook, state = await _new(pool, 13)
    _, cp = _finish_a(playbook, state)
    newcomer, _ = advance(
        playbook, initial_state(playbook, uuid.uuid4(), 14, state.playbook_hash, {}), Started(T0), ENV
    )
    committer = GroupCommitter(pool, owner="me", lease_s=30, linger_s=0.001, batch_max=256)
    committer.start()
    try:
        created, applied = await asyncio.gather(
            committer.create(PendingCreate(newcomer, None)), committer.checkpoint(PendingCheckpoint(cp, 1))
        )
    finally:
        await committer.close()
    assert created.created and applied
    # Another connection sees both at once: committed, not merely sent.
    async with pool.acquire() as other:
        assert (
            await other.fetchval(
                "SELECT count(*) FROM playbook_executions WHERE execution_id = ANY($1::uuid[])",
                [newcomer.execution_id, state.execution_id],
            )
            == 2
        )
        assert await other.fetchval("SELECT seq FROM playbook_executions WHERE ticket_id = 13") == 1


async def test_a_full_enough_queue_is_committed_without_waiting_for_the_linger(pool: asyncpg.Pool) -> None:
    states = [await _new(pool, 300 + i) for i in range(6)]
    # A linger far longer than the test may take: only the eager threshold can let these through.
    committer = GroupCommitter(pool, owner="me", lease_s=30, linger_s=600, batch_max=256, eager_at=3)
    committer.start()
    try:
        async with asyncio.timeout(10):
            results = await asyncio.gather(
                *(committer.checkpoint(PendingCheckpoint(_finish_a(p, s)[1], 1)) for p, s in states)
            )
    finally:
        await committer.close()
    assert results == [True] * 6
    assert await pool.fetchval("SELECT count(*) FROM playbook_step_executions") == 6
