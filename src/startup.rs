//! Builds the application (database, migrations, state, HTTP server, background worker) and
//! runs it until a shutdown signal.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::{Condition, ErrorHandlers, Next, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};
use secrecy::ExposeSecret;
use tracing_actix_web::{RequestId, TracingLogger};

use crate::api;
use crate::api::extract::{BodyLimit, path_config, problem_for_plain_errors, query_config, refuse_nul_in_url};
use crate::auth::jwt::JwtKeys;
use crate::auth::password::PasswordHashing;
use crate::auth::rate_limit::AuthLimits;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{DatabaseUrl, Db};
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::search::SearchIndex;
use crate::state::AppState;

/// What differs between production and tests when building the app.
pub struct BuildOptions {
    pub clock: Clock,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self { clock: Clock::system() }
    }
}

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// Opens the database and applies pending migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Db> {
    let url = DatabaseUrl::parse(settings.database.url.expose_secret())?;
    let max = settings.database.pool_max_size;
    let timeout = Duration::from_secs(settings.database.pool_timeout_secs);
    let retries = settings.database.max_retries;
    let db = tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
        let db = Db::connect(&url, max, timeout, retries)?;
        let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
        let applied = crate::db::migrate::run_pending(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied migrations");
        }
        Ok(db)
    })
    .await??;
    Ok(db)
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, BuildOptions::default()).await
    }

    pub async fn build_with(settings: Settings, options: BuildOptions) -> anyhow::Result<Self> {
        let db = open_database(&settings).await?;
        let settings = Arc::new(settings);
        let metrics = Arc::new(Metrics::new()?);
        let (match_events, impression_writer) = crate::service::match_events::channel(metrics.clone());
        let state = AppState {
            db,
            clock: options.clock,
            metrics,
            match_events,
            search_tally: crate::service::insights::SearchTally::default(),
            mailer: Mailer::from_settings(&settings.mail)?,
            jwt: JwtKeys::new(settings.auth.jwt_secret.expose_secret(), settings.auth.access_token_secs),
            passwords: PasswordHashing::new(&settings.auth)?,
            limits: Arc::new(AuthLimits::new(&settings.auth)),
            proxies: Arc::new(crate::api::client_ip::parse_proxies(&settings.server.trusted_proxies)?),
            search: Arc::new(SearchIndex::new(settings.search.writer_heap_mib)?),
            vectors: Arc::new(crate::matching::vectors::VectorIndex::new(
                (!settings.matching.embeddings.url.trim().is_empty())
                    .then_some(settings.matching.embeddings.model.as_str()),
            )),
            answers: Arc::new(crate::state::Answers::new(settings.search.result_cache_entries)),
            storage: crate::storage::Storage::from_settings(&settings.storage)?,
            settings: settings.clone(),
        };
        prepare_background_state(&state).await?;

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        let server = http_server(state.clone(), listener)?;

        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let mut background = Vec::new();
        if settings.search.catchup_secs > 0 {
            let every = Duration::from_secs(settings.search.catchup_secs);
            background.push(tokio::spawn(search_catch_up(state.clone(), every, shutdown_rx.clone())));
        }
        background.push(tokio::spawn(crate::jobs::sequencer::run(state.clone(), shutdown_rx.clone())));
        background.push(tokio::spawn(crate::service::match_events::run_writer(
            state.db.clone(),
            impression_writer,
            shutdown_rx.clone(),
        )));
        background.push(tokio::spawn(crate::service::insights::run_writer(
            state.db.clone(),
            state.search_tally.clone(),
            shutdown_rx.clone(),
        )));
        if settings.matching.embeddings.sync_secs > 0
            && let Some(embedder) = crate::matching::embeddings::Embedder::from_settings(&settings.matching.embeddings)?
        {
            background.push(tokio::spawn(crate::service::embeddings::run(
                state.clone(),
                embedder,
                shutdown_rx.clone(),
            )));
        }
        if settings.jobs.interval_secs > 0 {
            let interval = Duration::from_secs(settings.jobs.interval_secs);
            background.push(tokio::spawn(crate::jobs::worker(state.clone(), interval, shutdown_rx.clone())));
        }
        tracing::info!(port, backend = ?state.db.backend(), "server listening");
        Ok(Self { port, server, state, shutdown, background })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the server stops (an I/O error, or the process ends), then stops the
    /// background tasks. Signals are not handled here: see `run_until_signalled`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        stop_background(self.shutdown, self.background).await;
        result
    }

    /// Serves until SIGINT (Ctrl-C) or SIGTERM (`docker stop`), then shuts down gracefully:
    /// no new connections, in-flight requests get `server.shutdown_timeout_secs` to finish,
    /// then the background tasks stop. A second signal returns at once (the caller exits).
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let grace_secs = self.state.settings.server.shutdown_timeout_secs;
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        let result = tokio::select! {
            result = &mut server => result,
            signal = shutdown_signal() => {
                tracing::info!(signal, grace_secs, "shutting down: finishing in-flight requests");
                // The command is sent at once; the server future carries it out while polled.
                drop(handle.stop(true));
                tokio::select! {
                    result = &mut server => result,
                    signal = shutdown_signal() => {
                        // actix finishes a graceful stop before it reads another command, so
                        // leave without it: the process exits and takes the workers along.
                        tracing::warn!(signal, "second signal: exiting without waiting for requests in flight");
                        let _ = self.shutdown.send(true);
                        return Ok(());
                    }
                }
            }
        };
        stop_background(self.shutdown, self.background).await;
        result
    }
}

