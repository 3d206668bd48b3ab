"""Metric labels come from bounded sets only (issue 10, item 12): a client choosing new Idempotency-Keys
on the per-service endpoints must not add label values to /metrics."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from service_support import BEARER, Running, running_service

from ticketpilot.adapters.base import Ticket
from ticketpilot.metrics import REGISTRY


def _label_values() -> dict[str, set[str]]:
    """Every (metric, label) pair's values as /metrics shows them."""
    from prometheus_client import generate_latest

    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            for label, value in sample.labels.items():
                if label not in ("le", "quantile"):
                    found.setdefault(f"{family.name}.{label}", set()).add(value)
    return found


async def _run_mfa(svc: Running, key: str) -> None:
    resp = await svc.client.post(
        "/api/v1/verification/mfa",
        json={"ticket_id": 601},
        headers={**BEARER, "Idempotency-Key": key},
    )
    body = await resp.json()
    assert resp.status == 200 and body["state"] == "RESOLVED", body


async def test_new_idempotency_keys_add_no_label_values(db_url: str, tmp_path: Path) -> None:
    async with running_service(db_url, tmp_path) as svc:
        await svc.services.adapters.tickets.seed(  # type: ignore[union-attr,misc]
            Ticket(id=601, summary="Locked out", details="please help", user_email="jane.doe@contoso.example")
        )
        await _run_mfa(svc, "key-first")
        before = _label_values()
        for i in range(3):
            await _run_mfa(svc, f"key-{i}-{'x' * i}")
        after = _label_values()
        grown = {name: sorted(after[name] - before.get(name, set())) for name in after}
        assert {name: values for name, values in grown.items() if values} == {}
        playbooks = after["ticketpilot_executions_finished.playbook"]
        assert "adhoc_verification_mfa" in playbooks
        assert not any(re.search(r"[0-9a-f]{16}$", p) for p in playbooks), playbooks
