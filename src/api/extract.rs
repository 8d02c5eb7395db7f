//! Request extractors and the error handlers that keep every failure in problem+json:
//! malformed JSON → 400, well-formed JSON with bad values → 422 with the failing field,
//! bad query strings → 422, unparsable path ids → 404, oversized bodies → 413.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::domain::error::Arg;
use crate::error::{AppError, DomainError, ErrorCode, FieldErrors, Message, PROBLEM_JSON, Problem, Rule};

/// Largest accepted JSON body, stored in app data by `startup`.
#[derive(Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body parsed with precise errors (the failing field's path in `errors`).
pub struct ApiJson<T>(pub T);

impl<T> ApiJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(256 * 1024, |l| l.0);
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"));
        let declared_too_large = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|len| len > limit);
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(AppError::new(ErrorCode::UnsupportedMediaType, Rule::JsonContentType));
            }
            if declared_too_large {
                return Err(too_large(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    AppError::new(
                        ErrorCode::BadRequest,
                        Message::rule(Rule::BodyUnreadable).arg("error", e.to_string()),
                    )
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(ApiJson)
        })
    }
}

// PostgreSQL text cannot hold the NUL character, so no input may carry one: refused at the
// edge with the same answer on both backends, before any handler sees it.

/// Whether the raw body holds an escaped NUL (`\u0000`) anywhere: the cheap test that lets
/// almost every body skip the field-by-field check.
fn has_escaped_nul(body: &[u8]) -> bool {
    body.windows(6).enumerate().any(|(i, window)| {
        // An escape only when the backslash is not itself escaped.
        window == b"\\u0000" && body[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0
    })
}

/// 422 naming the first field that holds `\u0000` in its value or in a key, among the parts
/// of the body the target type read (`ignored` lists the parts it skipped: unknown fields are
/// ignored as before, whatever they hold).
fn refuse_nul_in_json(value: &serde_json::Value, ignored: &[Vec<String>]) -> Result<(), AppError> {
    let mut at = Walk::default();
    match nul_path(value, &mut at, ignored) {
        Some(field) => Err(AppError::field(if field.is_empty() { "body" } else { &field }, Rule::Nul)),
        None => Ok(()),
    }
}

/// Where a walk over a JSON value is: the keys and positions from the root.
#[derive(Default)]
struct Walk {
    segments: Vec<String>,
    in_array: Vec<bool>,
}

impl Walk {
    fn skipped(&self, ignored: &[Vec<String>]) -> bool {
        ignored.contains(&self.segments)
    }

    fn path(&self) -> String {
        render(&self.segments, &self.in_array)
    }

    fn within<T>(&mut self, segment: String, in_array: bool, f: impl FnOnce(&mut Self) -> T) -> T {
        self.segments.push(segment);
        self.in_array.push(in_array);
        let result = f(self);
        self.segments.pop();
        self.in_array.pop();
        result
    }
}

fn nul_path(value: &serde_json::Value, at: &mut Walk, ignored: &[Vec<String>]) -> Option<String> {
    if at.skipped(ignored) {
        return None;
    }
    match value {
        serde_json::Value::String(s) => s.contains('\0').then(|| at.path()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| at.within(i.to_string(), true, |at| nul_path(item, at, ignored))),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            at.within(key.clone(), false, |at| {
                if at.skipped(ignored) {
                    None
                } else if key.contains('\0') {
                    Some(at.path())
                } else {
                    nul_path(item, at, ignored)
                }
            })
        }),
        _ => None,
    }
}

