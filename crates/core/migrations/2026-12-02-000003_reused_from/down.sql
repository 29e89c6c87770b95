DROP INDEX uploads_sha256;
ALTER TABLE jobs DROP COLUMN reused_from;
