-- A ticket's decision waiting for a throttled or failing vendor (HaloPSA read, Graph, LLM): since when it
-- waits. The wait itself is the row's next_attempt_at; gate.max_decision_delay_s bounds it from this moment,
-- so a restart continues the same schedule.
ALTER TABLE webhook_inbox ADD COLUMN deferred_since timestamptz;
