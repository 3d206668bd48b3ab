"""Run-time policy from PostgreSQL: kill switches, per-user cooldown, the global rate limit, its breaker."""

from __future__ import annotations

import json
from datetime import timedelta

import asyncpg
from gate_fakes import WallClock

from ticketpilot.config import PolicyConfig
from ticketpilot.gate.facts import RequesterFacts
from ticketpilot.gate.policy import RuntimePolicy

ALICE = RequesterFacts(email="alice@contoso.com", user_id="u-alice", enabled=True, privileged=False)


async def automated(conn: asyncpg.Connection, user_id: str, at: object, ticket_id: int = 1) -> None:
    await conn.execute(
        "INSERT INTO classification_results (ticket_id, classifier, classifier_version, outcome,"
        " requester_user_id, created_at, source) VALUES ($1, 'fake', '1', 'automated', $2, $3, 'api')",
        ticket_id,
        user_id,
        at,
    )


async def test_global_kill_switch_from_config_or_runtime_flag(pool: asyncpg.Pool) -> None:
    clock = WallClock()
    async with pool.acquire() as conn:
        assert not (
            await RuntimePolicy(PolicyConfig(), clock=clock).snapshot(conn, ALICE, clock())
        ).kill_switch_global
        assert (
            await RuntimePolicy(PolicyConfig(kill_switch=True)).snapshot(conn, ALICE, clock())
        ).kill_switch_global
        policy = RuntimePolicy(PolicyConfig())
        for value, on in [
            (True, True),
            (False, False),
            ({"on": True, "by": "ops", "reason": "Graph incident"}, True),
            ({"enabled": True}, True),
            ({"on": False}, False),
        ]:
            await conn.execute(
                "INSERT INTO runtime_flags (name, value) VALUES ('kill_switch', $1::text::jsonb)"
                " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                json.dumps(value),
            )
            snapshot = await policy.snapshot(conn, ALICE, clock())
            assert snapshot.kill_switch_global is on, value
        await conn.execute("""UPDATE runtime_flags SET value = '{"on": true, "reason": "Graph incident"}'""")
        assert "Graph incident" in (await policy.snapshot(conn, ALICE, clock())).kill_switch_detail


async def test_per_playbook_kill_switch_from_playbook_state(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO playbook_state (playbook_id, kill_switch) VALUES ('password_reset', true)"
        )
        await conn.execute(
            "INSERT INTO playbook_state (playbook_id, kill_switch) VALUES ('mfa_reset', false)"
        )
        snapshot = await RuntimePolicy(PolicyConfig()).snapshot(conn, ALICE, WallClock()())
    assert snapshot.killed_playbooks == frozenset({"password_reset"})


async def test_cooldown_applies_to_the_same_user_within_the_window_only(pool: asyncpg.Pool) -> None:
    clock = WallClock()
    policy = RuntimePolicy(PolicyConfig(cooldown_hours=24), clock=clock)
    async with pool.acquire() as conn:
        await automated(conn, "u-alice", clock() - timedelta(hours=23))
        await automated(conn, "u-bob", clock() - timedelta(hours=25))
        alice = await policy.snapshot(conn, ALICE, clock())
        bob = await policy.snapshot(conn, RequesterFacts(email="bob@x", user_id="u-bob"), clock())
        assert "cooldown until" in alice.cooldown_detail
        assert bob.cooldown_detail == ""
        clock.advance(3600 + 1)
        assert (await policy.snapshot(conn, ALICE, clock())).cooldown_detail == ""


async def test_cooldown_counts_executions_started_outside_the_gate(pool: asyncpg.Pool) -> None:
    clock = WallClock()
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO playbooks VALUES ('password_reset', 'h', '1', '', 'file', now())")
        await conn.execute(
            "INSERT INTO playbook_executions (execution_id, ticket_id, playbook_id, playbook_hash,"
            " playbook_version, state, context) VALUES (gen_random_uuid(), 7, 'password_reset', 'h', '1',"
            """ 'RESOLVED', '{"user_id": "u-alice"}')"""
        )
        snapshot = await RuntimePolicy(PolicyConfig(cooldown_hours=1)).snapshot(conn, ALICE, clock())
        assert snapshot.cooldown_detail
        off = await RuntimePolicy(PolicyConfig(cooldown_hours=0)).snapshot(conn, ALICE, clock())
        assert off.cooldown_detail == ""


async def test_rate_limit_counts_a_rolling_hour_and_the_breaker_stays_open(pool: asyncpg.Pool) -> None:
    clock = WallClock()
    policy = RuntimePolicy(PolicyConfig(rate_limit_per_hour=2, breaker_open_s=900), clock=clock)
    async with pool.acquire() as conn:
        await automated(conn, "u-1", clock() - timedelta(minutes=50), 1)
        assert (await policy.snapshot(conn, ALICE, clock())).rate_limited_detail == ""
        await automated(conn, "u-2", clock() - timedelta(minutes=40), 2)
        assert "limit 2" in (await policy.snapshot(conn, ALICE, clock())).rate_limited_detail

        until = await policy.open_breaker(conn, clock())
        clock.advance(11 * 60)  # the first one has left the window: 1 < 2, but the breaker is open
        assert "breaker open" in (await policy.snapshot(conn, ALICE, clock())).rate_limited_detail
        clock.set(until + timedelta(seconds=1))
        assert (await policy.snapshot(conn, ALICE, clock())).rate_limited_detail == ""
