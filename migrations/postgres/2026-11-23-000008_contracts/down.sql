DROP TABLE registration_counters;
DROP TABLE revenue_distributions;
DROP TABLE commercialization_reports;
DROP TABLE contract_payments;
DROP TABLE contract_payment_plan;
DROP TABLE contracts;
