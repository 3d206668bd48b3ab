"""The gate as a service: ticket → classify → enrich → blockers → decision → write-back → execution.

``Gate.decide`` reads as the data flow of DESIGN §1. The decision row and its HaloPSA write-back
(outbox rows) are committed in one transaction *before* anything is started, so no ticket is automated
unless its decision is stored first (invariant 1). A ticket is decided once from its webhook (a
partial unique index on ``classification_results``); deciding it again returns the stored decision and,
if that decision was ``automated`` and a crash came between the commit and the start, starts the
execution (the engine's one-execution-per-ticket index makes that idempotent).

The target of the automation is always the requester resolved from HaloPSA's data (``user_azure_oid``,
else ``user_email``): the ticket text reaches the classifier only, never the execution context.

``Gate.preview`` runs the same decision with no side effects at all (API, CLI).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal, Protocol
from uuid import UUID

import asyncpg
import structlog

from ticketpilot.adapters.base import Ticket
from ticketpilot.gate.blockers import Blocker, BlockerName
from ticketpilot.gate.classification import ClassificationError, Classifier, ClassifierResult, TicketText
from ticketpilot.gate.combined import with_second_opinion
from ticketpilot.gate.decision import Decision, Outcome, choose_playbook, decide
from ticketpilot.gate.deferral import DecisionDeferred
from ticketpilot.gate.enrichment import RequesterResolver
from ticketpilot.gate.facts import ClassifierFailure, PlaybookCandidate, PolicySnapshot, RequesterFacts
from ticketpilot.gate.outbox import enqueue
from ticketpilot.gate.policy import RuntimePolicy
from ticketpilot.gate.record import DecisionRecord
from ticketpilot.gate.unclaim import not_started_reason, start_may_succeed_later, unclaim
from ticketpilot.gate.writeback import decision_messages
from ticketpilot.metrics import BLOCKERS, DECISIONS
from ticketpilot.playbooks.model import Playbook

log = structlog.get_logger(__name__)

DecisionSource = Literal["webhook", "replay", "api"]
"""``webhook``: once per ticket, full side effects. ``api``: full side effects, not once-guarded.
``replay``: stored for evaluation only (an ``automated`` decision is stored as ``shadow``); no HaloPSA
write-back, no execution, no breaker."""

# Serialises decision transactions across processes, so the rate limit and cooldowns are exact.
GATE_LOCK_KEY = 0x71C3E7_6A7E

_SUBJECT_MAX = 2_000
_BODY_MAX = 100_000


class PlaybookSource(Protocol):
    """The part of the playbook registry the gate uses."""

    def for_sub_category(self, sub_category: str) -> Sequence[PlaybookCandidate]:
        """The enabled playbooks triggered by ``sub_category``."""
        ...

    def loaded(self) -> Sequence[PlaybookCandidate]:
        """Every playbook's active version, enabled or not (to tell "disabled" from "none")."""
        ...

    def active(self, playbook_id: str) -> PlaybookCandidate | None: ...


class ExecutionStarter(Protocol):
    """The part of the engine the gate uses."""

    async def start_execution(
        self, ticket_id: int, playbook: Playbook, content_hash: str, context: dict[str, Any]
    ) -> tuple[UUID, bool]: ...


class _AlreadyDecided(Exception):
    """Control flow: another delivery or process stored this ticket's decision first."""


