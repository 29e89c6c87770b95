//! Scribe's shared core: what a document is, how it becomes pages, how a page is
//! cleaned up for OCR, and what the results look like.
//!
//! Shared by both binaries: the job model, the task messages and RabbitMQ
//! topology (so web and worker cannot disagree on them), settings, the database
//! layer and storage. It must not depend on actix or Tesseract. Everything that
//! touches pixels (documents, rendering, preprocessing) is behind the
//! `preprocess` feature, which the worker enables and the web does not.

pub mod broker;
pub mod db;
pub mod density;
#[cfg(feature = "preprocess")]
pub mod document;
pub mod error_rate;
pub mod formats;
pub mod geometry;
pub mod hocr;
pub mod job;
pub mod languages;
#[cfg(feature = "preprocess")]
pub mod pdf;
pub mod preprocess;
#[cfg(feature = "preprocess")]
pub mod raster;
pub mod results;
pub mod schema;
pub mod settings;
pub mod sniff;
pub mod storage;
#[cfg(feature = "preprocess")]
pub mod subprocess;
pub mod task;
pub mod telemetry;
pub mod tsv;
pub mod xml;

#[cfg(feature = "preprocess")]
pub use document::{Document, DocumentError, Page};
pub use settings::Settings;
pub use sniff::DocumentKind;
