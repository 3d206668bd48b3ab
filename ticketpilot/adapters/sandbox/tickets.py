"""The sandbox twin of HaloPSA: seeded tickets, their custom fields and notes; every write recorded in the ledger.

In memory, or, with a :class:`~.store.SandboxStore` (the running service), in PostgreSQL: then a ticket
logged before a restart is still there after it, and every process on the database reads the same tickets.

Writes are checked for sandbox-issued credentials: one found is refused (and recorded as
``secret_refused``), so a leak towards HaloPSA fails loudly in the embedded default and in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from ticketpilot.adapters.base import AdapterError, NotFound, Ticket
from ticketpilot.adapters.sandbox.credentials import IssuedCredentials
from ticketpilot.adapters.sandbox.ledger import SandboxLedger
from ticketpilot.adapters.sandbox.store import SandboxStore

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
        store: SandboxStore | None = None,
    ) -> None:
        self._store = store
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

    def seed(self, ticket: Ticket) -> Awaitable[None] | None:
        """Add (or replace) a ticket, as if a user had logged it now. With a store it returns the write, to
        be awaited."""
        if self._store is not None:
            return self._store.put_ticket(ticket, self._clock())
        with self._lock:
            self._tickets[ticket.id] = (ticket, self._clock())
        return None

    def notes(self, ticket_id: int) -> list[str]:
        """The notes written in this process's memory (without a store); see :meth:`read_notes`."""
        with self._lock:
            return list(self._notes.get(ticket_id, []))

    def custom_fields(self, ticket_id: int) -> dict[str, str]:
        """The fields written in this process's memory (without a store); see :meth:`read_custom_fields`."""
        with self._lock:
            return dict(self._fields.get(ticket_id, {}))

    async def read_notes(self, ticket_id: int) -> list[str]:
        return await self._store.notes(ticket_id) if self._store is not None else self.notes(ticket_id)

    async def read_custom_fields(self, ticket_id: int) -> dict[str, str]:
        if self._store is not None:
            return await self._store.custom_fields(ticket_id)
        return self.custom_fields(ticket_id)

    async def get_ticket(self, ticket_id: int) -> Ticket:
        if self._store is not None:
            stored = await self._store.get_ticket(ticket_id)
        else:
            with self._lock:
                found = self._tickets.get(ticket_id)
            stored = None if found is None else found[0]
        if stored is None:
            raise NotFound(ADAPTER, f"ticket {ticket_id} does not exist")
        return stored

    async def update_ticket(
        self,
        ticket_id: int,
        *,
        custom_fields: dict[str, str] | None = None,
        status_id: int | None = None,
        team: str | None = None,
        agent_id: int | None = None,
        priority_id: int | None = None,
    ) -> None:
        fields = dict(custom_fields or {})
        await self._refuse_secrets(ticket_id, " ".join(f"{k} {v}" for k, v in fields.items()))
        ticket = await self.get_ticket(ticket_id)
        closed = status_id is not None and status_id in self._closed
        if self._store is not None:
            await self._store.update_ticket(ticket_id, fields, status_id, closed)
        else:
            with self._lock:
                self._fields.setdefault(ticket_id, {}).update(fields)
                if status_id is not None:
                    updated = ticket.model_copy(update={"status_id": status_id, "closed": closed})
                    self._tickets[ticket_id] = (updated, self._tickets[ticket_id][1])
        assignment = {
            k: v for k, v in (("team", team), ("agent_id", agent_id), ("priority_id", priority_id)) if v
        }
        await self._ledger.add(
            "ticket_update", ticket_id=ticket_id, custom_fields=fields, status_id=status_id, **assignment
        )

    async def add_note(self, ticket_id: int, note: str, *, private: bool = True) -> None:
        await self._refuse_secrets(ticket_id, note)
        await self.get_ticket(ticket_id)
        if self._store is not None:
            await self._store.add_note(ticket_id, note, private)
        else:
            with self._lock:
                self._notes.setdefault(ticket_id, []).append(note)
        await self._ledger.add("ticket_note", ticket_id=ticket_id, note=note, private=private)

    async def list_tickets_since(self, days: int) -> list[Ticket]:
        since = self._clock() - timedelta(days=days)
        if self._store is not None:
            return await self._store.tickets_since(since)
        with self._lock:
            found = [t for t, seen in self._tickets.values() if seen >= since]
        return sorted(found, key=lambda t: t.id)

    async def _refuse_secrets(self, ticket_id: int, text: str) -> None:
        if await self._issued.acontains(text):
            await self._ledger.add("secret_refused", ticket_id=ticket_id)
            raise AdapterError(ADAPTER, "refused a ticket write that contains a credential", retryable=False)
