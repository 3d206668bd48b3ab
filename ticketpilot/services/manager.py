"""``verification.manager``: the requester's Entra manager approves in Teams, or by SMS after a while.

start: find the manager, open one approval request per attempt (reused on a re-run, so never a second
card), post the card with signed approve/deny links, park until ``approve``/``deny`` or the SMS fallback
time. Wake: text the manager's phone on record (from the directory, never from the ticket) a reply code,
then park until the answer or the deadline. Signal: trusted only if the desk recorded that decision for
this execution and step.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import structlog

from ticketpilot.adapters.base import AdapterError, CardPoster, Directory, DirectoryUser, SmsSender
from ticketpilot.logging import mask_phone
from ticketpilot.services.approval_card import approval_card
from ticketpilot.services.approval_records import ApprovalRequest
from ticketpilot.services.approvals import ApprovalDesk
from ticketpilot.services.common import (
    Clock,
    RequesterUnresolved,
    failed_from_adapter,
    resolve_requester,
    utcnow,
)
from ticketpilot.steps import Failed, Signal, StepCall, StepEvent, StepOutcome, Succeeded, Waiting, Wake

log = structlog.get_logger(__name__)

ANSWERS: frozenset[str] = frozenset({"approve", "deny"})
DEFAULT_PURPOSE = (
    "issue a one-time Temporary Access Pass for their account and text it to their phone on record"
)
RETRY_FALLBACK_AFTER_S = 30.0


class ManagerApproval:
    """The ``verification.manager`` step service (safe to re-run: the request and card are per attempt)."""

    name = "verification.manager"
    rerun_safe = True
    requires_secrets: tuple[str, ...] = ()
    produces_secrets: tuple[str, ...] = ()

    def __init__(
        self,
        directory: Directory,
        cards: CardPoster,
        sms: SmsSender,
        desk: ApprovalDesk,
        *,
        public_url: str,
        sms_fallback_after_s: float,
        approval_ttl_s: float,
        answer_timeout_s: float | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._directory = directory
        self._cards = cards
        self._sms = sms
        self._desk = desk
        self._status_callback = f"{public_url.rstrip('/')}/webhooks/twilio/status"
        self._fallback_after = timedelta(seconds=sms_fallback_after_s)
        self._ttl = timedelta(seconds=approval_ttl_s)
        self._answer_timeout = None if answer_timeout_s is None else timedelta(seconds=answer_timeout_s)
        self._clock = clock

    def __repr__(self) -> str:
        return f"ManagerApproval(fallback_after={self._fallback_after}, ttl={self._ttl})"

    async def start(self, call: StepCall) -> StepOutcome:
        try:
            requester = await resolve_requester(self._directory, call.context)
            manager = await self._directory.get_manager(requester.id)
        except RequesterUnresolved as exc:
            return Failed(exc.reason)
        except AdapterError as exc:
            return failed_from_adapter("directory lookup failed", exc)
        if manager is None:
            return Failed("requester has no manager on record")
        if not manager.account_enabled:
            return Failed("requester's manager is disabled in the directory")
        now = self._clock()
        expires_at = self._expires_at(call, now)
        if expires_at <= now:
            return Failed("no time left in this attempt to ask the manager")
        opened = await self._desk.open_request(
            execution_id=call.execution_id,
            step_id=call.step_id,
            attempt=call.attempt,
            ticket_id=call.ticket_id,
            approver_upn=manager.user_principal_name,
            requester_name=requester.display_name or requester.user_principal_name,
            requester_upn=requester.user_principal_name,
            purpose=str(call.params.get("purpose") or DEFAULT_PURPOSE),
            expires_at=expires_at,
        )
        if opened.links is not None:
            card = approval_card(
                approver=manager,
                requester=requester,
                ticket_id=call.ticket_id,
                purpose=opened.request.purpose,
                expires_at=opened.request.expires_at,
                links=opened.links,
            )
            try:
                await self._cards.post_card(card)
            except AdapterError as exc:
                return failed_from_adapter("posting the Teams approval card failed", exc)
            await self._desk.mark_card_posted(opened.request.id)
            log.info(
                "approval_card_posted", execution_id=str(call.execution_id), request_id=str(opened.request.id)
            )
        return self._waiting(call, opened.request)

    async def resume(self, call: StepCall, event: StepEvent) -> StepOutcome:
        request = await self._desk.find(call.execution_id, call.step_id, call.attempt)
        if request is None:
            return Failed("approval request of this attempt is missing", retryable=True)
        if isinstance(event, Signal):
            return await self._on_signal(call, request, event)
        return await self._on_wake(call, request, event)

    # --- internals -------------------------------------------------------------------------------------

    def _expires_at(self, call: StepCall, now: datetime) -> datetime:
        candidates = [call.deadline, now + self._ttl]
        if self._answer_timeout is not None:
            candidates.append(call.started_at + self._answer_timeout)
        return min(candidates)

    def _give_up_at(self, call: StepCall) -> datetime | None:
        return None if self._answer_timeout is None else call.started_at + self._answer_timeout

    def _waiting(self, call: StepCall, request: ApprovalRequest, wake_at: datetime | None = None) -> Waiting:
        if wake_at is None:
            fallback_at = call.started_at + self._fallback_after
            if request.sms_sent_at is None and request.decided_at is None and fallback_at < call.deadline:
                wake_at = fallback_at
            else:
                wake_at = self._give_up_at(call)
        channel = "Teams or SMS" if request.sms_sent_at else "Teams"
        return Waiting(
            signals=ANSWERS,
            wake_at=wake_at,
            outputs={"approval_request_id": str(request.id), "approver": request.approver_email},
            summary=f"waiting for {request.approver_email} to answer in {channel}",
        )

    async def _on_signal(self, call: StepCall, request: ApprovalRequest, signal: Signal) -> StepOutcome:
        if signal.kind not in ANSWERS:
            return self._waiting(call, request)
        decided = await self._recorded_decision(signal)
        if (
            decided is None
            or decided.execution_id != call.execution_id
            or decided.step_id != call.step_id
            or decided.decision != signal.kind
        ):
            log.warning("approval_signal_unverified", execution_id=str(call.execution_id), kind=signal.kind)
            return self._waiting(call, request)
        outputs = {
            "approved_by" if signal.kind == "approve" else "denied_by": decided.approver_email,
            "channel": decided.channel or "",
            "approval_request_id": str(decided.id),
        }
        if signal.kind == "approve":
            return Succeeded(
                outputs=outputs, summary=f"approved by {decided.approver_email} via {decided.channel}"
            )
        return Failed("manager denied", retryable=False, outputs=outputs)

    async def _recorded_decision(self, signal: Signal) -> ApprovalRequest | None:
        try:
            request_id = UUID(str(signal.payload.get("request_id", "")))
        except ValueError:
            return None
        return await self._desk.get(request_id)

    async def _on_wake(self, call: StepCall, request: ApprovalRequest, wake: Wake) -> StepOutcome:
        now = self._clock()
        give_up = self._give_up_at(call)
        if request.decided_at is not None:
            return Waiting(signals=ANSWERS, summary="answer received; waiting for its signal")
        if give_up is not None and now >= give_up:
            return Failed("no answer from the manager in Teams or by SMS")
        if request.sms_sent_at is not None:
            return self._waiting(call, request)
        return await self._send_fallback_sms(call, request, now, give_up)

    async def _send_fallback_sms(
        self, call: StepCall, request: ApprovalRequest, now: datetime, give_up: datetime | None
    ) -> StepOutcome:
        retry_at = now + timedelta(seconds=RETRY_FALLBACK_AFTER_S)
        try:
            requester = await resolve_requester(self._directory, call.context)
            manager = await self._directory.get_manager(requester.id)
        except RequesterUnresolved:
            return self._waiting(call, request, wake_at=give_up)
        except AdapterError as exc:
            return self._waiting(call, request, wake_at=retry_at if exc.retryable else give_up)
        phone = self._approver_phone(manager, request)
        if phone is None:
            log.warning("approval_sms_fallback_unavailable", execution_id=str(call.execution_id))
            return Waiting(
                signals=ANSWERS, wake_at=give_up, summary="manager has no phone on record; Teams only"
            )
        code = await self._desk.issue_sms_code(request.id, phone)
        if code is None:
            return Waiting(signals=ANSWERS, summary="answer received; waiting for its signal")
        body = (
            f"TicketPilot: approve the helpdesk request of {request.requester_name} "
            f"(ticket #{call.ticket_id})? "
            f"Reply YES {code} to approve or NO {code} to deny."
        )
        try:
            await self._sms.send(
                phone,
                body,
                idempotency_key=f"{call.idempotency_key}:approval-sms",
                status_callback=self._status_callback,
            )
        except AdapterError as exc:
            log.warning("approval_sms_failed", execution_id=str(call.execution_id), error=exc.message)
            wake_at = now + timedelta(seconds=exc.retry_after or RETRY_FALLBACK_AFTER_S)
            return self._waiting(call, request, wake_at=wake_at if exc.retryable else give_up)
        await self._desk.mark_sms_sent(request.id)
        log.info("approval_sms_sent", execution_id=str(call.execution_id), to=mask_phone(phone))
        sent = await self._desk.find(call.execution_id, call.step_id, call.attempt)
        waiting = self._waiting(call, sent or request, wake_at=give_up)
        return Waiting(
            signals=waiting.signals,
            wake_at=waiting.wake_at,
            outputs={**waiting.outputs, "sms_to": mask_phone(phone)},
            summary=waiting.summary,
        )

    @staticmethod
    def _approver_phone(manager: DirectoryUser | None, request: ApprovalRequest) -> str | None:
        # Text only the person the card went to: if the manager changed meanwhile, stay on Teams.
        if manager is None or manager.user_principal_name.lower() != request.approver_email.lower():
            return None
        return manager.phone_on_record
