//! N OCR threads, one warm engine each, taking pages from one shared queue.
//! Pages are handed out one at a time as threads free up, so a slow page never
//! leaves another core idle, and at most N pages are in memory at once.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::engine::Engine;
use super::page::{self, PageArtifacts, PageError};
use super::run::DocumentRun;

/// One page of one document to process.
pub(crate) struct PageJob {
    pub run: Arc<DocumentRun>,
    pub number: usize,
    pub reply: Sender<(usize, Result<PageArtifacts, PageError>)>,
}

pub struct OcrPool {
    jobs: Option<Sender<PageJob>>,
    threads: Vec<JoinHandle<()>>,
}

impl OcrPool {
    /// Starts `threads` OCR threads reading models from `tessdata`.
    pub fn start(threads: usize, tessdata: PathBuf) -> Self {
        let (tx, rx) = unbounded::<PageJob>();
        let threads = (0..threads.max(1))
            .map(|i| {
                let rx = rx.clone();
                let tessdata = tessdata.clone();
                std::thread::Builder::new()
                    .name(format!("ocr-{i}"))
                    .spawn(move || ocr_thread(&rx, &tessdata))
                    .expect("the OS refused to start an OCR thread")
            })
            .collect();
        Self {
            jobs: Some(tx),
            threads,
        }
    }

    pub fn size(&self) -> usize {
        self.threads.len()
    }

    pub(crate) fn submit(&self, job: PageJob) {
        if let Some(jobs) = &self.jobs {
            // Send only fails once every thread is gone; the reply channel then
            // closes and the run reports it.
            let _ = jobs.send(job);
        }
    }
}

impl Drop for OcrPool {
    fn drop(&mut self) {
        self.jobs.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn ocr_thread(jobs: &Receiver<PageJob>, tessdata: &std::path::Path) {
    // Loaded on first use and kept while the language stays the same.
    let mut engine: Option<Engine> = None;
    for job in jobs {
        if job.run.cancelled.load(Ordering::Relaxed) {
            let _ = job.reply.send((job.number, Err(PageError::Cancelled)));
            continue;
        }
        if job.run.stopping.load(Ordering::Relaxed) {
            let _ = job.reply.send((job.number, Err(PageError::Stopped)));
            continue;
        }
        if engine.as_ref().is_none_or(|e| e.lang() != job.run.lang) {
            engine = None;
            match Engine::new(tessdata, &job.run.lang) {
                Ok(e) => engine = Some(e),
                Err(e) => {
                    let _ = job.reply.send((job.number, Err(e.into())));
                    continue;
                }
            }
        }
        let Some(engine) = engine.as_mut() else {
            continue;
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            page::process(engine, &job.run, job.number)
        }))
        .unwrap_or_else(|_| {
            Err(PageError::Output(
                "the page crashed the OCR thread; it was skipped".to_owned(),
            ))
        });
        let _ = job.reply.send((job.number, outcome));
    }
}
