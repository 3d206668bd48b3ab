"""The playbook state machine: ``advance(definition, state, event) -> (state, commands)``. Pure: no awaits,
no I/O, no clock or randomness of its own (both arrive inside events).

Rules it encodes (DESIGN §2):
- Finishing a step and entering the next one (or a retry, or a terminal state) is one :class:`Checkpoint`.
- An attempt is recorded ``started`` (with its deadline) before its side effect runs. For a service that is
  not safe to re-run, the start is its own checkpoint, committed after the previous step's result: a crash
  between the two leaves the step ``pending`` (not in doubt), so it simply starts after a restart.
- Retryable failures are retried under the step's policy; a *timeout* is retried only when the service is
  ``rerun_safe`` (its side effect may have happened); anything else takes ``on_failure`` (``on_timeout``).
- Budgets are durable: the attempts of a step and the credentials a step issued are counted in the
  checkpointed state, so a restart never grants a step more tries than its ``retry.max_attempts``, nor a
  credential step more credentials than :func:`~ticketpilot.engine.attempts.credential_budget`. A secret lost
  in a restart is re-issued by its producer only within that budget; the step that needed it then continues
  its own retry count where it was.
- Cancellation takes effect at the next safe point: never while a side effect is running.
- Exactly one terminal state; ``FAILED`` (an engine error) is escalated like ``ESCALATED``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from ticketpilot.engine.attempts import (
    RESUME_TRIES,
    after_failure,
    begin_attempt,
    credential_budget,
    goto,
    rerun_safe,
    time_out,
)
from ticketpilot.engine.model import (
    ENGINE_KEY,
    OUTPUTS_KEY,
    Checkpoint,
    Command,
    ConsumeSignals,
    DeadlineReached,
    EngineError,
    Event,
    ExecutionState,
    InDoubtOnRecovery,
    MachineEnv,
    Park,
    PendingCancel,
    Phase,
    RetryRequested,
    RunStep,
    SecretMissing,
    SignalReceived,
    Started,
    Status,
    StepCrashed,
    StepFinished,
)
from ticketpilot.engine.transition import (
    Transition,
    TransitionRows,
    cancel,
    event_from_json,
    fail,
    with_delivered,
    with_outputs,
    with_producers,
)
from ticketpilot.playbooks.model import Playbook, Step
from ticketpilot.steps import Failed, Signal, StepEvent, Succeeded, Wake

ESCALATE_KIND = "halopsa.escalate"
"""The outbox row of an ``ESCALATED``/``FAILED`` ending (``transition.finish``)."""
RETURN_TO = "return_to"
"""``context["_engine"][RETURN_TO]``: the step that stopped for a lost secret, where its re-run producer goes on."""
MAX_REWINDS = 3
"""At most this many times one execution goes back to a secret's producer, whatever its retry policy allows
(:func:`~ticketpilot.engine.attempts.credential_budget`); then the step that needed it takes ``on_failure``."""
_NO_ENV = MachineEnv()


def initial_state(
    definition: Playbook,
    execution_id: UUID,
    ticket_id: int,
    content_hash: str,
    context: Mapping[str, Any],
) -> ExecutionState:
    """A new execution, pending at the playbook's first step (attempt 1)."""
    first = definition.first_step.id
    ctx = {k: v for k, v in context.items() if k not in (ENGINE_KEY, OUTPUTS_KEY)}
    ctx[ENGINE_KEY] = {"attempts": {first: 1}, "secret_producers": {}, "rewinds": 0}
    return ExecutionState(
        execution_id=execution_id,
        ticket_id=ticket_id,
        playbook_id=definition.id,
        playbook_hash=content_hash,
        playbook_version=definition.version,
        current_step=first,
        attempt=1,
        tries=1,
        context=ctx,
    )


def advance(
    definition: Playbook, state: ExecutionState, event: Event, env: MachineEnv = _NO_ENV
) -> Transition:
    """The next state and the commands that carry the transition out, in order."""
    next_state, commands = _advance(definition, state, event, env)
    if definition.escalation is None:
        return next_state, commands
    return next_state, [_with_escalation_target(c, definition) for c in commands]


def _with_escalation_target(command: Command, definition: Playbook) -> Command:
    """The pinned playbook's ``escalation`` block (team, agent, status, priority) rides on its escalation."""
    if not isinstance(command, Checkpoint) or not any(o.kind == ESCALATE_KIND for o in command.outbox):
        return command
    assert definition.escalation is not None
    target = definition.escalation.as_payload()
    outbox = tuple(
        replace(o, payload={**o.payload, "escalation": target}) if o.kind == ESCALATE_KIND else o
        for o in command.outbox
    )
    return replace(command, outbox=outbox)


