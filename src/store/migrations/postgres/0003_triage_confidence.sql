-- The router's probability for the route (1 when a rule decided it, and for
-- intakes stored before the trained router) and whether it fell below the
-- review threshold.
ALTER TABLE intakes ADD COLUMN confidence DOUBLE PRECISION NOT NULL DEFAULT 1;
ALTER TABLE intakes ADD COLUMN needs_review BIGINT NOT NULL DEFAULT 0;
