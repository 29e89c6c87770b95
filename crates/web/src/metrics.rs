//! Prometheus metrics, served on their own listener (`web.metrics_addr`), never
//! on the public port.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub jobs_accepted: IntCounter,
    pub jobs_reused: IntCounter,
    /// Through the API, the portal and the retention sweep.
    pub jobs_deleted: IntCounter,
    pub uploads_refused: IntCounterVec,
    pub publish_seconds: Histogram,
    http_requests: IntCounterVec,
    http_seconds: HistogramVec,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let jobs_accepted = IntCounter::new("scribe_jobs_accepted_total", "Jobs accepted")?;
        let jobs_reused = IntCounter::new(
            "scribe_jobs_reused_total",
            "Jobs answered from an earlier identical job's results, without OCR",
        )?;
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
        // By route pattern (`/api/v1/jobs/{id}`), never the raw path, so the
        // series stay bounded whatever clients send.
        let labels = ["method", "route", "status"];
        let http_requests = IntCounterVec::new(
            Opts::new(
                "scribe_http_requests_total",
                "HTTP requests by method, route pattern and status",
            ),
            &labels,
        )?;
        let http_seconds = HistogramVec::new(
            HistogramOpts::new(
                "scribe_http_request_duration_seconds",
                "Time from request to response head, by method, route pattern and status",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &labels,
        )?;
        registry.register(Box::new(jobs_accepted.clone()))?;
        registry.register(Box::new(jobs_reused.clone()))?;
        registry.register(Box::new(jobs_deleted.clone()))?;
        registry.register(Box::new(uploads_refused.clone()))?;
        registry.register(Box::new(publish_seconds.clone()))?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_seconds.clone()))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(Self {
            registry,
            jobs_accepted,
            jobs_reused,
            jobs_deleted,
            uploads_refused,
            publish_seconds,
            http_requests,
            http_seconds,
        })
    }

    pub fn observe_request(&self, method: &str, route: &str, status: &str, seconds: f64) {
        let labels = [method, route, status];
        self.http_requests.with_label_values(&labels).inc();
        self.http_seconds
            .with_label_values(&labels)
            .observe(seconds);
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Serves `/metrics` on an already bound listener.
pub fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
) -> std::io::Result<actix_web::dev::Server> {
    let data = web::Data::from(metrics);
    Ok(HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/metrics",
            web::get().to(|m: web::Data<Metrics>| async move {
                HttpResponse::Ok()
                    .content_type("text/plain; version=0.0.4")
                    .body(m.render())
            }),
        )
    })
    .workers(1)
    .listen(listener)?
    .disable_signals()
    .run())
}
