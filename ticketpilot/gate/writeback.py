"""What HaloPSA is told about a decision: three custom fields and a private note (pure)."""

from __future__ import annotations

from ticketpilot.gate.outbox import FIELDS, NOTE, OutboxMessage
from ticketpilot.gate.record import DecisionRecord

AUTOMATION_STATUS = "automation_status"
PLAYBOOK_ID = "playbook_id"
AUTOMATION_CONFIDENCE = "automation_confidence"

_HEADLINES = {
    "automated": "AUTOMATED: playbook {playbook} is handling this ticket.",
    "shadow": "SHADOW: playbook {playbook} would have handled this ticket; it is in shadow mode, so nothing "
    "was done. Please handle the ticket as usual.",
    "manual": "MANUAL: left for an engineer.",
}


def decision_fields(record: DecisionRecord) -> dict[str, str]:
    """The custom fields ``automation_status``, ``playbook_id``, ``automation_confidence``."""
    confidence = record.classification.confidence if record.classification else None
    return {
        AUTOMATION_STATUS: record.outcome.value,
        PLAYBOOK_ID: record.playbook_id or "",
        AUTOMATION_CONFIDENCE: "" if confidence is None else f"{confidence:.2f}",
    }


def decision_note(record: DecisionRecord, *, playbook_mode: str | None = None) -> str:
    """The private note: outcome, playbook, classification, reasoning and every blocker."""
    playbook = f"{record.playbook_id} v{record.playbook_version}" if record.playbook_id else "none"
    lines = ["TicketPilot decision — " + _HEADLINES[record.outcome.value].format(playbook=playbook)]
    if record.outcome.value == "manual" and record.playbook_id:
        mode = " (shadow mode)" if playbook_mode == "shadow" else ""
        lines.append(f"Matching playbook: {playbook}{mode}")
    c = record.classification
    if c is not None:
        flags = ", ".join(f.value for f in c.risk_flags) or "none"
        lines += [
            f"Classification: {c.category} / {c.sub_category}, confidence {c.confidence:.2f}"
            f" ({record.classifier} {record.classifier_version})",
            f"Own account: {'yes' if c.own_account else 'no'}; risk flags: {flags}",
            f"Reasoning: {c.reasoning}" if c.reasoning else "Reasoning: (none given)",
        ]
    else:
        lines.append(f"Classification: unavailable ({record.classifier} {record.classifier_version})")
    if record.blockers:
        lines.append("Blockers:")
        lines += [
            f"- {b.name.value}: {b.detail}" if b.detail else f"- {b.name.value}" for b in record.blockers
        ]
    else:
        lines.append("Blockers: none")
    return "\n".join(lines)


def decision_messages(record: DecisionRecord, *, playbook_mode: str | None = None) -> list[OutboxMessage]:
    """The outbox rows for a stored decision (keyed by decision id, so they are queued once)."""
    if record.ticket_id is None or record.decision_id is None:
        raise ValueError("only a stored decision about a ticket is written back")
    key = f"decision:{record.decision_id}"
    fields: dict[str, object] = {"custom_fields": decision_fields(record)}
    if record.outcome.value == "manual":
        fields["route"] = "manual"  # the outbox applies halopsa.manual_* (team, agent, status, priority)
    return [
        OutboxMessage(FIELDS, record.ticket_id, fields, f"{key}:fields"),
        OutboxMessage(
            NOTE,
            record.ticket_id,
            {"note": decision_note(record, playbook_mode=playbook_mode), "private": True},
            f"{key}:note",
        ),
    ]
