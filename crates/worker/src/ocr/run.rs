//! One document through the pool: pages go out, results come back in any order,
//! are handed to a sink as they arrive, and are assembled in page order.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use scribe_core::document::Document;
use scribe_core::formats::Formats;
use scribe_core::results::{DocumentResult, PageResult};
use scribe_core::settings::Settings;

use super::page::{PageArtifacts, PageError};
use super::pool::{OcrPool, PageJob};

/// Shared, read-only state of one document being processed.
pub struct DocumentRun {
    pub document: Document,
    pub settings: Arc<Settings>,
    pub lang: String,
    pub formats: Formats,
    /// Holds the one-page PDFs until they are merged.
    pub workdir: PathBuf,
    pub cancelled: AtomicBool,
}

/// Where a run's outputs go: a directory for the CLI, object storage for the queue worker.
pub trait ResultSink {
    fn page(&mut self, page: &PageArtifacts) -> std::io::Result<()>;
    /// Called once with the assembled result and the merged searchable PDF.
    fn finish(
        &mut self,
        result: &DocumentResult,
        searchable_pdf: Option<&Path>,
    ) -> std::io::Result<()>;
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("page {page}: {source}")]
    Page { page: usize, source: PageError },
    #[error("the OCR threads stopped before the document was finished")]
    PoolGone,
    #[error("the searchable PDF could not be assembled: {0}")]
    Merge(String),
    #[error("writing results failed: {0}")]
    Sink(#[from] std::io::Error),
}

impl RunError {
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Page { source, .. } => source.is_permanent(),
            Self::Merge(_) => true,
            Self::PoolGone | Self::Sink(_) => false,
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
    /// Merge the searchable PDF here; the queue worker assembles from storage instead.
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
    let mut pages: Vec<(PageResult, Option<PathBuf>)> = Vec::with_capacity(total);
    let mut failure = None;
    for (number, outcome) in results.iter().take(total) {
        match outcome {
            Ok(artifacts) => {
                if failure.is_none() {
                    sink.page(&artifacts)?;
                }
                pages.push((artifacts.result, artifacts.pdf_page));
                progress(pages.len(), total);
            }
            Err(PageError::Cancelled) => {}
            Err(source) => {
                // Stop the rest of this document; other documents are unaffected.
                run.cancelled
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                failure.get_or_insert(RunError::Page {
                    page: number,
                    source,
                });
            }
        }
    }
    if let Some(err) = failure {
        return Err(err);
    }
    if pages.len() < total {
        return Err(RunError::PoolGone);
    }
    pages.sort_by_key(|(p, _)| p.number);

    let merged = workdir.path().join("searchable.pdf");
    let pdf_pages: Vec<PathBuf> = pages.iter().filter_map(|(_, pdf)| pdf.clone()).collect();
    let searchable = if request.assemble && request.formats.pdf && !pdf_pages.is_empty() {
        let timeout = Duration::from_secs(settings.limits.render_timeout_secs.max(60));
        scribe_core::pdf::merge(&pdf_pages, &merged, timeout)
            .map_err(|e| RunError::Merge(e.to_string()))?;
        Some(merged.as_path())
    } else {
        None
    };
    let pages: Vec<PageResult> = pages.into_iter().map(|(p, _)| p).collect();
    let duration_ms = started.elapsed().as_millis() as u64;
    let result = DocumentResult::new(
        request.file_name,
        kind,
        page_count,
        request.lang,
        duration_ms,
        pages,
    );
    sink.finish(&result, searchable)?;
    Ok(result)
}
