"""Component schemas and security schemes of the OpenAPI document (``openapi_spec.py``).

Each schema mirrors what a handler really sends or accepts (read the handler when changing one): the
schemathesis run in ``tests/test_openapi.py`` checks every answer against these.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

STR: Json = {"type": "string"}
INT: Json = {"type": "integer"}
NUM: Json = {"type": "number"}
BOOL: Json = {"type": "boolean"}
ANY_OBJECT: Json = {"type": "object"}
STATES = ["RUNNING", "WAITING", "RESOLVED", "ESCALATED", "CANCELLED", "FAILED"]
OUTCOMES = ["automated", "manual", "shadow"]


def ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def null(kind: str) -> Json:
    return {"type": [kind, "null"]}


def arr(items: Json) -> Json:
    return {"type": "array", "items": items}


def obj(properties: Json, required: list[str] | None = None, *, closed: bool = False) -> Json:
    """An object; every property required unless ``required`` says otherwise; ``closed``: no extra keys."""
    schema: Json = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


_PERIOD = obj({"since": null("string"), "until": null("string")})

_EXECUTION_SUMMARY = {
    "execution_id": {"type": "string", "format": "uuid"},
    "ticket_id": INT,
    "ticket_summary": null("string"),
    "playbook_id": STR,
    "playbook_version": STR,
    "playbook_hash": STR,
    "state": {"enum": STATES},
    "current_step": null("string"),
    "attempt": INT,
    "escalation_reason": null("string"),
    "cancel_reason": null("string"),
    "created_at": STR,
    "updated_at": STR,
    "finished_at": null("string"),
    "duration_s": null("number"),
}

_PLAYBOOK_SUMMARY = {
    "id": STR,
    "name": null("string"),
    "active_version": null("string"),
    "active_hash": null("string"),
    "source": null("string"),
    "mode": null("string"),
    "enabled": BOOL,
    "operator_enabled": BOOL,
    "kill_switch": BOOL,
    "file": null("string"),
    "file_present": null("boolean"),
    "triggers": arr(STR),
    "versions": arr(ref("PlaybookVersion")),
    "errors": arr(ref("Problem")),
}

_LOADED = {
    "id": STR,
    "version": STR,
    "content_hash": STR,
    "source": STR,
    "mode": STR,
    "enabled": BOOL,
    "kill_switch": BOOL,
}

SCHEMAS: Json = {
    "Error": obj(
        {"error": STR, "detail": {"description": "Anything that helps: text, a list of problems, null"}}
    ),
    "Health": obj({"status": {"const": "ok"}}),
    "Ready": obj({"status": {"enum": ["ready", "not_ready"]}, "checks": ANY_OBJECT}),
    # --- webhooks
    "HaloWebhook": {
        "type": "object",
        "description": "A HaloPSA webhook delivery; only the ticket id is used",
    },
    "IntakeResult": obj({"accepted": INT, "duplicates": INT, "ignored": INT}),
    "TwilioSmsForm": obj({"From": STR, "Body": STR, "MessageSid": STR}, ["From", "Body"]),
    "TwilioStatusForm": obj(
        {"MessageSid": STR, "MessageStatus": STR, "To": STR, "ErrorCode": STR, "ErrorMessage": STR},
        ["MessageSid"],
    ),
    # --- gate and sandbox
    "Blocker": obj({"name": STR, "detail": STR}),
    "ClassifyRequest": obj(
        {
            "subject": {"type": "string", "maxLength": 2000},
            "body": {"type": "string", "maxLength": 100000},
            "user_email": {"type": "string", "minLength": 3, "maxLength": 320},
            "ticket_id": {"type": ["integer", "null"], "exclusiveMinimum": 0},
        },
        ["user_email"],
        closed=True,
    ),
    "Decision": obj(
        {
            "ticket_id": null("integer"),
            "outcome": {"enum": OUTCOMES},
            "playbook_id": null("string"),
            "playbook_version": null("string"),
            "classification": obj(
                {
                    "category": null("string"),
                    "sub_category": null("string"),
                    "confidence": null("number"),
                    "reasoning": STR,
                    "own_account": null("boolean"),
                    "risk_flags": arr(STR),
                }
            ),
            "classifier": STR,
            "classifier_version": STR,
            "blockers": arr(ref("Blocker")),
            "requester": ANY_OBJECT,
            "latency_ms": NUM,
            "decision_id": null("integer"),
        }
    ),
    "SandboxTicketRequest": obj(
        {
            "summary": {"type": "string", "minLength": 1, "maxLength": 2000},
            "details": {"type": "string", "maxLength": 100000},
            "user_email": {"type": "string", "minLength": 3, "maxLength": 320},
        },
        ["summary", "user_email"],
        closed=True,
    ),
    "SandboxTicketCreated": obj({"ticket_id": INT}),
    "SandboxLedger": obj({"count": INT, "entries": arr(obj({"seq": INT, "at": STR, "kind": STR}))}),
    # --- doctor
    "DoctorCheck": obj({"name": STR, "ok": BOOL, "detail": STR, "fix": STR}, ["name", "ok", "detail", "fix"]),
    "DoctorReport": obj(
        {"ok": BOOL, "mode": {"enum": ["sandbox", "live"]}, "failed": INT, "checks": arr(ref("DoctorCheck"))},
        ["ok", "mode", "failed", "checks"],
    ),
    # --- playbooks
    "Problem": obj({"file": STR, "line": INT, "message": STR, "playbook_id": null("string")}),
    "PlaybookVersion": obj(
        {"version": STR, "content_hash": STR, "source": STR, "created_at": STR, "active": BOOL}
    ),
    "PlaybookSummary": obj(_PLAYBOOK_SUMMARY),
    "PlaybookDetail": obj(
        {
            **_PLAYBOOK_SUMMARY,
            "selected": {
                "allOf": [ref("PlaybookVersion"), obj({"yaml": STR, "definition": ANY_OBJECT})],
            },
        }
    ),
    "PlaybookList": obj({"playbooks": arr(ref("PlaybookSummary")), "errors": arr(ref("Problem"))}),
    "LoadedPlaybook": obj(_LOADED),
    "StoredPlaybook": obj({**_LOADED, "active": BOOL}),
    "ReloadResult": obj({"loaded": arr(ref("LoadedPlaybook")), "errors": arr(ref("Problem"))}),
    "ActivateRequest": obj({"version": {"type": "string", "minLength": 1, "description": "Version or hash"}}),
    "OnRequest": obj({"on": BOOL}),
    "EnabledRequest": obj({"enabled": BOOL}),
    # --- orchestration and services
    "Override": {
        **obj(
            {"reason": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": "\\S"}},
            ["reason"],
            closed=True,
        ),
        "description": "Proceed despite the requester's cooldown or the global rate limit (never a kill switch "
        "or shadow mode). The reason is recorded with the execution (its `operator` field), as a private note "
        "on the ticket and in the log.",
    },
    "PolicyRefusalDetail": {
        **obj(
            {
                "message": STR,
                "blockers": arr(obj({"name": STR, "detail": STR})),
                "override_allowed": {
                    "type": "boolean",
                    "description": "true when only the cooldown or the rate limit refused: "
                    "an `override` would let the start go ahead",
                },
            }
        ),
        "description": "The `detail` of a 409 refusal by the run-time policy (the blockers the gate applies).",
    },
    "ExecuteRequest": obj(
        {
            "ticket_id": {"type": "integer", "exclusiveMinimum": 0},
            "playbook_id": {"type": "string", "minLength": 1, "maxLength": 64},
            "context": ANY_OBJECT,
            "override": ref("Override"),
        },
        ["ticket_id", "playbook_id"],
        closed=True,
    ),
    "ExecutionStarted": obj({"execution_id": STR, "created": BOOL, "ticket_id": INT}),
    "EngineStep": obj(
        {
            "seq": INT,
            "step_id": STR,
            "service": null("string"),
            "attempt": INT,
            "outcome": STR,
            "error": null("string"),
            "started_at": null("string"),
            "finished_at": null("string"),
            "detail": ANY_OBJECT,
        },
        ["seq", "step_id", "attempt", "outcome"],
    ),
    "Execution": obj(
        {
            "execution_id": STR,
            "ticket_id": INT,
            "playbook_id": STR,
            "playbook_version": STR,
            "playbook_hash": STR,
            "state": {"enum": STATES},
            "current_step": null("string"),
            "attempt": INT,
            "escalation_reason": null("string"),
            "cancel_reason": null("string"),
            "operator": {
                "type": ["object", "null"],
                "description": "Set when an operator started it through the admin API: `started_by`, and "
                "`override` (`reason`, `bypassed` blockers) when a policy override was used",
            },
            "steps": arr(ref("EngineStep")),
        }
    ),
    "CancelRequest": obj({"reason": {"type": "string", "maxLength": 500}}, []),
    "CancelAccepted": obj({"execution_id": STR, "cancel_requested": BOOL}),
    "RetryAccepted": obj({"execution_id": STR, "retrying": BOOL}),
    "ServiceRequest": obj(
        {
            "ticket_id": {"type": "integer", "exclusiveMinimum": 0},
            "wait_seconds": {"type": "number", "minimum": 0, "maximum": 60, "default": 25},
            "override": ref("Override"),
        },
        ["ticket_id"],
        closed=True,
    ),
    "ServiceResult": obj(
        {
            "execution_id": STR,
            "ticket_id": INT,
            "service": STR,
            "state": {"enum": STATES},
            "outcome": {"enum": ["succeeded", "failed", "pending"]},
            "escalation_reason": null("string"),
            "delivered": {
                "type": "boolean",
                "description": "executor and delivery only: reached the phone on record",
            },
        },
        ["execution_id", "ticket_id", "service", "state", "outcome"],
    ),
    # --- dashboard
    "DashboardSession": obj(
        {
            "authenticated": BOOL,
            "via": {"enum": ["admin token", "dashboard session"]},
            "csrf_token": null("string"),
            "csrf_header": STR,
        }
    ),
    "HoursSaved": obj({"playbook_id": STR, "resolved": INT, "minutes_per_ticket": NUM, "hours_saved": NUM}),
    "Overview": obj(
        {
            "period": _PERIOD,
            "tickets_received": INT,
            "decisions": obj({o: INT for o in OUTCOMES}),
            "automation_rate": null("number"),
            "executions": obj(
                {k: INT for k in ("resolved", "escalated", "failed", "cancelled", "in_progress")}
            ),
            "median_time_to_resolution_s": null("number"),
            "hours_saved": arr(ref("HoursSaved")),
            "hours_saved_total": NUM,
        }
    ),
    "ExecutionSummary": obj(_EXECUTION_SUMMARY),
    "ExecutionList": obj({"total": INT, "limit": INT, "offset": INT, "items": arr(ref("ExecutionSummary"))}),
    "TimelineStep": obj(
        {
            "seq": INT,
            "step_id": STR,
            "service": null("string"),
            "attempt": INT,
            "outcome": STR,
            "error": null("string"),
            "detail": ANY_OBJECT,
            "started_at": null("string"),
            "finished_at": STR,
            "duration_ms": null("number"),
        }
    ),
    "ExecutionTimeline": obj({**_EXECUTION_SUMMARY, "timeline": arr(ref("TimelineStep"))}),
    "DecisionRow": obj(
        {
            "id": INT,
            "ticket_id": INT,
            "ticket_summary": null("string"),
            "created_at": STR,
            "classifier": STR,
            "classifier_version": STR,
            "category": null("string"),
            "sub_category": null("string"),
            "confidence": null("number"),
            "reasoning": STR,
            "own_account": null("boolean"),
            "risk_flags": arr(STR),
            "playbook_id": null("string"),
            "playbook_hash": null("string"),
            "outcome": {"enum": OUTCOMES},
            "blockers": arr(ref("Blocker")),
            "latency_ms": null("number"),
            "source": STR,
        }
    ),
    "DecisionList": obj({"total": INT, "limit": INT, "offset": INT, "items": arr(ref("DecisionRow"))}),
    "ShadowItem": obj(
        {
            "decision_id": INT,
            "ticket_id": INT,
            "ticket_summary": null("string"),
            "created_at": STR,
            "playbook_id": null("string"),
            "sub_category": null("string"),
            "confidence": null("number"),
            "reasoning": STR,
            "blockers": arr(ref("Blocker")),
            "ticket_closed": null("boolean"),
            "ticket_status_id": null("integer"),
            "later_executions": arr({"enum": STATES}),
            "later_outcome": {"enum": [*OUTCOMES, None]},
            "final_handling": {
                "enum": [
                    "automated_resolved",
                    "automation_escalated",
                    "automation_in_progress",
                    "closed_by_technician",
                    "open",
                ]
            },
        }
    ),
    "ShadowReport": obj(
        {
            "period": _PERIOD,
            "total": INT,
            "by_playbook": arr(
                {**obj({"playbook_id": STR, "would_automate": INT}), "additionalProperties": INT}
            ),
            "items": arr(ref("ShadowItem")),
        }
    ),
    "KillSwitch": obj(
        {
            "on": {"type": "boolean", "description": "In force: the runtime flag, or forced by config"},
            "runtime_flag": BOOL,
            "forced_by_config": BOOL,
            "by": null("string"),
            "reason": STR,
            "updated_at": null("string"),
        }
    ),
    "KillSwitchRequest": obj({"on": BOOL, "reason": {"type": "string", "maxLength": 500}}, ["on"]),
    "DashboardPlaybooks": obj(
        {
            "playbooks": arr(ref("PlaybookSummary")),
            "errors": arr(ref("Problem")),
            "kill_switch": ref("KillSwitch"),
        }
    ),
}

SECURITY_SCHEMES: Json = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "http.admin_token"},
    "dashboardSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "tp_session",
        "description": "Dashboard session (POST /login); changes also need the X-TP-CSRF header",
    },
    "haloBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "halopsa.webhook_username / webhook_password",
    },
    "twilioSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Twilio-Signature",
        "description": "HMAC-SHA1 of http.public_url + path + sorted POST params, keyed by twilio.auth_token",
    },
}
