-- Sentence embeddings of published listings (derived data, like the search index): the
-- passage vector ranks a listing as a candidate, the query vector ranks counterparts for it.
-- Little-endian f32s; `model` records which model made them (a new model re-embeds).
CREATE TABLE listing_vectors (
    listing_id TEXT PRIMARY KEY NOT NULL REFERENCES listings (id),
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    passage BYTEA NOT NULL,
    query BYTEA NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX listing_vectors_updated_idx ON listing_vectors (updated_at);