/// The JSON path of `at` (`a.b[2].c`): positions in arrays in brackets, keys joined by dots.
fn render(at: &[String], in_array: &[bool]) -> String {
    let mut out = String::new();
    for (segment, index) in at.iter().zip(in_array) {
        if *index {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

/// The path serde_ignored reports, as the keys and positions that lead to it.
fn ignored_segments(path: &serde_ignored::Path<'_>) -> Vec<String> {
    match path {
        serde_ignored::Path::Root => Vec::new(),
        serde_ignored::Path::Seq { parent, index } => {
            let mut segments = ignored_segments(parent);
            segments.push(index.to_string());
            segments
        }
        serde_ignored::Path::Map { parent, key } => {
            let mut segments = ignored_segments(parent);
            segments.push(key.clone());
            segments
        }
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_segments(parent),
    }
}

/// Middleware: an encoded NUL (`%00`) in the path names no resource (404); in the query
/// string it is an invalid value (422), as for any other unparsable id or parameter.
pub async fn refuse_nul_in_url(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let err = if req.uri().path().contains("%00") {
        Some(AppError::not_found("resource"))
    } else if req.uri().query().is_some_and(|q| q.contains("%00")) {
        Some(AppError::field("query", Rule::Nul))
    } else {
        None
    };
    match err {
        Some(err) => Ok(req.error_response(err).map_into_right_body()),
        None => next.call(req).await.map(actix_web::dev::ServiceResponse::map_into_left_body),
    }
}

fn too_large(limit: usize) -> AppError {
    AppError::new(ErrorCode::PayloadTooLarge, Message::rule(Rule::BodyTooLarge).arg("limit", limit))
}

/// 422 naming every `*_fen` field whose value is not a whole number of fen within
/// ±[`MAX_FEN`](crate::domain::money::MAX_FEN) (checked before the body is typed, so it
/// holds for every endpoint and every nested amount).
fn refuse_amounts_beyond_the_ceiling(body: &[u8]) -> Result<(), AppError> {
    if !body.windows(5).any(|w| w == b"_fen\"") {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(()); // malformed anyway: the parser reports it
    };
    let mut bad = Vec::new();
    out_of_range_amounts(&value, "", &mut bad);
    if bad.is_empty() {
        return Ok(());
    }
    let message = Message::rule(Rule::FenRange).arg("max", crate::domain::money::MAX_FEN);
    let errors = bad.into_iter().map(|path| (path, vec![message.clone()])).collect();
    Err(AppError::Client(DomainError::fields(errors)))
}

fn out_of_range_amounts(value: &serde_json::Value, at: &str, bad: &mut Vec<String>) {
    match value {
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                out_of_range_amounts(item, &format!("{at}[{i}]"), bad);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                let path = if at.is_empty() { key.clone() } else { format!("{at}.{key}") };
                match item {
                    serde_json::Value::Number(n) if key.ends_with("_fen") => {
                        // `5.0` is read as 5 (see `whole_floats_as_integers`).
                        let whole = n
                            .as_i64()
                            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64));
                        if !whole.is_some_and(crate::domain::money::within_ceiling) {
                            bad.push(path);
                        }
                    }
                    _ => out_of_range_amounts(item, &path, bad),
                }
            }
        }
        _ => {}
    }
}

/// The body with every whole-number float (`4.0`, `1e3`) written as an integer; `None` when
/// it has none (or is not JSON).
fn whole_floats_as_integers(body: &[u8]) -> Option<Vec<u8>> {
    fn normalize(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) if n.is_f64() => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    *value = serde_json::Value::from(f as i64);
                    true
                } else {
                    false
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().map(normalize).fold(false, |a, b| a | b),
            serde_json::Value::Object(map) => map.values_mut().map(normalize).fold(false, |a, b| a | b),
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    normalize(&mut value).then(|| serde_json::to_vec(&value).ok()).flatten()
}

/// Parses JSON, telling syntax errors (400) from value errors (422 naming every failing field
/// by its JSON path). PostgreSQL text cannot hold the NUL character, so no field the type
/// reads may carry one (422, the same on both backends).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    refuse_amounts_beyond_the_ceiling(body)?;
    let mut ignored = Vec::new();
    let watch_nul = has_escaped_nul(body);
    let mut note_ignored = |path: serde_ignored::Path<'_>| {
        if watch_nul {
            ignored.push(ignored_segments(&path));
        }
    };
    let de = &mut serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize::<_, T>(serde_ignored::Deserializer::new(de, &mut note_ignored));
    if watch_nul
        && parsed.is_ok()
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
    {
        refuse_nul_in_json(&value, &ignored)?;
    }
    let err = match parsed {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    match err.inner().classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof | serde_json::error::Category::Io => {
            let inner = err.inner();
            let message = Message::rule(Rule::MalformedJson).arg("line", inner.line()).arg("column", inner.column());
            Err(AppError::new(ErrorCode::MalformedJson, message))
        }
        serde_json::error::Category::Data => {
            // `4.0` is the integer 4 (JSON has one number type): read it as one.
            if err.inner().to_string().starts_with("invalid type: floating point")
                && let Some(normalized) = whole_floats_as_integers(body)
            {
                return parse_json(&normalized);
            }
            Err(AppError::Client(DomainError::fields(every_failing_field::<T>(body, value_error(&err)))))
        }
    }
}

/// Bodies up to this size get every failing field reported; larger ones the first (finding
/// the others re-reads the body once per failing field).
const REPAIRED_BODY_MAX: usize = 64 * 1024;
/// At most this many failing fields are reported.
const FIELD_ERRORS_MAX: usize = 32;

