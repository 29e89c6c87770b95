//! `/api/v1/jobs`: accept, inspect, list, cancel, delete and re-run jobs.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use object_store::ObjectStoreExt;
use scribe_core::db::models::{Job, JobFiles, NewJob, NewUpload, Upload};
use scribe_core::db::{self, queries, reuse};
use scribe_core::formats::Formats;
use scribe_core::job::Status;
use scribe_core::languages;
use scribe_core::storage::keys;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Owner;
use crate::deletion;
use crate::duplicates;
use crate::error::ApiError;
use crate::notify::{self, target::TargetError};
use crate::outbox::Outgoing;
use crate::publish;
use crate::state::AppState;
use crate::telemetry::RequestId;
use crate::upload::{self, Limits};
use crate::views::{AcceptedFile, AcceptedView, JobView};

#[utoipa::path(
    post,
    path = "/api/v1/jobs",
    tag = "jobs",
    request_body(content = CreateJob, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Accepted and queued (or answered at once from an identical earlier job)", body = crate::views::AcceptedView),
        (status = 400, description = "No file, an unknown language or output, or a malformed form", body = crate::error::ErrorEnvelope),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 413, description = "A file or the upload is too large", body = crate::error::ErrorEnvelope),
        (status = 415, description = "A file is of a type Scribe cannot read", body = crate::error::ErrorEnvelope),
        (status = 507, description = "The server's storage is full", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/jobs")]
#[tracing::instrument(skip_all, fields(owner = %owner.0))]
pub async fn create(
    state: web::Data<AppState>,
    owner: Owner,
    req: HttpRequest,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let accepted = accept_job(&state, &owner, &req, &mut form, None).await?;
    Ok(accepted_response(accepted))
}

/// The upload form, for the contract only: `upload::receive` reads the fields
/// as they stream in.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CreateJob {
    /// One or more documents (PDF, TIFF, PNG, JPEG, …); repeat the field.
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
    /// Tesseract languages joined by `+` (e.g. `deu+eng`); the default when left out.
    language: Option<String>,
    /// A comma-separated subset of `txt,hocr,json,pdf,pdfa,preview`, or `all` (the
    /// default: every one but `pdfa`, which makes the searchable PDF a PDF/A-2b file).
    outputs: Option<String>,
    /// Called with the job when it finishes.
    webhook_url: Option<String>,
    /// Told when the job finishes.
    notify_email: Option<String>,
    /// `true` reads PDF pages that have text of their own too (by default
    /// their text is kept, unless it is an earlier OCR found to misread them).
    force_ocr: Option<bool>,
}

/// `202` with the new job, as for every way a job is made.
pub fn accepted_response(accepted: Accepted) -> HttpResponse {
    HttpResponse::Accepted()
        .insert_header(("Location", accepted.view.status_url.clone()))
        .json(accepted.view)
}

/// A job that is stored and queued.
pub struct Accepted {
    pub view: AcceptedView,
    pub trace_id: String,
}

impl Accepted {
    pub fn id(&self) -> Uuid {
        self.view.id
    }
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
    let received = upload::receive(&state.originals, job_id, form, &limits, csrf).await?;
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
    let notify = Notify::check(state, received.webhook_url, received.notify_email).await?;
    let files = received.files;
    let job = JobSpec {
        id: job_id,
        language,
        formats,
        force_ocr: received.force_ocr,
        notify,
    };
    queue_job(state, owner, job, files, trace_id, Fresh::ReuseDuplicates).await
}

/// Who hears of the job's end, as checked when the job is accepted.
pub struct Notify {
    pub webhook_url: Option<String>,
    pub notify_email: Option<String>,
}

