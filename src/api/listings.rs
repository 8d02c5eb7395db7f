//! /achievements and /demands (one implementation, two shapes), the admin review queue,
//! and /me/subscriptions.

use crate::domain::error::Rule;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{AdminUser, ApiJson, ApiQuery, AuthUser, MaybeUser};
use super::files::{self, AttachmentIn, AttachmentView, ConfidentialIn, ConfidentialView, ListingDocs};
use super::openapi::problems::*;
use super::{Paginated, ReasonRequest, json_body, path_id, to_json_bytes};
use crate::db::listings::{ListFilter, ListingRow};
use crate::db::time::from_db;
use crate::domain::listing::{Field, ListingContent, ListingKind, TransferMode};
use crate::error::{AppError, AppResult};
use crate::search::Kind;
use crate::search::index::{Filters, Sort};
use crate::search::sync::{field_code, mode_code, region_code};
use crate::service::{self, Page, load_actor};
use crate::state::AppState;

/// `Some(None)` for an explicit `null`, `None` when the key is absent (PATCH semantics).
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

// ---------- achievements ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "高效钙钛矿太阳能电池制备技术", "summary": "采用两步溶液法与界面钝化工艺，小面积器件光电转换效率达 25.1%，组件经 1000 小时湿热老化后效率保持 95% 以上。", "field": "new_energy", "keywords": ["钙钛矿", "光伏", "薄膜电池"], "trl": 6, "transfer_modes": ["license", "transfer"], "asking_price_fen": 300000000, "negotiable": true, "region": "江苏省", "patent_numbers": ["CN202410587326.2", "CN202420311458.8"], "confidential": {"text": "前驱体配方、退火温度曲线及中试线工艺参数详见保密附件。"}}))]
pub struct AchievementCreate {
    #[schema(example = "高效钙钛矿太阳能电池制备技术", min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 10000)]
    pub summary: String,
    pub field: Field,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Technology readiness level 1..9 (GB/T 22900).
    #[schema(minimum = 1, maximum = 9)]
    pub trl: i32,
    #[schema(min_items = 1)]
    pub transfer_modes: Vec<TransferMode>,
    #[schema(minimum = 0)]
    pub asking_price_fen: Option<i64>,
    #[serde(default)]
    pub negotiable: bool,
    #[schema(example = "江苏省")]
    pub region: String,
    /// Chinese patent application numbers with check digit, e.g. `CN202310123456.6`.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub patent_numbers: Vec<String>,
    /// Public documents (patent certificates, test reports), by the ids `POST /files` returned.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
    /// Detail shown only to the owner, administrators and NDA holders.
    pub confidential: Option<ConfidentialIn>,
}

impl AchievementCreate {
    fn docs(&self) -> AppResult<ListingDocs> {
        ListingDocs::parse(&self.attachments, self.confidential.as_ref())
    }

    fn content(self) -> ListingContent {
        ListingContent {
            title: self.title,
            body: self.summary,
            field: self.field,
            keywords: self.keywords,
            trl: Some(self.trl),
            price_fen: self.asking_price_fen,
            negotiable: self.negotiable,
            transfer_modes: self.transfer_modes,
            patent_numbers: self.patent_numbers,
            region: self.region,
            deadline: None,
        }
    }
}

/// A partial edit: only the keys sent change (`null` clears an optional value).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({"summary": "采用两步溶液法与界面钝化工艺，组件效率 22.8%，已完成 1000 小时湿热老化与 200 次冷热循环测试。", "trl": 7, "asking_price_fen": 280000000, "keywords": ["钙钛矿", "光伏", "中试"]}))]
pub struct AchievementPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    pub summary: Option<String>,
    pub field: Option<Field>,
    pub keywords: Option<Vec<String>>,
    #[schema(minimum = 1, maximum = 9)]
    pub trl: Option<i32>,
    #[schema(min_items = 1)]
    pub transfer_modes: Option<Vec<TransferMode>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub asking_price_fen: Option<Option<i64>>,
    pub negotiable: Option<bool>,
    pub region: Option<String>,
    #[schema(max_items = 50)]
    pub patent_numbers: Option<Vec<String>>,
    /// Documents to add (attachments are never replaced: a new version is a new attachment).
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
    /// Sets the confidential text and adds confidential documents.
    pub confidential: Option<ConfidentialIn>,
}

