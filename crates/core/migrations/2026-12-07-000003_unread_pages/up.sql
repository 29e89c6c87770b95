-- A page that could not be read (damaged, too large, refused by the engine)
-- is recorded with its reason; the rest of its file is read.
ALTER TABLE pages ADD COLUMN error_code TEXT, ADD COLUMN error TEXT;
