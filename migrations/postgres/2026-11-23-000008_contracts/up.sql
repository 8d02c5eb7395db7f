-- 技术合同: from draft through both signatures, registration (认定登记), payments and
-- commercialization, with the income split to inventors.
CREATE TABLE contracts (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('transfer', 'license', 'equity', 'development', 'consulting', 'service')),
    title TEXT NOT NULL,
    seller_org_id TEXT NOT NULL REFERENCES organizations (id),
    buyer_org_id TEXT NOT NULL REFERENCES organizations (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    achievement_id TEXT REFERENCES listings (id),
    demand_id TEXT REFERENCES listings (id),
    challenge_id TEXT REFERENCES challenges (id),
    bid_id TEXT REFERENCES bids (id),
    connection_id TEXT REFERENCES connections (id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    paid_fen BIGINT NOT NULL DEFAULT 0 CHECK (paid_fen >= 0 AND paid_fen <= amount_fen),
    royalty_rate_bp INTEGER CHECK (royalty_rate_bp BETWEEN 0 AND 10000),
    status TEXT NOT NULL CHECK (status IN ('draft', 'signed', 'registered', 'performing', 'completed', 'terminated')),
    seller_signed_at TIMESTAMP,
    seller_signed_by TEXT,
    buyer_signed_at TIMESTAMP,
    buyer_signed_by TEXT,
    registration_no TEXT UNIQUE,
    registered_amount_fen BIGINT,
    registered_at TIMESTAMP,
    terminate_reason TEXT,
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (seller_org_id <> buyer_org_id)
);
CREATE INDEX contracts_seller_idx ON contracts (seller_org_id, created_at);
CREATE INDEX contracts_buyer_idx ON contracts (buyer_org_id, created_at);
CREATE INDEX contracts_status_idx ON contracts (status, kind);

CREATE TABLE contract_payment_plan (
    id TEXT PRIMARY KEY NOT NULL,
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    seq INTEGER NOT NULL,
    due_date DATE NOT NULL,
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0)
);
CREATE INDEX contract_payment_plan_idx ON contract_payment_plan (contract_id, seq);

CREATE TABLE contract_payments (
    id TEXT PRIMARY KEY NOT NULL,
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
    paid_at TIMESTAMP NOT NULL,
    reference TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX contract_payments_idx ON contract_payments (contract_id, paid_at);

-- Commercialization timeline: lab → pilot → mass production → on market.
CREATE TABLE commercialization_reports (
    id TEXT PRIMARY KEY NOT NULL,
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    stage TEXT NOT NULL CHECK (stage IN ('lab', 'pilot', 'mass_production', 'on_market')),
    stage_rank INTEGER NOT NULL,
    note TEXT NOT NULL,
    revenue_fen BIGINT CHECK (revenue_fen >= 0),
    reported_at TIMESTAMP NOT NULL,
    reported_by TEXT NOT NULL REFERENCES users (id),
    reporter_org_id TEXT NOT NULL REFERENCES organizations (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX commercialization_reports_idx ON commercialization_reports (contract_id, created_at);

-- The income split (促进科技成果转化法 Art. 45): beneficiaries as JSON with computed amounts.
CREATE TABLE revenue_distributions (
    id TEXT PRIMARY KEY NOT NULL,
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    net_income_fen BIGINT NOT NULL CHECK (net_income_fen >= 0),
    inventor_share_bp INTEGER NOT NULL CHECK (inventor_share_bp BETWEEN 0 AND 10000),
    inventor_pool_fen BIGINT NOT NULL,
    beneficiaries TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX revenue_distributions_idx ON revenue_distributions (contract_id, created_at);

-- Sequential registration numbers per year (2026-000123), safe under concurrency.
CREATE TABLE registration_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last_no BIGINT NOT NULL
);
