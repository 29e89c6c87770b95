//! Live job events. Every web replica binds its own exclusive queue to the
//! events exchange and fans what arrives out to its SSE clients, so a browser
//! connected to any replica sees every worker's progress.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};
use scribe_core::broker::Names;
use scribe_core::settings::BrokerSettings;
use scribe_core::task::JobEvent;
use tokio::sync::broadcast;

/// Subscribers get every event; each filters for its own job.
#[derive(Clone)]
pub struct EventHub {
    tx: broadcast::Sender<JobEvent>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    pub fn new() -> Self {
        // A slow client that falls this far behind resynchronises from a fresh snapshot.
        let (tx, _) = broadcast::channel(1024);
        Self { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.tx.subscribe()
    }

    /// Relays the events exchange forever, reconnecting with backoff.
    pub async fn relay(self, settings: BrokerSettings) {
        let mut backoff = Duration::from_millis(500);
        loop {
            if let Err(e) = self.relay_once(&settings).await {
                tracing::warn!(error = %e, "event relay lost its broker connection; retrying in {backoff:?}");
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }

    async fn relay_once(&self, settings: &BrokerSettings) -> Result<(), lapin::Error> {
        let names = Names::new(&settings.prefix);
        let props = ConnectionProperties::default().with_connection_name(
            format!("scribe-web-events {}", names.prefix)
                .as_str()
                .into(),
        );
        let conn = Connection::connect(&settings.url, props).await?;
        let channel = conn.create_channel().await?;
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_bind(
                queue.name().clone(),
                names.events_exchange().as_str().into(),
                "job.*".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let mut consumer = channel
            .basic_consume(
                queue.name().clone(),
                "".into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..BasicConsumeOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        while let Some(delivery) = consumer.next().await {
            let delivery = delivery?;
            if let Ok(event) = serde_json::from_slice::<JobEvent>(&delivery.data) {
                // No subscribers is fine: nobody is watching right now.
                let _ = self.tx.send(event);
            }
        }
        Ok(())
    }
}
