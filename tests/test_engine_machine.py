"""The pure core: every transition of ``advance`` without a database or an event loop."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from engine_harness import ESCALATE, RESOLVED, parse_playbook, playbook_yaml, step

from ticketpilot.engine.machine import advance, initial_state
from ticketpilot.engine.model import (
    AbortStep,
    Checkpoint,
    Command,
    ConsumeSignals,
    DeadlineReached,
    EngineError,
    ExecutionState,
    Finish,
    InDoubtOnRecovery,
    MachineEnv,
    Park,
    Phase,
    RetryRequested,
    RunStep,
    ScheduleRetry,
    SecretMissing,
    SignalReceived,
    Started,
    Status,
    StepCrashed,
    StepFinished,
    StepTraits,
)
from ticketpilot.engine.retry import backoff_delay
from ticketpilot.playbooks.model import Backoff, EscalationTarget, Playbook, RetryPolicy
from ticketpilot.steps import Failed, Signal, Succeeded, Waiting, Wake

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
ENV = MachineEnv(
    traits={
        "safe": StepTraits(rerun_safe=True),
        "unsafe": StepTraits(rerun_safe=False),
        "create": StepTraits(rerun_safe=True, produces_secrets=("credential",)),
        "deliver": StepTraits(rerun_safe=False, requires_secrets=("credential",)),
    },
    default_step_timeout_s=60,
)
RETRY = {"max_attempts": 3, "backoff": "exponential", "initial": "2s", "max": "5s"}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def playbook(*steps: dict[str, Any]) -> Playbook:
    return parse_playbook(playbook_yaml([*steps, RESOLVED, ESCALATE]))


def begin(pb: Playbook) -> tuple[ExecutionState, list[Command]]:
    state = initial_state(pb, uuid.uuid4(), 42, "hash-v1", {"requester": "ann@example.com"})
    return advance(pb, state, Started(T0), ENV)


def checkpoints(commands: list[Command]) -> list[Checkpoint]:
    return [c for c in commands if isinstance(c, Checkpoint)]


def only(commands: list[Command], kind: type) -> Any:
    found = [c for c in commands if isinstance(c, kind)]
    assert len(found) == 1, commands
    return found[0]


def finish(pb: Playbook, state: ExecutionState, outcome: Any, when: float = 1, jitter: float = 0.5) -> Any:
    assert state.current_step is not None
    return advance(pb, state, StepFinished(state.current_step, state.attempt, outcome, at(when), jitter), ENV)


TWO_STEPS = playbook(
    step("a", "safe", on_success="b", on_failure="escalate", timeout="30s"),
    step("b", "safe", on_success="resolved", on_failure="escalate"),
)


def test_start_records_the_attempt_as_started_with_its_deadline_before_running_it() -> None:
    state, commands = begin(TWO_STEPS)
    cp, run = commands
    assert isinstance(cp, Checkpoint) and isinstance(run, RunStep)
    assert cp.state.phase is Phase.STARTED and cp.state.current_step == "a"
    assert cp.state.step_deadline == at(30) == cp.state.deadline == run.deadline
    assert (run.step_id, run.attempt, run.event) == ("a", 1, None)
    assert state.status is Status.RUNNING


def test_success_path_finishes_each_step_and_enters_the_next_in_one_checkpoint() -> None:
    state, _ = begin(TWO_STEPS)
    state, commands = finish(TWO_STEPS, state, Succeeded(outputs={"x": 1}, summary="did a"))
    (cp,) = checkpoints(commands)
    assert [r.outcome for r in cp.steps] == ["success"] and cp.steps[0].seq == 1 and cp.prev_seq == 0
    assert cp.state.current_step == "b" and cp.state.phase is Phase.STARTED and cp.state.seq == 1
    assert [o.dedupe_key for o in cp.outbox] == [f"{state.execution_id}:1:note"]
    assert "did a" in cp.outbox[0].payload["note"]
    assert state.context["steps"]["a"] == {"x": 1}
    state, commands = finish(TWO_STEPS, state, Succeeded(), when=2)
    (cp,) = checkpoints(commands)
    assert [(r.step_id, r.outcome) for r in cp.steps] == [("b", "success"), ("resolved", "terminal")]
    assert [o.kind for o in cp.outbox] == ["halopsa.note", "halopsa.resolve"]
    assert only(commands, Finish).status is Status.RESOLVED
    assert state.status is Status.RESOLVED and state.phase is Phase.DONE and state.deadline is None


def test_a_step_not_safe_to_rerun_is_started_in_its_own_checkpoint_after_the_previous_result() -> None:
    pb = playbook(
        step("a", "safe", on_success="b", on_failure="escalate"),
        step("b", "unsafe", on_success="resolved", on_failure="escalate"),
    )
    state, _ = begin(pb)
    state, commands = finish(pb, state, Succeeded())
    first, second = checkpoints(commands)
    assert first.steps and first.state.phase is Phase.PENDING and first.state.current_step == "b"
    assert not second.steps and second.state.phase is Phase.STARTED and second.prev_seq == first.state.seq
    assert isinstance(commands[-1], RunStep)
    assert second.starts_attempt and not first.starts_attempt


def test_non_retryable_failure_takes_on_failure_and_escalates_with_the_reason_and_the_error() -> None:
    pb = playbook(step("a", "safe", on_success="resolved", on_failure="escalate", retry=RETRY))
    state, _ = begin(pb)
    state, commands = finish(pb, state, Failed("user is disabled", retryable=False))
    (cp,) = checkpoints(commands)
    assert [(r.step_id, r.outcome) for r in cp.steps] == [("a", "failure"), ("escalate", "terminal")]
    assert state.status is Status.ESCALATED
    assert state.escalation_reason == "Needs a technician. (a: user is disabled)"
    assert (
        cp.outbox[-1].kind == "halopsa.escalate"
        and cp.outbox[-1].payload["reason"] == state.escalation_reason
    )
    assert state.failed_step == "a"


def test_retryable_failures_back_off_within_bounds_persist_the_attempt_and_stop_at_max_attempts() -> None:
    pb = playbook(step("a", "safe", on_success="resolved", on_failure="escalate", retry=RETRY))
    state, _ = begin(pb)
    now = 0.0
    for attempt, cap in ((1, 2.0), (2, 4.0)):
        assert state.attempt == attempt
        state, commands = finish(pb, state, Failed("503", retryable=True), when=now, jitter=0.999)
        cp, retry = commands
        assert isinstance(cp, Checkpoint) and isinstance(retry, ScheduleRetry)
        assert cp.steps[0].outcome == "retry" and cp.steps[0].attempt == attempt
        assert cp.state.phase is Phase.BACKOFF and cp.state.context["_engine"]["attempts"]["a"] == attempt
        delay = (retry.at - at(now)).total_seconds()
        assert cap * 0.99 <= delay <= cap
        state, commands = advance(pb, state, DeadlineReached(retry.at), ENV)
        run = only(commands, RunStep)
        assert run.attempt == attempt + 1 and state.tries == attempt + 1
        now = (retry.at - T0).total_seconds()
    state, commands = finish(pb, state, Failed("503", retryable=True), when=now)
    assert state.status is Status.ESCALATED and state.attempt == 3


def test_backoff_uses_full_jitter_capped_at_max_and_honours_retry_after() -> None:
    exp = RetryPolicy(max_attempts=5, backoff=Backoff.EXPONENTIAL, initial=1, max=10)
    rng = random.Random(1)
    for tries in range(1, 8):
        delay = backoff_delay(exp, tries, rng.random())
        assert 0 <= delay <= min(10, 2 ** (tries - 1))
    assert backoff_delay(exp, 6, 0.5) == 5.0  # 32 capped at 10, half of it
    fixed = RetryPolicy(max_attempts=3, backoff=Backoff.FIXED, initial=4, max=60)
    assert backoff_delay(fixed, 3, 0.25) == 1.0
    assert backoff_delay(exp, 1, 0.1, retry_after=30) == 30  # Retry-After is a minimum, even above max
    with pytest.raises(ValueError):
        backoff_delay(exp, 1, 1.5)


def test_retry_after_from_the_service_is_the_minimum_wait() -> None:
    pb = playbook(step("a", "safe", on_success="resolved", on_failure="escalate", retry=RETRY))
    state, _ = begin(pb)
    state, commands = finish(pb, state, Failed("429", retryable=True, retry_after=20), jitter=0.1)
    assert only(commands, ScheduleRetry).at == at(1 + 20)


@pytest.mark.parametrize("service, retried", [("safe", True), ("unsafe", False)])
def test_timeout_aborts_the_call_and_is_retried_only_when_rerun_safe(service: str, retried: bool) -> None:
    pb = playbook(
        step(
            "a",
            service,
            on_success="resolved",
            on_failure="escalate",
            on_timeout="resolved",
            timeout="10s",
            retry=RETRY,
        )
    )
    state, _ = begin(pb)
    same, nothing = advance(pb, state, DeadlineReached(at(9)), ENV)
    assert nothing == [] and same == state  # not yet due
    state, commands = advance(pb, state, DeadlineReached(at(10)), ENV)
    assert isinstance(commands[0], AbortStep)
    (cp,) = checkpoints(commands)
    if retried:
        assert cp.steps[0].outcome == "retry" and state.phase is Phase.BACKOFF
    else:
        assert [r.outcome for r in cp.steps] == ["timeout", "terminal"]
        assert state.status is Status.RESOLVED  # on_timeout wins over on_failure


def test_a_late_result_of_an_aborted_attempt_is_ignored() -> None:
    pb = playbook(step("a", "safe", on_success="resolved", on_failure="escalate", timeout="10s", retry=RETRY))
    state, _ = begin(pb)
    state, _ = advance(pb, state, DeadlineReached(at(10)), ENV)
    same, commands = advance(pb, state, StepFinished("a", 1, Succeeded(), at(11)), ENV)
    assert commands == [] and same is state


APPROVAL = playbook(
    step("approve", "safe", on_success="resolved", on_failure="escalate", timeout="30m"),
)


def parked(wake_in: float | None = None) -> ExecutionState:
    state, _ = begin(APPROVAL)
    wake = at(wake_in) if wake_in else None
    state, commands = finish(APPROVAL, state, Waiting(signals=frozenset({"approve", "deny"}), wake_at=wake))
    park = only(commands, Park)
    assert park.deadline == (wake or at(1800)) and park.signals == {"approve", "deny"}
    assert state.status is Status.WAITING and state.step_deadline == at(1800)
    return state


def test_waiting_parks_with_the_earlier_of_wake_up_and_step_deadline() -> None:
    state = parked(wake_in=300)
    assert state.deadline == at(300)
    assert parked().deadline == at(1800)


def test_an_awaited_signal_resumes_the_step_and_is_consumed_in_the_same_checkpoint() -> None:
    state = parked()
    state, commands = advance(APPROVAL, state, SignalReceived(7, "approve", {"by": "boss"}, at(60)), ENV)
    cp, run = commands
    assert isinstance(cp, Checkpoint) and cp.consume == (7,) and cp.state.phase is Phase.STARTED
    assert isinstance(run, RunStep) and isinstance(run.event, Signal) and run.event.kind == "approve"
    assert run.deadline == at(1800) and run.attempt == 1  # the attempt's deadline never moves
    assert state.resume_event is not None and state.resume_event["signal_id"] == 7


def test_a_signal_the_step_no_longer_waits_for_is_consumed_and_ignored() -> None:
    state = parked()
    same, commands = advance(APPROVAL, state, SignalReceived(8, "sms_reply", {}, at(60)), ENV)
    assert commands == [ConsumeSignals((8,))] and same is state


def test_a_signal_that_arrives_before_the_step_waits_is_kept_for_later() -> None:
    state, _ = begin(APPROVAL)
    same, commands = advance(APPROVAL, state, SignalReceived(9, "approve", {}, at(0.5)), ENV)
    assert commands == [] and same is state  # stays unconsumed in the database


def test_a_signal_for_a_finished_execution_is_consumed_and_ignored() -> None:
    state, _ = begin(TWO_STEPS)
    state, _ = advance(TWO_STEPS, state, EngineError("x", at(1)), ENV)
    same, commands = advance(TWO_STEPS, state, SignalReceived(3, "approve", {}, at(2)), ENV)
    assert commands == [ConsumeSignals((3,))] and same.status is Status.FAILED


def test_wake_up_resumes_with_a_wake_event_and_keeps_the_original_step_deadline() -> None:
    state = parked(wake_in=300)
    state, commands = advance(APPROVAL, state, DeadlineReached(at(300)), ENV)
    run = only(commands, RunStep)
    assert isinstance(run.event, Wake) and run.event.at == at(300) and run.deadline == at(1800)
    state, commands = finish(APPROVAL, state, Waiting(signals=frozenset({"approve"})), when=301)
    assert only(commands, Park).deadline == at(1800)


def test_the_step_deadline_passing_while_parked_is_a_timeout() -> None:
    state = parked(wake_in=300)
    state, _ = advance(APPROVAL, state, DeadlineReached(at(300)), ENV)
    state, _ = finish(APPROVAL, state, Waiting(signals=frozenset({"approve"})), when=301)
    state, commands = advance(APPROVAL, state, DeadlineReached(at(1800)), ENV)
    assert not any(isinstance(c, AbortStep) for c in commands)  # nothing is running
    assert [r.outcome for r in checkpoints(commands)[0].steps] == ["timeout", "terminal"]
    assert state.status is Status.ESCALATED


def test_cancel_while_parked_ends_cancelled_with_the_reason() -> None:
    state = parked()
    state, commands = advance(
        APPROVAL, state, SignalReceived(5, "cancel", {"reason": "ticket closed"}, at(9)), ENV
    )
    (cp,) = checkpoints(commands)
    assert [r.outcome for r in cp.steps] == ["cancelled", "terminal"] and cp.consume == (5,)
    assert state.status is Status.CANCELLED and state.cancel_reason == "ticket closed"
    assert only(commands, Finish).status is Status.CANCELLED


def test_cancel_during_a_side_effect_waits_for_its_result_then_cancels_instead_of_going_on() -> None:
    state, _ = begin(TWO_STEPS)
    state, commands = advance(
        TWO_STEPS, state, SignalReceived(5, "cancel", {"reason": "closed"}, at(0.5)), ENV
    )
    assert commands == [] and state.pending_cancel is not None
    state, commands = finish(TWO_STEPS, state, Succeeded(summary="a done"))
    (cp,) = checkpoints(commands)
    assert [(r.step_id, r.outcome) for r in cp.steps] == [("a", "success"), ("a", "terminal")]
    assert not any(isinstance(c, RunStep) for c in commands)
    assert state.status is Status.CANCELLED and cp.consume == (5,)


def test_in_doubt_rerun_safe_step_runs_again_with_the_same_attempt_and_deadline() -> None:
    state, _ = begin(TWO_STEPS)
    same, commands = advance(TWO_STEPS, state, InDoubtOnRecovery(at(5)), ENV)
    run = only(commands, RunStep)
    assert (run.attempt, run.deadline, run.started_at) == (1, at(30), T0) and same is state
    assert not checkpoints(commands)  # nothing changes in the database


def test_in_doubt_rerun_safe_step_past_its_deadline_times_out() -> None:
    state, _ = begin(TWO_STEPS)
    state, commands = advance(TWO_STEPS, state, InDoubtOnRecovery(at(31)), ENV)
    assert [r.outcome for r in checkpoints(commands)[0].steps] == ["timeout", "terminal"]


def test_in_doubt_resume_is_rerun_with_the_persisted_event() -> None:
    state = parked()
    state, _ = advance(APPROVAL, state, SignalReceived(7, "approve", {"by": "boss"}, at(60)), ENV)
    _, commands = advance(APPROVAL, state, InDoubtOnRecovery(at(61)), ENV)
    run = only(commands, RunStep)
    assert (
        isinstance(run.event, Signal) and run.event.kind == "approve" and run.event.payload == {"by": "boss"}
    )


def test_in_doubt_step_not_safe_to_rerun_takes_on_failure_with_an_in_doubt_row() -> None:
    pb = playbook(step("a", "unsafe", on_success="resolved", on_failure="escalate"))
    state, _ = begin(pb)
    state, commands = advance(pb, state, InDoubtOnRecovery(at(5)), ENV)
    (cp,) = checkpoints(commands)
    assert [r.outcome for r in cp.steps] == ["in_doubt", "terminal"]
    assert state.status is Status.ESCALATED and "interrupted" in (state.escalation_reason or "")


CREDENTIAL = playbook(
    step("create", "create", on_success="deliver", on_failure="escalate"),
    step("deliver", "deliver", on_success="resolved", on_failure="escalate"),
)


def test_missing_secret_goes_back_to_the_step_that_produced_it_as_a_new_attempt() -> None:
    state, _ = begin(CREDENTIAL)
    state, commands = finish(CREDENTIAL, state, Succeeded(secrets={"credential": "[REDACTED]"}))
    assert state.context["_engine"]["secret_producers"] == {"credential": "create"}
    assert "[REDACTED]" not in repr(checkpoints(commands))  # only the name is persisted
    state, commands = advance(CREDENTIAL, state, SecretMissing("deliver", ("credential",), at(2)), ENV)
    cp = checkpoints(commands)[0]
    assert [(r.step_id, r.outcome) for r in cp.steps] == [("deliver", "secret_missing")]
    run = only(commands, RunStep)
    assert (run.step_id, run.attempt) == ("create", 2)


def test_a_secret_nobody_produced_is_an_engine_error() -> None:
    pb = playbook(step("deliver", "deliver", on_success="resolved", on_failure="escalate"))
    state, _ = begin(pb)
    state, commands = advance(pb, state, SecretMissing("deliver", ("credential",), at(1)), ENV)
    assert state.status is Status.FAILED and only(commands, Checkpoint).outbox[-1].kind == "halopsa.escalate"


def test_an_exception_escaping_a_service_fails_the_execution_and_escalates() -> None:
    state, _ = begin(TWO_STEPS)
    state, commands = advance(TWO_STEPS, state, StepCrashed("a", 1, "RuntimeError: boom", at(1)), ENV)
    (cp,) = checkpoints(commands)
    assert [r.outcome for r in cp.steps] == ["failure", "terminal"]
    assert state.status is Status.FAILED and "boom" in (state.escalation_reason or "")
    assert cp.outbox[-1].kind == "halopsa.escalate"


def test_an_unknown_service_fails_the_execution() -> None:
    pb = playbook(step("a", "nobody", on_success="resolved", on_failure="escalate"))
    state, commands = begin(pb)
    assert state.status is Status.FAILED and "nobody" in (state.escalation_reason or "")
    assert not any(isinstance(c, RunStep) for c in commands)


def test_exactly_one_terminal_state_later_events_change_nothing() -> None:
    state, _ = begin(TWO_STEPS)
    state, _ = advance(TWO_STEPS, state, EngineError("x", at(1)), ENV)
    for event in (Started(at(2)), DeadlineReached(at(99)), InDoubtOnRecovery(at(3)), EngineError("y", at(4))):
        same, commands = advance(TWO_STEPS, state, event, ENV)
        assert same is state and commands == []


def test_operator_retry_reruns_the_failed_step_as_a_new_audited_attempt() -> None:
    pb = playbook(step("a", "safe", on_success="resolved", on_failure="escalate"))
    state, _ = begin(pb)
    state, _ = finish(pb, state, Failed("denied"))
    assert state.status is Status.ESCALATED
    state, commands = advance(pb, state, RetryRequested(at(100), "operator retry"), ENV)
    cp = checkpoints(commands)[0]
    assert cp.steps[0].outcome == "operator_retry" and cp.steps[0].seq == 3
    run = only(commands, RunStep)
    assert (run.step_id, run.attempt) == ("a", 2)
    assert state.status is Status.RUNNING and state.escalation_reason is None


def test_step_rows_are_numbered_without_gaps_and_outbox_keys_are_unique() -> None:
    pb = playbook(
        step("a", "safe", on_success="b", on_failure="escalate", retry=RETRY),
        step("b", "unsafe", on_success="resolved", on_failure="escalate"),
    )
    state, _ = begin(pb)
    all_cps: list[Checkpoint] = []
    state, c = finish(pb, state, Failed("x", retryable=True))
    all_cps += checkpoints(c)
    state, c = advance(pb, state, DeadlineReached(state.deadline or T0), ENV)
    all_cps += checkpoints(c)
    state, c = finish(pb, state, Succeeded(), when=10)
    all_cps += checkpoints(c)
    state, c = finish(pb, state, Succeeded(), when=11)
    all_cps += checkpoints(c)
    seqs = [r.seq for cp in all_cps for r in cp.steps]
    assert seqs == list(range(1, len(seqs) + 1))
    keys = [o.dedupe_key for cp in all_cps for o in cp.outbox]
    assert len(keys) == len(set(keys))
    assert all(cp.prev_seq <= cp.state.seq for cp in all_cps)
    assert state.status is Status.RESOLVED and state.playbook_hash == "hash-v1"


# ---- a verification left in doubt by a restart (on_restart) -------------------------------------------------

ASK_ENV = MachineEnv(
    traits={**ENV.traits, "ask": StepTraits(rerun_safe=False, reask_after_restart=True)},
    default_step_timeout_s=60,
)


def _asking(**options: Any) -> Playbook:
    return playbook(
        step("verify", "ask", on_success="resolved", on_failure="escalate", timeout="120s", **options),
        step("approve", "safe", on_success="resolved", on_failure="escalate"),
    )


def _with_manager_on_timeout(**options: Any) -> Playbook:
    return playbook(
        step(
            "verify",
            "ask",
            on_success="resolved",
            on_failure="escalate",
            on_timeout="approve",
            timeout="120s",
            **options,
        ),
        step("approve", "safe", on_success="resolved", on_failure="escalate"),
    )


def _begin(pb: Playbook) -> ExecutionState:
    state = initial_state(pb, uuid.uuid4(), 42, "hash-v1", {"requester": "ann@example.com"})
    return advance(pb, state, Started(T0), ASK_ENV)[0]


def test_a_verification_in_doubt_is_asked_again_once_as_a_new_attempt_with_a_fresh_deadline() -> None:
    pb = _with_manager_on_timeout()
    state = _begin(pb)
    state, commands = advance(pb, state, InDoubtOnRecovery(at(50)), ASK_ENV)
    rows = [r for cp in checkpoints(commands) for r in cp.steps]
    assert [(r.step_id, r.outcome, r.attempt) for r in rows] == [("verify", "restart_reask", 1)]
    assert "asking again once (attempt 2)" in (rows[0].error or "")
    assert any("restart reask" in o.payload["note"] for cp in checkpoints(commands) for o in cp.outbox)
    run = only(commands, RunStep)
    assert (run.step_id, run.attempt, run.started_at, run.deadline) == ("verify", 2, at(50), at(170))
    # Recorded pending first, then started: a crash in between leaves it pending, not in doubt again.
    assert [cp.state.phase for cp in checkpoints(commands)] == [Phase.PENDING, Phase.STARTED]
    assert state.status is Status.RUNNING and state.attempt == 2

    # Interrupted again: never a third push; it goes where an unanswered push goes (the manager).
    state, commands = advance(pb, state, InDoubtOnRecovery(at(60)), ASK_ENV)
    rows = [r for cp in checkpoints(commands) for r in cp.steps]
    assert [(r.step_id, r.outcome, r.attempt) for r in rows] == [("verify", "in_doubt", 2)]
    assert "already asked again once" in (rows[0].error or "")
    assert only(commands, RunStep).step_id == "approve" and state.current_step == "approve"


def test_on_restart_fallback_goes_where_an_unanswered_verification_goes() -> None:
    pb = _with_manager_on_timeout(on_restart="fallback")
    _, commands = advance(pb, _begin(pb), InDoubtOnRecovery(at(5)), ASK_ENV)
    rows = [r for cp in checkpoints(commands) for r in cp.steps]
    assert [(r.step_id, r.outcome) for r in rows] == [("verify", "in_doubt")]
    assert "on_restart: fallback" in (rows[0].error or "")
    assert only(commands, RunStep).step_id == "approve"


def test_without_on_timeout_the_fallback_is_on_failure() -> None:
    pb = _asking(on_restart="fallback")
    state, commands = advance(pb, _begin(pb), InDoubtOnRecovery(at(5)), ASK_ENV)
    assert state.status is Status.ESCALATED
    assert [r.outcome for cp in checkpoints(commands) for r in cp.steps] == ["in_doubt", "terminal"]


def test_a_cancel_pending_at_the_restart_is_honoured_instead_of_asking_again() -> None:
    pb = _with_manager_on_timeout()
    state = _begin(pb)
    state, _ = advance(pb, state, SignalReceived(9, "cancel", {"reason": "closed"}, at(1)), ASK_ENV)
    state, commands = advance(pb, state, InDoubtOnRecovery(at(5)), ASK_ENV)
    assert state.status is Status.CANCELLED and not any(isinstance(c, RunStep) for c in commands)


def test_escalations_carry_the_pinned_playbooks_escalation_target() -> None:
    routed = TWO_STEPS.model_copy(
        update={"escalation": EscalationTarget(team="Identity & Access", priority_id=1)}
    )
    for event in (EngineError("x", at(1)), None):
        state, _ = begin(routed)
        if event is None:  # the step fails: on_failure → the ESCALATED terminal step
            _, commands = finish(routed, state, Failed("denied"))
        else:  # an engine error: FAILED, escalated like ESCALATED
            _, commands = advance(routed, state, event, ENV)
        outbox = [o for cp in checkpoints(commands) for o in cp.outbox if o.kind == "halopsa.escalate"]
        assert [o.payload["escalation"] for o in outbox] == [{"team": "Identity & Access", "priority_id": 1}]
    # Without a block, the row is as before (the [halopsa] defaults apply when it is delivered).
    state, _ = begin(TWO_STEPS)
    _, commands = advance(TWO_STEPS, state, EngineError("x", at(1)), ENV)
    [row] = [o for cp in checkpoints(commands) for o in cp.outbox if o.kind == "halopsa.escalate"]
    assert "escalation" not in row.payload
