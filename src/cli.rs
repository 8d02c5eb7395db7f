//! Command-line parsing for the `techtransfer` binary (a handful of subcommands; no parser
//! crate needed).

use std::collections::HashMap;

pub const USAGE: &str = "\
techtransfer: technology-transfer marketplace server

USAGE:
    techtransfer [COMMAND] [OPTIONS]

COMMANDS:
    serve                     run the HTTP server (default)
    migrate                   apply pending database migrations and exit
    create-admin --email E --password P [--name N]
                              create (or promote) a verified administrator
    seed-demo [--synthetic N] fill an empty database with a Chinese demo data set, plus N
                              published listings recombined from its texts (load tests)
    openapi                   print the OpenAPI document
    bench search [--sizes 10000,100000] [--queries 1000]
                              search benchmark: index build, memory, query latency
    bench match [--sizes 10000,100000,1000000] [--queries 500]
                              matching speed: top-10 latency, index build, memory
    bench match-quality [--data ../shared/bench/match-dev]
                              matching quality vs a BM25 baseline (NDCG@10, Recall@10, MRR)
    bench vouchers [--pg URL] [--applications 2000] [--clients 16]
                              voucher approvals/s on a fresh PostgreSQL database, invariants checked
    bench stats [--backend sqlite|postgres] [--listings 100000] [--contracts 10000]
                              /admin/stats aggregation latency on a fresh database
    bench files [--size-mib 50] [--concurrent 16] [--s3-endpoint URL --s3-bucket B] [--part-size BYTES]
                              upload/download throughput and server RSS under concurrent uploads
    help                      print this help

Configuration: config/default.toml, config/<TT_ENV>.toml, then TT__SECTION__KEY variables
(e.g. TT__DATABASE__URL=postgres://postgres@127.0.0.1/techtransfer). TT_CONFIG_DIR moves the
config directory.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    pub flags: HashMap<String, String>,
    pub args: Vec<String>,
}

impl Command {
    /// Parses `args` (without the program name). `--key value` and `--key=value` are flags;
    /// a flag followed by another flag or nothing is `"true"`.
    pub fn parse(args: &[String]) -> Self {
        let mut iter = args.iter().peekable();
        let name = match iter.peek() {
            Some(first) if !first.starts_with("--") => iter.next().cloned().unwrap_or_default(),
            _ => "serve".to_owned(),
        };
        let mut flags = HashMap::new();
        let mut rest = Vec::new();
        while let Some(arg) = iter.next() {
            if let Some(flag) = arg.strip_prefix("--") {
                if let Some((k, v)) = flag.split_once('=') {
                    flags.insert(k.to_owned(), v.to_owned());
                } else {
                    let value = match iter.peek() {
                        Some(next) if !next.starts_with("--") => iter.next().cloned().unwrap_or_default(),
                        _ => "true".to_owned(),
                    };
                    flags.insert(flag.to_owned(), value);
                }
            } else {
                rest.push(arg.clone());
            }
        }
        Self { name, flags, args: rest }
    }

    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> anyhow::Result<&str> {
        self.flag(name).ok_or_else(|| anyhow::anyhow!("missing --{name}\n\n{USAGE}"))
    }

    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match self.flag(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| anyhow::anyhow!("--{name} must be a number, got {v:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Command {
        Command::parse(&s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn serve_is_the_default() {
        assert_eq!(parse("").name, "serve");
        assert_eq!(parse("--port 1").name, "serve");
    }

    #[test]
    fn flags_take_values_or_true() {
        let c = parse("create-admin --email a@b.c --password=secret123456 --dry-run");
        assert_eq!(c.name, "create-admin");
        assert_eq!(c.flag("email"), Some("a@b.c"));
        assert_eq!(c.flag("password"), Some("secret123456"));
        assert_eq!(c.flag("dry-run"), Some("true"));
    }
}
