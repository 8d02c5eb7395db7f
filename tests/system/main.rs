//! System tests: the real binary in separate processes, killed, restarted and scaled out.
//! They run one at a time (each starts servers and may stop PostgreSQL).

// Tests fail by panicking; unwrap/expect are the assertion style here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod crash;
mod harness;
mod postgres_restart;
mod scale_out;
mod shutdown;

/// Held by every system test so they never overlap.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
