//! HS256 access tokens. The algorithm is pinned: tokens signed otherwise (or `none`) fail.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::account::Role;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub role: Role,
    /// Organization id at issue time (informational: permissions re-read the database).
    pub org: Option<String>,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_token_secs: i64,
}

impl JwtKeys {
    pub fn new(secret: &str, access_token_secs: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            access_token_secs,
        }
    }

    /// Issues an access token valid for `access_token_secs` from `now` (Unix seconds).
    pub fn issue(&self, user_id: &str, role: Role, org: Option<String>, now: i64) -> anyhow::Result<String> {
        let claims = Claims {
            sub: user_id.to_owned(),
            role,
            org,
            iat: now,
            exp: now + self.access_token_secs,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// Verifies signature, algorithm and expiry.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok().map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-test-secret-that-is-long-enough-0123456789";

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn round_trip() {
        let keys = JwtKeys::new(SECRET, 900);
        let token = keys.issue("u1", Role::Expert, Some("o1".into()), now()).unwrap_or_default();
        let claims = keys.verify(&token).map(|c| (c.sub, c.role, c.org));
        assert_eq!(claims, Some(("u1".into(), Role::Expert, Some("o1".into()))));
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_fail() {
        let keys = JwtKeys::new(SECRET, 900);
        let expired = keys.issue("u1", Role::User, None, now() - 3600).unwrap_or_default();
        assert!(keys.verify(&expired).is_none());
        let token = keys.issue("u1", Role::User, None, now()).unwrap_or_default();
        let other = JwtKeys::new("another-secret-that-is-long-enough-987654321", 900);
        assert!(other.verify(&token).is_none());
        // Flip the role in the payload: the signature no longer matches.
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}x.{}", parts[0], parts[1], parts[2]);
        assert!(keys.verify(&forged).is_none());
    }

    #[test]
    fn alg_none_is_rejected() {
        use base64_like::encode;
        let keys = JwtKeys::new(SECRET, 900);
        let header = encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = encode(
            format!(r#"{{"sub":"u1","role":"admin","org":null,"iat":{},"exp":{},"jti":"x"}}"#, now(), now() + 600)
                .as_bytes(),
        );
        assert!(keys.verify(&format!("{header}.{payload}.")).is_none());
    }

    /// Minimal unpadded base64url for building hostile tokens in tests.
    mod base64_like {
        pub fn encode(input: &[u8]) -> String {
            const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for chunk in input.chunks(3) {
                let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                for i in 0..=chunk.len() {
                    out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        }
    }
}
