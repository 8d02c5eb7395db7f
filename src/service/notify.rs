//! Telling people about things: in-app notifications (and, optionally, an email) delivered
//! by the job queue, enqueued in the transaction of the change they describe.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::{self, AnyConnection};
use crate::domain::links;
use crate::error::AppResult;
use crate::jobs::{self, Job};
use crate::mail::Email;

/// Who receives a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Recipient {
    User(String),
    /// Every member of the organization at delivery time.
    Org(String),
}

/// What a notice says and what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Also send it by email.
    pub email: bool,
}

impl Notice {
    pub fn new(kind: &str, title: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            title: title.into(),
            body: body.into(),
            entity_type: None,
            entity_id: None,
            email: true,
        }
    }

    pub fn about(mut self, entity_type: &str, entity_id: &str) -> Self {
        self.entity_type = Some(entity_type.to_owned());
        self.entity_id = Some(entity_id.to_owned());
        self
    }

    pub fn in_app_only(mut self) -> Self {
        self.email = false;
        self
    }
}

/// Enqueues delivery of `notice` to `to` (outbox: same transaction as the caller's change).
pub fn send(c: &mut AnyConnection, to: Recipient, notice: Notice, now: DateTime<Utc>) -> AppResult<()> {
    jobs::enqueue(c, &Job::Notify { to, notice }, now)
}

/// Runs a `Notify` job: one notification row per recipient, plus an email job each when
/// asked. Runs in the job's own transaction.
pub fn deliver(
    c: &mut AnyConnection,
    to: &Recipient,
    notice: &Notice,
    base_url: &str,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let users = match to {
        Recipient::User(id) => db::users::find(c, id)?.into_iter().collect::<Vec<_>>(),
        Recipient::Org(org_id) => db::users::members_of(c, org_id)?,
    };
    for user in &users {
        db::notifications::insert(
            c,
            &db::notifications::NewNotification {
                user_id: &user.id,
                kind: &notice.kind,
                title: &notice.title,
                body: &notice.body,
                entity_type: notice.entity_type.as_deref(),
                entity_id: notice.entity_id.as_deref(),
            },
            now,
        )?;
        if notice.email {
            let path = match (&notice.entity_type, &notice.entity_id) {
                (Some(t), Some(id)) => links::record_path(t, id),
                _ => links::NOTIFICATIONS_PATH.to_owned(),
            };
            let link = format!("{base_url}{path}");
            let email = Email::Notification { title: notice.title.clone(), body: notice.body.clone(), link };
            jobs::enqueue(c, &Job::SendEmail { to: user.email.clone(), email }, now)?;
        }
    }
    Ok(users.len())
}
