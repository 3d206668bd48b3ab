"""What ``/readyz`` knows beyond one database round trip: the long-lived loops' own view, and draining.

Every loop that needs the database to do its job (the inbox and outbox workers, the engine's lease tick, the
LISTEN connection) reports here: ``failing(part, error)`` when a round could not reach the database,
``recovered(part)`` when one succeeds again. Each of them retries by itself with :class:`Backoff`, so the
service resumes without a restart, and ``/readyz`` says not ready until every part works again.

``drain()`` is the first thing a graceful stop does: ``/readyz`` answers 503 at once and intake refuses new
webhooks (503, the proxy retries them on another replica) while work in flight finishes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger(__name__)


@dataclass
class Readiness:
    """Which parts of the running service cannot do their work right now, and whether it is draining."""

    draining: bool = False
    _failing: dict[str, str] = field(default_factory=dict)

    def failing(self, part: str, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        if part not in self._failing:
            log.warning("service_part_failing", part=part, error=text[:300])
        self._failing[part] = text[:300]

    def recovered(self, part: str) -> None:
        if self._failing.pop(part, None) is not None:
            log.info("service_part_recovered", part=part)

    def drain(self) -> None:
        """Stop taking new work: not ready from now on."""
        if not self.draining:
            log.info("service_draining")
        self.draining = True

    @property
    def problems(self) -> dict[str, str]:
        """``part → last error`` of every part that is failing now."""
        return dict(self._failing)

    @property
    def ready(self) -> bool:
        return not self.draining and not self._failing


@dataclass
class Backoff:
    """Reconnect delays: ``initial_s``, doubling up to ``max_s``, with jitter (±25 %); ``reset()`` on success.

    Many replicas losing one database together must not all come back at the same instant."""

    initial_s: float = 0.2
    max_s: float = 10.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def next_delay(self) -> float:
        base = min(self.max_s, self.initial_s * 2.0 ** min(self.failures, 30))
        self.failures += 1
        return base * (0.75 + 0.5 * self.rng.random())

    def reset(self) -> None:
        self.failures = 0
