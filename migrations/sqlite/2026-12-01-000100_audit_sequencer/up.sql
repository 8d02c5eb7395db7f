-- The audit log is sequenced after commit: business transactions insert entries without a
-- sequence number or hash (no lock, no ordering between writers); one sequencer at a time
-- assigns `seq` and the chain hash and signs checkpoints. Entries get their own key.
CREATE TABLE audit_log_sequenced (
    id TEXT PRIMARY KEY NOT NULL,
    seq BIGINT UNIQUE,
    actor_id TEXT,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    detail TEXT,
    at TIMESTAMP NOT NULL,
    prev_hash TEXT,
    hash TEXT,
    sequenced_at TIMESTAMP
);
INSERT INTO audit_log_sequenced
    (id, seq, actor_id, action, entity_type, entity_id, from_status, to_status, detail, at, prev_hash, hash, sequenced_at)
SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2)
           || '-a' || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
       seq, actor_id, action, entity_type, entity_id, from_status, to_status, detail, at, prev_hash, hash, at
FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_sequenced RENAME TO audit_log;
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, seq);
-- What the sequencer takes next, in insertion order.
CREATE INDEX audit_log_pending_idx ON audit_log (at, id) WHERE seq IS NULL;

-- Signed statements of the chain's size and head hash (Certificate Transparency's STH).
CREATE TABLE audit_checkpoints (
    size BIGINT PRIMARY KEY NOT NULL,
    head TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    signature TEXT NOT NULL
);
