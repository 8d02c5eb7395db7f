-- 技术合同认定登记 as a workflow: registration offices (government organizations designated for
-- a province-level region), the registrations of signed contracts and the history of their steps.
CREATE TABLE registration_offices (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    region TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (org_id, region)
);
CREATE INDEX registration_offices_region_idx ON registration_offices (region);

CREATE TABLE registrations (
    id TEXT PRIMARY KEY NOT NULL,
    contract_id TEXT NOT NULL REFERENCES contracts (id),
    -- The seller organization's region when filed: which offices handle it.
    region TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('filed', 'supplement_requested', 'under_review', 'approved', 'refused', 'cancelled')),
    declared_amount_fen BIGINT NOT NULL CHECK (declared_amount_fen > 0),
    registered_amount_fen BIGINT CHECK (registered_amount_fen > 0),
    registration_no TEXT UNIQUE,
    note TEXT NOT NULL,
    filed_by TEXT NOT NULL REFERENCES users (id),
    -- The review clock: the last (re)filing and the calendar day the review is due.
    filed_at TIMESTAMP NOT NULL,
    due_on DATE NOT NULL,
    overdue_notified_at TIMESTAMP,
    -- The latest supplement request, refusal or cancellation reason.
    reason TEXT,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX registrations_contract_idx ON registrations (contract_id, created_at);
CREATE INDEX registrations_status_idx ON registrations (status, region);
-- At most one live registration per contract: two concurrent filings cannot both win.
CREATE UNIQUE INDEX registrations_open_idx ON registrations (contract_id)
    WHERE status IN ('filed', 'supplement_requested', 'under_review', 'approved');

CREATE TABLE registration_steps (
    id TEXT PRIMARY KEY NOT NULL,
    registration_id TEXT NOT NULL REFERENCES registrations (id),
    seq INTEGER NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES users (id),
    note TEXT,
    -- JSON: amounts, numbers, before/after of an amendment.
    detail TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (registration_id, seq)
);
