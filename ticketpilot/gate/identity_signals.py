"""Identity-provider evidence about the requester: Identity Protection risk and recent security-info changes.

Two reads per decision, never cached (they are the freshest evidence the gate has):

- ``identity_risk``: Identity Protection holds the user at risk (``riskState`` atRisk or confirmedCompromised,
  or ``riskLevel`` medium or high);
- ``security_info_changes``: security info (MFA methods, the phone a credential would go to) registered,
  changed or deleted inside ``policy.security_info_window_days``;
- ``identity_signals_unavailable``: the tenant could not answer (no licence, no permission, an error, a risk
  level the licence hides). The decision blocks on it unless ``policy.require_identity_signals = false``.

A throttled or failing call (429, 5xx, timeout: a retryable :class:`AdapterError`) is not an answer: it is
returned as the directory's transient failure, so the gate retries the decision like any other throttling.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import structlog

from ticketpilot.adapters.base import AdapterError, IdentitySignalUnavailable, SecurityInfoChange, UserRisk

log = structlog.get_logger(__name__)

MAX_LISTED_CHANGES = 3


class IdentitySignalSource(Protocol):
    """The part of :class:`ticketpilot.adapters.base.Directory` that reads identity signals."""

    async def get_user_risk(self, user_id: str) -> UserRisk: ...

    async def list_security_info_changes(
        self, user_id: str, *, since: datetime
    ) -> tuple[SecurityInfoChange, ...]: ...


@dataclass(frozen=True)
class IdentitySignals:
    """What was found (each empty when there is nothing to say); the fields of the same name in
    :class:`~ticketpilot.gate.facts.RequesterFacts`."""

    identity_risk: str = ""
    security_info_changes: str = ""
    identity_signals_unavailable: str = ""
    transient: AdapterError | None = None
    """A throttled or failing read (429, 5xx, timeout): retry the decision rather than decide on this."""


async def read_identity_signals(
    source: IdentitySignalSource, user_id: str, *, since: datetime
) -> IdentitySignals:
    """Both signals for ``user_id``, read concurrently; security info changes since ``since``."""
    risk, changes = await asyncio.gather(
        source.get_user_risk(user_id),
        source.list_security_info_changes(user_id, since=since),
        return_exceptions=True,
    )
    risk_text = changes_text = ""
    unavailable: list[str] = []
    transient: AdapterError | None = None
    for what, result in (("identity risk", risk), ("security info audit", changes)):
        if not isinstance(result, BaseException):
            continue
        if not isinstance(result, Exception):
            raise result  # cancellation
        log.warning("identity_signal_failed", signal=what, user_id=user_id, error=repr(result))
        if isinstance(result, AdapterError) and result.retryable:
            transient = transient or result
        elif isinstance(result, IdentitySignalUnavailable):
            unavailable.append(f"{what}: {result.message}")
        elif isinstance(result, AdapterError):
            unavailable.append(f"{what} failed: {result.message}")
        else:
            unavailable.append(f"{what} failed: {type(result).__name__}")
    if isinstance(risk, UserRisk):
        if risk.at_risk:
            risk_text = describe_risk(risk)
        elif risk.risk_level == "hidden":
            unavailable.append(
                "identity risk: the risk level is hidden (the tenant's licence does not show it)"
            )
    if isinstance(changes, tuple) and changes:
        changes_text = describe_changes(changes)
    return IdentitySignals(
        identity_risk=risk_text,
        security_info_changes=changes_text,
        identity_signals_unavailable="; ".join(unavailable)[:1000],
        transient=transient,
    )


def describe_risk(risk: UserRisk) -> str:
    text = f"Identity Protection: riskState {risk.risk_state}, riskLevel {risk.risk_level}"
    if risk.risk_detail and risk.risk_detail != "none":
        text += f" ({risk.risk_detail})"
    if risk.last_updated is not None:
        text += f", updated {_iso(risk.last_updated)}"
    return text


def describe_changes(changes: tuple[SecurityInfoChange, ...]) -> str:
    """Newest first, at most :data:`MAX_LISTED_CHANGES` listed."""
    ordered = sorted(changes, key=lambda c: c.at, reverse=True)
    parts = [
        f"{c.activity} at {_iso(c.at)}" + (f" by {c.initiated_by}" if c.initiated_by else "")
        for c in ordered[:MAX_LISTED_CHANGES]
    ]
    if len(ordered) > MAX_LISTED_CHANGES:
        parts.append(f"and {len(ordered) - MAX_LISTED_CHANGES} more")
    return "; ".join(parts)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
