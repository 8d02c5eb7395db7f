//! argon2id hashing. Parameters come from config (production: the OWASP minimum or more;
//! tests: the cheapest). Verification reads the parameters from the stored PHC string.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::config::AuthSettings;

#[derive(Clone)]
pub struct PasswordHashing {
    params: Params,
}

impl PasswordHashing {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let params = Params::new(settings.argon2_m_kib, settings.argon2_t, settings.argon2_p, None)
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        Ok(Self { params })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// PHC string of `password` with a fresh 16-byte salt. CPU-heavy: call on a blocking thread.
    pub fn hash(&self, password: &str) -> anyhow::Result<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHashing {
        PasswordHashing { params: Params::new(8, 1, 1, None).unwrap_or_default() }
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
