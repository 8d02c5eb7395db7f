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

/// The vectors of one kind of listing, stored contiguously (`dim` bytes per listing) so a
/// search streams through memory instead of chasing one allocation per listing.
#[derive(Default)]
struct Set {
    dim: usize,
    ids: Vec<String>,
    positions: HashMap<String, usize>,
    scales: Vec<f32>,
    data: Vec<i8>,
}

impl Set {
    fn put(&mut self, id: &str, vector: Option<Quantized>) {
        match (vector, self.positions.get(id).copied()) {
            (Some(v), Some(at)) if v.data.len() == self.dim => {
                self.scales[at] = v.scale;
                self.data[at * self.dim..(at + 1) * self.dim].copy_from_slice(&v.data);
            }
            (Some(v), None) if self.ids.is_empty() || v.data.len() == self.dim => {
                self.dim = v.data.len();
                self.positions.insert(id.to_owned(), self.ids.len());
                self.ids.push(id.to_owned());
                self.scales.push(v.scale);
                self.data.extend_from_slice(&v.data);
            }
            // Another dimension (a new model): the old vectors are stale; start over.
            (Some(v), _) => {
                *self = Set::default();
                self.put(id, Some(v));
            }
            (None, Some(at)) => self.remove(at),
            (None, None) => {}
        }
    }

    /// Drops slot `at` by moving the last listing into it.
    fn remove(&mut self, at: usize) {
        let last = self.ids.len() - 1;
        let removed = self.ids.swap_remove(at);
        self.positions.remove(&removed);
        self.scales.swap_remove(at);
        if at != last {
            let (head, tail) = self.data.split_at_mut(last * self.dim);
            head[at * self.dim..(at + 1) * self.dim].copy_from_slice(&tail[..self.dim]);
            self.positions.insert(self.ids[at].clone(), at);
        }
        self.data.truncate(last * self.dim);
    }

    fn cosine(&self, at: usize, query: &Quantized) -> f32 {
        let row = &self.data[at * self.dim..(at + 1) * self.dim];
        let dot: i32 = row.iter().zip(&query.data).map(|(a, b)| i32::from(*a) * i32::from(*b)).sum();
        dot as f32 * self.scales[at] * query.scale
    }
}

#[derive(Default)]
struct Sets {
    achievements: Set,
    demands: Set,
}

impl Sets {
    fn of(&self, kind: Kind) -> Option<&Set> {
        match kind {
            Kind::Achievement => Some(&self.achievements),
            Kind::Demand => Some(&self.demands),
            Kind::Challenge => None,
        }
    }

    fn of_mut(&mut self, kind: Kind) -> Option<&mut Set> {
        match kind {
            Kind::Achievement => Some(&mut self.achievements),
            Kind::Demand => Some(&mut self.demands),
            Kind::Challenge => None,
        }
    }
}

/// Sets at least this large are searched on every core.
const PARALLEL_FROM: usize = 200_000;

/// The best `k` slots of `range` by similarity to `query` (a min-heap: one pass, no
/// allocation proportional to the range).
fn best_k(set: &Set, query: &Quantized, range: std::ops::Range<usize>, k: usize) -> Vec<Scored> {
    let mut best: std::collections::BinaryHeap<std::cmp::Reverse<Scored>> =
        std::collections::BinaryHeap::with_capacity(k + 1);
    for at in range {
        let score = set.cosine(at, query);
        if best.len() < k {
            best.push(std::cmp::Reverse(Scored(score, at)));
        } else if best.peek().is_some_and(|worst| score > worst.0.0) {
            best.pop();
            best.push(std::cmp::Reverse(Scored(score, at)));
        }
    }
    best.into_iter().map(|r| r.0).collect()
}

/// A similarity and the slot it belongs to, ordered by similarity.
#[derive(Clone, Copy)]
struct Scored(f32, usize);

impl PartialEq for Scored {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
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
        set.put(id, vector);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn len(&self, kind: Kind) -> usize {
        self.read().of(kind).map_or(0, |set| set.ids.len())
    }

    /// The `k` listings of `kind` most similar to the unit vector `query`, best first.
    pub fn top(&self, kind: Kind, query: &[f32], k: usize) -> Vec<(String, f32)> {
        let query = Quantized::new(query);
        let sets = self.read();
        let Some(set) = sets.of(kind).filter(|set| set.dim == query.data.len()) else { return Vec::new() };
        let n = set.ids.len();
        // Large sets are scanned by every core (the scan is bound by memory bandwidth, which one
        // core does not saturate); each part keeps its own best k.
        let parts = if n >= PARALLEL_FROM {
            std::thread::available_parallelism().map_or(1, |p| p.get()).clamp(1, 8)
        } else {
            1
        };
        let chunk = n.div_ceil(parts.max(1)).max(1);
        let best: Vec<Scored> = if parts > 1 {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..n)
                    .step_by(chunk)
                    .map(|from| {
                        let query = &query;
                        scope.spawn(move || best_k(set, query, from..(from + chunk).min(n), k))
                    })
                    .collect();
                handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
            })
        } else {
            best_k(set, &query, 0..n, k)
        };
        let mut scored: Vec<(f32, &String)> = best.into_iter().map(|s| (s.0, &set.ids[s.1])).collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        scored.truncate(k);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        scored.into_iter().map(|(s, id)| (id.clone(), s)).collect()
    }

    /// The similarity of one listing to `query`, when it has a vector.
    pub fn similarity(&self, kind: Kind, id: &str, query: &[f32]) -> Option<f32> {
        let sets = self.read();
        let set = sets.of(kind).filter(|set| set.dim == query.len())?;
        let at = *set.positions.get(id)?;
        Some(set.cosine(at, &Quantized::new(query)))
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
        assert!(index.similarity(Kind::Achievement, "a", &[1.0, 0.0]).is_none(), "removed");
        // Replacing keeps one slot; the moved listing is still found.
        index.put(Kind::Achievement, "b", Some(Quantized::new(&unit(vec![0.0, 1.0]))));
        assert_eq!(index.len(Kind::Achievement), 2);
        assert!(index.similarity(Kind::Achievement, "b", &[0.0, 1.0]).is_some_and(|s| s > 0.99));
        index.put(Kind::Achievement, "c", None);
        index.put(Kind::Achievement, "b", None);
        assert_eq!(index.len(Kind::Achievement), 0);
        assert!(index.top(Kind::Achievement, &[1.0, 0.0], 3).is_empty());
    }

    #[test]
    fn large_sets_are_searched_in_parts_with_the_same_answer() {
        let index = VectorIndex::new(Some("m"));
        let n = PARALLEL_FROM + 7;
        for i in 0..n {
            let angle = i as f32 / n as f32 * std::f32::consts::FRAC_PI_2;
            index.put(Kind::Demand, &format!("{i:07}"), Some(Quantized::new(&[angle.cos(), angle.sin()])));
        }
        let top = index.top(Kind::Demand, &[0.0, 1.0], 3);
        assert_eq!(top.len(), 3);
        assert!(top.iter().all(|(id, _)| id.as_str() > "0199000"), "{top:?}");
        assert!(top.windows(2).all(|w| w[0].1 >= w[1].1));
    }
}