impl AchievementPatch {
    fn apply(self, mut c: ListingContent) -> ListingContent {
        if let Some(v) = self.title {
            c.title = v;
        }
        if let Some(v) = self.summary {
            c.body = v;
        }
        if let Some(v) = self.field {
            c.field = v;
        }
        if let Some(v) = self.keywords {
            c.keywords = v;
        }
        if let Some(v) = self.trl {
            c.trl = Some(v);
        }
        if let Some(v) = self.transfer_modes {
            c.transfer_modes = v;
        }
        if let Some(v) = self.asking_price_fen {
            c.price_fen = v;
        }
        if let Some(v) = self.negotiable {
            c.negotiable = v;
        }
        if let Some(v) = self.region {
            c.region = v;
        }
        if let Some(v) = self.patent_numbers {
            c.patent_numbers = v;
        }
        c
    }
}

/// A research result (科技成果).
#[derive(Debug, Serialize, ToSchema)]
pub struct AchievementView {
    pub id: String,
    pub org_id: String,
    pub title: String,
    pub summary: String,
    pub field: String,
    pub keywords: Vec<String>,
    pub trl: Option<i32>,
    pub transfer_modes: Vec<String>,
    pub asking_price_fen: Option<i64>,
    pub negotiable: bool,
    pub region: String,
    pub patent_numbers: Vec<String>,
    /// Public documents (in single-achievement responses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
    /// Present only for the owner, administrators and active NDA holders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidential: Option<ConfidentialView>,
    /// `draft`, `pending_review`, `published`, `rejected`, `withdrawn`, `transferred`.
    pub status: String,
    pub reject_reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The owner's last confirmation that the listing is current (`POST …/{id}/confirm`, or
    /// extending a demand); `null` when never confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Whether the listing has left matching for want of confirmation (more than
    /// `matching.confirm_after_days` since the later of publication and confirmation). In
    /// single-listing responses and the owner's lists (`mine=true`); absent in public lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<bool>,
}

impl From<ListingRow> for AchievementView {
    fn from(r: ListingRow) -> Self {
        Self {
            keywords: r.keywords(),
            transfer_modes: r.transfer_modes(),
            patent_numbers: r.patent_numbers(),
            attachments: None,
            confidential: None,
            id: r.id,
            org_id: r.org_id,
            title: r.title,
            summary: r.body,
            field: r.field,
            trl: r.trl,
            asking_price_fen: r.price_fen,
            negotiable: r.negotiable,
            region: r.region,
            status: r.status,
            reject_reason: r.reject_reason,
            submitted_at: r.submitted_at.map(from_db),
            published_at: r.published_at.map(from_db),
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
            confirmed_at: r.confirmed_at.map(from_db),
            stale: None,
        }
    }
}

// ---------- demands ----------

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "地铁车辆轮对尺寸在线检测需求", "description": "需在车辆段入库线上非接触测量轮缘厚度、轮径等参数，测量精度 ±0.2 mm，车速 5–10 km/h 下自动识别车号并出具报告。", "field": "transportation", "keywords": ["轮对", "在线检测", "机器视觉"], "min_trl": 6, "budget_fen": 150000000, "region": "江苏省", "deadline": "2031-06-30"}))]
pub struct DemandCreate {
    #[schema(example = "地铁车辆轮对尺寸在线检测需求", min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(min_length = 1, max_length = 10000)]
    pub description: String,
    pub field: Field,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The lowest technology readiness level acceptable (1..9).
    #[schema(minimum = 1, maximum = 9)]
    pub min_trl: Option<i32>,
    #[schema(minimum = 0)]
    pub budget_fen: Option<i64>,
    pub region: String,
    /// Last day the demand is open (YYYY-MM-DD).
    pub deadline: Option<NaiveDate>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
}

impl DemandCreate {
    fn docs(&self) -> AppResult<ListingDocs> {
        ListingDocs::parse(&self.attachments, None)
    }

