-- The audit log is sequenced after commit: business transactions insert entries without a
-- sequence number or hash (no lock, no ordering between writers); one sequencer at a time
-- assigns `seq` and the chain hash and signs checkpoints. Entries get their own key.
ALTER TABLE audit_log ADD COLUMN id TEXT;
UPDATE audit_log SET id = gen_random_uuid()::text;
ALTER TABLE audit_log ALTER COLUMN id SET NOT NULL;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log ADD PRIMARY KEY (id);
ALTER TABLE audit_log ALTER COLUMN seq DROP NOT NULL;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_seq_key UNIQUE (seq);
ALTER TABLE audit_log ALTER COLUMN prev_hash DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN hash DROP NOT NULL;
ALTER TABLE audit_log ADD COLUMN sequenced_at TIMESTAMP;
UPDATE audit_log SET sequenced_at = at;
-- What the sequencer takes next, in insertion order.
CREATE INDEX audit_log_pending_idx ON audit_log (at, id) WHERE seq IS NULL;

-- Signed statements of the chain's size and head hash (Certificate Transparency's STH).
CREATE TABLE audit_checkpoints (
    size BIGINT PRIMARY KEY NOT NULL,
    head TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    signature TEXT NOT NULL
);
