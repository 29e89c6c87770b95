//! The worker's Prometheus metrics and its small server: `/metrics`, and the
//! probes `/readyz` and `/livez` (`/healthz` is the same as `/livez`).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use scribe_core::db::{self, DbPool};

use super::health::Health;

/// A readiness probe answers within Kubernetes' default probe timeout (1 s)
/// even when PostgreSQL does not answer at all.
const DB_CHECK_TIMEOUT: Duration = Duration::from_millis(800);

pub struct WorkerMetrics {
    registry: Registry,
    pub pages_done: IntCounter,
    pub ocr_seconds: Histogram,
    pub tasks: IntCounterVec,
    pub tasks_in_flight: IntGauge,
}

impl WorkerMetrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let pages_done =
            IntCounter::new("scribe_pages_done_total", "Pages recognised and committed")?;
        let ocr_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "scribe_ocr_seconds",
                "Render + preprocess + recognise time per page",
            )
            .buckets(vec![0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
        )?;
        let tasks = IntCounterVec::new(
            Opts::new("scribe_tasks_total", "Tasks handled, by outcome"),
            &["outcome"],
        )?;
        let tasks_in_flight =
            IntGauge::new("scribe_tasks_in_flight", "Tasks this worker holds now")?;
        registry.register(Box::new(pages_done.clone()))?;
        registry.register(Box::new(ocr_seconds.clone()))?;
        registry.register(Box::new(tasks.clone()))?;
        registry.register(Box::new(tasks_in_flight.clone()))?;
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(Self {
            registry,
            pages_done,
            ocr_seconds,
            tasks,
            tasks_in_flight,
        })
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Serves `/metrics`, `/readyz`, `/livez` and `/healthz` on an already bound listener.
pub fn serve(
    listener: TcpListener,
    metrics: Arc<WorkerMetrics>,
    health: Arc<Health>,
    db: DbPool,
) -> std::io::Result<actix_web::dev::Server> {
    let (metrics, health, db) = (
        web::Data::from(metrics),
        web::Data::from(health),
        web::Data::new(db),
    );
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(health.clone())
            .app_data(db.clone())
            .route(
                "/metrics",
                web::get().to(|m: web::Data<WorkerMetrics>| async move {
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4")
                        .body(m.render())
                }),
            )
            .route("/readyz", web::get().to(readyz))
            .route("/livez", web::get().to(livez))
            .route("/healthz", web::get().to(livez))
    })
    .workers(1)
    .listen(listener)?
    .disable_signals()
    .run())
}

/// Ready means able to take work: consuming from the broker, and the
/// database (where every page is committed) answering.
async fn readyz(health: web::Data<Health>, db: web::Data<DbPool>) -> HttpResponse {
    let not_ready = |reason: String| {
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "not ready", "reason": reason }))
    };
    if !health.ready() {
        return not_ready("not consuming: connecting to the broker, or stopping".to_owned());
    }
    match tokio::time::timeout(DB_CHECK_TIMEOUT, db::ping(&db)).await {
        Ok(Ok(())) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })),
        Ok(Err(e)) => not_ready(format!("the database does not answer: {e}")),
        Err(_) => not_ready(format!(
            "the database did not answer within {} ms",
            DB_CHECK_TIMEOUT.as_millis()
        )),
    }
}

async fn livez(health: web::Data<Health>) -> HttpResponse {
    match health.live() {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ok" })),
        Err(reason) => {
            tracing::error!(%reason, "liveness failing");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "stuck", "reason": reason }))
        }
    }
}
