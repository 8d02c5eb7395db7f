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

/// The root span of every request: tracing-actix-web's default, except that the value of a
/// `token` query parameter (the links in verification and password-reset emails) never reaches
/// the log.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        use tracing::field::Empty;
        use tracing_actix_web::{DefaultRootSpanBuilder, RequestId};

        let query = request.query_string();
        if !query.split('&').any(|pair| pair.starts_with("token=")) {
            return DefaultRootSpanBuilder::on_request_start(request);
        }
        let request_id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        let route = request.match_pattern().unwrap_or_else(|| "default".to_owned());
        let user_agent = request.headers().get("User-Agent").and_then(|h| h.to_str().ok()).unwrap_or("");
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.client_ip = %request.connection_info().realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.target = %format!("{}?{}", request.path(), redact_tokens(query)),
            http.status_code = Empty,
            otel.name = %format!("{} {route}", request.method()),
            otel.kind = "server",
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// `a=1&token=secret` → `a=1&token=[redacted]`.
fn redact_tokens(query: &str) -> String {
    query
        .split('&')
        .map(|pair| if pair.starts_with("token=") { "token=[redacted]" } else { pair })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::redact_tokens;

    #[test]
    fn token_values_are_redacted() {
        assert_eq!(redact_tokens("token=abc"), "token=[redacted]");
        assert_eq!(redact_tokens("x=1&token=abc&y=2"), "x=1&token=[redacted]&y=2");
        assert_eq!(redact_tokens("tokens=1"), "tokens=1");
    }
}
