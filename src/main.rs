//! The `techtransfer` binary: `serve` (default), `migrate`, `create-admin`, `seed-demo`,
//! `openapi`, `healthcheck`, `bench`. See `techtransfer --help`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use techtransfer::cli::{Bench, Cli, Command};
use techtransfer::config::Settings;
use techtransfer::startup::{Application, open_database};

fn main() -> std::process::ExitCode {
    // `--help`, `--version` and usage errors print and exit here (2 for a usage error).
    let command = Cli::parse().into_command();
    match run(command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Bench(bench) => run_bench(bench),
        Command::Openapi => print(&techtransfer::api::openapi::document().to_pretty_json()?),
        Command::Healthcheck { url, timeout_secs } => {
            healthcheck(&Settings::load(&config_dir())?, url, Duration::from_secs(timeout_secs))
        }
        Command::Serve => {
            let (settings, runtime) = prepare()?;
            actix_web::rt::System::with_tokio_rt(|| runtime).block_on(async move {
                let app = Application::build(settings).await?;
                app.run_until_signalled().await?;
                Ok(())
            })
        }
        Command::EmbedBackfill { batch } => {
            let (settings, runtime) = prepare()?;
            runtime.block_on(embed_backfill(&settings, batch))
        }
        Command::MatchReport { days, json } => {
            let (settings, runtime) = prepare()?;
            runtime.block_on(async move {
                let db = open_database(&settings).await?;
                let to = chrono::Utc::now();
                let from = to - chrono::Duration::days(days.into());
                let report = db
                    .read(move |c| techtransfer::service::match_events::report(c, from, to))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                if json {
                    print(&serde_json::to_string_pretty(&report)?)
                } else {
                    print(techtransfer::service::match_events::render(&report, from, to).trim_end())
                }
            })
        }
        Command::Migrate => {
            let (settings, runtime) = prepare()?;
            runtime.block_on(open_database(&settings))?;
            print("migrations are up to date")
        }
        Command::CreateAdmin { email, password, name } => {
            let email = techtransfer::domain::account::normalize_email(&email)
                .ok_or_else(|| anyhow::anyhow!("--email is not a valid address"))?;
            anyhow::ensure!(
                password.chars().count() >= techtransfer::domain::account::PASSWORD_MIN_CHARS,
                "--password must be at least {} characters",
                techtransfer::domain::account::PASSWORD_MIN_CHARS
            );
            let (settings, runtime) = prepare()?;
            runtime.block_on(async move {
                let db = open_database(&settings).await?;
                let hashing = techtransfer::auth::password::PasswordHashing::new(&settings.auth)?;
                let hash = hashing.hash(&password)?;
                let now = chrono::Utc::now();
                let (user, created) = db
                    .tx(move |c| techtransfer::service::accounts::create_admin(c, &email, &hash, &name, now))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let verb = if created { "created" } else { "promoted" };
                print(&format!("{verb} administrator {} ({})", user.email, user.id))
            })
        }
        Command::SeedDemo { synthetic } => {
            let (settings, runtime) = prepare()?;
            runtime.block_on(async move {
                let db = open_database(&settings).await?;
                let hashing = techtransfer::auth::password::PasswordHashing::new(&settings.auth)?;
                let now = chrono::Utc::now();
                let summary = db
                    .tx(move |c| techtransfer::demo::seed(c, &|p| hashing.hash(p), now, synthetic))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let storage = techtransfer::storage::Storage::from_settings(&settings.storage)?;
                for file in &summary.files {
                    let mut upload = storage.writer(&file.storage_key).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    upload.write(&file.bytes).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    upload.finish().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                }
                print(&techtransfer::demo::describe(&summary))
            })
        }
    }
}

