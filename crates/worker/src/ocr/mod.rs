//! OCR in the worker: warm engines on a pool of threads, fed one page at a time.

pub mod engine;
pub mod page;
pub mod pool;
pub mod run;
pub mod tesseract;

pub use pool::OcrPool;
pub use run::{DocumentRun, ResultSink, RunError, run_document};
