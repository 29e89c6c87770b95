//! The HTML portal: the upload form, the live job page and this browser's
//! history, rendered on the server (askama, escaped by default) with a little
//! plain JavaScript on top. Every page also works without JavaScript.

pub mod assets;
pub mod errors;
pub mod history;
pub mod job_page;
pub mod search_page;
pub mod upload_page;
pub mod view;

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::error::ApiError;
use errors::PageError;

/// What every page's frame needs.
pub struct Layout {
    /// Which navigation entry is the current page.
    pub nav: &'static str,
    /// Busts cached scripts and styles on upgrade.
    pub version: &'static str,
    /// What the header's search box shows.
    pub query: String,
}

impl Layout {
    pub fn new(nav: &'static str) -> Self {
        Self {
            nav,
            version: env!("CARGO_PKG_VERSION"),
            query: String::new(),
        }
    }

    pub fn searching(query: &str) -> Self {
        Self {
            query: query.to_owned(),
            ..Self::new("search")
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(upload_page::show)
        .service(upload_page::submit)
        .service(history::show)
        .service(search_page::show)
        .service(job_page::show)
        .service(job_page::card)
        .service(job_page::cancel)
        .service(job_page::delete)
        .service(job_page::rerun)
        .service(assets::file);
}

/// A rendered page as an HTML response; never cached (it shows live state).
pub fn render(page: &impl Template) -> Result<HttpResponse, PageError> {
    let html = page
        .render()
        .map_err(|e| PageError(ApiError::internal(e)))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(html))
}
