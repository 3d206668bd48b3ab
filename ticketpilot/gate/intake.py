"""Webhook intake: a HaloPSA delivery is durably recorded in ``webhook_inbox`` before it is acknowledged.

``WebhookIntake.receive`` is what the HTTP handler calls once the request is authenticated and its JSON
parsed: split the body into deliveries (``deliveries.py``), skip the ones Redis knows were recorded
(``dedupe.py``), commit the rest with ``ON CONFLICT DO NOTHING`` (``inbox_writer.py``), mark them in
Redis, and wake the inbox worker (``inbox_worker.py``), which does the real work in the background.
A crash after the 200 loses nothing: the row is committed, and the worker picks it up on restart.

Sandbox mode only: a delivery carrying a full ticket object (``ticket`` with ``id``, ``summary``,
``details``, ``user_email``) seeds the sandbox TicketSystem with that ticket, if it does not know it
yet, before the row is written, so the worker can read it back "from HaloPSA". In live mode the body is
never used beyond the ticket id.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from ticketpilot.adapters.base import NotFound, Ticket
from ticketpilot.gate.dedupe import RedisDedupe
from ticketpilot.gate.deliveries import SOURCE, Delivery, parse_body
from ticketpilot.gate.inbox_writer import InboxUnavailable, InboxWriter
from ticketpilot.metrics import WEBHOOKS_DEDUPLICATED, WEBHOOKS_RECEIVED

log = structlog.get_logger(__name__)


class SandboxTickets(Protocol):
    """The sandbox TicketSystem: readable like HaloPSA, and seedable with tickets."""

    async def get_ticket(self, ticket_id: int) -> Ticket: ...

    def seed(self, ticket: Ticket) -> object:
        """Add ``ticket`` (may be a coroutine function)."""
        ...


@dataclass(frozen=True)
class IntakeResult:
    """How one webhook request was handled; the HTTP answer's body."""

    accepted: int
    duplicates: int
    ignored: int

    def as_dict(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "ignored": self.ignored}


class WebhookIntake:
    """Records HaloPSA webhook deliveries durably and wakes the inbox worker."""

    def __init__(
        self,
        writer: InboxWriter,
        dedupe: RedisDedupe,
        *,
        sandbox_tickets: SandboxTickets | None = None,
        on_recorded: Callable[[], None] | None = None,
        refusing: Callable[[], bool] = lambda: False,
    ) -> None:
        """``refusing()``: True while the service drains for a graceful stop; deliveries are then refused
        (:class:`InboxUnavailable`, answered 503) so the proxy retries them on another replica."""
        self._writer = writer
        self._dedupe = dedupe
        self._sandbox = sandbox_tickets
        self._on_recorded = on_recorded
        self._refusing = refusing

    @property
    def seeds_sandbox(self) -> bool:
        """Deliveries carrying a full ticket seed the sandbox TicketSystem (sandbox mode only)."""
        return self._sandbox is not None

    def set_listener(self, on_recorded: Callable[[], None] | None) -> None:
        """Who to wake when new rows are committed (the inbox worker), when it is built after the intake."""
        self._on_recorded = on_recorded

    async def receive(self, event: str, body: Any, *, source: str = SOURCE) -> IntakeResult:
        """Record the deliveries of one webhook body posted to the ``event`` path.

        Returns once every new delivery is committed. Raises (→ 503, HaloPSA retries) if the inbox
        cannot be written.
        """
        if self._refusing():
            raise InboxUnavailable("the service is stopping; retry on another replica")
        parsed = parse_body(event, body, source=source)
        _received(source, event).inc(len(parsed.deliveries) + len(parsed.ignored))
        for reason in parsed.ignored:
            log.warning("webhook_delivery_ignored", source=source, webhook_event=event, reason=reason)
        if not parsed.deliveries:
            return IntakeResult(0, 0, len(parsed.ignored))

        if self._sandbox is not None:
            for delivery in parsed.deliveries:
                await self._seed_sandbox(delivery)

        to_write = parsed.deliveries
        write_keys: list[str] = []
        redis_duplicates = 0
        if self._dedupe.available:
            keys = [self._dedupe.key(*d.key) for d in parsed.deliveries]
            known = await self._dedupe.known_duplicates(keys)
            to_write = [d for d, duplicate in zip(parsed.deliveries, known, strict=True) if not duplicate]
            write_keys = [k for k, duplicate in zip(keys, known, strict=True) if not duplicate]
            redis_duplicates = len(keys) - len(to_write)

        new = await self._writer.record(to_write)
        accepted = sum(new)
        db_duplicates = len(new) - accepted
        self._dedupe.mark_recorded(write_keys)

        if redis_duplicates:
            _deduplicated(source, "redis").inc(redis_duplicates)
        if db_duplicates:
            _deduplicated(source, "database").inc(db_duplicates)
        if accepted and self._on_recorded is not None:
            self._on_recorded()
        return IntakeResult(accepted, redis_duplicates + db_duplicates, len(parsed.ignored))

    async def _seed_sandbox(self, delivery: Delivery) -> None:
        assert self._sandbox is not None
        ticket = sandbox_ticket(delivery)
        if ticket is None:
            return
        try:
            await self._sandbox.get_ticket(ticket.id)
            return  # known already: a webhook body never rewrites a ticket, even in the sandbox
        except NotFound:
            pass
        seeded = self._sandbox.seed(ticket)
        if inspect.isawaitable(seeded):
            await seeded
        log.info("sandbox_ticket_seeded", ticket_id=ticket.id)


@functools.cache
def _received(source: str, event: str) -> Any:
    return WEBHOOKS_RECEIVED.labels(source, event)  # a labelled child, looked up once (hot path)


@functools.cache
def _deduplicated(source: str, layer: str) -> Any:
    return WEBHOOKS_DEDUPLICATED.labels(source, layer)


def sandbox_ticket(delivery: Delivery) -> Ticket | None:
    """The full ticket object a sandbox delivery carries, or None."""
    obj = delivery.payload.get("ticket")
    if not isinstance(obj, dict) or obj.get("id") != delivery.ticket_id:
        return None
    fields = ("summary", "details", "user_email")
    if not all(isinstance(obj.get(name), str) for name in fields):
        return None
    return Ticket(
        id=delivery.ticket_id,
        summary=obj["summary"],
        details=obj["details"],
        user_email=obj["user_email"],
        user_name=str(obj.get("user_name") or ""),
        client_name=str(obj.get("client_name") or ""),
    )
