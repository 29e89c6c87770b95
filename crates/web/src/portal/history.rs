//! `/jobs`: this browser's uploads, newest first, a page at a time.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use scribe_core::db;
use scribe_core::db::queries::{self, JobFilter};
use scribe_core::job::Status;
use scribe_core::languages;
use serde::Deserialize;
use uuid::Uuid;

use super::errors::PageError;
use super::view::{self, StatusView};
use super::{Layout, render};
use crate::auth::Browser;
use crate::routes::jobs::page_window;
use crate::state::AppState;
use crate::views::JobView;

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
    /// Jobs that match the filter, on every page.
    total: i64,
    /// Arrived here from deleting a job.
    deleted: bool,
    /// The filter's own values, to show in its form and keep in the pager's links.
    status: String,
    name: String,
    /// `&status=…&q=…` for the pager's links; empty without a filter.
    filter_query: String,
}

#[derive(Deserialize)]
pub struct Paging {
    page: Option<i64>,
    #[serde(default)]
    deleted: Option<u8>,
    /// `active`, `complete`, `error`, `cancelled`; anything else is every job.
    #[serde(default)]
    status: String,
    /// Text that one of the job's file names contains.
    #[serde(default)]
    q: String,
}

/// The history's status choices, by the value its form sends.
const STATUS_CHOICES: [(&str, &[Status]); 4] = [
    ("active", &Status::ACTIVE),
    ("complete", &[Status::Complete]),
    ("error", &[Status::Error]),
    ("cancelled", &[Status::Cancelled]),
];

impl Paging {
    fn filter(&self) -> (JobFilter, String, String) {
        let statuses = STATUS_CHOICES
            .iter()
            .find(|(key, _)| *key == self.status)
            .map(|(key, statuses)| (*key, statuses.to_vec()));
        // File names never hold control characters (and PostgreSQL refuses NUL).
        let name: String = self
            .q
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>()
            .trim()
            .chars()
            .take(MAX_FILTER_CHARS)
            .collect();
        let status = statuses.as_ref().map_or("", |(key, _)| key).to_owned();
        let filter = JobFilter {
            statuses: statuses.map(|(_, s)| s),
            file_name: (!name.is_empty()).then(|| name.clone()),
        };
        (filter, status, name)
    }
}

/// File-name filter text kept, in characters.
const MAX_FILTER_CHARS: usize = 200;

#[get("/jobs")]
pub async fn show(
    state: web::Data<AppState>,
    browser: Browser,
    q: web::Query<Paging>,
) -> Result<HttpResponse, PageError> {
    let (page, offset) = page_window(q.page, PER_PAGE);
    let owner = browser.0.owner;
    let (filter, status, name) = q.filter();
    let filter_query = if status.is_empty() && name.is_empty() {
        String::new()
    } else {
        let pairs = [("status", status.as_str()), ("q", name.as_str())];
        format!(
            "&{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    let (total, jobs) = db::run(&state.db, move |c| {
        let total = queries::count_jobs_of_owner(c, &owner, &filter)?;
        Ok((
            total,
            queries::jobs_with_files(c, &owner, &filter, PER_PAGE, offset)?,
        ))
    })
    .await
    .map_err(crate::error::ApiError::from)?;
    render(&HistoryPage {
        layout: Layout::new("history"),
        rows: jobs.iter().map(|j| row(&JobView::of(j))).collect(),
        page,
        pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
        total,
        deleted: q.deleted.is_some(),
        status,
        name,
        filter_query,
    })
}

fn row(job: &JobView) -> Row {
    let mut names: Vec<&str> = job
        .files
        .iter()
        .take(NAMES_SHOWN)
        .map(|f| f.file_name.as_str())
        .collect();
    let more = job.files.len().saturating_sub(NAMES_SHOWN);
    let more_text = format!("and {more} more");
    if more > 0 {
        names.push(&more_text);
    }
    Row {
        id: job.id,
        created: view::timestamp(job.created_at),
        files: names.join(", "),
        size: view::human_bytes(job.files.iter().map(|f| f.size_bytes).sum()),
        pages: view::pages_label(&job.progress),
        language: languages::describe(&job.language),
        status: StatusView::of_job(job),
        duration: view::duration(job.created_at, job.finished_at),
    }
}
