"""Single-service playbooks for the per-service admin endpoints, so one service run is audited like any other.

``POST /api/v1/verification/mfa`` and friends run exactly one service for a ticket's requester through the
engine. A credential is only ever produced together with its delivery to the phone on record, so the
executor and delivery endpoints both run "issue, then deliver".
"""

from __future__ import annotations

import hashlib

import asyncpg
from ruamel.yaml import YAML

from ticketpilot.playbooks.model import Playbook

_STEPS: dict[str, str] = {
    "verification.mfa": """
  - id: verify_mfa
    service: verification.mfa
    timeout: 120s
    on_success: done
    on_failure: failed
""",
    "verification.manager": """
  - id: verify_manager
    service: verification.manager
    timeout: 30m
    on_success: done
    on_failure: failed
""",
    "executor.reset_password": """
  - id: create_credential
    service: executor.reset_password
    params: {method: temporary_access_pass, lifetime_minutes: 60, one_time: true}
    timeout: 30s
    retry: {max_attempts: 3, backoff: exponential, initial: 2s, max: 30s}
    on_success: deliver_sms
    on_failure: failed
  - id: deliver_sms
    service: delivery.sms
    timeout: 3m
    retry: {max_attempts: 3, backoff: exponential, initial: 5s, max: 60s}
    on_success: done
    on_failure: failed
""",
}
_STEPS["delivery.sms"] = _STEPS["executor.reset_password"]

_TEMPLATE = """id: {playbook_id}
name: "Ad hoc: {service}"
version: "adhoc"
description: Runs {service} once for a ticket's requester (admin API, Idempotency-Key {key_digest}).
triggers:
  sub_categories: [OTHER]
steps:{steps}  - id: done
    terminal: RESOLVED
  - id: failed
    terminal: ESCALATED
    reason: "{service} did not succeed"
"""


def adhoc_playbook(service: str, key_digest: str) -> tuple[Playbook, str]:
    """The playbook (and its YAML text) that runs ``service`` once; one per idempotency key."""
    if service not in _STEPS:
        raise KeyError(service)
    playbook_id = f"adhoc_{service.replace('.', '_')}_{key_digest}"[:64]
    text = _TEMPLATE.format(
        playbook_id=playbook_id, service=service, key_digest=key_digest, steps=_STEPS[service]
    )
    return Playbook.model_validate(YAML(typ="safe").load(text)), text


async def store_adhoc(pool: asyncpg.Pool, playbook: Playbook, yaml_text: str) -> str:
    """Store the ad hoc playbook version (executions pin it like any other); return its content hash."""
    content_hash = hashlib.sha256(yaml_text.encode()).hexdigest()
    await pool.execute(
        "INSERT INTO playbooks (playbook_id, content_hash, version, yaml_text, source)"
        " VALUES ($1, $2, $3, $4, 'adhoc') ON CONFLICT DO NOTHING",
        playbook.id,
        content_hash,
        playbook.version,
        yaml_text,
    )
    return content_hash
