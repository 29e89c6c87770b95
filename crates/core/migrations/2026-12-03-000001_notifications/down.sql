DROP TRIGGER jobs_notify ON jobs;
DROP FUNCTION scribe_queue_notifications();
DROP TABLE notification_attempts;
DROP TABLE notifications;
ALTER TABLE jobs DROP COLUMN notify_email, DROP COLUMN webhook_url;
