"""Leases: which process owns which live execution (``owner``, ``lease_until``, ``epoch``).

Claiming bumps the epoch, which fences every checkpoint of the previous owner. Lease time is the
database's ``now()``: one clock for every process, whatever their own clocks say.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg

from ticketpilot.engine.store import EXECUTION_COLUMNS

_CLAIM = f"""
WITH candidates AS (
    SELECT execution_id FROM playbook_executions
    WHERE state IN ('RUNNING', 'WAITING')
      AND (lease_until IS NULL OR lease_until < now())
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE playbook_executions AS e
SET owner = $1, lease_until = now() + make_interval(secs => $2), epoch = e.epoch + 1, updated_at = now()
FROM candidates c
WHERE e.execution_id = c.execution_id
RETURNING {", ".join("e." + c.strip() for c in EXECUTION_COLUMNS.split(","))}
"""

_CLAIM_ONE = f"""
UPDATE playbook_executions
SET owner = $2, lease_until = now() + make_interval(secs => $3), epoch = epoch + 1, updated_at = now()
WHERE execution_id = $1 AND state = ANY($4::text[])
RETURNING {EXECUTION_COLUMNS}
"""

_RENEW = """
UPDATE playbook_executions SET lease_until = now() + make_interval(secs => $3)
WHERE owner = $1 AND execution_id = ANY($2::uuid[]) AND state IN ('RUNNING', 'WAITING')
RETURNING execution_id, epoch
"""

_RELEASE = """
UPDATE playbook_executions SET owner = NULL, lease_until = NULL
WHERE owner = $1 AND execution_id = ANY($2::uuid[]) AND state IN ('RUNNING', 'WAITING')
"""


async def claim(pool: asyncpg.Pool, owner: str, lease_s: float, limit: int) -> list[Any]:
    """Claim up to ``limit`` live executions that nobody holds (or whose lease expired)."""
    async with pool.acquire() as conn:
        return list(await conn.fetch(_CLAIM, owner, lease_s, limit))


async def claim_one(
    pool: asyncpg.Pool, execution_id: UUID, owner: str, lease_s: float, states: Sequence[str]
) -> Any:
    """Claim one execution in one of ``states`` whoever holds it (operator retry of a terminal one)."""
    async with pool.acquire() as conn:
        return await conn.fetchrow(_CLAIM_ONE, execution_id, owner, lease_s, list(states))


async def renew(pool: asyncpg.Pool, owner: str, ids: Sequence[UUID], lease_s: float) -> dict[UUID, int]:
    """Extend the leases of ``ids`` still held by ``owner``: ``{execution_id: epoch}`` of those renewed."""
    if not ids:
        return {}
    async with pool.acquire() as conn:
        rows = await conn.fetch(_RENEW, owner, list(ids), lease_s)
    return {r["execution_id"]: r["epoch"] for r in rows}


async def release_previous(pool: asyncpg.Pool, owner: str) -> int:
    """At start: give back what ``owner``'s previous incarnation held (it died or was stopped), so that they
    are claimed at once instead of after their leases expire. Safe: claiming bumps the epoch."""
    async with pool.acquire() as conn:
        status = await conn.execute(
            "UPDATE playbook_executions SET owner = NULL, lease_until = NULL"
            " WHERE owner = $1 AND state IN ('RUNNING', 'WAITING')",
            owner,
        )
    return int(status.split()[-1])


async def release(pool: asyncpg.Pool, owner: str, ids: Sequence[UUID]) -> None:
    """Give executions back (graceful stop): another process, or this one restarted, claims them at once."""
    if not ids:
        return
    async with pool.acquire() as conn:
        await conn.execute(_RELEASE, owner, list(ids))
