//! Credentials and tokens: argon2id password hashing, HS256 access tokens, random
//! single-use tokens stored as hashes, and the per-IP login limiter.

pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod tokens;
