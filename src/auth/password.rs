//! argon2id hashing. Parameters come from config (production: the OWASP minimum or more;
//! tests: the cheapest). Verification reads the parameters from the stored PHC string.
//!
//! Each hash holds `argon2_m_kib` of memory and a core for tens of milliseconds, so requests
//! reach argon2 only through a [`HashTicket`]: hashes run on `auth.hash_concurrency` threads
//! of their own, at most `auth.hash_queue` more wait for a turn, and anything beyond that is
//! refused at once with 503 (`Retry-After`) before it costs memory or a thread. Dedicated
//! threads also bound the memory left behind: the allocator keeps a freed 19 MiB block in the
//! arena of the thread that used it, so hashing on whichever blocking thread was free spread
//! one retained block over every arena (hundreds of MiB after a burst); with a fixed set of
//! threads it is one block per hashing thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::error::{ErrorCode, Rule};
use crate::error::{AppError, AppResult};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;

use crate::config::AuthSettings;

#[derive(Clone)]
pub struct PasswordHashing {
    params: Params,
    gate: Arc<Gate>,
}

/// The admission limit and the hashing threads, shared by every clone.
struct Gate {
    /// Running plus waiting requests.
    admitted: Arc<Semaphore>,
    /// Work for the hashing threads; they end when the last clone is dropped.
    jobs: mpsc::Sender<Job>,
    /// Hashes and verifications computed (tests count evaluations with it).
    evaluated: AtomicU64,
    refused: AtomicU64,
}

type Job = Box<dyn FnOnce() + Send>;

