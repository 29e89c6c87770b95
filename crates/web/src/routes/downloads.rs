//! Results and per-file downloads, with the right content types and
//! `Content-Disposition` names derived from the uploaded file's display name.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};
use object_store::ObjectStoreExt;
use object_store::path::Path;
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
        .body(bytes))
}

#[get("/api/v1/jobs/{id}/files/{upload}/{kind}")]
pub async fn file(
    state: web::Data<AppState>,
    owner: Owner,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, upload, kind) = path.into_inner();
    let job = owned_job(&state, &owner, &id).await?;
    let upload_id = Uuid::parse_str(&upload).map_err(|_| ApiError::NotFound)?;
    let upload = db::run(&state.db, move |c| queries::upload(c, upload_id))
        .await?
        .filter(|u| u.job_id == job.id)
        .ok_or(ApiError::NotFound)?;
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
    let bytes = get(&state, &keys::upload_file(job.id, upload.id, name)).await?;
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
        .body(bytes))
}

#[get("/api/v1/jobs/{id}/files/{upload}/pages/{n}/preview.png")]
pub async fn preview(
    state: web::Data<AppState>,
    owner: Owner,
    path: web::Path<(String, String, usize)>,
) -> Result<HttpResponse, ApiError> {
    let (id, upload, n) = path.into_inner();
    let job = owned_job(&state, &owner, &id).await?;
    let upload_id = Uuid::parse_str(&upload).map_err(|_| ApiError::NotFound)?;
    let job_id = job.id;
    db::run(&state.db, move |c| queries::upload(c, upload_id))
        .await?
        .filter(|u| u.job_id == job_id)
        .ok_or(ApiError::NotFound)?;
    let bytes = get(&state, &keys::page(job.id, upload_id, n, "png")).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .body(bytes))
}

async fn get(state: &AppState, key: &Path) -> Result<bytes::Bytes, ApiError> {
    Ok(state.store.get(key).await?.bytes().await?)
}
