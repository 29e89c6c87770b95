//! The sweeper, the outbox's safety net: it publishes jobs whose tasks the
//! relay (`outbox.rs`) could not get confirmed (the broker was down, the replica
//! died before publishing).

use std::sync::Arc;
use std::time::{Duration, Instant};

use scribe_core::broker::{self, BrokerError, Names, OCR_ROUTING_KEY};
use scribe_core::db::{self, queries};
use scribe_core::task::OcrTask;
use uuid::Uuid;

use crate::state::AppState;

/// Publishes one task per upload and waits for every confirm, then marks the job published.
pub async fn publish_job(
    state: &AppState,
    job_id: Uuid,
    uploads: &[Uuid],
    trace_id: &str,
) -> Result<(), BrokerError> {
    let started = Instant::now();
    let channel = channel(state).await?;
    broker::enable_confirms(&channel).await?;
    let exchange = Names::new(&state.settings.broker.prefix).tasks_exchange();
    for &upload_id in uploads {
        let payload = serde_json::to_vec(&OcrTask::new(job_id, upload_id)).unwrap_or_default();
        broker::publish_confirmed(
            &channel,
            &exchange,
            OCR_ROUTING_KEY,
            &payload,
            broker::trace_headers(trace_id),
        )
        .await?;
    }
    let _ = channel.close(200, "done".into()).await;
    state
        .metrics
        .publish_seconds
        .observe(started.elapsed().as_secs_f64());
    if let Err(e) = db::run(&state.db, move |c| queries::mark_published(c, job_id)).await {
        // The tasks are out; at worst the sweeper publishes them again and the workers drop the repeats.
        tracing::warn!(error = %e, job.id = %job_id, "job published but not marked");
    }
    Ok(())
}

/// Every few seconds, republishes jobs older than `republish_after_secs` that were never confirmed.
pub async fn sweep(state: Arc<AppState>) {
    let every = Duration::from_secs(state.settings.web.republish_after_secs.clamp(1, 10));
    loop {
        tokio::time::sleep(every).await;
        let cutoff = chrono::Utc::now()
            - chrono::Duration::seconds(state.settings.web.republish_after_secs as i64);
        let pending = match db::run(&state.db, move |c| queries::unpublished(c, cutoff)).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "sweeper could not read unpublished jobs");
                continue;
            }
        };
        for (job_id, uploads) in pending {
            match publish_job(&state, job_id, &uploads, &Uuid::new_v4().to_string()).await {
                Ok(()) => tracing::info!(job.id = %job_id, "republished job"),
                Err(e) => {
                    tracing::warn!(error = %e, job.id = %job_id, "republish failed; will retry")
                }
            }
        }
    }
}

/// Tells every web replica's live pages about a change made here (best effort).
pub async fn job_event(state: &AppState, event: &scribe_core::task::JobEvent) {
    let names = Names::new(&state.settings.broker.prefix);
    let sent = match channel(state).await {
        Ok(ch) => broker::publish_event(&ch, &names, event).await,
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, job.id = %event.job_id, "status event not published");
    }
}

/// A fresh channel on a pooled connection.
async fn channel(state: &AppState) -> Result<lapin::Channel, BrokerError> {
    let conn = state
        .amqp
        .get()
        .await
        .map_err(|e| BrokerError::Pool(e.to_string()))?;
    Ok(conn.create_channel().await?)
}

/// Declares the topology once at start-up.
pub async fn declare_topology(state: &AppState) -> Result<(), BrokerError> {
    let channel = channel(state).await?;
    broker::declare(&channel, &state.settings.broker).await?;
    let _ = channel.close(200, "declared".into()).await;
    Ok(())
}
