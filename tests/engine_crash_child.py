"""A process running the engine on a password-reset-like playbook, for the crash matrix.

    python tests/engine_crash_child.py DB_URL WORKDIR TICKETS

verify (parks for ``approve``) → create_credential (secret ``credential``; values appended to
WORKDIR/credentials.txt so the test can search for them) → deliver (not safe to re-run; records the sha256
of the credential in the ``crash_deliveries`` table) → resolved. Starts the executions (idempotently), runs
until all are terminal, exits 0. ``TICKETPILOT_CRASH_AT`` makes it SIGKILL itself at a crash point.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from engine_harness import (
    PASSWORD_RESET_STEPS,
    Approval,
    CreateCredential,
    DeliverCredential,
    db_loader,
    engine_config,
    playbook_yaml,
    sha,
    store_playbook,
)

from ticketpilot.database import create_pool
from ticketpilot.engine import Engine, SystemClock
from ticketpilot.logging import configure_logging
from ticketpilot.steps import StepCall, StepOutcome

TERMINAL = ("RESOLVED", "ESCALATED", "CANCELLED", "FAILED")


@dataclass
class RecordingCreate(CreateCredential):
    path: Path = Path("credentials.txt")

    async def behave(self, call: StepCall) -> StepOutcome:
        outcome = await super().behave(call)
        with self.path.open("a", encoding="utf-8") as f:  # the test needs the plaintext to search for it
            f.write(self.created[-1] + "\n")
            f.flush()
            os.fsync(f.fileno())
        return outcome


@dataclass
class RecordingDeliver(DeliverCredential):
    dsn: str = ""

    async def behave(self, call: StepCall) -> StepOutcome:
        import asyncpg

        conn = await asyncpg.connect(self.dsn)
        try:
            await conn.execute(
                "INSERT INTO crash_deliveries (execution_id, credential_sha256, idempotency_key) VALUES ($1, $2, $3)",
                call.execution_id,
                sha(call.secrets["credential"]),
                call.idempotency_key,
            )
        finally:
            await conn.close()
        return await super().behave(call)


async def main(dsn: str, workdir: Path, tickets: int) -> int:
    configure_logging("DEBUG", "json", stream=sys.stdout)
    pool = await create_pool(dsn, min_size=1, max_size=6)
    services = {
        "verify": Approval("verify"),
        "create": RecordingCreate("create", path=workdir / "credentials.txt"),
        "deliver": RecordingDeliver("deliver", dsn=dsn),
    }
    playbook, digest = await store_playbook(
        pool, playbook_yaml(PASSWORD_RESET_STEPS, playbook_id="password_reset")
    )
    engine = Engine(
        pool,
        services,
        db_loader(pool),
        clock=SystemClock(),
        config=engine_config(lease_s=30.0, lease_renew_every_s=5.0),
        owner_id="crash-child",  # the same identity after a restart: its executions are reclaimed at once
    )
    await engine.start()
    try:
        for i in range(tickets):
            await engine.start_execution(9000 + i, playbook, digest, {"requester": f"user{i}@example.com"})
        while True:
            done = await pool.fetchval(
                "SELECT count(*) FROM playbook_executions WHERE state = ANY($1::text[])", list(TERMINAL)
            )
            if done >= tickets:
                return 0
            await asyncio.sleep(0.05)
    finally:
        await engine.stop()
        await pool.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))))
