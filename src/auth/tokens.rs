//! Opaque random tokens (refresh tokens, email links): 256 random bits as hex, stored only
//! as their SHA-256 hash.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::audit::hex;

/// A fresh URL-safe token (64 hex characters).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The stored form of a token.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}
