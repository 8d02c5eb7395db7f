//! Command-line interface of the `techtransfer` binary, parsed by clap: typed flags, `--help`
//! for every subcommand, `--version`, and an error with usage for anything unknown.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

const CONFIGURATION: &str = "\
Configuration: config/default.toml, config/<TT_ENV>.toml, then TT__SECTION__KEY variables
(e.g. TT__DATABASE__URL=postgres://postgres@127.0.0.1/techtransfer). TT_CONFIG_DIR moves the
config directory.";

/// techtransfer: technology-transfer marketplace server (科技成果转化平台)
#[derive(Debug, Parser)]
#[command(name = "techtransfer", version, after_help = CONFIGURATION)]
pub struct Cli {
    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Run the HTTP server (the default)
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// Create (or promote) a verified administrator
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// At least 12 characters
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "平台管理员")]
        name: String,
    },
    /// Fill an empty database with a Chinese demo data set
    SeedDemo {
        /// Also publish N listings recombined from the demo texts (load tests)
        #[arg(long, default_value_t = 0)]
        synthetic: usize,
    },
    /// Print the OpenAPI document
    Openapi,
    /// Embed every published listing whose vectors are missing or stale, with a progress bar
    /// (a running server's sync loop does the same in the background; this fills a new or
    /// re-modelled database faster and says when it is done)
    EmbedBackfill {
        /// Texts per request to the embeddings server (default: matching.embeddings.batch_size)
        #[arg(long)]
        batch: Option<usize>,
    },
    /// Online match metrics from the event log: impressions, connection requests per
    /// impression, acceptance and contracts by rank and by ranking mode
    MatchReport {
        /// The last N days
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// GET /healthz of the configured server; exit code 0 when it answers 200 (container
    /// health checks)
    Healthcheck {
        /// Check this URL instead of http://<server.host>:<server.port>/healthz
        #[arg(long)]
        url: Option<String>,
        /// Give up after this many seconds
        #[arg(long, default_value_t = 3)]
        timeout_secs: u64,
    },
    /// Benchmarks that print their numbers (run them on a release build)
    #[command(subcommand)]
    Bench(Bench),
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum Bench {
    /// Full-text search: index build, memory, query latency
    Search {
        #[arg(long, value_delimiter = ',', default_values_t = [10_000, 100_000])]
        sizes: Vec<usize>,
        #[arg(long, default_value_t = 1000)]
        queries: usize,
    },
    /// Matching speed: top-10 latency, index build, memory
    Match {
        #[arg(long, value_delimiter = ',', default_values_t = [10_000, 100_000, 1_000_000])]
        sizes: Vec<usize>,
        #[arg(long, default_value_t = 500)]
        queries: usize,
    },
    /// Vector candidates of hybrid matching: top-100 latency and memory at several sizes
    Vectors {
        #[arg(long, value_delimiter = ',', default_values_t = [10_000, 100_000, 1_000_000])]
        sizes: Vec<usize>,
        #[arg(long, default_value_t = 200)]
        queries: usize,
    },
    /// Matching quality against a BM25 baseline (NDCG@10, Recall@10, MRR)
    MatchQuality {
        #[arg(long, default_value = "../shared/bench/match-dev")]
        data: PathBuf,
    },
    /// Voucher approvals/s on a fresh PostgreSQL database, invariants checked
    Vouchers {
        #[arg(long, default_value = DEFAULT_PG)]
        pg: String,
        #[arg(long, default_value_t = 2000)]
        applications: usize,
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
    /// One settlement batch of N bulk-inserted confirmed redemptions on a fresh PostgreSQL
    /// database: time and peak RSS
    SettlementBatch {
        #[arg(long, default_value = DEFAULT_PG)]
        pg: String,
        #[arg(long, default_value_t = 100_000)]
        redemptions: usize,
    },
    /// /admin/stats aggregation latency on a fresh database
    Stats {
        #[arg(long, default_value = "sqlite", value_parser = ["sqlite", "postgres"])]
        backend: String,
        #[arg(long, default_value = DEFAULT_PG)]
        pg: String,
        #[arg(long, default_value_t = 100_000)]
        listings: usize,
        #[arg(long, default_value_t = 10_000)]
        contracts: usize,
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
    /// Upload/download throughput and server RSS under concurrent uploads (local storage, or
    /// an S3-compatible endpoint)
    Files {
        #[arg(long, default_value_t = 50)]
        size_mib: usize,
        #[arg(long, default_value_t = 16)]
        concurrent: usize,
        /// S3 endpoint (e.g. a local MinIO or moto server); local storage when absent
        #[arg(long)]
        s3_endpoint: Option<String>,
        #[arg(long, default_value = "tt-bench")]
        s3_bucket: String,
        /// Multipart part size in bytes
        #[arg(long)]
        part_size: Option<usize>,
    },
}

/// Where benchmarks that need PostgreSQL create their scratch databases.
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl Cli {
    /// The subcommand, `serve` when none was given.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use clap::error::ErrorKind;

    use super::*;

    fn parse(s: &str) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("techtransfer").chain(s.split_whitespace())).map(Cli::into_command)
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default() {
        assert_eq!(parse("").unwrap(), Command::Serve);
        assert_eq!(parse("serve").unwrap(), Command::Serve);
    }

    #[test]
    fn flags_are_typed() {
        let c = parse("create-admin --email a@b.c --password=secret123456").unwrap();
        assert_eq!(
            c,
            Command::CreateAdmin {
                email: "a@b.c".into(), password: "secret123456".into(), name: "平台管理员".into()
            }
        );
        assert_eq!(parse("seed-demo --synthetic 40").unwrap(), Command::SeedDemo { synthetic: 40 });
        assert_eq!(parse("match-report").unwrap(), Command::MatchReport { days: 30, json: false });
        assert_eq!(parse("match-report --days 7 --json").unwrap(), Command::MatchReport { days: 7, json: true });
        assert_eq!(parse("embed-backfill --batch 64").unwrap(), Command::EmbedBackfill { batch: Some(64) });
        assert_eq!(
            parse("bench search --sizes 10,20").unwrap(),
            Command::Bench(Bench::Search { sizes: vec![10, 20], queries: 1000 })
        );
        assert_eq!(parse("seed-demo --synthetic many").unwrap_err().kind(), ErrorKind::ValueValidation);
    }

    #[test]
    fn version_unknown_flags_and_commands() {
        assert_eq!(parse("--version").unwrap_err().kind(), ErrorKind::DisplayVersion);
        assert_eq!(parse("-V").unwrap_err().kind(), ErrorKind::DisplayVersion);
        assert_eq!(parse("--port 1").unwrap_err().kind(), ErrorKind::UnknownArgument);
        assert_eq!(parse("serve --verbose").unwrap_err().kind(), ErrorKind::UnknownArgument);
        assert_eq!(parse("sever").unwrap_err().kind(), ErrorKind::InvalidSubcommand);
        assert_eq!(parse("create-admin --email a@b.c").unwrap_err().kind(), ErrorKind::MissingRequiredArgument);
        assert_eq!(parse("bench stats --backend mysql").unwrap_err().kind(), ErrorKind::InvalidValue);
    }
}
