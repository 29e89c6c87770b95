//! Languages, health and readiness (metrics have their own port: `crate::metrics`).

use actix_web::{HttpResponse, get, web};
use scribe_core::db;

use crate::error::ApiError;
use crate::state::AppState;

#[get("/api/v1/languages")]
pub async fn languages(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "languages": state.languages,
        "default": state.settings.ocr.default_language,
    }))
}

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Ready when both the database and the broker answer.
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // New pods wait for the release's migration before they take traffic.
    let current = db::run(&state.db, |c| {
        db::schema_is_current(c).map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))
    })
    .await?;
    if !current {
        return Err(ApiError::Unavailable(
            "the database schema is older than this release: waiting for `scribe-web migrate`"
                .to_owned(),
        ));
    }
    let conn = state
        .amqp
        .get()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    if !conn.status().connected() {
        return Err(ApiError::Unavailable(
            "broker connection is not open".to_owned(),
        ));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })))
}