impl Notify {
    async fn check(
        state: &AppState,
        webhook_url: Option<String>,
        notify_email: Option<String>,
    ) -> Result<Self, ApiError> {
        let web = &state.settings.web;
        let webhook_url = match webhook_url {
            None => None,
            Some(_) if web.webhook_secret.is_empty() => {
                return Err(ApiError::bad(
                    "webhooks_disabled",
                    "this server sends no webhooks (no web.webhook_secret is set)",
                ));
            }
            Some(raw) => Some(
                notify::target::check(&raw, web.webhook_allow_private)
                    .await
                    .map_err(|e| {
                        let code = match e {
                            TargetError::NotPublic(_) => "webhook_target_refused",
                            TargetError::Unresolvable(_) => "webhook_unresolvable",
                            TargetError::Malformed(_) | TargetError::Scheme => "bad_webhook_url",
                        };
                        ApiError::bad(code, e.to_string())
                    })?
                    .to_string(),
            ),
        };
        let notify_email = match notify_email {
            None => None,
            Some(_) if state.settings.notify.smtp_url.is_empty() => {
                return Err(ApiError::bad(
                    "email_disabled",
                    "this server sends no emails (no notify.smtp_url is set)",
                ));
            }
            Some(raw) => {
                let address: lettre::Address = raw.parse().map_err(|_| {
                    ApiError::bad(
                        "bad_notify_email",
                        "`notify_email` is not an email address like name@example.org",
                    )
                })?;
                Some(address.to_string())
            }
        };
        Ok(Self {
            webhook_url,
            notify_email,
        })
    }
}

/// What a new job is, apart from its owner and files.
struct JobSpec {
    id: Uuid,
    language: String,
    formats: Formats,
    force_ocr: bool,
    notify: Notify,
}

/// Whether a new job may be answered from an earlier identical one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    ReuseDuplicates,
    /// A re-run asks for the OCR to be done again.
    AlwaysOcr,
}

