//! API clients authenticate with `Authorization: Bearer <key>`; the key names
//! the owner, and every job belongs to exactly one owner.

use std::collections::HashMap;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::ApiError;
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
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::internal("application state missing")));
        };
        let owner = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|key| state.api_keys.get(key.trim()))
            .map(|o| Owner(o.clone()));
        ready(owner.ok_or(ApiError::Unauthorized))
    }
}
