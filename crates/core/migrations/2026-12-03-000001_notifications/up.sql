-- Webhooks and emails sent when a job reaches a final state. A trigger on the
-- job's status queues them, so every path that finishes a job (the worker, a
-- cancel, a sweeper, an older binary) notifies without knowing about it; the
-- web's dispatcher delivers them. Deleting a job deletes its notifications.

ALTER TABLE jobs
    ADD COLUMN webhook_url  TEXT,
    ADD COLUMN notify_email TEXT;

CREATE TABLE notifications (
    id              BIGSERIAL PRIMARY KEY,
    job_id          UUID NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('webhook', 'email')),
    target          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at    TIMESTAMPTZ,
    -- Set when the last attempt of the schedule failed: nothing more is tried.
    abandoned_at    TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (job_id, kind)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at)
    WHERE delivered_at IS NULL AND abandoned_at IS NULL;

-- One row per delivery attempt: the HTTP status or SMTP reply code, or why
-- there was none (refused target, connection failed, timeout).
CREATE TABLE notification_attempts (
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    attempt         INTEGER NOT NULL,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    status_code     INTEGER,
    error           TEXT,
    PRIMARY KEY (notification_id, attempt)
);

CREATE FUNCTION scribe_queue_notifications() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.webhook_url IS NOT NULL THEN
        INSERT INTO notifications (job_id, kind, target)
        VALUES (NEW.id, 'webhook', NEW.webhook_url)
        ON CONFLICT (job_id, kind) DO NOTHING;
    END IF;
    IF NEW.notify_email IS NOT NULL THEN
        INSERT INTO notifications (job_id, kind, target)
        VALUES (NEW.id, 'email', NEW.notify_email)
        ON CONFLICT (job_id, kind) DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

-- Only the move from an active state to a final one: a job is final once.
CREATE TRIGGER jobs_notify AFTER UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (OLD.status IN ('pending', 'processing')
          AND NEW.status IN ('complete', 'error', 'cancelled')
          AND (NEW.webhook_url IS NOT NULL OR NEW.notify_email IS NOT NULL))
    EXECUTE FUNCTION scribe_queue_notifications();
