//! Languages, health and readiness (metrics have their own port: `crate::metrics`).

use actix_web::{HttpResponse, get, web};
use scribe_core::db;

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Languages {
    /// Every installed language, usable alone or joined with `+`.
    pub languages: Vec<String>,
    /// What a job without `language` is read in.
    pub default: String,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` for liveness, `ready` for readiness.
    pub status: &'static str,
}

#[utoipa::path(
    get,
    path = "/api/v1/languages",
    tag = "meta",
    responses((status = 200, description = "The installed OCR languages", body = Languages))
)]
#[get("/api/v1/languages")]
pub async fn languages(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Languages {
        languages: state.languages.clone(),
        default: state.settings.ocr.default_language.clone(),
    })
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    responses((status = 200, description = "The process is alive", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Ready when both the database and the broker answer.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "meta",
    responses(
        (status = 200, description = "The database and the broker answer", body = Health),
        (status = 503, description = "Not ready: the schema is old or the broker is away", body = crate::error::ErrorEnvelope),
    )
)]
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
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}
