"""Retry backoff: exponential or fixed, capped, with full jitter (the draw is injected, so this stays pure)."""

from __future__ import annotations

from ticketpilot.playbooks.model import Backoff, RetryPolicy


def backoff_delay(policy: RetryPolicy, tries: int, jitter: float, retry_after: float | None = None) -> float:
    """Seconds to wait after the ``tries``-th failed attempt of a cycle.

    ``base`` is ``initial`` (fixed) or ``initial * 2**(tries-1)`` (exponential), capped at ``max``; full
    jitter picks ``base * jitter`` with ``jitter`` drawn uniformly from [0, 1). A remote's ``Retry-After``
    is honoured as a minimum, even above ``max`` (the remote knows when it will accept us again).
    """
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be in [0, 1], got {jitter!r}")
    if policy.backoff is Backoff.FIXED:
        base = policy.initial
    else:
        base = policy.initial * 2.0 ** max(0, min(tries - 1, 60))
    delay = min(base, policy.max) * jitter
    if retry_after is not None and retry_after > delay:
        delay = float(retry_after)
    return delay