    fn content(self) -> ListingContent {
        ListingContent {
            title: self.title,
            body: self.description,
            field: self.field,
            keywords: self.keywords,
            trl: self.min_trl,
            price_fen: self.budget_fen,
            negotiable: false,
            transfer_modes: Vec::new(),
            patent_numbers: Vec::new(),
            region: self.region,
            deadline: self.deadline,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({"budget_fen": 180000000, "deadline": "2031-12-31", "keywords": ["轮对", "在线检测", "激光测量"]}))]
pub struct DemandPatch {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    pub description: Option<String>,
    pub field: Option<Field>,
    pub keywords: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 9)]
    pub min_trl: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub budget_fen: Option<Option<i64>>,
    pub region: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub deadline: Option<Option<NaiveDate>>,
    /// Documents to add.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attachments: Vec<AttachmentIn>,
}

impl DemandPatch {
    fn apply(self, mut c: ListingContent) -> ListingContent {
        if let Some(v) = self.title {
            c.title = v;
        }
        if let Some(v) = self.description {
            c.body = v;
        }
        if let Some(v) = self.field {
            c.field = v;
        }
        if let Some(v) = self.keywords {
            c.keywords = v;
        }
        if let Some(v) = self.min_trl {
            c.trl = v;
        }
        if let Some(v) = self.budget_fen {
            c.price_fen = v;
        }
        if let Some(v) = self.region {
            c.region = v;
        }
        if let Some(v) = self.deadline {
            c.deadline = v;
        }
        c
    }
}

/// An enterprise's technical demand (技术需求).
#[derive(Debug, Serialize, ToSchema)]
pub struct DemandView {
    pub id: String,
    pub org_id: String,
    pub title: String,
    pub description: String,
    pub field: String,
    pub keywords: Vec<String>,
    pub min_trl: Option<i32>,
    pub budget_fen: Option<i64>,
    pub region: String,
    pub deadline: Option<NaiveDate>,
    /// Documents (in single-demand responses).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentView>>,
    /// `draft`, `pending_review`, `published`, `rejected`, `withdrawn`, `expired` (the
    /// deadline passed; `POST /demands/{id}/extend` publishes it again).
    pub status: String,
    pub reject_reason: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The owner's last confirmation that the listing is current (`POST …/{id}/confirm`, or
    /// extending a demand); `null` when never confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Whether the listing has left matching for want of confirmation (more than
    /// `matching.confirm_after_days` since the later of publication and confirmation). In
    /// single-listing responses and the owner's lists (`mine=true`); absent in public lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<bool>,
}

impl From<ListingRow> for DemandView {
    fn from(r: ListingRow) -> Self {
        Self {
            keywords: r.keywords(),
            id: r.id,
            org_id: r.org_id,
            title: r.title,
            description: r.body,
            field: r.field,
            min_trl: r.trl,
            budget_fen: r.price_fen,
            region: r.region,
            deadline: r.deadline,
            attachments: None,
            status: r.status,
            reject_reason: r.reject_reason,
            submitted_at: r.submitted_at.map(from_db),
            published_at: r.published_at.map(from_db),
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
            confirmed_at: r.confirmed_at.map(from_db),
            stale: None,
        }
    }
}

// ---------- shared implementation ----------

/// An achievement or a demand, serialized as its own view (no intermediate JSON tree).
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum ListingView {
    Achievement(AchievementView),
    Demand(DemandView),
}

fn view(kind: ListingKind, row: ListingRow) -> ListingView {
    match kind {
        ListingKind::Achievement => ListingView::Achievement(row.into()),
        ListingKind::Demand => ListingView::Demand(row.into()),
    }
}

/// [`view`] with `stale` as of now (single-listing responses, the owner's lists).
pub(super) fn dated_view(state: &AppState, kind: ListingKind, row: ListingRow) -> ListingView {
    let stale = service::freshness::is_stale(&row, &state.settings.matching.freshness(), state.clock.now());
    match view(kind, row) {
        ListingView::Achievement(mut v) => {
            v.stale = Some(stale);
            ListingView::Achievement(v)
        }
        ListingView::Demand(mut v) => {
            v.stale = Some(stale);
            ListingView::Demand(v)
        }
    }
}