/// Embeds what waits for vectors, batch by batch, until nothing does.
async fn embed_backfill(settings: &Settings, batch: Option<usize>) -> anyhow::Result<()> {
    use techtransfer::service::embeddings;
    let embedder = techtransfer::matching::embeddings::Embedder::from_settings(&settings.matching.embeddings)?
        .ok_or_else(|| anyhow::anyhow!("no embeddings server configured (matching.embeddings.url)"))?;
    let db = open_database(settings).await?;
    let batch = batch.unwrap_or(settings.matching.embeddings.batch_size).max(1);
    let clock = techtransfer::clock::Clock::system();
    let waiting = embeddings::pending(&db, &embedder).await?;
    let bar = indicatif::ProgressBar::new(u64::try_from(waiting).unwrap_or(0));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} listings, {per_sec}, {eta} left")
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let started = std::time::Instant::now();
    let mut done = 0usize;
    loop {
        let n = embeddings::embed_batch(&db, &embedder, batch, &clock).await?;
        if n == 0 {
            break;
        }
        done += n;
        // Listings published meanwhile join the total.
        bar.set_length(bar.length().unwrap_or(0).max(done as u64));
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    print(&format!(
        "embedded {done} listings with {} in {secs:.1} s ({:.1} listings/s); none waits",
        embedder.model(),
        done as f64 / secs.max(1e-9)
    ))
}

/// Settings, logging and a runtime for the commands that touch the database.
fn prepare() -> anyhow::Result<(Settings, tokio::runtime::Runtime)> {
    let settings = Settings::load(&config_dir())?;
    techtransfer::telemetry::init_stdout(&settings.log, settings.env);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    Ok((settings, runtime))
}

/// Writes `text` and a newline to standard output. A reader that went away (`| head`) is not
/// an error.
fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// `GET /healthz` on the configured listen address (a wildcard address is checked on
/// loopback); fails unless the answer is 200.
fn healthcheck(settings: &Settings, url: Option<String>, timeout: Duration) -> anyhow::Result<()> {
    let url = url.unwrap_or_else(|| {
        let host = match settings.server.host.as_str() {
            "0.0.0.0" | "" => "127.0.0.1".to_owned(),
            "::" | "[::]" => "[::1]".to_owned(),
            h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
            h => h.to_owned(),
        };
        format!("http://{host}:{}/healthz", settings.server.port)
    });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(timeout).build()?;
        let res = client.get(&url).send().await.map_err(|e| anyhow::Error::new(e).context(format!("GET {url}")))?;
        anyhow::ensure!(res.status() == 200, "{url} answered {}", res.status());
        Ok(())
    })
}

fn run_bench(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::Search { sizes, queries } => techtransfer::bench::search::run(&sizes, queries),
        Bench::Match { sizes, queries } => {
            let settings = Settings::load(&config_dir())?;
            techtransfer::bench::matching::run(&sizes, queries, &settings.matching)
        }
        Bench::Vectors { sizes, queries } => techtransfer::bench::matching::vectors(&sizes, queries),
        Bench::MatchQuality { data } => {
            let settings = Settings::load(&config_dir())?;
            techtransfer::bench::match_quality::run(&data, &settings.matching)
        }
        Bench::Stats { backend, pg, listings, contracts, runs } => {
            techtransfer::bench::stats::run(&backend, &pg, listings, contracts, runs)
        }
        Bench::Vouchers { pg, applications, clients } => techtransfer::bench::vouchers::run(&pg, applications, clients),
        Bench::SettlementBatch { pg, redemptions } => techtransfer::bench::batches::run(&pg, redemptions),
        Bench::Files { size_mib, concurrent, s3_endpoint, s3_bucket, part_size } => {
            techtransfer::bench::files::run(&techtransfer::bench::files::Options {
                size_mib,
                concurrent,
                s3: s3_endpoint.map(|e| (e, s3_bucket)),
                part_size_bytes: part_size,
            })
        }
    }
}

fn config_dir() -> PathBuf {
    std::env::var("TT_CONFIG_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("config"))
}
