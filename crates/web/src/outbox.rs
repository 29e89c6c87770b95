//! The transactional outbox's relay. A request commits its job with the tasks
//! unpublished and answers at once; this task, one per replica, publishes the
//! tasks over one long-lived confirm channel in batches and marks each batch
//! published in one statement. Whatever it cannot publish (broker down, the
//! replica dying) stays unpublished in the database for `publish::sweep`.

use std::sync::Arc;
use std::time::Instant;

use lapin::Channel;
use scribe_core::broker::{self, BrokerError, Names, OCR_ROUTING_KEY};
use scribe_core::db::{self, queries};
use scribe_core::task::OcrTask;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use uuid::Uuid;

use crate::state::AppState;

/// A committed job whose tasks are to be published.
pub struct Outgoing {
    pub job_id: Uuid,
    pub uploads: Vec<Uuid>,
    pub trace_id: String,
}

/// Most jobs in one batch: bounds the time one batch holds its confirms.
const BATCH: usize = 256;

/// The request side of the relay.
#[derive(Clone)]
pub struct Outbox(UnboundedSender<Outgoing>);

impl Outbox {
    pub fn new() -> (Self, UnboundedReceiver<Outgoing>) {
        let (tx, rx) = unbounded_channel();
        (Self(tx), rx)
    }

    /// Hands a committed job to the relay. If the relay is gone the job is
    /// still durable and unpublished, and the sweeper publishes it.
    pub fn send(&self, job: Outgoing) {
        let _ = self.0.send(job);
    }
}

/// Publishes what requests hand over until every sender is gone.
pub async fn relay(state: Arc<AppState>, mut jobs: UnboundedReceiver<Outgoing>) {
    let exchange = Names::new(&state.settings.broker.prefix).tasks_exchange();
    let mut channel: Option<Channel> = None;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if channel.as_ref().is_none_or(|c| !c.status().connected()) {
            channel = match open(&state).await {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, jobs = batch.len(), "broker unavailable; the sweeper will publish these jobs");
                    batch.clear();
                    continue;
                }
            };
        }
        let Some(ch) = &channel else {
            continue;
        };
        let started = Instant::now();
        let messages = batch
            .iter()
            .flat_map(|job| {
                job.uploads.iter().map(|&upload| {
                    (
                        serde_json::to_vec(&OcrTask::new(job.job_id, upload)).unwrap_or_default(),
                        broker::trace_headers(&job.trace_id),
                    )
                })
            })
            .collect();
        match broker::publish_batch_confirmed(ch, &exchange, OCR_ROUTING_KEY, messages).await {
            Ok(()) => {
                state
                    .metrics
                    .publish_seconds
                    .observe(started.elapsed().as_secs_f64());
                let ids: Vec<Uuid> = batch.iter().map(|j| j.job_id).collect();
                if let Err(e) =
                    db::run(&state.db, move |c| queries::mark_all_published(c, &ids)).await
                {
                    // The tasks are out; at worst the sweeper publishes them again
                    // and the workers drop the repeats.
                    tracing::warn!(error = %e, "jobs published but not marked");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = batch.len(), "publish not confirmed; the sweeper will retry");
                channel = None;
            }
        }
        batch.clear();
    }
}

async fn open(state: &AppState) -> Result<Channel, BrokerError> {
    let channel = crate::publish::channel(state).await?;
    broker::enable_confirms(&channel).await?;
    Ok(channel)
}
