//! Prometheus metrics: request counts and latency histograms by route, pool state and job
//! queue depth, rendered as text at `/metrics`. Each application has its own registry (tests
//! run many in one process); requests update atomic counters, never a global lock.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Histogram bucket bounds in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    jobs: IntGaugeVec,
    tx_retries: IntGaugeVec,
    audit_pending: IntGauge,
    statements: IntGauge,
    /// Longest commit-to-sequence wait of the audit sequencer's last pass (ms); the sequencer
    /// sets it.
    pub audit_lag_ms: IntGauge,
    /// Match impressions written to `match_events` (`written`), or dropped because the writer
    /// fell behind or the database refused them (`dropped`).
    pub match_impressions: IntCounterVec,
}

/// Gauges read at scrape time.
pub struct Gauges {
    pub pool_connections: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    pub jobs_pending: i64,
    pub jobs_failed: i64,
    /// Write transactions re-run after a deadlock or serialization failure since start, and
    /// those that still collided after their last retry (answered 503).
    pub tx_retries: u64,
    pub tx_retries_exhausted: u64,
    /// Audit entries committed but not yet sequenced.
    pub audit_pending: i64,
    /// SQL statements sent since start (transaction control included).
    pub statements: u64,
}

impl Metrics {
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by method, route pattern and status."),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Request latency by method and route pattern.")
                .buckets(BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let pool =
            IntGaugeVec::new(Opts::new("db_pool_connections", "Database pool connections by state."), &["state"])?;
        let jobs = IntGaugeVec::new(
            Opts::new(
                "jobs_queue_depth",
                "Background jobs waiting (pending) or parked after their last attempt (failed).",
            ),
            &["status"],
        )?;
        let tx_retries = IntGaugeVec::new(
            Opts::new(
                "db_transaction_retries",
                "Write transactions re-run after a deadlock or serialization failure since start (retried), \
                 and those that still collided after their last retry and answered 503 (exhausted).",
            ),
            &["outcome"],
        )?;
        let audit_pending = IntGauge::new(
            "audit_pending_entries",
            "Audit entries committed but not yet sequenced into the hash chain.",
        )?;
        let audit_lag_ms = IntGauge::new(
            "audit_sequencing_lag_milliseconds",
            "Longest commit-to-sequence wait of the audit sequencer's last pass.",
        )?;
        let match_impressions = IntCounterVec::new(
            Opts::new(
                "match_impressions_total",
                "Match impressions written to the event log (written) or lost because the writer fell behind (dropped).",
            ),
            &["outcome"],
        )?;
        registry.register(Box::new(match_impressions.clone()))?;
        let statements = IntGauge::new(
            "db_statements_total",
            "SQL statements this instance has sent to the database since start, BEGIN and COMMIT included.",
        )?;
        registry.register(Box::new(statements.clone()))?;
        registry.register(Box::new(tx_retries.clone()))?;
        registry.register(Box::new(audit_pending.clone()))?;
        registry.register(Box::new(audit_lag_ms.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(jobs.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool,
            jobs,
            tx_retries,
            audit_pending,
            statements,
            audit_lag_ms,
            match_impressions,
        })
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests.with_label_values(&[method, route, status.to_string().as_str()]).inc();
        self.latency.with_label_values(&[method, route]).observe(elapsed.as_secs_f64());
    }

    /// The text exposition format, with the gauges set to `gauges`.
    pub fn render(&self, gauges: &Gauges) -> prometheus::Result<String> {
        self.pool.with_label_values(&["open"]).set(gauges.pool_connections.into());
        self.pool.with_label_values(&["idle"]).set(gauges.pool_idle.into());
        self.pool.with_label_values(&["max"]).set(gauges.pool_max.into());
        self.jobs.with_label_values(&["pending"]).set(gauges.jobs_pending);
        self.jobs.with_label_values(&["failed"]).set(gauges.jobs_failed);
        self.tx_retries.with_label_values(&["retried"]).set(gauges.tx_retries.try_into().unwrap_or(i64::MAX));
        self.tx_retries
            .with_label_values(&["exhausted"])
            .set(gauges.tx_retries_exhausted.try_into().unwrap_or(i64::MAX));
        self.audit_pending.set(gauges.audit_pending);
        self.statements.set(gauges.statements.try_into().unwrap_or(i64::MAX));
        let mut out = Vec::with_capacity(4096);
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_counters_histograms_and_gauges() {
        let m = Metrics::new().unwrap();
        m.observe("GET", "/api/v1/achievements/{id}", 200, Duration::from_millis(3));
        m.observe("GET", "/api/v1/achievements/{id}", 404, Duration::from_millis(1));
        let text = m
            .render(&Gauges {
                pool_connections: 3,
                pool_idle: 2,
                pool_max: 10,
                jobs_pending: 4,
                jobs_failed: 0,
                tx_retries: 7,
                tx_retries_exhausted: 1,
                audit_pending: 5,
                statements: 42,
            })
            .unwrap();
        let route = "method=\"GET\",route=\"/api/v1/achievements/{id}\"";
        assert!(text.contains(&format!("http_requests_total{{{route},status=\"404\"}} 1")), "{text}");
        assert!(text.contains(&format!("http_request_duration_seconds_bucket{{{route},le=\"0.005\"}} 2")), "{text}");
        assert!(text.contains(&format!("http_request_duration_seconds_count{{{route}}} 2")), "{text}");
        assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
        assert!(text.contains("db_pool_connections{state=\"max\"} 10"), "{text}");
        assert!(text.contains("jobs_queue_depth{status=\"pending\"} 4"), "{text}");
        assert!(text.contains("db_transaction_retries{outcome=\"retried\"} 7"), "{text}");
        assert!(text.contains("audit_pending_entries 5"), "{text}");
    }
}
