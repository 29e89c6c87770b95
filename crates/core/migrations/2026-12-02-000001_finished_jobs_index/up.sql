-- The retention sweeper looks for finished jobs by when they finished.
CREATE INDEX jobs_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL;
