"""Where a ticket lands in HaloPSA when a human must take it: team, agent, status and priority (pure).

An execution that ends ``ESCALATED`` or ``FAILED`` goes to the ``[halopsa] escalation_*`` queue
(``status_escalated_id`` for the status), each value overridden by the pinned playbook's ``escalation``
block, which the engine puts on the ``halopsa.escalate`` outbox row. A ticket the gate leaves manual goes to
the ``[halopsa] manual_*`` queue, if one is configured. Unset values (empty, 0) leave the ticket's own alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ticketpilot.config import HalopsaConfig


@dataclass(frozen=True)
class TicketRoute:
    """What to set on the ticket; None leaves that property as it is."""

    team: str | None = None
    agent_id: int | None = None
    status_id: int | None = None
    priority_id: int | None = None

    @property
    def empty(self) -> bool:
        return self == TicketRoute()

    def update_args(self) -> dict[str, Any]:
        """Keyword arguments of ``TicketSystem.update_ticket``."""
        return {
            "team": self.team,
            "agent_id": self.agent_id,
            "status_id": self.status_id,
            "priority_id": self.priority_id,
        }

    def describe(self) -> str:
        """``team Service Desk L1, agent 12, status 5, priority 2`` (for the ticket's note)."""
        parts = [
            f"team {self.team}" if self.team else "",
            f"agent {self.agent_id}" if self.agent_id else "",
            f"status {self.status_id}" if self.status_id else "",
            f"priority {self.priority_id}" if self.priority_id else "",
        ]
        return ", ".join(p for p in parts if p)

    def overridden_by(self, values: Mapping[str, Any]) -> TicketRoute:
        """This route with every valid value of ``values`` (``team``, ``agent_id``, ...) taking precedence.

        Raises ``ValueError`` for a value of the wrong type (a bug in the row's writer).
        """
        changes: dict[str, Any] = {}
        team = values.get("team")
        if team is not None:
            if not isinstance(team, str):
                raise ValueError("team must be a string")
            if team.strip():
                changes["team"] = team.strip()
        for key in ("agent_id", "status_id", "priority_id"):
            value = values.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{key} must be an integer")
            if value > 0:
                changes[key] = value
        return replace(self, **changes)


def _route(team: str, agent_id: int, status_id: int, priority_id: int) -> TicketRoute:
    return TicketRoute(team.strip() or None, agent_id or None, status_id or None, priority_id or None)


def escalation_route(config: HalopsaConfig, payload: Mapping[str, Any]) -> TicketRoute:
    """The queue of an escalated ticket: the configured defaults, then the writer's ``team``/``status_id``,
    then the playbook's ``escalation`` block."""
    route = _route(
        config.escalation_team,
        config.escalation_agent_id,
        config.status_escalated_id,
        config.escalation_priority_id,
    ).overridden_by(payload)
    playbook = payload.get("escalation")
    if playbook is None:
        return route
    if not isinstance(playbook, Mapping):
        raise ValueError("escalation must be an object")
    return route.overridden_by(playbook)


def manual_route(config: HalopsaConfig) -> TicketRoute:
    """The queue of a ticket the gate leaves manual (``[halopsa] manual_*``)."""
    return _route(
        config.manual_team, config.manual_agent_id, config.manual_status_id, config.manual_priority_id
    )
