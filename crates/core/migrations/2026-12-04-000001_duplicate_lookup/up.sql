-- The duplicate lookup on every upload asks for complete first files with this
-- hash. Indexed by hash alone, the planner walked all of the owner's jobs
-- instead (13 ms at 1,600 jobs, statement timeouts under load); with the
-- status and position in the key it reads only the rows that can match.
CREATE INDEX uploads_duplicate_lookup ON uploads (sha256, status, position);
DROP INDEX uploads_sha256;
