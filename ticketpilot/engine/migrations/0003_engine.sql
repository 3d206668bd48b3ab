-- Durable engine state (DESIGN §2): the current attempt's fixed timeout, what a parked step waits for,
-- the event a resumed step was handed (re-used if the resume is left in doubt by a crash), the retry
-- cycle count, and where an escalated execution failed (for an operator retry).
ALTER TABLE playbook_executions
    ADD COLUMN step_started_at timestamptz,
    ADD COLUMN step_deadline   timestamptz,
    ADD COLUMN wake_at         timestamptz,
    ADD COLUMN awaiting        jsonb   NOT NULL DEFAULT '[]',
    ADD COLUMN resume_event    jsonb,
    ADD COLUMN tries           integer NOT NULL DEFAULT 0,
    ADD COLUMN failed_step     text,
    ADD COLUMN last_error      text;

-- Lease renewal and release touch one owner's live executions.
CREATE INDEX playbook_executions_owner ON playbook_executions (owner) WHERE state IN ('RUNNING', 'WAITING');
