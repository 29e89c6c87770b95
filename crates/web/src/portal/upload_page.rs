//! `/`: the upload form, and `POST /upload`, where it is sent without
//! JavaScript (with JavaScript the page posts to the API and shows progress).

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use scribe_core::languages;
use scribe_core::sniff::DocumentKind;

use super::errors::PageError;
use super::view::human_bytes;
use super::{Layout, render};
use crate::auth::Browser;
use crate::error::ApiError;
use crate::routes::jobs::accept_job;
use crate::state::AppState;
use crate::upload::{self, Limits};

pub struct LanguageOption {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

pub struct LimitsView {
    pub max_file_bytes: u64,
    pub max_request_bytes: u64,
    pub max_files: usize,
    pub max_file_human: String,
}

#[derive(Template)]
#[template(path = "upload.html")]
pub struct UploadPage {
    layout: Layout,
    languages: Vec<LanguageOption>,
    limits: LimitsView,
    accepted: &'static str,
    accept_attr: &'static str,
    csrf: String,
    error: Option<String>,
    /// The "email me" field is shown only where this server can send email.
    email_enabled: bool,
}

impl UploadPage {
    fn new(state: &AppState, browser: &Browser, error: Option<String>) -> Self {
        let default = &state.settings.ocr.default_language;
        let limits = Limits::of(&state.settings);
        Self {
            layout: Layout::new("upload"),
            languages: state
                .languages
                .iter()
                .map(|code| LanguageOption {
                    name: languages::display_name(code).into_owned(),
                    selected: code == default,
                    code: code.clone(),
                })
                .collect(),
            limits: LimitsView {
                max_file_human: human_bytes(
                    i64::try_from(limits.max_file_bytes).unwrap_or(i64::MAX),
                ),
                max_file_bytes: limits.max_file_bytes,
                max_request_bytes: limits.max_request_bytes,
                max_files: limits.max_files,
            },
            accepted: DocumentKind::accepted(),
            // A hint for the file picker only; the server reads the bytes.
            accept_attr: ".pdf,.png,.jpg,.jpeg,.tif,.tiff,.bmp,.gif,.webp,.pnm,.pbm,.pgm,.ppm,.jp2,.j2k,.jpf,.jpx,application/pdf,image/*",
            csrf: browser.0.csrf.clone(),
            error,
            email_enabled: !state.settings.notify.smtp_url.is_empty(),
        }
    }
}

#[get("/")]
pub async fn show(state: web::Data<AppState>, browser: Browser) -> Result<HttpResponse, PageError> {
    render(&UploadPage::new(&state, &browser, None))
}

#[post("/upload")]
#[tracing::instrument(skip_all, fields(owner = %browser.0.owner))]
pub async fn submit(
    state: web::Data<AppState>,
    browser: Browser,
    req: HttpRequest,
    mut form: Multipart,
) -> Result<HttpResponse, PageError> {
    let owner = browser.owner();
    let check = |token: &str| state.sessions.csrf_ok(&browser.0.owner, token);
    match accept_job(&state, &owner, &req, &mut form, Some(&check)).await {
        Ok(accepted) => Ok(HttpResponse::SeeOther()
            .insert_header(("Location", format!("/jobs/{}", accepted.id())))
            .finish()),
        Err(e) => {
            upload::drain(&mut form, state.settings.web.max_request_bytes).await;
            refused(&state, &browser, e)
        }
    }
}

/// The form again, with the refusal above it and the API's status code.
fn refused(state: &AppState, browser: &Browser, e: ApiError) -> Result<HttpResponse, PageError> {
    use actix_web::ResponseError;
    if matches!(
        e,
        ApiError::Unavailable(_) | ApiError::StorageFull(_) | ApiError::Internal(_)
    ) {
        return Err(PageError(e));
    }
    let status = e.status_code();
    let page = UploadPage::new(state, browser, Some(e.to_string()));
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response)
}
