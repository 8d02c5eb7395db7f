-- 科技资源开放共享: instruments a provider opens to others, and their bookings.
-- A booking that carries a voucher holds the covered share of its fee on the voucher
-- (`reserved_fen`, with a `reserve` ledger row) until it is completed (the reservation becomes
-- the redemption `redemption_id`) or rejected, cancelled or missed (the reservation is released).
CREATE TABLE instruments (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    model TEXT NOT NULL,
    category TEXT NOT NULL,
    location TEXT NOT NULL,
    region TEXT NOT NULL,
    description TEXT NOT NULL,
    fee_per_hour_fen BIGINT,
    fee_per_sample_fen BIGINT,
    accessories TEXT NOT NULL,
    open_hours TEXT NOT NULL,
    weekly_open_hours INTEGER NOT NULL,
    training_required BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX instruments_org_idx ON instruments (org_id);
CREATE INDEX instruments_updated_idx ON instruments (updated_at, id);

CREATE TABLE instrument_bookings (
    id TEXT PRIMARY KEY NOT NULL,
    instrument_id TEXT NOT NULL REFERENCES instruments (id),
    org_id TEXT NOT NULL REFERENCES organizations (id),
    requested_by TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    samples INTEGER,
    purpose TEXT NOT NULL,
    fee_fen BIGINT NOT NULL,
    voucher_id TEXT,
    program_id TEXT,
    reserved_fen BIGINT NOT NULL,
    redemption_id TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX instrument_bookings_slot_idx ON instrument_bookings (instrument_id, starts_at);
CREATE INDEX instrument_bookings_org_idx ON instrument_bookings (org_id, status, starts_at);
