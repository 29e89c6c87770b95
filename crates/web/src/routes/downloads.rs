//! Results and per-file downloads, with the right content types and
//! `Content-Disposition` names derived from the uploaded file's display name.

use actix_web::http::header::{
    Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpResponse, get, web};
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path;
use scribe_core::db::models::{Job, Page, Upload};
use scribe_core::db::{self, queries};
use scribe_core::job::Status;
use scribe_core::results::FileResults;
use scribe_core::storage::keys;
use uuid::Uuid;

use super::jobs::{files_of, owned_job};
use crate::auth::Owner;
use crate::error::ApiError;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/results",
    tag = "jobs",
    params(
        ("id" = uuid::Uuid, Path, description = "The job"),
    ),
    responses(
        (status = 200, description = "The job's results.json (partial for a cancelled job)", body = serde_json::Value),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 404, description = "No such job (or not this owner's), or no such part of it", body = crate::error::ErrorEnvelope),
        (status = 409, description = "The job is not finished yet", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/jobs/{id}/results")]
pub async fn results(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = owned_job(&state, &owner, &id).await?;
    match job.status {
        Status::Complete | Status::Error => {
            let bytes = get(&state, &keys::job_results(job.id)).await?;
            Ok(HttpResponse::Ok()
                .content_type("application/json")
                .streaming(bytes))
        }
        // No worker writes a cancelled job's results: they are made from what was read.
        Status::Cancelled => {
            let rows = files_of(&state, job, false).await?;
            let mut files = Vec::with_capacity(rows.uploads.len());
            for u in &rows.uploads {
                let pages: Vec<i32> = pages_of(&rows.pages, u.id).map(|p| p.number).collect();
                files.push(FileResults {
                    upload_id: u.id,
                    file_name: &u.file_name,
                    status: u.status,
                    error: u.error.as_deref(),
                    result: Some(upload_result(&state, rows.job.id, u, &pages).await?),
                });
            }
            Ok(HttpResponse::Ok()
                .insert_header((NOTE_HEADER, CANCELLED_NOTE))
                .json(serde_json::json!({
                    "job_id": rows.job.id,
                    "status": Status::Cancelled,
                    "note": CANCELLED_NOTE,
                    "files": files,
                })))
        }
        active => Err(ApiError::Conflict(format!(
            "the job is {active}; results are ready when it is finished"
        ))),
    }
}

/// Says, beside a cancelled job's results and downloads, that they are partial.
const NOTE_HEADER: &str = "X-Scribe-Note";
const CANCELLED_NOTE: &str = "the job was cancelled: these are the pages read before the cancel";

fn pages_of(pages: &[Page], upload: Uuid) -> impl Iterator<Item = &Page> {
    pages.iter().filter(move |p| p.upload_id == upload)
}

/// A file's results: the assembled `results.json` once it is complete, else
/// (a cancelled job) the results of the pages read, marked partial; `null`
/// for a file that was never read.
async fn upload_result(
    state: &AppState,
    job_id: Uuid,
    u: &Upload,
    pages: &[i32],
) -> Result<serde_json::Value, ApiError> {
    if u.status == Status::Complete {
        let bytes = read(state, &keys::upload_file(job_id, u.id, "results.json"))
            .await
            .map_err(|e| {
                missing(
                    e,
                    &format!("the results of `{}` are not stored", u.file_name),
                )
            })?;
        return serde_json::from_slice(&bytes).map_err(ApiError::internal);
    }
    if pages.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    let mut read_pages = Vec::with_capacity(pages.len());
    for &n in pages {
        let bytes = read(state, &keys::page(job_id, u.id, n as usize, "json"))
            .await
            .map_err(|e| missing(e, &format!("page {n}'s results are not stored")))?;
        read_pages
            .push(serde_json::from_slice::<serde_json::Value>(&bytes).map_err(ApiError::internal)?);
    }
    Ok(serde_json::json!({
        "partial": true,
        "file_name": u.file_name,
        "page_count": u.page_count,
        "pages_read": pages.len(),
        "pages": read_pages,
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/files/{upload}/{kind}",
    tag = "jobs",
    params(
        ("id" = uuid::Uuid, Path, description = "The job"),
        ("upload" = uuid::Uuid, Path, description = "The file (an `id` from the job's `files`)"),
        ("kind" = inline(OutputKind), Path, description = "Which output"),
    ),
    responses(
        (status = 200, description = "The output, as an attachment", content(
            (String = "text/plain"),
            (String = "text/html"),
            // results.json: its schema is the README's `results.json` section.
            (serde_json::Value = "application/json"),
            (String = "application/pdf"),
        )),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 404, description = "No such job (or not this owner's), or no such part of it", body = crate::error::ErrorEnvelope),
        (status = 409, description = "The file is not complete yet", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/jobs/{id}/files/{upload}/{kind}")]
pub async fn file(
    state: web::Data<AppState>,
    owner: Owner,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, upload, kind) = path.into_inner();
    let (job, upload) = owned_upload(&state, &owner, &id, &upload).await?;
    let Some(output) = Output::named(&kind) else {
        return Err(ApiError::Missing(format!(
            "there is no `{kind}` download; a file has {}",
            Output::ALL.map(|o| format!("`{}`", o.kind)).join(", ")
        )));
    };
    let (name, content_type) = (output.stored, output.content_type);
    let disposition = attachment(&output.file_name(&upload.file_name));
    match upload.status {
        Status::Complete => {}
        Status::Cancelled => {
            let body = partial_download(&state, job.id, &upload, &kind).await?;
            return Ok(HttpResponse::Ok()
                .content_type(content_type)
                .insert_header(disposition)
                .insert_header((NOTE_HEADER, CANCELLED_NOTE))
                .body(body));
        }
        Status::Error => {
            return Err(ApiError::Conflict(format!(
                "this file could not be read, so it has no downloads: {}",
                upload.error.as_deref().unwrap_or("no reason was recorded")
            )));
        }
        Status::Pending | Status::Processing => {
            return Err(ApiError::Conflict(
                "this file is still being read; its downloads are ready when it is complete"
                    .to_owned(),
            ));
        }
    }
    let bytes = get(&state, &keys::upload_file(job.id, upload.id, name))
        .await
        .map_err(|e| missing(e, &format!("this job did not ask for the `{kind}` output")))?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(disposition)
        .streaming(bytes))
}

/// The `{kind}` of a download as the contract names it; a unit test holds it
/// to [`Output::ALL`].
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum OutputKind {
    Text,
    Hocr,
    Json,
    Pdf,
}

/// One downloadable output of a file: how the API names it, where it is
/// stored, and what the user's copy is called.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub kind: &'static str,
    pub stored: &'static str,
    pub content_type: &'static str,
    ext: &'static str,
}

impl Output {
    pub const ALL: [Output; 4] = [
        Output {
            kind: "text",
            stored: "text.txt",
            content_type: "text/plain; charset=utf-8",
            ext: "txt",
        },
        Output {
            kind: "hocr",
            stored: "hocr.html",
            content_type: "text/html; charset=utf-8",
            ext: "hocr.html",
        },
        Output {
            kind: "json",
            stored: "results.json",
            content_type: "application/json",
            ext: "json",
        },
        // Beside the original in a folder, the searchable copy must not look like it.
        Output {
            kind: "pdf",
            stored: "searchable.pdf",
            content_type: "application/pdf",
            ext: "ocr.pdf",
        },
    ];

    pub fn named(kind: &str) -> Option<Output> {
        Self::ALL.into_iter().find(|o| o.kind == kind)
    }

    /// `scan.pdf` → `scan.ocr.pdf`, `scan.txt`, …
    pub fn file_name(&self, uploaded: &str) -> String {
        self.with_stem(stem(uploaded))
    }

    pub fn with_stem(&self, stem: &str) -> String {
        format!("{stem}.{}", self.ext)
    }
}

/// The uploaded name without its extension.
pub fn stem(file_name: &str) -> &str {
    file_name.rsplit_once('.').map_or(file_name, |(s, _)| s)
}

/// What a file of a cancelled job has: the text and the JSON of its pages read.
async fn partial_download(
    state: &AppState,
    job_id: Uuid,
    upload: &Upload,
    kind: &str,
) -> Result<Vec<u8>, ApiError> {
    let with_text = kind == "text";
    let upload_id = upload.id;
    let pages = db::run(&state.db, move |c| {
        queries::pages_of_uploads(c, &[upload_id], with_text)
    })
    .await?;
    if pages.is_empty() || !matches!(kind, "text" | "json") {
        return Err(ApiError::Conflict(format!(
            "the job was cancelled before this file was finished; {}",
            if pages.is_empty() {
                "none of its pages was read".to_owned()
            } else {
                format!(
                    "only the text and the JSON of the {} pages read can be downloaded",
                    pages.len()
                )
            }
        )));
    }
    if with_text {
        // Pages separated by form feeds, as in a finished file's text.
        let texts: Vec<&str> = pages.iter().map(|p| p.text.as_str()).collect();
        return Ok(texts.join("\u{c}").into_bytes());
    }
    let numbers: Vec<i32> = pages.iter().map(|p| p.number).collect();
    let result = upload_result(state, job_id, upload, &numbers).await?;
    serde_json::to_vec_pretty(&result).map_err(ApiError::internal)
}

#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/files/{upload}/pages/{n}/preview.png",
    tag = "jobs",
    params(
        ("id" = uuid::Uuid, Path, description = "The job"),
        ("upload" = uuid::Uuid, Path, description = "The file (an `id` from the job's `files`)"),
        ("n" = u32, Path, description = "The page, from 1"),
    ),
    responses(
        (status = 200, description = "The page's preview", content_type = "image/png", body = String),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 404, description = "No such job (or not this owner's), or no such part of it", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
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

/// `Content-Disposition: attachment` naming `file_name`: as plain `filename` when it
/// is ASCII, else also as RFC 5987's `filename*`, which browsers prefer and read
/// as UTF-8 (raw UTF-8 in `filename` is read differently by each).
pub fn attachment(file_name: &str) -> ContentDisposition {
    let mut parameters = Vec::with_capacity(2);
    if file_name.is_ascii() {
        parameters.push(DispositionParam::Filename(file_name.to_owned()));
    } else {
        let fallback: String = file_name
            .chars()
            .map(|c| if c.is_ascii() { c } else { '_' })
            .collect();
        parameters.push(DispositionParam::Filename(fallback));
        parameters.push(DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".to_owned()),
            language_tag: None,
            value: file_name.as_bytes().to_vec(),
        }));
    }
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters,
    }
}

/// Turns "no such object" into a message about what is missing.
fn missing(e: ApiError, what: &str) -> ApiError {
    match e {
        ApiError::NotFound => ApiError::Missing(what.to_owned()),
        other => other,
    }
}

/// A small stored object, whole.
async fn read(state: &AppState, key: &Path) -> Result<Bytes, ApiError> {
    let object = state.store.get(key).await?;
    Ok(object.bytes().await?)
}

/// The object as a response body, streamed: a large searchable PDF never sits whole in memory.
async fn get(
    state: &AppState,
    key: &Path,
) -> Result<BoxStream<'static, Result<Bytes, ApiError>>, ApiError> {
    let object = state.store.get(key).await?;
    Ok(object.into_stream().map_err(ApiError::from).boxed())
}

