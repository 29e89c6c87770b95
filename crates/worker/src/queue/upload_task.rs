//! One OCR task: claim the upload, fetch the original, OCR the pages not yet
//! committed, assemble the upload's outputs, and finish the job when it is the
//! last file. Safe to run twice for the same upload: the claim and the page
//! upserts make a repeat a no-op.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::{ObjectStoreExt, PutPayload};
use scribe_core::db::{self, DbPool, queries};
use scribe_core::document::Document;
use scribe_core::formats::Formats;
use scribe_core::job::Status;
use scribe_core::results::{DocumentResult, FileResults, JobResults, PageResult, PageSource};
use scribe_core::settings::Settings;
use scribe_core::storage::{Store, keys};
use scribe_core::task::{JobEvent, OcrTask};
use uuid::Uuid;

use super::events::Events;
use super::fail_points;
use super::failure::TaskError;
use super::objects::{self, download, fetch};
use super::storage_sink::StorageSink;
use crate::ocr::assemble::Pages;
use crate::ocr::pipeline;
use crate::ocr::run::RunRequest;
use crate::ocr::{self, OcrPool, run_document};

/// What a task needs from the worker.
#[derive(Clone)]
pub struct Context {
    pub settings: Arc<Settings>,
    pub db: DbPool,
    pub store: Store,
    pub pool: Arc<OcrPool>,
    pub events: Events,
    /// A confirm-mode channel for the page-range tasks a split publishes.
    pub tasks: lapin::Channel,
    pub names: scribe_core::broker::Names,
    pub metrics: Arc<super::metrics::WorkerMetrics>,
    pub health: Arc<super::health::Health>,
    /// Set on SIGTERM: runs read no further pages.
    pub stopping: Arc<std::sync::atomic::AtomicBool>,
}

/// How a task that needs no retry ended, for the metrics: the file's own
/// failure and a cancel are answers, not errors of the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Read, or nothing to do (already finished, or deleted).
    Done,
    /// The file was refused for good (its error recorded).
    Failed,
    /// The job was cancelled while this task ran.
    Cancelled,
}

