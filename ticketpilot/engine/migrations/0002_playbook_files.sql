-- Playbook registry: remember which file defines a playbook and which content that file last had, so
-- that a restart does not undo an API activation (only a changed file makes its version active again).
ALTER TABLE playbook_state
    ADD COLUMN file_name text,   -- the file (name inside the playbooks folder) that defines it; NULL: API only
    ADD COLUMN file_hash text;   -- content hash the file had when last loaded successfully
