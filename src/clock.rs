//! The application clock. Production reads the system time; tests use a clock they can
//! advance, so deadlines and expiry are tested without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds added to the system time; `None` for the plain system clock.
    offset_ms: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { offset_ms: None }
    }

    /// A clock that starts at the system time and can be moved forward with [`Clock::advance`].
    pub fn adjustable() -> Self {
        Self { offset_ms: Some(Arc::new(AtomicI64::new(0))) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        match &self.offset_ms {
            None => now,
            Some(offset) => now + chrono::Duration::milliseconds(offset.load(Ordering::SeqCst)),
        }
    }

    /// Moves an adjustable clock forward; a no-op on the system clock.
    pub fn advance(&self, by: chrono::Duration) {
        if let Some(offset) = &self.offset_ms {
            offset.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
        }
    }
}
