-- Listing freshness: demands expire at their deadline (new status `expired`), and a listing
-- nobody confirmed for `matching.confirm_after_days` leaves matching until its owner confirms it.
--   confirmed_at          the owner's last confirmation (also set by extending a demand)
--   deadline_reminded_at  the one reminder before a demand's deadline (cleared by extend)
--   stale_reminded_at     the one reminder before a listing goes stale (cleared by confirm)
--   stale_notified_at     the owner was told it left matching (cleared by confirm)
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt. Its rows go to a
-- copy and come back; foreign keys from other tables are checked at commit, once they have.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE listings_copy AS SELECT * FROM listings;
DROP TABLE listings;
CREATE TABLE listings (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('achievement', 'demand')),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    field TEXT NOT NULL,
    -- JSON arrays of strings.
    keywords TEXT NOT NULL DEFAULT '[]',
    transfer_modes TEXT NOT NULL DEFAULT '[]',
    patent_numbers TEXT NOT NULL DEFAULT '[]',
    trl INTEGER CHECK (trl BETWEEN 1 AND 9),
    price_fen BIGINT CHECK (price_fen >= 0),
    negotiable BOOLEAN NOT NULL DEFAULT FALSE,
    region TEXT NOT NULL,
    deadline DATE,
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending_review', 'published', 'rejected', 'withdrawn', 'transferred', 'expired')),
    reject_reason TEXT,
    submitted_at TIMESTAMP,
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    first_matched_at TIMESTAMP,
    confirmed_at TIMESTAMP,
    deadline_reminded_at TIMESTAMP,
    stale_reminded_at TIMESTAMP,
    stale_notified_at TIMESTAMP
);
INSERT INTO listings (id, kind, org_id, created_by, title, body, field, keywords, transfer_modes, patent_numbers, trl, price_fen, negotiable, region, deadline, status, reject_reason, submitted_at, published_at, created_at, updated_at, first_matched_at, confirmed_at, deadline_reminded_at, stale_reminded_at, stale_notified_at)
SELECT id, kind, org_id, created_by, title, body, field, keywords, transfer_modes, patent_numbers, trl, price_fen, negotiable, region, deadline, status, reject_reason, submitted_at, published_at, created_at, updated_at, first_matched_at, NULL, NULL, NULL, NULL FROM listings_copy;
DROP TABLE listings_copy;
CREATE INDEX listings_public_idx ON listings (kind, status, published_at);
CREATE INDEX listings_org_idx ON listings (org_id, kind);
CREATE INDEX listings_review_idx ON listings (status, submitted_at);
CREATE INDEX listings_updated_idx ON listings (updated_at);

-- How often a listing appeared on a search results page, per Asia/Shanghai calendar day.
-- Written in batches by an in-process aggregator, never once per result.
CREATE TABLE search_appearances (
    listing_id TEXT NOT NULL,
    day DATE NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (listing_id, day)
);
