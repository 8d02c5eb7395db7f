-- When the engine first showed a listing's owner at least one counterpart (funnel: matched).
ALTER TABLE listings ADD COLUMN first_matched_at TIMESTAMP;

-- 供需对接: one organization asks the owner of a listing to talk.
CREATE TABLE connections (
    id TEXT PRIMARY KEY NOT NULL,
    listing_id TEXT NOT NULL REFERENCES listings (id),
    listing_kind TEXT NOT NULL CHECK (listing_kind IN ('achievement', 'demand')),
    listing_org_id TEXT NOT NULL REFERENCES organizations (id),
    requester_org_id TEXT NOT NULL REFERENCES organizations (id),
    requester_user_id TEXT NOT NULL REFERENCES users (id),
    message TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'accepted', 'declined', 'contracted')),
    decline_reason_code TEXT CHECK (decline_reason_code IN ('too_early', 'unclear_benefit', 'price', 'not_relevant', 'capacity', 'other')),
    decline_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    responded_at TIMESTAMP
);
-- One live request per organization and listing, even under concurrent requests.
CREATE UNIQUE INDEX connections_live_idx ON connections (requester_org_id, listing_id) WHERE status IN ('requested', 'accepted');
CREATE INDEX connections_requester_idx ON connections (requester_org_id, created_at);
CREATE INDEX connections_listing_org_idx ON connections (listing_org_id, created_at);

CREATE TABLE connection_messages (
    id TEXT PRIMARY KEY NOT NULL,
    connection_id TEXT NOT NULL REFERENCES connections (id),
    author_user_id TEXT NOT NULL REFERENCES users (id),
    author_org_id TEXT NOT NULL REFERENCES organizations (id),
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX connection_messages_thread_idx ON connection_messages (connection_id, created_at);
