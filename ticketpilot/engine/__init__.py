"""The durable playbook engine: a pure state machine (``machine``), its persistence (``store``,
``groupcommit``, ``leases``, ``signals``) and the supervisor that runs one actor per live execution."""

from ticketpilot.engine.clock import Clock, ManualClock, SystemClock
from ticketpilot.engine.errors import EngineStopped, NotRetryable
from ticketpilot.engine.machine import advance, initial_state
from ticketpilot.engine.model import (
    Command,
    Event,
    ExecutionState,
    MachineEnv,
    Phase,
    Status,
    StepTraits,
)
from ticketpilot.engine.signals import UnknownExecution
from ticketpilot.engine.supervisor import Engine

__all__ = [
    "Clock",
    "Command",
    "Engine",
    "EngineStopped",
    "Event",
    "ExecutionState",
    "MachineEnv",
    "ManualClock",
    "NotRetryable",
    "Phase",
    "Status",
    "StepTraits",
    "SystemClock",
    "UnknownExecution",
    "advance",
    "initial_state",
]
