//! Status events on the topic exchange, published after the change is committed.
//! Best effort: the database is the source of truth and clients can always poll.

use lapin::Channel;
use lapin::options::BasicPublishOptions;
use lapin::types::FieldTable;
use scribe_core::broker::{Names, properties};
use scribe_core::task::JobEvent;

#[derive(Clone)]
pub struct Events {
    channel: Channel,
    exchange: String,
}

impl Events {
    pub fn new(channel: Channel, names: &Names) -> Self {
        Self {
            channel,
            exchange: names.events_exchange(),
        }
    }

    pub async fn publish(&self, event: &JobEvent) {
        let Ok(payload) = serde_json::to_vec(event) else {
            return;
        };
        let key = format!("job.{}", event.job_id);
        let sent = self
            .channel
            .basic_publish(
                self.exchange.as_str().into(),
                key.as_str().into(),
                BasicPublishOptions::default(),
                &payload,
                properties(FieldTable::default()),
            )
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, job.id = %event.job_id, "status event not published");
        }
    }
}