def _advance(definition: Playbook, state: ExecutionState, event: Event, env: MachineEnv) -> Transition:
    if state.is_terminal:
        if isinstance(event, RetryRequested) and state.status in (Status.ESCALATED, Status.FAILED):
            return _operator_retry(definition, state, event, env)
        if isinstance(event, SignalReceived):
            return state, [ConsumeSignals((event.signal_id,))]
        return state, []
    if isinstance(event, EngineError):
        return fail(state, event.now, TransitionRows(state), event.error)
    step = _current(definition, state)
    if step is None:
        return fail(
            state, event.now, TransitionRows(state), f"step {state.current_step!r} is not in the playbook"
        )
    match event:
        case Started(now=now):
            if state.phase is not Phase.PENDING:
                return state, []
            return begin_attempt(
                definition, state, step, state.attempt, max(1, state.tries), now, env, TransitionRows(state)
            )
        case StepFinished():
            return _on_step_finished(definition, state, step, event, env)
        case StepCrashed(step_id=step_id, attempt=attempt, error=error, now=now):
            if not _is_current_attempt(state, step_id, attempt):
                return state, []
            tx = TransitionRows(state)
            tx.row(state, step, "failure", now, error=error)
            return fail(state, now, tx, f"step {step.id!r} raised {error}")
        case SignalReceived():
            return _on_signal(state, step, event)
        case DeadlineReached(now=now, jitter=jitter):
            return _on_deadline(definition, state, step, now, jitter, env)
        case InDoubtOnRecovery(now=now, jitter=jitter):
            return _on_in_doubt(definition, state, step, now, jitter, env)
        case SecretMissing():
            return _on_secret_missing(definition, state, step, event, env)
        case _:
            return state, []


# ---- transitions ------------------------------------------------------------------------------------------


def _on_step_finished(
    definition: Playbook, state: ExecutionState, step: Step, event: StepFinished, env: MachineEnv
) -> Transition:
    if not _is_current_attempt(state, event.step_id, event.attempt):
        return state, []  # a late result of an aborted attempt
    now, outcome, tx = event.now, event.outcome, TransitionRows(state)
    if isinstance(outcome, Succeeded):
        ctx = with_outputs(state.context, step.id, outcome.outputs)
        if outcome.secrets:
            ctx = with_producers(ctx, step.id, tuple(outcome.secrets))
        traits = env.traits.get(step.service or "")
        if traits is not None:  # a step that needs a secret succeeded: it is delivered, nothing to undo
            ctx = with_delivered(ctx, step.id, traits.requires_secrets)
        done = state.evolve(context=ctx, failed_step=None, last_error=None)
        tx.row(done, step, "success", now, summary=outcome.summary)
        if state.pending_cancel:
            return cancel(done, now, tx, state.pending_cancel, row=False)
        done, target = _after_success(done, step, bool(outcome.secrets))
        return goto(definition, done, target, now, env, tx)
    if isinstance(outcome, Failed):
        ctx = with_outputs(state.context, step.id, outcome.outputs) if outcome.outputs else state.context
        return after_failure(
            definition,
            state.evolve(context=ctx),
            step,
            now,
            env,
            tx,
            kind="timeout" if outcome.timed_out else "failure",
            error=outcome.error,
            retryable=outcome.retryable,
            retry_after=outcome.retry_after,
            jitter=event.jitter,
        )
    # Waiting: park; the attempt's deadline stays as it was.
    ctx = with_outputs(state.context, step.id, outcome.outputs) if outcome.outputs else state.context
    if state.pending_cancel:
        return cancel(state.evolve(context=ctx), now, tx, state.pending_cancel, row=True)
    step_deadline = state.step_deadline or now
    deadline = min(outcome.wake_at, step_deadline) if outcome.wake_at else step_deadline
    parked = state.evolve(
        status=Status.WAITING,
        phase=Phase.WAITING,
        context=ctx,
        awaiting=frozenset(outcome.signals),
        wake_at=outcome.wake_at,
        deadline=deadline,
        resume_event=None,
    )
    return parked, [Checkpoint(parked, prev_seq=state.seq), Park(deadline, parked.awaiting)]


def _on_signal(state: ExecutionState, step: Step, event: SignalReceived) -> Transition:
    if event.kind == "cancel":
        reason = str(event.payload.get("reason") or "cancelled")
        if state.phase is Phase.STARTED:  # a side effect may be running: cancel at the next safe point
            if state.pending_cancel is not None:
                return state, []
            return state.evolve(pending_cancel=PendingCancel(event.signal_id, reason)), []
        return cancel(
            state, event.now, TransitionRows(state), PendingCancel(event.signal_id, reason), row=True
        )
    if state.phase is Phase.WAITING:
        if event.kind not in state.awaiting:
            return state, [ConsumeSignals((event.signal_id,))]  # late: the step no longer waits for it
        resumed = state.evolve(
            status=Status.RUNNING,
            phase=Phase.STARTED,
            awaiting=frozenset(),
            wake_at=None,
            deadline=state.step_deadline,
            resume_event={
                "type": "signal",
                "signal_id": event.signal_id,
                "kind": event.kind,
                "payload": dict(event.payload),
                "received_at": event.now.isoformat(),
            },
        )
        return resumed, [
            Checkpoint(resumed, prev_seq=state.seq, consume=(event.signal_id,)),
            _run(resumed, step, Signal(event.kind, dict(event.payload), event.now)),
        ]
    # Early: it stays unconsumed in the database and is read again when the step parks.
    return state, []


