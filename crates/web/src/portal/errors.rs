//! Errors on portal pages: the same status and message the API gives, as a
//! page a person can read, with a way back.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use super::Layout;
use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PageError(#[from] pub ApiError);

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    heading: &'a str,
    message: String,
    code: &'a str,
    status: u16,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let heading = match &self.0 {
            ApiError::NotFound | ApiError::Missing(_) => "Not found",
            ApiError::Forbidden(_) => "Not allowed",
            ApiError::Unavailable(_) | ApiError::StorageFull(_) | ApiError::Internal(_) => {
                "Something went wrong on our side"
            }
            _ => "That did not work",
        };
        let page = ErrorPage {
            layout: Layout::new(""),
            heading,
            message: self.0.to_string(),
            code: self.0.code(),
            status: status.as_u16(),
        };
        match page.render() {
            Ok(html) => {
                self.0.log_cause();
                HttpResponse::build(status)
                    .content_type("text/html; charset=utf-8")
                    .insert_header(("Cache-Control", "no-store"))
                    .body(html)
            }
            Err(_) => self.0.error_response(),
        }
    }
}

/// An extractor's refusal as JSON for the API and as a page for people.
pub fn for_request(req: &HttpRequest, e: ApiError) -> actix_web::Error {
    if req.path().starts_with("/api/") {
        e.into()
    } else {
        PageError(e).into()
    }
}

/// Unknown paths: JSON under `/api/`, a page everywhere else.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") {
        return ApiError::Missing(format!("no such endpoint: {}", req.path())).error_response();
    }
    PageError(ApiError::Missing(
        "there is no page at this address; check the link".to_owned(),
    ))
    .error_response()
}
