"""An OpenAI-compatible ``POST /v1/chat/completions`` fake for structured-output classification.

Every request and every success response is checked against OpenAI's OpenAPI spec, and the fake also
insists that ``response_format`` is a *strict* ``json_schema`` (all properties required, no additional
properties) — problems go to ``spec_errors``. Knobs: :meth:`answer_with`, :meth:`answer_when` (a
per-ticket script), :meth:`refuse`, :meth:`reply_raw`, ``delay_s`` (answer late), ``finish_reason``, and
:meth:`FakeServer.fail_next`.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from aiohttp import web

from fakes.server import FakeServer, RecordedRequest
from fakes.specs import SpecValidator, openai_spec

DEFAULT_ANSWER: dict[str, Any] = {
    "category": "REQUEST",
    "sub_category": "PASSWORD_RESET",
    "confidence": 0.93,
    "reasoning": "The requester cannot sign in and asks to reset their own password.",
    "own_account": True,
    "risk_flags": [],
}


def strict_schema_problems(schema: Any, where: str = "schema") -> list[str]:
    """Why ``schema`` is not acceptable to strict structured outputs (objects closed and fully required)."""
    problems: list[str] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            props = schema.get("properties", {})
            if schema.get("additionalProperties") is not False:
                problems.append(f"{where}: additionalProperties must be false")
            if set(schema.get("required", [])) != set(props):
                problems.append(f"{where}: every property must be required")
        for key, value in schema.items():
            problems += strict_schema_problems(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            problems += strict_schema_problems(value, f"{where}[{i}]")
    return problems


class OpenAiFake(FakeServer):
    """``prompts`` holds the ``messages`` of each call; ``base_url`` ends with ``/v1`` for the SDK."""

    name = "openai"
    validate_responses = True

    def __init__(self, *, api_key: str = "sk-test", spec: SpecValidator | bool | None = True) -> None:
        super().__init__(spec=openai_spec() if spec is True else (spec or None))
        self.api_key = api_key
        self.prompts: list[list[dict[str, Any]]] = []
        self.response_formats: list[dict[str, Any]] = []
        self.delay_s = 0.0
        self.finish_reason = "stop"
        self._content: str | None = json.dumps(DEFAULT_ANSWER)
        self._refusal: str | None = None
        self._scripted: list[tuple[str, str]] = []
        self._seq = itertools.count(1)
        self.models: set[str] = {"gpt-4o-mini", "gpt-4o"}
        """What ``GET /v1/models/{model}`` knows; any other model answers 404 ``model_not_found``."""

    async def start(self) -> str:
        await super().start()
        self.base_url = f"{self.base_url}/v1"
        return self.base_url

    def answer_with(self, answer: dict[str, Any]) -> None:
        self._content, self._refusal = json.dumps(answer), None

    def answer_when(self, marker: str, answer: dict[str, Any]) -> None:
        """Answer ``answer`` to prompts whose messages contain ``marker`` (first match wins); others get
        the default answer."""
        self._scripted.append((marker, json.dumps(answer)))

    def _content_for(self, messages: Any) -> str | None:
        text = json.dumps(messages, ensure_ascii=False)
        return next((content for marker, content in self._scripted if marker in text), self._content)

    def refuse(self, text: str = "I'm sorry, I can't help with that.") -> None:
        self._content, self._refusal = None, text

    def reply_raw(self, content: str) -> None:
        self._content, self._refusal = content, None

    def in_spec_scope(self, request: RecordedRequest) -> bool:
        return request.path.startswith("/v1/")

    def spec_error_response(self, request: RecordedRequest, errors: list[str]) -> web.StreamResponse:
        return _error(400, "invalid_request_error", "; ".join(errors)[:1000])

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models/{model}", self._model)

    async def _model(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "invalid_request_error", "Incorrect API key provided.", code="invalid_api_key")
        model = request.match_info["model"]
        if model not in self.models:
            return _error(
                404, "invalid_request_error", f"The model '{model}' does not exist", code="model_not_found"
            )
        return web.json_response(
            {"id": model, "object": "model", "created": 1_715_367_049, "owned_by": "system"}
        )

    async def _chat(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "invalid_request_error", "Incorrect API key provided.", code="invalid_api_key")
        body = await request.json()
        self.prompts.append(body.get("messages", []))
        response_format = body.get("response_format") or {}
        self.response_formats.append(response_format)
        json_schema = response_format.get("json_schema") or {}
        if response_format.get("type") != "json_schema" or json_schema.get("strict") is not True:
            self.spec_errors.append("openai: response_format must be a strict json_schema")
        self.spec_errors += [f"openai: {p}" for p in strict_schema_problems(json_schema.get("schema", {}))]
        if self.delay_s:
            await self.pause(self.delay_s)
        completion = {
            "id": f"chatcmpl-{next(self._seq)}",
            "object": "chat.completion",
            "created": 1_790_000_000,
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": self._content_for(body.get("messages", [])),
                        "refusal": self._refusal,
                        "annotations": [],
                    },
                    "finish_reason": self.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876},
        }
        return web.json_response(completion)


def _error(status: int, kind: str, message: str, code: str | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status
    )
