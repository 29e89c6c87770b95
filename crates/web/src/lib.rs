//! Scribe's web tier: the JSON API and the HTML portal. It stores uploads,
//! records jobs and publishes tasks; it never runs OCR and never links Tesseract.

pub mod api_docs;
pub mod auth;
pub mod deletion;
pub mod duplicates;
pub mod error;
pub mod events;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod orphans;
pub mod outbox;
pub mod portal;
pub mod publish;
pub mod routes;
pub mod security;
pub mod session;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod upload;
pub mod views;

pub use startup::Application;
