//! The API test suite: one binary, run once per backend (`TT_TEST_BACKEND=sqlite|postgres`).

// Tests fail by panicking; unwrap/expect are the assertion style here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod accounts;
mod brokers;
mod challenges;
mod connections;
mod contracts;
mod files;
mod freshness;
mod helpers;
mod instruments;
mod integrity;
mod jobs;
mod journey;
mod language;
mod listings;
mod matching;
mod openapi_examples;
mod ops;
mod organizations;
mod pages;
mod permissions;
mod races;
mod read_path;
mod registration;
mod security;
mod semantic;
mod settlement_batches;
mod torture;
mod vouchers;
