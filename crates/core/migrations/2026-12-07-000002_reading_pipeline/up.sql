-- Which build of the reading (worker and Tesseract) finished a file. A later
-- identical upload reuses a result only when it was read the way files are
-- read now, so results made before an improvement are not handed out again.
ALTER TABLE uploads ADD COLUMN pipeline TEXT;
-- "The way files are read now": the pipeline of the file finished last.
CREATE INDEX uploads_newest_pipeline ON uploads (finished_at DESC) WHERE pipeline IS NOT NULL;
