//! The AMQP consumer: prefetch = OCR slots, manual acks after commit, retries
//! through delay queues, poison messages to the dead-letter queue, reconnects
//! with backoff, and a graceful stop on SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties};
use scribe_core::broker::{self, Names};
use scribe_core::db::{self, queries};
use scribe_core::languages;
use scribe_core::settings::Settings;
use scribe_core::storage;
use scribe_core::task::OcrTask;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::events::Events;
use super::failure::TaskError;
use super::health::{BEAT_EVERY, Health};
use super::metrics::WorkerMetrics;
use super::upload_task::{self, Context};
use crate::ocr::OcrPool;

const RETRIES_HEADER: &str = "x-scribe-retries";
/// Connecting, declaring and starting the consumer; a broker that accepts the
/// connection and then says nothing must not hang the loop (see `Health`).
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
use scribe_core::broker::TRACE_HEADER;

pub struct Worker {
    settings: Arc<Settings>,
    db: db::DbPool,
    store: storage::Store,
    pool: Arc<OcrPool>,
    metrics: Arc<WorkerMetrics>,
    health: Arc<Health>,
    metrics_listener: Option<std::net::TcpListener>,
}

impl Worker {
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let tessdata =
            languages::tessdata_dir(settings.ocr.tessdata_dir.as_deref()).ok_or_else(|| {
                anyhow::anyhow!("no Tesseract language data found (install tesseract-ocr-eng)")
            })?;
        let db = db::pool(&settings.database)?;
        let store = storage::open(&settings.storage)?;
        let pool = Arc::new(OcrPool::start(settings.worker_slots(), tessdata));
        let metrics_listener = match settings.worker.metrics_addr.as_str() {
            "" => None,
            addr => Some(
                std::net::TcpListener::bind(addr)
                    .map_err(|e| anyhow::anyhow!("worker.metrics_addr {addr}: {e}"))?,
            ),
        };
        Ok(Self {
            db,
            store,
            pool,
            metrics: Arc::new(WorkerMetrics::new()?),
            health: Arc::new(Health::new(Duration::from_secs(
                settings.worker.stall_timeout_secs,
            ))),
            metrics_listener,
            settings: Arc::new(settings),
        })
    }

    /// The port `/metrics` and the probes listen on, when enabled.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
    }

    /// Consumes until `shutdown` turns true, reconnecting after broker failures.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        if let Some(listener) = self.metrics_listener.take() {
            tokio::spawn(super::metrics::serve(
                listener,
                Arc::clone(&self.metrics),
                Arc::clone(&self.health),
                self.db.clone(),
            )?);
        }
        let mut backoff = Duration::from_millis(500);
        loop {
            self.health.beat();
            let consumed = self.consume(&mut shutdown).await;
            self.health.set_consuming(false);
            match consumed {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, "broker connection lost; reconnecting in {backoff:?}");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = shutdown.changed() => return Ok(()),
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    async fn consume(&self, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        let names = Names::new(&self.settings.broker.prefix);
        // Named so operators (and tests) can tell worker connections apart.
        let name = format!("scribe-worker {} pid {}", names.prefix, std::process::id());
        let props = ConnectionProperties::default().with_connection_name(name.as_str().into());
        let slots = self.settings.worker_slots();
        let tag = format!("scribe-worker-{}", uuid::Uuid::new_v4());
        let setup = async {
            let conn = Connection::connect(&self.settings.broker.url, props).await?;
            let channel = conn.create_channel().await?;
            broker::declare(&channel, &self.settings.broker).await?;
            channel
                .basic_qos(
                    slots.min(u16::MAX as usize) as u16,
                    BasicQosOptions::default(),
                )
                .await?;
            let retry_channel = conn.create_channel().await?;
            broker::enable_confirms(&retry_channel).await?;
            let events = Events::new(conn.create_channel().await?, &names);
            let consumer = channel
                .basic_consume(
                    names.ocr_queue().as_str().into(),
                    tag.as_str().into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            anyhow::Ok((conn, channel, retry_channel, events, consumer))
        };
        let (conn, channel, retry_channel, events, mut consumer) =
            tokio::time::timeout(SETUP_TIMEOUT, setup)
                .await
                .map_err(|_| {
                    anyhow::anyhow!(
                        "the broker did not answer within {}s",
                        SETUP_TIMEOUT.as_secs()
                    )
                })??;
        self.health.set_consuming(true);
        let ctx = Context {
            settings: Arc::clone(&self.settings),
            db: self.db.clone(),
            store: Arc::clone(&self.store),
            pool: Arc::clone(&self.pool),
            events,
            tasks: retry_channel.clone(),
            names: names.clone(),
            metrics: Arc::clone(&self.metrics),
            health: Arc::clone(&self.health),
            stopping: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        // Reads the executable once, off the executor, before any file is finished.
        let pipeline = tokio::task::spawn_blocking(crate::ocr::pipeline::identity).await?;
        tracing::info!(queue = %names.ocr_queue(), slots, pipeline, "consuming");

        let mut in_flight = JoinSet::new();
        let mut beat = tokio::time::interval(BEAT_EVERY);
        let result = loop {
            self.health.beat();
            self.health.set_in_hand(in_flight.len());
            self.metrics.tasks_in_flight.set(in_flight.len() as i64);
            tokio::select! {
                delivery = consumer.next() => match delivery {
                    Some(Ok(delivery)) => {
                        let (ctx, names, retry) = (ctx.clone(), names.clone(), retry_channel.clone());
                        in_flight.spawn(async move { handle_delivery(&ctx, &names, &retry, delivery).await });
                    }
                    Some(Err(e)) => break Err(e.into()),
                    None => break Err(anyhow::anyhow!("consumer cancelled by the broker")),
                },
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                _ = beat.tick() => {}
                _ = shutdown.changed() => {
                    self.health.set_stopping();
                    tracing::info!(in_flight = in_flight.len(), "stopping: no new tasks; committing the pages being read");
                    ctx.stopping.store(true, std::sync::atomic::Ordering::Relaxed);
                    let _ = channel.basic_cancel(tag.as_str().into(), BasicCancelOptions::default()).await;
                    break Ok(());
                }
            }
        };
        self.health.set_consuming(false);
        // Each task commits the pages being read and requeues the rest; past
        // the bound, unacked tasks are redelivered when the connection closes.
        let bound = Duration::from_secs(self.settings.worker.drain_timeout_secs);
        let drained = tokio::time::timeout(bound, async {
            while in_flight.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                secs = bound.as_secs(),
                "drain bound reached; unfinished tasks will be redelivered"
            );
            in_flight.abort_all();
        }
        self.health.set_in_hand(0);
        self.metrics.tasks_in_flight.set(0);
        let _ = conn.close(200, "worker stopping".into()).await;
        result
    }
}

async fn handle_delivery(ctx: &Context, names: &Names, retry: &lapin::Channel, delivery: Delivery) {
    let task: OcrTask = match serde_json::from_slice(&delivery.data) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, "unparseable task sent to the dead-letter queue");
            let _ = delivery.reject(BasicRejectOptions { requeue: false }).await;
            return;
        }
    };
    let retries = retries_of(&delivery);
    let trace_id = header_text(&delivery, TRACE_HEADER).unwrap_or_default();
    // The broker redelivers a task only when the worker holding it went away
    // without an answer (every other outcome is acked or sent on as a new
    // message), and dead-letters it past `delivery_limit` redeliveries. A task
    // that took its worker down every time would do it again: on the last
    // delivery the file is failed instead of tried, so the job ends rather than
    // sit in the dead-letter queue with its file forever "processing".
    let deliveries = header_count(&delivery, "x-delivery-count") + 1;
    let limit = ctx.settings.broker.delivery_limit.max(1) as usize;
    if deliveries > limit && progressed(ctx, &task).await {
        // Its workers went away (a broker restart, drain timeouts, a node
        // lost) but committed pages each time: start its count again.
        tracing::warn!(
            deliveries,
            "the task lost its worker again but made progress; requeued afresh"
        );
        ctx.metrics.tasks.with_label_values(&["requeued"]).inc();
        requeue_fresh(retry, names, &delivery, delivery.data.clone()).await;
        return;
    }
    if deliveries > limit {
        tracing::error!(
            deliveries,
            "the task stopped its worker on every delivery; failing the file"
        );
        let reason = format!("the worker processing it stopped {} times", deliveries - 1);
        fail_file(ctx, &task, &reason, &delivery).await;
        ctx.metrics.tasks.with_label_values(&["poison"]).inc();
        return;
    }
    let span = tracing::info_span!("task", trace.id = %trace_id, job.id = %task.job_id, upload.id = %task.upload_id);
    let outcome =
        tracing::Instrument::instrument(upload_task::handle(ctx, &task, &trace_id), span).await;
    let label = match &outcome {
        Ok(handled) => handled.label(),
        Err(TaskError::Transient(_)) => "transient",
        // `handle` records these as answers; counted the same should one come back.
        Err(TaskError::Permanent { .. }) => upload_task::Handled::Failed.label(),
        Err(TaskError::Cancelled) => upload_task::Handled::Cancelled.label(),
        Err(TaskError::Stopped(_)) => "stopped",
    };
    ctx.metrics.tasks.with_label_values(&[label]).inc();
    match outcome {
        Ok(_) => {
            let _ = delivery.ack(BasicAckOptions::default()).await;
        }
        Err(TaskError::Transient(reason)) => {
            let delays = &ctx.settings.broker.retry_delays_secs;
            if retries < delays.len() {
                tracing::warn!(error = %reason, retry = retries + 1, "transient failure; retrying later");
                let mut headers = broker::trace_headers(&trace_id);
                headers.insert(
                    RETRIES_HEADER.into(),
                    AMQPValue::LongInt(retries as i32 + 1),
                );
                let delay_ms = jittered(delays[retries] * 1000);
                let parked = broker::publish_delayed(
                    retry,
                    &names.retry_queue(retries),
                    &delivery.data,
                    headers,
                    delay_ms,
                )
                .await;
                settle_forwarded(&delivery, parked).await;
            } else {
                tracing::error!(error = %reason, "transient failure persisted; giving up");
                fail_file(ctx, &task, &reason, &delivery).await;
            }
        }
        Err(TaskError::Stopped(range)) => {
            let payload = match range {
                Some([first, last]) => {
                    serde_json::to_vec(&OcrTask::range(task.job_id, task.upload_id, first, last))
                        .unwrap_or_else(|_| delivery.data.clone())
                }
                None => delivery.data.clone(),
            };
            requeue_fresh(retry, names, &delivery, payload).await;
        }
        Err(e) => {
            // Permanent and cancelled outcomes are recorded by `handle`.
            tracing::debug!(error = %e, "task finished");
            let _ = delivery.ack(BasicAckOptions::default()).await;
        }
    }
}

