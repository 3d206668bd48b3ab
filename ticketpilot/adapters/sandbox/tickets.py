"""The sandbox twin of HaloPSA: seeded tickets in memory; every write recorded in the ledger.

Writes are checked for sandbox-issued credentials: one found is refused (and recorded as
``secret_refused``), so a leak towards HaloPSA fails loudly in the embedded default and in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ticketpilot.adapters.base import AdapterError, NotFound, Ticket
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.ledger import SandboxLedger

ADAPTER = "sandbox-halopsa"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SandboxTickets:
    def __init__(
        self,
        ledger: SandboxLedger,
        issued: IssuedCredentials,
        *,
        closed_status_ids: tuple[int, ...] = (9,),
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._ledger = ledger
        self._issued = issued
        self._closed = closed_status_ids
        self._clock = clock
        self._tickets: dict[int, tuple[Ticket, datetime]] = {}
        self._notes: dict[int, list[str]] = {}
        self._fields: dict[int, dict[str, str]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SandboxTickets(tickets={len(self._tickets)})"

    def seed(self, ticket: Ticket) -> None:
        """Add (or replace) a ticket, as if a user had logged it now."""
        with self._lock:
            self._tickets[ticket.id] = (ticket, self._clock())

    def notes(self, ticket_id: int) -> list[str]:
        with self._lock:
            return list(self._notes.get(ticket_id, []))

    def custom_fields(self, ticket_id: int) -> dict[str, str]:
        with self._lock:
            return dict(self._fields.get(ticket_id, {}))

    async def get_ticket(self, ticket_id: int) -> Ticket:
        with self._lock:
            found = self._tickets.get(ticket_id)
        if found is None:
            raise NotFound(ADAPTER, f"ticket {ticket_id} does not exist")
        return found[0]

    async def update_ticket(
        self, ticket_id: int, *, custom_fields: dict[str, str] | None = None, status_id: int | None = None
    ) -> None:
        fields = dict(custom_fields or {})
        self._refuse_secrets(ticket_id, " ".join(f"{k} {v}" for k, v in fields.items()))
        ticket = await self.get_ticket(ticket_id)
        with self._lock:
            self._fields.setdefault(ticket_id, {}).update(fields)
            if status_id is not None:
                updated = ticket.model_copy(
                    update={"status_id": status_id, "closed": status_id in self._closed}
                )
                self._tickets[ticket_id] = (updated, self._tickets[ticket_id][1])
        self._ledger.record("ticket_update", ticket_id=ticket_id, custom_fields=fields, status_id=status_id)

    async def add_note(self, ticket_id: int, note: str, *, private: bool = True) -> None:
        self._refuse_secrets(ticket_id, note)
        await self.get_ticket(ticket_id)
        with self._lock:
            self._notes.setdefault(ticket_id, []).append(note)
        self._ledger.record("ticket_note", ticket_id=ticket_id, note=note, private=private)

    async def list_tickets_since(self, days: int) -> list[Ticket]:
        since = self._clock() - timedelta(days=days)
        with self._lock:
            found = [t for t, seen in self._tickets.values() if seen >= since]
        return sorted(found, key=lambda t: t.id)

    def _refuse_secrets(self, ticket_id: int, text: str) -> None:
        if self._issued.contains(text):
            self._ledger.record("secret_refused", ticket_id=ticket_id)
            raise AdapterError(ADAPTER, "refused a ticket write that contains a credential", retryable=False)
