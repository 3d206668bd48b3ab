"""Manager approval over the web and by SMS: the confirm page, its POST, and the Twilio webhooks.

A GET on an approve/deny link only shows what is being approved, with a button that POSTs: link
scanners and previewers issue GETs, so a GET never decides. Every decision goes through the approval
desk (signature, expiry, single use). Twilio webhooks are checked against ``X-Twilio-Signature``
computed over ``http.public_url`` + the path, as Twilio saw it (we may sit behind a reverse proxy).
Handlers find the desk at ``request.app[SERVICES].extras["approvals"]``.
"""

from __future__ import annotations

from html import escape
from uuid import UUID

import structlog
from aiohttp import web
from multidict import MultiDict

from ticketpilot.http.context import SERVICES
from ticketpilot.http.errors import ApiError, read_json
from ticketpilot.services.approval_records import ApprovalRejected, ApprovalRequest, DecisionOutcome
from ticketpilot.services.approvals import ApprovalDesk
from ticketpilot.services.sms_reports import SmsReports

log = structlog.get_logger(__name__)

routes = web.RouteTableDef()

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "dt{font-weight:600}dd{margin:0 0 .6rem}button{font-size:1rem;padding:.6rem 1.4rem;cursor:pointer}"
    ".approve{background:#1a7f37;color:#fff;border:0}.deny{background:#b42318;color:#fff;border:0}"
    ".muted{color:#666;font-size:.9rem}"
)
_REJECTED = {
    "invalid": ("Link not valid", "This approval link is not valid. Use the buttons in the Teams card."),
    "expired": ("Link expired", "This approval link has expired. The helpdesk will follow up on the ticket."),
    "answered": ("Already answered", "This request has already been answered. Nothing was changed."),
    "closed": (
        "No longer needed",
        "This request no longer needs your answer: the ticket has been resolved, handed to the helpdesk or "
        "cancelled. Nothing was recorded, and you don't need to do anything.",
    ),
}
_REJECTED_STATUS = {"closed": 410}
SMS_NO_LONGER_NEEDED = (
    "TicketPilot: this approval request is no longer needed (the ticket was resolved, handed to the "
    "helpdesk or cancelled). Your answer was not recorded."
)


def desk_of(request: web.Request) -> ApprovalDesk:
    desk = request.app[SERVICES].extras.get("approvals")
    if not isinstance(desk, ApprovalDesk):
        raise ApiError(503, "approvals_unavailable", "the approval desk is not configured")
    return desk


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)} · TicketPilot</title>'
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=html, status=status, content_type="text/html", headers=_HEADERS)


def _rejected_page(exc: ApprovalRejected) -> web.Response:
    title, text = _REJECTED[exc.reason]
    return _page(title, f"<p>{escape(text)}</p>", status=_REJECTED_STATUS.get(exc.reason, 403))


def _request_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["request_id"])
    except ValueError:
        raise ApprovalRejected("invalid") from None


def _confirm_page(approval: ApprovalRequest, token: str, decision: str) -> web.Response:
    approve = decision == "approve"
    what = (
        f"If you approve, TicketPilot will {escape(approval.purpose)}."
        if approve
        else "If you deny, nothing changes on the account and the helpdesk will follow up on the ticket."
    )
    ticket = f"#{approval.ticket_id}" if approval.ticket_id is not None else "(unknown)"
    body = (
        f"<p>{escape(approval.requester_name)} asked the helpdesk for help. {what}</p>"
        f"<dl><dt>Requester</dt><dd>{escape(approval.requester_name)} ({escape(approval.requester_upn)})</dd>"
        f"<dt>Ticket</dt><dd>{escape(ticket)}</dd>"
        f"<dt>Your answer</dt><dd>{'Approve' if approve else 'Deny'}</dd>"
        f"<dt>Answer by</dt><dd>{approval.expires_at:%Y-%m-%d %H:%M} UTC</dd></dl>"
        f'<form method="post" action="{escape(str(approval.id))}">'
        f'<input type="hidden" name="t" value="{escape(token)}">'
        f'<input type="hidden" name="d" value="{escape(decision)}">'
        f'<button type="submit" class="{"approve" if approve else "deny"}">'
        f"{'Confirm approval' if approve else 'Confirm denial'}</button></form>"
        f'<p class="muted">Sent to {escape(approval.approver_email)}. Changed your mind? Close this page and '
        f"use the other button in the Teams card. Nothing has been decided yet.</p>"
    )
    title = f"{'Approve' if approve else 'Deny'} the request of {approval.requester_name}?"
    return _page(title, body)


def _result_page(outcome: DecisionOutcome) -> web.Response:
    if not outcome.delivered:
        return _page(
            "Answer recorded",
            "<p>Your answer was recorded, but this request no longer waits for it (it may have timed out or "
            "been cancelled). The helpdesk will follow up.</p>",
        )
    if outcome.decision == "approve":
        return _page("Approved", "<p>Thank you. TicketPilot will now continue with the request.</p>")
    return _page(
        "Denied", "<p>Thank you. Nothing will change; the helpdesk will follow up on the ticket.</p>"
    )


@routes.get("/approvals/{request_id}")
async def approval_page(request: web.Request) -> web.Response:
    """Shows what is being approved, with a confirm button. Changes nothing."""
    desk = desk_of(request)
    token = request.query.get("t", "")
    decision = request.query.get("d", "")
    try:
        approval = await desk.check_link(_request_id(request), token, decision)
    except ApprovalRejected as exc:
        return _rejected_page(exc)
    return _confirm_page(approval, token, decision)


