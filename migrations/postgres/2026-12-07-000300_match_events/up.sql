-- What matching showed and what came of it, for measuring match quality online (requests per
-- impression, acceptance by rank) and, later, for learning from it. Append-only; no foreign
-- keys, so writing an event never locks the listing or connection it names.
--   shown       a match list put `listing_id` at `rank` before `org_id`, for `source_listing_id`
--   requested   `org_id` asked for a connection to `listing_id` (rank/mode/source copied from
--               the latest impression of that listing to that organization, NULL when none)
--   accepted, declined (reason = decline reason code), contracted: the connection's outcome,
--               with the attribution of its request
CREATE TABLE match_events (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    org_id TEXT NOT NULL,
    source_listing_id TEXT,
    listing_id TEXT NOT NULL,
    rank INTEGER,
    mode TEXT,
    connection_id TEXT,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX match_events_attribution_idx ON match_events (listing_id, org_id, created_at);
CREATE INDEX match_events_connection_idx ON match_events (connection_id);
CREATE INDEX match_events_created_idx ON match_events (created_at);
