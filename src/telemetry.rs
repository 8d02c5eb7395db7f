//! tracing subscriber: human-readable in development, JSON in production.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::{Environment, LogFormat, LogSettings};

/// Installs the global subscriber writing to `sink`. Safe to call more than once (later calls
/// are ignored), which tests rely on.
pub fn init<W>(settings: &LogSettings, env: Environment, sink: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let json = settings.format == LogFormat::Json || env == Environment::Production;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(sink).with_target(true);
    let result = if json {
        builder.json().flatten_event(true).with_current_span(true).try_init()
    } else {
        builder.compact().try_init()
    };
    // An already-installed subscriber (a second app in the same test process) is fine.
    drop(result);
}
