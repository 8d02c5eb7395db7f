//! The job queue: outbox, retries with backoff, parking, exactly-once claiming, and mail
//! through a real SMTP listener.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::helpers::{backend, spawn_app, spawn_app_with, unique};
use techtransfer::jobs::{self, Job, queue};

/// Removes the recurring daily digest every app schedules at start, so tests that count
/// job runs do not depend on the time of day.
fn drop_digest(app: &crate::helpers::TestApp) {
    use diesel::prelude::*;
    use techtransfer::db::schema::jobs;
    let recurring = ["daily_digest", "freshness_sweep"];
    app.with_conn(|c| diesel::delete(jobs::table.filter(jobs::kind.eq_any(recurring))).execute(c).unwrap());
}

/// The queue without the recurring jobs (daily digest, freshness sweep) every app schedules
/// at start.
fn work(app: &crate::helpers::TestApp) -> Vec<queue::JobRow> {
    let recurring = ["daily_digest", "freshness_sweep"];
    app.with_conn(|c| queue::list(c).unwrap()).into_iter().filter(|j| !recurring.contains(&j.kind.as_str())).collect()
}

#[tokio::test]
async fn failing_jobs_back_off_then_park_as_failed() {
    let app = spawn_app().await;
    drop_digest(&app);
    let now = app.clock.now();
    let job = Job::SendEmail {
        to: "not an address".into(),
        email: techtransfer::mail::Email::OrgVerified { org_name: "x".into() },
    };
    app.state.db.tx(move |c| jobs::enqueue(c, &job, now)).await.unwrap();
    assert_eq!(app.run_due_jobs().await, 1);
    let rows = work(&app);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].attempts, 1);
    assert_eq!(rows[0].status, "pending");
    assert!(rows[0].last_error.as_deref().unwrap_or("").contains("recipient"));
    // Not due again until the backoff (2 minutes) has passed.
    assert_eq!(app.run_due_jobs().await, 0);
    let mut expected_delay = 2;
    for attempt in 2..=jobs::MAX_ATTEMPTS {
        app.clock.advance(chrono::Duration::minutes(expected_delay));
        assert_eq!(app.run_due_jobs().await, 1, "attempt {attempt}");
        expected_delay *= 2;
    }
    let rows = work(&app);
    assert_eq!(rows[0].status, "failed");
    assert_eq!(rows[0].attempts, jobs::MAX_ATTEMPTS);
    let metrics = app.get("/metrics", None).await;
    assert!(metrics.text.contains("jobs_queue_depth{status=\"failed\"} 1"));
    // Clean up so the harness's no-failed-jobs check passes.
    app.with_conn(|c| queue::complete(c, &rows[0].id).unwrap());
}

/// A job parked as failed gives up its dedup key: the same work can be scheduled again (a
/// recurring digest that failed its last attempts is not blocked for ever).
#[tokio::test]
async fn a_parked_job_frees_its_dedup_key() {
    let app = spawn_app().await;
    drop_digest(&app);
    let now = app.clock.now();
    let job = Job::SendEmail {
        to: "not an address".into(),
        email: techtransfer::mail::Email::OrgVerified { org_name: "x".into() },
    };
    let enqueue = |job: Job| app.state.db.tx(move |c| queue::enqueue_at(c, &job, now, Some("once-a-day"), 1));
    enqueue(job.clone()).await.unwrap();
    enqueue(job.clone()).await.unwrap();
    assert_eq!(work(&app).len(), 1, "a waiting job holds its key");
    assert_eq!(app.run_due_jobs().await, 1);
    assert_eq!(work(&app)[0].status, "failed");
    enqueue(job).await.unwrap();
    let rows = work(&app);
    let statuses: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "pending").count(), 1, "scheduled again: {statuses:?}");
    for row in rows {
        app.with_conn(|c| queue::complete(c, &row.id).unwrap());
    }
}