impl Handled {
    pub fn label(self) -> &'static str {
        match self {
            Self::Done => "ok",
            Self::Failed => "permanent",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Runs the task.
pub async fn handle(ctx: &Context, task: &OcrTask, trace_id: &str) -> Result<Handled, TaskError> {
    let outcome = run(ctx, task, trace_id).await;
    if matches!(outcome, Err(TaskError::Stopped(_))) {
        return outcome;
    }
    // A job deleted while this task ran: whatever happened (a failed commit,
    // an interrupted assembly), there is nothing left to retry, and what this
    // task stored after the delete's sweep of the job's objects must go too.
    let job_id = task.job_id;
    match db::run(&ctx.db, move |c| queries::job(c, job_id)).await {
        Ok(None) => {
            tracing::info!("job deleted while its task ran; task dropped");
            scribe_core::storage::delete_job(&ctx.store, job_id).await?;
            Ok(Handled::Done)
        }
        _ => outcome,
    }
}

async fn run(ctx: &Context, task: &OcrTask, trace_id: &str) -> Result<Handled, TaskError> {
    let upload_id = task.upload_id;
    let Some((upload, job)) =
        db::run(&ctx.db, move |c| queries::claim_upload(c, upload_id)).await?
    else {
        // A repeat of finished work; but the worker that did it may have died
        // between writing the job's results and marking it finished.
        tracing::info!("upload already finished or cancelled; task dropped");
        return finish_job(ctx, task.job_id).await.map(|()| Handled::Done);
    };
    let job_id = job.id;
    // The claim moved the job to processing too (if it was pending): say both.
    ctx.events
        .publish(&JobEvent {
            job_id,
            upload_id: Some(upload_id),
            job_status: Some(Status::Processing),
            upload_status: Some(Status::Processing),
            pages_done: None,
            page_count: upload.page_count,
        })
        .await;

    let handled = match process(ctx, &upload, &job, task, trace_id).await {
        Ok(false) => {
            tracing::info!("page range done; other ranges are still running");
            return Ok(Handled::Done);
        }
        Ok(true) => {
            db::run(&ctx.db, move |c| {
                queries::finish_upload(c, upload_id, Status::Complete, None, pipeline::identity())
            })
            .await?;
            publish(ctx, job_id, upload_id, Some(Status::Complete), None).await;
            Handled::Done
        }
        Err(TaskError::Permanent { code, message }) => {
            tracing::info!(error = %message, "upload failed permanently");
            let msg = message.clone();
            db::run(&ctx.db, move |c| {
                queries::finish_upload(
                    c,
                    upload_id,
                    Status::Error,
                    Some((&code, &msg)),
                    pipeline::identity(),
                )
            })
            .await?;
            publish(ctx, job_id, upload_id, Some(Status::Error), None).await;
            Handled::Failed
        }
        Err(TaskError::Cancelled) => {
            tracing::info!("job cancelled; stopped after the current page");
            return Ok(Handled::Cancelled);
        }
        Err(TaskError::Stopped(range)) => {
            tracing::info!("worker stopping; the pages not yet read go back to the queue");
            return Err(TaskError::Stopped(range));
        }
        Err(e) => return Err(e),
    };
    finish_job(ctx, job_id).await?;
    Ok(handled)
}

/// Marks an upload Error once its retries are used up.
pub async fn give_up(ctx: &Context, task: &OcrTask, reason: &str) -> Result<(), TaskError> {
    let (upload_id, job_id) = (task.upload_id, task.job_id);
    let message = format!("processing failed repeatedly ({reason}); please try again later");
    db::run(&ctx.db, move |c| {
        // A task that never got as far as claiming is still pending: claim it to fail it.
        let _ = queries::claim_upload(c, upload_id)?;
        queries::finish_upload(
            c,
            upload_id,
            Status::Error,
            Some(("retries_exhausted", &message)),
            pipeline::identity(),
        )
    })
    .await?;
    publish(ctx, job_id, upload_id, Some(Status::Error), None).await;
    finish_job(ctx, job_id).await
}

/// Finishes the job once its last upload is done. The results are written
/// first and the state flipped after, so a job is never final without them: a
/// worker killed in between leaves the job active, and the redelivered task
/// (see [`handle`]) writes them again and finishes it.
async fn finish_job(ctx: &Context, job_id: Uuid) -> Result<(), TaskError> {
    if !db::run(&ctx.db, move |c| queries::job_ready_to_finish(c, job_id)).await? {
        return Ok(());
    }
    write_job_results(ctx, job_id).await?;
    fail_points::abort_at("after_job_results");
    let Some(status) = db::run(&ctx.db, move |c| queries::finish_job_if_done(c, job_id)).await?
    else {
        return Ok(());
    };
    ctx.events.publish(&JobEvent::job(job_id, status)).await;
    Ok(())
}

async fn publish(
    ctx: &Context,
    job_id: Uuid,
    upload_id: Uuid,
    status: Option<Status>,
    page_count: Option<i32>,
) {
    ctx.events
        .publish(&JobEvent {
            job_id,
            upload_id: Some(upload_id),
            job_status: None,
            upload_status: status,
            pages_done: None,
            page_count,
        })
        .await;
}

/// OCRs this task's pages; `true` when every page of the upload is then done
/// and this task assembled the outputs.
async fn process(
    ctx: &Context,
    upload: &db::models::Upload,
    job: &db::models::Job,
    task: &OcrTask,
    trace_id: &str,
) -> Result<bool, TaskError> {
    let (job_id, upload_id) = (job.id, upload.id);
    let formats = job.formats();
    let original = download(&ctx.store, &keys::stored(&upload.storage_key)).await?;

    let settings = job_settings(ctx, job);
    let path = original.path().to_owned();
    let document = tokio::task::spawn_blocking(move || Document::open(&path, &settings))
        .await
        .map_err(TaskError::transient)??;
    let page_count = document.page_count() as i32;
    db::run(&ctx.db, move |c| {
        queries::set_page_count(c, upload_id, page_count)
    })
    .await?;
    let [first, last] = match task.pages {
        Some(range) => range,
        None => split(ctx, task, page_count as u32, trace_id).await?,
    };
    let done: Vec<i32> = db::run(&ctx.db, move |c| queries::done_pages(c, upload_id)).await?;
    let todo: Vec<usize> = (first as usize..=last as usize)
        .filter(|n| !done.contains(&(*n as i32)))
        .collect();

    let mut sink = StorageSink {
        metrics: Arc::clone(&ctx.metrics),
        health: Arc::clone(&ctx.health),
        runtime: tokio::runtime::Handle::current(),
        store: Arc::clone(&ctx.store),
        db: ctx.db.clone(),
        events: ctx.events.clone(),
        job_id,
        upload_id,
        page_count,
    };
    let (pool, settings) = (Arc::clone(&ctx.pool), job_settings(ctx, job));
    let stopping = Arc::clone(&ctx.stopping);
    let (file_name, lang) = (upload.file_name.clone(), job.language.clone());
    fail_points::abort_at("before_ocr");
    if !todo.is_empty() {
        tokio::task::spawn_blocking(move || {
            fail_points::hang_at("in_ocr");
            let request = RunRequest {
                file_name: &file_name,
                lang: &lang,
                formats,
                pages: Some(todo),
                assemble: false,
                stopping: Arc::clone(&stopping),
            };
            run_document(
                &pool,
                document,
                settings,
                request,
                &mut sink,
                &mut |_, _| {},
            )
        })
        .await
        .map_err(TaskError::transient)?
        .map_err(|e| match TaskError::from(e) {
            // The other ranges are already published: only this one goes back.
            TaskError::Stopped(_) => TaskError::Stopped(Some([first, last])),
            other => other,
        })?;
    }
    let pages_done = db::run(&ctx.db, move |c| queries::upload(c, upload_id))
        .await?
        .map_or(0, |u| u.pages_done);
    if pages_done < page_count {
        return Ok(false);
    }
    assemble(
        ctx,
        original.path(),
        upload,
        job,
        page_count as usize,
        formats,
    )
    .await?;
    Ok(true)
}

/// The worker's settings, as the job would have them: one that does not
/// trust the text its PDFs carry (`force_ocr`) is read with `ocr.skip_text`
/// off, whatever the deployment's default.
fn job_settings(ctx: &Context, job: &db::models::Job) -> Arc<Settings> {
    if !job.force_ocr || !ctx.settings.ocr.skip_text {
        return Arc::clone(&ctx.settings);
    }
    let mut settings = Settings::clone(&ctx.settings);
    settings.ocr.skip_text = false;
    Arc::new(settings)
}

/// Publishes every range but the first as its own task and returns the first.
async fn split(
    ctx: &Context,
    task: &OcrTask,
    page_count: u32,
    trace_id: &str,
) -> Result<[u32; 2], TaskError> {
    let ranges = scribe_core::task::page_ranges(page_count, ctx.settings.worker.pages_per_task);
    let exchange = ctx.names.tasks_exchange();
    for &[first, last] in ranges.iter().skip(1) {
        let share = OcrTask::range(task.job_id, task.upload_id, first, last);
        let payload = serde_json::to_vec(&share).map_err(TaskError::transient)?;
        scribe_core::broker::publish_confirmed(
            &ctx.tasks,
            &exchange,
            scribe_core::broker::OCR_ROUTING_KEY,
            &payload,
            scribe_core::broker::trace_headers(trace_id),
        )
        .await
        .map_err(TaskError::transient)?;
    }
    if ranges.len() > 1 {
        tracing::info!(ranges = ranges.len(), "document split into page ranges");
    }
    Ok(ranges[0])
}

/// Builds the upload's results.json, text, hOCR and searchable PDF from the
/// stored pages (they may come from earlier attempts and other workers), with
/// the same assembly as the CLI.
async fn assemble(
    ctx: &Context,
    original: &std::path::Path,
    upload: &db::models::Upload,
    job: &db::models::Job,
    page_count: usize,
    formats: Formats,
) -> Result<(), TaskError> {
    let (job_id, upload_id) = (job.id, upload.id);
    let work = tempfile::tempdir().map_err(TaskError::transient)?;
    let mut pages: Vec<PageResult> = Vec::with_capacity(page_count);
    let mut hocr_pages = Vec::new();
    let mut layers = HashMap::new();
    // Page objects come from storage a few at a time (each is a round trip to
    // S3), in page order.
    let mut stored = futures_util::stream::iter(1..=page_count)
        .map(|n| fetch_page(ctx, job_id, upload_id, n, formats, work.path()))
        .buffered(PAGE_FETCHES_IN_FLIGHT);
    while let Some(page) = stored.next().await {
        let page = page?;
        hocr_pages.extend(page.hocr);
        if let Some(path) = page.layer {
            layers.insert(page.result.number, path);
        }
        pages.push(page.result);
    }
    let kind = scribe_core::sniff::DocumentKind::parse(&upload.detected_type).ok_or_else(|| {
        TaskError::transient(format!("unknown stored type `{}`", upload.detected_type))
    })?;
    let started = upload.started_at.unwrap_or(upload.created_at);
    let duration_ms = (chrono::Utc::now() - started).num_milliseconds().max(0) as u64;
    let result = DocumentResult::new(
        &upload.file_name,
        kind,
        page_count,
        &job.language,
        duration_ms,
        pages,
    );
    // Pages that cannot be read leave the rest of their file to be read; a
    // file with nothing read has failed, as in the CLI.
    ocr::run::nothing_read(&result)?;
    // The service always keeps the text and the JSON; the rest is what the job asked for.
    let formats = Formats {
        txt: true,
        json: true,
        ..formats
    };
    let (settings, original, out) = (
        job_settings(ctx, job),
        original.to_owned(),
        work.path().join("assembled"),
    );
    let assembled = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&out).map_err(TaskError::transient)?;
        let document = Document::open(&original, &settings)?;
        let input = Pages {
            result: &result,
            hocr: &hocr_pages,
            layer: &|n| layers.get(&n).cloned(),
            forced: !settings.ocr.skip_text,
        };
        ocr::assemble::assemble(&document, &input, formats, &out).map_err(|e| {
            if e.is_permanent() {
                TaskError::Permanent {
                    code: "pdf_assembly".into(),
                    message: format!("the searchable PDF could not be made: {e}"),
                }
            } else {
                TaskError::transient(e)
            }
        })
    })
    .await
    .map_err(TaskError::transient)??;
    for (name, path) in assembled.files {
        objects::upload(
            &ctx.store,
            &keys::upload_file(job_id, upload_id, name),
            &path,
        )
        .await?;
    }
    Ok(())
}

