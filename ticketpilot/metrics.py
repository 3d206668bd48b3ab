"""Prometheus metrics, on the service's own registry (conventional names and units)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
