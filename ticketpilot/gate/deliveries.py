"""HaloPSA webhook bodies → deliveries (pure).

A body is one object or an array of them (Halo batches occurrences). Each object is one delivery:
- its **event** is the path it was posted to (``ticket_created`` / ``ticket_updated``), whatever its
  ``event`` text says;
- its **ticket id** is ``object_id``, else ``ticket.id``, else ``ticket_id`` — the only field trusted;
- its **delivery id** is Halo's ``id``, else ``escmsg_id``, else a SHA-256 of the canonical JSON.
An object without a ticket id is ignored (and logged by the caller): answering an error would only make
Halo retry it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

SOURCE = "halopsa"
TICKET_CREATED = "ticket_created"
TICKET_UPDATED = "ticket_updated"
EVENTS = frozenset({TICKET_CREATED, TICKET_UPDATED})

_MAX_ID_LENGTH = 200


@dataclass(frozen=True)
class Delivery:
    """One webhook occurrence, as recorded in ``webhook_inbox``."""

    source: str
    event: str
    delivery_id: str
    ticket_id: int
    payload: dict[str, Any] = field(compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.source, self.event, self.delivery_id)


@dataclass(frozen=True)
class ParsedBody:
    deliveries: list[Delivery]
    ignored: list[str]
    """Why each ignored object was ignored."""


def parse_body(event: str, body: Any, *, source: str = SOURCE) -> ParsedBody:
    """The deliveries in a webhook body posted to the ``event`` path."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    items = body if isinstance(body, list) else [body]
    deliveries: list[Delivery] = []
    ignored: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            ignored.append(f"item {index}: not a JSON object")
            continue
        ticket_id = ticket_id_of(item)
        if ticket_id is None:
            ignored.append(f"item {index}: no ticket id (object_id, ticket.id or ticket_id)")
            continue
        deliveries.append(Delivery(source, event, delivery_id_of(item), ticket_id, item))
    return ParsedBody(deliveries, ignored)


def ticket_id_of(item: dict[str, Any]) -> int | None:
    """``object_id``, else ``ticket.id``, else ``ticket_id``: a positive integer (or its digits)."""
    ticket = item.get("ticket")
    candidates = (
        item.get("object_id"),
        ticket.get("id") if isinstance(ticket, dict) else None,
        item.get("ticket_id"),
    )
    for value in candidates:
        number = _positive_int(value)
        if number is not None:
            return number
    return None


def delivery_id_of(item: dict[str, Any]) -> str:
    """Halo's ``id``, else ``escmsg_id``, else ``sha256:<hex>`` of the canonical JSON of the object."""
    for name in ("id", "escmsg_id"):
        value = item.get(name)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | str) and str(value).strip():
            text = str(value).strip()
            if len(text) <= _MAX_ID_LENGTH:
                return f"{name}:{text}" if name != "id" else text
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if 0 < number < 2**63 else None
