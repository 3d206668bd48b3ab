"""The OpenAPI 3.1 document of the service's HTTP API, built in Python.

Kept true by ``tests/test_openapi.py``: every ``/api/v1``, webhook and operations route of the app is
described here and every operation described here is routed; a schemathesis run checks that the
answers match their schemas. Every error answer has the shape ``{"error": string, "detail": any}``.
"""

from __future__ import annotations

from ticketpilot.http import openapi_schemas as sch
from ticketpilot.http.openapi_dashboard import dashboard_paths
from ticketpilot.http.openapi_parts import (
    EXECUTION_ID,
    IDEMPOTENCY_KEY,
    PLAYBOOK_ID,
    Json,
    errors,
    json_content,
    ok,
    op,
    path_param,
    query_param,
    request_body,
)


def _ops_paths() -> dict[str, Json]:
    none: list[Json] = []
    return {
        "/healthz": {"get": op("healthz", "Liveness", "operations", ok(sch.ref("Health")), security=none)},
        "/readyz": {
            "get": op(
                "readyz",
                "Readiness: database, migrations, playbooks",
                "operations",
                {
                    **ok(sch.ref("Ready")),
                    "503": {"description": "Not ready", "content": json_content(sch.ref("Ready"))},
                },
                security=none,
            )
        },
        "/metrics": {
            "get": op(
                "metrics",
                "Prometheus metrics",
                "operations",
                {
                    "200": {
                        "description": "Prometheus text format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
                security=none,
            )
        },
        "/api/v1/doctor": {
            "get": op(
                "doctor",
                "Preflight: every configured integration and permission, read-only",
                "operations",
                {**ok(sch.ref("DoctorReport")), **errors(401)},
                description=(
                    "The checks of `python main.py doctor`: PostgreSQL, migrations, Redis, playbooks and, in live "
                    "mode, HaloPSA, Graph (token and each application permission), the MFA connector, Twilio, Teams "
                    "and the LLM. Nothing is changed. 200 whenever the checks ran; `ok` is false when any failed."
                ),
            )
        },
        "/api/v1/openapi.json": {
            "get": op(
                "openapi",
                "This document",
                "operations",
                {"200": {"description": "OpenAPI 3.1", "content": json_content({"type": "object"})}},
                security=none,
            )
        },
    }


def _webhook_paths() -> dict[str, Json]:
    halo_errors = errors(400, 401, 413, 503)
    paths: dict[str, Json] = {}
    for event in ("ticket_created", "ticket_updated"):
        halo_body = request_body(sch.ref("HaloWebhook"))
        paths[f"/webhooks/halopsa/{event}"] = {
            "post": op(
                f"halopsa_{event}",
                f"HaloPSA {event.replace('_', ' ')} webhook (Basic auth)",
                "webhooks",
                {**ok(sch.ref("IntakeResult")), **halo_errors},
                security=[{"haloBasic": []}],
                body=halo_body,
                description="Only the ticket id is trusted: the ticket is re-read from the HaloPSA API.",
            )
        }
        paths[f"/webhooks/halopsa/{{secret}}/{event}"] = {
            "post": op(
                f"halopsa_{event}_path_secret",
                f"HaloPSA {event.replace('_', ' ')} webhook (secret path segment)",
                "webhooks",
                {**ok(sch.ref("IntakeResult")), **halo_errors},
                security=[],
                parameters=[path_param("secret", {"type": "string"}, "halopsa.webhook_path_secret")],
                body=halo_body,
            )
        }
    twiml = {"200": {"description": "Empty TwiML", "content": {"text/xml": {"schema": {"type": "string"}}}}}
    for name, form, summary in (
        ("sms_response", "TwilioSmsForm", "An approver's SMS reply (YES/NO + code)"),
        ("status", "TwilioStatusForm", "SMS delivery status callback"),
    ):
        paths[f"/webhooks/twilio/{name}"] = {
            "post": op(
                f"twilio_{name}",
                summary,
                "webhooks",
                {**twiml, **errors(403, 413, 503)},
                security=[{"twilioSignature": []}],
                body=request_body(sch.ref(form), media="application/x-www-form-urlencoded"),
            )
        }
    action_body = {
        "type": "object",
        "required": ["request_id", "token", "decision"],
        "properties": {
            "request_id": {"type": "string", "format": "uuid"},
            "token": {"type": "string"},
            "decision": {"type": "string", "enum": ["approve", "deny"]},
        },
    }
    action_answer = {
        "type": "object",
        "required": ["decision", "delivered"],
        "properties": {
            "decision": {"type": "string", "enum": ["approve", "deny"]},
            "delivered": {"type": "boolean"},
        },
    }
    paths["/webhooks/teams/approval_action"] = {
        "post": op(
            "teams_approval_action",
            "A manager's answer forwarded by a Teams-side flow (signed single-use token)",
            "webhooks",
            {**ok(action_answer), **errors(400, 403, 410, 413, 503)},
            security=[],
            body=request_body(action_body),
            description="The token from the card's approve/deny link authenticates the call; "
            "forged, expired or replayed tokens get 403 and change nothing; a token of an execution "
            "that has ended (resolved, escalated, failed or cancelled) gets 410 and records nothing.",
        )
    }
    return paths


def _gate_paths() -> dict[str, Json]:
    return {
        "/api/v1/classify_ticket": {
            "post": op(
                "classify_ticket",
                "The decision the gate would take (no side effect)",
                "gate",
                {**ok(sch.ref("Decision")), **errors(400, 401, 413, 422, 503)},
                body=request_body(sch.ref("ClassifyRequest")),
            )
        },
        "/api/v1/sandbox/tickets": {
            "post": op(
                "create_sandbox_ticket",
                "Create a sandbox ticket and deliver its webhook (sandbox mode only)",
                "sandbox",
                {**ok(sch.ref("SandboxTicketCreated"), 201), **errors(400, 401, 404, 413, 422, 503)},
                body=request_body(sch.ref("SandboxTicketRequest")),
            )
        },
        "/api/v1/sandbox/ledger": {
            "get": op(
                "sandbox_ledger",
                "What the sandbox adapters did (sandbox mode only)",
                "sandbox",
                {**ok(sch.ref("SandboxLedger")), **errors(400, 401, 404)},
                parameters=[
                    query_param("kind", {"type": "string"}, "e.g. sms, mfa_push, tap_issued"),
                    query_param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                ],
            )
        },
    }


def _playbook_paths() -> dict[str, Json]:
    detail = {**ok(sch.ref("PlaybookDetail")), **errors(401, 404)}
    return {
        "/api/v1/playbooks": {
            "get": op(
                "list_playbooks",
                "Every playbook: versions, active version, switches, errors",
                "playbooks",
                {**ok(sch.ref("PlaybookList")), **errors(401)},
            ),
            "post": op(
                "add_playbook",
                "Store a new playbook version from YAML (not activated)",
                "playbooks",
                {**ok(sch.ref("StoredPlaybook"), 201), **errors(400, 401, 409, 413, 415, 422)},
                body=request_body(
                    {"type": "string", "description": "Playbook YAML"}, media="application/yaml"
                ),
            ),
        },
        "/api/v1/playbooks/reload": {
            "post": op(
                "reload_playbooks",
                "Rescan the playbooks folder now",
                "playbooks",
                {**ok(sch.ref("ReloadResult")), **errors(401)},
            )
        },
        "/api/v1/playbooks/{playbook_id}": {
            "get": op(
                "get_playbook",
                "One playbook with the YAML and definition of a version (default: the active one)",
                "playbooks",
                {**detail, **errors(422)},
                parameters=[
                    PLAYBOOK_ID,
                    query_param("version", {"type": "string"}, "Version string or content hash"),
                ],
            )
        },
        "/api/v1/playbooks/{playbook_id}/activate": {
            "put": op(
                "activate_playbook",
                "Make a stored version active",
                "playbooks",
                {**ok(sch.ref("LoadedPlaybook")), **errors(400, 401, 404, 422)},
                parameters=[PLAYBOOK_ID],
                body=request_body(sch.ref("ActivateRequest")),
            )
        },
        "/api/v1/playbooks/{playbook_id}/enable": {
            "post": op(
                "enable_playbook", "Enable (operator switch)", "playbooks", detail, parameters=[PLAYBOOK_ID]
            )
        },
        "/api/v1/playbooks/{playbook_id}/disable": {
            "post": op(
                "disable_playbook", "Disable (operator switch)", "playbooks", detail, parameters=[PLAYBOOK_ID]
            )
        },
        "/api/v1/playbooks/{playbook_id}/kill_switch": {
            "post": op(
                "playbook_kill_switch",
                "Set the playbook's kill switch",
                "playbooks",
                {**detail, **errors(400)},
                parameters=[PLAYBOOK_ID],
                body=request_body(sch.ref("OnRequest")),
            )
        },
    }


_POLICY_REFUSAL: Json = {
    "409": {
        "description": "Refused by the run-time policy: `error` is `kill_switch`, `shadow_mode`, `cooldown` "
        "or `rate_limited` (the last two can be overridden with `override`) and `detail` is a "
        "PolicyRefusalDetail; or another conflict (`playbook_disabled`, `requester_unresolved`)",
        "content": json_content(sch.ref("Error")),
    }
}
_POLICY_NOTE = (
    "The run-time policy applies as at the gate: the global and per-playbook kill switches and shadow mode "
    "always refuse (409); the requester's cooldown and the global rate limit refuse (409) unless the body "
    'carries `"override": {"reason": "..."}`, which is recorded with the execution, on the ticket and in the log.'
)


def _orchestration_paths() -> dict[str, Json]:
    service_responses = {
        **ok(sch.ref("ServiceResult"), 200, "The run finished (see state and outcome)"),
        **ok(sch.ref("ServiceResult"), 202, "Still running after wait_seconds"),
        **errors(400, 401, 404, 409, 502),
    }
    credential_responses = {**service_responses, **_POLICY_REFUSAL}
    paths: dict[str, Json] = {
        "/api/v1/orchestration/execute_playbook": {
            "post": op(
                "execute_playbook",
                "Start a playbook for a ticket's requester",
                "orchestration",
                {
                    **ok(sch.ref("ExecutionStarted"), 202),
                    **errors(400, 401, 404, 409, 502),
                    **_POLICY_REFUSAL,
                },
                body=request_body(sch.ref("ExecuteRequest")),
                description=_POLICY_NOTE + " A shadow-mode playbook is never started.",
            )
        },
        "/api/v1/orchestration/execution/{ticket_id}": {
            "get": op(
                "execution_for_ticket",
                "The ticket's most recent execution and its steps",
                "orchestration",
                {**ok(sch.ref("Execution")), **errors(400, 401, 404)},
                parameters=[path_param("ticket_id", {"type": "integer"})],
            )
        },
        "/api/v1/executions/{execution_id}/cancel": {
            "post": op(
                "cancel_execution",
                "Cancel a live execution at its next safe point",
                "orchestration",
                {**ok(sch.ref("CancelAccepted"), 202), **errors(400, 401, 404)},
                parameters=[EXECUTION_ID],
                body=request_body(sch.ref("CancelRequest"), required=False),
            )
        },
        "/api/v1/executions/{execution_id}/retry": {
            "post": op(
                "retry_execution",
                "Re-run the failed step of an ESCALATED or FAILED execution",
                "orchestration",
                {**ok(sch.ref("RetryAccepted"), 202), **errors(400, 401, 404, 409)},
                parameters=[EXECUTION_ID],
            )
        },
    }
    for route, service in (
        ("/api/v1/verification/mfa", "verification.mfa"),
        ("/api/v1/verification/manager_approval", "verification.manager"),
        ("/api/v1/executor/reset_password", "executor.reset_password"),
        ("/api/v1/delivery/sms", "delivery.sms"),
    ):
        issues_credential = service in ("executor.reset_password", "delivery.sms")
        description = "A credential is never returned: only whether it reached the phone on record."
        paths[route] = {
            "post": op(
                service.replace(".", "_"),
                f"Run {service} once for a ticket's requester",
                "services",
                credential_responses if issues_credential else service_responses,
                parameters=[IDEMPOTENCY_KEY],
                body=request_body(sch.ref("ServiceRequest")),
                description=f"{description} {_POLICY_NOTE}" if issues_credential else description,
            )
        }
    return paths


def build_document(public_url: str = "http://127.0.0.1:8080", version: str = "0.1.0") -> Json:
    """The whole OpenAPI 3.1 document; ``public_url`` becomes its server."""
    paths: dict[str, Json] = {}
    for part in (
        _ops_paths,
        _webhook_paths,
        _gate_paths,
        _playbook_paths,
        _orchestration_paths,
        dashboard_paths,
    ):
        paths.update(part())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "TicketPilot",
            "version": version,
            "description": (
                "Classifier-first ticket automation for MSP helpdesks on HaloPSA. Admin endpoints take "
                "`Authorization: Bearer <http.admin_token>` (or a dashboard session cookie; then changes "
                'need the X-TP-CSRF header). Errors are `{"error": code, "detail": ...}`.'
            ),
        },
        "servers": [{"url": public_url}],
        "tags": [
            {"name": t} for t in sorted({op["tags"][0] for item in paths.values() for op in item.values()})
        ],
        "paths": paths,
        "components": {"schemas": sch.SCHEMAS, "securitySchemes": sch.SECURITY_SCHEMES},
    }