type Extras = (Vec<AttachmentView>, Option<ConfidentialView>);

/// A single-listing response: the listing with its documents.
fn full_view(state: &AppState, kind: ListingKind, row: ListingRow, (attachments, confidential): Extras) -> ListingView {
    match dated_view(state, kind, row) {
        ListingView::Achievement(mut v) => {
            v.attachments = Some(attachments);
            v.confidential = confidential;
            ListingView::Achievement(v)
        }
        ListingView::Demand(mut v) => {
            v.attachments = Some(attachments);
            ListingView::Demand(v)
        }
    }
}

/// A page of listings; the documented shape is `Paginated<AchievementView|DemandView>`.
#[derive(Serialize)]
struct ListingPage {
    items: Vec<ListingView>,
    page: i64,
    per_page: i64,
    total: i64,
}

impl ListingPage {
    fn new(kind: ListingKind, rows: Vec<ListingRow>, page: Page, total: i64) -> Self {
        let items = rows.into_iter().map(|r| view(kind, r)).collect();
        Self { items, page: page.page, per_page: page.per_page, total }
    }
}

async fn create(
    state: &AppState,
    user: AuthUser,
    kind: ListingKind,
    content: ListingContent,
    docs: ListingDocs,
) -> AppResult<HttpResponse> {
    let content = content.validated(kind)?;
    let now = state.clock.now();
    let (row, extras) = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            let row = service::listings::create(c, &actor, kind, content.clone(), now)?;
            docs.save(c, &actor, kind, &row.id, now)?;
            let extras = files::listing_extras(c, Some(&actor), kind, &row.id)?;
            Ok((row, extras))
        })
        .await?;
    Ok(HttpResponse::Created().json(full_view(state, kind, row, extras)))
}

async fn get(state: &AppState, user: MaybeUser, kind: ListingKind, id: &str) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let (row, extras) = state
        .db
        .read_point(move |c| {
            let actor = user.0.map(|u| load_actor(c, &u.id)).transpose()?;
            let (row, attachments) = service::listings::get_noting_attachments(c, actor.as_ref(), kind, &id)?;
            let extras = files::listing_extras_known(c, actor.as_ref(), kind, &id, attachments)?;
            Ok((row, extras))
        })
        .await?;
    Ok(HttpResponse::Ok().json(full_view(state, kind, row, extras)))
}

async fn update(
    state: &AppState,
    user: AuthUser,
    kind: ListingKind,
    id: &str,
    docs: ListingDocs,
    edit: impl Fn(ListingContent) -> ListingContent + Send + 'static,
) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let now = state.clock.now();
    let (row, extras) = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user.id)?;
            let row = service::listings::update(c, &actor, kind, &id, &edit, now)?;
            docs.save(c, &actor, kind, &id, now)?;
            let extras = files::listing_extras(c, Some(&actor), kind, &id)?;
            Ok((row, extras))
        })
        .await?;
    Ok(HttpResponse::Ok().json(full_view(state, kind, row, extras)))
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Submit,
    Withdraw,
    Approve,
    Reject,
}

