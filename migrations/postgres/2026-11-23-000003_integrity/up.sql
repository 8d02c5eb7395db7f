-- Research-integrity records (科研诚信): warnings and vetoes (一票否决) on an organization or a user.
CREATE TABLE integrity_records (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT REFERENCES organizations (id),
    user_id TEXT REFERENCES users (id),
    severity TEXT NOT NULL CHECK (severity IN ('warning', 'veto')),
    reason TEXT NOT NULL,
    expires_at TIMESTAMP,
    lifted_at TIMESTAMP,
    lift_reason TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK ((org_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX integrity_records_org_idx ON integrity_records (org_id);
CREATE INDEX integrity_records_user_idx ON integrity_records (user_id);
