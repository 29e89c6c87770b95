DROP INDEX pages_search;
DROP TRIGGER pages_index ON pages;
DROP FUNCTION scribe_index_page();
ALTER TABLE pages DROP COLUMN search, DROP COLUMN search_config;
DROP FUNCTION scribe_search_config(TEXT);
