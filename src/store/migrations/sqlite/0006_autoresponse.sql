-- The autoresponse (off by default): one email to the person, from the same
-- delivery rows as the webhooks, under the reserved endpoint name
-- '@autoresponse' (webhook names are letters, digits, - and _). The gateway
-- writes whether it is on at start; while it is, every intake stored with
-- consent and a reply address gets one row, written with its outbox row
-- (held with a held intake, released with its email by the 0005 trigger).
-- A row given up on for the per-address limit ends 'skipped'.
CREATE TABLE autoresponse_settings (
    id              INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    enabled         INTEGER NOT NULL,
    changed_at_ms   INTEGER NOT NULL
);

CREATE TRIGGER outbox_enqueue_autoresponse AFTER INSERT ON outbox
BEGIN
    INSERT INTO webhook_deliveries (intake_id, endpoint, state, next_attempt_ms, created_at_ms)
    SELECT NEW.intake_id, '@autoresponse', CASE WHEN NEW.state = 'held' THEN 'held' ELSE 'pending' END,
           NEW.created_at_ms, NEW.created_at_ms
    FROM intakes i
    WHERE i.id = NEW.intake_id AND i.consent = 1 AND i.contact_email IS NOT NULL
      AND EXISTS (SELECT 1 FROM autoresponse_settings WHERE enabled = 1);
END;
