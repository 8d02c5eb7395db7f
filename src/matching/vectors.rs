//! The in-process vector index: the passage vector of every published listing, 8 bits per
//! dimension, searched by brute force (a dot product per listing; see `bench match` for the
//! figures). Like the text index it is derived data: the embeddings sync loop fills it from
//! `listing_vectors`, so several instances converge on the same contents.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};

use super::embeddings::Quantized;
use crate::search::Kind;

/// Whether semantic matching is working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No embeddings server is configured.
    Off,
    Ok,
    /// The embeddings server failed its last call; matching falls back to text for what it
    /// cannot embed, and the sync loop keeps retrying.
    Degraded,
}

#[derive(Default)]
struct Sets {
    achievements: HashMap<String, Quantized>,
    demands: HashMap<String, Quantized>,
}

impl Sets {
    fn of(&self, kind: Kind) -> Option<&HashMap<String, Quantized>> {
        match kind {
            Kind::Achievement => Some(&self.achievements),
            Kind::Demand => Some(&self.demands),
            Kind::Challenge => None,
        }
    }

    fn of_mut(&mut self, kind: Kind) -> Option<&mut HashMap<String, Quantized>> {
        match kind {
            Kind::Achievement => Some(&mut self.achievements),
            Kind::Demand => Some(&mut self.demands),
            Kind::Challenge => None,
        }
    }
}

pub struct VectorIndex {
    /// The model whose vectors are held (empty: semantic matching off).
    pub model: String,
    sets: RwLock<Sets>,
    status: AtomicU8,
    pending: AtomicI64,
    /// Changes whenever a vector is added or dropped (answers derived from the index are
    /// keyed by it).
    generation: std::sync::atomic::AtomicU64,
}

impl VectorIndex {
    pub fn new(model: Option<&str>) -> Self {
        Self {
            model: model.unwrap_or_default().to_owned(),
            sets: RwLock::default(),
            status: AtomicU8::new(if model.is_some() { 1 } else { 0 }),
            pending: AtomicI64::new(0),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn enabled(&self) -> bool {
        !self.model.is_empty()
    }

    pub fn status(&self) -> Status {
        match self.status.load(Ordering::Relaxed) {
            0 => Status::Off,
            1 => Status::Ok,
            _ => Status::Degraded,
        }
    }

    pub fn set_status(&self, status: Status) {
        let code = match status {
            Status::Off => 0,
            Status::Ok => 1,
            Status::Degraded => 2,
        };
        self.status.store(code, Ordering::Relaxed);
    }

    /// Published listings still waiting for vectors (as the last sync pass counted them).
    pub fn pending(&self) -> i64 {
        self.pending.load(Ordering::Relaxed)
    }

    pub fn set_pending(&self, n: i64) {
        self.pending.store(n, Ordering::Relaxed);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Sets> {
        self.sets.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds or replaces a listing's vector, or drops it (`None`: no longer published).
    pub fn put(&self, kind: Kind, id: &str, vector: Option<Quantized>) {
        let mut sets = self.sets.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(set) = sets.of_mut(kind) else { return };
        match vector {
            Some(v) => {
                set.insert(id.to_owned(), v);
            }
            None => {
                set.remove(id);
            }
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn len(&self, kind: Kind) -> usize {
        self.read().of(kind).map_or(0, HashMap::len)
    }

    /// The `k` listings of `kind` most similar to the unit vector `query`, best first.
    pub fn top(&self, kind: Kind, query: &[f32], k: usize) -> Vec<(String, f32)> {
        let query = Quantized::new(query);
        let sets = self.read();
        let Some(set) = sets.of(kind) else { return Vec::new() };
        let mut scored: Vec<(f32, &String)> = set.iter().map(|(id, v)| (v.cosine_q(&query), id)).collect();
        if scored.len() > k {
            scored.select_nth_unstable_by(k, |a, b| b.0.total_cmp(&a.0));
            scored.truncate(k);
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        scored.into_iter().map(|(s, id)| (id.clone(), s)).collect()
    }

    /// The similarity of one listing to `query`, when it has a vector.
    pub fn similarity(&self, kind: Kind, id: &str, query: &[f32]) -> Option<f32> {
        self.read().of(kind)?.get(id).map(|v| v.cosine(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::embeddings::unit;

    #[test]
    fn top_k_by_cosine() {
        let index = VectorIndex::new(Some("m"));
        for (id, v) in [("a", vec![1.0, 0.0]), ("b", vec![0.7, 0.7]), ("c", vec![0.0, 1.0])] {
            index.put(Kind::Achievement, id, Some(Quantized::new(&unit(v))));
        }
        let top = index.top(Kind::Achievement, &unit(vec![1.0, 0.1]), 2);
        let ids: Vec<&str> = top.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(index.top(Kind::Demand, &[1.0, 0.0], 2).is_empty());
        index.put(Kind::Achievement, "a", None);
        assert_eq!(index.len(Kind::Achievement), 2);
        assert!(index.similarity(Kind::Achievement, "c", &[0.0, 1.0]).is_some_and(|s| s > 0.99));
    }
}
