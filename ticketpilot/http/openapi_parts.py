"""Building blocks of the OpenAPI document: operations, answers, parameters shared by the path groups."""

from __future__ import annotations

from typing import Any

from ticketpilot.http import openapi_schemas as sch

Json = dict[str, Any]

ADMIN: list[Json] = [{"bearerAuth": []}, {"dashboardSession": []}]
"""Admin endpoints: the bearer token, or a dashboard session cookie."""

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "The request is malformed (bad JSON, parameter or field)",
    401: "Missing or wrong credentials",
    403: "Refused (CSRF token, signature or origin)",
    404: "Not found",
    409: "Conflict with the current state",
    410: "No longer needed (e.g. the execution has ended)",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Well-formed but invalid content",
    502: "An upstream system (HaloPSA, Entra ID) failed",
    503: "Not ready or a part is not running; retry later",
}


def json_content(schema: Json) -> Json:
    return {"application/json": {"schema": schema}}


def errors(*codes: int) -> dict[str, Json]:
    return {
        str(c): {"description": _STATUS_TEXT[c], "content": json_content(sch.ref("Error"))} for c in codes
    }


def ok(schema: Json, status: int = 200, description: str = "") -> dict[str, Json]:
    return {
        str(status): {"description": description or _STATUS_TEXT[status], "content": json_content(schema)}
    }


def request_body(schema: Json, *, required: bool = True, media: str = "application/json") -> Json:
    return {"required": required, "content": {media: {"schema": schema}}}


def path_param(name: str, schema: Json, description: str = "") -> Json:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def query_param(name: str, schema: Json, description: str = "") -> Json:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def op(
    op_id: str,
    summary: str,
    tag: str,
    responses: dict[str, Json],
    *,
    security: list[Json] | None = None,
    parameters: list[Json] | None = None,
    body: Json | None = None,
    description: str = "",
) -> Json:
    op: Json = {"operationId": op_id, "summary": summary, "tags": [tag], "responses": responses}
    if description:
        op["description"] = description
    op["security"] = ADMIN if security is None else security
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = body
    return op


PLAYBOOK_ID = path_param("playbook_id", {"type": "string"}, "The playbook's id")
EXECUTION_ID = path_param("execution_id", {"type": "string", "format": "uuid"})
PERIOD = [
    query_param("since", {"type": "string"}, "ISO 8601 date or date-time (UTC when no offset); inclusive"),
    query_param(
        "until", {"type": "string"}, "ISO 8601 date-time (exclusive) or date (that whole day included)"
    ),
]
PAGE = [
    query_param("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
    query_param("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0}),
]
TICKET_FILTER = query_param("ticket", {"type": "integer", "minimum": 0}, "Only this HaloPSA ticket id")
PLAYBOOK_FILTER = query_param("playbook", {"type": "string"}, "Only this playbook id")
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "Repeating a request with the same key runs the service once",
}
