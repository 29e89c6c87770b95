//! `/`: where the portal will live; for now it points API users at the API.

use actix_web::{HttpResponse, get};

#[get("/")]
pub async fn index() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Scribe</title></head>",
        "<body><h1>Scribe</h1><p>OCR for scans, photos and PDFs.</p>",
        "<p>The upload portal is coming; the JSON API is ready: ",
        "<code>POST /api/v1/jobs</code> (multipart <code>file</code>, <code>language</code>, <code>outputs</code>) ",
        "with <code>Authorization: Bearer &lt;key&gt;</code>. See the README.</p>",
        "<p><a href=\"/api/v1/languages\">Installed languages</a></p></body></html>",
    ))
}
