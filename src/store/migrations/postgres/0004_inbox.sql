-- The consultant's inbox. The model's decision stays in `intakes`; what the
-- consultant did with an intake lives beside it, and goes with it on erasure.

-- One row per intake the consultant acted on: answered, and the route and
-- handoffs they confirmed or corrected (with who and when).
CREATE TABLE intake_reviews (
    intake_id       TEXT PRIMARY KEY NOT NULL REFERENCES intakes (id) ON DELETE CASCADE,
    answered_at_ms  BIGINT,
    answered_by     TEXT,
    label_route     TEXT,            -- the route the consultant gave (NULL: none yet)
    label_handoffs  TEXT,            -- JSON array of handoff ids
    corrected       BIGINT NOT NULL DEFAULT 0,  -- 1: the label differs from the model's decision
    labelled_at_ms  BIGINT,
    labelled_by     TEXT
);
CREATE INDEX intake_reviews_labelled ON intake_reviews (labelled_at_ms);

-- Signed-in inbox sessions. The cookie holds a random key; only its SHA-256
-- is stored, with a tag of the password hash it was signed in under, so a
-- password change ends every older session.
CREATE TABLE inbox_sessions (
    key_hash        TEXT PRIMARY KEY NOT NULL,
    password_tag    TEXT NOT NULL,
    state           TEXT NOT NULL,   -- JSON object: the session's values (no intake data)
    created_at_ms   BIGINT NOT NULL,
    idle_until_ms   BIGINT NOT NULL
);

-- Each router model the gateway has served, by fingerprint, and since when:
-- the inbox counts the corrections made since the model in use arrived.
CREATE TABLE router_models (
    fingerprint        TEXT PRIMARY KEY NOT NULL,
    first_served_at_ms BIGINT NOT NULL
);