async fn stop_background(shutdown: tokio::sync::watch::Sender<bool>, tasks: Vec<tokio::task::JoinHandle<()>>) {
    let _ = shutdown.send(true);
    for task in tasks {
        let _ = task.await;
    }
    tracing::info!("server stopped");
}

/// Waits for SIGINT or SIGTERM and names it. If a handler cannot be installed, waits forever
/// on that one (the other still works; SIGKILL always does).
async fn shutdown_signal() -> &'static str {
    let interrupt = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "SIGINT",
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
                "SIGTERM"
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<&'static str>();
    tokio::select! {
        name = interrupt => name,
        name = terminate => name,
    }
}

/// Builds the search index from the database and makes sure recurring jobs are scheduled.
async fn prepare_background_state(state: &AppState) -> anyhow::Result<()> {
    let (db, search) = (state.db.clone(), state.search.clone());
    let started = Instant::now();
    let indexed = tokio::task::spawn_blocking(move || {
        crate::search::analyzer::Analyzer::warm_up();
        crate::search::sync::rebuild(&db, &search)
    })
    .await?
    .map_err(|e| anyhow::anyhow!("building the search index: {e}"))?;
    tracing::info!(documents = indexed, elapsed_ms = started.elapsed().as_millis() as u64, "search index built");
    let now = state.clock.now();
    state
        .db
        .tx(move |c| {
            crate::service::subscriptions::schedule_digest(c, now)?;
            crate::service::freshness::schedule_sweep(c, now)
        })
        .await
        .map_err(|e| anyhow::anyhow!("scheduling the daily digest and the freshness sweep: {e}"))?;
    Ok(())
}

/// Pulls listing changes made through other instances into this instance's index.
async fn search_catch_up(state: AppState, every: Duration, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut since = chrono::Utc::now() - chrono::Duration::seconds(60);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        let (db, search) = (state.db.clone(), state.search.clone());
        match tokio::task::spawn_blocking(move || crate::search::sync::catch_up(&db, &search, since)).await {
            Ok(Ok(next)) => since = next,
            Ok(Err(err)) => tracing::warn!(error = %err, "search catch-up failed; retrying"),
            Err(err) => tracing::warn!(error = %err, "search catch-up panicked; retrying"),
        }
    }
}

fn http_server(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let settings = state.settings.clone();
    let limit = settings.server.body_limit_bytes;
    let workers = match settings.server.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let data = web::Data::new(state);
    let origins = settings.server.cors_allowed_origins.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(BodyLimit(limit))
            .app_data(web::PayloadConfig::new(limit))
            .app_data(query_config())
            .app_data(path_config())
            .wrap(ErrorHandlers::new().default_handler(problem_for_plain_errors))
            .wrap(Condition::new(!origins.is_empty(), cors(&origins)))
            .wrap(from_fn(refuse_nul_in_url))
            .wrap(from_fn(observe))
            .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
            .wrap(from_fn(crate::i18n::negotiate))
            .configure(api::configure)
            .default_service(web::to(api::not_found))
    })
    .workers(workers)
    // Signals are handled by `Application::run_until_signalled` (graceful on SIGINT too);
    // actix's own handling stops at once on SIGINT.
    .disable_signals()
    .shutdown_timeout(settings.server.shutdown_timeout_secs)
    .listen(listener)?
    .run();
    Ok(server)
}

/// CORS for the configured browser origins: bearer tokens travel in the `Authorization`
/// header, never in cookies, so credentials are not allowed and no cookie can be replayed
/// cross-site. With no origins configured the middleware is left out entirely.
fn cors(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("idempotency-key")])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER, header::LOCATION])
        .max_age(3600);
    origins.iter().fold(cors, |cors, origin| cors.allowed_origin(origin))
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Records per-route metrics and returns the request id as `X-Request-Id`.
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> actix_web::Result<ServiceResponse<impl MessageBody>> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
    let mut res = next.call(req).await?;
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    if let Some(state) = state {
        state.metrics.observe(&method, &route, status, started.elapsed());
    }
    if let Some(id) = request_id.and_then(|id: String| HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(REQUEST_ID.clone(), id);
    }
    log_failure(&res, &method, &route, status);
    Ok(res)
}

/// One compact line per failed request: 5xx at ERROR (the cause chain of an internal error is
/// logged where it is rendered), 404/405 at DEBUG (scanners), every other 4xx at INFO.
fn log_failure<B>(res: &ServiceResponse<B>, method: &str, route: &str, status: u16) {
    if status < 400 {
        return;
    }
    let code =
        res.response().error().and_then(|e| e.as_error::<crate::error::AppError>()).map_or("", |e| e.code().as_str());
    if status >= 500 {
        tracing::error!(status, method, route, code, "request failed");
    } else if status == 404 || status == 405 {
        tracing::debug!(status, method, route, code, "request refused");
    } else {
        tracing::info!(status, method, route, code, "request refused");
    }
}
