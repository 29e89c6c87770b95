-- Full-text search over every page. Each page's words are indexed with the
-- text-search configuration of its job's language (stemming: "scanned" finds
-- "scanning"), `simple` for languages PostgreSQL has no stemmer for and for
-- mixed languages. A trigger fills both columns, so the worker's insert stays
-- as it was and an older worker still writes searchable pages.

CREATE FUNCTION scribe_search_config(language TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE language
        WHEN 'eng' THEN 'english'
        WHEN 'deu' THEN 'german'
        WHEN 'frk' THEN 'german'
        WHEN 'fra' THEN 'french'
        WHEN 'spa' THEN 'spanish'
        WHEN 'ita' THEN 'italian'
        WHEN 'por' THEN 'portuguese'
        WHEN 'nld' THEN 'dutch'
        WHEN 'dan' THEN 'danish'
        WHEN 'fin' THEN 'finnish'
        WHEN 'hun' THEN 'hungarian'
        WHEN 'nor' THEN 'norwegian'
        WHEN 'ron' THEN 'romanian'
        WHEN 'rus' THEN 'russian'
        WHEN 'swe' THEN 'swedish'
        WHEN 'tur' THEN 'turkish'
        ELSE 'simple'
    END
$$;

ALTER TABLE pages
    ADD COLUMN search_config TEXT NOT NULL DEFAULT 'simple',
    ADD COLUMN search TSVECTOR NOT NULL DEFAULT ''::tsvector;

CREATE FUNCTION scribe_index_page() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT scribe_search_config(j.language) INTO NEW.search_config
    FROM uploads u JOIN jobs j ON j.id = u.job_id
    WHERE u.id = NEW.upload_id;
    NEW.search_config := COALESCE(NEW.search_config, 'simple');
    NEW.search := to_tsvector(NEW.search_config::regconfig, NEW.text);
    RETURN NEW;
END
$$;

CREATE TRIGGER pages_index BEFORE INSERT OR UPDATE OF text ON pages
    FOR EACH ROW EXECUTE FUNCTION scribe_index_page();

-- Pages read before this migration.
UPDATE pages SET text = text;

CREATE INDEX pages_search ON pages USING GIN (search);
