//! `/jobs`: this browser's uploads, newest first, a page at a time.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use scribe_core::db::models::{Job, Upload};
use scribe_core::db::{self, queries};
use scribe_core::languages;
use serde::Deserialize;
use uuid::Uuid;

use super::errors::PageError;
use super::view::{self, StatusView};
use super::{Layout, render};
use crate::auth::Browser;
use crate::routes::jobs::page_window;
use crate::state::AppState;

const PER_PAGE: i64 = 20;
/// File names listed per row before "and N more".
const NAMES_SHOWN: usize = 3;

pub struct Row {
    id: Uuid,
    created: String,
    files: String,
    size: String,
    pages: String,
    language: String,
    status: StatusView,
    duration: String,
}

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage {
    layout: Layout,
    rows: Vec<Row>,
    page: i64,
    pages: i64,
}

#[derive(Deserialize)]
pub struct Paging {
    page: Option<i64>,
}

#[get("/jobs")]
pub async fn show(
    state: web::Data<AppState>,
    browser: Browser,
    q: web::Query<Paging>,
) -> Result<HttpResponse, PageError> {
    let (page, offset) = page_window(q.page, PER_PAGE);
    let owner = browser.0.owner;
    let (total, jobs, uploads) = db::run(&state.db, move |c| {
        let total = queries::count_jobs_of_owner(c, &owner)?;
        let jobs = queries::jobs_of_owner(c, &owner, PER_PAGE, offset)?;
        let ids: Vec<Uuid> = jobs.iter().map(|j| j.id).collect();
        Ok((total, jobs, queries::uploads_of_jobs(c, &ids)?))
    })
    .await
    .map_err(crate::error::ApiError::from)?;
    render(&HistoryPage {
        layout: Layout::new("history"),
        rows: jobs.iter().map(|j| row(j, &uploads)).collect(),
        page,
        pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
    })
}

fn row(job: &Job, uploads: &[Upload]) -> Row {
    let files: Vec<&Upload> = uploads.iter().filter(|u| u.job_id == job.id).collect();
    let mut names: Vec<&str> = files
        .iter()
        .take(NAMES_SHOWN)
        .map(|u| u.file_name.as_str())
        .collect();
    let more = files.len().saturating_sub(NAMES_SHOWN);
    let more_text = format!("and {more} more");
    if more > 0 {
        names.push(&more_text);
    }
    let counted: Vec<i32> = files.iter().filter_map(|u| u.page_count).collect();
    Row {
        id: job.id,
        created: view::timestamp(job.created_at),
        files: names.join(", "),
        size: view::human_bytes(files.iter().map(|u| u.size_bytes).sum()),
        pages: if counted.is_empty() {
            "–".to_owned()
        } else {
            counted.iter().sum::<i32>().to_string()
        },
        language: languages::describe(&job.language),
        status: StatusView::of(&job.status),
        duration: view::duration(job.created_at, job.finished_at),
    }
}
