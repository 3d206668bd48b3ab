"""Prometheus metrics, on the service's own registry (conventional names and units).

Every label value comes from a bounded set: code constants, the step services, outcome and state enums,
vendors' three-digit HTTP statuses, and playbook ids through :func:`playbook_label` (an ad hoc playbook of the per-service
admin endpoints is named per Idempotency-Key; its label is its service's, not its own id). Nothing a
client chooses (ids, keys, paths, addresses) ever becomes a label value.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_ADHOC = re.compile(r"^(adhoc_[a-z_]+?)_[0-9a-f]{8,}$")


def playbook_label(playbook_id: str | None) -> str:
    """A playbook id as a metric label: ``adhoc_verification_mfa_<digest>`` → ``adhoc_verification_mfa``."""
    if not playbook_id:
        return "none"
    adhoc = _ADHOC.match(playbook_id)
    if adhoc:
        return adhoc.group(1)
    return "adhoc" if playbook_id.startswith("adhoc_") else playbook_id


REGISTRY = CollectorRegistry(auto_describe=True)

WEBHOOKS_RECEIVED = Counter(
    "ticketpilot_webhooks_received_total",
    "Webhook deliveries received",
    ["source", "event"],
    registry=REGISTRY,
)
WEBHOOKS_DEDUPLICATED = Counter(
    "ticketpilot_webhooks_deduplicated_total",
    "Duplicate webhook deliveries ignored",
    ["source", "layer"],
    registry=REGISTRY,
)
DECISIONS = Counter(
    "ticketpilot_decisions_total", "Gate decisions by outcome", ["outcome", "playbook"], registry=REGISTRY
)
BLOCKERS = Counter("ticketpilot_decision_blockers_total", "Blockers recorded", ["blocker"], registry=REGISTRY)
EXECUTIONS = Counter(
    "ticketpilot_executions_finished_total",
    "Executions reaching a terminal state",
    ["state", "playbook"],
    registry=REGISTRY,
)
EXECUTIONS_LIVE = Gauge(
    "ticketpilot_executions_live", "Executions running or waiting in this process", registry=REGISTRY
)
STEP_DURATION = Histogram(
    "ticketpilot_step_duration_seconds",
    "Step attempt durations",
    ["service", "outcome"],
    registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800),
)
EXTERNAL_LATENCY = Histogram(
    "ticketpilot_external_request_duration_seconds",
    "Calls to external systems",
    ["adapter", "operation"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EXTERNAL_ERRORS = Counter(
    "ticketpilot_external_request_errors_total",
    "Failed calls to external systems",
    ["adapter", "kind"],
    registry=REGISTRY,
)
CHECKPOINT_BATCH = Histogram(
    "ticketpilot_checkpoint_batch_size",
    "Transitions committed per database transaction",
    registry=REGISTRY,
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
TIMERS_PENDING = Gauge("ticketpilot_timers_pending", "Durable timers waiting", registry=REGISTRY)
OUTBOX_BACKLOG = Gauge("ticketpilot_outbox_backlog", "HaloPSA writes not yet delivered", registry=REGISTRY)
PLAYBOOK_ERRORS = Gauge(
    "ticketpilot_playbook_load_errors", "Playbook files currently failing validation", registry=REGISTRY
)
HTTP_CONNECTIONS = Gauge(
    "ticketpilot_http_connections_open", "Client connections open on the HTTP listener", registry=REGISTRY
)
HTTP_CONNECTIONS_REFUSED = Counter(
    "ticketpilot_http_connections_refused_total",
    "Connections answered 503 and closed at http.max_connections",
    registry=REGISTRY,
)
