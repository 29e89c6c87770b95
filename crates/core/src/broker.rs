//! RabbitMQ topology, declared idempotently by both binaries at start:
//!
//! - `{p}.tasks` (direct) → `{p}.ocr`: a durable quorum queue with a delivery
//!   limit; rejected or over-delivered messages dead-letter to `{p}.dlx` → `{p}.dead`.
//! - `{p}.retry.{n}`: delay queues with a fixed TTL that dead-letter back to
//!   `{p}.tasks`, one per backoff step.
//! - `{p}.events` (topic): status changes, routing key `job.{id}`.

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, ExchangeKind};

use crate::settings::BrokerSettings;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("message broker unavailable: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("the broker did not confirm the message")]
    NotConfirmed,
    #[error("message broker pool: {0}")]
    Pool(String),
    #[error("message could not be encoded: {0}")]
    Encode(String),
}

/// Queue and exchange names under one prefix.
#[derive(Debug, Clone)]
pub struct Names {
    pub prefix: String,
}

impl Names {
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }
    pub fn tasks_exchange(&self) -> String {
        format!("{}.tasks", self.prefix)
    }
    pub fn ocr_queue(&self) -> String {
        format!("{}.ocr", self.prefix)
    }
    pub fn dead_exchange(&self) -> String {
        format!("{}.dlx", self.prefix)
    }
    pub fn dead_queue(&self) -> String {
        format!("{}.dead", self.prefix)
    }
    pub fn retry_queue(&self, step: usize) -> String {
        format!("{}.retry.{step}", self.prefix)
    }
    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.prefix)
    }
}

pub const OCR_ROUTING_KEY: &str = "ocr";
/// The request's trace id travels from the web to the worker in this header.
pub const TRACE_HEADER: &str = "x-trace-id";

/// Headers carrying a trace id.
pub fn trace_headers(trace_id: &str) -> FieldTable {
    let mut h = FieldTable::default();
    h.insert(s(TRACE_HEADER), long(trace_id));
    h
}

fn s(v: &str) -> ShortString {
    v.into()
}

fn long(v: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(v))
}

/// Declares everything; safe to call from every replica at every start.
pub async fn declare(channel: &Channel, settings: &BrokerSettings) -> Result<(), BrokerError> {
    let names = Names::new(&settings.prefix);
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    for (name, kind) in [
        (names.tasks_exchange(), ExchangeKind::Direct),
        (names.dead_exchange(), ExchangeKind::Fanout),
        (names.events_exchange(), ExchangeKind::Topic),
    ] {
        channel
            .exchange_declare(s(&name), kind, durable, FieldTable::default())
            .await?;
    }

    let mut ocr_args = FieldTable::default();
    ocr_args.insert(s("x-queue-type"), long("quorum"));
    ocr_args.insert(
        s("x-delivery-limit"),
        AMQPValue::LongInt(settings.delivery_limit as i32),
    );
    ocr_args.insert(s("x-dead-letter-exchange"), long(&names.dead_exchange()));
    durable_queue(channel, &names.ocr_queue(), ocr_args).await?;
    bind(
        channel,
        &names.ocr_queue(),
        &names.tasks_exchange(),
        OCR_ROUTING_KEY,
    )
    .await?;

    let mut dead_args = FieldTable::default();
    dead_args.insert(s("x-queue-type"), long("quorum"));
    durable_queue(channel, &names.dead_queue(), dead_args).await?;
    bind(channel, &names.dead_queue(), &names.dead_exchange(), "").await?;

    for (step, delay) in settings.retry_delays_secs.iter().enumerate() {
        let mut args = FieldTable::default();
        args.insert(
            s("x-message-ttl"),
            AMQPValue::LongInt((*delay * 1000).min(i32::MAX as u64) as i32),
        );
        args.insert(s("x-dead-letter-exchange"), long(&names.tasks_exchange()));
        args.insert(s("x-dead-letter-routing-key"), long(OCR_ROUTING_KEY));
        durable_queue(channel, &names.retry_queue(step), args).await?;
    }
    Ok(())
}

async fn durable_queue(channel: &Channel, name: &str, args: FieldTable) -> Result<(), BrokerError> {
    channel
        .queue_declare(s(name), QueueDeclareOptions::durable(), args)
        .await?;
    Ok(())
}

async fn bind(
    channel: &Channel,
    queue: &str,
    exchange: &str,
    routing_key: &str,
) -> Result<(), BrokerError> {
    channel
        .queue_bind(
            s(queue),
            s(exchange),
            s(routing_key),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

/// Persistent JSON with headers.
pub fn properties(headers: FieldTable) -> BasicProperties {
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type(s("application/json"))
        .with_headers(headers)
}

/// Puts a channel in confirm mode (once per channel).
pub async fn enable_confirms(channel: &Channel) -> Result<(), BrokerError> {
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok(())
}

/// Publishes and waits for the broker's confirm; the channel must be in confirm mode.
pub async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    payload: &[u8],
    headers: FieldTable,
) -> Result<(), BrokerError> {
    publish_with(channel, exchange, routing_key, payload, properties(headers)).await
}

/// Publishes every message, then waits for all the confirms: one round trip
/// to the broker for the batch instead of one per message.
pub async fn publish_batch_confirmed(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    messages: Vec<(Vec<u8>, FieldTable)>,
) -> Result<(), BrokerError> {
    let mut confirms = Vec::with_capacity(messages.len());
    for (payload, headers) in messages {
        confirms.push(
            channel
                .basic_publish(
                    s(exchange),
                    s(routing_key),
                    BasicPublishOptions::default(),
                    &payload,
                    properties(headers),
                )
                .await?,
        );
    }
    for confirm in confirms {
        if !confirm.await?.is_ack() {
            return Err(BrokerError::NotConfirmed);
        }
    }
    Ok(())
}

/// Publishes a status event on the events exchange under `job.{id}`, without
/// waiting for a confirm: events are best effort (the database is the truth).
pub async fn publish_event(
    channel: &Channel,
    names: &Names,
    event: &crate::task::JobEvent,
) -> Result<(), BrokerError> {
    let payload = serde_json::to_vec(event).map_err(|e| BrokerError::Encode(e.to_string()))?;
    channel
        .basic_publish(
            names.events_exchange().as_str().into(),
            format!("job.{}", event.job_id).as_str().into(),
            BasicPublishOptions::default(),
            &payload,
            properties(FieldTable::default()),
        )
        .await?;
    Ok(())
}

/// Parks a message in a delay queue for `delay_ms` (at most the queue's own TTL):
/// per-message expiry adds the jitter that keeps retries from arriving in lockstep.
pub async fn publish_delayed(
    channel: &Channel,
    queue: &str,
    payload: &[u8],
    headers: FieldTable,
    delay_ms: u64,
) -> Result<(), BrokerError> {
    let props = properties(headers).with_expiration(s(&delay_ms.to_string()));
    publish_with(channel, "", queue, payload, props).await
}

async fn publish_with(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    payload: &[u8],
    props: BasicProperties,
) -> Result<(), BrokerError> {
    let confirm = channel
        .basic_publish(
            s(exchange),
            s(routing_key),
            BasicPublishOptions::default(),
            payload,
            props,
        )
        .await?
        .await?;
    if confirm.is_ack() {
        Ok(())
    } else {
        Err(BrokerError::NotConfirmed)
    }
}
