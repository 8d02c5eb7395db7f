DROP TABLE idempotency_keys;
DROP TABLE voucher_ledger;
DROP TABLE voucher_redemptions;
DROP TABLE vouchers;
DROP TABLE voucher_enterprise_totals;
DROP TABLE voucher_applications;
DROP TABLE voucher_programs;
