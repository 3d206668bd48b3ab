"""Building blocks of a transition: numbering step rows and HaloPSA notes, and the terminal endings
(resolved, escalated, cancelled, failed). Pure, like :mod:`ticketpilot.engine.machine` which uses them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ticketpilot.engine.model import (
    ENGINE_KEY,
    OUTPUTS_KEY,
    Checkpoint,
    Command,
    ExecutionState,
    Finish,
    OutboxRecord,
    PendingCancel,
    Phase,
    Status,
    StepRecord,
)
from ticketpilot.playbooks.model import Step
from ticketpilot.steps import REVOCATION_OUTPUT, Signal, StepEvent, Wake

Transition = tuple[ExecutionState, list[Command]]

REVOKE_KIND = "credential.revoke"
"""The outbox row that undoes a credential issued but never delivered (``revocation`` outputs of its step)."""


def cancel(
    state: ExecutionState, now: datetime, tx: TransitionRows, cancel: PendingCancel, *, row: bool
) -> Transition:
    tx.consume.append(cancel.signal_id)
    if row and state.current_step is not None:
        tx.row(state, None, "cancelled", now, error=cancel.reason, step_id=state.current_step)
    return finish(state, Status.CANCELLED, cancel.reason, now, tx)


def fail(state: ExecutionState, now: datetime, tx: TransitionRows, error: str) -> Transition:
    failed = state.evolve(failed_step=state.failed_step or state.current_step)
    return finish(failed, Status.FAILED, f"engine error: {error}", now, tx)


def finish(
    state: ExecutionState,
    status: Status,
    reason: str | None,
    now: datetime,
    tx: TransitionRows,
    *,
    step_id: str | None = None,
) -> Transition:
    final_step = step_id or state.current_step or ""
    attempt = state.attempts_of(final_step) + 1 if step_id else state.attempt
    seq = tx.row(
        state,
        None,
        "terminal",
        now,
        error=reason,
        detail={"state": status.value},
        step_id=final_step,
        attempt=attempt,
        note=False,
    )
    eid, ticket = tx.eid, state.ticket_id
    undo_lines: list[str] = []
    if status is not Status.RESOLVED:
        state, undo_lines = _revoke_undelivered(state, tx, seq)
    if status is Status.RESOLVED:
        note = (
            f"Resolved automatically by TicketPilot (playbook {state.playbook_id} v{state.playbook_version})."
        )
        tx.outbox.append(
            OutboxRecord(
                "halopsa.resolve", ticket, {"note": note, "execution_id": eid}, f"{eid}:{seq}:resolve"
            )
        )
    elif status is Status.CANCELLED:
        note = "\n\n".join([f"TicketPilot automation cancelled: {reason}", *undo_lines])
        tx.outbox.append(
            OutboxRecord("halopsa.note", ticket, {"note": note, "execution_id": eid}, f"{eid}:{seq}:note")
        )
    else:
        payload: dict[str, Any] = {"reason": reason or "", "state": status.value, "execution_id": eid}
        if undo_lines:
            handed = (
                f"TicketPilot handed this ticket to an engineer: {reason or 'automation could not finish'}"
            )
            payload["note"] = "\n\n".join([handed, *undo_lines])
        tx.outbox.append(OutboxRecord("halopsa.escalate", ticket, payload, f"{eid}:{seq}:escalate"))
    ctx = with_attempt(state.context, final_step, attempt) if step_id else state.context
    final = state.evolve(
        status=status,
        phase=Phase.DONE,
        current_step=final_step or state.current_step,
        context=ctx,
        deadline=None,
        wake_at=None,
        awaiting=frozenset(),
        resume_event=None,
        pending_cancel=None,
        escalation_reason=reason if status in (Status.ESCALATED, Status.FAILED) else None,
        cancel_reason=reason if status is Status.CANCELLED else None,
    )
    checkpoint = tx.checkpoint(final)
    return checkpoint.state, [checkpoint, Finish(status, reason)]


def _revoke_undelivered(
    state: ExecutionState, tx: TransitionRows, seq: int
) -> tuple[ExecutionState, list[str]]:
    """For each secret produced but never delivered (no step needing it succeeded since it was made): an
    outbox row that undoes it, when it can be undone, and a line for the ticket's note either way. Queued
    once per credential (an operator retry that ends again does not queue the same deletion twice)."""
    engine = dict(state.context.get(ENGINE_KEY, {}))
    producers: Mapping[str, str] = engine.get("secret_producers", {})
    delivered: Mapping[str, str] = engine.get("delivered_secrets", {})
    queued: dict[str, Any] = dict(engine.get("revocations_queued", {}))
    outputs: Mapping[str, Any] = state.context.get(OUTPUTS_KEY, {})
    lines: list[str] = []
    for name, producer in sorted(producers.items()):
        revocation = (outputs.get(producer) or {}).get(REVOCATION_OUTPUT)
        if name in delivered or not isinstance(revocation, Mapping) or queued.get(name) == revocation:
            continue
        what = str(revocation.get("what") or f"the {name} issued by step {producer}")
        if revocation.get("undoable"):
            payload = {**revocation, "secret": name, "execution_id": tx.eid}
            tx.outbox.append(
                OutboxRecord(REVOKE_KIND, state.ticket_id, payload, f"{tx.eid}:{seq}:revoke:{name}")
            )
            lines.append(
                f"{what[:1].upper()}{what[1:]} was issued but never delivered: TicketPilot is deleting it in "
                "Entra ID (retried until done; a note follows when it is)."
            )
        else:
            lines.append(
                f"{what[:1].upper()}{what[1:]} was set in Entra ID but never delivered, and a password reset "
                "can't be undone: reset it again and give it to the requester once they are verified."
            )
        queued[name] = dict(revocation)
    if not lines:
        return state, []
    engine["revocations_queued"] = queued
    return state.evolve(context={**state.context, ENGINE_KEY: engine}), lines


class TransitionRows:
    """Collects the rows of one transition; numbers step rows from the state's last ``seq``."""

    __slots__ = ("consume", "eid", "outbox", "prev_seq", "rows")

    def __init__(self, state: ExecutionState) -> None:
        self.prev_seq = state.seq
        self.eid = str(state.execution_id)
        self.rows: list[StepRecord] = []
        self.outbox: list[OutboxRecord] = []
        self.consume: list[int] = []

    def row(
        self,
        state: ExecutionState,
        step: Step | None,
        outcome: str,
        now: datetime,
        *,
        error: str | None = None,
        summary: str = "",
        detail: Mapping[str, Any] | None = None,
        step_id: str | None = None,
        attempt: int | None = None,
        note: bool = True,
    ) -> int:
        seq = self.prev_seq + len(self.rows) + 1
        sid = step_id or (step.id if step else state.current_step or "")
        info: dict[str, Any] = dict(detail) if detail else {}
        if summary:
            info["summary"] = summary
        started = state.step_started_at if outcome not in ("terminal", "operator_retry") else None
        self.rows.append(
            StepRecord(
                seq=seq,
                step_id=sid,
                service=step.service if step else None,
                attempt=attempt if attempt is not None else state.attempt,
                outcome=outcome,
                error=error,
                detail=info,
                started_at=started,
                finished_at=now,
            )
        )
        if note:
            name = (step.name or step.id) if step else sid
            text = f"TicketPilot · {name}: {outcome.replace('_', ' ')}"
            if summary or error:
                text += f" — {summary or error}"
            payload = {"note": text, "execution_id": self.eid, "step_id": sid, "outcome": outcome}
            self.outbox.append(
                OutboxRecord("halopsa.note", state.ticket_id, payload, f"{self.eid}:{seq}:note")
            )
        return seq

    @property
    def next_seq(self) -> int:
        """The state's ``seq`` once this transition's rows are written."""
        return self.prev_seq + len(self.rows)

    def checkpoint(self, state: ExecutionState) -> Checkpoint:
        seq = self.prev_seq + len(self.rows)
        new = state if state.seq == seq else state.evolve(seq=seq)
        checkpoint = Checkpoint(new, self.prev_seq, tuple(self.rows), tuple(self.outbox), tuple(self.consume))
        self.prev_seq, self.rows, self.outbox, self.consume = seq, [], [], []
        return checkpoint