/// A step from a JSON value to one inside it.
enum Step {
    Key(String),
    Index(usize),
    /// An enum variant: a key when the enum is externally tagged, nothing otherwise.
    Variant(String),
    Unknown,
}

/// One value error of a body: where it is, what is wrong, and what lets parsing go on.
struct ValueError {
    /// The failing value, or for a missing field the object that lacks it.
    at: Vec<Step>,
    missing: Option<String>,
    /// The JSON path reported (`milestones[2].title`; `body` for the whole body).
    field: String,
    message: Message,
    /// The accepted values, when the value is not one of them.
    choices: Vec<String>,
}

fn value_error(err: &serde_path_to_error::Error<serde_json::Error>) -> ValueError {
    use serde_path_to_error::Segment;
    let text = strip_position(&err.inner().to_string());
    let at = err
        .path()
        .iter()
        .map(|segment| match segment {
            Segment::Seq { index } => Step::Index(*index),
            Segment::Map { key } => Step::Key(key.clone()),
            Segment::Enum { variant } => Step::Variant(variant.clone()),
            Segment::Unknown => Step::Unknown,
        })
        .collect();
    let path = err.path().to_string();
    let missing = missing_field(&text).map(str::to_owned);
    let field = match (&missing, path.as_str()) {
        (Some(name), ".") => name.clone(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, ".") => "body".to_owned(),
        (None, path) => path.to_owned(),
    };
    let (message, choices) = value_message(&text);
    ValueError { at, missing, field, message, choices }
}

/// Reports `first` and every other failing field: each failing value is replaced by one the
/// type accepts (an accepted choice, or the first plain value that moves the error elsewhere)
/// and the body parsed again, until it parses or nothing can stand in.
fn every_failing_field<T: DeserializeOwned>(body: &[u8], first: ValueError) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let mut value =
        (body.len() <= REPAIRED_BODY_MAX).then(|| serde_json::from_slice::<serde_json::Value>(body).ok()).flatten();
    let mut next = Some(first);
    while let Some(error) = next.take() {
        if errors.contains_key(&error.field) {
            break;
        }
        errors.insert(error.field.clone(), vec![error.message.clone()]);
        if let Some(value) = value.as_mut()
            && errors.len() < FIELD_ERRORS_MAX
        {
            next = step_past::<T>(value, &error);
        }
    }
    errors
}

/// Puts a stand-in where `error` is and returns the next error, if any.
fn step_past<T: DeserializeOwned>(value: &mut serde_json::Value, error: &ValueError) -> Option<ValueError> {
    use serde_json::{Value, json};
    let stand_ins: Vec<Value> = match error.choices.first() {
        Some(choice) => vec![Value::String(choice.clone())],
        None => vec![
            json!(1),
            json!("x"),
            json!(false),
            json!([]),
            json!({}),
            json!("2026-01-01T00:00:00Z"),
            json!("2026-01-01"),
            json!("00000000-0000-0000-0000-000000000000"),
            Value::Null,
        ],
    };
    for stand_in in stand_ins {
        let mut trial = value.clone();
        let slot = slot(&mut trial, &error.at)?;
        match &error.missing {
            Some(name) => {
                slot.as_object_mut()?.insert(name.clone(), stand_in);
            }
            None => *slot = stand_in,
        }
        match serde_path_to_error::deserialize::<_, T>(&trial) {
            Ok(_) => return None,
            Err(err) => {
                let next = value_error(&err);
                if next.field != error.field {
                    *value = trial;
                    return Some(next);
                }
            }
        }
    }
    None
}

fn slot<'a>(value: &'a mut serde_json::Value, at: &[Step]) -> Option<&'a mut serde_json::Value> {
    let mut here = value;
    for step in at {
        here = match step {
            Step::Key(key) => here.get_mut(key.as_str())?,
            Step::Index(index) => here.get_mut(*index)?,
            Step::Variant(variant) => {
                if here.get(variant.as_str()).is_some() {
                    here.get_mut(variant.as_str())?
                } else {
                    here
                }
            }
            Step::Unknown => return None,
        };
    }
    Some(here)
}

