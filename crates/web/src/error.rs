//! The web's one error type: an explicit map to HTTP status codes and a stable
//! JSON envelope `{"error": {"code": "...", "message": "..."}}`. Internal
//! causes are logged, never shown.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// What every 4xx and 5xx answer of the API carries; the OpenAPI document
/// references this type, so the two cannot disagree.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `not_found`, `unknown_language`.
    pub code: String,
    /// For people; may change between releases.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("missing or invalid API key; send `Authorization: Bearer <key>`")]
    Unauthorized,
    /// A browser request without a valid CSRF token, or from another site.
    #[error("{0}")]
    Forbidden(String),
    #[error("no such job")]
    NotFound,
    /// The job exists but this part of it does not (an output not requested, a page out of range).
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    #[error("{0}")]
    UnsupportedType(String),
    #[error("the service is temporarily unavailable; try again shortly")]
    Unavailable(String),
    /// The storage that uploads go to has no space left: nothing was kept.
    #[error("the server's storage is full, so the upload was not kept; try again later")]
    StorageFull(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }

    /// Internal causes go to the log, never to the client.
    pub fn log_cause(&self) {
        if let Self::Unavailable(cause) | Self::StorageFull(cause) | Self::Internal(cause) = self {
            tracing::error!(error.cause = %cause, "request failed");
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } | Self::TooLarge { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound | Self::Missing(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::UnsupportedType(_) => "unsupported_type",
            Self::Unavailable(_) => "unavailable",
            Self::StorageFull(_) => "storage_full",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<scribe_core::db::DbError> for ApiError {
    fn from(e: scribe_core::db::DbError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

impl From<object_store::Error> for ApiError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other if out_of_space(&other) => Self::StorageFull(other.to_string()),
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// Whether a storage error comes from a full disk or an exhausted quota (ENOSPC,
/// EDQUOT) somewhere in its chain of causes.
fn out_of_space(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        {
            return true;
        }
        cause = c.source();
    }
    false
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound | Self::Missing(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log_cause();
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, Self::Unauthorized) {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(ErrorEnvelope {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_507_and_other_storage_failures_503() {
        let full = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(std::io::Error::from(std::io::ErrorKind::StorageFull)),
        };
        let e = ApiError::from(full);
        assert_eq!(e.status_code(), StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(e.code(), "storage_full");
        let other = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
        };
        assert_eq!(
            ApiError::from(other).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
