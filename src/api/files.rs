//! /files: streamed multipart uploads into object storage, downloads (whole or by range) for
//! those an attachment allows, removal of unattached files; and the attachment DTOs every
//! record with documents shares.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::extract::{AuthUser, MaybeUser};
use super::openapi::problems::*;
use super::path_id;
use crate::db::AnyConnection;
use crate::db::files::{AttachmentRow, FileRow};
use crate::db::time::from_db;
use crate::domain::error::{Arg, DomainError, ErrorCode, Message, Rule, Validator};
use crate::domain::file::{self as rules, ByteRange, Purpose, RecordType, Visibility};
use crate::error::{AppError, AppResult};
use crate::service::files::{self, AttachmentRef, Stored};
use crate::service::{Actor, load_actor, new_id};
use crate::state::AppState;

// ---------- DTOs shared by records ----------

/// One document attached to a record, by the id `POST /files` returned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttachmentIn {
    #[schema(format = Uuid)]
    pub file_id: String,
    pub purpose: Purpose,
}

/// A document attached to a record; download it at `GET /files/{file_id}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AttachmentView {
    pub id: String,
    pub file_id: String,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub purpose: String,
    /// Who may download it, derived from the record.
    pub visibility: Visibility,
    pub attached_at: DateTime<Utc>,
}

fn attachment_view(record: RecordType, (a, f): (AttachmentRow, FileRow)) -> AttachmentView {
    AttachmentView {
        id: a.id,
        file_id: f.id,
        name: f.name,
        size: f.size,
        content_type: f.content_type,
        sha256: f.sha256,
        purpose: a.purpose,
        visibility: record.visibility(),
        attached_at: from_db(a.created_at),
    }
}

/// The `attachments` of a request body, checked for shape (`field[i].file_id` is a UUID).
pub fn refs(list: &[AttachmentIn], field: &str) -> AppResult<Vec<AttachmentRef>> {
    let mut v = Validator::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        match uuid::Uuid::parse_str(&a.file_id) {
            Ok(u) => out.push(AttachmentRef { file_id: u.to_string(), purpose: a.purpose }),
            Err(_) => {
                v.add(&format!("{field}[{i}].file_id"), Rule::Id);
            }
        }
    }
    v.check(list.len() <= 50, field, Message::too_many(50));
    v.finish()?;
    Ok(out)
}

/// A record's attachments as returned in its responses.
pub fn views(c: &mut AnyConnection, record: RecordType, id: &str) -> AppResult<Vec<AttachmentView>> {
    Ok(files::list(c, record, id)?.into_iter().map(|row| attachment_view(record, row)).collect())
}

// ---------- POST /files ----------

/// What `POST /files` stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    pub id: String,
    pub name: String,
    pub size: i64,
    /// Detected from the content (magic bytes), never from the name.
    pub content_type: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub purpose: String,
    /// `stored` (attached to nothing yet; deleted after `storage.orphan_hours`) or `attached`.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl From<FileRow> for FileView {
    fn from(f: FileRow) -> Self {
        Self {
            id: f.id,
            name: f.name,
            size: f.size,
            content_type: f.content_type,
            sha256: f.sha256,
            purpose: f.purpose,
            status: f.status,
            created_at: from_db(f.created_at),
        }
    }
}