/// Records a job whose originals are stored and hands it to the relay, or,
/// for a duplicate, records it complete with the earlier job's results.
async fn queue_job(
    state: &AppState,
    owner: &Owner,
    job: JobSpec,
    files: Vec<NewUpload>,
    trace_id: &str,
    fresh: Fresh,
) -> Result<Accepted, ApiError> {
    let JobSpec {
        id: job_id,
        language,
        formats,
        force_ocr,
        notify,
    } = job;
    let new_job = NewJob {
        id: job_id,
        owner: owner.0.clone(),
        language: language.clone(),
        formats: serde_json::to_value(formats).map_err(ApiError::internal)?,
        webhook_url: notify.webhook_url,
        notify_email: notify.notify_email,
        force_ocr,
    };
    let upload_ids: Vec<Uuid> = files.iter().map(|f| f.id).collect();
    let summary: Vec<AcceptedFile> = files
        .iter()
        .map(|f| AcceptedFile {
            id: f.id,
            file_name: f.file_name.clone(),
            detected_type: f.detected_type.clone(),
            size_bytes: f.size_bytes,
            sha256: f.sha256.clone(),
        })
        .collect();
    let reuse = fresh == Fresh::ReuseDuplicates && state.settings.web.reuse_duplicates;
    let (job, uploads) = (new_job.clone(), files.clone());
    let duplicate = db::run(&state.db, move |c| {
        reuse::insert_unless_duplicate(c, &job, &uploads, reuse)
    })
    .await?;
    let mut reused_from = None;
    if let Some(earlier) = duplicate {
        let from = earlier.0;
        if duplicates::copy(state, new_job.clone(), files.clone(), earlier).await? {
            reused_from = Some(from);
        } else {
            db::run(&state.db, move |c| queries::insert_job(c, &new_job, &files)).await?;
        }
    }
    if reused_from.is_none() {
        // The job is durable from here; the broker is not on the answer's path: the
        // relay publishes it, and if that fails the sweeper does.
        state.outbox.send(Outgoing {
            job_id,
            uploads: upload_ids,
            trace_id: trace_id.to_owned(),
        });
    }
    state.metrics.jobs_accepted.inc();
    Ok(Accepted {
        view: AcceptedView {
            id: job_id,
            status: if reused_from.is_some() {
                Status::Complete
            } else {
                Status::Pending
            },
            reused_from,
            language,
            outputs: formats,
            force_ocr,
            status_url: format!("/api/v1/jobs/{job_id}"),
            results_url: format!("/api/v1/jobs/{job_id}/results"),
            files: summary,
        },
        trace_id: trace_id.to_owned(),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}",
    tag = "jobs",
    params(
        ("id" = uuid::Uuid, Path, description = "The job"),
    ),
    responses(
        (status = 200, description = "The job, its files and their pages", body = crate::views::JobView),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 404, description = "No such job (or not this owner's), or no such part of it", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/jobs/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = owned_job(&state, &owner, &id).await?;
    Ok(HttpResponse::Ok().json(job_view(&state, job, false).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// 1-based; past the last page is an empty list.
    #[serde(default)]
    page: Option<i64>,
    /// 1 to 100 (values outside are clamped); 20 when left out.
    #[serde(default)]
    per_page: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobList {
    page: i64,
    per_page: i64,
    jobs: Vec<JobView>,
}

#[utoipa::path(
    get,
    path = "/api/v1/jobs",
    tag = "jobs",
    params(
        Paging,
    ),
    responses(
        (status = 200, description = "The owner's jobs, newest first", body = JobList),
        (status = 400, description = "A malformed query", body = crate::error::ErrorEnvelope),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
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
        queries::jobs_with_files(c, &o, &Default::default(), per_page, offset)
    })
    .await?;
    Ok(HttpResponse::Ok().json(JobList {
        page,
        per_page,
        jobs: jobs.iter().map(JobView::of).collect(),
    }))
}

/// The 1-based page asked for (at least 1, at most what an offset can hold)
/// and its row offset: `?page=9223372036854775807` is an empty page, not an overflow.
pub fn page_window(page: Option<i64>, per_page: i64) -> (i64, i64) {
    let page = page.unwrap_or(1).clamp(1, i64::MAX / per_page.max(1));
    (page, (page - 1) * per_page)
}

#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/cancel",
    tag = "jobs",
    params(
        ("id" = uuid::Uuid, Path, description = "The job"),
    ),
    responses(
        (status = 200, description = "The job, now cancelled", body = crate::views::JobView),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 404, description = "No such job (or not this owner's), or no such part of it", body = crate::error::ErrorEnvelope),
        (status = 409, description = "The job is already finished", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/jobs/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = cancel_job(&state, &owner, &id).await?;
    Ok(HttpResponse::Ok().json(job_view(&state, job, false).await?))
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
        &scribe_core::task::JobEvent::job(job_id, Status::Cancelled),
    )
    .await;
    owned_job(state, owner, id).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/jobs/{id}",
    tag = "jobs",
    params(
        ("id" = uuid::Uuid, Path, description = "The job"),
    ),
    responses(
        (status = 204, description = "The job and everything stored for it are gone"),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 404, description = "No such job (or not this owner's), or no such part of it", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[delete("/api/v1/jobs/{id}")]
#[tracing::instrument(skip_all, fields(owner = %owner.0))]
pub async fn delete(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = owned_job(&state, &owner, &id).await?;
    deletion::delete_job(&state, &job).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What a re-run changes; anything left out is taken from the original job.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rerun {
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub outputs: Option<String>,
    /// Read PDF pages that have text of their own too.
    #[serde(default)]
    pub force_ocr: Option<bool>,
}

impl Rerun {
    /// Form fields, repeated ones combined as the upload form's are
    /// (`language=deu&language=eng` is `deu+eng`); empty ones are ignored,
    /// and of several `force_ocr` the last counts (a form sends `false`
    /// before its checkbox, which sends `on` only when ticked).
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut languages = Vec::new();
        let mut outputs = Vec::new();
        let mut force_ocr = None;
        for (name, value) in pairs {
            let value = value.trim();
            match name.as_str() {
                _ if value.is_empty() => {}
                "language" => languages.push(value),
                "outputs" => outputs.push(value),
                "force_ocr" => force_ocr = Some(upload::flag(name, value)?),
                // The portal's form carries its token and its confirmation.
                "csrf" => {}
                other => {
                    return Err(ApiError::bad(
                        "malformed_body",
                        format!(
                            "unknown field `{}`; send `language`, `outputs` and/or `force_ocr`",
                            other.chars().take(40).collect::<String>()
                        ),
                    ));
                }
            }
        }
        Ok(Self {
            language: (!languages.is_empty()).then(|| languages.join("+")),
            outputs: (!outputs.is_empty()).then(|| outputs.join(",")),
            force_ocr,
        })
    }

    /// A JSON object, a form, or nothing at all (the same settings again).
    fn from_body(req: &HttpRequest, body: &[u8]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let malformed = |e: &dyn std::fmt::Display| {
            ApiError::bad(
                "malformed_body",
                format!(
                    "the body could not be read: {e}; send JSON like {{\"language\": \"deu\", \"outputs\": \"txt,pdf\", \"force_ocr\": true}}"
                ),
            )
        };
        let json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"));
        if json {
            return serde_json::from_slice(body).map_err(|e| malformed(&e));
        }
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| malformed(&e))?;
        Self::from_pairs(&pairs)
    }
}

/// A new job from the stored originals of `{id}`, with another language, outputs or `force_ocr`.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/rerun",
    tag = "jobs",
    request_body(content = Rerun, description = "What to change; an empty body re-runs with the same settings", content(
        (Rerun = "application/json"),
        (Rerun = "application/x-www-form-urlencoded"),
    )),
    params(
        ("id" = uuid::Uuid, Path, description = "The job"),
    ),
    responses(
        (status = 202, description = "Accepted and queued (or answered at once from an identical earlier job)", body = crate::views::AcceptedView),
        (status = 400, description = "An unknown language or output, or a malformed body", body = crate::error::ErrorEnvelope),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 404, description = "No such job (or not this owner's), or no such part of it", body = crate::error::ErrorEnvelope),
        (status = 409, description = "The originals are no longer stored", body = crate::error::ErrorEnvelope),
        (status = 507, description = "The server's storage is full", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/jobs/{id}/rerun")]
#[tracing::instrument(skip_all, fields(owner = %owner.0))]
pub async fn rerun(
    state: web::Data<AppState>,
    owner: Owner,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let changes = Rerun::from_body(&req, &body)?;
    let accepted = rerun_job(&state, &owner, &req, &id, changes).await?;
    Ok(accepted_response(accepted))
}

/// Copies the originals of the owner's job `id` under a new job and queues it.
pub async fn rerun_job(
    state: &AppState,
    owner: &Owner,
    req: &HttpRequest,
    id: &str,
    changes: Rerun,
) -> Result<Accepted, ApiError> {
    let job = owned_job(state, owner, id).await?;
    let language = languages::validate(
        changes.language.as_deref().unwrap_or(&job.language),
        &state.languages,
    )
    .map_err(|e| ApiError::bad("unknown_language", e.to_string()))?;
    let formats: Formats = match changes.outputs.as_deref() {
        Some(names) => names
            .parse()
            .map_err(|e: scribe_core::formats::UnknownFormat| {
                ApiError::bad("unknown_output", e.to_string())
            })?,
        None => job.formats(),
    };
    let old_id = job.id;
    let uploads = db::run(&state.db, move |c| queries::uploads_of(c, old_id)).await?;
    let new_id = Uuid::new_v4();
    let copied = copy_originals(state, new_id, &uploads).await;
    let files = match copied {
        Ok(files) => files,
        Err(e) => {
            upload::discard(&state.store, new_id).await;
            return Err(e);
        }
    };
    let trace_id = RequestId::of(req);
    // The same people hear of the re-run; delivery checks the target again.
    let spec = JobSpec {
        id: new_id,
        language,
        formats,
        force_ocr: changes.force_ocr.unwrap_or(job.force_ocr),
        notify: Notify {
            webhook_url: job.webhook_url.clone(),
            notify_email: job.notify_email.clone(),
        },
    };
    let queued = queue_job(state, owner, spec, files, &trace_id, Fresh::AlwaysOcr).await;
    if queued.is_err() {
        upload::discard(&state.store, new_id).await;
    }
    queued
}

/// The new job's files: a copy of each original under the new ids (storage
/// copies in place; the bytes never pass through the web).
async fn copy_originals(
    state: &AppState,
    to_job: Uuid,
    uploads: &[Upload],
) -> Result<Vec<NewUpload>, ApiError> {
    let mut files = Vec::with_capacity(uploads.len());
    for u in uploads {
        let id = Uuid::new_v4();
        let to = keys::original(to_job, id);
        state
            .store
            .copy(&keys::stored(&u.storage_key), &to)
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => ApiError::Conflict(format!(
                    "the original of `{}` is no longer stored; upload it again",
                    u.file_name
                )),
                other => other.into(),
            })?;
        files.push(NewUpload {
            id,
            job_id: to_job,
            position: u.position,
            file_name: u.file_name.clone(),
            storage_key: to.to_string(),
            detected_type: u.detected_type.clone(),
            size_bytes: u.size_bytes,
            sha256: u.sha256.clone(),
        });
    }
    Ok(files)
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
pub async fn files_of(state: &AppState, job: Job, with_text: bool) -> Result<JobFiles, ApiError> {
    Ok(db::run(&state.db, move |c| queries::files_of_job(c, job, with_text)).await?)
}

pub async fn job_view(state: &AppState, job: Job, with_text: bool) -> Result<JobView, ApiError> {
    Ok(JobView::of(&files_of(state, job, with_text).await?))
}
