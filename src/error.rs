//! `AppError`: the one error type handlers and use cases return, and the only place that
//! renders HTTP problem+json (RFC 7807) with a stable `code`.
//!
//! Client-caused failures carry a code and a 4xx status. Anything unexpected is `Internal`:
//! logged once with its cause chain and the caller's location, answered as an opaque 500.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::Location;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub use crate::domain::error::{DomainError, ErrorCode, FieldErrors, Message, Rule, Validator};
use crate::i18n::{self, Lang};

pub const PROBLEM_JSON: &str = "application/problem+json";

pub enum AppError {
    /// A failure the client can act on (4xx), or a deliberate 503.
    Client(DomainError),
    /// A rate limit: 429 with `Retry-After`.
    RateLimited { retry_after_secs: u64, detail: Message },
    /// A bug or an infrastructure failure: logged, answered as an opaque 500.
    Internal { source: anyhow::Error, location: &'static Location<'static> },
    /// The database (or another dependency) is unreachable: 503, logged once.
    Unavailable(anyhow::Error),
    /// The database aborted the transaction because it collided with another one (a
    /// PostgreSQL deadlock or serialization failure, SQLite still busy after its timeout).
    /// `Db::tx` re-runs the transaction; if this escapes, it is a 503 with `Retry-After`.
    Contention(anyhow::Error),
    /// A concurrent request with the same idempotency key committed first: roll this one
    /// back and answer with the stored response (handlers catch it; 409 if not caught).
    IdempotentReplay,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, detail: impl Into<Message>) -> Self {
        Self::Client(DomainError::new(code, detail))
    }

    #[track_caller]
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self::Internal { source: source.into(), location: Location::caller() }
    }

    pub fn not_found(what: &str) -> Self {
        Self::Client(DomainError::not_found(what))
    }

    pub fn forbidden(detail: impl Into<Message>) -> Self {
        Self::Client(DomainError::forbidden(detail))
    }

    pub fn field(field: &str, message: impl Into<Message>) -> Self {
        Self::Client(DomainError::field(field, message))
    }

    /// The machine code this error renders with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Client(e) => e.code,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Internal { .. } => ErrorCode::Internal,
            Self::Unavailable(_) | Self::Contention(_) => ErrorCode::ServiceUnavailable,
            Self::IdempotentReplay => ErrorCode::IdempotencyKeyReused,
        }
    }

    /// Maps a diesel unique violation to `code`, leaving every other error as it is.
    pub fn on_unique(err: diesel::result::Error, code: ErrorCode, detail: impl Into<Message>) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Self::new(code, detail),
            other => other.into(),
        }
    }
}

impl fmt::Debug for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Client(e) => write!(f, "Client({e})"),
            Self::RateLimited { retry_after_secs, .. } => write!(f, "RateLimited({retry_after_secs}s)"),
            Self::Internal { source, location } => write!(f, "Internal at {location}: {source:?}"),
            Self::Unavailable(e) => write!(f, "Unavailable: {e:?}"),
            Self::Contention(e) => write!(f, "Contention: {e:?}"),
            Self::IdempotentReplay => f.write_str("IdempotentReplay"),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Client(e) => write!(f, "{e}"),
            Self::RateLimited { detail, .. } => write!(f, "{detail}"),
            Self::Internal { source, .. } => write!(f, "internal error: {source}"),
            Self::Unavailable(e) => write!(f, "service unavailable: {e}"),
            Self::Contention(e) => write!(f, "transaction collided with another: {e}"),
            Self::IdempotentReplay => f.write_str("a concurrent request with this idempotency key was processed"),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        Self::Client(e)
    }
}

impl From<diesel::result::Error> for AppError {
    #[track_caller]
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => Self::not_found("resource"),
            ref lost if lost_connection(lost) => Self::Unavailable(e.into()),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => Self::Contention(e.into()),
            Error::DatabaseError(DatabaseErrorKind::Unknown, ref info) if is_collision(info.message()) => {
                Self::Contention(e.into())
            }
            other => Self::internal(other),
        }
    }
}

