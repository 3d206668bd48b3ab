"""Migrations: ordered, recorded, idempotent, safe when several processes start at once."""

from __future__ import annotations

import asyncio

import asyncpg

from ticketpilot.database import connect
from ticketpilot.engine.migrate import available_migrations, migrate, pending_migrations

TABLES = {
    "tickets",
    "classification_results",
    "playbooks",
    "playbook_executions",
    "playbook_step_executions",
    "webhook_inbox",
    "outbox",
    "execution_signals",
}


async def _tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r["tablename"] for r in rows}


async def test_migrate_twice_is_idempotent(empty_db_url: str) -> None:
    conn = await connect(empty_db_url)
    try:
        first = await migrate(conn)
        second = await migrate(conn)
        assert first == [m.version for m in available_migrations()]
        assert second == []
        assert TABLES <= await _tables(conn)
        assert await pending_migrations(conn) == []
        recorded = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in recorded] == first
    finally:
        await conn.close()


async def test_concurrent_migrators_apply_each_migration_once(empty_db_url: str) -> None:
    conns = [await connect(empty_db_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        applied = [v for r in results for v in r]
        assert sorted(applied) == [m.version for m in available_migrations()]
        assert TABLES <= await _tables(conns[0])
    finally:
        for c in conns:
            await c.close()


async def test_one_execution_per_ticket_and_playbook_is_enforced(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO playbooks (playbook_id, content_hash, version, yaml_text) VALUES ('p', 'h', '1', 'x')"
        )
        insert = (
            "INSERT INTO playbook_executions (execution_id, ticket_id, playbook_id, playbook_hash,"
            " playbook_version, state) VALUES (gen_random_uuid(), 42, 'p', 'h', '1', 'RUNNING')"
        )
        await conn.execute(insert)
        try:
            await conn.execute(insert)
        except asyncpg.UniqueViolationError:
            pass
        else:
            raise AssertionError("a second execution for the same ticket and playbook was accepted")
