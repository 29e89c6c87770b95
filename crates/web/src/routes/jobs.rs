//! `/api/v1/jobs`: accept, inspect, list and cancel jobs.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use scribe_core::db::models::{Job, NewJob, Page, Upload};
use scribe_core::db::{self, queries};
use scribe_core::formats::Formats;
use scribe_core::languages;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Owner;
use crate::error::ApiError;
use crate::outbox::Outgoing;
use crate::publish;
use crate::state::AppState;
use crate::telemetry::RequestId;
use crate::upload::{self, Limits};

#[post("/api/v1/jobs")]
#[tracing::instrument(skip_all, fields(owner = %owner.0))]
pub async fn create(
    state: web::Data<AppState>,
    owner: Owner,
    req: HttpRequest,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let accepted = accept_job(&state, &owner, &req, &mut form, None).await?;
    let job_id = accepted.id;
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/api/v1/jobs/{job_id}")))
        .json(serde_json::json!({
            "id": job_id,
            "status": "pending",
            "language": accepted.language,
            "status_url": format!("/api/v1/jobs/{job_id}"),
            "results_url": format!("/api/v1/jobs/{job_id}/results"),
            "files": accepted.files,
        })))
}

/// A job that is stored and queued.
pub struct Accepted {
    pub id: Uuid,
    pub language: String,
    pub files: Vec<serde_json::Value>,
}

/// Receives, validates, stores and queues a job: the one path behind the API
/// and the portal's form. A refusal leaves no row and no stored byte.
/// `csrf`, for browser forms, must accept the first form field.
pub async fn accept_job(
    state: &AppState,
    owner: &Owner,
    req: &HttpRequest,
    form: &mut Multipart,
    csrf: Option<&upload::CsrfCheck<'_>>,
) -> Result<Accepted, ApiError> {
    let job_id = Uuid::new_v4();
    let trace_id = RequestId::of(req);
    match accept(state, owner, job_id, form, csrf, &trace_id).await {
        Ok(accepted) => Ok(accepted),
        Err(e) => {
            upload::discard(&state.store, job_id).await;
            state
                .metrics
                .uploads_refused
                .with_label_values(&[e.code()])
                .inc();
            Err(e)
        }
    }
}

async fn accept(
    state: &AppState,
    owner: &Owner,
    job_id: Uuid,
    form: &mut Multipart,
    csrf: Option<&upload::CsrfCheck<'_>>,
    trace_id: &str,
) -> Result<Accepted, ApiError> {
    let limits = Limits::of(&state.settings);
    let received = upload::receive(&state.store, job_id, form, &limits, csrf).await?;
    if received.files.is_empty() {
        return Err(ApiError::bad(
            "no_file",
            "no file was uploaded; send one or more `file` fields",
        ));
    }
    let requested = received
        .language
        .as_deref()
        .unwrap_or(&state.settings.ocr.default_language);
    let language = languages::validate(requested, &state.languages)
        .map_err(|e| ApiError::bad("unknown_language", e.to_string()))?;
    let formats: Formats = match received.outputs.as_deref() {
        Some(names) => names
            .parse()
            .map_err(|e: scribe_core::formats::UnknownFormat| {
                ApiError::bad("unknown_output", e.to_string())
            })?,
        None => Formats::default(),
    };
    let new_job = NewJob {
        id: job_id,
        owner: owner.0.clone(),
        language: language.clone(),
        formats: serde_json::to_value(formats).map_err(ApiError::internal)?,
    };
    let files = received.files;
    let upload_ids: Vec<Uuid> = files.iter().map(|f| f.id).collect();
    let summary: Vec<serde_json::Value> = files
        .iter()
        .map(|f| serde_json::json!({"id": f.id, "file_name": f.file_name, "detected_type": f.detected_type, "size_bytes": f.size_bytes, "sha256": f.sha256}))
        .collect();
    db::run(&state.db, move |c| queries::insert_job(c, &new_job, &files)).await?;
    state.metrics.jobs_accepted.inc();

    // The job is durable from here; the broker is not on the answer's path: the
    // relay publishes it, and if that fails the sweeper does.
    state.outbox.send(Outgoing {
        job_id,
        uploads: upload_ids,
        trace_id: trace_id.to_owned(),
    });
    Ok(Accepted {
        id: job_id,
        language,
        files: summary,
    })
}

#[get("/api/v1/jobs/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = owned_job(&state, &owner, &id).await?;
    Ok(HttpResponse::Ok().json(job_view(&state, job).await?))
}

