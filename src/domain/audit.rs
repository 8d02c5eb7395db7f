//! The audit log's hash chain: each entry stores SHA-256(previous hash ‖ canonical content),
//! so editing, deleting or reordering any entry breaks every hash after it; and signed
//! checkpoints of the chain's size and head, so truncating or rewriting the newest entries
//! (which leaves a shorter but self-consistent chain) is detected too.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The hash the first entry chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields covered by an entry's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryContent<'a> {
    pub seq: i64,
    pub actor_id: Option<&'a str>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: Option<&'a str>,
    pub detail: Option<&'a str>,
    /// RFC 3339 with microseconds, UTC.
    pub at: &'a str,
}

/// Hex SHA-256 of `prev_hash` followed by the entry's canonical JSON encoding.
pub fn entry_hash(prev_hash: &str, e: &EntryContent<'_>) -> String {
    let canonical = serde_json::json!([
        e.seq,
        e.actor_id,
        e.action,
        e.entity_type,
        e.entity_id,
        e.from_status,
        e.to_status,
        e.detail,
        e.at
    ]);
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.to_string().as_bytes());
    hex(&hasher.finalize())
}

/// A signed statement that the chain had `size` entries ending in `head` (the signed tree
/// head of Certificate Transparency, with an HMAC instead of a public-key signature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub size: i64,
    pub head: String,
    /// Hex HMAC-SHA256 over the size, the head and the time (`at`, canonical text).
    pub signature: String,
}

impl Checkpoint {
    pub fn sign(key: &[u8], size: i64, head: &str, at: &str) -> Self {
        Self {
            size,
            head: head.to_owned(),
            signature: hex(&checkpoint_mac(key, size, head, at).finalize().into_bytes()),
        }
    }

    /// True when the signature matches (compared in constant time).
    pub fn verify(&self, key: &[u8], at: &str) -> bool {
        let Some(bytes) = unhex(&self.signature) else { return false };
        checkpoint_mac(key, self.size, &self.head, at).verify_slice(&bytes).is_ok()
    }
}

fn checkpoint_mac(key: &[u8], size: i64, head: &str, at: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(format!("techtransfer-audit-checkpoint/v1\n{size}\n{head}\n{at}").as_bytes());
    mac
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> EntryContent<'_> {
        EntryContent {
            seq: 1,
            actor_id: Some("u1"),
            action,
            entity_type: "organization",
            entity_id: "o1",
            from_status: Some("pending"),
            to_status: Some("verified"),
            detail: None,
            at: "2026-11-23T08:00:00.000000Z",
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let a = entry_hash(GENESIS, &entry("organization.verify"));
        assert_eq!(a.len(), 64);
        assert_eq!(a, entry_hash(GENESIS, &entry("organization.verify")));
        assert_ne!(a, entry_hash(GENESIS, &entry("organization.reject")));
        assert_ne!(a, entry_hash(&a, &entry("organization.verify")));
    }

    #[test]
    fn checkpoints_verify_only_with_their_key_and_content() {
        let at = "2026-12-01T08:00:00.000000Z";
        let cp = Checkpoint::sign(b"key-one", 42, "abc", at);
        assert!(cp.verify(b"key-one", at));
        assert!(!cp.verify(b"key-two", at));
        assert!(!cp.verify(b"key-one", "2026-12-01T08:00:01.000000Z"));
        assert!(!Checkpoint { size: 41, ..cp.clone() }.verify(b"key-one", at));
        assert!(!Checkpoint { head: "abd".into(), ..cp.clone() }.verify(b"key-one", at));
        assert!(!Checkpoint { signature: "zz".into(), ..cp }.verify(b"key-one", at));
    }
}
