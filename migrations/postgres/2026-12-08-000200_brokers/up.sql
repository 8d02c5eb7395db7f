-- 技术经理人: a profile for a member of a verified service-provider organization, invited
-- into connections by either party; contracts record the broker and its commission.
CREATE TABLE broker_profiles (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL UNIQUE REFERENCES users (id),
    -- The service provider the broker works for; the profile is live only while the user is
    -- still a member of it and it is verified.
    org_id TEXT NOT NULL REFERENCES organizations (id),
    -- JSON array of technology fields (the listings' vocabulary).
    fields TEXT NOT NULL,
    certificate_no TEXT NOT NULL,
    years_of_practice INTEGER NOT NULL CHECK (years_of_practice BETWEEN 0 AND 60),
    bio TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX broker_profiles_org_idx ON broker_profiles (org_id);

ALTER TABLE connections ADD COLUMN broker_id TEXT REFERENCES broker_profiles (id);
ALTER TABLE connections ADD COLUMN broker_invited_at TIMESTAMP;
CREATE INDEX connections_broker_idx ON connections (broker_id);

ALTER TABLE contracts ADD COLUMN broker_id TEXT REFERENCES broker_profiles (id);
ALTER TABLE contracts ADD COLUMN broker_org_id TEXT REFERENCES organizations (id);
ALTER TABLE contracts ADD COLUMN commission_fen BIGINT CHECK (commission_fen >= 0);
ALTER TABLE contracts ADD COLUMN commission_bp INTEGER CHECK (commission_bp BETWEEN 0 AND 10000);
CREATE INDEX contracts_broker_idx ON contracts (broker_id);

-- The broker's line of an income split (0 without a broker).
ALTER TABLE revenue_distributions ADD COLUMN broker_commission_fen BIGINT NOT NULL DEFAULT 0;
