//! Full-text search and the derived index shared with matching. See `index.rs` for the
//! index layout and `analyzer.rs` for how text becomes terms.

pub mod analyzer;
pub mod cache;
pub mod index;
pub mod sync;

use index::Collection;

/// What the index holds: published achievements, published demands, public challenges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Achievement,
    Demand,
    Challenge,
}

/// All search collections of one server instance.
pub struct SearchIndex {
    pub achievements: Collection,
    pub demands: Collection,
    pub challenges: Collection,
}

impl SearchIndex {
    pub fn new(writer_heap_mib: usize) -> anyhow::Result<Self> {
        let heap = writer_heap_mib * 1024 * 1024;
        Ok(Self {
            achievements: Collection::new(heap)?,
            demands: Collection::new(heap)?,
            challenges: Collection::new(heap)?,
        })
    }

    pub fn collection(&self, kind: Kind) -> &Collection {
        match kind {
            Kind::Achievement => &self.achievements,
            Kind::Demand => &self.demands,
            Kind::Challenge => &self.challenges,
        }
    }
}