@routes.post("/approvals/{request_id}")
async def approval_confirm(request: web.Request) -> web.Response:
    """The approver confirmed: verify the token, decide once, hand the answer to the engine."""
    desk = desk_of(request)
    form = await _posted_form(request)
    token = form.get("t")
    decision = form.get("d")
    try:
        request_id = _request_id(request)
        if not isinstance(token, str) or not isinstance(decision, str):
            raise ApprovalRejected("invalid", request_id)
        outcome = await desk.decide_by_link(request_id, token, decision)
    except ApprovalRejected as exc:
        log.info("approval_link_rejected", reason=exc.reason, request_id=str(exc.request_id))
        return _rejected_page(exc)
    except Exception:
        log.exception("approval_signal_failed")
        return _page(
            "Please try again", "<p>Your answer could not be recorded just now. Please try again.</p>", 503
        )
    return _result_page(outcome)


async def _twilio_form(request: web.Request, desk: ApprovalDesk) -> MultiDict[str]:
    """The POST params of a Twilio webhook whose signature is valid; else a 403 (nothing changes)."""
    params = await _posted_form(request)
    url = f"{desk.public_url}{request.path_qs}"
    signature = request.headers.get("X-Twilio-Signature", "")
    settings_header = request.headers.get("X-Twilio-Webhooks-Signature-Settings", "")
    if not desk.twilio_signature_valid(url, params, signature, settings_header):
        log.warning("twilio_signature_invalid", path=request.path)
        raise ApiError(403, "invalid_signature", "X-Twilio-Signature does not match this request")
    return params


async def _posted_form(request: web.Request) -> MultiDict[str]:
    """The urlencoded/multipart form fields as strings; a malformed body is the client's error (400)."""
    try:
        posted = await request.post()
    except ValueError as exc:
        raise ApiError(400, "invalid_form", f"request body is not a valid form: {exc}") from None
    return MultiDict((k, v) for k, v in posted.items() if isinstance(v, str))


def _twiml(message: str | None = None) -> web.Response:
    if message is None:
        return web.Response(text=TWIML_EMPTY, content_type="text/xml")
    reply = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(message)}</Message></Response>'
    return web.Response(text=reply, content_type="text/xml")


@routes.post("/webhooks/twilio/sms_response")
async def twilio_sms_response(request: web.Request) -> web.Response:
    """An SMS reply ``YES <code>`` / ``NO <code>`` from an approver's phone on record. A right code for an
    execution that has ended records nothing and is answered with a "no longer needed" message."""
    desk = desk_of(request)
    params = await _twilio_form(request, desk)
    sender = params.get("From", "")
    try:
        outcome = await desk.decide_by_sms(sender, params.get("Body", ""))
    except ApprovalRejected:
        return _twiml(SMS_NO_LONGER_NEEDED)
    if outcome is not None:
        log.info("approval_sms_reply", decision=outcome.decision, request_id=str(outcome.request.id))
    return _twiml()


@routes.post("/webhooks/twilio/status")
async def twilio_status(request: web.Request) -> web.Response:
    """Delivery status callbacks. The signed URL names the step attempt that sent the message
    (``?e=&s=&a=``); a final status is handed to it (``SmsReports``), so ``failed``/``undelivered`` retries
    the delivery. Any validly signed callback is answered 200, even one nobody waits for any more."""
    desk = desk_of(request)
    params = await _twilio_form(request, desk)
    reports = request.app[SERVICES].extras.get("sms_reports")
    if not isinstance(reports, SmsReports):
        log.warning(
            "sms_reports_unavailable",
            sid=params.get("MessageSid", ""),
            status=params.get("MessageStatus", ""),
        )
        return _twiml()
    try:
        await reports.receive(request.query, params)
    except Exception:
        # The report is lost (Twilio does not retry status callbacks): the step stops waiting on its own.
        log.exception("sms_report_signal_failed", sid=params.get("MessageSid", ""))
    return _twiml()


@routes.post("/webhooks/teams/approval_action")
async def teams_approval_action(request: web.Request) -> web.Response:
    """An approval forwarded by a Teams-side flow (e.g. Power Automate "post card and wait for a response").

    Body: ``{"request_id": ..., "token": ..., "decision": "approve"|"deny"}`` — the same single-use, signed,
    expiring token as the card's links, so the flow needs no credential of its own and a forged or replayed
    call changes nothing (403).
    """
    desk = desk_of(request)
    payload = await read_json(request)
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_request", "expected a JSON object {request_id, token, decision}")
    token, decision = payload.get("token"), payload.get("decision")
    try:
        request_id = UUID(str(payload.get("request_id", "")))
    except ValueError:
        raise ApiError(403, "approval_rejected", "invalid") from None
    if not isinstance(token, str) or decision not in ("approve", "deny"):
        raise ApiError(403, "approval_rejected", "invalid")
    try:
        outcome = await desk.decide_by_link(request_id, token, decision)
    except ApprovalRejected as exc:
        log.info("approval_action_rejected", reason=exc.reason, request_id=str(request_id))
        raise ApiError(_REJECTED_STATUS.get(exc.reason, 403), "approval_rejected", exc.reason) from None
    return web.json_response({"decision": outcome.decision, "delivered": outcome.delivered})
