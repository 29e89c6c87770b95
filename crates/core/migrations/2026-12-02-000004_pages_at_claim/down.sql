ALTER TABLE uploads DROP COLUMN pages_at_claim;
