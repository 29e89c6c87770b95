//! Who is asking. API clients authenticate with `Authorization: Bearer <key>`
//! (the key names the owner); browsers are owners through their signed session
//! cookie (see `session`). Every job belongs to exactly one owner.

use std::collections::HashMap;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::error::ApiError;
use crate::session::{CSRF_HEADER, Session};
use crate::state::AppState;

/// The authenticated owner of the request.
#[derive(Debug, Clone)]
pub struct Owner(pub String);

/// Key → owner, parsed once from `web.api_keys` (`owner:key` entries).
pub fn key_table(entries: &[String]) -> HashMap<String, String> {
    entries
        .iter()
        .filter_map(|e| e.split_once(':'))
        .map(|(owner, key)| (key.trim().to_owned(), format!("api:{}", owner.trim())))
        .collect()
}

impl FromRequest for Owner {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(owner_of(req))
    }
}

fn owner_of(req: &HttpRequest) -> Result<Owner, ApiError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(ApiError::internal("application state missing"));
    };
    if let Some(auth) = req.headers().get(header::AUTHORIZATION) {
        return auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|key| state.api_keys.get(key.trim()))
            .map(|o| Owner(o.clone()))
            .ok_or(ApiError::Unauthorized);
    }
    let session = req
        .extensions()
        .get::<Session>()
        .cloned()
        .ok_or(ApiError::Unauthorized)?;
    // A browser changing state through the API must prove the page sent it.
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let presented = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !state.sessions.csrf_ok(&session.owner, presented) {
            return Err(csrf_refused());
        }
    }
    Ok(Owner(session.owner))
}

/// A browser's session, for portal pages (which check CSRF in the form itself).
#[derive(Debug, Clone)]
pub struct Browser(pub Session);

impl FromRequest for Browser {
    /// A page, not JSON: only portal pages ask for a browser.
    type Error = crate::portal::errors::PageError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Session>()
                .cloned()
                .map(Browser)
                .ok_or_else(|| {
                    ApiError::Forbidden(
                        "this browser has no Scribe session (are cookies blocked?); \
                         open the upload page and try again"
                            .to_owned(),
                    )
                    .into()
                }),
        )
    }
}

impl Browser {
    pub fn owner(&self) -> Owner {
        Owner(self.0.owner.clone())
    }
}

pub fn csrf_refused() -> ApiError {
    ApiError::Forbidden(
        "the form's security token is missing or out of date; reload the page and try again"
            .to_owned(),
    )
}
