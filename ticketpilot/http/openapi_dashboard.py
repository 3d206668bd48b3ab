"""The dashboard's JSON endpoints in the OpenAPI document (``/api/v1/dashboard/...``)."""

from __future__ import annotations

from ticketpilot.http import openapi_schemas as sch
from ticketpilot.http.openapi_parts import (
    EXECUTION_ID,
    PAGE,
    PERIOD,
    PLAYBOOK_FILTER,
    PLAYBOOK_ID,
    TICKET_FILTER,
    Json,
    errors,
    ok,
    op,
    query_param,
    request_body,
)


def dashboard_paths() -> dict[str, Json]:
    change = errors(400, 401, 403, 404, 422)
    return {
        "/api/v1/dashboard/session": {
            "get": op(
                "dashboard_session",
                "Who is calling, and the session's CSRF token (send it as X-TP-CSRF on changes)",
                "dashboard",
                {**ok(sch.ref("DashboardSession")), **errors(401)},
            )
        },
        "/api/v1/dashboard/overview": {
            "get": op(
                "dashboard_overview",
                "Tickets, automation rate, outcomes, median time to resolution, hours saved",
                "dashboard",
                {**ok(sch.ref("Overview")), **errors(400, 401)},
                parameters=PERIOD,
            )
        },
        "/api/v1/dashboard/executions": {
            "get": op(
                "dashboard_executions",
                "Executions, newest first, with filters",
                "dashboard",
                {**ok(sch.ref("ExecutionList")), **errors(400, 401)},
                parameters=[
                    query_param(
                        "state",
                        {"type": "string"},
                        "One state or several, comma-separated (e.g. RESOLVED,WAITING)",
                    ),
                    PLAYBOOK_FILTER,
                    TICKET_FILTER,
                    *PERIOD,
                    *PAGE,
                ],
            )
        },
        "/api/v1/dashboard/executions/{execution_id}": {
            "get": op(
                "dashboard_execution",
                "One execution with its audit trail (every step attempt)",
                "dashboard",
                {**ok(sch.ref("ExecutionTimeline")), **errors(400, 401, 404)},
                parameters=[EXECUTION_ID],
            )
        },
        "/api/v1/dashboard/decisions": {
            "get": op(
                "dashboard_decisions",
                "The gate's decisions with confidence, reasoning and blockers",
                "dashboard",
                {**ok(sch.ref("DecisionList")), **errors(400, 401)},
                parameters=[
                    query_param("outcome", {"type": "string", "enum": ["automated", "manual", "shadow"]}),
                    PLAYBOOK_FILTER,
                    TICKET_FILTER,
                    *PERIOD,
                    *PAGE,
                ],
            )
        },
        "/api/v1/dashboard/shadow": {
            "get": op(
                "dashboard_shadow",
                "Shadow-mode report: what would have been automated, against the final handling",
                "dashboard",
                {**ok(sch.ref("ShadowReport")), **errors(400, 401)},
                parameters=[*PERIOD, query_param("limit", {"type": "integer", "minimum": 1, "maximum": 200})],
            )
        },
        "/api/v1/dashboard/playbooks": {
            "get": op(
                "dashboard_playbooks",
                "Playbooks, their errors and the global kill switch",
                "dashboard",
                {**ok(sch.ref("DashboardPlaybooks")), **errors(401)},
                parameters=[
                    query_param("include_adhoc", {"type": "string", "enum": ["0", "1", "true", "false"]})
                ],
            )
        },
        "/api/v1/dashboard/playbooks/{playbook_id}/enabled": {
            "post": op(
                "dashboard_playbook_enabled",
                "Enable or disable a playbook",
                "dashboard",
                {**ok(sch.ref("PlaybookSummary")), **change},
                parameters=[PLAYBOOK_ID],
                body=request_body(sch.ref("EnabledRequest")),
            )
        },
        "/api/v1/dashboard/playbooks/{playbook_id}/kill_switch": {
            "post": op(
                "dashboard_playbook_kill_switch",
                "Set a playbook's kill switch",
                "dashboard",
                {**ok(sch.ref("PlaybookSummary")), **change},
                parameters=[PLAYBOOK_ID],
                body=request_body(sch.ref("OnRequest")),
            )
        },
        "/api/v1/dashboard/playbooks/{playbook_id}/activate": {
            "post": op(
                "dashboard_playbook_activate",
                "Activate a stored version",
                "dashboard",
                {**ok(sch.ref("PlaybookSummary")), **change},
                parameters=[PLAYBOOK_ID],
                body=request_body(sch.ref("ActivateRequest")),
            )
        },
        "/api/v1/dashboard/kill_switch": {
            "get": op(
                "get_global_kill_switch",
                "The global kill switch",
                "dashboard",
                {**ok(sch.ref("KillSwitch")), **errors(401)},
            ),
            "post": op(
                "set_global_kill_switch",
                "Flip the global kill switch (the gate's next decision sees it)",
                "dashboard",
                {**ok(sch.ref("KillSwitch")), **errors(400, 401, 403)},
                body=request_body(sch.ref("KillSwitchRequest")),
            ),
        },
    }