class Gate:
    """Classifier-first decisions for tickets (see the module docstring)."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        classifier: Classifier,
        resolver: RequesterResolver,
        registry: PlaybookSource,
        policy: RuntimePolicy,
        engine: ExecutionStarter,
        taxonomy: Sequence[str],
        outbox_wake: Callable[[], None] | None = None,
        classify_timeout_s: float = 60.0,
        perf_clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._pool = pool
        self._classifier = classifier
        self._resolver = resolver
        self._registry = registry
        self._policy = policy
        self._engine = engine
        self._taxonomy = frozenset(taxonomy)
        self._outbox_wake = outbox_wake
        self._classify_timeout_s = classify_timeout_s
        self._perf = perf_clock

    async def decide(
        self, ticket: Ticket, *, source: DecisionSource = "webhook", may_defer: bool = False
    ) -> DecisionRecord:
        """Decide about ``ticket`` (as read from HaloPSA), store it, write it back, start the playbook.

        ``may_defer``: when the classifier's service or the directory is throttled or failing, raise
        :class:`~ticketpilot.gate.deferral.DecisionDeferred` (nothing stored, nothing written) so the caller
        decides again later; without it, that vendor's ``*_unavailable`` blocker keeps the ticket manual.
        """
        if source == "webhook":
            existing = await self.stored_decision(ticket.id)
            if existing is not None:
                return await self._ensure_execution(existing)
        started = self._perf()
        classified = await self._classify(ticket.summary, ticket.details, ticket.user_email)
        if may_defer and isinstance(classified, ClassifierFailure) and classified.transient:
            detail = f"{classified.classifier}: {classified.reason}: {classified.detail}"
            raise DecisionDeferred(BlockerName.LLM_UNAVAILABLE, detail, classified.retry_after_s)
        requester = await self._resolver.resolve(email=ticket.user_email, azure_oid=ticket.user_azure_oid)
        if may_defer and requester.unavailable_reason:
            raise DecisionDeferred(
                BlockerName.DIRECTORY_UNAVAILABLE, requester.unavailable_reason, requester.retry_after_s
            )
        candidates = self._candidates(classified)
        try:
            record, decision = await self._store(
                ticket.id, classified, requester, candidates, started, source
            )
        except _AlreadyDecided:
            existing = await self.stored_decision(ticket.id)
            assert existing is not None
            return await self._ensure_execution(existing)
        self._announce(record, source)
        if source == "replay":
            return record
        if record.outcome is Outcome.AUTOMATED and decision.candidate is not None:
            record = await self._start(record, decision.candidate)
        return record

    async def decide_unreadable(self, ticket_id: int, detail: str) -> DecisionRecord:
        """HaloPSA would not let the ticket be read for ``gate.max_decision_delay_s``: store a manual decision
        naming ``halopsa_unavailable`` (its write-back waits in the outbox until HaloPSA answers again)."""
        existing = await self.stored_decision(ticket_id)
        if existing is not None:
            return existing
        started = self._perf()
        not_run = ClassifierFailure(
            "not_run", self._classifier.name, self._classifier.version, "the ticket could not be read"
        )
        unavailable = Blocker(BlockerName.HALOPSA_UNAVAILABLE, detail[:500])
        decided = Decision(Outcome.MANUAL, None, (unavailable,))
        try:
            record, _ = await self._store(
                ticket_id, not_run, RequesterFacts(email=""), (), started, "webhook", decided=decided
            )
        except _AlreadyDecided:
            existing = await self.stored_decision(ticket_id)
            assert existing is not None
            return existing
        self._announce(record, "webhook")
        return record

    def _announce(self, record: DecisionRecord, source: DecisionSource) -> None:
        """Log a stored decision; unless replayed, count it and wake the outbox for its write-back."""
        log.info(
            "ticket_decided",
            ticket_id=record.ticket_id,
            decision_id=record.decision_id,
            outcome=record.outcome.value,
            playbook=record.playbook_id,
            blockers=[b.name.value for b in record.blockers],
            source=source,
        )
        if source == "replay":
            return
        DECISIONS.labels(record.outcome.value, record.playbook_id or "none").inc()
        for blocker in record.blockers:
            BLOCKERS.labels(blocker.name.value).inc()
        if self._outbox_wake is not None:
            self._outbox_wake()

    async def preview(
        self, subject: str, body: str, user_email: str, ticket_id: int | None = None
    ) -> DecisionRecord:
        """The decision the gate would take, with no side effect: no row, no outbox, no execution."""
        started = self._perf()
        classified = await self._classify(subject, body, user_email)
        requester = await self._resolver.resolve(email=user_email)
        candidates = self._candidates(classified)
        async with self._pool.acquire() as conn:
            snapshot = await self._policy.snapshot(conn, requester, self._policy.now())
        decision = self._decide(classified, requester, candidates, snapshot)
        return self._record(ticket_id, classified, requester, decision, started, None)

    async def stored_decision(self, ticket_id: int) -> DecisionRecord | None:
        """The ticket's webhook decision, if it has been decided."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT * FROM classification_results WHERE ticket_id = $1 AND source = 'webhook'", ticket_id
            )
        return DecisionRecord.from_row(row) if row is not None else None

    # --- steps ---------------------------------------------------------------------------------------

    async def _classify(self, subject: str, body: str, email: str) -> ClassifierResult | ClassifierFailure:
        name, version = self._classifier.name, self._classifier.version
        text = TicketText(subject=subject[:_SUBJECT_MAX], body=body[:_BODY_MAX], requester_email=email)
        try:
            async with asyncio.timeout(self._classify_timeout_s):
                result = await self._classifier.classify(text)
        except ClassificationError as exc:
            return ClassifierFailure(
                exc.reason,
                exc.classifier or name,
                version,
                exc.detail,
                transient=exc.transient,
                retry_after_s=exc.retry_after,
            )
        except TimeoutError:
            return ClassifierFailure(
                "timeout", name, version, f"no answer within {self._classify_timeout_s:g}s", transient=True
            )
        except Exception as exc:
            log.exception("classifier_failed", classifier=name)
            return ClassifierFailure("error", name, version, type(exc).__name__)
        if not isinstance(result, ClassifierResult):
            return ClassifierFailure("invalid", name, version, "the classifier returned no ClassifierResult")
        return result

    def _candidates(self, classified: ClassifierResult | ClassifierFailure) -> Sequence[PlaybookCandidate]:
        if isinstance(classified, ClassifierFailure):
            return ()
        sub_category = classified.classification.sub_category
        candidates = list(self._registry.for_sub_category(sub_category))
        if not candidates:  # only disabled ones, if any: the decision records them as playbook_disabled
            candidates = [
                c for c in self._registry.loaded() if sub_category in c.playbook.triggers.sub_categories
            ]
        return candidates

    def _decide(
        self,
        classified: ClassifierResult | ClassifierFailure,
        requester: RequesterFacts,
        candidates: Sequence[PlaybookCandidate],
        snapshot: PolicySnapshot,
    ) -> Decision:
        """The pure decision, plus the second opinion's agreement (``[llm] mode = "both"``)."""
        decision = decide(classified, requester, candidates, snapshot, taxonomy=self._taxonomy)
        return with_second_opinion(decision, classified, self._playbook_of)

    def _playbook_of(self, sub_category: str) -> str | None:
        """The enabled playbook ``sub_category`` leads to, if any (as the decision would choose it)."""
        candidate, _ = choose_playbook(sub_category, self._registry.for_sub_category(sub_category))
        return candidate.playbook.id if candidate is not None else None

    async def _store(
        self,
        ticket_id: int,
        classified: ClassifierResult | ClassifierFailure,
        requester: RequesterFacts,
        candidates: Sequence[PlaybookCandidate],
        started: float,
        source: DecisionSource,
        *,
        decided: Decision | None = None,
    ) -> tuple[DecisionRecord, Decision]:
        """Decide under the gate lock (or store ``decided``, taken without the ticket) and queue the write-back."""
        now = self._policy.now()
        async with self._pool.acquire() as conn, conn.transaction():
            # Its own statement: the reads below then see every decision committed before the lock.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", GATE_LOCK_KEY)
            if decided is not None:
                decision = decided
            else:
                snapshot: PolicySnapshot = await self._policy.snapshot(conn, requester, now)
                decision = self._decide(classified, requester, candidates, snapshot)
            if source == "replay" and decision.outcome is Outcome.AUTOMATED:
                decision = Decision(Outcome.SHADOW, decision.candidate, decision.blockers)
            elif decision.only_rate_limited:
                until = await self._policy.open_breaker(conn, now)
                log.warning("rate_limit_breaker_opened", ticket_id=ticket_id, open_until=until.isoformat())
            record = self._record(ticket_id, classified, requester, decision, started, None)
            decision_id = await conn.fetchval(_INSERT_DECISION, *_decision_row(record, source, now))
            if decision_id is None:
                raise _AlreadyDecided
            record = _with_id(record, decision_id)
            if source != "replay":
                mode = decision.candidate.playbook.mode if decision.candidate is not None else None
                await enqueue(conn, decision_messages(record, playbook_mode=mode), now=now)
        return record, decision

    def _record(
        self,
        ticket_id: int | None,
        classified: ClassifierResult | ClassifierFailure,
        requester: RequesterFacts,
        decision: Decision,
        started: float,
        decision_id: int | None,
    ) -> DecisionRecord:
        return DecisionRecord.of(
            ticket_id, classified, requester, decision, (self._perf() - started) * 1000, decision_id
        )

    async def _start(self, record: DecisionRecord, candidate: PlaybookCandidate) -> DecisionRecord:
        """Start the decided execution, once per ticket: under a per-ticket lock, and only if the ticket has
        no execution of that playbook yet. Without it, a second delivery of the same ticket in another worker
        or process (it finds the stored decision, then no execution because the first start has not committed)
        would issue a second start."""
        assert record.ticket_id is not None
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(_START_LOCK, record.ticket_id)
            exists = await conn.fetchval(
                "SELECT 1 FROM playbook_executions WHERE ticket_id = $1 AND playbook_id = $2",
                record.ticket_id,
                candidate.playbook.id,
            )
            if exists:
                return record
            return await self._start_unlocked(record, candidate)

    async def _start_unlocked(self, record: DecisionRecord, candidate: PlaybookCandidate) -> DecisionRecord:
        """Start the decided execution. A start that cannot succeed hands the ticket back (``unclaim``):
        the returned record is then manual; a failure that may pass is raised for the caller to retry."""
        assert record.ticket_id is not None and record.decision_id is not None
        context = execution_context(record)
        try:
            execution_id, created = await self._engine.start_execution(
                ticket_id=record.ticket_id,
                playbook=candidate.playbook,
                content_hash=candidate.content_hash,
                context=context,
            )
        except Exception as exc:
            if start_may_succeed_later(exc):
                raise
            log.exception(
                "execution_start_failed", ticket_id=record.ticket_id, playbook=candidate.playbook.id
            )
            return await unclaim(self._pool, record, not_started_reason(exc), self._policy.now())
        log.info(
            "execution_started" if created else "execution_exists",
            ticket_id=record.ticket_id,
            execution_id=str(execution_id),
            playbook=candidate.playbook.id,
        )
        return record

    async def hand_back_unstarted(self, ticket_id: int, error: str) -> bool:
        """The inbox gave up on ``ticket_id`` (every retry failed): an ``automated`` decision whose execution
        never started is handed back as manual with the last error, so the ticket is never left claimed with
        nothing running. Returns whether it was handed back."""
        record = await self.stored_decision(ticket_id)
        if record is None or record.outcome is not Outcome.AUTOMATED or record.playbook_id is None:
            return False
        async with self._pool.acquire() as conn:
            exists = await conn.fetchval(
                "SELECT 1 FROM playbook_executions WHERE ticket_id = $1 AND playbook_id = $2",
                ticket_id,
                record.playbook_id,
            )
        if exists:
            return False
        reason = f"the playbook's execution could not be started; retries gave up ({error})"[:500]
        handed = await unclaim(self._pool, record, reason, self._policy.now())
        return handed.outcome is not Outcome.AUTOMATED

    async def _ensure_execution(self, record: DecisionRecord) -> DecisionRecord:
        """After a crash between the decision commit and the start: start the decided execution (or hand
        the ticket back when it cannot be); returns the decision as it now stands."""
        if record.outcome is not Outcome.AUTOMATED or record.playbook_id is None or record.ticket_id is None:
            return record
        async with self._pool.acquire() as conn:
            exists = await conn.fetchval(
                "SELECT 1 FROM playbook_executions WHERE ticket_id = $1 AND playbook_id = $2",
                record.ticket_id,
                record.playbook_id,
            )
        if exists:
            return record
        candidate = self._registry.active(record.playbook_id)
        if candidate is None or candidate.content_hash != record.playbook_hash:
            reason = f"the decided playbook version ({record.playbook_version}) is no longer active"
            return await unclaim(self._pool, record, reason, self._policy.now())
        return await self._start(record, candidate)


