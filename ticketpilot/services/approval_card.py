"""The Teams Adaptive Card asking a manager to approve: pure data, built from trusted fields only.

Nothing from the ticket's text goes on the card (it is untrusted and could be written to mislead the
approver): only the requester as the directory knows them, the ticket number and what will happen.
Buttons are ``Action.OpenUrl`` links to our own signed pages (Workflows cards cannot call us back).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ticketpilot.adapters.base import DirectoryUser
from ticketpilot.services.approval_records import ApprovalLinks


def _mention(user: DirectoryUser) -> tuple[str, dict[str, Any]]:
    name = user.display_name or user.user_principal_name
    text = f"<at>{name}</at>"
    entity = {"type": "mention", "text": text, "mentioned": {"id": user.user_principal_name, "name": name}}
    return text, entity


def approval_card(
    *,
    approver: DirectoryUser,
    requester: DirectoryUser,
    ticket_id: int,
    purpose: str,
    expires_at: datetime,
    links: ApprovalLinks,
) -> dict[str, Any]:
    """The card ``content`` for :meth:`CardPoster.post_card`; the approver is @mentioned by UPN."""
    at_text, mention = _mention(approver)
    requester_name = requester.display_name or requester.user_principal_name
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "size": "Medium",
                "weight": "Bolder",
                "wrap": True,
                "text": f"Approval needed: {requester_name}",
            },
            {
                "type": "TextBlock",
                "wrap": True,
                "text": f"{at_text}, your team member asked the helpdesk for help (ticket #{ticket_id}). "
                f"If you approve, TicketPilot will {purpose}.",
            },
            {
                "type": "FactSet",
                "facts": [
                    {"title": "Requester", "value": requester_name},
                    {"title": "Account", "value": requester.user_principal_name},
                    {"title": "Ticket", "value": f"#{ticket_id}"},
                    {"title": "Link expires", "value": expires_at.strftime("%Y-%m-%d %H:%M UTC")},
                ],
            },
            {
                "type": "TextBlock",
                "wrap": True,
                "isSubtle": True,
                "text": "Not expecting this? Choose Deny: nothing changes and the helpdesk follows up.",
            },
        ],
        "actions": [
            {"type": "Action.OpenUrl", "title": "Approve", "url": links.approve_url},
            {"type": "Action.OpenUrl", "title": "Deny", "url": links.deny_url},
        ],
        "msteams": {"entities": [mention], "width": "Full"},
    }
