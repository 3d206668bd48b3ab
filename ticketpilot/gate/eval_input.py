"""Ticket files for ``classify --eval``: JSON Lines or CSV, labelled or not (an MSP's own ticket history).

A row becomes a dict with ``id``, ``subject``, ``body``, ``requester_email``, ``tags`` (a list), and — when
present — ``language``, ``sub_category`` and ``expected_automate``. CSV headers are matched without regard
to case, spaces or underscores, and the usual export names are understood (``summary``/``title`` for the subject,
``details``/``description`` for the body, ``email``/``user_email`` for the requester, ``ticket_id`` for the
id). CSV tags are separated by ``;``, ``|`` or ``,``; ``expected_automate`` reads true/false, yes/no, 1/0.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from ticketpilot.gate.evaluation import JsonlError, read_jsonl

ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "ticket_id", "ticketid", "faultid", "ticket", "number"),
    "subject": ("subject", "summary", "title"),
    "body": ("body", "details", "description", "text", "message"),
    "requester_email": ("requester_email", "email", "user_email", "emailaddress", "requester"),
    "tags": ("tags", "labels"),
    "language": ("language", "lang"),
    "sub_category": ("sub_category", "subcategory"),
    "expected_automate": ("expected_automate", "automate"),
}
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0", ""})
_TAG_SPLIT = re.compile(r"[;|,]")


class TicketFileError(JsonlError):
    """A ticket file that cannot be read as tickets; the message names the file and the line."""


def read_tickets(path: str | Path) -> list[dict[str, Any]]:
    """The tickets of a ``.csv`` file (by its extension), else of a JSON Lines file, normalised."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    return [_normalise(row, index) for index, row in enumerate(read_jsonl(path))]


def _read_csv(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise TicketFileError(path, 1, "no header row")
        columns = {_header(name): name for name in reader.fieldnames if name}
        mapping = {
            field: next((columns[_header(a)] for a in aliases if _header(a) in columns), None)
            for field, aliases in ALIASES.items()
        }
        if mapping["subject"] is None and mapping["body"] is None:
            raise TicketFileError(path, 1, "no subject/summary or body/details column")
        rows: list[dict[str, Any]] = []
        for line, record in enumerate(reader, start=2):
            row: dict[str, Any] = {
                field: record.get(column) or "" for field, column in mapping.items() if column is not None
            }
            if "expected_automate" in row:
                value = str(row["expected_automate"]).strip().lower()
                if value not in _TRUE | _FALSE:
                    raise TicketFileError(path, line, f"expected_automate {value!r} is not true/false")
                row["expected_automate"] = value in _TRUE
            row["tags"] = [t.strip() for t in _TAG_SPLIT.split(str(row.get("tags", ""))) if t.strip()]
            rows.append(_normalise(row, line - 2))
    return rows


def _header(name: str) -> str:
    """``Ticket ID`` / ``ticket_id`` / ``Ticket-Id`` → ``ticketid``."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def _normalise(row: dict[str, Any], index: int) -> dict[str, Any]:
    """Fill ``id``, ``subject``, ``body``, ``requester_email`` and ``tags``; keep the labels as given."""
    tags = row.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in _TAG_SPLIT.split(tags) if t.strip()]
    return {
        **row,
        "id": str(row.get("id") if row.get("id") not in (None, "") else index + 1),
        "subject": str(row.get("subject") or ""),
        "body": str(row.get("body") or ""),
        "requester_email": str(row.get("requester_email") or ""),
        "tags": [str(t) for t in tags],
    }
