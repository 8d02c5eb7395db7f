//! The audit log's hash chain: each entry stores SHA-256(previous hash ‖ canonical content),
//! so editing, deleting or reordering any entry breaks every hash after it.

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
}
