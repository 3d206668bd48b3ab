"""The approval desk: single-use, expiring manager approvals stored as hashes in ``approval_requests``.

One request per step attempt. Its approve/deny links carry signed tokens (:mod:`approval_tokens`); its
SMS fallback carries a six-digit code. Whatever the channel, a decision is taken by one atomic
``UPDATE … WHERE decided_at IS NULL`` — so a replayed link, a second click or a late SMS changes nothing —
and only then handed to the engine through the :class:`SignalSink` (dedupe key ``approval:{request_id}``).
If the engine refuses the hand-over with an error, the decision is undone so the approver can try again.

A request whose execution has finished (resolved, escalated, failed) or was cancelled accepts nothing any
more (DESIGN §7.8): its link answers "no longer needed" (GET and POST) and its SMS code likewise, and no
decision is stored. The check is made when the link is opened, in the deciding ``UPDATE`` itself, and once
more when the engine says the execution no longer waits (it ended in between): then the decision is undone.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID, uuid4

import asyncpg
import structlog
from twilio.request_validator import RequestValidator, get_signature_algorithm

from ticketpilot.config import Settings
from ticketpilot.logging import mask_phone, register_secret
from ticketpilot.services.approval_records import (
    ApprovalLinks,
    ApprovalRejected,
    ApprovalRequest,
    DecisionOutcome,
    OpenedRequest,
    RejectReason,
)
from ticketpilot.services.approval_tokens import (
    Decision,
    InvalidToken,
    new_nonce,
    new_sms_code,
    nonce_hash,
    parse_sms_reply,
    phone_hash,
    sign_token,
    sms_code_hash,
    verify_token,
)
from ticketpilot.services.common import Clock, utcnow
from ticketpilot.services.signals import SignalSink

log = structlog.get_logger(__name__)

SANDBOX_TWILIO_TOKEN = "sandbox-twilio-token"
"""In sandbox mode with an empty ``twilio.auth_token``, Twilio webhooks are validated with this token."""

MAX_FAILED_SMS_REPLIES = 5
"""Wrong codes from the approver's phone before the request stops accepting SMS replies."""

LIVE_EXECUTION_STATES = ["RUNNING", "WAITING"]
"""``playbook_executions.state`` values of an execution that may still take an answer."""

_WITH_EXECUTION = (
    "SELECT r.*, e.state AS execution_state FROM approval_requests r"
    " JOIN playbook_executions e ON e.execution_id = r.execution_id"
)


