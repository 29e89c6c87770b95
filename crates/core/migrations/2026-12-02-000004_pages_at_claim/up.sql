-- Pages done when the upload was last claimed: a redelivered task whose worker
-- committed pages since then was making progress (it lost its worker to a
-- broker restart or a drain timeout, not to the file), and is not poison.
ALTER TABLE uploads ADD COLUMN pages_at_claim INTEGER NOT NULL DEFAULT 0;
