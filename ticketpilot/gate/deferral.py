"""Deciding later: a vendor the decision needs is throttled or failing, so the decision waits durably.

HaloPSA (the ticket read), Graph (requester enrichment) and the LLM (classification) can answer 429 with a
``Retry-After``, 5xx, or not at all. Such an answer says nothing about the ticket, so it must not turn into
a blocker that keeps an automatable ticket manual for good. Instead :meth:`Gate.decide` raises
:class:`DecisionDeferred` before anything is stored or written to HaloPSA, and the inbox worker puts the
webhook row back with its next attempt time (:func:`next_attempt_at`). The wait is bounded by
``gate.max_decision_delay_s`` from the first deferral; the last attempt, at that bound, decides with what it
has: a vendor still unavailable is then a named blocker (``halopsa_unavailable``, ``directory_unavailable``,
``llm_unavailable``).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from ticketpilot.gate.blockers import BlockerName
from ticketpilot.gate.outbox import backoff_s


class DecisionDeferred(Exception):
    """Control flow: decide this ticket again later; ``blocker`` names the vendor that was unavailable."""

    def __init__(self, blocker: BlockerName, detail: str, retry_after: float | None = None) -> None:
        super().__init__(f"{blocker.value}: {detail}")
        self.blocker = blocker
        self.detail = detail
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"DecisionDeferred(blocker={self.blocker.value!r}, detail={self.detail!r},"
            f" retry_after={self.retry_after})"
        )


def may_defer(deferred_since: datetime | None, now: datetime, max_delay: timedelta) -> bool:
    """Whether a decision may still wait: never deferred yet, or deferred for less than ``max_delay``."""
    return deferred_since is None or now < deferred_since + max_delay


def next_attempt_at(
    deferred: DecisionDeferred,
    *,
    now: datetime,
    deferred_since: datetime,
    max_delay: timedelta,
    attempts: int,
    base_s: float,
    max_s: float,
    rng: random.Random,
) -> datetime:
    """When to try again: exponential backoff with jitter, at least the vendor's ``Retry-After``, and never
    after the bound, so the last attempt happens exactly when the decision may wait no longer."""
    delay = backoff_s(attempts, base_s=base_s, max_s=max_s, rng=rng, retry_after=deferred.retry_after)
    return min(now + timedelta(seconds=delay), deferred_since + max_delay)
