//! 科技成果转化平台: the technology-transfer marketplace backend.
//!
//! Layers (see docs/architecture in README): `api` (HTTP) → `service` (use cases, one
//! transaction each) → `db` (queries) and `domain` (pure rules). `domain` imports nothing
//! from the crate.

pub mod api;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod matching;
pub mod metrics;
pub mod pages;
pub mod search;
pub mod service;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
