//! `/jobs/{id}`: one job, live. The page is complete as rendered; `job.js`
//! then follows the job's event stream and swaps in each file's card, rendered
//! here, when that file finishes. Cancel, delete and re-run are plain forms
//! (a `<details>` holds each confirmation), so they work without JavaScript.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use scribe_core::db::{self, queries};
use scribe_core::job::Status;
use scribe_core::languages;
use serde::Deserialize;

use super::errors::PageError;
use super::upload_page::LanguageOption;
use super::view::{self, FileCard, JobView};
use super::{Layout, render};
use crate::auth::{Browser, csrf_refused};
use crate::deletion;
use crate::error::ApiError;
use crate::routes::downloads::owned_upload;
use crate::routes::jobs::{Rerun, cancel_job, files_of, owned_job, rerun_job};
use crate::state::AppState;
use crate::views::{self, FileView};

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    layout: Layout,
    job: JobView,
    summary: String,
    csrf: String,
    languages: Vec<LanguageOption>,
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
    let rows = files_of(&state, job, true).await?;
    let view = view::job_view(&views::JobView::of(&rows));
    // The re-run form starts from the job's own main language.
    let main = view.language_code.split('+').next().unwrap_or_default();
    let languages = state
        .languages
        .iter()
        .map(|code| LanguageOption {
            name: languages::display_name(code).into_owned(),
            selected: code == main,
            code: code.clone(),
        })
        .collect();
    render(&JobPage {
        layout: Layout::new(""),
        summary: summary(&view),
        job: view,
        csrf: browser.0.csrf,
        languages,
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
    let file = FileView::of(&job, &upload, pages.iter(), job.formats());
    render(&CardFragment {
        file: view::file_card(job.id, &file),
    })
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
}

impl ActionForm {
    /// The form came from this browser's own page.
    fn check(&self, state: &AppState, browser: &Browser) -> Result<(), PageError> {
        if state.sessions.csrf_ok(&browser.0.owner, &self.csrf) {
            Ok(())
        } else {
            Err(csrf_refused().into())
        }
    }
}

/// The cancel button: cancel, then back to the job page.
#[post("/jobs/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    browser: Browser,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    form.check(&state, &browser)?;
    let job = cancel_job(&state, &browser.owner(), &id).await?;
    Ok(see_other(&format!("/jobs/{}", job.id)))
}

/// The delete button: delete, then to the history.
#[post("/jobs/{id}/delete")]
pub async fn delete(
    state: web::Data<AppState>,
    browser: Browser,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    form.check(&state, &browser)?;
    let job = owned_job(&state, &browser.owner(), &id).await?;
    deletion::delete_job(&state, &job).await?;
    Ok(see_other("/jobs?deleted=1"))
}

/// The re-run form: a new job from the same originals, then to that job.
#[post("/jobs/{id}/rerun")]
pub async fn rerun(
    state: web::Data<AppState>,
    browser: Browser,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let token = form
        .iter()
        .find(|(name, _)| name == "csrf")
        .map_or("", |(_, v)| v.as_str());
    if !state.sessions.csrf_ok(&browser.0.owner, token) {
        return Err(csrf_refused().into());
    }
    let changes = Rerun::from_pairs(&form)?;
    let accepted = rerun_job(&state, &browser.owner(), &req, &id, changes).await?;
    Ok(see_other(&format!("/jobs/{}", accepted.id())))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location.to_owned()))
        .finish()
}

/// One sentence for the status line (the live script writes the same ones).
fn summary(job: &JobView) -> String {
    let files = job.files.len();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match job.status.value {
        Status::Pending => format!("Waiting for a worker · {}", plural(files, "file")),
        Status::Processing if job.pages_total > 0 && job.pages_total_final => format!(
            "Reading · {} of {} pages done",
            job.pages_done, job.pages_total
        ),
        Status::Processing if job.pages_total > 0 => format!(
            "Reading · {} of ≥ {} pages done · counting…",
            job.pages_done, job.pages_total
        ),
        Status::Processing => "Reading the files".to_owned(),
        Status::Complete if job.files_failed > 0 => {
            format!("Complete · {} of {files} files failed", job.files_failed)
        }
        Status::Complete => format!(
            "Complete · {}, {}",
            plural(files, "file"),
            plural(job.pages_total as usize, "page")
        ),
        Status::Cancelled if job.pages_done > 0 => format!(
            "Cancelled · {} read before the cancel",
            plural(job.pages_done as usize, "page")
        ),
        Status::Cancelled => "Cancelled".to_owned(),
        Status::Error => "No file could be read".to_owned(),
    }
}