/// Whether the task's upload gained pages since its last claim (see
/// `queries::progressed_since_claim`); unknown counts as no.
async fn progressed(ctx: &Context, task: &OcrTask) -> bool {
    let upload = task.upload_id;
    db::run(&ctx.db, move |c| queries::progressed_since_claim(c, upload))
        .await
        .unwrap_or(false)
}

/// Back to the queue as a fresh message (a requeue would count as a failed
/// delivery); the pages committed so far are skipped next time.
async fn requeue_fresh(
    retry: &lapin::Channel,
    names: &Names,
    delivery: &Delivery,
    payload: Vec<u8>,
) {
    // The broker's own counts stay behind: this message starts afresh.
    let mut headers = FieldTable::default();
    if let Some(old) = delivery.properties.headers() {
        for (k, v) in old.inner() {
            if !k.as_str().starts_with("x-delivery-count") && k.as_str() != "x-death" {
                headers.insert(k.clone(), v.clone());
            }
        }
    }
    let requeued = broker::publish_confirmed(
        retry,
        &names.tasks_exchange(),
        broker::OCR_ROUTING_KEY,
        &payload,
        headers,
    )
    .await;
    settle_forwarded(delivery, requeued).await;
}

/// Acks a delivery whose message went on as a new one (a delay queue, the task
/// queue); if it could not, hands it back to the broker to redeliver.
async fn settle_forwarded(delivery: &Delivery, forwarded: Result<(), broker::BrokerError>) {
    let _ = match forwarded {
        Ok(()) => delivery.ack(BasicAckOptions::default()).await,
        Err(_) => {
            delivery
                .nack(lapin::options::BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                })
                .await
        }
    };
}

