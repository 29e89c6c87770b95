-- Jobs, the files uploaded with them, and each file's pages. Status columns are
-- text with CHECKs so a row can be read with psql; every move between states is
-- a guarded UPDATE in scribe-core's queries.

CREATE TABLE jobs (
    id          UUID PRIMARY KEY,
    owner       TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'processing', 'complete', 'error', 'cancelled')),
    language    TEXT NOT NULL,
    formats     JSONB NOT NULL,
    published   BOOLEAN NOT NULL DEFAULT FALSE,
    error       TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
CREATE INDEX jobs_owner_created ON jobs (owner, created_at DESC);
CREATE INDEX jobs_unpublished ON jobs (created_at) WHERE NOT published;

CREATE TABLE uploads (
    id            UUID PRIMARY KEY,
    job_id        UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    file_name     TEXT NOT NULL,
    storage_key   TEXT NOT NULL,
    detected_type TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    page_count    INTEGER,
    pages_done    INTEGER NOT NULL DEFAULT 0,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'processing', 'complete', 'error', 'cancelled')),
    error_code    TEXT,
    error         TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ,
    UNIQUE (job_id, position)
);

CREATE TABLE pages (
    upload_id       UUID NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    number          INTEGER NOT NULL,
    text            TEXT NOT NULL,
    mean_confidence REAL,
    duration_ms     BIGINT NOT NULL,
    rotation        INTEGER NOT NULL DEFAULT 0,
    word_count      INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (upload_id, number)
);
