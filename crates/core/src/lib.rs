//! Scribe's shared core: what a document is, how it becomes pages, how a page is
//! cleaned up for OCR, and what the results look like.
//!
//! It must not depend on actix, AMQP or Tesseract: the web tier links it without
//! any OCR library, and the worker adds the engine on top.

pub mod broker;
pub mod db;
pub mod document;
pub mod error_rate;
pub mod formats;
pub mod hocr;
pub mod job;
pub mod languages;
pub mod pdf;
pub mod preprocess;
pub mod raster;
pub mod results;
pub mod schema;
pub mod settings;
pub mod sniff;
pub mod storage;
pub mod subprocess;
pub mod task;
pub mod telemetry;
pub mod tsv;

pub use document::{Document, DocumentError, Page};
pub use settings::Settings;
pub use sniff::DocumentKind;
