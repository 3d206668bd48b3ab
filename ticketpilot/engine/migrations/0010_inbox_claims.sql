-- Who is deciding a webhook inbox row: the worker's owner id while its (short, heartbeat-renewed) lease
-- runs, so a gracefully stopped process gives back exactly its own rows, and a heartbeat never extends a
-- row another process has taken over.
ALTER TABLE webhook_inbox ADD COLUMN claimed_by text;
