//! The portal's scripts, styles and icon, compiled into the binary so a
//! deployment is one file and the CSP can say `'self'`.

use actix_web::{HttpResponse, get, web};

use super::errors::PageError;
use crate::error::ApiError;

const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    ),
    (
        "upload.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/upload.js"),
    ),
    (
        "job.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/job.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../assets/favicon.svg"),
    ),
];

#[get("/static/{name}")]
pub async fn file(name: web::Path<String>) -> Result<HttpResponse, PageError> {
    let (_, content_type, body) = FILES
        .iter()
        .find(|(n, _, _)| *n == name.as_str())
        .ok_or_else(|| ApiError::Missing("no such file".to_owned()))?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        // URLs carry the version, so a day of caching never serves a stale script.
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(*body))
}
