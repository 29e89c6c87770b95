//! Results and per-file downloads, with the right content types and
//! `Content-Disposition` names derived from the uploaded file's display name.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path;
use scribe_core::db::models::{Job, Upload};
use scribe_core::db::{self, queries};
use scribe_core::storage::keys;
use uuid::Uuid;

use super::jobs::owned_job;
use crate::auth::Owner;
use crate::error::ApiError;
use crate::state::AppState;

#[get("/api/v1/jobs/{id}/results")]
pub async fn results(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = owned_job(&state, &owner, &id).await?;
    if job.status != "complete" && job.status != "error" {
        return Err(ApiError::Conflict(format!(
            "the job is {}; results are ready when it is complete",
            job.status
        )));
    }
    let bytes = get(&state, &keys::job_results(job.id)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .streaming(bytes))
}

#[get("/api/v1/jobs/{id}/files/{upload}/{kind}")]
pub async fn file(
    state: web::Data<AppState>,
    owner: Owner,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, upload, kind) = path.into_inner();
    let (job, upload) = owned_upload(&state, &owner, &id, &upload).await?;
    let (name, content_type, ext) = match kind.as_str() {
        "text" => ("text.txt", "text/plain; charset=utf-8", "txt"),
        "hocr" => ("hocr.html", "text/html; charset=utf-8", "hocr.html"),
        "json" => ("results.json", "application/json", "json"),
        "pdf" => ("searchable.pdf", "application/pdf", "pdf"),
        _ => return Err(ApiError::NotFound),
    };
    if upload.status != "complete" {
        return Err(ApiError::Conflict(format!(
            "this file is {}; downloads are ready when it is complete",
            upload.status
        )));
    }
    let bytes = get(&state, &keys::upload_file(job.id, upload.id, name))
        .await
        .map_err(|e| missing(e, &format!("this job did not ask for the `{kind}` output")))?;
    let stem = upload
        .file_name
        .rsplit_once('.')
        .map_or(upload.file_name.as_str(), |(s, _)| s);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!("{stem}.{ext}"))],
        })
        .streaming(bytes))
}

#[get("/api/v1/jobs/{id}/files/{upload}/pages/{n}/preview.png")]
pub async fn preview(
    state: web::Data<AppState>,
    owner: Owner,
    path: web::Path<(String, String, usize)>,
) -> Result<HttpResponse, ApiError> {
    let (id, upload, n) = path.into_inner();
    let (job, upload) = owned_upload(&state, &owner, &id, &upload).await?;
    let upload_id = upload.id;
    let bytes = get(&state, &keys::page(job.id, upload_id, n, "png"))
        .await
        .map_err(|e| missing(e, &format!("page {n} has no preview (not processed, out of range, or previews not requested)")))?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .streaming(bytes))
}

/// The job and one of its files, if this owner has them; anything else is 404.
pub async fn owned_upload(
    state: &AppState,
    owner: &Owner,
    job_id: &str,
    upload_id: &str,
) -> Result<(Job, Upload), ApiError> {
    let job = owned_job(state, owner, job_id).await?;
    let upload_id = Uuid::parse_str(upload_id).map_err(|_| ApiError::NotFound)?;
    let upload = db::run(&state.db, move |c| queries::upload(c, upload_id))
        .await?
        .filter(|u| u.job_id == job.id)
        .ok_or(ApiError::NotFound)?;
    Ok((job, upload))
}

/// Turns "no such object" into a message about what is missing.
fn missing(e: ApiError, what: &str) -> ApiError {
    match e {
        ApiError::NotFound => ApiError::Missing(what.to_owned()),
        other => other,
    }
}

/// The object as a response body, streamed: a large searchable PDF never sits whole in memory.
async fn get(
    state: &AppState,
    key: &Path,
) -> Result<BoxStream<'static, Result<Bytes, ApiError>>, ApiError> {
    let object = state.store.get(key).await?;
    Ok(object.into_stream().map_err(ApiError::from).boxed())
}
