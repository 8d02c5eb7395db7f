//! Answers computed from one snapshot of a collection, reused until that collection changes.
//!
//! A search page or a match list depends only on the query and on what the index holds (the
//! rows it returns are published listings, and a published listing cannot be edited: every
//! change to one goes through a status change that reaches the index). Each collection counts
//! its reloads; an answer is stored with the count it was computed under and served only while
//! the count is the same. Another instance's change arrives with the search catch-up, so a
//! cached answer is never staler than the index it came from.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// A bounded map of answers, each valid for one collection generation.
pub struct ResultCache<K, V> {
    entries: Mutex<HashMap<K, (u64, V)>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> ResultCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), capacity }
    }

    /// The answer stored for `key`, if it was computed under `generation`.
    pub fn get(&self, key: &K, generation: u64) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(g, _)| *g == generation).map(|(_, v)| v.clone())
    }

    /// Stores an answer computed under `generation` (read before computing it, so an answer
    /// that raced with a change is stored as already stale). When full, everything is
    /// dropped: answers are cheap to recompute and a change invalidates them all anyway.
    pub fn put(&self, key: K, generation: u64, value: V) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, (generation, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_served_only_under_its_generation() {
        let cache = ResultCache::new(4);
        cache.put("q", 7, "page");
        assert_eq!(cache.get(&"q", 7), Some("page"));
        assert_eq!(cache.get(&"q", 8), None, "a reload invalidates the answer");
        assert_eq!(cache.get(&"other", 7), None);
    }

    #[test]
    fn a_full_cache_starts_over_and_a_zero_capacity_stores_nothing() {
        let cache = ResultCache::new(2);
        cache.put(1, 0, 'a');
        cache.put(2, 0, 'b');
        cache.put(3, 0, 'c');
        assert_eq!((cache.get(&1, 0), cache.get(&3, 0)), (None, Some('c')));
        let off = ResultCache::new(0);
        off.put(1, 0, 'a');
        assert_eq!(off.get(&1, 0), None);
    }
}
