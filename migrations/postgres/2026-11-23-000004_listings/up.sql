-- Achievements (科技成果) and demands (技术需求) share one table: the same lifecycle, review,
-- search and matching. For demands `trl` holds the minimum TRL and `price_fen` the budget.
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
    status TEXT NOT NULL CHECK (status IN ('draft', 'pending_review', 'published', 'rejected', 'withdrawn', 'transferred')),
    reject_reason TEXT,
    submitted_at TIMESTAMP,
    published_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX listings_public_idx ON listings (kind, status, published_at);
CREATE INDEX listings_org_idx ON listings (org_id, kind);
CREATE INDEX listings_review_idx ON listings (status, submitted_at);
CREATE INDEX listings_updated_idx ON listings (updated_at);

-- Subscriptions to newly published achievements, demands or challenges.
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    target TEXT NOT NULL CHECK (target IN ('achievement', 'demand', 'challenge')),
    fields TEXT NOT NULL DEFAULT '[]',
    keywords TEXT NOT NULL DEFAULT '[]',
    region TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX subscriptions_target_idx ON subscriptions (target);
CREATE INDEX subscriptions_user_idx ON subscriptions (user_id);

-- Matches waiting for the subscriber's daily email digest.
CREATE TABLE digest_items (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    target TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    UNIQUE (user_id, target, entity_id)
);
CREATE INDEX digest_items_pending_idx ON digest_items (sent_at, user_id);
