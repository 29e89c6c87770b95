DROP INDEX uploads_newest_pipeline;
ALTER TABLE uploads DROP COLUMN pipeline;
