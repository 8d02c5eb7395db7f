-- 科技创新券: programs with a fixed budget. `issued_fen - released_fen <= total_budget_fen`
-- always; every change of a balance is one guarded UPDATE plus one ledger row, in one
-- transaction.
CREATE TABLE voucher_programs (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    year INTEGER NOT NULL,
    total_budget_fen BIGINT NOT NULL CHECK (total_budget_fen > 0),
    per_enterprise_cap_fen BIGINT NOT NULL CHECK (per_enterprise_cap_fen > 0),
    coverage_ratio_bp INTEGER NOT NULL CHECK (coverage_ratio_bp BETWEEN 1 AND 10000),
    service_categories TEXT NOT NULL,
    eligible_scales TEXT NOT NULL,
    valid_days INTEGER NOT NULL CHECK (valid_days > 0),
    applications_open DATE NOT NULL,
    applications_close DATE NOT NULL,
    settle_by DATE NOT NULL,
    issued_fen BIGINT NOT NULL DEFAULT 0,
    released_fen BIGINT NOT NULL DEFAULT 0,
    settled_fen BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK (issued_fen >= 0 AND released_fen >= 0 AND settled_fen >= 0),
    CHECK (issued_fen - released_fen <= total_budget_fen)
);

CREATE TABLE voucher_applications (
    id TEXT PRIMARY KEY NOT NULL,
    program_id TEXT NOT NULL REFERENCES voucher_programs (id),
    enterprise_id TEXT NOT NULL REFERENCES organizations (id),
    applicant_id TEXT NOT NULL REFERENCES users (id),
    requested_fen BIGINT NOT NULL CHECK (requested_fen > 0),
    purpose TEXT NOT NULL,
    service_category TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected')),
    approved_fen BIGINT,
    reject_reason TEXT,
    voucher_id TEXT,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
CREATE INDEX voucher_applications_program_idx ON voucher_applications (program_id, status);
CREATE INDEX voucher_applications_enterprise_idx ON voucher_applications (enterprise_id);

-- What each enterprise holds from a program (face value issued minus what returned), so the
-- per-enterprise cap is one guarded UPDATE too.
CREATE TABLE voucher_enterprise_totals (
    program_id TEXT NOT NULL REFERENCES voucher_programs (id),
    enterprise_id TEXT NOT NULL REFERENCES organizations (id),
    net_fen BIGINT NOT NULL DEFAULT 0 CHECK (net_fen >= 0),
    PRIMARY KEY (program_id, enterprise_id)
);

-- balance + reserved + settled + returned = face value, always.
CREATE TABLE vouchers (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    program_id TEXT NOT NULL REFERENCES voucher_programs (id),
    enterprise_id TEXT NOT NULL REFERENCES organizations (id),
    application_id TEXT NOT NULL REFERENCES voucher_applications (id),
    service_category TEXT NOT NULL,
    face_value_fen BIGINT NOT NULL CHECK (face_value_fen > 0),
    balance_fen BIGINT NOT NULL CHECK (balance_fen >= 0),
    reserved_fen BIGINT NOT NULL DEFAULT 0 CHECK (reserved_fen >= 0),
    settled_fen BIGINT NOT NULL DEFAULT 0 CHECK (settled_fen >= 0),
    returned_fen BIGINT NOT NULL DEFAULT 0 CHECK (returned_fen >= 0),
    status TEXT NOT NULL CHECK (status IN ('active', 'exhausted', 'expired', 'revoked')),
    expires_at TIMESTAMP NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    revoke_reason TEXT,
    CHECK (balance_fen + reserved_fen + settled_fen + returned_fen = face_value_fen)
);
CREATE INDEX vouchers_enterprise_idx ON vouchers (enterprise_id);
CREATE INDEX vouchers_program_idx ON vouchers (program_id);

CREATE TABLE voucher_redemptions (
    id TEXT PRIMARY KEY NOT NULL,
    voucher_id TEXT NOT NULL REFERENCES vouchers (id),
    program_id TEXT NOT NULL REFERENCES voucher_programs (id),
    provider_org_id TEXT NOT NULL REFERENCES organizations (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    service_fee_fen BIGINT NOT NULL CHECK (service_fee_fen > 0),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    invoice_no TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending_confirmation', 'confirmed', 'settled', 'rejected')),
    reject_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    decided_at TIMESTAMP
);
CREATE INDEX voucher_redemptions_voucher_idx ON voucher_redemptions (voucher_id);
CREATE INDEX voucher_redemptions_provider_idx ON voucher_redemptions (provider_org_id);
CREATE INDEX voucher_redemptions_program_idx ON voucher_redemptions (program_id, status);

-- Every movement of money, positive amounts only.
CREATE TABLE voucher_ledger (
    id TEXT PRIMARY KEY NOT NULL,
    program_id TEXT NOT NULL REFERENCES voucher_programs (id),
    voucher_id TEXT NOT NULL REFERENCES vouchers (id),
    redemption_id TEXT REFERENCES voucher_redemptions (id),
    kind TEXT NOT NULL CHECK (kind IN ('issue', 'reserve', 'release', 'settle', 'expire', 'revoke')),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    at TIMESTAMP NOT NULL
);
-- Ids are time-ordered (UUIDv7): (at, id) orders movements made in one transaction.
CREATE INDEX voucher_ledger_program_idx ON voucher_ledger (program_id, at, id);

-- Idempotency keys of money-moving requests, stored with the response they produced.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
