"""Run-time policy state for the gate, read from PostgreSQL inside the decision's transaction.

- Global kill switch: ``policy.kill_switch`` in config, or the ``runtime_flags`` row ``kill_switch``
  (value ``true`` / ``false``, or ``{"enabled": bool, "reason": str}``) that operators flip at run time.
- Per-playbook kill switch: ``playbook_state.kill_switch``.
- Per-user cooldown: the requester had an automated decision, or an execution of any playbook (except an
  operator's verification-only run), in the last ``policy.cooldown_hours``.
- Global rate limit: at most ``policy.rate_limit_per_hour`` automated decisions (and executions started by an
  operator through the admin API) in any rolling hour.
  When an automation is stopped by the limit alone, the circuit breaker opens for
  ``policy.breaker_open_s`` (``runtime_flags`` row ``rate_breaker``): nothing is automated while it is
  open, even after the hour has rolled on.

The gate holds a transaction-scoped advisory lock around snapshot → decision → insert, so two
processes deciding at once cannot both take the last slot of the rate limit or a requester's cooldown.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from ticketpilot.config import PolicyConfig
from ticketpilot.gate.facts import PolicySnapshot, RequesterFacts

KILL_SWITCH_FLAG = "kill_switch"
BREAKER_FLAG = "rate_breaker"
RATE_WINDOW = timedelta(hours=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


class RuntimePolicy:
    """Reads the policy state that applies to one decision; opens the rate-limit breaker."""

    def __init__(self, config: PolicyConfig, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.config = config
        self._clock = clock
        self._excluded_users = frozenset(u.strip().lower() for u in config.excluded_users if u.strip())
        self._excluded_groups = frozenset(g.strip().lower() for g in config.excluded_groups if g.strip())

    def now(self) -> datetime:
        return self._clock()

    def configured(self) -> PolicySnapshot:
        """The policy of the configuration alone (no run-time state): for a preview with no database."""
        kill, kill_detail = self._kill_switch(None)
        return PolicySnapshot(
            kill_switch_global=kill,
            kill_switch_detail=kill_detail,
            excluded_users=self._excluded_users,
            excluded_groups=self._excluded_groups,
        )

    async def snapshot(
        self, conn: asyncpg.Connection, requester: RequesterFacts, now: datetime
    ) -> PolicySnapshot:
        """The policy state at ``now`` for a decision about ``requester`` (one query, one round trip)."""
        cooldown_user = requester.user_id if self.config.cooldown_hours > 0 else None
        row = await conn.fetchrow(
            _SNAPSHOT,
            KILL_SWITCH_FLAG,
            BREAKER_FLAG,
            now - RATE_WINDOW,
            self.config.rate_limit_per_hour + 1,
            cooldown_user,
            now - timedelta(hours=self.config.cooldown_hours),
        )
        kill, kill_detail = self._kill_switch(_decode(row["kill_switch"]))
        return PolicySnapshot(
            kill_switch_global=kill,
            kill_switch_detail=kill_detail,
            killed_playbooks=frozenset(row["killed"]),
            excluded_users=self._excluded_users,
            excluded_groups=self._excluded_groups,
            cooldown_detail=self._cooldown(row["last_automation"]),
            rate_limited_detail=self._rate_limit(_decode(row["breaker"]), row["automated_last_hour"], now),
            require_identity_signals=self.config.require_identity_signals,
        )

    async def open_breaker(self, conn: asyncpg.Connection, now: datetime) -> datetime:
        """Open the rate-limit breaker until ``now + policy.breaker_open_s``; returns that time."""
        until = now + timedelta(seconds=self.config.breaker_open_s)
        value = {"open_until": until.isoformat(), "opened_at": now.isoformat()}
        await conn.execute(
            "INSERT INTO runtime_flags (name, value, updated_at) VALUES ($1, $2::text::jsonb, $3)"
            " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
            BREAKER_FLAG,
            json.dumps(value),
            now,
        )
        return until

    async def kill_switch_detail(self, conn: asyncpg.Connection | asyncpg.Pool, playbook_id: str) -> str:
        """Why ``playbook_id`` may not act now (the global or its own kill switch); "" when neither is on."""
        row = await conn.fetchrow(
            "SELECT (SELECT value FROM runtime_flags WHERE name = $1) AS kill_switch,"
            " coalesce((SELECT kill_switch FROM playbook_state WHERE playbook_id = $2), false) AS killed",
            KILL_SWITCH_FLAG,
            playbook_id,
        )
        on, detail = self._kill_switch(_decode(row["kill_switch"]))
        if on:
            return detail
        return f"kill switch on for playbook {playbook_id}" if row["killed"] else ""

    def _kill_switch(self, flag: Any) -> tuple[bool, str]:
        if self.config.kill_switch:
            return True, "global kill switch on (policy.kill_switch in config)"
        if isinstance(flag, dict):
            if flag.get("enabled", flag.get("on")) is True:
                reason = str(flag.get("reason") or "").strip()
                return True, "global kill switch on" + (f": {reason}" if reason else " (runtime flag)")
            return False, ""
        if flag is True:
            return True, "global kill switch on (runtime flag)"
        return False, ""

    def _cooldown(self, last: datetime | None) -> str:
        if last is None:
            return ""
        until = last + timedelta(hours=self.config.cooldown_hours)
        return f"requester had an automated execution at {_iso(last)}; cooldown until {_iso(until)}"

    def _rate_limit(self, breaker: Any, count: int, now: datetime) -> str:
        if isinstance(breaker, dict) and breaker.get("open_until"):
            open_until = datetime.fromisoformat(str(breaker["open_until"]))
            if open_until > now:
                return f"rate-limit breaker open until {_iso(open_until)}"
        limit = self.config.rate_limit_per_hour
        if count >= limit:
            return f"{count} automated in the last hour (limit {limit})"
        return ""


# $1 kill-switch flag name, $2 breaker flag name, $3 start of the rate window, $4 rate limit + 1 (enough to
# know the limit is reached), $5 the requester's Entra id (NULL: no cooldown), $6 start of the cooldown.
_SNAPSHOT = """
SELECT
    (SELECT value FROM runtime_flags WHERE name = $1) AS kill_switch,
    (SELECT value FROM runtime_flags WHERE name = $2) AS breaker,
    ARRAY(SELECT playbook_id FROM playbook_state WHERE kill_switch) AS killed,
    (SELECT count(*) FROM (
        (SELECT 1 FROM classification_results WHERE outcome = 'automated' AND created_at > $3 LIMIT $4)
        UNION ALL
        -- Executions an operator started through the admin API (ticketpilot.gate.admission).
        (SELECT 1 FROM playbook_executions WHERE created_at > $3 AND context ? 'operator' LIMIT $4)
    ) recent) AS automated_last_hour,
    CASE WHEN $5::text IS NULL THEN NULL ELSE (
        SELECT max(at) FROM (
            SELECT created_at AS at FROM classification_results
             WHERE outcome = 'automated' AND requester_user_id = $5 AND created_at > $6
            UNION ALL
            SELECT created_at FROM playbook_executions
             WHERE context->>'user_id' = $5 AND created_at > $6
               -- An operator's verification-only run (ticketpilot.playbooks.adhoc) issues nothing.
               AND playbook_id NOT LIKE 'adhoc\\_verification\\_%'
        ) mine
    ) END AS last_automation
"""


def _decode(value: Any) -> Any:
    # Pools made by ticketpilot.database decode jsonb; a bare asyncpg connection returns text.
    return json.loads(value) if isinstance(value, str) else value


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
