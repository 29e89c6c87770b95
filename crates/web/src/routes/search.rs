//! `GET /api/v1/search`: the caller's pages that match a query, best first,
//! each with a highlighted excerpt and the boxes of the words that matched.

use actix_web::{HttpResponse, get, web};
use futures_util::future::join_all;
use object_store::ObjectStoreExt;
use scribe_core::db::{self, search as fulltext};
use scribe_core::results::BBox;
use scribe_core::storage::keys;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::jobs::page_window;
use crate::auth::Owner;
use crate::error::ApiError;
use crate::state::AppState;

pub const PER_PAGE: i64 = 20;
/// Longer queries are typing accidents or abuse, not searches.
const MAX_QUERY_CHARS: usize = 500;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find (`websearch_to_tsquery` syntax).
    #[serde(default)]
    #[param(min_length = 1, max_length = 500)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Results {
    pub query: String,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    pub hits: Vec<HitView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HitView {
    pub job_id: Uuid,
    pub file_id: Uuid,
    pub file_name: String,
    pub page: i32,
    pub rank: f32,
    /// HTML-escaped excerpt with the matches in `<mark>…</mark>`.
    pub snippet: String,
    /// The matched words' boxes, in the pixels of the page as uploaded.
    pub boxes: Vec<BBox>,
    pub page_width: Option<u32>,
    pub page_height: Option<u32>,
    /// The clockwise quarter-turn (0, 90, 180, 270) that set the page upright:
    /// the preview shows it turned so, the boxes are not.
    pub rotation_applied: u16,
    /// When the job made previews.
    pub preview_url: Option<String>,
    /// The job's portal page, opened at this page.
    pub job_url: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    params(
        SearchQuery,
    ),
    responses(
        (status = 200, description = "Matching pages, best first", body = Results),
        (status = 400, description = "No query, or one that is too long", body = crate::error::ErrorEnvelope),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/search")]
pub async fn search(
    state: web::Data<AppState>,
    owner: Owner,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let results = run(&state, &owner, &q.q, q.page).await?;
    Ok(HttpResponse::Ok().json(results))
}

/// The search behind both the API and the portal's search page.
pub async fn run(
    state: &AppState,
    owner: &Owner,
    query: &str,
    page: Option<i64>,
) -> Result<Results, ApiError> {
    // Control characters are never words, and PostgreSQL refuses NUL outright.
    let query: String = query
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let query = query.trim().to_owned();
    if query.is_empty() {
        return Err(ApiError::bad(
            "missing_query",
            "say what to search for: `q=words`",
        ));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad(
            "query_too_long",
            format!("the query is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    let (page, offset) = page_window(page, PER_PAGE);
    let (o, text) = (owner.0.clone(), query.clone());
    let (total, hits) = db::run(&state.db, move |c| {
        fulltext::search(c, &o, &text, PER_PAGE, offset)
    })
    .await?;
    let hits = join_all(hits.into_iter().map(|h| view(state, h))).await;
    Ok(Results {
        query,
        page,
        per_page: PER_PAGE,
        total,
        hits,
    })
}

async fn view(state: &AppState, hit: fulltext::Hit) -> HitView {
    let stored = stored_page(state, hit.job_id, hit.upload_id, hit.page).await;
    let boxes = stored
        .as_ref()
        .map(|p| matched_boxes(&hit.marked, p))
        .unwrap_or_default();
    HitView {
        job_id: hit.job_id,
        file_id: hit.upload_id,
        file_name: hit.file_name,
        page: hit.page,
        rank: hit.rank,
        snippet: highlighted_html(&hit.snippet),
        boxes,
        page_width: stored.as_ref().map(|p| p.width),
        page_height: stored.as_ref().map(|p| p.height),
        rotation_applied: stored.as_ref().map_or(0, |p| p.rotation_applied),
        preview_url: hit.previews.then(|| {
            format!(
                "/api/v1/jobs/{}/files/{}/pages/{}/preview.png",
                hit.job_id, hit.upload_id, hit.page
            )
        }),
        job_url: format!("/jobs/{}#page-{}-{}", hit.job_id, hit.upload_id, hit.page),
    }
}

/// What a hit needs of a page's stored results (`PageResult`'s JSON).
#[derive(Deserialize)]
struct StoredPage {
    width: u32,
    height: u32,
    #[serde(default)]
    rotation_applied: u16,
    words: Vec<StoredWord>,
}

/// Where a hit's boxes are drawn over its (upright) preview: the upright
/// page's size, and the SVG transform from the page as uploaded onto it.
pub struct Overlay {
    pub width: u32,
    pub height: u32,
    pub transform: String,
}

impl HitView {
    pub fn overlay(&self) -> Option<Overlay> {
        let (w, h) = (self.page_width?, self.page_height?);
        // Turning clockwise by a quarter takes (x, y) to (h − y, x).
        let (width, height, transform) = match self.rotation_applied {
            90 => (h, w, format!("matrix(0 1 -1 0 {h} 0)")),
            180 => (w, h, format!("matrix(-1 0 0 -1 {w} {h})")),
            270 => (h, w, format!("matrix(0 -1 1 0 0 {w})")),
            _ => (w, h, String::new()),
        };
        Some(Overlay {
            width,
            height,
            transform,
        })
    }
}

#[derive(Deserialize)]
struct StoredWord {
    text: String,
    bbox: BBox,
}

/// The page's stored results (word boxes); a hit without them still counts,
/// it just has no boxes to show.
async fn stored_page(state: &AppState, job: Uuid, upload: Uuid, page: i32) -> Option<StoredPage> {
    let key = keys::page(job, upload, usize::try_from(page).ok()?, "json");
    let bytes = match state.store.get(&key).await {
        Ok(r) => r.bytes().await.ok()?,
        Err(object_store::Error::NotFound { .. }) => return None,
        Err(e) => {
            tracing::warn!(error = %e, %key, "a search hit's word boxes could not be read");
            return None;
        }
    };
    serde_json::from_slice(&bytes).ok()
}

/// The boxes of the words PostgreSQL marked. The page text and the word list
/// come from the same recognition, in the same order; walking both keeps the
/// two aligned even where a token has no word (or the other way round).
fn matched_boxes(marked: &str, page: &StoredPage) -> Vec<BBox> {
    let hits = fulltext::marked_tokens(marked);
    if hits.is_empty() || page.words.is_empty() {
        return Vec::new();
    }
    let tokens: Vec<String> = marked
        .split_whitespace()
        .map(|t| t.replace([fulltext::HIT_START, fulltext::HIT_END], ""))
        .collect();
    let mut boxes = Vec::new();
    let mut next_word = 0;
    for (i, token) in tokens.iter().enumerate() {
        let found = (next_word..page.words.len().min(next_word + 4))
            .find(|&w| page.words[w].text == *token);
        if let Some(w) = found {
            if hits.binary_search(&i).is_ok() {
                boxes.push(page.words[w].bbox);
            }
            next_word = w + 1;
        }
    }
    boxes
}

/// Escapes the excerpt for HTML and turns the match marks into `<mark>`.
pub fn highlighted_html(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len() + 32);
    for c in snippet.chars() {
        match c {
            fulltext::HIT_START => out.push_str("<mark>"),
            fulltext::HIT_END => out.push_str("</mark>"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{MAX_QUERY_CHARS, SearchQuery, StoredPage, StoredWord};
    use scribe_core::results::BBox;
    use utoipa::IntoParams;

    #[test]
    fn the_contract_states_the_query_limit_the_handler_enforces() {
        let params = SearchQuery::into_params(|| None);
        let q = params.iter().find(|p| p.name == "q").expect("q");
        let schema = serde_json::to_value(&q.schema).expect("schema");
        assert_eq!(schema["maxLength"], MAX_QUERY_CHARS, "{schema}");
        assert_eq!(schema["minLength"], 1, "{schema}");
    }

    fn word(text: &str, x: u32) -> StoredWord {
        StoredWord {
            text: text.to_owned(),
            bbox: BBox {
                x,
                y: 0,
                width: 10,
                height: 10,
            },
        }
    }

    #[test]
    fn boxes_follow_the_marked_words_even_past_a_missing_one() {
        // The text has a token ("—") the word list lacks.
        let page = StoredPage {
            width: 100,
            height: 100,
            rotation_applied: 0,
            words: vec![
                word("Invoice", 0),
                word("total:", 20),
                word("42", 40),
                word("total", 60),
            ],
        };
        let marked = "Invoice \u{E000}total\u{E001}: — 42 \u{E000}total\u{E001}";
        let xs: Vec<u32> = super::matched_boxes(marked, &page)
            .iter()
            .map(|b| b.x)
            .collect();
        assert_eq!(xs, vec![20, 60]);
    }

    #[test]
    fn boxes_land_on_the_upright_preview_of_a_turned_page() {
        let hit = |rotation_applied| super::HitView {
            job_id: uuid::Uuid::nil(),
            file_id: uuid::Uuid::nil(),
            file_name: String::new(),
            page: 1,
            rank: 1.0,
            snippet: String::new(),
            boxes: Vec::new(),
            page_width: Some(2200),
            page_height: Some(1700),
            rotation_applied,
            preview_url: None,
            job_url: String::new(),
        };
        let apply = |o: &super::Overlay, (x, y): (f64, f64)| -> (f64, f64) {
            let m: Vec<f64> = o
                .transform
                .trim_start_matches("matrix(")
                .trim_end_matches(')')
                .split(' ')
                .map(|v| v.parse().expect("number"))
                .collect();
            (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
        };
        // A landscape scan of a portrait page, turned 270° clockwise to read:
        // its top-left corner ends at the upright page's bottom-left.
        let o = hit(270).overlay().expect("overlay");
        assert_eq!((o.width, o.height), (1700, 2200));
        assert_eq!(apply(&o, (0.0, 0.0)), (0.0, 2200.0));
        assert_eq!(apply(&o, (2200.0, 1700.0)), (1700.0, 0.0));
        let o = hit(90).overlay().expect("overlay");
        assert_eq!(apply(&o, (0.0, 0.0)), (1700.0, 0.0));
        let o = hit(180).overlay().expect("overlay");
        assert_eq!(apply(&o, (0.0, 0.0)), (2200.0, 1700.0));
        assert!(hit(0).overlay().expect("overlay").transform.is_empty());
    }

    #[test]
    fn excerpts_are_escaped_and_marked() {
        let html = super::highlighted_html("a <b> & \u{E000}tax\u{E001}\nrate");
        assert_eq!(html, "a &lt;b&gt; &amp; <mark>tax</mark> rate");
    }
}
