"""Named crash points at the engine's commit boundaries, for crash tests (DBOS ``_debug_trigger`` style).

``TICKETPILOT_CRASH_AT="<point>:<step_id>[:<n>]"`` kills the process with SIGKILL the ``n``-th time (default
1st) ``point`` is reached for ``step_id``. Points: ``before_side_effect`` (attempt recorded as started, the
service not yet called), ``after_side_effect`` (result in memory, not checkpointed), ``after_checkpoint``
(the step's result, or its park, is durable). Unset: one ``is None`` test per call.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass

POINTS = ("before_side_effect", "after_side_effect", "after_checkpoint")
ENV_VAR = "TICKETPILOT_CRASH_AT"


@dataclass
class CrashPlan:
    point: str
    step_id: str
    nth: int = 1
    hits: int = 0

    @classmethod
    def parse(cls, spec: str) -> CrashPlan:
        parts = spec.split(":")
        if len(parts) not in (2, 3) or parts[0] not in POINTS or not parts[1]:
            raise ValueError(f"{ENV_VAR}={spec!r}: expected '<point>:<step_id>[:<n>]' with point in {POINTS}")
        nth = int(parts[2]) if len(parts) == 3 else 1
        if nth < 1:
            raise ValueError(f"{ENV_VAR}={spec!r}: n must be >= 1")
        return cls(parts[0], parts[1], nth)


def _from_env() -> CrashPlan | None:
    spec = os.environ.get(ENV_VAR, "").strip()
    return CrashPlan.parse(spec) if spec else None


_plan: CrashPlan | None = _from_env()


def configure(spec: str | None) -> None:
    """Set (or clear, with None) the crash plan; tests of this module use it, the env var is the norm."""
    global _plan
    _plan = CrashPlan.parse(spec) if spec else None


def crashpoint(point: str, step_id: str) -> None:
    """Die right here (SIGKILL, no cleanup, no flush) if the plan names this point and step."""
    plan = _plan
    if plan is None or plan.point != point or plan.step_id != step_id:
        return
    plan.hits += 1
    if plan.hits >= plan.nth:
        sys.stderr.write(f"crashpoint {point}:{step_id} reached: SIGKILL\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
