-- The classifier-first gate (DESIGN §3): requester facts on each decision, one webhook decision per
-- ticket, indexes for the cooldown and rate-limit checks, undeliverable outbox rows, sandbox ticket ids.

ALTER TABLE classification_results
    ADD COLUMN playbook_version  text,
    ADD COLUMN requester_user_id text,
    ADD COLUMN requester         jsonb NOT NULL DEFAULT '{}';   -- RequesterFacts.as_stored(): never a phone

-- A ticket is decided once from its webhook, however many deliveries or processes see it.
CREATE UNIQUE INDEX classification_results_one_webhook_decision
    ON classification_results (ticket_id) WHERE source = 'webhook';
-- Per-user cooldown and the global rate limit look at recent automated decisions only.
CREATE INDEX classification_results_automated_user
    ON classification_results (requester_user_id, created_at DESC) WHERE outcome = 'automated';
CREATE INDEX classification_results_automated
    ON classification_results (created_at DESC) WHERE outcome = 'automated';

-- A row HaloPSA refused for good (4xx) is kept for the operator, not retried, and not counted as backlog.
ALTER TABLE outbox ADD COLUMN failed_at timestamptz;
-- Rows are delivered in order per ticket: the head of each ticket's queue is found through this index.
CREATE INDEX outbox_ticket_pending ON outbox (ticket_id, id) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- Ids for tickets created through POST /api/v1/sandbox/tickets (sandbox mode only).
CREATE SEQUENCE sandbox_ticket_ids START WITH 100001;