/// The multipart form of `POST /files`: `purpose` first, then `file`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the form; the handler reads the parts as a stream
pub struct UploadForm {
    pub purpose: Purpose,
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// The raw bytes of a file.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileContent(Vec<u8>);

/// Multipart framing allowed on top of the file itself before `Content-Length` alone says
/// the file is too large.
const FORM_OVERHEAD: u64 = 16 * 1024;

/// A multipart body that could not be read; the parser's own words follow ours.
fn unreadable(err: actix_multipart::MultipartError) -> AppError {
    AppError::new(ErrorCode::BadRequest, Message::rule(Rule::MultipartUnreadable).arg("error", err.to_string()))
}

fn too_large(limit: u64) -> AppError {
    AppError::new(ErrorCode::FileTooLarge, Message::rule(Rule::FileLimit).arg("limit", limit))
}

/// Uploads a document (multipart/form-data: a `purpose` part, then a `file` part). The file
/// streams into object storage; its type is detected from its content and checked against the
/// purpose's allow-list; its SHA-256 is computed on the way. A file attached to nothing within
/// 24 hours is deleted.
///
/// 已登录用户。错误：400 `bad_request`（分段缺失或顺序不对），403 `forbidden`（如 `evidence` 用途仅管理员），413 `file_too_large`，415 `unsupported_media_type`，422 `unsupported_file_type`、`validation_failed`。
#[utoipa::path(post, path = "/api/v1/files", tag = "files", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = FileView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 413, description = "Larger than the purpose allows (`file_too_large`)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, description = "Content not allowed for the purpose (`unsupported_file_type`) or invalid parts (`validation_failed`)", body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn upload(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    let user_id = user.id.clone();
    let actor = state.db.read_point(move |c| load_actor(c, &user_id)).await?;
    if !actor.is_admin() {
        actor.require_verified_org()?;
    }
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(AppError::new(ErrorCode::UnsupportedMediaType, Rule::MultipartRequired));
    }
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);

    // The purpose comes first: it decides the size limit and allowed types before any file byte is read.
    let mut part =
        form.next().await.ok_or_else(|| AppError::field("purpose", Rule::PurposePart))?.map_err(unreadable)?;
    if part.name() != Some("purpose") {
        return Err(AppError::field("purpose", Rule::PurposeFirst));
    }
    let mut raw = Vec::new();
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(unreadable)?;
        if raw.len() + chunk.len() > 64 {
            return Err(AppError::field("purpose", Rule::UnknownPurpose));
        }
        raw.extend_from_slice(&chunk);
    }
    let purpose = std::str::from_utf8(&raw)
        .ok()
        .and_then(|s| Purpose::parse(s.trim()))
        .ok_or_else(|| AppError::field("purpose", Rule::UnknownPurpose))?;
    // A field must be released before the next one can be read.
    drop(part);
    let limit = state.settings.storage.max_bytes_for(purpose.as_str());
    if declared.is_some_and(|n| n > limit.saturating_add(FORM_OVERHEAD)) {
        return Err(too_large(limit));
    }

    let mut part = form.next().await.ok_or_else(|| AppError::field("file", Rule::FilePart))?.map_err(unreadable)?;
    if part.name() != Some("file") {
        return Err(AppError::field("file", Rule::FileAfterPurpose));
    }
    let name = rules::clean_name(
        part.content_disposition()
            .and_then(|cd| {
                cd.get_filename()
                    .map(str::to_owned)
                    .or_else(|| cd.get_filename_ext().map(|f| String::from_utf8_lossy(&f.value).into_owned()))
            })
            .as_deref()
            .unwrap_or("file"),
    );

    // Read just enough to recognise the content, then stream the rest.
    let mut head: Vec<u8> = Vec::with_capacity(rules::SNIFF_BYTES);
    let mut pending: Option<web::Bytes> = None;
    // A field must not be polled again once it has ended.
    let mut ended = false;
    while head.len() < rules::SNIFF_BYTES {
        match part.next().await {
            Some(chunk) => {
                let chunk = chunk.map_err(unreadable)?;
                let take = (rules::SNIFF_BYTES - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
                if take < chunk.len() {
                    pending = Some(chunk.slice(take..));
                }
            }
            None => {
                ended = true;
                break;
            }
        }
        if head.len() as u64 > limit {
            return Err(too_large(limit));
        }
    }
    let kind = match rules::sniff(&head) {
        Ok(kind) if purpose.allowed().contains(&kind) => kind,
        Ok(kind) => return Err(unsupported(purpose, kind.mime())),
        Err(Some(mime)) => return Err(unsupported(purpose, &mime)),
        Err(None) => return Err(unsupported(purpose, "unrecognised content")),
    };

    let id = new_id();
    let now = state.clock.now();
    let key = files::storage_key(&id, now);
    let mut upload = state.storage.writer(&key).await?;
    let mut hasher = Sha256::new();
    let mut size = head.len() as u64;
    hasher.update(&head);
    let streamed: AppResult<()> = async {
        upload.write(&head).await?;
        drop(head);
        if let Some(rest) = pending.take() {
            size += rest.len() as u64;
            if size > limit {
                return Err(too_large(limit));
            }
            hasher.update(&rest);
            upload.write(&rest).await?;
        }
        while !ended && let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(unreadable)?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(limit));
            }
            hasher.update(&chunk);
            upload.write(&chunk).await?;
            // A fast client keeps the payload always ready; let the worker's other
            // connections (and their request heads) have their turn.
            tokio::task::yield_now().await;
        }
        Ok(())
    }
    .await;
    if let Err(e) = streamed {
        upload.abort().await;
        return Err(e);
    }
    upload.finish().await?;

    let stored = Stored {
        id,
        storage_key: key.clone(),
        name,
        size: i64::try_from(size).map_err(AppError::internal)?,
        content_type: kind.mime().to_owned(),
        sha256: crate::domain::audit::hex(&hasher.finalize()),
        purpose,
    };
    let orphan_after = chrono::Duration::hours(state.settings.storage.orphan_hours);
    let registered = state.db.tx(move |c| files::register(c, &actor, &stored, orphan_after, now)).await;
    match registered {
        Ok(row) => Ok(HttpResponse::Created().json(FileView::from(row))),
        Err(e) => {
            let _ = state.storage.delete(&key).await;
            Err(e)
        }
    }
}

