-- A job answered from an earlier job's results (the same owner sent the same
-- files with the same language and outputs). No foreign key: the earlier job
-- may be deleted later, and this job keeps its own copy of everything.
ALTER TABLE jobs ADD COLUMN reused_from UUID;
-- Finding that earlier job starts from the first file's hash.
CREATE INDEX uploads_sha256 ON uploads (sha256);
