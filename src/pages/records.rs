//! Landing pages for the record links in notification and digest emails
//! (`/achievements/{id}`, `/voucher-redemptions/{id}`, `/invitations/{id}`, …, and
//! `/me/notifications`). With `server.frontend_base_url` set they redirect to the same path
//! on the frontend; otherwise they say where the record is in the API.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use super::{message, redirect, render};
use crate::domain::links::{NOTIFICATIONS_PATH, RecordKind};
use crate::state::AppState;

/// The frontend's base URL, when one is configured.
fn frontend(state: &AppState) -> Option<&str> {
    let base = state.settings.server.frontend_base_url.trim().trim_end_matches('/');
    (!base.is_empty()).then_some(base)
}

/// `GET /<collection>/{id}` for every kind in `crate::domain::links::RECORD_KINDS`.
pub async fn record(state: web::Data<AppState>, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    let kind = req.match_pattern().and_then(|p| p.split('/').nth(1).and_then(RecordKind::by_collection));
    let id = uuid::Uuid::parse_str(&id.into_inner()).ok().map(|u| u.to_string());
    let (Some(kind), Some(id)) = (kind, id) else {
        return message(StatusCode::NOT_FOUND, "找不到该页面", "链接中的记录编号不正确，请检查链接是否完整。");
    };
    if let Some(base) = frontend(&state) {
        return redirect(&format!("{base}{}", kind.page_path(&id)));
    }
    let template = if kind.entity_type == "invitation" { "invitation.html" } else { "record.html" };
    let (api_path, by_id) = (kind.api_path(&id), kind.api_path.contains("{id}"));
    render(StatusCode::OK, template, context! { title => kind.label, label => kind.label, id, api_path, by_id })
}

/// `GET /me/notifications`: where notifications without a record link to.
pub async fn notifications(state: web::Data<AppState>) -> HttpResponse {
    if let Some(base) = frontend(&state) {
        return redirect(&format!("{base}{NOTIFICATIONS_PATH}"));
    }
    render(
        StatusCode::OK,
        "record.html",
        context! { title => "通知", label => "通知", id => None::<String>, api_path => "/api/v1/me/notifications", by_id => false },
    )
}