def _on_deadline(
    definition: Playbook, state: ExecutionState, step: Step, now: datetime, jitter: float, env: MachineEnv
) -> Transition:
    if state.deadline is None or now < state.deadline:
        return state, []  # stale timer
    if state.phase in (Phase.STARTED, Phase.WAITING) and state.step_deadline and now >= state.step_deadline:
        return time_out(definition, state, step, now, jitter, env)
    if state.phase is Phase.WAITING and state.wake_at is not None and now >= state.wake_at:
        resumed = state.evolve(
            status=Status.RUNNING,
            phase=Phase.STARTED,
            awaiting=frozenset(),
            wake_at=None,
            deadline=state.step_deadline,
            resume_event={"type": "wake", "at": state.wake_at.isoformat()},
        )
        return resumed, [Checkpoint(resumed, prev_seq=state.seq), _run(resumed, step, Wake(state.wake_at))]
    if state.phase is Phase.BACKOFF:
        return begin_attempt(
            definition,
            state,
            step,
            state.attempts_of(step.id) + 1,
            state.tries + 1,
            now,
            env,
            TransitionRows(state),
        )
    return state, []


def _on_in_doubt(
    definition: Playbook, state: ExecutionState, step: Step, now: datetime, jitter: float, env: MachineEnv
) -> Transition:
    if state.phase is not Phase.STARTED:
        return state, []
    if rerun_safe(env, step):
        if state.step_deadline is not None and now >= state.step_deadline:
            return time_out(definition, state, step, now, jitter, env)
        # Same attempt, same idempotency key, same deadline: the service de-duplicates or is harmless.
        return state, [_run(state, step, event_from_json(state.resume_event))]
    tx = TransitionRows(state)
    traits = env.traits.get(step.service or "")
    if traits is not None and traits.reask_after_restart:
        return _reask_or_fall_back(definition, state, step, now, env, tx)
    error = (
        f"attempt {state.attempt} was interrupted by a restart; its outcome is unknown and "
        f"{step.service} is not safe to re-run"
    )
    tx.row(state, step, "in_doubt", now, error=error)
    failed = state.evolve(failed_step=step.id, last_error=f"{step.id}: {error}")
    if state.pending_cancel:
        return cancel(failed, now, tx, state.pending_cancel, row=False)
    return goto(definition, failed, step.on_failure, now, env, tx)


def _reask_or_fall_back(
    definition: Playbook,
    state: ExecutionState,
    step: Step,
    now: datetime,
    env: MachineEnv,
    tx: TransitionRows,
) -> Transition:
    """A verification whose attempt a restart interrupted (asked, answer unknown): ask again once as a new
    attempt (``on_restart: reask``, the default), else go where an unanswered one goes (``on_timeout``, else
    ``on_failure``). A re-asked attempt interrupted again always falls back: never a third push."""
    engine = dict(state.context.get(ENGINE_KEY, {}))
    reasked: dict[str, int] = dict(engine.get("restart_reasks", {}))
    interrupted = f"attempt {state.attempt} was interrupted by a restart before its answer was recorded"
    if state.pending_cancel is None and (step.on_restart or "reask") == "reask" and not reasked.get(step.id):
        reasked[step.id] = reasked.get(step.id, 0) + 1
        engine["restart_reasks"] = reasked
        attempt = state.attempts_of(step.id) + 1
        tx.row(
            state,
            step,
            "restart_reask",
            now,
            error=f"{interrupted}; asking again once (attempt {attempt})",
            detail={"reask_attempt": attempt, "on_restart": "reask"},
        )
        again = state.evolve(context={**state.context, ENGINE_KEY: engine})
        return begin_attempt(definition, again, step, attempt, state.tries, now, env, tx)
    why = "already asked again once" if reasked.get(step.id) else "the playbook says on_restart: fallback"
    error = f"{interrupted}; {why}, so it is treated as unanswered"
    tx.row(state, step, "in_doubt", now, error=error, detail={"on_restart": "fallback"})
    failed = state.evolve(failed_step=step.id, last_error=f"{step.id}: {error}")
    if state.pending_cancel:
        return cancel(failed, now, tx, state.pending_cancel, row=False)
    return goto(definition, failed, step.on_timeout or step.on_failure, now, env, tx)


