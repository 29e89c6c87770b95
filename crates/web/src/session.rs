//! Browser sessions: a browser is an owner too. On its first visit to a portal
//! page it gets a random owner id in a signed, HttpOnly, SameSite cookie; the
//! same key derives the CSRF token that every state-changing browser request
//! must carry. API clients (with `Authorization`) never get a cookie.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

pub const COOKIE: &str = "scribe_owner";
/// Header the portal's scripts send the token in; forms send the `csrf` field.
pub const CSRF_HEADER: &str = "x-csrf-token";
const OWNER_PREFIX: &str = "browser:";
const ONE_YEAR_SECS: i64 = 365 * 24 * 3600;

/// Signs owner cookies and derives CSRF tokens.
pub struct SessionKeys {
    key: Key,
    secure: bool,
}

impl SessionKeys {
    /// `secret` must be at least 32 bytes; empty means a random key for this process.
    pub fn new(secret: &str, secure: bool) -> anyhow::Result<Self> {
        let key = if secret.is_empty() {
            tracing::warn!(
                "web.cookie_secret is not set: browser sessions last until this process restarts \
                 and do not carry across replicas"
            );
            Key::generate()
        } else if secret.len() < 32 {
            anyhow::bail!("web.cookie_secret must be at least 32 bytes");
        } else {
            Key::derive_from(secret.as_bytes())
        };
        Ok(Self { key, secure })
    }

    fn owner_of(&self, raw: &str) -> Option<String> {
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(COOKIE, raw.to_owned()));
        let value = jar.signed(&self.key).get(COOKIE)?.value().to_owned();
        let id = Uuid::parse_str(value.strip_prefix(OWNER_PREFIX)?).ok()?;
        Some(format!("{OWNER_PREFIX}{id}"))
    }

    fn cookie_for(&self, owner: &str) -> Cookie<'static> {
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.key)
            .add(Cookie::new(COOKIE, owner.to_owned()));
        let mut cookie = jar
            .get(COOKIE)
            .cloned()
            .unwrap_or_else(|| Cookie::new(COOKIE, ""));
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Lax);
        cookie.set_path("/");
        cookie.set_secure(self.secure);
        cookie.set_max_age(actix_web::cookie::time::Duration::seconds(ONE_YEAR_SECS));
        cookie
    }

    /// The CSRF token of an owner: an HMAC of the owner id, so it needs no storage.
    pub fn csrf_token(&self, owner: &str) -> String {
        hex::encode(self.csrf_mac(owner).finalize().into_bytes())
    }

    /// Constant-time comparison of a presented token with the owner's.
    pub fn csrf_ok(&self, owner: &str, presented: &str) -> bool {
        let Ok(presented) = hex::decode(presented.trim()) else {
            return false;
        };
        self.csrf_mac(owner).verify_slice(&presented).is_ok()
    }

    fn csrf_mac(&self, owner: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.signing())
            .expect("HMAC accepts keys of any length");
        mac.update(b"csrf:");
        mac.update(owner.as_bytes());
        mac
    }
}

/// The browser's session, put in the request's extensions by [`middleware`].
#[derive(Debug, Clone)]
pub struct Session {
    pub owner: String,
    pub csrf: String,
}

/// Reads (or, on portal pages, issues) the owner cookie, and refuses
/// cross-origin state changes from browsers before any handler runs.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    if req.headers().contains_key(header::AUTHORIZATION) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    if !is_safe(req.method()) && !same_origin(&req) {
        let refusal = ApiError::Forbidden(
            "cross-site requests are refused; use the Scribe page itself".to_owned(),
        );
        let answer = crate::portal::errors::for_request(req.request(), refusal);
        return Ok(req
            .into_response(answer.error_response())
            .map_into_right_body());
    }
    let keys = &state.sessions;
    let existing = req.cookie(COOKIE).and_then(|c| keys.owner_of(c.value()));
    let path = req.path();
    let issues = existing.is_none()
        && req.method() == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/static/")
        && !matches!(path, "/healthz" | "/readyz");
    let owner = match existing {
        Some(owner) => Some(owner),
        None if issues => Some(format!("{OWNER_PREFIX}{}", Uuid::new_v4())),
        None => None,
    };
    if let Some(owner) = &owner {
        req.extensions_mut().insert(Session {
            csrf: keys.csrf_token(owner),
            owner: owner.clone(),
        });
    }
    let mut response = next.call(req).await?;
    if issues && let Some(owner) = owner {
        let cookie = keys.cookie_for(&owner);
        if let Ok(value) = header::HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response.map_into_left_body())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A browser's `Origin` (or, without one, `Referer`) must name this host; a
/// request with neither is not from a modern browser's cross-site form.
fn same_origin(req: &ServiceRequest) -> bool {
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return true;
    };
    let source = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|h| h.to_str().ok());
    match source {
        None => true,
        Some(source) => source
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
            .is_some_and(|authority| authority.eq_ignore_ascii_case(host)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SessionKeys {
        SessionKeys::new(&"s".repeat(32), false).expect("keys")
    }

    #[test]
    fn a_signed_cookie_names_its_owner_and_a_forged_one_nobody() {
        let keys = keys();
        let owner = format!("{OWNER_PREFIX}{}", Uuid::new_v4());
        let cookie = keys.cookie_for(&owner);
        assert!(cookie.http_only().unwrap_or(false));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert_eq!(keys.owner_of(cookie.value()), Some(owner.clone()));
        let forged = cookie.value().replacen(OWNER_PREFIX, "browser;", 1);
        assert_eq!(keys.owner_of(&forged), None);
        assert_eq!(keys.owner_of(&owner), None, "an unsigned value is refused");
        let other = SessionKeys::new(&"t".repeat(32), false).expect("keys");
        assert_eq!(other.owner_of(cookie.value()), None);
    }

    #[test]
    fn csrf_tokens_belong_to_one_owner() {
        let keys = keys();
        let token = keys.csrf_token("browser:a");
        assert!(keys.csrf_ok("browser:a", &token));
        assert!(!keys.csrf_ok("browser:b", &token));
        assert!(!keys.csrf_ok("browser:a", "not hex"));
        assert!(!keys.csrf_ok("browser:a", ""));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(SessionKeys::new("short", false).is_err());
    }
}