#[tokio::test]
async fn jobs_enqueued_in_a_rolled_back_transaction_never_run() {
    let app = spawn_app().await;
    drop_digest(&app);
    let now = app.clock.now();
    let result: Result<(), _> = app
        .state
        .db
        .tx(move |c| {
            jobs::enqueue(c, &Job::Ping { note: "rolled back".into() }, now)?;
            Err(techtransfer::error::AppError::not_found("anything"))
        })
        .await;
    assert!(result.is_err());
    assert_eq!(app.run_due_jobs().await, 0);
}

#[tokio::test]
async fn concurrent_workers_run_each_job_once() {
    let app = spawn_app().await;
    drop_digest(&app);
    let now = app.clock.now();
    app.state
        .db
        .tx(move |c| {
            for i in 0..40 {
                jobs::enqueue(c, &Job::Ping { note: format!("job {i}") }, now)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let (a, b, c) = tokio::join!(jobs::run_due(&app.state), jobs::run_due(&app.state), jobs::run_due(&app.state));
    assert_eq!(a.unwrap() + b.unwrap() + c.unwrap(), 40, "every job ran exactly once");
    assert!(work(&app).is_empty());
    let _ = backend();
}

#[tokio::test]
async fn scheduled_jobs_wait_for_their_time_and_dedupe() {
    let app = spawn_app().await;
    drop_digest(&app);
    let at = app.clock.now() + chrono::Duration::hours(1);
    app.state
        .db
        .tx(move |c| {
            jobs::schedule(c, &Job::Ping { note: "later".into() }, at, "ping:later")?;
            jobs::schedule(c, &Job::Ping { note: "later again".into() }, at, "ping:later")
        })
        .await
        .unwrap();
    assert_eq!(work(&app).len(), 1, "same key enqueued once");
    assert_eq!(app.run_due_jobs().await, 0);
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(app.run_due_jobs().await, 1);
}

/// Messages received by the sink: (recipients, raw data).
type Inbox = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP server: accepts every message and keeps (recipients, data).
async fn smtp_sink() -> (u16, Inbox) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let store: Inbox = Arc::default();
    let inbox = store.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let inbox = inbox.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
                let mut rcpt = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink.test\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        inbox.lock().unwrap().push((std::mem::take(&mut rcpt), data));
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, store)
}

#[tokio::test]
async fn verification_mail_goes_through_real_smtp() {
    let (port, inbox) = smtp_sink().await;
    let app = spawn_app_with(|s| {
        s.mail.transport = techtransfer::config::MailTransportKind::Smtp;
        s.mail.smtp_host = "127.0.0.1".into();
        s.mail.smtp_port = port;
    })
    .await;
    drop_digest(&app);
    let email = format!("smtp{}@example.cn", unique());
    app.register(&email).await.expect(201);
    assert_eq!(app.run_due_jobs().await, 1);
    let inbox = inbox.lock().unwrap().clone();
    assert_eq!(inbox.len(), 1, "one message delivered");
    let (rcpt, data) = &inbox[0];
    assert_eq!(rcpt, &vec![email.clone()]);
    assert!(data.contains(&format!("To: {email}")), "{data}");
    assert!(data.contains("Subject: =?utf-8?"), "Chinese subject is encoded: {data}");
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(data.contains("text/html") && data.contains("text/plain"));
    assert!(work(&app).is_empty(), "the job completed");
}

#[tokio::test]
async fn mail_jobs_retry_while_smtp_is_down() {
    // Nothing listens on this port: the send fails and the job is retried later.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(|s| {
        s.mail.transport = techtransfer::config::MailTransportKind::Smtp;
        s.mail.smtp_host = "127.0.0.1".into();
        s.mail.smtp_port = closed;
    })
    .await;
    drop_digest(&app);
    app.register(&format!("down{}@example.cn", unique())).await.expect(201);
    assert_eq!(app.run_due_jobs().await, 1);
    let rows = work(&app);
    assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("pending", 1));
    assert!(rows[0].run_at() > app.clock.now());
    app.with_conn(|c| queue::complete(c, &rows[0].id).unwrap());
}
