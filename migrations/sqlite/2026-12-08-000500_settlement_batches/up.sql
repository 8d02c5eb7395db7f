-- Settlement batches (结算批次): every confirmed redemption of a program confirmed up to the
-- cut-off day is settled together; the batch keeps its count, total and a SHA-256 of the sorted
-- redemption ids, and each settled redemption names its batch.
CREATE TABLE voucher_settlement_batches (
    id TEXT PRIMARY KEY NOT NULL,
    program_id TEXT NOT NULL REFERENCES voucher_programs (id),
    cut_off DATE NOT NULL,
    redemption_count BIGINT NOT NULL DEFAULT 0 CHECK (redemption_count >= 0),
    total_fen BIGINT NOT NULL DEFAULT 0 CHECK (total_fen >= 0),
    ids_sha256 TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX voucher_settlement_batches_program_idx ON voucher_settlement_batches (program_id, created_at);

-- No REFERENCES here: SQLite cannot DROP a column that is part of a foreign key (down.sql).
ALTER TABLE voucher_redemptions ADD COLUMN batch_id TEXT;
CREATE INDEX voucher_redemptions_batch_idx ON voucher_redemptions (batch_id, id);
