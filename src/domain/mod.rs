//! Pure business rules: no database, no HTTP, no clock reads (time is passed in).

pub mod error;
