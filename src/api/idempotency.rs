//! `Idempotency-Key` for the endpoints that create or move something a retry must not repeat
//! (payments, commercialization reports, distributions, bids, applications, redemptions).
//!
//! A key is scoped by (user, method, path, key). The first request's response is stored in
//! the transaction that produced it, so a stored response always belongs to a committed
//! change; a retry with the same key and the same body gets that response again, with
//! `Idempotent-Replayed: true`; the same key with another body is 409
//! `idempotency_key_reused`. Two requests racing with one key: the second to commit finds the
//! first's row, rolls back, and answers with the stored response. Refusals (4xx) are not
//! stored, so a corrected retry with the same key runs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::extract::IdempotencyKey;
use crate::db::AnyConnection;
use crate::db::idempotency::{self as store, Scope, StoredResponse};
use crate::domain::error::{DomainError, ErrorCode, Rule};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The key of one request, if it sent one, with the fingerprint of its body.
pub struct Idempotency {
    keyed: Option<(Scope, String)>,
}

impl Idempotency {
    pub fn new(req: &HttpRequest, user_id: &str, key: IdempotencyKey, body: &impl Serialize) -> AppResult<Self> {
        let Some(key) = key.0 else { return Ok(Self { keyed: None }) };
        let canonical = serde_json::to_vec(body).map_err(AppError::internal)?;
        let fingerprint = crate::domain::audit::hex(&Sha256::digest(&canonical));
        let scope = Scope {
            user_id: user_id.to_owned(),
            method: req.method().as_str().to_owned(),
            path: req.path().to_owned(),
            key,
        };
        Ok(Self { keyed: Some((scope, fingerprint)) })
    }

    /// Runs `f` in one write transaction and answers `status` with its JSON, or replays the
    /// response stored for this key.
    pub async fn run<T, F>(self, state: &AppState, status: StatusCode, mut f: F) -> AppResult<HttpResponse>
    where
        T: Serialize,
        F: FnMut(&mut AnyConnection) -> AppResult<T> + Send + 'static,
    {
        let now = state.clock.now();
        let keyed = self.keyed.clone();
        let outcome = state
            .db
            .tx(move |c| {
                if let Some((scope, fingerprint)) = &keyed
                    && let Some(stored) = store::find(c, scope)?
                {
                    return replay(stored, fingerprint).map(|(status, body)| (status, body, true));
                }
                let body = serde_json::to_string(&f(c)?).map_err(AppError::internal)?;
                if let Some((scope, fingerprint)) = &keyed {
                    let stored = StoredResponse {
                        fingerprint: fingerprint.clone(),
                        status: i32::from(status.as_u16()),
                        response: body,
                    };
                    if !store::save(c, scope, &stored, now)? {
                        return Err(AppError::IdempotentReplay);
                    }
                    return Ok((status.as_u16(), stored.response, false));
                }
                Ok((status.as_u16(), body, false))
            })
            .await;
        let (status, body, replayed) = match (outcome, self.keyed) {
            (Err(AppError::IdempotentReplay), Some((scope, fingerprint))) => {
                // Another request with this key committed first: answer as it did.
                let stored = state.db.read(move |c| store::find(c, &scope)).await?;
                let (status, body) = replay(stored.ok_or(AppError::IdempotentReplay)?, &fingerprint)?;
                (status, body, true)
            }
            (other, _) => other?,
        };
        let mut res = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
        if replayed {
            res.insert_header(("Idempotent-Replayed", "true"));
        }
        Ok(res.content_type("application/json").body(body))
    }
}

fn replay(stored: StoredResponse, fingerprint: &str) -> AppResult<(u16, String)> {
    if stored.fingerprint != fingerprint {
        return Err(DomainError::new(ErrorCode::IdempotencyKeyReused, Rule::IdempotencyKeyDifferent).into());
    }
    Ok((u16::try_from(stored.status).unwrap_or(200), stored.response))
}

/// The `Idempotency-Key` request header, as the OpenAPI document describes it.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// Retries with the same key and the same body get the first response again
    /// (`Idempotent-Replayed: true`); the same key with another body is 409
    /// `idempotency_key_reused`. Scoped by user, method and path. 1–255 visible ASCII characters.
    #[serde(rename = "Idempotency-Key")]
    #[param(min_length = 1, max_length = 255, example = "3f1c9a7e-pay-2026-0001")]
    pub idempotency_key: Option<String>,
}