/// serde's message for a bad value as a catalogued rule, with the accepted values when the
/// message lists them.
fn value_message(text: &str) -> (Message, Vec<String>) {
    if text.starts_with("missing field") {
        return (Rule::Required.into(), Vec::new());
    }
    if let Some(rest) = text.strip_prefix("unknown variant `") {
        let choices: Vec<String> = rest
            .split_once("expected")
            .map(|(_, listed)| listed.split('`').skip(1).step_by(2).map(str::to_owned).collect())
            .unwrap_or_default();
        if choices.is_empty() {
            return (Rule::Invalid.into(), choices);
        }
        return (Message::rule(Rule::Choice).arg("allowed", Arg::List(choices.clone())), choices);
    }
    let expected = text.rsplit_once(", expected ").map(|(_, e)| e.to_ascii_lowercase());
    if let Some(expected) = expected.as_deref()
        && (text.starts_with("invalid type") || text.starts_with("invalid value"))
    {
        return (expected_kind(expected), Vec::new());
    }
    const DATE_TIME: [&str; 7] = [
        "premature end of input",
        "input contains invalid characters",
        "input is out of range",
        "trailing input",
        "input is not enough",
        "no possible date and time",
        "bad or unsupported format",
    ];
    if DATE_TIME.iter().any(|m| text.starts_with(m)) {
        return (Rule::DateTime.into(), Vec::new());
    }
    if text.contains("UUID") || text.starts_with("invalid character: expected") || text.starts_with("invalid group") {
        return (Rule::Id.into(), Vec::new());
    }
    if text.contains("invalid digit") || text.contains("number too large") || text.contains("cannot parse integer") {
        return (Message::rule(Rule::Type).word("expected", "integer"), Vec::new());
    }
    if text.contains("invalid float") {
        return (Message::rule(Rule::Type).word("expected", "number"), Vec::new());
    }
    if text.contains("`true` or `false`") {
        return (Message::rule(Rule::Type).word("expected", "boolean"), Vec::new());
    }
    (Message::Text(text.to_owned()), Vec::new())
}

/// "i64", "a sequence", "struct Foo" … as the kind of value a person would name.
fn expected_kind(expected: &str) -> Message {
    let typed = |kind: &str| Message::rule(Rule::Type).word("expected", kind);
    let word = expected.trim_start_matches("a ").trim_start_matches("an ");
    if word.contains("date") || word.contains("rfc 3339") || word.contains("time") {
        return Rule::DateTime.into();
    }
    if word.contains("uuid") {
        return Rule::Id.into();
    }
    match word {
        w if w.starts_with('u') && w[1..].chars().all(|c| c.is_ascii_digit()) || w == "usize" => {
            typed("non-negative-integer")
        }
        w if w.starts_with('i') && w[1..].chars().all(|c| c.is_ascii_digit()) || w == "isize" || w == "integer" => {
            typed("integer")
        }
        "f32" | "f64" | "number" | "float" => typed("number"),
        "string" | "str" | "char" | "borrowed string" => typed("string"),
        "boolean" | "bool" => typed("boolean"),
        w if w.contains("sequence") || w.contains("tuple") || w.contains("array") => typed("array"),
        w if w.contains("map") || w.starts_with("struct") || w.contains("object") => typed("object"),
        "unit" | "null" => typed("null"),
        _ => Rule::Invalid.into(),
    }
}

/// serde_json appends " at line 1 column 12"; clients do not need it.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// "missing field `email`" → "email".
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// A query string parsed with every failing parameter named: 422 `errors` keyed by the
/// parameter, never by the value it held.
pub struct ApiQuery<T>(pub T);

impl<T> ApiQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ApiQuery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

/// Parses a query string into `T`; a failing parameter is dropped and the rest parsed again,
/// so one answer names them all.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let mut errors = FieldErrors::new();
    while errors.len() < FIELD_ERRORS_MAX {
        let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
        let err = match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => break,
            Err(err) => err,
        };
        let text = err.inner().to_string();
        let path = err.path().to_string();
        let name = missing_field(&text)
            .map(str::to_owned)
            .or_else(|| (path != "." && !path.is_empty()).then_some(path))
            .or_else(|| {
                pairs.iter().find(|(_, v)| !v.is_empty() && text.contains(&format!("`{v}`"))).map(|(k, _)| k.clone())
            })
            .unwrap_or_else(|| "query".to_owned());
        if errors.contains_key(&name) {
            break;
        }
        errors.insert(name.clone(), vec![value_message(&text).0]);
        let before = pairs.len();
        pairs.retain(|(key, _)| key != &name);
        if pairs.len() == before {
            break;
        }
    }
    Err(AppError::Client(DomainError::fields(errors)))
}