fn unsupported(purpose: Purpose, found: &str) -> AppError {
    let allowed: Vec<&str> = purpose.allowed().iter().map(|k| k.mime()).collect();
    let mut err = DomainError::new(
        ErrorCode::UnsupportedFileType,
        Message::rule(Rule::FileType)
            .arg("purpose", purpose.as_str())
            .arg("allowed", Arg::List(allowed.iter().map(|m| (*m).to_owned()).collect()))
            .arg("found", found),
    );
    err.errors.insert("file".to_owned(), vec![Message::rule(Rule::FileContent).arg("found", found)]);
    err.into()
}

// ---------- GET /files/{id} ----------

/// Downloads a file (streamed), to its uploader, administrators and whoever may read a record
/// it is attached to at that attachment's visibility; anyone else gets 404. Honours a single
/// `Range: bytes=…` (206).
///
/// 错误：404 `not_found`（不存在或无权查看），416（范围无法满足）。
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "File id"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. `bytes=0-1048575`")),
    responses(
        (status = 200, description = "The whole file, with `Content-Disposition` (RFC 5987 `filename*` for non-ASCII names)", body = FileContent, content_type = "application/octet-stream"),
        (status = 206, description = "The requested range, with `Content-Range`", body = FileContent, content_type = "application/octet-stream"),
        (status = 401, response = Unauthorized), (status = 404, response = NotFound),
        (status = 416, description = "The range lies outside the file", body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn download(
    state: web::Data<AppState>,
    user: MaybeUser,
    req: HttpRequest,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let now = state.clock.now();
    let file = state
        .db
        .read(move |c| {
            let actor: Option<Actor> = user.0.map(|u| load_actor(c, &u.id)).transpose()?;
            files::readable(c, actor.as_ref(), &id, now)
        })
        .await?;
    let size = u64::try_from(file.size).map_err(AppError::internal)?;
    let range = rules::parse_range(req.headers().get(header::RANGE).and_then(|v| v.to_str().ok()), size);
    let (status, wanted) = match range {
        ByteRange::Unsatisfiable => {
            let err: AppError =
                DomainError::new(ErrorCode::BadRequest, Message::rule(Rule::RangeUnsatisfiable).arg("size", size))
                    .with_status(416)
                    .into();
            let mut res = actix_web::ResponseError::error_response(&err);
            res.headers_mut().insert(
                header::CONTENT_RANGE,
                header::HeaderValue::from_str(&format!("bytes */{size}")).map_err(AppError::internal)?,
            );
            return Ok(res);
        }
        ByteRange::Full => (StatusCode::OK, None),
        ByteRange::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, Some(start..end + 1)),
    };
    let (served, stream) = if size == 0 {
        (0..0, futures_util::stream::empty().boxed())
    } else {
        state.storage.read(&file.storage_key, wanted).await?
    };
    let mut res = HttpResponse::build(status);
    res.content_type(file.content_type.as_str())
        .insert_header((header::CONTENT_DISPOSITION, rules::content_disposition(&file.name)))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::ETAG, format!("\"{}\"", file.sha256)))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .no_chunking(served.end - served.start);
    if status == StatusCode::PARTIAL_CONTENT {
        res.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{size}", served.start, served.end.saturating_sub(1)),
        ));
    }
    Ok(res.streaming(stream))
}

// ---------- DELETE /files/{id} ----------

