//! Per-request telemetry: a request id (the caller's `X-Request-Id` when it is
//! a sane token, else a new one) on a span around the whole request, so every
//! line logged while serving it carries the id; one closing log line; and the
//! request's count and latency by route pattern and status.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};
use tracing::Instrument;
use uuid::Uuid;

use crate::state::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served; also the trace id its tasks carry.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id the middleware gave this request (a new one outside it).
    pub fn of(req: &HttpRequest) -> String {
        req.extensions()
            .get::<RequestId>()
            .map_or_else(|| Uuid::new_v4().to_string(), |id| id.0.clone())
    }
}

/// A caller's id is kept when it is a short token: it goes into logs and AMQP
/// headers, so nothing that could forge a log line or grow without bound.
fn sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map_or_else(|| Uuid::new_v4().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    // The pattern, not the path: job ids in paths would make a series per job.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().clone();
    let metrics = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!(
        "request",
        request.id = %id,
        http.method = %method,
        http.route = %route,
    );
    let path = req.path().to_owned();
    let mut result = next.call(req).instrument(span.clone()).await;
    // Until the response head: a live event stream counts its opening, not its hour.
    let seconds = started.elapsed().as_secs_f64();
    let status = match &result {
        Ok(response) => response.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    span.in_scope(|| {
        tracing::info!(
            http.status = status.as_u16(),
            http.path = %path,
            millis = seconds * 1000.0,
            "request served"
        );
    });
    if let Some(state) = metrics {
        state
            .metrics
            .observe_request(method.as_str(), &route, status.as_str(), seconds);
    }
    if let Ok(response) = &mut result
        && let Ok(value) = HeaderValue::from_str(&id)
    {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::sane;

    #[test]
    fn a_caller_id_is_kept_only_when_it_is_a_short_token() {
        assert!(sane("trace-abc-123"));
        assert!(sane("0af7651916cd43dd8448eb211c80319c"));
        assert!(!sane(""));
        assert!(!sane("two words"));
        assert!(!sane("line\nbreak"));
        assert!(!sane(&"x".repeat(65)));
    }
}
