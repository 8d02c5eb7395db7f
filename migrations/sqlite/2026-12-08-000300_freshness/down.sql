DROP TABLE search_appearances;
ALTER TABLE listings DROP COLUMN stale_notified_at;
ALTER TABLE listings DROP COLUMN stale_reminded_at;
ALTER TABLE listings DROP COLUMN deadline_reminded_at;
ALTER TABLE listings DROP COLUMN confirmed_at;
