-- Each claim of outbox rows carries a random token: every later change of a
-- row (renewing the lease, recording sent, retry or dead) names the token, so
-- a worker whose lease lapsed and was taken over changes nothing.
ALTER TABLE outbox ADD COLUMN lease_token TEXT;
CREATE INDEX outbox_leased ON outbox (lease_token) WHERE lease_token IS NOT NULL;

-- The readiness check writes (and deletes again, in the same transaction) a
-- row as large as a big intake, to learn whether a commit that needs new
-- space still goes through when no intake has been written lately.
CREATE TABLE store_probe (
    id             BIGINT PRIMARY KEY NOT NULL,
    written_at_ms  BIGINT NOT NULL,
    padding        TEXT NOT NULL
);
