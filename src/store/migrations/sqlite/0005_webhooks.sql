-- Signed webhooks. Each configured endpoint has a row here (the gateway
-- writes the list at start). Every intake stored from then on gets one
-- delivery row per endpoint, written by a trigger on its outbox row, in the
-- intake's own transaction, so a delivery is as durable as its intake. A
-- held intake's deliveries are held too, and released with its email.
-- Deliveries are claimed under a lease with a token, like the emails in
-- `outbox`, and are deleted with their intake.
CREATE TABLE webhook_endpoints (
    name            TEXT PRIMARY KEY NOT NULL,
    added_at_ms     INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    intake_id        TEXT NOT NULL REFERENCES intakes (id) ON DELETE CASCADE,
    endpoint         TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending',  -- pending | held | sent | dead
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER NOT NULL,                  -- also the lease of a claimed row
    created_at_ms    INTEGER NOT NULL,
    sent_at_ms       INTEGER,
    last_error       TEXT,
    lease_token      TEXT,
    PRIMARY KEY (intake_id, endpoint)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_ms);

CREATE TRIGGER outbox_enqueue_webhooks AFTER INSERT ON outbox
BEGIN
    INSERT INTO webhook_deliveries (intake_id, endpoint, state, next_attempt_ms, created_at_ms)
    SELECT NEW.intake_id, name, CASE WHEN NEW.state = 'held' THEN 'held' ELSE 'pending' END,
           NEW.created_at_ms, NEW.created_at_ms
    FROM webhook_endpoints;
END;

CREATE TRIGGER outbox_release_webhooks AFTER UPDATE OF state ON outbox
WHEN OLD.state = 'held' AND NEW.state <> 'held'
BEGIN
    UPDATE webhook_deliveries SET state = 'pending', next_attempt_ms = NEW.next_attempt_ms
    WHERE intake_id = NEW.intake_id AND state = 'held';
END;
