-- Step services (DESIGN §4): what the manager-approval flow needs beyond 0001's approval_requests.
-- Every token, code and phone is stored only as a keyed hash (HMAC with teams.approval_signing_key).

ALTER TABLE approval_requests
    ADD COLUMN ticket_id           bigint,
    ADD COLUMN requester_name      text        NOT NULL DEFAULT '',
    ADD COLUMN requester_upn       text        NOT NULL DEFAULT '',
    ADD COLUMN purpose             text        NOT NULL DEFAULT '',
    ADD COLUMN token_hash          text,                -- keyed hash of the links' nonce
    ADD COLUMN approver_phone_hash text,                -- keyed hash of the phone the SMS went to
    ADD COLUMN sms_sent_at         timestamptz,
    ADD COLUMN sms_failed_replies  integer     NOT NULL DEFAULT 0,
    ADD COLUMN card_posted_at      timestamptz;

-- One approval request per step attempt: a re-run start() reuses it (no second card).
CREATE UNIQUE INDEX approval_requests_one_per_attempt ON approval_requests (execution_id, step_id, attempt);

-- SMS replies are matched by the sender's phone among the open requests.
CREATE INDEX approval_requests_open_by_phone ON approval_requests (approver_phone_hash)
    WHERE decided_at IS NULL AND sms_code_hash IS NOT NULL;
