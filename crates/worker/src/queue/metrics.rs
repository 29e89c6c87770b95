//! The worker's Prometheus metrics and its small `/metrics` + `/healthz` server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

pub struct WorkerMetrics {
    registry: Registry,
    pub pages_done: IntCounter,
    pub ocr_seconds: Histogram,
    pub tasks: IntCounterVec,
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
        registry.register(Box::new(pages_done.clone()))?;
        registry.register(Box::new(ocr_seconds.clone()))?;
        registry.register(Box::new(tasks.clone()))?;
        Ok(Self {
            registry,
            pages_done,
            ocr_seconds,
            tasks,
        })
    }

    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Serves `/metrics` and `/healthz` on an already bound listener.
pub fn serve(
    listener: TcpListener,
    metrics: Arc<WorkerMetrics>,
) -> std::io::Result<actix_web::dev::Server> {
    let data = web::Data::from(metrics);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(
                "/metrics",
                web::get().to(|m: web::Data<WorkerMetrics>| async move {
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4")
                        .body(m.render())
                }),
            )
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
    })
    .workers(1)
    .listen(listener)?
    .disable_signals()
    .run())
}
