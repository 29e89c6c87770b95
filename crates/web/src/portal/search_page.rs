//! `/search`: the portal's view of `GET /api/v1/search`, with each hit's page
//! preview and the matched words outlined on it.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::errors::PageError;
use super::{Layout, render};
use crate::auth::{Browser, Owner};
use crate::error::ApiError;
use crate::routes::search::{self, HitView, PER_PAGE};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    query: String,
    hits: Vec<HitView>,
    total: i64,
    page: i64,
    pages: i64,
    /// A query PostgreSQL could not use, in words.
    problem: Option<String>,
}

#[derive(Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

#[get("/search")]
pub async fn show(
    state: web::Data<AppState>,
    browser: Browser,
    form: web::Query<SearchForm>,
) -> Result<HttpResponse, PageError> {
    let query = form.q.trim().to_owned();
    let mut page = SearchPage {
        layout: Layout::searching(&query),
        query: query.clone(),
        hits: Vec::new(),
        total: 0,
        page: 1,
        pages: 1,
        problem: None,
    };
    if query.is_empty() {
        return render(&page);
    }
    match search::run(&state, &Owner(browser.0.owner), &query, form.page).await {
        Ok(results) => {
            page.total = results.total;
            page.page = results.page;
            page.pages = ((results.total + PER_PAGE - 1) / PER_PAGE).max(1);
            page.hits = results.hits;
        }
        Err(ApiError::BadRequest { message, .. }) => page.problem = Some(message),
        Err(e) => return Err(PageError(e)),
    }
    render(&page)
}
