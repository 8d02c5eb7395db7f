//! argon2id hashing. Parameters come from config (production: the OWASP minimum or more;
//! tests: the cheapest). Verification reads the parameters from the stored PHC string.
//!
//! Each hash holds `argon2_m_kib` of memory and a core for tens of milliseconds, so requests
//! reach argon2 only through a [`HashTicket`]: at most `auth.hash_concurrency` hashes run at
//! once, at most `auth.hash_queue` more wait for a turn, and anything beyond that is refused
//! at once with 503 (`Retry-After`) before it costs memory or a thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::error::ErrorCode;
use crate::error::{AppError, AppResult};

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::config::AuthSettings;

#[derive(Clone)]
pub struct PasswordHashing {
    params: Params,
    gate: Arc<Gate>,
}

/// The admission and running limits shared by every clone.
struct Gate {
    /// Running plus waiting requests.
    admitted: Arc<Semaphore>,
    /// Hashes running at once.
    running: Arc<Semaphore>,
    /// Hashes and verifications computed (tests count evaluations with it).
    evaluated: AtomicU64,
    refused: AtomicU64,
}

/// A place in the hashing queue, taken before any other work for the request is done (so a
/// refusal costs nothing); the hash itself waits for a running slot.
pub struct HashTicket {
    hashing: PasswordHashing,
    admitted: OwnedSemaphorePermit,
}

impl PasswordHashing {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let params = Params::new(settings.argon2_m_kib, settings.argon2_t, settings.argon2_p, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let running = match settings.hash_concurrency {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            n => n,
        };
        let gate = Gate {
            admitted: Arc::new(Semaphore::new(running + settings.hash_queue)),
            running: Arc::new(Semaphore::new(running)),
            evaluated: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        };
        Ok(Self { params, gate: Arc::new(gate) })
    }

    /// A place in the hashing queue, or 503 `service_unavailable` (with `Retry-After`) when
    /// the queue is full.
    pub fn admit(&self) -> AppResult<HashTicket> {
        match self.gate.admitted.clone().try_acquire_owned() {
            Ok(admitted) => Ok(HashTicket { hashing: self.clone(), admitted }),
            Err(_) => {
                self.gate.refused.fetch_add(1, Ordering::Relaxed);
                Err(AppError::new(
                    ErrorCode::ServiceUnavailable,
                    "too many password checks are in progress; retry in a moment",
                ))
            }
        }
    }

    /// Passwords hashed or verified so far, and requests refused because the queue was full.
    pub fn counts(&self) -> (u64, u64) {
        (self.gate.evaluated.load(Ordering::Relaxed), self.gate.refused.load(Ordering::Relaxed))
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// PHC string of `password` with a fresh 16-byte salt. CPU-heavy and not bounded: for
    /// command-line tools and tests; requests use a [`HashTicket`].
    pub fn hash(&self, password: &str) -> anyhow::Result<String> {
        self.gate.evaluated.fetch_add(1, Ordering::Relaxed);
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let hash = self
            .argon2()
            .hash_password_with_salt(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
        Ok(hash.to_string())
    }

    /// Checks `password` against a stored PHC string; a malformed hash is simply a mismatch.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        self.gate.evaluated.fetch_add(1, Ordering::Relaxed);
        self.argon2().verify_password(password.as_bytes(), phc).is_ok()
    }

    /// Spends the same work as a real verification, for unknown accounts, so response time
    /// does not reveal whether an email is registered.
    pub fn verify_dummy(&self, password: &str) {
        static DUMMY: OnceLock<(Params, String)> = OnceLock::new();
        let (params, phc) = DUMMY.get_or_init(|| {
            let phc = self.hash("dummy password for timing equalisation").unwrap_or_default();
            (self.params.clone(), phc)
        });
        if *params == self.params {
            let _ = self.verify(password, phc);
        } else {
            // Another parameter set (a second app in one test process): hash instead.
            let _ = self.hash(password);
        }
    }
}

impl HashTicket {
    /// Hashes `password` on a blocking thread once a running slot is free.
    pub async fn hash(self, password: String) -> AppResult<String> {
        self.run(move |h| h.hash(&password).map_err(AppError::internal)).await
    }

    /// Verifies `password` against `phc`, or spends the same work on a dummy hash when there
    /// is no account (`None`), so timing does not reveal which emails are registered.
    pub async fn verify(self, password: String, phc: Option<String>) -> AppResult<bool> {
        self.run(move |h| {
            Ok(match phc {
                Some(phc) => h.verify(&password, &phc),
                None => {
                    h.verify_dummy(&password);
                    false
                }
            })
        })
        .await
    }

    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&PasswordHashing) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let running = self.hashing.gate.running.clone().acquire_owned().await.map_err(AppError::internal)?;
        let (hashing, admitted) = (self.hashing, self.admitted);
        // Both permits move into the blocking closure: a request cancelled while its hash
        // runs still holds its slot until the hash ends, so the bound is real.
        crate::db::blocking(move || {
            let _permits = (admitted, running);
            work(&hashing)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHashing {
        hashing(1, 1)
    }

    fn hashing(running: usize, queue: usize) -> PasswordHashing {
        let gate = Gate {
            admitted: Arc::new(Semaphore::new(running + queue)),
            running: Arc::new(Semaphore::new(running)),
            evaluated: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        };
        PasswordHashing { params: Params::new(8, 1, 1, None).unwrap_or_default(), gate: Arc::new(gate) }
    }

    #[tokio::test]
    async fn beyond_the_queue_requests_are_refused_without_hashing() {
        let h = hashing(1, 2);
        let tickets: Vec<HashTicket> = (0..3).filter_map(|_| h.admit().ok()).collect();
        assert_eq!(tickets.len(), 3);
        let refused = h.admit().err().map(|e| e.code());
        assert_eq!(refused, Some(ErrorCode::ServiceUnavailable));
        assert_eq!(h.counts(), (0, 1), "a refusal computes nothing");
        let mut tickets = tickets.into_iter();
        let phc = tickets.next().map(|t| t.hash("correct horse battery".into()));
        let phc = match phc {
            Some(f) => f.await.unwrap_or_default(),
            None => String::new(),
        };
        assert!(phc.starts_with("$argon2id$"));
        assert!(h.admit().is_ok(), "a finished hash frees its place");
    }

    #[test]
    fn hash_then_verify() {
        let h = cheap();
        let phc = h.hash("correct horse battery").unwrap_or_default();
        assert!(phc.starts_with("$argon2id$"));
        assert!(h.verify("correct horse battery", &phc));
        assert!(!h.verify("wrong horse battery", &phc));
        assert!(!h.verify("anything", "not a phc string"));
    }

    #[test]
    fn production_defaults_meet_owasp_minimum() {
        let defaults: crate::config::Settings = config::Config::builder()
            .add_source(config::File::from_str(include_str!("../../config/default.toml"), config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .unwrap_or_else(|e| panic!("default config: {e}"));
        assert!(defaults.auth.argon2_m_kib >= 19 * 1024);
        assert!(defaults.auth.argon2_t >= 2);
        assert!(defaults.auth.argon2_p >= 1);
    }
}
