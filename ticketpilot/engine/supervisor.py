"""The engine: the public surface the service uses, leases, recovery and shutdown.

``Engine.start()`` claims every live execution nobody holds (or whose lease expired, or that this owner
held before a restart), restores parked ones with their original deadlines, re-runs or fails in-doubt
attempts, then keeps its leases fresh (one UPDATE for all of them) and takes over executions of processes
that died. Signals reach the owner through LISTEN/NOTIFY, with a periodic read as a backstop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from ticketpilot.config import EngineConfig
from ticketpilot.database import is_connection_loss, leave_standby
from ticketpilot.engine import leases
from ticketpilot.engine.actors import Actor, ActorRuntime
from ticketpilot.engine.clock import Clock, SystemClock
from ticketpilot.engine.errors import EngineStopped, NotRetryable
from ticketpilot.engine.groupcommit import GroupCommitter
from ticketpilot.engine.machine import advance, initial_state
from ticketpilot.engine.model import (
    TERMINAL_STATES,
    Checkpoint,
    EngineError,
    Finish,
    InDoubtOnRecovery,
    MachineEnv,
    Phase,
    RetryRequested,
    Started,
    StepTraits,
)
from ticketpilot.engine.signals import (
    SignalListener,
    announce_released,
    deliver_signal,
    pending_for_waiting,
    pending_signals,
)
from ticketpilot.engine.store import (
    EXECUTION_COLUMNS,
    PendingCheckpoint,
    PendingCreate,
    describe_execution,
    fetch_execution_row,
    state_from_row,
)
from ticketpilot.metrics import EXECUTIONS, playbook_label
from ticketpilot.playbooks.model import Playbook, Step, TerminalOutcome, Triggers
from ticketpilot.readiness import Backoff, Readiness
from ticketpilot.steps import StepService
from ticketpilot.waits import wait_event

log = structlog.get_logger(__name__)

DefinitionLoader = Callable[[str, str], "Playbook | Awaitable[Playbook]"]
TerminalHook = Callable[[dict[str, Any]], "Awaitable[None] | None"]
CLAIM_CHUNK = 1000


class Engine:
    """Durable playbook executions for one process; several processes may share one database."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        services: Mapping[str, StepService],
        load_definition: DefinitionLoader,
        *,
        clock: Clock | None = None,
        config: EngineConfig | None = None,
        owner_id: str | None = None,
        rng: random.Random | None = None,
        on_terminal: TerminalHook | None = None,
        stop_grace_s: float = 5.0,
        readiness: Readiness | None = None,
    ) -> None:
        """``stop_grace_s``: how long ``stop()`` lets step calls in flight finish when it is not given a grace
        (a graceful stop of the service passes ``[engine] shutdown_grace_s``). ``readiness`` hears when the
        lease tick or the LISTEN connection cannot reach the database, and when they can again."""
        self._pool = pool
        self._load_definition = load_definition
        self._clock = clock or SystemClock()
        self._config = config or EngineConfig()
        self.owner_id = owner_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._on_terminal = on_terminal
        self._stop_grace_s = stop_grace_s
        self._readiness = readiness
        self._definitions: dict[tuple[str, str], Playbook] = {}
        self._waiters: dict[UUID, list[asyncio.Future[None]]] = {}
        env = MachineEnv(
            traits={
                name: StepTraits(
                    rerun_safe=bool(svc.rerun_safe),
                    requires_secrets=tuple(svc.requires_secrets),
                    produces_secrets=tuple(svc.produces_secrets),
                    reask_after_restart=bool(getattr(svc, "reask_after_restart", False)),
                )
                for name, svc in services.items()
            },
            default_step_timeout_s=self._config.default_step_timeout_s,
        )
        self._committer = GroupCommitter(
            pool,
            owner=self.owner_id,
            lease_s=self._config.lease_s,
            linger_s=self._config.commit_linger_ms / 1000.0,
            batch_max=self._config.commit_batch_max,
        )
        self._runtime = ActorRuntime(
            pool=pool,
            services=services,
            clock=self._clock,
            env=env,
            committer=self._committer,
            rng=rng or random.Random(),
            on_finish=self._finished,
            on_lost=self._release_later,
        )
        self._tick_now = asyncio.Event()
        """Set: run the lease tick now (executions were released by another process, or after an outage)."""
        self._listener = SignalListener(
            pool,
            self._notified,
            on_reconnect=self._signals_missed,
            on_released=self._tick_now.set,
            readiness=readiness,
        )
        self._lease_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._running = False

    def __repr__(self) -> str:
        return f"Engine(owner={self.owner_id!r}, live={len(self._runtime.actors)}, running={self._running})"

    @property
    def live_executions(self) -> int:
        return len(self._runtime.actors)

    @property
    def timers_pending(self) -> int:
        return len(self._runtime.timers)

    # ---- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover every live execution this process may own, then start timers, listener and leases."""
        self._committer.start()
        await self._listener.start()
        self._running = True
        await leases.release_previous(self._pool, self.owner_id)
        recovered = await self._claim()
        self._lease_task = asyncio.create_task(self._lease_loop(), name="engine-leases")
        log.info("engine_started", owner=self.owner_id, recovered=recovered)

    def quiesce(self) -> None:
        """First part of a graceful stop: no new side effect begins from now on. Calls in flight go on and
        their outcomes are recorded; new executions are still recorded (for the next owner to run)."""
        self._runtime.stopping = True

    async def stop(self, grace_s: float | None = None) -> None:
        """Graceful: accept nothing new, let calls in flight finish and commit (within ``grace_s``, default
        ``stop_grace_s``), release every lease so that another process resumes them at once."""
        if not self._running:
            return
        self._running = False
        runtime = self._runtime
        runtime.stopping = True
        if self._lease_task is not None:
            self._lease_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lease_task
        await runtime.settle(self._stop_grace_s if grace_s is None else grace_s)
        runtime.cancel_all()
        await runtime.wait_cancelled()
        await self._committer.close()
        held = list(runtime.actors)
        for actor in list(runtime.actors.values()):
            runtime.drop(actor, "stopping")
        runtime.vault.clear()
        try:
            await leases.release(self._pool, self.owner_id, held)
            if held:  # the other processes claim them now, not at their next lease tick
                await announce_released(self._pool)
        finally:
            await self._listener.stop()
            await self._cancel_background()
        log.info("engine_stopped", owner=self.owner_id, released=len(held))

    async def abort(self) -> None:
        """Die without a word (tests): cancel everything, write nothing more, keep every lease."""
        self._running = False
        self._runtime.stopping = True
        if self._lease_task is not None:
            self._lease_task.cancel()
        await self._committer.abort()
        self._runtime.cancel_all()
        await self._runtime.wait_cancelled()
        for actor in list(self._runtime.actors.values()):
            self._runtime.drop(actor, "stopping")
        self._runtime.vault.clear()
        await self._listener.stop()
        await self._cancel_background()

    # ---- public operations -------------------------------------------------------------------------------

    async def start_execution(
        self,
        ticket_id: int,
        playbook: Playbook,
        content_hash: str,
        context: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> tuple[UUID, bool]:
        """Start ``playbook`` (pinned to ``content_hash``) for a ticket; idempotent per (ticket, playbook):
        returns ``(execution_id, created)``, the existing execution when there is one."""
        self._require_running()
        self._definitions[(playbook.id, content_hash)] = playbook
        state0 = initial_state(playbook, uuid.uuid4(), ticket_id, content_hash, context)
        _, commands = advance(playbook, state0, Started(self._clock.now()), self._runtime.env)
        first = commands[0] if commands else None
        inline = isinstance(first, Checkpoint) and not first.steps and not first.outbox
        insert = first.state if inline and isinstance(first, Checkpoint) else state0
        result = await self._committer.create(PendingCreate(insert, idempotency_key))
        if not result.created:
            return result.execution_id, False
        actor = Actor(insert, playbook, epoch=1)
        self._runtime.register(actor)
        if inline:
            self._runtime.run_commands(actor, commands[1:])
        else:
            self._runtime.post(insert.execution_id, Started(self._clock.now()))
        log.info(
            "execution_started",
            execution_id=str(insert.execution_id),
            ticket_id=ticket_id,
            playbook_id=playbook.id,
        )
        return insert.execution_id, True

    async def deliver_signal(
        self, execution_id: UUID, kind: str, dedupe_key: str, payload: Mapping[str, Any] | None = None
    ) -> bool:
        """Persist a signal (duplicates ignored) and wake its owner; False when duplicate or not live."""
        delivered = await deliver_signal(self._pool, execution_id, kind, dedupe_key, payload)
        if delivered and execution_id in self._runtime.actors:
            self._runtime.request_signals(execution_id)
        return delivered

    async def cancel(self, execution_id: UUID, reason: str) -> bool:
        """Cancel at the next safe point (never in the middle of a side effect); the reason is recorded."""
        return await self.deliver_signal(execution_id, "cancel", "cancel", {"reason": reason})

    async def retry(self, execution_id: UUID) -> None:
        """Re-run an ESCALATED or FAILED execution from the step that failed, as a new audited attempt."""
        self._require_running()
        row = await leases.claim_one(
            self._pool, execution_id, self.owner_id, self._config.lease_s, ["ESCALATED", "FAILED"]
        )
        if row is None:
            raise NotRetryable(execution_id, "not ESCALATED or FAILED")
        state = state_from_row(row)
        definition = await self._definition(state.playbook_id, state.playbook_hash)
        new_state, commands = advance(definition, state, RetryRequested(self._clock.now()), self._runtime.env)
        if not commands:
            raise NotRetryable(execution_id, "no failed step to re-run")
        first = commands[0]
        assert isinstance(first, Checkpoint)
        # Durable before returning: whoever asked sees the execution RUNNING again at once.
        if not await self._committer.checkpoint(PendingCheckpoint(first, row["epoch"])):
            raise NotRetryable(execution_id, "another process changed it meanwhile")
        actor = Actor(new_state, definition, epoch=row["epoch"])
        self._runtime.register(actor)
        self._runtime.run_commands(actor, commands[1:])

    async def get_execution(self, execution_id: UUID) -> dict[str, Any] | None:
        """The execution and its step rows (never a secret), or None."""
        row = await fetch_execution_row(self._pool, execution_id)
        return None if row is None else await describe_execution(self._pool, row)

    async def get_execution_by_ticket(self, ticket_id: int) -> dict[str, Any] | None:
        """The ticket's most recent execution, or None."""
        row = await self._pool.fetchrow(
            f"SELECT {EXECUTION_COLUMNS}, created_at, finished_at FROM playbook_executions"
            " WHERE ticket_id = $1 ORDER BY created_at DESC LIMIT 1",
            ticket_id,
        )
        return None if row is None else await describe_execution(self._pool, row)

    async def wait_terminal(self, execution_id: UUID, timeout: float) -> dict[str, Any]:
        """Wait until the execution is terminal (whichever process runs it); TimeoutError otherwise."""
        async with asyncio.timeout(timeout):
            while True:
                execution = await self.get_execution(execution_id)
                if execution is None:
                    raise LookupError(f"no execution {execution_id}")
                if execution["state"] in TERMINAL_STATES:
                    return execution
                future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._waiters.setdefault(execution_id, []).append(future)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(
                        0.25
                    ):  # not wait_for: it can lose a cancellation (see waits.py)
                        await future

    # ---- recovery and leases -----------------------------------------------------------------------------

    async def _claim(self) -> int:
        total = 0
        while self._running:
            rows = await leases.claim(self._pool, self.owner_id, self._config.lease_s, CLAIM_CHUNK)
            await self._adopt(rows)
            total += len(rows)
            if len(rows) < CLAIM_CHUNK:
                break
        if total:
            log.info("executions_claimed", owner=self.owner_id, count=total)
        return total

    async def _adopt(self, rows: Sequence[Any]) -> None:
        runtime, now = self._runtime, self._clock.now()
        adopted: list[UUID] = []
        for row in rows:
            state = state_from_row(row)
            eid = state.execution_id
            old = runtime.actors.get(eid)
            if old is not None:
                runtime.drop(old, "re-claimed")
            try:
                definition = await self._definition(state.playbook_id, state.playbook_hash)
            except Exception as exc:
                definition = _unavailable(state.playbook_id, state.playbook_version)
                actor = Actor(state, definition, row["epoch"])
                runtime.register(actor)
                runtime.post(eid, EngineError(f"playbook version unavailable: {exc!r}", now))
                continue
            actor = Actor(state, definition, row["epoch"])
            runtime.register(actor)
            adopted.append(eid)
            if state.phase is Phase.PENDING:
                runtime.post(eid, Started(now))
            elif state.phase is Phase.STARTED:
                runtime.post(eid, InDoubtOnRecovery(now, runtime.rng.random()))
            elif state.deadline is not None:
                runtime.timers.set(eid, state.deadline)  # the original deadline: only the remainder is waited
        if adopted:
            runtime.post_signal_rows(await pending_signals(self._pool, adopted))

    async def _lease_loop(self) -> None:
        """Renew, take over, re-listen, re-read signals. A tick that cannot reach the database is retried
        sooner (backoff, at most the renewal interval), so the leases outlive a short outage."""
        every = self._config.lease_renew_every_s
        backoff = Backoff(initial_s=min(0.5, every), max_s=every)
        delay = every
        while True:
            await wait_event(self._tick_now, delay)
            self._tick_now.clear()
            try:
                await self._renew()
                await self._claim()
                await self._listener.ensure()
                self._runtime.post_signal_rows(await pending_for_waiting(self._pool, self.owner_id))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("lease_tick_failed", error=repr(exc))
                if self._readiness is not None and is_connection_loss(exc):
                    self._readiness.failing("engine_leases", exc)
                await leave_standby(self._pool, exc)
                delay = backoff.next_delay()
                continue
            backoff.reset()
            delay = every
            if self._readiness is not None:
                self._readiness.recovered("engine_leases")

    async def _renew(self) -> None:
        actors = self._runtime.actors
        held = list(actors)
        renewed = await leases.renew(self._pool, self.owner_id, held, self._config.lease_s)
        for eid in held:
            actor = actors.get(eid)
            if actor is None or actor.state.is_terminal:
                continue
            if renewed.get(eid) != actor.epoch:
                self._runtime.drop(actor, "lease lost to another process")

    async def _definition(self, playbook_id: str, content_hash: str) -> Playbook:
        key = (playbook_id, content_hash)
        cached = self._definitions.get(key)
        if cached is not None:
            return cached
        loaded = self._load_definition(playbook_id, content_hash)
        definition = await loaded if inspect.isawaitable(loaded) else loaded
        assert isinstance(definition, Playbook)
        self._definitions[key] = definition
        return definition

    # ---- callbacks ---------------------------------------------------------------------------------------

    def _signals_missed(self) -> None:
        """The LISTEN connection was re-made: NOTIFYs sent meanwhile were lost, so read every held
        execution's pending signals now (one query), not at its next timer."""
        for execution_id in list(self._runtime.actors):
            self._runtime.request_signals(execution_id)

    def _notified(self, execution_id: UUID) -> None:
        if execution_id in self._runtime.actors:
            self._runtime.request_signals(execution_id)

    def _finished(self, actor: Actor, finish: Finish) -> None:
        state = actor.state
        EXECUTIONS.labels(state=finish.status.value, playbook=playbook_label(state.playbook_id)).inc()
        log.info(
            "execution_finished",
            execution_id=str(state.execution_id),
            ticket_id=state.ticket_id,
            state=finish.status.value,
            reason=finish.reason,
        )
        for future in self._waiters.pop(state.execution_id, []):
            if not future.done():
                future.set_result(None)
        if self._on_terminal is not None:
            summary = {
                "execution_id": state.execution_id,
                "ticket_id": state.ticket_id,
                "playbook_id": state.playbook_id,
                "state": finish.status.value,
                "reason": finish.reason,
                "current_step": state.current_step,
            }
            try:
                result = self._on_terminal(summary)
                if inspect.isawaitable(result):
                    self._background_task(result)
            except Exception:
                log.exception("on_terminal_failed", execution_id=str(state.execution_id))

    def _release_later(self, execution_id: UUID) -> None:
        self._background_task(self._release_dropped(execution_id))

    async def _release_dropped(self, execution_id: UUID) -> None:
        """Give back an execution its actor dropped, so that it is claimed again from its record. While the
        database is unreachable this is retried; once it went through after an outage, the lease tick runs
        at once to claim the execution back (rather than at the next renewal)."""
        backoff = Backoff(max_s=5.0)
        while True:
            try:
                await leases.release(self._pool, self.owner_id, [execution_id])
            except Exception as exc:
                if not is_connection_loss(exc) or not self._running:
                    raise
                await asyncio.sleep(backoff.next_delay())
                continue
            if backoff.failures:
                self._tick_now.set()
            return

    def _background_task(self, awaitable: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await awaitable
            except Exception:
                log.exception("engine_background_task_failed")

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _cancel_background(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _require_running(self) -> None:
        if not self._running:
            raise EngineStopped("the engine is not running")


def _unavailable(playbook_id: str, version: str) -> Playbook:
    """A stand-in definition so that an execution whose pinned version cannot be loaded still ends FAILED."""
    return Playbook(
        id=playbook_id,
        name="(unavailable)",
        version=version or "0",
        triggers=Triggers(sub_categories=("OTHER",)),
        steps=(Step(id="unavailable", terminal=TerminalOutcome.ESCALATED),),
    )