#[derive(Deserialize)]
pub struct Paging {
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

#[get("/api/v1/jobs")]
pub async fn list(
    state: web::Data<AppState>,
    owner: Owner,
    q: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let per_page = q.per_page.unwrap_or(20).clamp(1, 100);
    let (page, offset) = page_window(q.page, per_page);
    let o = owner.0.clone();
    let jobs = db::run(&state.db, move |c| {
        queries::jobs_of_owner(c, &o, per_page, offset)
    })
    .await?;
    let mut views = Vec::with_capacity(jobs.len());
    for job in jobs {
        views.push(job_view(&state, job).await?);
    }
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({ "page": page, "per_page": per_page, "jobs": views })))
}

/// The 1-based page asked for (at least 1, at most what an offset can hold)
/// and its row offset: `?page=9223372036854775807` is an empty page, not an overflow.
pub fn page_window(page: Option<i64>, per_page: i64) -> (i64, i64) {
    let page = page.unwrap_or(1).clamp(1, i64::MAX / per_page.max(1));
    (page, (page - 1) * per_page)
}

#[delete("/api/v1/jobs/{id}")]
pub async fn cancel(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = cancel_job(&state, &owner, &id).await?;
    Ok(HttpResponse::Ok().json(job_view(&state, job).await?))
}

/// Cancels the owner's job if it is still pending or processing; returns it as it is now.
pub async fn cancel_job(state: &AppState, owner: &Owner, id: &str) -> Result<Job, ApiError> {
    let job = owned_job(state, owner, id).await?;
    let (job_id, o) = (job.id, owner.0.clone());
    if !db::run(&state.db, move |c| queries::cancel(c, job_id, &o)).await? {
        return Err(ApiError::Conflict(format!(
            "the job is already {}",
            job.status
        )));
    }
    publish::job_event(
        state,
        &scribe_core::task::JobEvent::job(job_id, scribe_core::job::Status::Cancelled),
    )
    .await;
    owned_job(state, owner, id).await
}

/// The job if this owner has it; anything else is 404 (never 403: ids leak nothing).
pub async fn owned_job(state: &AppState, owner: &Owner, id: &str) -> Result<Job, ApiError> {
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound)?;
    let o = owner.0.clone();
    db::run(&state.db, move |c| queries::job_for_owner(c, id, &o))
        .await?
        .ok_or(ApiError::NotFound)
}

/// A job's files and all their pages (with their text only if asked), in one round trip.
pub async fn files_of(
    state: &AppState,
    job_id: Uuid,
    with_text: bool,
) -> Result<(Vec<Upload>, Vec<Page>), ApiError> {
    Ok(db::run(&state.db, move |c| {
        let uploads = queries::uploads_of(c, job_id)?;
        let ids: Vec<Uuid> = uploads.iter().map(|u| u.id).collect();
        Ok((uploads, queries::pages_of_uploads(c, &ids, with_text)?))
    })
    .await?)
}

pub async fn job_view(state: &AppState, job: Job) -> Result<serde_json::Value, ApiError> {
    let job_id = job.id;
    let (uploads, all_pages) = files_of(state, job_id, false).await?;
    let formats = job.formats();
    let mut files = Vec::with_capacity(uploads.len());
    let (mut done, mut total) = (0i64, 0i64);
    for u in uploads {
        let pages: Vec<_> = all_pages.iter().filter(|p| p.upload_id == u.id).collect();
        done += i64::from(u.pages_done);
        total += i64::from(u.page_count.unwrap_or(0));
        let base = format!("/api/v1/jobs/{job_id}/files/{}", u.id);
        files.push(serde_json::json!({
            "id": u.id,
            "file_name": u.file_name,
            "detected_type": u.detected_type,
            "size_bytes": u.size_bytes,
            "sha256": u.sha256,
            "status": u.status,
            "error": u.error.as_ref().map(|m| serde_json::json!({"code": u.error_code, "message": m})),
            "page_count": u.page_count,
            "pages_done": u.pages_done,
            "attempts": u.attempts,
            "started_at": u.started_at,
            "finished_at": u.finished_at,
            "pages": pages.iter().map(|p| serde_json::json!({
                "number": p.number,
                "mean_confidence": p.mean_confidence,
                "duration_ms": p.duration_ms,
                "rotation": p.rotation,
                "words": p.word_count,
                "preview_url": format!("{base}/pages/{}/preview.png", p.number),
            })).collect::<Vec<_>>(),
            // text and JSON are always assembled; hOCR and PDF only when asked for.
            "downloads": (u.status == "complete").then(|| serde_json::json!({
                "text": format!("{base}/text"),
                "hocr": formats.hocr.then(|| format!("{base}/hocr")),
                "json": format!("{base}/json"),
                "pdf": formats.pdf.then(|| format!("{base}/pdf")),
            })),
        }));
    }
    Ok(serde_json::json!({
        "id": job.id,
        "status": job.status,
        "language": job.language,
        "outputs": job.formats,
        "error": job.error,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "finished_at": job.finished_at,
        "progress": { "pages_done": done, "pages_total": total },
        "results_url": format!("/api/v1/jobs/{job_id}/results"),
        "files": files,
    }))
}