/// Query strings that do not parse → 422 naming the problem.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, req| {
        let text = err.to_string();
        let name = req
            .query_string()
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(_, value)| !value.is_empty() && text.contains(&format!("`{value}`")))
            .map_or_else(|| "query".to_owned(), |(key, _)| key.to_owned());
        AppError::Client(DomainError::field(&name, value_message(&text).0)).into()
    })
}

/// Path segments that do not parse (e.g. a malformed UUID) name no resource → 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err, _req| AppError::not_found("resource").into())
}

/// Rewrites any error response that is not problem+json yet (unknown route, wrong method,
/// actix's own 4xx) into problem+json, so every failure has the same shape. The HTML pages
/// that emailed links open (`crate::pages`) answer their failures with a page of their own,
/// which is kept as it is.
pub fn problem_for_plain_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let keep = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON) || v.starts_with("text/html"));
    if keep {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status().as_u16();
    let code = match status {
        400 => ErrorCode::BadRequest,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        429 => ErrorCode::RateLimited,
        503 => ErrorCode::ServiceUnavailable,
        s if s >= 500 => ErrorCode::Internal,
        _ => ErrorCode::BadRequest,
    };
    let (method, path) = (res.request().method().to_string(), res.request().path().to_owned());
    let detail = match code {
        ErrorCode::NotFound => Message::rule(Rule::NoRoute).arg("method", method).arg("path", path),
        ErrorCode::MethodNotAllowed => Message::rule(Rule::MethodNotAllowed).arg("method", method).arg("path", path),
        ErrorCode::Internal => Rule::Unexpected.into(),
        other => Message::Text(crate::i18n::title(crate::i18n::current(), other)),
    };
    let problem = Problem::new(code, status, &detail, &FieldErrors::new());
    let (req, res) = res.into_parts();
    let mut new_res = problem.response();
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new_res.headers_mut().insert(name.clone(), value.clone());
        }
    }
    *new_res.status_mut() = res.status();
    let new_res: actix_web::HttpResponse<BoxBody> = new_res;
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, new_res).map_into_right_body()))
}

/// The caller, authenticated by a valid access token (`Authorization: Bearer …`).
/// Extraction fails with 401 before the handler runs; what the caller may do is decided by
/// the service from the database, not from the token's claims.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: String,
    pub role: crate::domain::account::Role,
}

fn bearer(req: &HttpRequest) -> Option<Result<AuthUser, AppError>> {
    let header = req.headers().get(header::AUTHORIZATION)?;
    let unauthorized = || AppError::new(ErrorCode::Unauthorized, Rule::TokenInvalid);
    let Some(token) =
        header.to_str().ok().and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
    else {
        return Some(Err(unauthorized()));
    };
    let Some(state) = req.app_data::<web::Data<crate::state::AppState>>() else {
        return Some(Err(AppError::internal(anyhow::anyhow!("application state missing"))));
    };
    Some(
        state
            .jwt
            .verify(token.trim())
            .map(|claims| AuthUser { id: claims.sub, role: claims.role })
            .ok_or_else(unauthorized),
    )
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            bearer(req).unwrap_or_else(|| Err(AppError::new(ErrorCode::Unauthorized, Rule::LoginRequired))),
        )
    }
}

/// An optional caller: anonymous when no Authorization header is sent; a bad token is
/// still 401 (a client sending one expects to be recognised).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

impl FromRequest for MaybeUser {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(match bearer(req) {
            None => Ok(MaybeUser(None)),
            Some(result) => result.map(|u| MaybeUser(Some(u))),
        })
    }
}

/// A caller whose token carries the admin role (403 otherwise, before the body is read).
/// The service re-checks the role in the database.
#[derive(Debug, Clone)]
pub struct AdminUser(pub AuthUser);

impl FromRequest for AdminUser {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        std::future::ready(AuthUser::from_request(req, payload).into_inner().and_then(|user| {
            if user.role == crate::domain::account::Role::Admin {
                Ok(AdminUser(user))
            } else {
                Err(AppError::forbidden(Rule::AdminsOnly))
            }
        }))
    }
}

/// The optional `Idempotency-Key` header of money-moving requests (1..=255 visible ASCII
/// characters, else 422).
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = match req.headers().get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(value) => match value.to_str() {
                Ok(key) if !key.trim().is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic()) => {
                    Ok(IdempotencyKey(Some(key.to_owned())))
                }
                _ => Err(AppError::field("Idempotency-Key", Rule::IdempotencyKeyFormat)),
            },
        };
        std::future::ready(result)
    }
}
