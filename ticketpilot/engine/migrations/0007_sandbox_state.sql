-- The sandbox twins' own state (adapters.mode = "sandbox" only; never read or written in live mode): what the
-- fake HaloPSA, Entra, MFA connector, Teams and Twilio would keep on their side. In PostgreSQL so that the
-- embedded default survives a restart and several processes on one database act as one service.
-- Never a secret: credentials are known only by their SHA-256 (to redact and refuse them), approval links and
-- SMS codes are not stored at all, and ledger entries are redacted before they are written.

-- The sandbox HaloPSA: tickets (as the Ticket model's JSON), their custom fields and private notes.
CREATE TABLE sandbox_tickets (
    id            bigint      PRIMARY KEY,
    ticket        jsonb       NOT NULL,
    custom_fields jsonb       NOT NULL DEFAULT '{}',
    seen_at       timestamptz NOT NULL
);
CREATE TABLE sandbox_ticket_notes (
    id        bigserial   PRIMARY KEY,
    ticket_id bigint      NOT NULL REFERENCES sandbox_tickets (id) ON DELETE CASCADE,
    note      text        NOT NULL,
    private   boolean     NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_ticket_notes_ticket ON sandbox_ticket_notes (ticket_id, id);

-- The sandbox directory: people seen so far (everything else derives from the address), so that a user id or
-- a phone number resolves in every process and after a restart.
CREATE TABLE sandbox_people (
    user_id text PRIMARY KEY,
    email   text NOT NULL,
    phone   text NOT NULL
);
CREATE INDEX sandbox_people_phone ON sandbox_people (phone);

-- SHA-256 of each credential the sandbox directory issued (a random 16-character TAP or password): lets every
-- process redact it from an SMS record and refuse a ticket write that carries it.
CREATE TABLE sandbox_issued_credentials (
    digest    text        PRIMARY KEY,
    issued_at timestamptz NOT NULL DEFAULT now()
);

-- The sandbox Twilio's per-number failure count (sms-flaky numbers fail twice, then work).
CREATE TABLE sandbox_sms_failures (
    phone    text    PRIMARY KEY,
    failures integer NOT NULL
);

-- The sandbox MFA connector's pushes: one per context id (the step attempt), answered at answer_at.
CREATE TABLE sandbox_mfa_pushes (
    context_id          text        PRIMARY KEY,
    user_principal_name text        NOT NULL,
    result              text        NOT NULL,
    pushed_at           timestamptz NOT NULL,
    answer_at           timestamptz NOT NULL,
    answered_at         timestamptz
);

-- What the sandbox will do later (a manager answering a card, Twilio reporting a delivery status): claimed by
-- one process at a time with a lease, so an action outlives the process that scheduled it.
CREATE TABLE sandbox_pending_actions (
    id          bigserial   PRIMARY KEY,
    kind        text        NOT NULL,
    due_at      timestamptz NOT NULL,
    payload     jsonb       NOT NULL,
    owner       text,
    lease_until timestamptz,
    tries       integer     NOT NULL DEFAULT 0,
    done_at     timestamptz
);
CREATE INDEX sandbox_pending_actions_due ON sandbox_pending_actions (due_at) WHERE done_at IS NULL;

-- What the sandbox did (GET /api/v1/sandbox/ledger): redacted entries, from every process.
CREATE TABLE sandbox_ledger (
    seq  bigserial   PRIMARY KEY,
    at   timestamptz NOT NULL,
    kind text        NOT NULL,
    pid  integer     NOT NULL,
    data jsonb       NOT NULL
);
CREATE INDEX sandbox_ledger_kind ON sandbox_ledger (kind, seq);
