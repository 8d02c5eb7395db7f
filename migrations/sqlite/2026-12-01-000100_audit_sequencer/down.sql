DROP TABLE audit_checkpoints;
CREATE TABLE audit_log_unkeyed (
    seq BIGINT PRIMARY KEY NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    detail TEXT,
    at TIMESTAMP NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_log_unkeyed
SELECT seq, actor_id, action, entity_type, entity_id, from_status, to_status, detail, at, prev_hash, hash
FROM audit_log WHERE seq IS NOT NULL;
DROP TABLE audit_log;
ALTER TABLE audit_log_unkeyed RENAME TO audit_log;
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, seq);
