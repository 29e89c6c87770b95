//! Status events on the topic exchange, published after the change is committed.
//! Best effort: the database is the source of truth and clients can always poll.

use lapin::Channel;
use scribe_core::broker::{Names, publish_event};
use scribe_core::task::JobEvent;

#[derive(Clone)]
pub struct Events {
    channel: Channel,
    names: Names,
}

impl Events {
    pub fn new(channel: Channel, names: &Names) -> Self {
        Self {
            channel,
            names: names.clone(),
        }
    }

    pub async fn publish(&self, event: &JobEvent) {
        if let Err(e) = publish_event(&self.channel, &self.names, event).await {
            tracing::warn!(error = %e, job.id = %event.job_id, "status event not published");
        }
    }
}
