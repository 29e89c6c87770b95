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
    // URLs carry the version, so a day of caching never serves a stale script.
    Ok(serve(FILES, &name, "public, max-age=86400")?)
}

/// One of `files` (`(name, content type, body)`) by name, or a 404.
pub fn serve(
    files: &[(&str, &str, &'static str)],
    name: &str,
    cache_control: &'static str,
) -> Result<HttpResponse, ApiError> {
    let (_, content_type, body) = files
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| ApiError::Missing("no such file".to_owned()))?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header(("Cache-Control", cache_control))
        .body(*body))
}
