DROP INDEX voucher_redemptions_batch_idx;
ALTER TABLE voucher_redemptions DROP COLUMN batch_id;
DROP TABLE voucher_settlement_batches;