async fn step(
    state: &AppState,
    user_id: String,
    kind: ListingKind,
    id: &str,
    step: Step,
    reason: Option<String>,
) -> AppResult<HttpResponse> {
    let id = path_id(id)?;
    let now = state.clock.now();
    let row = state
        .db
        .tx(move |c| {
            let actor = load_actor(c, &user_id)?;
            match step {
                Step::Submit => service::listings::submit(c, &actor, kind, &id, now),
                Step::Withdraw => service::listings::withdraw(c, &actor, kind, &id, now),
                Step::Approve => service::listings::review(c, &actor, kind, &id, true, None, now),
                Step::Reject => service::listings::review(c, &actor, kind, &id, false, reason.as_deref(), now),
            }
        })
        .await?;
    if matches!(step, Step::Approve | Step::Withdraw) {
        state.refresh_index(vec![row.id.clone()]).await?;
    }
    Ok(HttpResponse::Ok().json(dated_view(state, kind, row)))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SortParam {
    /// Best text match first (the default when `q` is given).
    Relevance,
    /// Most recently published first (the default otherwise).
    Newest,
}

/// One query of either list, already validated.
struct ListRequest {
    q: Option<String>,
    mine: bool,
    sort: Option<SortParam>,
    filter: ListFilter,
    page: Page,
}

async fn list(state: &AppState, user: MaybeUser, kind: ListingKind, req: ListRequest) -> AppResult<HttpResponse> {
    let ListRequest { q, mine, sort, mut filter, page } = req;
    filter.kind = kind.as_str().to_owned();
    let q = q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    if let (Some(q), false) = (&q, mine) {
        let filters = Filters {
            field: filter.field.as_deref().map(field_code),
            region: filter.region.as_deref().map(region_code),
            org_id: filter.org_id.clone(),
            min_trl: filter.min_trl.map(|v| v.max(0) as u64),
            max_trl: filter.max_trl.map(|v| v.max(0) as u64),
            max_price: filter.max_price.map(|v| v.max(0) as u64),
            min_price: filter.min_price.map(|v| v.max(0) as u64),
            mode: filter.transfer_mode.as_deref().and_then(mode_code),
        };
        let sort = if sort == Some(SortParam::Newest) { Sort::Newest } else { Sort::Relevance };
        let collection_kind = if kind == ListingKind::Achievement { Kind::Achievement } else { Kind::Demand };
        let offset = page.offset() as usize;
        let limit = page.limit() as usize;
        // Read before searching: a page computed while the index changed is stored as stale.
        let generation = state.search.collection(collection_kind).generation();
        let key = format!("{collection_kind:?}|{q}|{filters:?}|{sort:?}|{offset}|{limit}");
        if let Some((body, ids)) = state.answers.search_pages.get(&key, generation) {
            state.search_tally.shown(&ids, state.clock.now());
            return Ok(json_body(body));
        }
        let search = state.search.clone();
        let q = q.clone();
        // One trip to the blocking pool: the index lookup, then the rows of that page.
        let (rows, total) = state
            .db
            .read(move |c| {
                let (ids, total) = search
                    .collection(collection_kind)
                    .search(&q, &filters, sort, offset, limit)
                    .map_err(|e| AppError::internal(anyhow::anyhow!("search: {e}")))?;
                Ok((service::listings::hydrate(c, &ids)?, total))
            })
            .await?;
        let ids: std::sync::Arc<[String]> = rows.iter().map(|r| r.id.clone()).collect();
        state.search_tally.shown(&ids, state.clock.now());
        let body = to_json_bytes(&ListingPage::new(kind, rows, page, total as i64))?;
        state.answers.search_pages.put(key, generation, (body.clone(), ids));
        return Ok(json_body(body));
    }
    filter.text = q;
    let (rows, total) = state
        .db
        .read(move |c| {
            let actor = user.0.map(|u| load_actor(c, &u.id)).transpose()?;
            service::listings::list(c, actor.as_ref(), mine, filter, page)
        })
        .await?;
    let mut listed = ListingPage::new(kind, Vec::new(), page, total);
    listed.items = rows.into_iter().map(|r| if mine { dated_view(state, kind, r) } else { view(kind, r) }).collect();
    Ok(HttpResponse::Ok().json(listed))
}

fn check_region(region: &Option<String>) -> AppResult<()> {
    match region {
        Some(r) if !crate::domain::organization::is_region(r) => Err(AppError::field("region", Rule::Region)),
        _ => Ok(()),
    }
}

fn check_org_id(org_id: Option<String>) -> AppResult<Option<String>> {
    org_id
        .map(|o| uuid::Uuid::parse_str(&o).map(|u| u.to_string()).map_err(|_| AppError::field("org_id", Rule::Id)))
        .transpose()
}

// ---------- achievement handlers ----------

/// List an achievement (draft). Members of verified universities and institutes only.
///
/// 已认证高校、科研院所的成员；新成果为草稿 `draft`。TRL 必填 1–9，至少一种转化方式，地区为省级名称，专利号须带正确校验位，价格以分计。错误：403 `forbidden`（机构类型不符）、`organization_not_verified`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/achievements", tag = "achievements", security(("bearer" = [])),
    request_body = AchievementCreate,
    responses((status = 201, body = AchievementView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = Unprocessable)))]