def _on_secret_missing(
    definition: Playbook, state: ExecutionState, step: Step, event: SecretMissing, env: MachineEnv
) -> Transition:
    if not (state.phase is Phase.STARTED and event.step_id == state.current_step):
        return state, []
    tx, now = TransitionRows(state), event.now
    producers = {name: state.secret_producer(name) for name in event.missing}
    orphans = sorted(name for name, producer in producers.items() if producer is None)
    if orphans:
        return fail(
            state, now, tx, f"step {step.id!r} needs secret(s) {orphans} that no earlier step produced"
        )
    rewinds = int(state.context.get(ENGINE_KEY, {}).get("rewinds", 0))
    order = {s.id: i for i, s in enumerate(definition.steps)}
    target = min((p for p in producers.values() if p is not None), key=lambda p: order.get(p, 0))
    producer = definition.step(target)
    budget = min(credential_budget(producer), MAX_REWINDS + 1)
    if rewinds + 1 >= budget:
        # Durable like the attempts: no restart, however many, makes the producer issue one more.
        error = (
            f"secret(s) {sorted(producers)} not in memory (lost in a restart); {target} already issued "
            f"{rewinds + 1} credential(s), the most this playbook allows per execution, so none is re-issued"
        )
        tx.row(state, step, "secret_missing", now, error=error)
        failed = state.evolve(failed_step=step.id, last_error=f"{step.id}: {error}")
        if state.pending_cancel:
            return cancel(failed, now, tx, state.pending_cancel, row=False)
        return goto(definition, failed, step.on_failure, now, env, tx)
    error = f"secret(s) {sorted(producers)} not in memory (lost in a restart); re-running {target}"
    tx.row(state, step, "secret_missing", now, error=error)
    engine = dict(state.context.get(ENGINE_KEY, {}))
    engine["rewinds"] = rewinds + 1
    # This attempt sent nothing (it stopped for want of the secret): once the producer has made a new one,
    # the step goes on with the same try of its retry budget, not a fresh budget.
    engine[RESUME_TRIES] = {**engine.get(RESUME_TRIES, {}), step.id: max(1, state.tries)}
    engine[RETURN_TO] = step.id
    rewound = state.evolve(context={**state.context, ENGINE_KEY: engine})
    return begin_attempt(definition, rewound, producer, rewound.attempts_of(target) + 1, 1, now, env, tx)


def _after_success(state: ExecutionState, step: Step, produced: bool) -> tuple[ExecutionState, str | None]:
    """Where a step that succeeded leads: its ``on_success``; but a producer re-run because a later step lost
    its secret in a restart leads back to that step (which may not be its ``on_success``: e.g. an e-mail
    fallback whose SMS attempt was left in doubt must not bring the SMS step back)."""
    engine = state.context.get(ENGINE_KEY, {})
    back = engine.get(RETURN_TO)
    if not (produced and back):
        return state, step.on_success
    rest = {k: v for k, v in engine.items() if k != RETURN_TO}
    return state.evolve(context={**state.context, ENGINE_KEY: rest}), str(back)


def _operator_retry(
    definition: Playbook, state: ExecutionState, event: RetryRequested, env: MachineEnv
) -> Transition:
    if state.failed_step is None:
        return state, []
    try:
        step = definition.step(state.failed_step)
    except KeyError:
        return state, []
    tx = TransitionRows(state)
    tx.row(
        state,
        step,
        "operator_retry",
        event.now,
        summary=event.reason,
        detail={"from_state": state.status.value},
    )
    engine = {**state.context.get(ENGINE_KEY, {}), "rewinds": 0, RESUME_TRIES: {}}
    engine.pop(RETURN_TO, None)
    revived = state.evolve(
        status=Status.RUNNING,
        escalation_reason=None,
        cancel_reason=None,
        last_error=None,
        failed_step=None,
        context={**state.context, ENGINE_KEY: engine},
    )
    return begin_attempt(definition, revived, step, revived.attempts_of(step.id) + 1, 1, event.now, env, tx)


# ---- building blocks --------------------------------------------------------------------------------------


def _current(definition: Playbook, state: ExecutionState) -> Step | None:
    try:
        return definition.step(state.current_step or "")
    except KeyError:
        return None


def _is_current_attempt(state: ExecutionState, step_id: str, attempt: int) -> bool:
    return state.phase is Phase.STARTED and state.current_step == step_id and state.attempt == attempt


def _run(state: ExecutionState, step: Step, event: StepEvent | None) -> RunStep:
    assert state.step_started_at is not None and state.step_deadline is not None and step.service
    return RunStep(step.id, step.service, state.attempt, state.step_started_at, state.step_deadline, event)
