//! `GET /api/v1/meta`: the codes the API accepts and returns, with their Chinese labels, so a
//! client can build its forms and show codes as words without a copy of its own.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::contract::ContractKind;
use crate::domain::labels;
use crate::domain::listing::{Field, TransferMode};
use crate::domain::organization::{EnterpriseScale, OrgKind, REGIONS, ServiceCategory};

/// A code and its Chinese label.
#[derive(Debug, Serialize, ToSchema)]
pub struct Label {
    #[schema(example = "new_materials")]
    pub code: &'static str,
    #[schema(example = "新材料")]
    pub label: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Meta {
    /// Technology fields (`field` of listings, challenges and subscriptions).
    pub fields: Vec<Label>,
    /// The 34 province-level regions every `region` takes, by name.
    pub regions: Vec<&'static str>,
    pub transfer_modes: Vec<Label>,
    /// Services of providers and voucher programs.
    pub service_categories: Vec<Label>,
    pub enterprise_scales: Vec<Label>,
    pub organization_kinds: Vec<Label>,
    /// The six registration kinds of technology contracts (技术合同).
    pub contract_kinds: Vec<Label>,
    /// Codes of a match's `reasons` (`field.same`, `trl_fit.false`, …).
    pub reason_codes: Vec<Label>,
}

fn labelled<T: Copy>(all: &[T], code: impl Fn(T) -> &'static str, label: impl Fn(T) -> &'static str) -> Vec<Label> {
    all.iter().map(|v| Label { code: code(*v), label: label(*v) }).collect()
}

/// Codes and their Chinese labels: fields, regions, transfer modes, service categories,
/// enterprise scales, organization kinds, contract kinds and match reason codes. Public.
///
/// 任何人可调用：枚举取值（领域、转化方式、地区等）及其中文名称，供表单使用；不会失败（503 除外）。
#[utoipa::path(get, path = "/api/v1/meta", tag = "operations",
    responses((status = 200, description = "Codes and labels", body = Meta)))]
pub async fn meta() -> HttpResponse {
    let meta = Meta {
        fields: labelled(Field::ALL, Field::as_str, labels::field),
        regions: REGIONS.to_vec(),
        transfer_modes: labelled(TransferMode::ALL, TransferMode::as_str, labels::transfer_mode),
        service_categories: labelled(ServiceCategory::ALL, ServiceCategory::as_str, labels::service_category),
        enterprise_scales: labelled(EnterpriseScale::ALL, EnterpriseScale::as_str, labels::enterprise_scale),
        organization_kinds: labelled(OrgKind::ALL, OrgKind::as_str, labels::org_kind),
        contract_kinds: labelled(ContractKind::ALL, ContractKind::as_str, labels::contract_kind),
        reason_codes: labels::REASON_CODES.iter().map(|(code, label)| Label { code, label }).collect(),
    };
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=3600")).json(meta)
}
