CREATE INDEX uploads_sha256 ON uploads (sha256);
DROP INDEX uploads_duplicate_lookup;
