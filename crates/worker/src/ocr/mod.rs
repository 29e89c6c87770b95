//! OCR in the worker: warm engines on a pool of threads, fed one page at a time.

pub mod assemble;
pub mod coverage;
pub mod engine;
pub mod hidden_text;
pub mod icc;
pub mod layer_audit;
pub mod own_spelling;
pub mod page;
pub mod pdf_image;
pub mod pdf_stream;
pub mod pdfa;
pub mod pdfa_claim;
pub mod pictures;
pub mod pipeline;
pub mod pool;
pub mod preview;
pub mod run;
pub mod searchable_pdf;
pub mod table_rows;
pub mod tesseract;
pub mod text_layer;

pub use pool::OcrPool;
pub use run::{DocumentRun, ResultSink, RunError, SinkError, run_document};