pub async fn create_achievement(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<AchievementCreate>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let docs = body.docs()?;
    create(&state, user, ListingKind::Achievement, body.content(), docs).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AchievementQuery {
    /// Full text over title, summary and keywords (Chinese segmented; synonyms understood).
    #[param(example = "钙钛矿 光伏")]
    pub q: Option<String>,
    pub field: Option<Field>,
    #[param(example = "江苏省")]
    pub region: Option<String>,
    /// Only achievements at or above this TRL.
    #[param(example = 5)]
    pub min_trl: Option<i32>,
    /// Only achievements priced at or below this (unpriced ones excluded).
    #[param(example = 500000000)]
    pub max_price_fen: Option<i64>,
    pub transfer_mode: Option<TransferMode>,
    pub org_id: Option<String>,
    pub sort: Option<SortParam>,
    /// The caller organization's own achievements in every status.
    pub mine: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Published achievements: search, filter, sort.
///
/// 任何人可调用（无需令牌）：已发布成果的全文检索、筛选与排序，分页；`mine=true` 时为本机构全部状态的成果。错误：422（未知地区、非 UUID 的 `org_id`、分页越界）。
#[utoipa::path(get, path = "/api/v1/achievements", tag = "achievements", params(AchievementQuery),
    responses((status = 200, body = Paginated<AchievementView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn list_achievements(
    state: web::Data<AppState>,
    user: MaybeUser,
    query: ApiQuery<AchievementQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    check_region(&q.region)?;
    let filter = ListFilter {
        field: q.field.map(|f| f.as_str().to_owned()),
        region: q.region,
        org_id: check_org_id(q.org_id)?,
        min_trl: q.min_trl,
        max_price: q.max_price_fen,
        transfer_mode: q.transfer_mode.map(|m| m.as_str().to_owned()),
        ..ListFilter::default()
    };
    let req = ListRequest { q: q.q, mine: q.mine.unwrap_or(false), sort: q.sort, filter, page };
    list(&state, user, ListingKind::Achievement, req).await
}

/// One achievement: published ones to anyone, others to the owning organization and admins.
///
/// 已发布的对所有人可见；其他状态仅对所属机构与管理员可见，否则 404 `not_found`。保密信息仅对所有者、管理员与已签署保密协议者返回。
#[utoipa::path(get, path = "/api/v1/achievements/{id}", tag = "achievements",
    params(("id" = String, Path, description = "Achievement id")),
    responses((status = 200, body = AchievementView), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn get_achievement(
    state: web::Data<AppState>,
    user: MaybeUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    get(&state, user, ListingKind::Achievement, &id).await
}

/// Edit a draft or rejected achievement (owning organization).
///
/// 所属机构成员；仅 `draft` 或 `rejected` 状态可编辑，只修改所给字段（`null` 清空可选值），合并后整体重新校验。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(patch, path = "/api/v1/achievements/{id}", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Achievement id")), request_body = AchievementPatch,
    responses((status = 200, body = AchievementView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn update_achievement(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<AchievementPatch>,
) -> AppResult<HttpResponse> {
    let patch = body.into_inner();
    let docs = ListingDocs::parse(&patch.attachments, patch.confidential.as_ref())?;
    update(&state, user, ListingKind::Achievement, &id, docs, move |c| patch.clone().apply(c)).await
}

/// Submit for review: `draft`/`rejected` → `pending_review`.
///
/// 所属机构成员。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/achievements/{id}/submit", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Achievement id")),
    responses((status = 200, body = AchievementView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn submit_achievement(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    step(&state, user.id, ListingKind::Achievement, &id, Step::Submit, None).await
}

/// Withdraw a published achievement: `published` → `withdrawn`.
///
/// 所属机构成员；撤下后不再出现在检索中。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/achievements/{id}/withdraw", tag = "achievements", security(("bearer" = [])),
    params(("id" = String, Path, description = "Achievement id")),
    responses((status = 200, body = AchievementView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn withdraw_achievement(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    step(&state, user.id, ListingKind::Achievement, &id, Step::Withdraw, None).await
}

/// Approve: `pending_review` → `published`.
///
/// 仅管理员；发布后进入检索并通知订阅者。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/admin/achievements/{id}/approve", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "Achievement id")),
    responses((status = 200, body = AchievementView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn approve_achievement(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    step(&state, admin.0.id, ListingKind::Achievement, &id, Step::Approve, None).await
}

/// Reject with a reason: `pending_review` → `rejected`.
///
/// 仅管理员，须给出理由；所属机构可修改后重新提交。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/achievements/{id}/reject", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "Achievement id")), request_body = ReasonRequest,
    responses((status = 200, body = AchievementView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn reject_achievement(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().validated()?;
    step(&state, admin.0.id, ListingKind::Achievement, &id, Step::Reject, Some(reason)).await
}

// ---------- demand handlers ----------

/// Post a demand (draft). Members of verified enterprises and government bodies only.
///
/// 已认证企业、政府部门的成员；新需求为草稿 `draft`。`min_trl` 可选 1–9，预算以分计，地区为省级名称。错误：403 `forbidden`、`organization_not_verified`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/demands", tag = "demands", security(("bearer" = [])), request_body = DemandCreate,
    responses((status = 201, body = DemandView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 422, response = Unprocessable)))]
pub async fn create_demand(
    state: web::Data<AppState>,
    user: AuthUser,
    body: ApiJson<DemandCreate>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let docs = body.docs()?;
    create(&state, user, ListingKind::Demand, body.content(), docs).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DemandQuery {
    /// Full text over title, description and keywords.
    #[param(example = "在线检测")]
    pub q: Option<String>,
    pub field: Option<Field>,
    #[param(example = "江苏省")]
    pub region: Option<String>,
    /// Only demands whose minimum TRL is at least this.
    #[param(example = 5)]
    pub min_trl: Option<i32>,
    /// Only demands whose minimum TRL is at most this (an achievement of that TRL fits).
    #[param(example = 7)]
    pub max_trl: Option<i32>,
    /// Only demands with a budget of at least this.
    #[param(example = 100000000)]
    pub min_budget_fen: Option<i64>,
    /// Only demands with a budget of at most this.
    pub max_budget_fen: Option<i64>,
    pub org_id: Option<String>,
    pub sort: Option<SortParam>,
    pub mine: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Published demands: search, filter, sort.
///
/// 任何人可调用（无需令牌）：已发布需求的全文检索、筛选（领域、地区、TRL、预算）与排序，分页；`mine=true` 时为本机构全部状态的需求。错误：422。
#[utoipa::path(get, path = "/api/v1/demands", tag = "demands", params(DemandQuery),
    responses((status = 200, body = Paginated<DemandView>), (status = 401, response = Unauthorized), (status = 422, response = Unprocessable)))]
pub async fn list_demands(
    state: web::Data<AppState>,
    user: MaybeUser,
    query: ApiQuery<DemandQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::new(q.page, q.per_page)?;
    check_region(&q.region)?;
    let filter = ListFilter {
        field: q.field.map(|f| f.as_str().to_owned()),
        region: q.region,
        org_id: check_org_id(q.org_id)?,
        min_trl: q.min_trl,
        max_trl: q.max_trl,
        min_price: q.min_budget_fen,
        max_price: q.max_budget_fen,
        ..ListFilter::default()
    };
    let req = ListRequest { q: q.q, mine: q.mine.unwrap_or(false), sort: q.sort, filter, page };
    list(&state, user, ListingKind::Demand, req).await
}

/// One demand: published ones to anyone, others to the owning organization and admins.
///
/// 已发布的对所有人可见；其他状态仅对所属机构与管理员可见，否则 404 `not_found`。
#[utoipa::path(get, path = "/api/v1/demands/{id}", tag = "demands", params(("id" = String, Path, description = "Demand id")),
    responses((status = 200, body = DemandView), (status = 401, response = Unauthorized), (status = 404, response = NotFound)))]
pub async fn get_demand(state: web::Data<AppState>, user: MaybeUser, id: web::Path<String>) -> AppResult<HttpResponse> {
    get(&state, user, ListingKind::Demand, &id).await
}

/// Edit a draft or rejected demand (owning organization).
///
/// 所属机构成员；仅 `draft` 或 `rejected` 状态可编辑，只修改所给字段（`null` 清空可选值）。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(patch, path = "/api/v1/demands/{id}", tag = "demands", security(("bearer" = [])),
    params(("id" = String, Path, description = "Demand id")), request_body = DemandPatch,
    responses((status = 200, body = DemandView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn update_demand(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
    body: ApiJson<DemandPatch>,
) -> AppResult<HttpResponse> {
    let patch = body.into_inner();
    let docs = ListingDocs::parse(&patch.attachments, None)?;
    update(&state, user, ListingKind::Demand, &id, docs, move |c| patch.clone().apply(c)).await
}

/// Submit for review: `draft`/`rejected` → `pending_review`.
///
/// 所属机构成员；`draft`/`rejected` → `pending_review`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/demands/{id}/submit", tag = "demands", security(("bearer" = [])),
    params(("id" = String, Path, description = "Demand id")),
    responses((status = 200, body = DemandView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn submit_demand(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    step(&state, user.id, ListingKind::Demand, &id, Step::Submit, None).await
}

/// Withdraw a published demand.
///
/// 所属机构成员；`published` → `withdrawn`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/demands/{id}/withdraw", tag = "demands", security(("bearer" = [])),
    params(("id" = String, Path, description = "Demand id")),
    responses((status = 200, body = DemandView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn withdraw_demand(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    step(&state, user.id, ListingKind::Demand, &id, Step::Withdraw, None).await
}

/// Approve a demand: `pending_review` → `published`.
///
/// 仅管理员；发布后进入检索并通知订阅者。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`。
#[utoipa::path(post, path = "/api/v1/admin/demands/{id}/approve", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "Demand id")),
    responses((status = 200, body = DemandView), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn approve_demand(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    step(&state, admin.0.id, ListingKind::Demand, &id, Step::Approve, None).await
}

/// Reject a demand with a reason.
///
/// 仅管理员，须给出理由；`pending_review` → `rejected`。错误：403 `forbidden`，404 `not_found`，409 `invalid_state_transition`，422 `validation_failed`。
#[utoipa::path(post, path = "/api/v1/admin/demands/{id}/reject", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path, description = "Demand id")), request_body = ReasonRequest,
    responses((status = 200, body = DemandView), (status = 400, response = BadRequest), (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict),
        (status = 422, response = Unprocessable)))]
pub async fn reject_demand(
    state: web::Data<AppState>,
    admin: AdminUser,
    id: web::Path<String>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let reason = body.into_inner().validated()?;
    step(&state, admin.0.id, ListingKind::Demand, &id, Step::Reject, Some(reason)).await
}

// ---------- review queue ----------

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewItem {
    /// `achievement`, `demand` or `challenge`.
    pub kind: String,
    pub id: String,
    pub title: String,
    pub org_id: String,
    /// When it entered `pending_review`.
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Everything waiting for review, oldest submission first (ties by id).
///
/// 仅管理员：待审核的成果、需求与榜单，分页。错误：403 `forbidden`，422（分页参数）。
#[utoipa::path(get, path = "/api/v1/admin/review-queue", tag = "administration", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Paginated<ReviewItem>), (status = 401, response = Unauthorized), (status = 403, response = Forbidden),
        (status = 422, response = Unprocessable)))]
pub async fn review_queue(
    state: web::Data<AppState>,
    admin: AdminUser,
    query: ApiQuery<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let (items, total) = state
        .db
        .read(move |c| {
            let actor = load_actor(c, &admin.0.id)?;
            service::review_queue::list(c, &actor, page)
        })
        .await?;
    let items = items
        .into_iter()
        .map(|i| ReviewItem { kind: i.kind, id: i.id, title: i.title, org_id: i.org_id, submitted_at: i.submitted_at })
        .collect();
    Ok(HttpResponse::Ok().json(Paginated::new(items, page, total)))
}
