"""Actors: the in-memory side of live executions, carrying out what ``advance`` decides.

An execution with work to do (an event in its mailbox, a step call in flight) has a coroutine; a parked
one (waiting for a signal, a wake-up or a retry time) has none — only its small state object and one entry
in the shared :class:`TimerWheel`. Every checkpoint is awaited until durable before the next command runs,
so no side effect ever runs ahead of the record that it started.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from types import CoroutineType
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from ticketpilot.database import is_connection_loss, leave_standby, reachable
from ticketpilot.engine.clock import Clock
from ticketpilot.engine.crashpoints import crashpoint
from ticketpilot.engine.eager import first_step
from ticketpilot.engine.groupcommit import CommitterClosed, GroupCommitter
from ticketpilot.engine.machine import advance
from ticketpilot.engine.model import (
    ENGINE_KEY,
    AbortStep,
    Checkpoint,
    Command,
    ConsumeSignals,
    DeadlineReached,
    EngineError,
    Event,
    ExecutionState,
    Finish,
    MachineEnv,
    Park,
    Phase,
    RunStep,
    ScheduleRetry,
    SecretMissing,
    SignalReceived,
    StepCrashed,
    StepFinished,
)
from ticketpilot.engine.signals import consume_signals, pending_signals, signal_payload
from ticketpilot.engine.store import PendingCheckpoint
from ticketpilot.engine.timers import TimerWheel
from ticketpilot.engine.vault import SecretVault, scrub_outcome
from ticketpilot.logging import REDACTED
from ticketpilot.metrics import EXECUTIONS_LIVE, STEP_DURATION
from ticketpilot.playbooks.model import Playbook
from ticketpilot.readiness import Backoff
from ticketpilot.steps import Failed, StepCall, StepError, StepOutcome, StepService, Succeeded, Waiting

log = structlog.get_logger(__name__)


class Actor:
    """One live execution held by this process."""

    __slots__ = ("definition", "draining", "dropped", "epoch", "mailbox", "seen", "state", "step_task")

    def __init__(self, state: ExecutionState, definition: Playbook, epoch: int) -> None:
        self.state = state
        self.definition = definition
        self.epoch = epoch
        self.mailbox: deque[Event] = deque()
        self.draining = False
        self.dropped = False
        self.step_task: asyncio.Task[None] | None = None
        self.seen: set[int] = set()
        """Signal ids this process already consumed for the execution (never handed twice)."""

    def __repr__(self) -> str:
        s = self.state
        return f"Actor({s.execution_id!s}, {s.status.value}, step={s.current_step}, phase={s.phase.value})"


FinishHook = Callable[[Actor, Finish], None]


class ActorRuntime:
    """Mailboxes, step calls, timers and checkpoints for every actor of one engine."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        services: Mapping[str, StepService],
        clock: Clock,
        env: MachineEnv,
        committer: GroupCommitter,
        rng: random.Random,
        on_finish: FinishHook,
        on_lost: Callable[[UUID], None],
    ) -> None:
        self.pool = pool
        self.services = services
        self.clock = clock
        self.env = env
        self.committer = committer
        self.rng = rng
        self.vault = SecretVault()
        self.timers: TimerWheel[UUID] = TimerWheel(clock, self._on_timer)
        self.actors: dict[UUID, Actor] = {}
        self.stopping = False
        self._on_finish = on_finish
        self._on_lost = on_lost
        self._tasks: set[asyncio.Task[Any]] = set()
        self._signal_requests: set[UUID] = set()
        self._signal_fetch: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- registry ------------------------------------------------------------------------------------

    def register(self, actor: Actor) -> None:
        self.actors[actor.state.execution_id] = actor
        EXECUTIONS_LIVE.set(len(self.actors))

    def drop(self, actor: Actor, reason: str) -> None:
        """Forget an execution (lost lease, stop, unexpected error): no more writes from this process."""
        if actor.dropped:
            return
        actor.dropped = True
        eid = actor.state.execution_id
        if actor.step_task is not None:
            actor.step_task.cancel()
            actor.step_task = None
        self.timers.cancel(eid)
        self.vault.drop(eid)
        if self.actors.get(eid) is actor:
            del self.actors[eid]
        EXECUTIONS_LIVE.set(len(self.actors))
        if reason != "stopping":
            log.warning("execution_dropped", execution_id=str(eid), reason=reason)

    def post(self, execution_id: UUID, event: Event) -> None:
        actor = self.actors.get(execution_id)
        if actor is None or actor.dropped:
            return
        actor.mailbox.append(event)
        self._ensure_draining(actor)

    def run_commands(self, actor: Actor, commands: list[Command]) -> None:
        """Carry out commands computed outside the mailbox (a new execution, an operator retry)."""
        actor.draining = True
        self._spawn(self._drain(actor, commands))

    def _ensure_draining(self, actor: Actor) -> None:
        if not actor.draining and not actor.dropped:
            actor.draining = True
            self._spawn(self._drain(actor))

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- the mailbox loop ------------------------------------------------------------------------------

    async def _drain(self, actor: Actor, first: list[Command] | None = None) -> None:
        try:
            if first:
                await self._carry_out(actor, first)
            while actor.mailbox and not actor.dropped:
                event = actor.mailbox.popleft()
                if isinstance(event, SignalReceived) and event.signal_id in actor.seen:
                    continue
                try:
                    state, commands = advance(actor.definition, actor.state, event, self.env)
                except Exception as exc:  # a bug in the core must still end in one terminal state
                    log.exception("advance_failed", execution_id=str(actor.state.execution_id))
                    state, commands = advance(
                        actor.definition, actor.state, EngineError(repr(exc), self.clock.now()), self.env
                    )
                actor.state = state
                await self._carry_out(actor, commands)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("actor_failed", execution_id=str(actor.state.execution_id))
            self.drop(actor, "unexpected error")
            self._on_lost(actor.state.execution_id)
        finally:
            actor.draining = False
        if actor.mailbox and not actor.dropped:
            self._ensure_draining(actor)

    async def _carry_out(self, actor: Actor, commands: Iterable[Command]) -> None:
        eid = actor.state.execution_id
        for command in commands:
            if actor.dropped:
                return
            match command:
                case Checkpoint():
                    if self.stopping and command.starts_attempt:
                        return  # never begin a side effect while stopping; the next owner starts it
                    actor.seen.update(command.consume)
                    durable = await self._checkpoint(actor, command)
                    if durable is None:
                        return
                    if not durable:
                        self.drop(actor, "lease lost: checkpoint fenced by a newer owner")
                        return
                    for row in command.steps:
                        crashpoint("after_checkpoint", row.step_id)
                    if command.state.phase is Phase.WAITING and command.state.current_step:
                        crashpoint("after_checkpoint", command.state.current_step)
                case RunStep():
                    if self.stopping:
                        return
                    self._launch(actor, command)
                case AbortStep():
                    if actor.step_task is not None:
                        actor.step_task.cancel()
                        actor.step_task = None
                case Park(deadline=deadline, signals=signals):
                    self.timers.set(eid, deadline)
                    if signals:
                        self.request_signals(eid)
                case ScheduleRetry(at=at):
                    self.timers.set(eid, at)
                case ConsumeSignals(signal_ids=ids):
                    actor.seen.update(ids)
                    await self._until_reachable(actor, functools.partial(consume_signals, self.pool, ids))
                case Finish():
                    self.timers.cancel(eid)
                    self.vault.drop(eid)
                    actor.dropped = True
                    if self.actors.get(eid) is actor:
                        del self.actors[eid]
                    EXECUTIONS_LIVE.set(len(self.actors))
                    self._on_finish(actor, command)

    async def _checkpoint(self, actor: Actor, command: Checkpoint) -> bool | None:
        """True once durable, False when fenced by a newer owner, None when the engine is stopping or the
        outcome is unknown. A checkpoint that cannot reach the database (restart, failover, lost connection)
        waits for it and is sent again: the execution is not given up for an outage."""
        backoff: Backoff | None = None
        while True:
            try:
                durable = await self.committer.checkpoint(PendingCheckpoint(command, actor.epoch))
            except CommitterClosed:
                return None
            except Exception as exc:
                if not is_connection_loss(exc) or self.stopping or actor.dropped:
                    raise
                backoff = backoff or Backoff(max_s=5.0)
                await self._wait_for_database(actor, exc, backoff)
                continue
            if not durable and backoff is not None:
                # Fenced after a retry: the first try may have committed before its answer was lost. The
                # execution is handed back and resumed from its record (here, at the next lease tick).
                self.drop(actor, "checkpoint outcome unknown after a lost connection")
                self._on_lost(actor.state.execution_id)
                return None
            return durable

    async def _until_reachable(self, actor: Actor, write: Callable[[], Awaitable[Any]]) -> Any:
        """``write()``, sent again while the database cannot be reached."""
        backoff = Backoff(max_s=5.0)
        while True:
            try:
                return await write()
            except Exception as exc:
                if not is_connection_loss(exc) or self.stopping or actor.dropped:
                    raise
                await self._wait_for_database(actor, exc, backoff)

    async def _wait_for_database(self, actor: Actor, exc: BaseException, backoff: Backoff) -> None:
        await leave_standby(self.pool, exc)
        log.warning(
            "execution_waiting_for_database",
            execution_id=str(actor.state.execution_id),
            error=f"{type(exc).__name__}: {exc}"[:200],
        )
        await asyncio.sleep(backoff.next_delay())

    # ---- step calls --------------------------------------------------------------------------------------

    def _launch(self, actor: Actor, run: RunStep) -> None:
        """Call the service. A call that returns without suspending is settled right here (its result
        goes to the mailbox the caller is draining): no task, no timer. One that suspends gets a task,
        and the timer is armed at its deadline."""
        state, eid = actor.state, actor.state.execution_id
        service = self.services.get(run.service)
        if service is None:
            actor.mailbox.appendleft(EngineError(f"no step service {run.service!r}", self.clock.now()))
            return
        # Secrets are needed to start an attempt. A resume continues an attempt whose start already used
        # them (e.g. an SMS sent, now waiting for its delivery report): after a restart they are gone, and
        # going back to the step that produced them would send a second credential.
        needed = tuple(service.requires_secrets) if run.event is None else ()
        missing = self.vault.missing(eid, needed)
        if missing:
            actor.mailbox.appendleft(SecretMissing(run.step_id, missing, self.clock.now()))
            return
        secrets = self.vault.get(eid)
        call = StepCall(
            execution_id=eid,
            ticket_id=state.ticket_id,
            playbook_id=state.playbook_id,
            step_id=run.step_id,
            attempt=run.attempt,
            params=actor.definition.step(run.step_id).params,
            context={k: v for k, v in state.context.items() if k != ENGINE_KEY},
            deadline=run.deadline,
            started_at=run.started_at,
            secrets=dict(secrets) if secrets else {},
        )
        crashpoint("before_side_effect", run.step_id)
        began = time.perf_counter()
        try:
            awaitable = service.start(call) if run.event is None else service.resume(call, run.event)
            if type(awaitable) is CoroutineType:  # (not the ABC: an exact, cheap test)
                done, result = first_step(awaitable)
            else:  # some other awaitable: always through a task
                done, result = False, awaitable
        except asyncio.CancelledError:
            self.timers.set(eid, run.deadline)  # as a cancelled task would: it times out
            return
        except Exception as exc:
            done, result = True, _Raised(exc)
        if done:
            if eid in self.timers:
                self.timers.cancel(eid)  # an earlier wait's deadline: nothing is pending any more
            actor.mailbox.append(self._settle(actor, run, result, began))
            return
        self.timers.set(eid, run.deadline)
        actor.step_task = self._spawn(self._await_call(actor, run, result, began))

    async def _await_call(self, actor: Actor, run: RunStep, pending: Awaitable[Any], began: float) -> None:
        try:
            result: Any = await pending
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            result = _Raised(exc)
            if is_connection_loss(exc) and not await reachable(self.pool):
                self._hand_back(actor, run, exc)
                return
        await self._finish_call(actor, self._settle(actor, run, result, began))

    def _hand_back(self, actor: Actor, run: RunStep, exc: Exception) -> None:
        """A step call failed because the engine's own database went away under it: its outcome cannot be
        known or recorded now. Not a failure of the execution: it is handed back and resumed from its
        record once the database answers, exactly as after a restart (the attempt in doubt is re-run only
        where its service allows it)."""
        if actor.step_task is asyncio.current_task():
            actor.step_task = None
        log.warning(
            "step_lost_database",
            execution_id=str(actor.state.execution_id),
            step_id=run.step_id,
            error=f"{type(exc).__name__}: {exc}"[:200],
        )
        self.drop(actor, "database unreachable during a step call: resumed from its record")
        self._on_lost(actor.state.execution_id)

    def _settle(self, actor: Actor, run: RunStep, result: Any, began: float) -> Event:
        """The event a finished call posts: its (scrubbed) outcome, or an engine error."""
        eid = actor.state.execution_id
        if isinstance(result, _Raised):
            exc = result.exc
            if not isinstance(exc, StepError):
                error = scrub_outcome(Failed(f"{type(exc).__name__}: {exc}"), self.vault.get(eid))
                assert isinstance(error, Failed)
                log.error("step_raised", execution_id=str(eid), step_id=run.step_id, error=error.error)
                return StepCrashed(run.step_id, run.attempt, error.error, self.clock.now())
            result = Failed(str(exc), retryable=exc.retryable, retry_after=exc.retry_after)
        crashpoint("after_side_effect", run.step_id)
        if not isinstance(result, Succeeded | Failed | Waiting):
            problem = f"{run.service} returned {type(result).__name__}, not a step outcome"
            return StepCrashed(run.step_id, run.attempt, problem, self.clock.now())
        if isinstance(result, Succeeded) and result.secrets:
            self.vault.put(eid, result.secrets)
        outcome = _names_only(scrub_outcome(result, self.vault.get(eid)))
        _duration(run.service, type(outcome).__name__).observe(time.perf_counter() - began)
        return StepFinished(run.step_id, run.attempt, outcome, self.clock.now(), self.rng.random())

    async def _finish_call(self, actor: Actor, event: Event) -> None:
        if actor.step_task is asyncio.current_task():
            actor.step_task = None
        if actor.dropped:
            return
        actor.mailbox.append(event)
        if not actor.draining:  # this task carries on as the actor's mailbox loop (one task fewer)
            actor.draining = True
            await self._drain(actor)

    # ---- timers and signals ------------------------------------------------------------------------------

    def _on_timer(self, execution_id: UUID, _when: Any) -> None:
        self.post(execution_id, DeadlineReached(self.clock.now(), self.rng.random()))

    def request_signals(self, execution_id: UUID) -> None:
        """Read the execution's unconsumed signals soon (coalesced: one query for many requests)."""
        self._signal_requests.add(execution_id)
        if self._signal_fetch is None or self._signal_fetch.done():
            self._signal_fetch = self._spawn(self._fetch_signals())

    async def _fetch_signals(self) -> None:
        backoff = Backoff(max_s=5.0)
        while self._signal_requests:
            ids = [eid for eid in self._signal_requests if eid in self.actors]
            self._signal_requests.clear()
            try:
                rows = await pending_signals(self.pool, ids)
            except Exception as exc:
                log.warning("signal_fetch_failed", error=repr(exc))
                if not is_connection_loss(exc) or self.stopping:
                    return
                self._signal_requests.update(ids)  # asked again once the database answers
                await asyncio.sleep(backoff.next_delay())
                continue
            backoff.reset()
            self.post_signal_rows(rows)

    def post_signal_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        now = self.clock.now()
        for row in rows:
            actor = self.actors.get(row["execution_id"])
            if actor is not None and row["id"] not in actor.seen:
                self.post(
                    row["execution_id"], SignalReceived(row["id"], row["kind"], signal_payload(row), now)
                )

    # ---- shutdown ----------------------------------------------------------------------------------------

    async def settle(self, grace_s: float) -> None:
        """Let step calls in flight finish (up to ``grace_s``) and their checkpoints commit."""
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            busy = [a for a in self.actors.values() if a.step_task is not None or a.draining]
            if not busy:
                return
            await asyncio.sleep(0.01)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.timers.close()

    async def wait_cancelled(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class _Raised:
    """What a step call raised (kept apart from the values it may return)."""

    __slots__ = ("exc",)

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


@functools.cache
def _duration(service: str, outcome: str) -> Any:
    return STEP_DURATION.labels(service=service, outcome=outcome.lower())


def _names_only(outcome: StepOutcome) -> StepOutcome:
    """The machine only needs to know *which* secrets a step produced, never their values."""
    if isinstance(outcome, Succeeded) and outcome.secrets:
        return replace(outcome, secrets=dict.fromkeys(outcome.secrets, REDACTED))
    return outcome
