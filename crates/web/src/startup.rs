//! Building the application: pools, topology, listener. Tests build the same
//! `Application` on port 0.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use scribe_core::settings::Settings;
use scribe_core::{db, languages, storage};

use crate::auth::key_table;
use crate::events::EventHub;
use crate::metrics::Metrics;
use crate::session::SessionKeys;
use crate::state::AppState;
use crate::{portal, publish, routes, security, session, telemetry};

pub struct Application {
    port: u16,
    server: Server,
    metrics_port: Option<u16>,
    metrics_server: Option<actix_web::dev::ServerHandle>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let tessdata = languages::tessdata_dir(settings.ocr.tessdata_dir.as_deref());
        let amqp = deadpool_lapin::Config {
            url: Some(settings.broker.url.clone()),
            ..deadpool_lapin::Config::default()
        }
        .create_pool(
            lapin::ConnectionProperties::default,
            deadpool_lapin::Runtime::Tokio1,
        )
        .context("broker pool")?;
        let (outbox, outgoing) = crate::outbox::Outbox::new();
        let store = storage::open(&settings.storage)?;
        let state = Arc::new(AppState {
            outbox,
            db: db::pool(&settings.database)?,
            originals: storage::Writer::open(&settings.storage, &store),
            store,
            amqp,
            api_keys: key_table(&settings.web.api_keys),
            languages: if settings.ocr.languages.is_empty() {
                languages::installed(tessdata.as_deref())
            } else {
                settings.ocr.languages.clone()
            },
            metrics: Arc::new(Metrics::new()?),
            events: EventHub::new(),
            sessions: SessionKeys::new(&settings.web.cookie_secret, settings.web.secure_cookies)?,
            settings: Arc::new(settings),
        });
        if state.languages.is_empty() {
            tracing::warn!(
                "no OCR languages found: every job will be refused (install tesseract-ocr-eng)"
            );
        }
        publish::declare_topology(&state)
            .await
            .context("declaring the RabbitMQ topology")?;
        tokio::spawn(publish::sweep(Arc::clone(&state)));
        tokio::spawn(crate::orphans::sweep(Arc::clone(&state)));
        tokio::spawn(crate::outbox::relay(Arc::clone(&state), outgoing));
        let notifier = crate::notify::Notifier::new(&state.settings)?;
        tokio::spawn(crate::notify::dispatch(
            Arc::clone(&state),
            Arc::new(notifier),
        ));
        tokio::spawn(state.events.clone().relay(state.settings.broker.clone()));

        let listener =
            TcpListener::bind((state.settings.web.host.as_str(), state.settings.web.port))
                .with_context(|| {
                    format!(
                        "binding {}:{}",
                        state.settings.web.host, state.settings.web.port
                    )
                })?;
        let port = listener.local_addr()?.port();
        let (metrics_port, metrics_server) = match state.settings.web.metrics_addr.as_str() {
            "" => (None, None),
            addr => {
                let listener = TcpListener::bind(addr)
                    .with_context(|| format!("binding web.metrics_addr {addr}"))?;
                let port = listener.local_addr()?.port();
                let server = crate::metrics::serve(listener, Arc::clone(&state.metrics))?;
                let handle = server.handle();
                tokio::spawn(server);
                (Some(port), Some(handle))
            }
        };
        let data = web::Data::from(state);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PathConfig::default().error_handler(|_, req| {
                    portal::errors::for_request(req, crate::error::ApiError::NotFound)
                }))
                .app_data(web::QueryConfig::default().error_handler(|e, req| {
                    portal::errors::for_request(
                        req,
                        crate::error::ApiError::bad(
                            "bad_query",
                            format!("the query string is invalid: {e}"),
                        ),
                    )
                }))
                .wrap(actix_web::middleware::from_fn(session::middleware))
                .wrap(security::headers())
                .wrap(actix_web::middleware::from_fn(telemetry::middleware))
                .configure(routes::configure)
                .configure(portal::configure)
                .default_service(web::to(portal::errors::not_found))
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        Ok(Self {
            port,
            server,
            metrics_port,
            metrics_server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` listens on, when `web.metrics_addr` enables it.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Serves until SIGTERM/SIGINT (actix drains in-flight requests first).
    pub async fn run(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(metrics) = self.metrics_server {
            metrics.stop(false).await;
        }
        served
    }
}
