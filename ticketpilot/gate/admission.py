"""The run-time policy for executions an operator starts through the admin API (no gate decision before them).

``POST /api/v1/orchestration/execute_playbook`` and the per-service endpoints that can issue a credential
(``/api/v1/executor/reset_password``, ``/api/v1/delivery/sms``) start executions without a ticket going
through the gate, so the gate's policy blockers are applied here, from the same snapshot
(:class:`~ticketpilot.gate.policy.RuntimePolicy`) under the same advisory lock:

- the global and the per-playbook kill switch refuse, always;
- a playbook in ``mode: shadow`` never acts, whoever starts it: refused, always;
- the per-user cooldown and the global rate limit (and its open breaker) refuse unless the operator gives
  an explicit override with a reason. The override is recorded with the execution (its context, the
  execution view, a private HaloPSA note and a warning in the log) — it bypasses only these two.

Admin starts count toward the rate limit (``policy._SNAPSHOT`` counts executions whose context carries
``operator``), and every execution counts toward its requester's cooldown, as for the gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from ticketpilot.gate.blockers import Blocker, BlockerName, check_policy
from ticketpilot.gate.facts import PolicySnapshot, RequesterFacts
from ticketpilot.gate.policy import RuntimePolicy
from ticketpilot.gate.service import GATE_LOCK_KEY

OVERRIDABLE = frozenset({BlockerName.COOLDOWN, BlockerName.RATE_LIMITED})
"""What an operator's audited override may bypass; never a kill switch or shadow mode."""
SHADOW_MODE = "shadow_mode"


@dataclass(frozen=True)
class Admission:
    """Whether an operator's start may go ahead: the blockers that refuse it, and those overridden."""

    refused: tuple[Blocker, ...]
    overridden: tuple[Blocker, ...]
    shadow: bool = False

    @property
    def allowed(self) -> bool:
        return not self.refused and not self.shadow

    @property
    def code(self) -> str:
        """The API error code of a refusal: the most fundamental reason first."""
        names = {b.name for b in self.refused}
        if names & {BlockerName.KILL_SWITCH_GLOBAL, BlockerName.KILL_SWITCH_PLAYBOOK}:
            return "kill_switch"
        if self.shadow:
            return SHADOW_MODE
        if BlockerName.RATE_LIMITED in names:
            return "rate_limited"
        return "cooldown"

    @property
    def override_allowed(self) -> bool:
        return not self.shadow and all(b.name in OVERRIDABLE for b in self.refused)

    def message(self) -> str:
        parts = [f"{b.name.value}: {b.detail}" for b in self.refused]
        if self.shadow:
            parts.append("the playbook is in shadow mode: it records what it would do and never acts")
        text = "; ".join(parts)
        if self.override_allowed:
            text += ' (an operator may proceed with "override": {"reason": "..."}, which is audited)'
        return text


def admit(
    snapshot: PolicySnapshot,
    *,
    playbook_id: str | None,
    playbook_killed: bool = False,
    shadow: bool = False,
    override: bool = False,
) -> Admission:
    """Pure: the admission of an operator's start under ``snapshot``."""
    found = list(check_policy(snapshot))
    if playbook_id is not None and (playbook_killed or playbook_id in snapshot.killed_playbooks):
        found.append(Blocker(BlockerName.KILL_SWITCH_PLAYBOOK, f"kill switch on for playbook {playbook_id}"))
    overridden = [b for b in found if override and b.name in OVERRIDABLE]
    refused = [b for b in found if b not in overridden]
    return Admission(tuple(refused), tuple(overridden), shadow)


async def admit_operator_start(
    pool: asyncpg.Pool,
    policy: RuntimePolicy,
    *,
    requester_user_id: str,
    playbook_id: str | None,
    playbook_killed: bool = False,
    shadow: bool = False,
    override: bool = False,
) -> Admission:
    """Read the policy state for this requester (under the gate's lock, so it is current) and admit."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", GATE_LOCK_KEY)
        requester = RequesterFacts(email="", user_id=requester_user_id)
        snapshot = await policy.snapshot(conn, requester, policy.now())
    return admit(
        snapshot, playbook_id=playbook_id, playbook_killed=playbook_killed, shadow=shadow, override=override
    )


def blockers_view(blockers: Sequence[Blocker]) -> list[dict[str, str]]:
    return [b.as_dict() for b in blockers]
