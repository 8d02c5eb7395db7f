DROP TABLE search_appearances;
ALTER TABLE listings DROP COLUMN stale_notified_at;
ALTER TABLE listings DROP COLUMN stale_reminded_at;
ALTER TABLE listings DROP COLUMN deadline_reminded_at;
ALTER TABLE listings DROP COLUMN confirmed_at;
UPDATE listings SET status = 'withdrawn' WHERE status = 'expired';
ALTER TABLE listings DROP CONSTRAINT listings_status_check;
ALTER TABLE listings ADD CONSTRAINT listings_status_check
    CHECK (status IN ('draft', 'pending_review', 'published', 'rejected', 'withdrawn', 'transferred'));
