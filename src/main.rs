//! The `techtransfer` binary: `serve` (default), `migrate`, `create-admin`, `seed-demo`,
//! `openapi`. See `techtransfer help`.

use std::path::PathBuf;

use techtransfer::cli::{Command, USAGE};
use techtransfer::config::Settings;
use techtransfer::startup::{Application, open_database};

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = Command::parse(&args);
    if matches!(command.name.as_str(), "help" | "-h") || command.flag("help").is_some() {
        println!("{USAGE}");
        return Ok(());
    }
    if command.name == "bench" {
        return bench(&command);
    }
    if command.name == "openapi" {
        use utoipa::OpenApi;
        println!("{}", techtransfer::api::openapi::ApiDoc::openapi().to_pretty_json()?);
        return Ok(());
    }
    let settings = Settings::load(&config_dir())?;
    techtransfer::telemetry::init(&settings.log, settings.env, std::io::stdout);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match command.name.as_str() {
        "serve" => actix_web::rt::System::with_tokio_rt(|| runtime).block_on(async move {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
            Ok(())
        }),
        "migrate" => runtime.block_on(async move {
            open_database(&settings).await?;
            println!("migrations are up to date");
            Ok(())
        }),
        "create-admin" => {
            let email = techtransfer::domain::account::normalize_email(command.required("email")?)
                .ok_or_else(|| anyhow::anyhow!("--email is not a valid address"))?;
            let password = command.required("password")?.to_owned();
            anyhow::ensure!(
                password.chars().count() >= techtransfer::domain::account::PASSWORD_MIN_CHARS,
                "--password must be at least {} characters",
                techtransfer::domain::account::PASSWORD_MIN_CHARS
            );
            let name = command.flag("name").unwrap_or("平台管理员").to_owned();
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
                println!("{verb} administrator {} ({})", user.email, user.id);
                Ok(())
            })
        }
        "seed-demo" => runtime.block_on(async move {
            let db = open_database(&settings).await?;
            let hashing = techtransfer::auth::password::PasswordHashing::new(&settings.auth)?;
            let now = chrono::Utc::now();
            let synthetic = command.number("synthetic", 0usize)?;
            let summary = db
                .tx(move |c| techtransfer::demo::seed(c, &|p| hashing.hash(p), now, synthetic))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "seeded {} verified organizations, {} published achievements, {} published demands",
                summary.organizations, summary.achievements, summary.demands
            );
            println!("demo accounts (password {} unless noted):", techtransfer::demo::DEMO_PASSWORD);
            for a in &summary.accounts {
                let password = if a.role == "admin" { techtransfer::demo::ADMIN_PASSWORD } else { "" };
                println!("  {:<42} {:<17} {} {}", a.email, a.role, a.organization.as_deref().unwrap_or(""), password);
            }
            Ok(())
        }),
        other => anyhow::bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

/// `techtransfer bench <search|…> [--sizes 10000,100000] [--queries N]`
fn bench(command: &Command) -> anyhow::Result<()> {
    let sizes = |default: &str| -> anyhow::Result<Vec<usize>> {
        command
            .flag("sizes")
            .unwrap_or(default)
            .split(',')
            .map(|s| s.trim().parse::<usize>().map_err(|_| anyhow::anyhow!("--sizes takes numbers, e.g. 10000,100000")))
            .collect()
    };
    match command.args.first().map(String::as_str) {
        Some("search") => techtransfer::bench::search::run(&sizes("10000,100000")?, command.number("queries", 1000)?),
        Some("match") => {
            let settings = Settings::load(&config_dir())?;
            techtransfer::bench::matching::run(
                &sizes("10000,100000,1000000")?,
                command.number("queries", 500)?,
                &settings.matching,
            )
        }
        Some("stats") => techtransfer::bench::stats::run(
            command.flag("backend").unwrap_or("sqlite"),
            command.flag("pg").unwrap_or("postgres://postgres@127.0.0.1:5432/postgres"),
            command.number("listings", 100_000)?,
            command.number("contracts", 10_000)?,
            command.number("runs", 30)?,
        ),
        Some("vouchers") => techtransfer::bench::vouchers::run(
            command.flag("pg").unwrap_or("postgres://postgres@127.0.0.1:5432/postgres"),
            command.number("applications", 2000)?,
            command.number("clients", 16)?,
        ),
        Some("match-quality") => {
            let dir = PathBuf::from(command.flag("data").unwrap_or("../shared/bench/match-dev"));
            let config_dir =
                std::env::var("TT_CONFIG_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("config"));
            let settings = Settings::load(&config_dir)?;
            techtransfer::bench::match_quality::run(&dir, &settings.matching)
        }
        Some("files") => techtransfer::bench::files::run(&techtransfer::bench::files::Options {
            size_mib: command.number("size-mib", 50)?,
            concurrent: command.number("concurrent", 16)?,
            s3: command
                .flag("s3-endpoint")
                .map(|e| (e.to_owned(), command.flag("s3-bucket").unwrap_or("tt-bench").to_owned())),
            part_size_bytes: command.flag("part-size").map(str::parse).transpose()?,
        }),
        other => {
            anyhow::bail!("unknown benchmark {other:?}; try: search, match, match-quality, vouchers, stats, files")
        }
    }
}

fn config_dir() -> PathBuf {
    std::env::var("TT_CONFIG_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("config"))
}
