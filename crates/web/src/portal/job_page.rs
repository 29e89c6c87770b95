//! `/jobs/{id}`: one job, live. The page is complete as rendered; `job.js`
//! then follows the job's event stream and swaps in each file's card, rendered
//! here, when that file finishes.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use scribe_core::db::models::{Job, Page};
use scribe_core::db::{self, queries};
use serde::Deserialize;

use super::errors::PageError;
use super::view::{self, FileCard, JobView};
use super::{Layout, render};
use crate::auth::{Browser, csrf_refused};
use crate::error::ApiError;
use crate::routes::downloads::owned_upload;
use crate::routes::jobs::{cancel_job, files_of, owned_job};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    layout: Layout,
    job: JobView,
    summary: String,
    csrf: String,
}

#[derive(Template)]
#[template(path = "file_card.html")]
struct CardFragment {
    file: FileCard,
}

#[get("/jobs/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    browser: Browser,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let job = owned_job(&state, &browser.owner(), &id).await?;
    let (uploads, pages) = files_of(&state, job.id, true).await?;
    let view = view::job_view(&job, &uploads, &pages);
    render(&JobPage {
        layout: Layout::new(""),
        summary: summary(&view),
        job: view,
        csrf: browser.0.csrf,
    })
}

/// One file's card, for the live page to swap in.
#[get("/jobs/{id}/files/{upload}")]
pub async fn card(
    state: web::Data<AppState>,
    browser: Browser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, upload) = path.into_inner();
    let (job, upload) = owned_upload(&state, &browser.owner(), &id, &upload).await?;
    let upload_id = upload.id;
    let pages = db::run(&state.db, move |c| {
        queries::pages_of_uploads(c, &[upload_id], true)
    })
    .await
    .map_err(ApiError::from)?;
    let own: Vec<&Page> = pages.iter().collect();
    render(&CardFragment {
        file: view::file_card(job.id, &upload, &own, job.formats()),
    })
}

#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    csrf: String,
}

/// The cancel button without JavaScript: cancel, then back to the job page.
#[post("/jobs/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    browser: Browser,
    id: web::Path<String>,
    form: web::Form<CancelForm>,
) -> Result<HttpResponse, PageError> {
    if !state.sessions.csrf_ok(&browser.0.owner, &form.csrf) {
        return Err(csrf_refused().into());
    }
    let job: Job = cancel_job(&state, &browser.owner(), &id).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/jobs/{}", job.id)))
        .finish())
}

/// One sentence for the status line (the live script writes the same ones).
fn summary(job: &JobView) -> String {
    let files = job.files.len();
    let failed = job.files.iter().filter(|f| f.status.key == "error").count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match job.status.key {
        "pending" => format!("Waiting for a worker · {}", plural(files, "file")),
        "processing" if job.pages_total > 0 => format!(
            "Reading · {} of {} pages done",
            job.pages_done, job.pages_total
        ),
        "processing" => "Reading the files".to_owned(),
        "complete" if failed > 0 => format!(
            "Complete · {} of {files} could not be read",
            plural(failed, "file")
        ),
        "complete" => format!(
            "Complete · {}, {}",
            plural(files, "file"),
            plural(job.pages_total as usize, "page")
        ),
        "cancelled" => "Cancelled".to_owned(),
        _ => "No file could be read".to_owned(),
    }
}
