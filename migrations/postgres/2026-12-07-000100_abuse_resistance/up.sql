-- Login attempts are counted before the password is checked (`failures` now counts attempts:
-- in flight, failed, or succeeded during a burst), so a burst of parallel attempts evaluates
-- at most `auth.account_lock_failures` passwords; `pending` are still being checked, `failed`
-- are the completed failures that lock the account.
ALTER TABLE login_throttle ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_throttle ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
UPDATE login_throttle SET failed = failures;

-- Membership by invitation: the invitee accepts or declines; keyed by the normalized email,
-- so people who register later still find their invitations.
CREATE TABLE org_invitations (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    email TEXT NOT NULL,
    org_role TEXT NOT NULL CHECK (org_role IN ('owner', 'member')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    invited_by TEXT NOT NULL REFERENCES users (id),
    expires_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX org_invitations_pending_idx ON org_invitations (org_id, email) WHERE status = 'pending';
CREATE INDEX org_invitations_email_idx ON org_invitations (email, status);

-- Idempotency keys of every endpoint that honours them, scoped by user, method and path,
-- stored with the response they produced in the transaction that produced it.
CREATE TABLE idempotent_requests (
    user_id TEXT NOT NULL REFERENCES users (id),
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    "key" TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, method, path, "key")
);
INSERT INTO idempotent_requests (user_id, method, path, "key", fingerprint, status, response, created_at)
    SELECT user_id, 'POST', '/api/v1/voucher-redemptions', "key", fingerprint, status, response, created_at
    FROM idempotency_keys;
