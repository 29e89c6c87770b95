ALTER TABLE pages DROP COLUMN error_code, DROP COLUMN error;