impl AppError {
    /// Whether this is a statement that found its database connection lost (the server
    /// restarted, failed over or ended the session).
    pub fn is_lost_connection(&self) -> bool {
        match self {
            Self::Unavailable(e) => e.downcast_ref::<diesel::result::Error>().is_some_and(lost_connection),
            _ => false,
        }
    }
}

fn lost_connection(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => true,
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => is_lost_connection(info.message()),
        _ => false,
    }
}

/// Messages of a connection the server ended or lost, which diesel reports as `Unknown`
/// (libpq's text; SQLSTATE 57P01 admin_shutdown, 57P02/57P03 crash and startup, 08xxx).
fn is_lost_connection(message: &str) -> bool {
    const LOST: [&str; 6] = [
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "the database system is",
        "could not receive data from server",
        "connection to server",
    ];
    LOST.iter().any(|m| message.contains(m))
}

/// Messages of aborted-by-collision errors that diesel reports as `Unknown`: PostgreSQL's
/// deadlock (SQLSTATE 40P01; libpq's message text is the only part diesel keeps) and SQLite's
/// busy timeout.
fn is_collision(message: &str) -> bool {
    message.starts_with("deadlock detected") || message.starts_with("database is locked")
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(e.into())
    }
}

/// The problem+json body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`urn:techtransfer:problem:<code>`).
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub code: ErrorCode,
    pub detail: String,
    /// Per-field messages (validation failures), keyed by JSON path (`milestones[2].title`)
    /// or query parameter name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = Object)]
    pub errors: BTreeMap<String, Vec<String>>,
    /// The language of `title`, `detail` and `errors` (not serialized: `Content-Language`).
    #[serde(skip)]
    pub lang: Lang,
}

impl Problem {
    /// The problem for `code` in the request's language.
    pub fn new(code: ErrorCode, status: u16, detail: &Message, errors: &FieldErrors) -> Self {
        let lang = i18n::current();
        Self {
            type_: format!("urn:techtransfer:problem:{}", code.as_str()),
            title: i18n::title(lang, code),
            status,
            code,
            detail: i18n::detail(lang, code, detail, errors),
            errors: i18n::field_errors(lang, errors),
            lang,
        }
    }

    pub fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(self).unwrap_or_default();
        HttpResponse::build(status)
            .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
            .insert_header((header::CONTENT_LANGUAGE, self.lang.tag()))
            .insert_header((header::VARY, "Accept-Language"))
            .body(body)
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        let status = match self {
            Self::Client(e) => e.status.unwrap_or_else(|| e.code.status()),
            other => other.code().status(),
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code().as_u16();
        let none = FieldErrors::new();
        let problem = match self {
            Self::Client(e) => Problem::new(e.code, status, &e.detail, &e.errors),
            Self::RateLimited { detail, .. } => Problem::new(ErrorCode::RateLimited, status, detail, &none),
            Self::Internal { source, location } => {
                tracing::error!(error.chain = %chain(source), error.location = %location, "unexpected error");
                Problem::new(ErrorCode::Internal, status, &Rule::Unexpected.into(), &none)
            }
            Self::Contention(source) => {
                tracing::warn!(error.chain = %chain(source), "transaction retries exhausted");
                Problem::new(ErrorCode::ServiceUnavailable, status, &Rule::Collided.into(), &none)
            }
            Self::Unavailable(source) => {
                tracing::warn!(error.chain = %chain(source), "dependency unavailable");
                Problem::new(ErrorCode::ServiceUnavailable, status, &Rule::Unavailable.into(), &none)
            }
            Self::IdempotentReplay => {
                Problem::new(ErrorCode::IdempotencyKeyReused, status, &Rule::IdempotentReplay.into(), &none)
            }
        };
        let mut response = problem.response();
        if problem.status == 401 {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Self::RateLimited { retry_after_secs, .. } = self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if problem.status == 503 {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// "outer: inner: root" for logs.
fn chain(err: &anyhow::Error) -> String {
    err.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ")
}
