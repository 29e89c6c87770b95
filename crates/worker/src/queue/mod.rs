//! The queue side of the worker: consume OCR tasks, process each upload on the
//! OCR pool, commit per-page results, ack only after commit.

pub mod consumer;
pub mod events;
mod fail_points;
pub mod failure;
pub mod health;
pub mod metrics;
pub mod objects;
pub mod storage_sink;
pub mod upload_task;

pub use consumer::Worker;