def event_from_json(data: Mapping[str, Any] | None) -> StepEvent | None:
    """The persisted ``resume_event`` back as the event handed to ``StepService.resume``."""
    if not data:
        return None
    if data.get("type") == "wake":
        return Wake(datetime.fromisoformat(str(data["at"])))
    received = data.get("received_at")
    return Signal(
        kind=str(data.get("kind", "")),
        payload=dict(data.get("payload") or {}),
        received_at=datetime.fromisoformat(str(received)) if received else None,
    )


def with_attempt(context: Mapping[str, Any], step_id: str, attempt: int) -> dict[str, Any]:
    engine = dict(context.get(ENGINE_KEY, {}))
    engine["attempts"] = {**engine.get("attempts", {}), step_id: attempt}
    return {**context, ENGINE_KEY: engine}


def with_outputs(context: Mapping[str, Any], step_id: str, outputs: Mapping[str, Any]) -> Mapping[str, Any]:
    if not outputs:
        return context
    steps = dict(context.get(OUTPUTS_KEY, {}))
    steps[step_id] = {**steps.get(step_id, {}), **outputs}
    return {**context, OUTPUTS_KEY: steps}


def with_producers(context: Mapping[str, Any], step_id: str, names: tuple[str, ...]) -> dict[str, Any]:
    """``step_id`` made these secrets (anew: an earlier delivery of the same names no longer counts)."""
    engine = dict(context.get(ENGINE_KEY, {}))
    engine["secret_producers"] = {**engine.get("secret_producers", {}), **dict.fromkeys(names, step_id)}
    delivered = {k: v for k, v in engine.get("delivered_secrets", {}).items() if k not in names}
    engine["delivered_secrets"] = delivered
    return {**context, ENGINE_KEY: engine}


def with_delivered(context: Mapping[str, Any], step_id: str, names: tuple[str, ...]) -> Mapping[str, Any]:
    """``step_id``, which needs these secrets, succeeded: they were delivered (nothing to undo any more)."""
    if not names:
        return context
    engine = dict(context.get(ENGINE_KEY, {}))
    engine["delivered_secrets"] = {**engine.get("delivered_secrets", {}), **dict.fromkeys(names, step_id)}
    return {**context, ENGINE_KEY: engine}