#[cfg(test)]
mod tests {
    use super::{Output, OutputKind, attachment};
    use utoipa::{OpenApi, PartialSchema};

    #[test]
    fn a_name_beyond_ascii_travels_as_utf8_with_an_ascii_fallback() {
        assert_eq!(
            attachment("scan.txt").to_string(),
            "attachment; filename=\"scan.txt\""
        );
        let header = attachment("Übersicht 2024.txt").to_string();
        assert!(
            header.contains("filename=\"_bersicht 2024.txt\""),
            "{header}"
        );
        assert!(
            header.contains("filename*=UTF-8''%C3%9Cbersicht%202024.txt"),
            "{header}"
        );
    }

    #[test]
    fn the_contract_names_exactly_the_outputs_served() {
        let schema = serde_json::to_value(OutputKind::schema()).expect("schema");
        let named: Vec<&str> = schema["enum"]
            .as_array()
            .expect("an enum")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let served: Vec<&str> = Output::ALL.iter().map(|o| o.kind).collect();
        assert_eq!(named, served);
        let doc = serde_json::to_value(crate::openapi::ApiDoc::openapi()).expect("document");
        let declared = &doc["paths"]["/api/v1/jobs/{id}/files/{upload}/{kind}"]["get"]["responses"]
            ["200"]["content"];
        for o in Output::ALL {
            let media = o.content_type.split(';').next().unwrap_or_default();
            assert!(
                declared.get(media).is_some(),
                "{media} is not in the contract: {declared}"
            );
        }
    }
}
