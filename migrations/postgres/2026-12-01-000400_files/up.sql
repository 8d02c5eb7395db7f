-- Uploaded files (the bytes live in object storage under `storage_key`), their attachments to
-- workflow records, the purposes programs and challenges require, and the confidential detail
-- of achievements with the NDA-based access requests that open it.
CREATE TABLE files (
    id TEXT PRIMARY KEY NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    size BIGINT NOT NULL CHECK (size >= 0),
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    purpose TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    org_id TEXT REFERENCES organizations (id),
    status TEXT NOT NULL CHECK (status IN ('stored', 'attached', 'deleted')),
    created_at TIMESTAMP NOT NULL,
    attached_at TIMESTAMP
);
CREATE INDEX files_uploader_idx ON files (uploaded_by, created_at);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    file_id TEXT NOT NULL REFERENCES files (id),
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    attached_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (record_type, record_id, file_id)
);
CREATE INDEX attachments_record_idx ON attachments (record_type, record_id, created_at);
CREATE INDEX attachments_file_idx ON attachments (file_id);

CREATE TABLE required_purposes (
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL,
    purposes TEXT NOT NULL,
    PRIMARY KEY (record_type, record_id)
);

CREATE TABLE achievement_confidential (
    achievement_id TEXT PRIMARY KEY NOT NULL REFERENCES listings (id),
    text TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE access_requests (
    id TEXT PRIMARY KEY NOT NULL,
    achievement_id TEXT NOT NULL REFERENCES listings (id),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    requested_by TEXT NOT NULL REFERENCES users (id),
    message TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'granted', 'active', 'declined', 'revoked')),
    nda_text TEXT,
    nda_version TEXT,
    nda_sha256 TEXT,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    reason TEXT,
    accepted_by TEXT REFERENCES users (id),
    accepted_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX access_requests_achievement_idx ON access_requests (achievement_id, created_at);
CREATE UNIQUE INDEX access_requests_live_idx ON access_requests (achievement_id, org_id)
    WHERE status IN ('requested', 'granted', 'active');
