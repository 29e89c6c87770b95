//! One document through the pool: pages go out, results come back in any order,
//! are handed to a sink as they arrive, and are assembled in page order.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use scribe_core::document::Document;
use scribe_core::formats::Formats;
use scribe_core::results::{DocumentResult, PageFailure, PageResult};
use scribe_core::settings::Settings;

use super::assemble::{AssembleError, Assembled, Pages, assemble};
use super::page::{PageArtifacts, PageError};
use super::pool::{OcrPool, PageJob};

/// Shared, read-only state of one document being processed.
pub struct DocumentRun {
    pub document: Document,
    pub settings: Arc<Settings>,
    pub lang: String,
    pub formats: Formats,
    /// Holds the pages' text layers until they are assembled.
    pub workdir: PathBuf,
    pub cancelled: AtomicBool,
    /// The worker is stopping: read no further page of this run.
    pub stopping: Arc<AtomicBool>,
}

/// Where a run's outputs go: a directory for the CLI, object storage for the queue worker.
pub trait ResultSink {
    fn page(&mut self, page: &PageArtifacts) -> Result<(), SinkError>;
    /// Called once, when the run assembles, with the document's final files.
    fn finish(&mut self, assembled: &Assembled) -> Result<(), SinkError>;
}

/// Why a sink refused a page; either way the run stops recognising.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("the job was cancelled")]
    Cancelled,
    #[error("{0}")]
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("page {page}: {source}")]
    Page { page: usize, source: PageError },
    #[error("page {page}: {}", failure.message)]
    NothingRead { page: usize, failure: PageFailure },
    #[error("the OCR threads stopped before the document was finished")]
    PoolGone,
    #[error("the worker is stopping; the remaining pages go back to the queue")]
    Stopped,
    #[error("the outputs could not be assembled: {0}")]
    Assemble(#[from] AssembleError),
    #[error("writing results failed: {0}")]
    Sink(#[from] SinkError),
    #[error("the run's work directory could not be made: {0}")]
    Workdir(#[from] std::io::Error),
}

impl RunError {
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Page { source, .. } => source.is_permanent(),
            Self::NothingRead { .. } => true,
            Self::Assemble(e) => e.is_permanent(),
            Self::PoolGone | Self::Stopped | Self::Sink(_) | Self::Workdir(_) => false,
        }
    }
}

/// What the caller asks for.
pub struct RunRequest<'a> {
    pub file_name: &'a str,
    pub lang: &'a str,
    pub formats: Formats,
    /// 1-based page numbers to process; `None` for every page.
    pub pages: Option<Vec<usize>>,
    /// Set when the worker stops: pages already being read finish, no more start.
    pub stopping: Arc<AtomicBool>,
    /// Assemble the final files here; the queue worker assembles from storage
    /// instead, once every page range of the document is done.
    pub assemble: bool,
}

