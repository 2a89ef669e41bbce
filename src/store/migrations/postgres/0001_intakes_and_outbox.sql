-- Intakes hold only scrubbed text, finding kinds and counts: never a raw value.
-- Booleans are 0/1 BIGINTs so SQLite and PostgreSQL share every query.
CREATE TABLE intakes (
    id               TEXT PRIMARY KEY NOT NULL,
    created_at_ms    BIGINT NOT NULL,
    channel          TEXT NOT NULL,
    route            TEXT NOT NULL,
    handoffs         TEXT NOT NULL,  -- JSON array of handoff ids
    privacy          TEXT NOT NULL,
    removed          TEXT NOT NULL,  -- JSON object: kind -> count
    exposed_credentials BIGINT NOT NULL,
    fields           TEXT NOT NULL,  -- JSON object: field -> scrubbed text
    tools            TEXT NOT NULL,  -- JSON array of canonical tool names
    reasons          TEXT NOT NULL,  -- JSON array of {about, because}
    missing_fields   TEXT NOT NULL,  -- JSON array of field names
    contact_email    TEXT,
    consent          BIGINT NOT NULL,
    idempotency_key  TEXT UNIQUE,    -- SHA-256 of the client's key
    request_hash     TEXT            -- SHA-256 of the request body sent with that key
);
CREATE INDEX intakes_created_at ON intakes (created_at_ms);

-- One email per intake; deleted with its intake.
CREATE TABLE outbox (
    intake_id        TEXT PRIMARY KEY NOT NULL REFERENCES intakes (id) ON DELETE CASCADE,
    state            TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | dead
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT NOT NULL,                  -- also the lease of a claimed row
    created_at_ms    BIGINT NOT NULL,
    sent_at_ms       BIGINT,
    last_error       TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_ms);
