//! Research-integrity records and the one guard every barred action calls.

use chrono::{DateTime, Utc};

use crate::db::integrity::{IntegrityRow, NewRecord};
use crate::db::time::{from_db, to_db};
use crate::db::{self, AnyConnection};
use crate::domain::error::{DomainError, ErrorCode, Message, Rule};
use crate::domain::integrity::{RecordState, Severity, Standing, standing};
use crate::error::{AppError, AppResult};

use super::audit::{self, Change};
use super::notify::{self, Notice, Recipient};
use super::{Actor, Page, new_id};

fn state_of(row: &IntegrityRow) -> Option<RecordState> {
    Some(RecordState {
        severity: Severity::parse(&row.severity)?,
        expires_at: row.expires_at.map(from_db),
        lifted_at: row.lifted_at.map(from_db),
    })
}

pub fn is_active(row: &IntegrityRow, now: DateTime<Utc>) -> bool {
    state_of(row).is_some_and(|s| s.in_force(now))
}

fn standing_for(
    c: &mut AnyConnection,
    org_id: Option<&str>,
    user_id: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Standing> {
    let rows = db::integrity::unlifted_for(c, org_id, user_id)?;
    Ok(standing(rows.iter().filter_map(state_of), now))
}

/// The `integrity` field of an organization profile.
pub fn standing_of_org(c: &mut AnyConnection, org_id: &str, now: DateTime<Utc>) -> AppResult<Standing> {
    standing_for(c, Some(org_id), None, now)
}

/// [`standing_of_org`] for many organizations in one statement.
pub fn standings_of_orgs(
    c: &mut AnyConnection,
    org_ids: &[String],
    now: DateTime<Utc>,
) -> AppResult<std::collections::HashMap<String, Standing>> {
    let mut records =
        super::group_by_key(db::integrity::unlifted_for_orgs(c, org_ids)?, |r| r.org_id.clone().unwrap_or_default());
    Ok(org_ids
        .iter()
        .map(|id| {
            let rows = records.remove(id).unwrap_or_default();
            (id.clone(), standing(rows.iter().filter_map(state_of), now))
        })
        .collect())
}

/// Whether a user is personally barred (used when assigning experts).
pub fn user_vetoed(c: &mut AnyConnection, user_id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    Ok(standing_for(c, None, Some(user_id), now)? == Standing::Veto)
}

/// Whether an organization is barred.
pub fn org_vetoed(c: &mut AnyConnection, org_id: &str, now: DateTime<Utc>) -> AppResult<bool> {
    Ok(standing_of_org(c, org_id, now)? == Standing::Veto)
}

/// The guard for bids, voucher applications and redemptions, connection requests and new
/// contracts: 403 `integrity_veto` while a veto is in force on the actor or on the
/// organization they act for.
pub fn require_not_vetoed(c: &mut AnyConnection, actor: &Actor, now: DateTime<Utc>) -> AppResult<()> {
    if standing_for(c, actor.org_id(), Some(&actor.id), now)? == Standing::Veto {
        return Err(DomainError::new(ErrorCode::IntegrityVeto, Rule::IntegrityVetoed).into());
    }
    Ok(())
}

#[derive(Clone)]
pub struct NewIntegrityRecord {
    pub org_id: Option<String>,
    pub user_id: Option<String>,
    pub severity: Severity,
    pub reason: String,
    pub expires_at: Option<DateTime<Utc>>,
}

pub fn create(
    c: &mut AnyConnection,
    actor: &Actor,
    input: NewIntegrityRecord,
    now: DateTime<Utc>,
) -> AppResult<IntegrityRow> {
    actor.require_admin()?;
    let (recipient, entity_type, entity_id) = match (&input.org_id, &input.user_id) {
        (Some(org_id), None) => {
            db::organizations::find(c, org_id)?
                .ok_or_else(|| AppError::field("org_id", Message::rule(Rule::NotFound).word("what", "organization")))?;
            (Recipient::Org(org_id.clone()), "organization", org_id.clone())
        }
        (None, Some(user_id)) => {
            db::users::find(c, user_id)?
                .ok_or_else(|| AppError::field("user_id", Message::rule(Rule::NotFound).word("what", "user")))?;
            (Recipient::User(user_id.clone()), "user", user_id.clone())
        }
        _ => return Err(AppError::field("org_id", Message::exactly_one("org_id", "user_id"))),
    };
    let id = new_id();
    db::integrity::insert(
        c,
        &NewRecord {
            id: &id,
            org_id: input.org_id.as_deref(),
            user_id: input.user_id.as_deref(),
            severity: input.severity.as_str(),
            reason: &input.reason,
            expires_at: input.expires_at.map(to_db),
            created_by: &actor.id,
            created_at: to_db(now),
        },
    )?;
    audit::record(
        c,
        Some(&actor.id),
        Change::new("integrity.create", "integrity_record", &id).status(None, input.severity.as_str()).detail(
            serde_json::json!({ "subject_type": entity_type, "subject_id": entity_id, "reason": input.reason }),
        ),
        now,
    )?;
    let title = match input.severity {
        Severity::Veto => "科研诚信：一票否决记录",
        Severity::Warning => "科研诚信：警示记录",
    };
    notify::send(
        c,
        recipient,
        Notice::new(
            "integrity_record_created",
            title,
            format!("平台记录了一条科研诚信{}：{}", input.severity, input.reason),
        )
        .about("integrity_record", &id),
        now,
    )?;
    db::integrity::find(c, &id)?.ok_or_else(|| AppError::not_found("integrity record"))
}

pub fn list(
    c: &mut AnyConnection,
    actor: &Actor,
    org_id: Option<&str>,
    user_id: Option<&str>,
    active_only: bool,
    page: Page,
    now: DateTime<Utc>,
) -> AppResult<(Vec<IntegrityRow>, i64)> {
    actor.require_admin()?;
    db::integrity::list(c, org_id, user_id, active_only.then_some(now), page.offset(), page.limit())
}

pub fn lift(
    c: &mut AnyConnection,
    actor: &Actor,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<IntegrityRow> {
    actor.require_admin()?;
    let row = db::integrity::find(c, id)?.ok_or_else(|| AppError::not_found("integrity record"))?;
    if !db::integrity::lift(c, id, reason, now)? {
        return Err(DomainError::transition("integrity record", "lifted", "lift").into());
    }
    audit::record(
        c,
        Some(&actor.id),
        Change::new("integrity.lift", "integrity_record", id)
            .status(Some(&row.severity), "lifted")
            .detail(serde_json::json!({ "reason": reason })),
        now,
    )?;
    let recipient = match (&row.org_id, &row.user_id) {
        (Some(org_id), _) => Recipient::Org(org_id.clone()),
        (_, Some(user_id)) => Recipient::User(user_id.clone()),
        _ => return Err(super::corrupt("integrity subject", id)),
    };
    notify::send(
        c,
        recipient,
        Notice::new("integrity_record_lifted", "科研诚信记录已解除", format!("一条科研诚信记录已解除：{reason}"))
            .about("integrity_record", id),
        now,
    )?;
    db::integrity::find(c, id)?.ok_or_else(|| AppError::not_found("integrity record"))
}