/// Processes `document` on the pool, reporting `(pages done, pages total)` after each page.
pub fn run_document(
    pool: &OcrPool,
    document: Document,
    settings: Arc<Settings>,
    request: RunRequest<'_>,
    sink: &mut dyn ResultSink,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<DocumentResult, RunError> {
    let started = Instant::now();
    let workdir = tempfile::Builder::new().prefix("scribe-run-").tempdir()?;
    let kind = document.kind();
    let page_count = document.page_count();
    let numbers: Vec<usize> = match request.pages.clone() {
        Some(list) => list
            .into_iter()
            .filter(|n| (1..=page_count).contains(n))
            .collect(),
        None => (1..=page_count).collect(),
    };
    let total = numbers.len();
    let run = Arc::new(DocumentRun {
        document,
        settings: Arc::clone(&settings),
        lang: request.lang.to_owned(),
        formats: request.formats,
        workdir: workdir.path().to_owned(),
        cancelled: AtomicBool::new(false),
        stopping: Arc::clone(&request.stopping),
    });
    let (reply, results) = crossbeam_channel::unbounded();
    for number in numbers {
        pool.submit(PageJob {
            run: Arc::clone(&run),
            number,
            reply: reply.clone(),
        });
    }
    drop(reply);

    progress(0, total);
    let mut pages: Vec<(PageResult, Option<PathBuf>, Option<String>)> = Vec::with_capacity(total);
    let mut failure = None;
    let mut stopped = false;
    let stop = || {
        run.cancelled
            .store(true, std::sync::atomic::Ordering::Relaxed)
    };
    for (number, outcome) in results.iter().take(total) {
        let artifacts = match outcome {
            Ok(artifacts) => artifacts,
            Err(PageError::Cancelled) => continue,
            Err(PageError::Stopped) => {
                stopped = true;
                continue;
            }
            // A damaged or oversized page, or one the engine refuses, is
            // refused again on every attempt: the rest of its file is read,
            // and the page says why it has no text.
            Err(source) if source.is_permanent() && !source.ends_document() => {
                unread_page(&run, number, &source)
            }
            Err(source) => {
                // Worth another attempt, or true of every page: stop the rest
                // of this document (other documents are unaffected).
                stop();
                failure.get_or_insert(RunError::Page {
                    page: number,
                    source,
                });
                continue;
            }
        };
        if failure.is_none()
            && let Err(e) = sink.page(&artifacts)
        {
            // Nothing more can be kept: stop the threads from reading the rest.
            stop();
            return Err(e.into());
        }
        pages.push((artifacts.result, artifacts.pdf_page, artifacts.hocr));
        progress(pages.len(), total);
    }
    if let Some(err) = failure {
        return Err(err);
    }
    if stopped {
        return Err(RunError::Stopped);
    }
    if pages.len() < total {
        return Err(RunError::PoolGone);
    }
    pages.sort_by_key(|(p, _, _)| p.number);

    let mut layers = HashMap::new();
    let mut hocr = Vec::new();
    let mut results = Vec::with_capacity(pages.len());
    for (result, layer, fragment) in pages {
        if let Some(layer) = layer {
            layers.insert(result.number, layer);
        }
        hocr.extend(fragment);
        results.push(result);
    }
    let duration_ms = started.elapsed().as_millis() as u64;
    let result = DocumentResult::new(
        request.file_name,
        kind,
        page_count,
        request.lang,
        duration_ms,
        results,
    );
    // A range of a document is judged with the rest of its pages, when they
    // are assembled.
    if request.pages.is_none() {
        nothing_read(&result)?;
    }
    if request.assemble {
        let out = workdir.path().join("assembled");
        std::fs::create_dir_all(&out)?;
        let input = Pages {
            result: &result,
            hocr: &hocr,
            layer: &|n| layers.get(&n).cloned(),
            forced: !run.settings.ocr.skip_text,
        };
        let assembled = assemble(&run.document, &input, request.formats, &out)?;
        sink.finish(&assembled)?;
    }
    Ok(result)
}

/// A document none of whose pages could be read has failed, for its first
/// page's reason; one with a page read has not.
pub fn nothing_read(result: &DocumentResult) -> Result<(), RunError> {
    match result.nothing_read() {
        Some((page, failure)) => Err(RunError::NothingRead {
            page,
            failure: failure.clone(),
        }),
        None => Ok(()),
    }
}

/// What page `number` leaves when it cannot be read: no text, and why; an
/// empty hOCR page keeps the pages after it in their places.
fn unread_page(run: &DocumentRun, number: usize, error: &PageError) -> PageArtifacts {
    let size = run
        .document
        .raster()
        .and_then(|r| r.page(number - 1))
        .map_or((0, 0), |p| p.upright_size());
    tracing::info!(page = number, error = %error, "page could not be read; the rest of the file is");
    PageArtifacts {
        result: PageResult::unread(
            number,
            size,
            PageFailure {
                code: error.code().to_owned(),
                message: error.to_string(),
            },
        ),
        hocr: run
            .formats
            .hocr
            .then(|| scribe_core::hocr::from_words(number, size, None, &[])),
        preview_png: None,
        pdf_page: None,
    }
}
