//! Use cases: one synchronous function per action, run inside one transaction by
//! `Db::tx`/`Db::read`. Permissions are checked here, next to the rule they protect.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod brokers;
pub mod challenges;
pub mod connections;
pub mod contracts;
pub mod embeddings;
pub mod export;
pub mod files;
pub mod freshness;
pub mod insights;
pub mod instruments;
pub mod integrity;
pub mod listings;
pub mod match_events;
pub mod matches;
pub mod notify;
pub mod organizations;
pub mod registrations;
pub mod review_queue;
pub mod settlement_batches;
pub mod stats;
pub mod subscriptions;
pub mod vouchers;

use crate::db::{self, AnyConnection};
use crate::domain::account::{OrgRole, Role, UserStatus};
use crate::domain::error::{DomainError, ErrorCode};
use crate::domain::error::{Message, Rule};
use crate::domain::organization::{EnterpriseScale, OrgKind, OrgStatus, ServiceCategory};
use crate::error::{AppError, AppResult};

/// The authenticated user as the database knows them now (role and organization are read
/// per request, so a role change or verification takes effect at once).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub status: UserStatus,
    pub org: Option<ActorOrg>,
}

#[derive(Debug, Clone)]
pub struct ActorOrg {
    pub id: String,
    pub name: String,
    pub kind: OrgKind,
    pub status: OrgStatus,
    pub org_role: OrgRole,
    pub scale: Option<EnterpriseScale>,
    pub service_categories: Vec<ServiceCategory>,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn require_admin(&self) -> AppResult<()> {
        if self.is_admin() { Ok(()) } else { Err(AppError::forbidden(crate::error::Rule::AdminsOnly)) }
    }

    pub fn org_id(&self) -> Option<&str> {
        self.org.as_ref().map(|o| o.id.as_str())
    }

    /// The reusable guard for actions reserved to members of a verified organization.
    pub fn require_verified_org(&self) -> AppResult<&ActorOrg> {
        match &self.org {
            Some(org) if org.status == OrgStatus::Verified => Ok(org),
            Some(org) => Err(AppError::new(
                ErrorCode::OrganizationNotVerified,
                Message::rule(Rule::OrganizationStatus).word("status", org.status.as_str()),
            )),
            None => Err(AppError::new(ErrorCode::OrganizationNotVerified, Rule::JoinVerifiedOrganization)),
        }
    }

    pub fn is_member_of(&self, org_id: &str) -> bool {
        self.org_id() == Some(org_id)
    }
}

/// Loads the actor for a verified access token; a deleted or disabled account is 401.
pub fn load_actor(c: &mut AnyConnection, user_id: &str) -> AppResult<Actor> {
    let unauthorized = || AppError::new(ErrorCode::Unauthorized, Rule::AccountGone);
    let (user, org_row) = db::users::find_with_org(c, user_id)?.ok_or_else(unauthorized)?;
    let status = UserStatus::parse(&user.status).ok_or_else(|| corrupt("user status", &user.status))?;
    if status == UserStatus::Disabled {
        return Err(unauthorized());
    }
    let org = match (&user.org_id, &user.org_role) {
        (Some(org_id), Some(org_role)) => {
            let row = org_row.ok_or_else(|| corrupt("membership", org_id))?;
            Some(ActorOrg {
                kind: OrgKind::parse(&row.kind).ok_or_else(|| corrupt("org kind", &row.kind))?,
                status: OrgStatus::parse(&row.status).ok_or_else(|| corrupt("org status", &row.status))?,
                org_role: OrgRole::parse(org_role).ok_or_else(|| corrupt("org role", org_role))?,
                scale: row.enterprise_scale.as_deref().and_then(EnterpriseScale::parse),
                service_categories: parse_categories(&row.service_categories),
                id: row.id,
                name: row.name,
            })
        }
        _ => None,
    };
    Ok(Actor {
        role: Role::parse(&user.role).ok_or_else(|| corrupt("role", &user.role))?,
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        status,
        org,
    })
}

pub fn parse_categories(json: &str) -> Vec<ServiceCategory> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Rows grouped by a key, each group in the order the rows came (for dealing the rows of one
/// batched query out to the records they belong to).
pub fn group_by_key<T>(rows: Vec<T>, key: impl Fn(&T) -> String) -> std::collections::HashMap<String, Vec<T>> {
    let mut groups: std::collections::HashMap<String, Vec<T>> = std::collections::HashMap::new();
    for row in rows {
        groups.entry(key(&row)).or_default().push(row);
    }
    groups
}

/// A stored value that no code path can write: a bug, reported as a 500.
#[track_caller]
pub fn corrupt(what: &str, value: &str) -> AppError {
    AppError::internal(anyhow::anyhow!("unexpected stored {what}: {value:?}"))
}

/// A page of a list: 1-based `page`, `per_page` in 1..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: i64,
    pub per_page: i64,
}

impl Page {
    pub const MAX_PER_PAGE: i64 = 100;

    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Result<Self, DomainError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(20);
        let mut v = crate::domain::error::Validator::new();
        v.check(page >= 1, "page", Message::rule(Rule::AtLeast).arg("min", 1));
        v.check(page <= 1_000_000, "page", Message::rule(Rule::AtMost).arg("max", 1_000_000));
        v.check((1..=Self::MAX_PER_PAGE).contains(&per_page), "per_page", Message::between(1, 100));
        v.finish()?;
        Ok(Self { page, per_page })
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    pub fn limit(&self) -> i64 {
        self.per_page
    }
}

/// A new random id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
