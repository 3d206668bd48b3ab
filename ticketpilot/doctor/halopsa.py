"""HaloPSA: the token, a read of one ticket, and the custom fields and statuses the configuration names."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ticketpilot.adapters.base import AdapterError
from ticketpilot.adapters.halopsa import CUSTOM_FIELD_IDS, HaloPsaClient
from ticketpilot.adapters.http_retry import RetryPolicy
from ticketpilot.config import Settings
from ticketpilot.doctor.report import Check, CheckFailed
from ticketpilot.doctor.timebox import timed
from ticketpilot.playbooks.loader import LoadedPlaybook

TOKEN_FIX = (
    "check halopsa.client_id, client_secret and tenant against the API application "
    "(HaloPSA: Configuration > Integrations > HaloPSA API > View Applications)"
)


def _refused(exc: AdapterError, grant: str) -> CheckFailed:
    if exc.status == 403:
        return CheckFailed(exc.message.split(": ", 1)[0] + ": HTTP 403 (forbidden)", grant)
    if exc.status == 401:
        return CheckFailed(exc.message, TOKEN_FIX)
    return CheckFailed(exc.message)


async def check(settings: Settings, playbooks: Sequence[LoadedPlaybook], timeout_s: float) -> list[Check]:
    client = HaloPsaClient(
        settings.halopsa,
        http_timeout_s=min(settings.adapters.http_timeout_s, timeout_s),
        retry=RetryPolicy(max_attempts=1),
        ca_bundle=settings.adapters.ca_bundle,
    )
    try:
        token = await timed("halopsa token", _token(client), timeout_s)
        if not token.ok:
            return [token]  # every other HaloPSA check needs it
        reads = await asyncio.gather(
            timed("halopsa ticket read", _ticket_read(client), timeout_s),
            timed("halopsa custom fields", _custom_fields(client, settings), timeout_s),
            timed("halopsa statuses", _statuses(client, settings, playbooks), timeout_s),
        )
        return [token, *reads]
    finally:
        await client.aclose()


async def _token(client: HaloPsaClient) -> str:
    try:
        scope = await client.authenticate()
    except AdapterError as exc:
        if exc.status is not None and 400 <= exc.status < 500:
            raise CheckFailed(exc.message.split(" — ")[0], TOKEN_FIX) from None
        raise
    return f"client credentials accepted (granted scope {scope!r})"


async def _ticket_read(client: HaloPsaClient) -> str:
    try:
        body = await client.read("/Tickets", what="GET /api/Tickets?count=1", params={"count": "1"})
    except AdapterError as exc:
        raise _refused(
            exc, "let the API application's agent read tickets (and keep scope 'all', or add read:tickets)"
        ) from None
    rows = body.get("tickets", []) if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise CheckFailed("GET /api/Tickets answered an unexpected shape", "check halopsa.base_url")
    return f"GET /api/Tickets answered ({len(rows)} ticket{'s' if len(rows) != 1 else ''} read)"


async def _custom_fields(client: HaloPsaClient, settings: Settings) -> str:
    try:
        body = await client.read("/FieldInfo", what="GET /api/FieldInfo")
    except AdapterError as exc:
        raise _refused(exc, "let the API application read custom field setup (GET /api/FieldInfo)") from None
    rows = [r for r in (body if isinstance(body, list) else []) if isinstance(r, dict)]
    by_id = {_int(r.get("id")): str(r.get("name") or "") for r in rows}
    names = {str(r.get("name") or "") for r in rows}
    config = settings.halopsa
    problems: list[str] = []
    found: list[str] = []
    for ours, key in CUSTOM_FIELD_IDS.items():
        field_id = int(getattr(config, key))
        name = str(getattr(config, f"{key}_name"))
        sent_name = name or ("" if field_id else ours)  # what the adapter sends (see HaloPsaClient)
        if field_id and field_id not in by_id:
            problems.append(f"no custom field with id {field_id} (halopsa.{key})")
            continue
        if sent_name and sent_name not in names:
            where = f"halopsa.{key}_name" if name else f"halopsa.{key} / {key}_name unset: sent as {ours!r}"
            problems.append(f"unknown custom field name {sent_name!r} ({where})")
            continue
        if field_id and name and by_id[field_id] != name:
            problems.append(
                f"custom field {field_id} is named {by_id[field_id]!r}, not {name!r} (halopsa.{key}_name)"
            )
            continue
        found.append(f"{ours}={sent_name or by_id[field_id]}" + (f" ({field_id})" if field_id else ""))
    if problems:
        known = ", ".join(sorted(n for n in names if n)[:12]) or "none"
        raise CheckFailed(
            "; ".join(problems),
            f"create the field in HaloPSA or correct the id/name in [halopsa] (the instance has: {known})",
        )
    return ", ".join(found)


async def _statuses(client: HaloPsaClient, settings: Settings, playbooks: Sequence[LoadedPlaybook]) -> str:
    config = settings.halopsa
    named: list[tuple[str, int]] = [("halopsa.status_resolved_id", config.status_resolved_id)]
    named += [("halopsa.status_closed_ids", i) for i in config.status_closed_ids]
    if config.status_escalated_id:
        named.append(("halopsa.status_escalated_id", config.status_escalated_id))
    if config.manual_status_id:
        named.append(("halopsa.manual_status_id", config.manual_status_id))
    for lp in playbooks:
        target = lp.playbook.escalation
        if target is not None and target.status_id:
            named.append((f"playbook {lp.playbook_id} escalation.status_id", target.status_id))
    try:
        body = await client.read("/Status", what="GET /api/Status")
    except AdapterError as exc:
        raise _refused(exc, "let the API application read statuses (GET /api/Status)") from None
    rows = [r for r in (body if isinstance(body, list) else []) if isinstance(r, dict)]
    statuses = {_int(r.get("id")): str(r.get("name") or "") for r in rows}
    missing = [f"status {sid} ({where})" for where, sid in named if sid not in statuses]
    if missing:
        known = ", ".join(f"{i} {n}" for i, n in sorted(statuses.items()) if i is not None)
        raise CheckFailed(
            f"not in GET /api/Status: {'; '.join(missing)}", f"use ids the instance has: {known}"
        )
    shown = dict.fromkeys(f"{sid} {statuses[sid]}" for _, sid in named)
    return f"{len(shown)} configured status id(s) exist: {', '.join(shown)}"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