class ApprovalDesk:
    """Opens approval requests and takes decisions on them, for every channel (link, SMS, sandbox)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        signing_key: bytes,
        sink: SignalSink,
        public_url: str,
        twilio_auth_token: str,
        clock: Clock = utcnow,
    ) -> None:
        self._pool = pool
        self._key = signing_key
        self._sink = sink
        self.public_url = public_url.rstrip("/")
        self._twilio = RequestValidator(twilio_auth_token) if twilio_auth_token else None
        self._clock = clock

    def __repr__(self) -> str:
        return f"ApprovalDesk(public_url={self.public_url!r})"

    def now(self) -> datetime:
        return self._clock()

    # --- opening ---------------------------------------------------------------------------------------

    async def open_request(
        self,
        *,
        execution_id: UUID,
        step_id: str,
        attempt: int,
        ticket_id: int | None,
        approver_upn: str,
        requester_name: str,
        requester_upn: str,
        purpose: str,
        expires_at: datetime,
    ) -> OpenedRequest:
        """The request of this step attempt, created once. Links are returned only while no card was posted
        (a rerun after a crash before posting rotates the nonce: links never sent die)."""
        nonce = new_nonce()
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "INSERT INTO approval_requests (id, execution_id, step_id, attempt, ticket_id,"
                " approver_email, requester_name, requester_upn, purpose, expires_at, token_hash, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                " ON CONFLICT (execution_id, step_id, attempt) DO NOTHING RETURNING *",
                uuid4(),
                execution_id,
                step_id,
                attempt,
                ticket_id,
                approver_upn,
                requester_name,
                requester_upn,
                purpose,
                expires_at,
                nonce_hash(self._key, nonce),
                self.now(),
            )
            if row is None:
                row = await conn.fetchrow(
                    "UPDATE approval_requests SET token_hash = $4"
                    " WHERE execution_id = $1 AND step_id = $2 AND attempt = $3 AND card_posted_at IS NULL"
                    " RETURNING *",
                    execution_id,
                    step_id,
                    attempt,
                    nonce_hash(self._key, nonce),
                )
                if row is None:
                    existing = await conn.fetchrow(
                        "SELECT * FROM approval_requests"
                        " WHERE execution_id = $1 AND step_id = $2 AND attempt = $3",
                        execution_id,
                        step_id,
                        attempt,
                    )
                    assert existing is not None
                    return OpenedRequest(ApprovalRequest.from_row(existing), None)
        request = ApprovalRequest.from_row(row)
        return OpenedRequest(request, self._links(request.id, request.expires_at, nonce))

    def _links(self, request_id: UUID, expires_at: datetime, nonce: str) -> ApprovalLinks:
        def url(decision: Decision) -> str:
            token = sign_token(self._key, request_id, decision, expires_at, nonce)
            return f"{self.public_url}/approvals/{request_id}?{urlencode({'t': token, 'd': decision})}"

        return ApprovalLinks(url("approve"), url("deny"))

    async def mark_card_posted(self, request_id: UUID) -> None:
        await self._pool.execute(
            "UPDATE approval_requests SET card_posted_at = $2 WHERE id = $1", request_id, self.now()
        )

    async def get(self, request_id: UUID) -> ApprovalRequest | None:
        row = await self._pool.fetchrow("SELECT * FROM approval_requests WHERE id = $1", request_id)
        return None if row is None else ApprovalRequest.from_row(row)

    async def find(self, execution_id: UUID, step_id: str, attempt: int) -> ApprovalRequest | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM approval_requests WHERE execution_id = $1 AND step_id = $2 AND attempt = $3",
            execution_id,
            step_id,
            attempt,
        )
        return None if row is None else ApprovalRequest.from_row(row)

    # --- SMS fallback ----------------------------------------------------------------------------------

    async def issue_sms_code(self, request_id: UUID, phone: str) -> str | None:
        """A fresh code for an SMS to ``phone`` (replaces any earlier one); None if already decided."""
        code = new_sms_code()
        register_secret(code)
        done = await self._pool.fetchval(
            "UPDATE approval_requests SET sms_code_hash = $2, approver_phone_hash = $3, sms_sent_at = NULL"
            " WHERE id = $1 AND decided_at IS NULL RETURNING id",
            request_id,
            sms_code_hash(self._key, request_id, code),
            phone_hash(self._key, phone),
        )
        return code if done is not None else None

    async def mark_sms_sent(self, request_id: UUID) -> None:
        await self._pool.execute(
            "UPDATE approval_requests SET sms_sent_at = $2 WHERE id = $1", request_id, self.now()
        )

    # --- deciding --------------------------------------------------------------------------------------

    async def check_link(self, request_id: UUID, token: str, decision: str) -> ApprovalRequest:
        """The open request a link points at, or :class:`ApprovalRejected`. Changes nothing (GET)."""
        request, _ = await self._verified(request_id, token, decision)
        return request

    async def _verified(self, request_id: UUID, token: str, decision: str) -> tuple[ApprovalRequest, str]:
        now = self.now()
        try:
            claims = verify_token(self._key, request_id, decision, token, now)
        except InvalidToken as exc:
            raise ApprovalRejected("expired" if exc.reason == "expired" else "invalid", request_id) from None
        row = await self._pool.fetchrow(f"{_WITH_EXECUTION} WHERE r.id = $1", request_id)
        expected = nonce_hash(self._key, claims.nonce)
        if row is None or not hmac.compare_digest(str(row["token_hash"] or ""), expected):
            raise ApprovalRejected("invalid", request_id)
        request = ApprovalRequest.from_row(row)
        if request.decided_at is not None:  # the approver's own earlier answer is the clearer story
            raise ApprovalRejected("answered", request_id)
        if row["execution_state"] not in LIVE_EXECUTION_STATES:
            raise ApprovalRejected("closed", request_id)
        if request.expires_at <= now:
            raise ApprovalRejected("expired", request_id)
        return request, expected

    async def decide_by_link(self, request_id: UUID, token: str, decision: str) -> DecisionOutcome:
        """The approver confirmed a link (POST): verify, decide once, signal the engine."""
        request, token_hash = await self._verified(request_id, token, decision)
        return await self._decide(
            request.id, "approve" if decision == "approve" else "deny", "teams", token_hash=token_hash
        )

    async def follow_link(self, url: str) -> bool:
        """Act on an approve/deny URL as if its recipient confirmed it (the sandbox manager's click)."""
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        try:
            request_id = UUID(parts.path.rstrip("/").rsplit("/", 1)[-1])
            outcome = await self.decide_by_link(request_id, query["t"][0], query["d"][0])
        except (ValueError, KeyError, IndexError):
            log.warning("approval_link_malformed")
            return False
        except ApprovalRejected as exc:
            log.info("approval_link_rejected", reason=exc.reason, request_id=str(exc.request_id))
            return False
        return outcome.delivered

    async def reissue_link(self, request_id: UUID, decision: str) -> str | None:
        """A new ``decision`` link for a request still open, or None. The request's nonce rotates, so every
        earlier link dies: for the sandbox manager whose card's links were lost with the process that posted
        it (a restart, another replica). Deciding still goes through :meth:`follow_link` (single use, expiry)."""
        if decision not in ("approve", "deny"):
            return None
        nonce = new_nonce()
        expires_at = await self._pool.fetchval(
            "UPDATE approval_requests SET token_hash = $2"
            " WHERE id = $1 AND decided_at IS NULL AND expires_at > $3 RETURNING expires_at",
            request_id,
            nonce_hash(self._key, nonce),
            self.now(),
        )
        if expires_at is None:
            return None
        links = self._links(request_id, expires_at, nonce)
        return links.approve_url if decision == "approve" else links.deny_url

    async def decide_by_sms(self, from_number: str, body: str) -> DecisionOutcome | None:
        """An SMS reply ``YES <code>`` / ``NO <code>`` from the approver's phone; None: no match.

        A right code for a request whose execution has ended raises ``ApprovalRejected("closed")`` and
        records nothing (not even a failed reply): the approver is told the answer is no longer needed."""
        reply = parse_sms_reply(body)
        if reply is None:
            log.info("approval_sms_unparsed", sender=mask_phone(from_number))
            return None
        rows = await self._pool.fetch(
            "SELECT r.id, r.sms_code_hash, e.state AS execution_state FROM approval_requests r"
            " JOIN playbook_executions e ON e.execution_id = r.execution_id"
            " WHERE r.approver_phone_hash = $1"
            " AND r.decided_at IS NULL AND r.sms_code_hash IS NOT NULL AND r.expires_at > $2"
            " AND r.sms_failed_replies < $3",
            phone_hash(self._key, from_number),
            self.now(),
            MAX_FAILED_SMS_REPLIES,
        )
        for row in rows:
            expected = sms_code_hash(self._key, row["id"], reply.code)
            if hmac.compare_digest(expected, row["sms_code_hash"]):
                if row["execution_state"] not in LIVE_EXECUTION_STATES:
                    log.info("approval_sms_no_longer_needed", request_id=str(row["id"]))
                    raise ApprovalRejected("closed", row["id"])
                try:
                    return await self._decide(row["id"], reply.decision, "sms", code_hash=expected)
                except ApprovalRejected as exc:
                    if exc.reason == "closed":
                        raise
                    return None
        rows = [r for r in rows if r["execution_state"] in LIVE_EXECUTION_STATES]
        if rows:
            await self._pool.execute(
                "UPDATE approval_requests SET sms_failed_replies = sms_failed_replies + 1"
                " WHERE id = ANY($1::uuid[])",
                [r["id"] for r in rows],
            )
        log.warning("approval_sms_no_match", sender=mask_phone(from_number), open_requests=len(rows))
        return None

    async def _decide(
        self,
        request_id: UUID,
        decision: Decision,
        channel: str,
        *,
        token_hash: str | None = None,
        code_hash: str | None = None,
    ) -> DecisionOutcome:
        now = self.now()
        row = await self._pool.fetchrow(
            "UPDATE approval_requests SET decided_at = $2, decision = $3, channel = $4"
            " WHERE id = $1 AND decided_at IS NULL AND expires_at > $2"
            " AND ($5::text IS NULL OR token_hash = $5) AND ($6::text IS NULL OR sms_code_hash = $6)"
            " AND EXISTS (SELECT 1 FROM playbook_executions e"
            "  WHERE e.execution_id = approval_requests.execution_id AND e.state = ANY($7::text[]))"
            " RETURNING *",
            request_id,
            now,
            decision,
            channel,
            token_hash,
            code_hash,
            LIVE_EXECUTION_STATES,
        )
        if row is None:
            raise ApprovalRejected(await self._why_not_open(request_id), request_id)
        request = ApprovalRequest.from_row(row)
        payload = {
            "request_id": str(request.id),
            "decision": decision,
            "channel": channel,
            "approver": request.approver_email,
            "step_id": request.step_id,
            "attempt": request.attempt,
        }
        try:
            delivered = await self._sink(request.execution_id, decision, f"approval:{request.id}", payload)
        except BaseException:
            # The engine did not record the signal: reopen the request so the approver can answer again.
            await asyncio.shield(self._undo(request.id, now))
            raise
        if not delivered and await self._execution_ended(request.execution_id):
            # The execution ended between our UPDATE and the hand-over: the answer is no longer needed.
            await asyncio.shield(self._undo(request.id, now))
            log.info("approval_no_longer_needed", request_id=str(request.id), channel=channel)
            raise ApprovalRejected("closed", request.id)
        log.info(
            "approval_decided",
            request_id=str(request.id),
            execution_id=str(request.execution_id),
            decision=decision,
            channel=channel,
            delivered=delivered,
        )
        return DecisionOutcome(request, decision, channel, delivered)

    async def _why_not_open(self, request_id: UUID) -> RejectReason:
        """Why a request takes no answer now: ``invalid`` (unknown), ``answered``, ``closed`` (its execution
        ended) or ``expired``."""
        row = await self._pool.fetchrow(f"{_WITH_EXECUTION} WHERE r.id = $1", request_id)
        if row is None:
            return "invalid"
        if row["decided_at"] is not None:
            return "answered"
        return "closed" if row["execution_state"] not in LIVE_EXECUTION_STATES else "expired"

    async def _execution_ended(self, execution_id: UUID) -> bool:
        state = await self._pool.fetchval(
            "SELECT state FROM playbook_executions WHERE execution_id = $1", execution_id
        )
        return state not in LIVE_EXECUTION_STATES

    async def _undo(self, request_id: UUID, decided_at: datetime) -> None:
        await self._pool.execute(
            "UPDATE approval_requests SET decided_at = NULL, decision = NULL, channel = NULL"
            " WHERE id = $1 AND decided_at = $2",
            request_id,
            decided_at,
        )

    # --- Twilio webhooks -------------------------------------------------------------------------------

    def twilio_signature_valid(
        self, url: str, params: Mapping[str, str], signature: str, signature_settings: str = ""
    ) -> bool:
        """``X-Twilio-Signature`` over the public URL and the POST params (HMAC-SHA1 by default)."""
        if self._twilio is None or not signature:
            return False
        algorithm = get_signature_algorithm(signature_settings)
        return bool(self._twilio.validate(url, params, signature, algorithm=algorithm))


def build_approval_desk(
    pool: asyncpg.Pool, settings: Settings, sink: SignalSink, *, clock: Clock = utcnow
) -> ApprovalDesk:
    """The desk for the running service. An empty ``teams.approval_signing_key`` gives a random key per
    process (links die with a restart); in sandbox mode an empty ``twilio.auth_token`` validates Twilio
    webhooks with :data:`SANDBOX_TWILIO_TOKEN`."""
    key_text = settings.teams.approval_signing_key.get_secret_value()
    if key_text:
        key = key_text.encode()
    else:
        key = secrets.token_bytes(32)
        if settings.adapters.mode == "live":
            log.warning(
                "approval_signing_key_random", detail="set teams.approval_signing_key: links die on restart"
            )
    twilio_token = settings.twilio.auth_token.get_secret_value()
    if not twilio_token and settings.adapters.mode == "sandbox":
        twilio_token = SANDBOX_TWILIO_TOKEN
    return ApprovalDesk(
        pool,
        signing_key=key,
        sink=sink,
        public_url=settings.http.public_url,
        twilio_auth_token=twilio_token,
        clock=clock,
    )
