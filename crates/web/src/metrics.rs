//! Prometheus metrics served on `/metrics`.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub jobs_accepted: IntCounter,
    /// Through the API, the portal and the retention sweep.
    pub jobs_deleted: IntCounter,
    pub uploads_refused: IntCounterVec,
    pub publish_seconds: Histogram,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let jobs_accepted = IntCounter::new("scribe_jobs_accepted_total", "Jobs accepted")?;
        let jobs_deleted = IntCounter::new("scribe_jobs_deleted_total", "Jobs deleted")?;
        let uploads_refused = IntCounterVec::new(
            Opts::new("scribe_uploads_refused_total", "Refused uploads by reason"),
            &["reason"],
        )?;
        let publish_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "scribe_publish_seconds",
                "Time to publish a job's tasks with confirms",
            )
            .buckets(vec![0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0]),
        )?;
        registry.register(Box::new(jobs_accepted.clone()))?;
        registry.register(Box::new(jobs_deleted.clone()))?;
        registry.register(Box::new(uploads_refused.clone()))?;
        registry.register(Box::new(publish_seconds.clone()))?;
        Ok(Self {
            registry,
            jobs_accepted,
            jobs_deleted,
            uploads_refused,
            publish_seconds,
        })
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}
