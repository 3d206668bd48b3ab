-- TicketPilot schema, version 1. PostgreSQL enforces the invariants (DESIGN §2, §5, §7).

-- Webhook deliveries, recorded before HaloPSA gets its 200 (durable inbox).
CREATE TABLE webhook_inbox (
    id              bigserial PRIMARY KEY,
    source          text        NOT NULL,               -- 'halopsa'
    event           text        NOT NULL,               -- 'ticket_created' | 'ticket_updated'
    delivery_id     text        NOT NULL,               -- Halo's id / escmsg_id, else a body hash
    ticket_id       bigint,
    payload         jsonb       NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'done', 'ignored', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    processed_at    timestamptz,
    UNIQUE (source, event, delivery_id)
);
CREATE INDEX webhook_inbox_pending ON webhook_inbox (next_attempt_at) WHERE status = 'pending';

-- Tickets as last read from HaloPSA (never the webhook body).
CREATE TABLE tickets (
    ticket_id        bigint PRIMARY KEY,
    summary          text        NOT NULL DEFAULT '',
    requester_email  text        NOT NULL DEFAULT '',
    requester_oid    text,
    status_id        integer,
    closed           boolean     NOT NULL DEFAULT false,
    first_seen_at    timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Every gate decision, committed before anything else happens for the ticket.
CREATE TABLE classification_results (
    id                  bigserial PRIMARY KEY,
    ticket_id           bigint      NOT NULL,
    classifier          text        NOT NULL,
    classifier_version  text        NOT NULL,
    category            text,
    sub_category        text,
    confidence          double precision CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
    reasoning           text        NOT NULL DEFAULT '',
    own_account         boolean,
    risk_flags          jsonb       NOT NULL DEFAULT '[]',
    playbook_id         text,
    playbook_hash       text,
    outcome             text        NOT NULL CHECK (outcome IN ('automated', 'manual', 'shadow')),
    blockers            jsonb       NOT NULL DEFAULT '[]',
    latency_ms          double precision,
    source              text        NOT NULL DEFAULT 'webhook',   -- webhook | replay | api
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX classification_results_ticket ON classification_results (ticket_id, created_at DESC);
CREATE INDEX classification_results_created ON classification_results (created_at DESC);

-- Every distinct playbook content ever seen (file or API), by content hash.
CREATE TABLE playbooks (
    playbook_id   text        NOT NULL,
    content_hash  text        NOT NULL,
    version       text        NOT NULL,
    yaml_text     text        NOT NULL,
    source        text        NOT NULL DEFAULT 'file',
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (playbook_id, content_hash)
);

-- Operator state per playbook: which stored version is active, enabled, kill switch.
CREATE TABLE playbook_state (
    playbook_id   text PRIMARY KEY,
    active_hash   text,
    enabled       boolean     NOT NULL DEFAULT true,
    kill_switch   boolean     NOT NULL DEFAULT false,
    file_present  boolean     NOT NULL DEFAULT true,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Global switches (kill switch, breaker state) that operators flip at run time.
CREATE TABLE runtime_flags (
    name        text PRIMARY KEY,
    value       jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE playbook_executions (
    execution_id      uuid PRIMARY KEY,
    ticket_id         bigint      NOT NULL,
    playbook_id       text        NOT NULL,
    playbook_hash     text        NOT NULL,
    playbook_version  text        NOT NULL,
    state             text        NOT NULL
                      CHECK (state IN ('RUNNING', 'WAITING', 'RESOLVED', 'ESCALATED', 'CANCELLED', 'FAILED')),
    current_step      text,
    attempt           integer     NOT NULL DEFAULT 1,
    step_phase        text        NOT NULL DEFAULT 'pending',   -- pending | started | waiting | backoff
    seq               integer     NOT NULL DEFAULT 0,           -- last step row written
    context           jsonb       NOT NULL DEFAULT '{}',        -- never a secret
    deadline          timestamptz,                              -- current wait's deadline (durable time)
    escalation_reason text,
    cancel_reason     text,
    idempotency_key   text,
    owner             text,
    lease_until       timestamptz,
    epoch             bigint      NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    FOREIGN KEY (playbook_id, playbook_hash) REFERENCES playbooks (playbook_id, content_hash)
);
-- Invariant 3: one execution per ticket and playbook.
CREATE UNIQUE INDEX playbook_executions_one_per_ticket ON playbook_executions (ticket_id, playbook_id);
CREATE INDEX playbook_executions_live ON playbook_executions (lease_until)
    WHERE state IN ('RUNNING', 'WAITING');
CREATE INDEX playbook_executions_created ON playbook_executions (created_at DESC);

-- The audit trail: one row per finished step attempt (and per terminal transition).
CREATE TABLE playbook_step_executions (
    execution_id  uuid        NOT NULL REFERENCES playbook_executions (execution_id),
    seq           integer     NOT NULL,
    step_id       text        NOT NULL,
    service       text,
    attempt       integer     NOT NULL,
    outcome       text        NOT NULL,   -- success | failure | timeout | retry | in_doubt | cancelled | terminal
    error         text,
    detail        jsonb       NOT NULL DEFAULT '{}',   -- never a secret
    started_at    timestamptz,
    finished_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (execution_id, seq)
);

-- Signals to executions (approve, deny, SMS reply, cancel): persisted first, consumed idempotently.
CREATE TABLE execution_signals (
    id            bigserial PRIMARY KEY,
    execution_id  uuid        NOT NULL REFERENCES playbook_executions (execution_id),
    kind          text        NOT NULL,
    dedupe_key    text        NOT NULL,
    payload       jsonb       NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    consumed_at   timestamptz,
    UNIQUE (execution_id, dedupe_key)
);
CREATE INDEX execution_signals_unconsumed ON execution_signals (execution_id) WHERE consumed_at IS NULL;

-- Writes to HaloPSA (custom fields, notes, status), delivered with retries after the commit.
CREATE TABLE outbox (
    id               bigserial PRIMARY KEY,
    kind             text        NOT NULL,
    ticket_id        bigint,
    payload          jsonb       NOT NULL,
    dedupe_key       text        NOT NULL UNIQUE,
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

-- Single-use approval tokens (Teams links, SMS codes). Only a hash of the token is stored.
CREATE TABLE approval_requests (
    id             uuid PRIMARY KEY,
    execution_id   uuid        NOT NULL REFERENCES playbook_executions (execution_id),
    step_id        text        NOT NULL,
    attempt        integer     NOT NULL,
    approver_email text        NOT NULL,
    sms_code_hash  text,
    expires_at     timestamptz NOT NULL,
    decided_at     timestamptz,
    decision       text CHECK (decision IS NULL OR decision IN ('approve', 'deny')),
    channel        text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX approval_requests_execution ON approval_requests (execution_id);
