//! Queries on challenges, milestones, bids, experts, scores, milestone progress and payments.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{
    bid_scores, bids, challenge_experts, challenge_milestones, challenge_payments, challenges, milestone_progress,
};
use super::time::to_db;
use crate::error::AppResult;

#[derive(Debug, Clone, Queryable)]
pub struct ChallengeRow {
    pub id: String,
    pub issuer_org_id: String,
    pub created_by: String,
    pub title: String,
    pub description: String,
    pub field: String,
    pub indicators: String,
    pub reward_fen: i64,
    pub paid_fen: i64,
    pub mode: String,
    pub directed_org_id: Option<String>,
    pub max_winners: i32,
    pub bid_deadline: NaiveDateTime,
    pub publicity_days: i32,
    pub eligible_kinds: String,
    pub status: String,
    pub reject_reason: Option<String>,
    pub cancel_reason: Option<String>,
    pub submitted_at: Option<NaiveDateTime>,
    pub opened_at: Option<NaiveDateTime>,
    pub awarded_at: Option<NaiveDateTime>,
    pub publicity_ends_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ChallengeRow {
    pub fn eligible_kinds(&self) -> Vec<String> {
        serde_json::from_str(&self.eligible_kinds).unwrap_or_default()
    }
}

#[derive(Insertable)]
#[diesel(table_name = challenges)]
pub struct NewChallenge<'a> {
    pub id: &'a str,
    pub issuer_org_id: &'a str,
    pub created_by: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub field: &'a str,
    pub indicators: &'a str,
    pub reward_fen: i64,
    pub mode: &'a str,
    pub directed_org_id: Option<&'a str>,
    pub max_winners: i32,
    pub bid_deadline: NaiveDateTime,
    pub publicity_days: i32,
    pub eligible_kinds: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(c: &mut AnyConnection, row: &NewChallenge<'_>) -> AppResult<()> {
    diesel::insert_into(challenges::table).values(row).execute(c)?;
    Ok(())
}

pub fn find(c: &mut AnyConnection, id: &str) -> AppResult<Option<ChallengeRow>> {
    Ok(challenges::table.find(id).first(c).optional()?)
}

pub fn find_many(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<ChallengeRow>> {
    Ok(challenges::table.filter(challenges::id.eq_any(ids)).load(c)?)
}

/// Guarded status change stamping the time the new status records.
pub fn transition(c: &mut AnyConnection, id: &str, from: &str, to: &str, now: DateTime<Utc>) -> AppResult<bool> {
    let now_db = to_db(now);
    let target = challenges::table.find(id).filter(challenges::status.eq(from));
    let n = match to {
        "pending_review" => diesel::update(target)
            .set((challenges::status.eq(to), challenges::submitted_at.eq(now_db), challenges::updated_at.eq(now_db)))
            .execute(c)?,
        "open" => diesel::update(target)
            .set((
                challenges::status.eq(to),
                challenges::opened_at.eq(now_db),
                challenges::reject_reason.eq(None::<String>),
                challenges::updated_at.eq(now_db),
            ))
            .execute(c)?,
        "completed" => diesel::update(target)
            .set((challenges::status.eq(to), challenges::completed_at.eq(now_db), challenges::updated_at.eq(now_db)))
            .execute(c)?,
        _ => diesel::update(target).set((challenges::status.eq(to), challenges::updated_at.eq(now_db))).execute(c)?,
    };
    Ok(n == 1)
}

pub fn set_reason(c: &mut AnyConnection, id: &str, reject: Option<&str>, cancel: Option<&str>) -> AppResult<()> {
    if let Some(r) = reject {
        diesel::update(challenges::table.find(id)).set(challenges::reject_reason.eq(r)).execute(c)?;
    }
    if let Some(r) = cancel {
        diesel::update(challenges::table.find(id)).set(challenges::cancel_reason.eq(r)).execute(c)?;
    }
    Ok(())
}

/// Award: guarded move from `from` with the award and notice-period times.
pub fn award(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    publicity_ends_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = diesel::update(challenges::table.find(id).filter(challenges::status.eq(from)))
        .set((
            challenges::status.eq(to),
            challenges::awarded_at.eq(to_db(now)),
            challenges::publicity_ends_at.eq(publicity_ends_at.map(to_db)),
            challenges::updated_at.eq(to_db(now)),
        ))
        .execute(c)?;
    Ok(n == 1)
}

/// Records a payout within the reward: false when it would exceed it.
pub fn add_paid(c: &mut AnyConnection, id: &str, amount: i64, now: DateTime<Utc>) -> AppResult<bool> {
    let n =
        diesel::update(challenges::table.find(id).filter((challenges::paid_fen + amount).le(challenges::reward_fen)))
            .set((challenges::paid_fen.eq(challenges::paid_fen + amount), challenges::updated_at.eq(to_db(now))))
            .execute(c)?;
    Ok(n == 1)
}

#[derive(Debug, Clone, Default)]
pub struct ChallengeFilter {
    /// Statuses to include (already resolved for deadlines by the caller).
    pub statuses: Vec<String>,
    /// Also include `open` challenges whose deadline passed (read as `bidding_closed`).
    pub open_past_deadline_at: Option<NaiveDateTime>,
    /// Exclude `open` challenges whose deadline passed (when filtering for `open`).
    pub open_before: Option<NaiveDateTime>,
    pub field: Option<String>,
    /// Directed challenges are visible to these organizations only (admins: all).
    pub viewer_org: Option<String>,
    pub all_directed: bool,
}

pub fn list(
    c: &mut AnyConnection,
    f: &ChallengeFilter,
    offset: i64,
    limit: i64,
) -> AppResult<(Vec<ChallengeRow>, i64)> {
    let build = || {
        let mut q = challenges::table.into_boxed();
        match (&f.open_past_deadline_at, f.statuses.is_empty()) {
            (Some(at), _) => {
                let at = *at;
                q = q.filter(
                    challenges::status
                        .eq_any(f.statuses.clone())
                        .or(challenges::status.eq("open").and(challenges::bid_deadline.le(at))),
                );
            }
            (None, false) => q = q.filter(challenges::status.eq_any(f.statuses.clone())),
            (None, true) => {}
        }
        if let Some(before) = f.open_before {
            q = q.filter(challenges::status.ne("open").or(challenges::bid_deadline.gt(before)));
        }
        if let Some(field) = &f.field {
            q = q.filter(challenges::field.eq(field.clone()));
        }
        if !f.all_directed {
            q = match &f.viewer_org {
                Some(org) => q.filter(
                    challenges::mode
                        .ne("directed")
                        .or(challenges::issuer_org_id.eq(org.clone()))
                        .or(challenges::directed_org_id.eq(org.clone())),
                ),
                None => q.filter(challenges::mode.ne("directed")),
            };
        }
        q
    };
    let total = build().count().get_result(c)?;
    let rows = build().order((challenges::created_at.desc(), challenges::id)).offset(offset).limit(limit).load(c)?;
    Ok((rows, total))
}

pub fn pending_review(c: &mut AnyConnection, limit: i64) -> AppResult<(Vec<ChallengeRow>, i64)> {
    let q = || challenges::table.filter(challenges::status.eq("pending_review"));
    let total = q().count().get_result(c)?;
    let rows = q().order((challenges::submitted_at, challenges::id)).limit(limit).load(c)?;
    Ok((rows, total))
}

/// Challenges changed at or after `since`, in (updated_at, id) order, after the row `after_id`
/// of that instant (empty: from the start of it), so paging never repeats or skips a row.
pub fn changed_since(
    c: &mut AnyConnection,
    since: NaiveDateTime,
    after_id: &str,
    limit: i64,
) -> AppResult<Vec<ChallengeRow>> {
    Ok(challenges::table
        .filter(challenges::updated_at.ge(since))
        .filter(challenges::updated_at.gt(since).or(challenges::id.gt(after_id)))
        .order((challenges::updated_at, challenges::id))
        .limit(limit)
        .load(c)?)
}

pub fn public_page(c: &mut AnyConnection, after_id: &str, limit: i64) -> AppResult<Vec<ChallengeRow>> {
    Ok(challenges::table
        .filter(challenges::status.ne_all(["draft", "pending_review", "rejected"]))
        .filter(challenges::mode.ne("directed"))
        .filter(challenges::id.gt(after_id))
        .order(challenges::id)
        .limit(limit)
        .load(c)?)
}

// ---- milestones ----

#[derive(Debug, Clone, Queryable)]
pub struct MilestoneRow {
    pub id: String,
    pub challenge_id: String,
    pub seq: i32,
    pub title: String,
    pub due_date: NaiveDate,
    pub payment_fen: i64,
}

pub fn insert_milestone(c: &mut AnyConnection, m: &MilestoneRow) -> AppResult<()> {
    diesel::insert_into(challenge_milestones::table)
        .values((
            challenge_milestones::id.eq(&m.id),
            challenge_milestones::challenge_id.eq(&m.challenge_id),
            challenge_milestones::seq.eq(m.seq),
            challenge_milestones::title.eq(&m.title),
            challenge_milestones::due_date.eq(m.due_date),
            challenge_milestones::payment_fen.eq(m.payment_fen),
        ))
        .execute(c)?;
    Ok(())
}

pub fn milestones(c: &mut AnyConnection, challenge_id: &str) -> AppResult<Vec<MilestoneRow>> {
    milestones_of(c, &[challenge_id.to_owned()])
}

/// The milestones of many challenges, each challenge's in order.
pub fn milestones_of(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<MilestoneRow>> {
    Ok(challenge_milestones::table
        .filter(challenge_milestones::challenge_id.eq_any(ids))
        .order((challenge_milestones::challenge_id, challenge_milestones::seq))
        .load(c)?)
}

// ---- bids ----

#[derive(Debug, Clone, Queryable)]
pub struct BidRow {
    pub id: String,
    pub challenge_id: String,
    pub org_id: String,
    pub created_by: String,
    pub proposal: String,
    pub budget_fen: i64,
    pub plan: String,
    pub team: String,
    pub partner_org_ids: String,
    pub status: String,
    pub paid_fen: i64,
    pub eliminated_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl BidRow {
    pub fn partner_org_ids(&self) -> Vec<String> {
        serde_json::from_str(&self.partner_org_ids).unwrap_or_default()
    }
}

#[derive(Insertable)]
#[diesel(table_name = bids)]
pub struct NewBid<'a> {
    pub id: &'a str,
    pub challenge_id: &'a str,
    pub org_id: &'a str,
    pub created_by: &'a str,
    pub proposal: &'a str,
    pub budget_fen: i64,
    pub plan: &'a str,
    pub team: &'a str,
    pub partner_org_ids: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_bid(c: &mut AnyConnection, row: &NewBid<'_>) -> QueryResult<usize> {
    diesel::insert_into(bids::table).values(row).execute(c)
}

pub fn find_bid(c: &mut AnyConnection, id: &str) -> AppResult<Option<BidRow>> {
    Ok(bids::table.find(id).first(c).optional()?)
}

pub fn bids_of(c: &mut AnyConnection, challenge_id: &str) -> AppResult<Vec<BidRow>> {
    bids_of_many(c, &[challenge_id.to_owned()])
}

/// The bids on many challenges, each challenge's oldest first.
pub fn bids_of_many(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<BidRow>> {
    Ok(bids::table
        .filter(bids::challenge_id.eq_any(ids))
        .order((bids::challenge_id, bids::created_at, bids::id))
        .load(c)?)
}

pub fn live_bid_exists(c: &mut AnyConnection, challenge_id: &str, org_id: &str) -> AppResult<bool> {
    let n: i64 = bids::table
        .filter(bids::challenge_id.eq(challenge_id))
        .filter(bids::org_id.eq(org_id))
        .filter(bids::status.eq_any(["submitted", "awarded"]))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

pub fn bid_transition(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = diesel::update(bids::table.find(id).filter(bids::status.eq(from)))
        .set((bids::status.eq(to), bids::eliminated_reason.eq(reason), bids::updated_at.eq(to_db(now))))
        .execute(c)?;
    Ok(n == 1)
}

/// Eliminates an awarded bid only while another winner remains in the race (the rule is in
/// the statement, not read before it); false otherwise.
pub fn eliminate_winner(
    c: &mut AnyConnection,
    challenge_id: &str,
    bid_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let others = diesel::alias!(bids as others);
    let another_winner = others
        .filter(others.field(bids::challenge_id).eq(challenge_id))
        .filter(others.field(bids::status).eq("awarded"))
        .filter(others.field(bids::id).ne(bid_id))
        .select(others.field(bids::id));
    let n = diesel::update(
        bids::table
            .find(bid_id)
            .filter(bids::challenge_id.eq(challenge_id))
            .filter(bids::status.eq("awarded"))
            .filter(diesel::dsl::exists(another_winner)),
    )
    .set((bids::status.eq("eliminated"), bids::eliminated_reason.eq(reason), bids::updated_at.eq(to_db(now))))
    .execute(c)?;
    Ok(n == 1)
}

pub fn add_bid_paid(c: &mut AnyConnection, id: &str, amount: i64) -> AppResult<()> {
    diesel::update(bids::table.find(id)).set(bids::paid_fen.eq(bids::paid_fen + amount)).execute(c)?;
    Ok(())
}

// ---- experts and scores ----

pub fn experts(c: &mut AnyConnection, challenge_id: &str) -> AppResult<Vec<String>> {
    Ok(experts_of(c, &[challenge_id.to_owned()])?.into_iter().map(|(_, expert)| expert).collect())
}

/// `(challenge_id, expert_id)` of the experts assigned to many challenges, in assignment order.
pub fn experts_of(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<(String, String)>> {
    Ok(challenge_experts::table
        .filter(challenge_experts::challenge_id.eq_any(ids))
        .order((challenge_experts::challenge_id, challenge_experts::assigned_at, challenge_experts::expert_id))
        .select((challenge_experts::challenge_id, challenge_experts::expert_id))
        .load(c)?)
}

pub fn add_expert(
    c: &mut AnyConnection,
    challenge_id: &str,
    expert_id: &str,
    by: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let exists: i64 = challenge_experts::table
        .filter(challenge_experts::challenge_id.eq(challenge_id))
        .filter(challenge_experts::expert_id.eq(expert_id))
        .count()
        .get_result(c)?;
    if exists == 0 {
        diesel::insert_into(challenge_experts::table)
            .values((
                challenge_experts::challenge_id.eq(challenge_id),
                challenge_experts::expert_id.eq(expert_id),
                challenge_experts::assigned_by.eq(by),
                challenge_experts::assigned_at.eq(to_db(now)),
            ))
            .execute(c)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Queryable)]
pub struct ScoreRow {
    pub bid_id: String,
    pub expert_id: String,
    pub technical: i32,
    pub team: i32,
    pub budget: i32,
    pub comment: String,
    pub updated_at: NaiveDateTime,
}

impl ScoreRow {
    pub fn total(&self) -> i32 {
        self.technical + self.team + self.budget
    }
}

/// Writes (or overwrites) an expert's score of a bid.
pub fn put_score(c: &mut AnyConnection, s: &ScoreRow) -> AppResult<()> {
    let updated = diesel::update(
        bid_scores::table.filter(bid_scores::bid_id.eq(&s.bid_id)).filter(bid_scores::expert_id.eq(&s.expert_id)),
    )
    .set((
        bid_scores::technical.eq(s.technical),
        bid_scores::team.eq(s.team),
        bid_scores::budget.eq(s.budget),
        bid_scores::comment.eq(&s.comment),
        bid_scores::updated_at.eq(s.updated_at),
    ))
    .execute(c)?;
    if updated == 0 {
        diesel::insert_into(bid_scores::table)
            .values((
                bid_scores::bid_id.eq(&s.bid_id),
                bid_scores::expert_id.eq(&s.expert_id),
                bid_scores::technical.eq(s.technical),
                bid_scores::team.eq(s.team),
                bid_scores::budget.eq(s.budget),
                bid_scores::comment.eq(&s.comment),
                bid_scores::updated_at.eq(s.updated_at),
            ))
            .execute(c)?;
    }
    Ok(())
}

pub fn scores_of(c: &mut AnyConnection, bid_ids: &[String]) -> AppResult<Vec<ScoreRow>> {
    Ok(bid_scores::table
        .filter(bid_scores::bid_id.eq_any(bid_ids))
        .order((bid_scores::bid_id, bid_scores::expert_id))
        .load(c)?)
}

// ---- milestone progress and payments ----

#[derive(Debug, Clone, Queryable)]
pub struct ProgressRow {
    pub id: String,
    pub challenge_id: String,
    pub milestone_id: String,
    pub bid_id: String,
    pub status: String,
    pub report: Option<String>,
    pub reject_reason: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub accepted_at: Option<NaiveDateTime>,
}

pub fn insert_progress(c: &mut AnyConnection, challenge_id: &str, milestone_id: &str, bid_id: &str) -> AppResult<()> {
    diesel::insert_into(milestone_progress::table)
        .values((
            milestone_progress::id.eq(uuid::Uuid::new_v4().to_string()),
            milestone_progress::challenge_id.eq(challenge_id),
            milestone_progress::milestone_id.eq(milestone_id),
            milestone_progress::bid_id.eq(bid_id),
            milestone_progress::status.eq("pending"),
        ))
        .execute(c)?;
    Ok(())
}

pub fn progress(c: &mut AnyConnection, challenge_id: &str) -> AppResult<Vec<ProgressRow>> {
    progress_of(c, &[challenge_id.to_owned()])
}

/// Milestone progress on many challenges, by challenge, bid and milestone.
pub fn progress_of(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<ProgressRow>> {
    Ok(milestone_progress::table
        .filter(milestone_progress::challenge_id.eq_any(ids))
        .order((milestone_progress::challenge_id, milestone_progress::bid_id, milestone_progress::milestone_id))
        .load(c)?)
}

pub fn find_progress(c: &mut AnyConnection, milestone_id: &str, bid_id: &str) -> AppResult<Option<ProgressRow>> {
    Ok(milestone_progress::table
        .filter(milestone_progress::milestone_id.eq(milestone_id))
        .filter(milestone_progress::bid_id.eq(bid_id))
        .first(c)
        .optional()?)
}

/// Guarded progress change: deliver (pending → delivered), accept, or reject back to pending.
pub fn progress_transition(
    c: &mut AnyConnection,
    id: &str,
    from: &str,
    to: &str,
    text: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let target = milestone_progress::table.find(id).filter(milestone_progress::status.eq(from));
    let now_db = to_db(now);
    let n = match to {
        "delivered" => diesel::update(target)
            .set((
                milestone_progress::status.eq(to),
                milestone_progress::report.eq(text),
                milestone_progress::reject_reason.eq(None::<String>),
                milestone_progress::delivered_at.eq(now_db),
            ))
            .execute(c)?,
        "accepted" => diesel::update(target)
            .set((milestone_progress::status.eq(to), milestone_progress::accepted_at.eq(now_db)))
            .execute(c)?,
        _ => diesel::update(target)
            .set((milestone_progress::status.eq(to), milestone_progress::reject_reason.eq(text)))
            .execute(c)?,
    };
    Ok(n == 1)
}

#[derive(Debug, Clone, Queryable)]
pub struct PaymentRow {
    pub id: String,
    pub challenge_id: String,
    pub bid_id: String,
    pub milestone_id: String,
    pub amount_fen: i64,
    pub paid_at: NaiveDateTime,
}

pub fn insert_payment(
    c: &mut AnyConnection,
    challenge_id: &str,
    bid_id: &str,
    milestone_id: &str,
    amount: i64,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(challenge_payments::table)
        .values((
            challenge_payments::id.eq(uuid::Uuid::new_v4().to_string()),
            challenge_payments::challenge_id.eq(challenge_id),
            challenge_payments::bid_id.eq(bid_id),
            challenge_payments::milestone_id.eq(milestone_id),
            challenge_payments::amount_fen.eq(amount),
            challenge_payments::paid_at.eq(to_db(now)),
        ))
        .execute(c)
}

pub fn payments(c: &mut AnyConnection, challenge_id: &str) -> AppResult<Vec<PaymentRow>> {
    payments_of(c, &[challenge_id.to_owned()])
}

/// Milestone payments on many challenges, each challenge's in the order they were paid.
pub fn payments_of(c: &mut AnyConnection, ids: &[String]) -> AppResult<Vec<PaymentRow>> {
    Ok(challenge_payments::table
        .filter(challenge_payments::challenge_id.eq_any(ids))
        .order((challenge_payments::challenge_id, challenge_payments::paid_at, challenge_payments::id))
        .load(c)?)
}