impl Gate {
    fn new(threads: usize, queue: usize) -> Self {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let inbox = Arc::new(Mutex::new(inbox));
        for n in 0..threads {
            let inbox = inbox.clone();
            let spawned = std::thread::Builder::new().name(format!("argon2-{n}")).spawn(move || {
                loop {
                    let job = match inbox.lock() {
                        Ok(inbox) => inbox.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        // A panicking hash answers its request with an error (its reply
                        // channel is dropped) and the thread goes on.
                        Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
                        Err(_) => break,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self {
            admitted: Arc::new(Semaphore::new(threads + queue)),
            jobs,
            evaluated: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }
}

/// A place in the hashing queue, taken before any other work for the request is done (so a
/// refusal costs nothing); the hash itself waits for a hashing thread.
pub struct HashTicket {
    hashing: PasswordHashing,
    admitted: OwnedSemaphorePermit,
}

impl PasswordHashing {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let params = Params::new(settings.argon2_m_kib, settings.argon2_t, settings.argon2_p, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let threads = match settings.hash_concurrency {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            n => n,
        };
        Ok(Self { params, gate: Arc::new(Gate::new(threads, settings.hash_queue)) })
    }

    /// A place in the hashing queue, or 503 `service_unavailable` (with `Retry-After`) when
    /// the queue is full.
    pub fn admit(&self) -> AppResult<HashTicket> {
        match self.gate.admitted.clone().try_acquire_owned() {
            Ok(admitted) => Ok(HashTicket { hashing: self.clone(), admitted }),
            Err(_) => {
                self.gate.refused.fetch_add(1, Ordering::Relaxed);
                Err(AppError::new(ErrorCode::ServiceUnavailable, Rule::PasswordChecksBusy))
            }
        }
    }

    /// Passwords hashed or verified so far, and requests refused because the queue was full.
    pub fn counts(&self) -> (u64, u64) {
        (self.gate.evaluated.load(Ordering::Relaxed), self.gate.refused.load(Ordering::Relaxed))
    }

    /// argon2id of `password` and `salt` under `params` into `out`, in this thread's reusable
    /// memory (see [`with_memory`]).
    fn compute(params: &Params, version: Version, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
        let argon2 = Argon2::new(Algorithm::Argon2id, version, params.clone());
        with_memory(params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password, salt, out, blocks).is_ok()
        })
    }

    /// PHC string of `password` with a fresh 16-byte salt. CPU-heavy and not bounded: for
    /// command-line tools and tests; requests use a [`HashTicket`].
    pub fn hash(&self, password: &str) -> anyhow::Result<String> {
        self.gate.evaluated.fetch_add(1, Ordering::Relaxed);
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let mut buffer = [0u8; Output::MAX_LENGTH];
        let out = buffer
            .get_mut(..self.params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
            .ok_or_else(|| anyhow::anyhow!("argon2 output length out of range"))?;
        anyhow::ensure!(
            Self::compute(&self.params, Version::V0x13, password.as_bytes(), &salt, out),
            "argon2 hashing failed"
        );
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?,
            salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?),
            hash: Some(Output::new(out).map_err(|e| anyhow::anyhow!("output: {e}"))?),
        };
        Ok(phc.to_string())
    }

    /// Checks `password` against a stored PHC string (its own parameters, salt and version);
    /// a malformed or non-argon2id hash is simply a mismatch. The comparison of outputs is in
    /// constant time.
    pub fn verify(&self, password: &str, phc: &str) -> bool {
        self.gate.evaluated.fetch_add(1, Ordering::Relaxed);
        let Ok(stored) = PasswordHash::new(phc) else { return false };
        if stored.algorithm != Algorithm::Argon2id.ident() {
            return false;
        }
        let (Ok(params), Some(salt), Some(expected)) = (Params::try_from(&stored), &stored.salt, &stored.hash) else {
            return false;
        };
        let version = stored.version.and_then(|v| Version::try_from(v).ok()).unwrap_or(Version::V0x13);
        let mut buffer = [0u8; Output::MAX_LENGTH];
        let Some(out) = buffer.get_mut(..expected.len()) else { return false };
        Self::compute(&params, version, password.as_bytes(), salt.as_ref(), out)
            && Output::new(out).is_ok_and(|computed| computed == *expected)
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

thread_local! {
    /// The argon2 working memory of this thread, kept between hashes: a hash fills every block
    /// before it reads any, so reuse needs no clearing, and the memory a thread holds is one
    /// working set however many hashes it computes.
    static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` over `blocks` blocks of this thread's argon2 memory, growing it when needed.
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        f(&mut memory[..blocks])
    })
}

impl HashTicket {
    /// Hashes `password` on a hashing thread.
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
        let (reply, answer) = tokio::sync::oneshot::channel();
        let (hashing, admitted) = (self.hashing.clone(), self.admitted);
        // The permit moves into the job: a request cancelled while its hash waits or runs
        // still holds its place until the hash ends, so the bound is real.
        let job: Job = Box::new(move || {
            let result = work(&hashing);
            // The place is free before the answer arrives.
            drop(admitted);
            let _ = reply.send(result);
        });
        self.hashing
            .gate
            .jobs
            .send(job)
            .map_err(|_| AppError::internal(anyhow::anyhow!("the password hashing threads have stopped")))?;
        answer.await.map_err(|_| AppError::internal(anyhow::anyhow!("a password hash failed")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHashing {
        hashing(1, 1)
    }

    fn hashing(threads: usize, queue: usize) -> PasswordHashing {
        let params = Params::new(8, 1, 1, None).unwrap_or_default();
        PasswordHashing { params, gate: Arc::new(Gate::new(threads, queue)) }
    }

    #[test]
    fn compatible_with_the_argon2_crate_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let h = cheap();
        // A hash stored before (made by the crate's own hasher) still verifies, and ours
        // verifies with the crate, across parameter sets sharing this thread's memory.
        let params = Params::new(64, 2, 1, None).unwrap_or_default();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let stored = theirs.hash_password(b"legacy password").map(|p| p.to_string()).unwrap_or_default();
        assert!(h.verify("legacy password", &stored));
        assert!(!h.verify("legacy passwore", &stored));
        let ours = h.hash("new password").unwrap_or_default();
        let parsed = PasswordHash::new(&ours);
        assert!(parsed.is_ok_and(|p| theirs.verify_password(b"new password", &p).is_ok()));
        assert!(h.verify("new password", &ours), "memory reused after a larger hash");
        assert!(!h.verify("new password", &stored));
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