def execution_context(record: DecisionRecord) -> dict[str, Any]:
    """The engine's context: the requester resolved from HaloPSA, nothing from the ticket text."""
    requester = record.requester
    return {
        "user_email": requester.context_email,
        "user_id": requester.user_id,
        "user_upn": requester.user_principal_name,
        "ticket_id": record.ticket_id,
        "decision_id": record.decision_id,
    }


_START_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtextextended('ticketpilot:execution-start:' || $1::bigint::text, 0))"
)
"""Held while a ticket's execution is looked up and started (see ``Gate._start``)."""

_INSERT_DECISION = """
INSERT INTO classification_results (
    ticket_id, classifier, classifier_version, category, sub_category, confidence, reasoning, own_account,
    risk_flags, playbook_id, playbook_hash, playbook_version, outcome, blockers, latency_ms, source,
    requester_user_id, requester, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb, $10, $11, $12, $13, $14::text::jsonb, $15, $16,
        $17, $18::text::jsonb, $19)
ON CONFLICT (ticket_id) WHERE source = 'webhook' DO NOTHING
RETURNING id
"""


def _decision_row(record: DecisionRecord, source: str, now: datetime) -> tuple[Any, ...]:
    c = record.classification
    return (
        record.ticket_id,
        record.classifier,
        record.classifier_version,
        c.category if c else None,
        c.sub_category if c else None,
        c.confidence if c else None,
        c.reasoning if c else "",
        c.own_account if c else None,
        json.dumps([f.value for f in c.risk_flags] if c else []),
        record.playbook_id,
        record.playbook_hash,
        record.playbook_version,
        record.outcome.value,
        json.dumps([b.as_dict() for b in record.blockers]),
        record.latency_ms,
        source,
        record.requester.user_id,
        json.dumps(record.requester.as_stored()),
        now,
    )


def _with_id(record: DecisionRecord, decision_id: int) -> DecisionRecord:
    return replace(record, decision_id=decision_id)
