"""Attempts: entering a step (recorded as started before its side effect), retrying with backoff,
timing out, and routing a failure to ``on_failure`` / ``on_timeout``. Pure helpers of ``advance``."""

from __future__ import annotations

from datetime import datetime, timedelta

from ticketpilot.engine.model import (
    ENGINE_KEY,
    AbortStep,
    Checkpoint,
    Command,
    ExecutionState,
    MachineEnv,
    Phase,
    RunStep,
    ScheduleRetry,
    Status,
)
from ticketpilot.engine.retry import backoff_delay
from ticketpilot.engine.transition import Transition, TransitionRows, cancel, fail, finish, with_attempt
from ticketpilot.playbooks.model import Playbook, Step, TerminalOutcome

RESUME_TRIES = "resume_tries"
"""``context["_engine"][RESUME_TRIES][step_id]``: the try of its retry budget a step goes on with when it is
entered again after its secret's producer re-ran (set when the secret was found lost in a restart)."""


def credential_budget(producer: Step) -> int:
    """How many credentials one execution may have ``producer`` issue: its ``retry.max_attempts``, and at
    least 2 (the first one and one replacement for a credential lost in a restart, DESIGN §2)."""
    return max(2, producer.retry.max_attempts if producer.retry is not None else 1)


def after_failure(
    definition: Playbook,
    state: ExecutionState,
    step: Step,
    now: datetime,
    env: MachineEnv,
    tx: TransitionRows,
    *,
    kind: str,
    error: str,
    retryable: bool,
    retry_after: float | None,
    jitter: float,
) -> Transition:
    policy = step.retry
    if (
        retryable
        and policy is not None
        and state.tries < policy.max_attempts
        and state.pending_cancel is None
    ):
        delay = backoff_delay(policy, state.tries, jitter, retry_after)
        at = now + timedelta(seconds=delay)
        tx.row(state, step, "retry", now, error=error, detail={"cause": kind, "retry_in_s": round(delay, 3)})
        waiting = state.evolve(
            status=Status.RUNNING,
            phase=Phase.BACKOFF,
            deadline=at,
            step_started_at=None,
            step_deadline=None,
            wake_at=None,
            awaiting=frozenset(),
            resume_event=None,
            last_error=f"{step.id}: {error}",
        )
        checkpoint = tx.checkpoint(waiting)
        return checkpoint.state, [checkpoint, ScheduleRetry(at)]
    tx.row(state, step, kind, now, error=error)
    failed = state.evolve(failed_step=step.id, last_error=f"{step.id}: {error}")
    if state.pending_cancel:
        return cancel(failed, now, tx, state.pending_cancel, row=False)
    target = step.on_timeout if kind == "timeout" and step.on_timeout else step.on_failure
    return goto(definition, failed, target, now, env, tx)


def time_out(
    definition: Playbook, state: ExecutionState, step: Step, now: datetime, jitter: float, env: MachineEnv
) -> Transition:
    abort: list[Command] = [AbortStep(step.id, state.attempt)] if state.phase is Phase.STARTED else []
    timeout = step.timeout or env.default_step_timeout_s
    new_state, commands = after_failure(
        definition,
        state,
        step,
        now,
        env,
        TransitionRows(state),
        kind="timeout",
        error=f"no result within {timeout:g}s",
        retryable=rerun_safe(env, step),
        retry_after=None,
        jitter=jitter,
    )
    return new_state, abort + commands


def goto(
    definition: Playbook,
    state: ExecutionState,
    target: str | None,
    now: datetime,
    env: MachineEnv,
    tx: TransitionRows,
) -> Transition:
    if target is None:
        return fail(state, now, tx, f"step {state.current_step!r} has no transition for this outcome")
    try:
        step = definition.step(target)
    except KeyError:
        return fail(state, now, tx, f"step {state.current_step!r} leads to unknown step {target!r}")
    state, tries = _resumed_tries(state, step.id)
    return begin_attempt(definition, state, step, state.attempts_of(step.id) + 1, tries, now, env, tx)


def _resumed_tries(state: ExecutionState, step_id: str) -> tuple[ExecutionState, int]:
    """The try a step starts on when entered: 1, or where it stopped for want of a lost secret (consumed)."""
    engine = state.context.get(ENGINE_KEY, {})
    resume: dict[str, int] = dict(engine.get(RESUME_TRIES) or {})
    if step_id not in resume:
        return state, 1
    tries = int(resume.pop(step_id))
    return state.evolve(context={**state.context, ENGINE_KEY: {**engine, RESUME_TRIES: resume}}), tries


def begin_attempt(
    definition: Playbook,
    state: ExecutionState,
    step: Step,
    attempt: int,
    tries: int,
    now: datetime,
    env: MachineEnv,
    tx: TransitionRows,
) -> Transition:
    if step.is_terminal:
        status = Status.RESOLVED if step.terminal is TerminalOutcome.RESOLVED else Status.ESCALATED
        reason = None
        if status is Status.ESCALATED:
            reason = step.reason or "escalated to a technician"
            if state.last_error:
                reason = f"{reason} ({state.last_error})"
        return finish(state, status, reason, now, tx, step_id=step.id)
    traits = env.traits.get(step.service or "")
    if step.service is None or traits is None:
        failed = state.evolve(failed_step=step.id)
        return fail(failed, now, tx, f"step {step.id!r} names unknown service {step.service!r}")
    deadline = now + timedelta(seconds=step.timeout or env.default_step_timeout_s)
    run = RunStep(step.id, step.service, attempt, now, deadline)
    context = with_attempt(state.context, step.id, attempt)
    if tx.rows and not traits.rerun_safe:
        pending = tx.checkpoint(
            state.evolve(
                status=Status.RUNNING,
                current_step=step.id,
                attempt=attempt,
                tries=tries,
                context=context,
                wake_at=None,
                awaiting=_NOTHING,
                resume_event=None,
                phase=Phase.PENDING,
                step_started_at=None,
                step_deadline=None,
                deadline=None,
            )
        )
        started = pending.state.evolve(
            phase=Phase.STARTED, step_started_at=now, step_deadline=deadline, deadline=deadline
        )
        return started, [pending, Checkpoint(started, prev_seq=pending.state.seq), run]
    checkpoint = tx.checkpoint(
        state.evolve(
            status=Status.RUNNING,
            current_step=step.id,
            attempt=attempt,
            tries=tries,
            context=context,
            wake_at=None,
            awaiting=_NOTHING,
            resume_event=None,
            phase=Phase.STARTED,
            step_started_at=now,
            step_deadline=deadline,
            deadline=deadline,
            seq=tx.next_seq,
        )
    )
    return checkpoint.state, [checkpoint, run]


_NOTHING: frozenset[str] = frozenset()


def rerun_safe(env: MachineEnv, step: Step) -> bool:
    traits = env.traits.get(step.service or "")
    return bool(traits and traits.rerun_safe)