/// Records the file as failed and acks; if even that cannot be recorded, the
/// task goes to the dead-letter queue rather than round again.
async fn fail_file(ctx: &Context, task: &OcrTask, reason: &str, delivery: &Delivery) {
    let _ = match upload_task::give_up(ctx, task, reason).await {
        Ok(()) => delivery.ack(BasicAckOptions::default()).await,
        Err(_) => delivery.reject(BasicRejectOptions { requeue: false }).await,
    };
}

/// 75–100% of `ms`: full backoff, minus up to a quarter, so retries spread out.
fn jittered(ms: u64) -> u64 {
    use rand::Rng;
    rand::thread_rng().gen_range(ms * 3 / 4..=ms)
}

fn header_text(delivery: &Delivery, name: &str) -> Option<String> {
    match delivery.properties.headers().as_ref()?.inner().get(name)? {
        AMQPValue::LongString(s) => Some(s.to_string()),
        AMQPValue::ShortString(s) => Some(s.to_string()),
        _ => None,
    }
}

fn retries_of(delivery: &Delivery) -> usize {
    header_count(delivery, RETRIES_HEADER)
}

/// A whole-number header, 0 when absent.
fn header_count(delivery: &Delivery, name: &str) -> usize {
    delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(name).cloned())
        .and_then(|v| match v {
            AMQPValue::LongInt(n) => Some(n.max(0) as usize),
            AMQPValue::LongLongInt(n) => Some(n.max(0) as usize),
            AMQPValue::ShortInt(n) => Some(n.max(0) as usize),
            AMQPValue::LongUInt(n) => Some(n as usize),
            _ => None,
        })
        .unwrap_or(0)
}
