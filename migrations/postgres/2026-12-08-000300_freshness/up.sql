-- Listing freshness: demands expire at their deadline (new status `expired`), and a listing
-- nobody confirmed for `matching.confirm_after_days` leaves matching until its owner confirms it.
--   confirmed_at          the owner's last confirmation (also set by extending a demand)
--   deadline_reminded_at  the one reminder before a demand's deadline (cleared by extend)
--   stale_reminded_at     the one reminder before a listing goes stale (cleared by confirm)
--   stale_notified_at     the owner was told it left matching (cleared by confirm)
ALTER TABLE listings DROP CONSTRAINT listings_status_check;
ALTER TABLE listings ADD CONSTRAINT listings_status_check
    CHECK (status IN ('draft', 'pending_review', 'published', 'rejected', 'withdrawn', 'transferred', 'expired'));
ALTER TABLE listings ADD COLUMN confirmed_at TIMESTAMP;
ALTER TABLE listings ADD COLUMN deadline_reminded_at TIMESTAMP;
ALTER TABLE listings ADD COLUMN stale_reminded_at TIMESTAMP;
ALTER TABLE listings ADD COLUMN stale_notified_at TIMESTAMP;

-- How often a listing appeared on a search results page, per Asia/Shanghai calendar day.
-- Written in batches by an in-process aggregator, never once per result.
CREATE TABLE search_appearances (
    listing_id TEXT NOT NULL,
    day DATE NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (listing_id, day)
);
