//! The sweeper, the outbox's safety net: it publishes jobs whose tasks the
//! relay (`outbox.rs`) could not get confirmed (the broker was down, the replica
//! died before publishing). With `storage.retention_days` it also deletes
//! expired jobs (`deletion.rs`).

use std::sync::Arc;
use std::time::Duration;

use scribe_core::broker::{self, BrokerError, Names};
use scribe_core::db::{self, queries};
use uuid::Uuid;

use crate::outbox::Outgoing;
use crate::state::AppState;

/// Every few seconds, republishes jobs older than `republish_after_secs` that
/// were never confirmed, and deletes expired ones.
pub async fn sweep(state: Arc<AppState>) {
    let every = Duration::from_secs(state.settings.web.republish_after_secs.clamp(1, 10));
    loop {
        tokio::time::sleep(every).await;
        crate::deletion::delete_expired(&state).await;
        let cutoff = chrono::Utc::now()
            - chrono::Duration::seconds(state.settings.web.republish_after_secs as i64);
        let pending = match db::run(&state.db, move |c| queries::unpublished(c, cutoff)).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "sweeper could not read unpublished jobs");
                continue;
            }
        };
        if !pending.is_empty() {
            tracing::info!(
                jobs = pending.len(),
                "republishing jobs the relay did not get confirmed"
            );
        }
        // Through the same relay and batches as fresh jobs.
        for (job_id, uploads) in pending {
            state.outbox.send(Outgoing {
                job_id,
                uploads,
                trace_id: Uuid::new_v4().to_string(),
            });
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
pub(crate) async fn channel(state: &AppState) -> Result<lapin::Channel, BrokerError> {
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
