//! tracing subscriber: human-readable in development, JSON in production. Colours only when
//! the log goes to a terminal.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{Environment, LogFormat, LogSettings};

/// Installs the global subscriber writing to standard output, with ANSI colours only when
/// that is a terminal (not a pipe or a log file) and `NO_COLOR` is unset.
pub fn init_stdout(settings: &LogSettings, env: Environment) {
    let ansi = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    install(settings, env, std::io::stdout, ansi);
}

/// Installs the global subscriber writing to `sink`, without colours. Safe to call more than
/// once (later calls are ignored), which tests rely on.
pub fn init<W>(settings: &LogSettings, env: Environment, sink: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    install(settings, env, sink, false);
}

fn install<W>(settings: &LogSettings, env: Environment, sink: W, ansi: bool)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = settings.format == LogFormat::Json || env == Environment::Production;
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(sink).with_target(true).with_ansi(ansi && !json);
    let result = if json {
        builder.json().flatten_event(true).with_current_span(true).try_init()
    } else {
        builder.compact().try_init()
    };
    // An already-installed subscriber (a second app in the same test process) is fine.
    drop(result);
}