/// The uploader deletes a file attached to nothing (attached files stay for the audit trail).
///
/// 上传者本人，返回 204。错误：404 `not_found`，409 `conflict`（文件已附加到记录）。
#[utoipa::path(delete, path = "/api/v1/files/{id}", tag = "files", security(("bearer" = [])),
    params(("id" = String, Path, description = "File id")),
    responses((status = 204, description = "Deleted"), (status = 401, response = Unauthorized),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    let id = path_id(&id)?;
    let now = state.clock.now();
    let key = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            files::delete(c, &actor, &id, now)
        })
        .await?;
    state.storage.delete(&key).await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---------- achievements and demands ----------

/// The confidential part of an achievement: shown only to the owner, administrators and
/// organizations holding an accepted NDA.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ConfidentialIn {
    /// The full technical detail.
    #[schema(max_length = 50000)]
    pub text: Option<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConfidentialView {
    pub text: Option<String>,
    pub attachments: Vec<AttachmentView>,
}

/// Documents sent with a listing's create or edit body, checked for shape.
#[derive(Debug, Clone, Default)]
pub struct ListingDocs {
    pub attachments: Vec<AttachmentRef>,
    pub confidential_text: Option<String>,
    pub confidential_attachments: Vec<AttachmentRef>,
}

impl ListingDocs {
    pub fn parse(attachments: &[AttachmentIn], confidential: Option<&ConfidentialIn>) -> AppResult<Self> {
        let mut docs = Self { attachments: refs(attachments, "attachments")?, ..Self::default() };
        if let Some(conf) = confidential {
            if let Some(text) = &conf.text {
                let mut v = Validator::new();
                v.check(text.chars().count() <= 50_000, "confidential.text", Message::too_long(50000));
                v.finish()?;
                docs.confidential_text = Some(text.trim().to_owned());
            }
            docs.confidential_attachments = refs(&conf.attachments, "confidential.attachments")?;
        }
        Ok(docs)
    }

    /// Stores the documents of a listing the caller just created or edited (its service
    /// checked ownership and that the listing is still editable).
    pub fn save(
        &self,
        c: &mut AnyConnection,
        actor: &Actor,
        kind: crate::domain::listing::ListingKind,
        id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        use crate::domain::listing::ListingKind;
        let record = if kind == ListingKind::Achievement { RecordType::Achievement } else { RecordType::Demand };
        files::attach(c, actor, record, id, &self.attachments, "attachments", now)?;
        if kind == ListingKind::Achievement {
            if let Some(text) = &self.confidential_text {
                crate::service::access::set_confidential(c, id, text, now)?;
            }
            files::attach(
                c,
                actor,
                RecordType::AchievementConfidential,
                id,
                &self.confidential_attachments,
                "confidential.attachments",
                now,
            )?;
        } else if self.confidential_text.is_some() || !self.confidential_attachments.is_empty() {
            return Err(AppError::field("confidential", Rule::ConfidentialAchievementsOnly));
        }
        Ok(())
    }
}

/// A listing's attachments, and for achievements its confidential part when `actor` may read it.
pub fn listing_extras(
    c: &mut AnyConnection,
    actor: Option<&Actor>,
    kind: crate::domain::listing::ListingKind,
    id: &str,
) -> AppResult<(Vec<AttachmentView>, Option<ConfidentialView>)> {
    listing_extras_known(c, actor, kind, id, true)
}

/// [`listing_extras`] when the caller already knows whether the listing has public attachments
/// (`false` skips that query).
pub fn listing_extras_known(
    c: &mut AnyConnection,
    actor: Option<&Actor>,
    kind: crate::domain::listing::ListingKind,
    id: &str,
    has_public: bool,
) -> AppResult<(Vec<AttachmentView>, Option<ConfidentialView>)> {
    use crate::domain::listing::ListingKind;
    let public = |c: &mut AnyConnection, record| if has_public { views(c, record, id) } else { Ok(Vec::new()) };
    if kind == ListingKind::Demand {
        return Ok((public(c, RecordType::Demand)?, None));
    }
    let public = public(c, RecordType::Achievement)?;
    let confidential = match actor {
        Some(a) if crate::service::access::may_read_confidential(c, a, id)? => {
            let text = crate::service::access::confidential_text(c, id)?;
            let attachments = views(c, RecordType::AchievementConfidential, id)?;
            (text.is_some() || !attachments.is_empty()).then_some(ConfidentialView { text, attachments })
        }
        _ => None,
    };
    Ok((public, confidential))
}
