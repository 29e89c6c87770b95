DROP INDEX jobs_finished_at;