/// Page outputs fetched at once during assembly: enough to hide S3's latency,
/// few enough that a 1,000-page document's layers are not all in memory.
const PAGE_FETCHES_IN_FLIGHT: usize = 8;

/// One stored page, as assembly needs it; its text layer is written to `work`.
struct StoredPage {
    result: PageResult,
    hocr: Option<String>,
    layer: Option<std::path::PathBuf>,
}

async fn fetch_page(
    ctx: &Context,
    job_id: Uuid,
    upload_id: Uuid,
    n: usize,
    formats: Formats,
    work: &std::path::Path,
) -> Result<StoredPage, TaskError> {
    let page = |ext| keys::page(job_id, upload_id, n, ext);
    let bytes = required(fetch(&ctx.store, &page("json")).await?, n, "JSON")?;
    let result: PageResult = serde_json::from_slice(&bytes).map_err(TaskError::transient)?;
    // Every page has its hOCR page (an unread one an empty page), lest the
    // document's pages lose their places; only OCR'd pages have a layer.
    let ocr = result.source == PageSource::Ocr;
    let hocr = if formats.hocr {
        fetch(&ctx.store, &page("hocr"))
            .await?
            .map(|h| String::from_utf8_lossy(&h).into_owned())
    } else {
        None
    };
    let layer = if formats.pdf && ocr {
        let pdf = required(fetch(&ctx.store, &page("pdf")).await?, n, "text layer")?;
        let path = work.join(format!("page-{n:05}.pdf"));
        tokio::fs::write(&path, pdf)
            .await
            .map_err(TaskError::transient)?;
        Some(path)
    } else {
        None
    };
    Ok(StoredPage {
        result,
        hocr,
        layer,
    })
}

/// The job's results.json: every upload's results, in upload order.
async fn write_job_results(ctx: &Context, job_id: Uuid) -> Result<(), TaskError> {
    let uploads = db::run(&ctx.db, move |c| queries::uploads_of(c, job_id)).await?;
    let mut files = Vec::new();
    for u in &uploads {
        let result = fetch(&ctx.store, &keys::upload_file(job_id, u.id, "results.json"))
            .await?
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
        files.push(FileResults {
            upload_id: u.id,
            file_name: &u.file_name,
            status: u.status,
            error: u.error.as_deref(),
            result,
        });
    }
    let json =
        serde_json::to_vec_pretty(&JobResults { job_id, files }).map_err(TaskError::transient)?;
    ctx.store
        .put(&keys::job_results(job_id), PutPayload::from(json))
        .await?;
    Ok(())
}

/// A committed page's stored output must exist; if it does not (storage lag,
/// a lost object), the task is retried rather than assembled without it.
fn required(
    bytes: Option<bytes::Bytes>,
    page: usize,
    what: &str,
) -> Result<bytes::Bytes, TaskError> {
    bytes.ok_or_else(|| TaskError::transient(format!("page {page}'s {what} is not in storage yet")))
}
