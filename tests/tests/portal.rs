//! The portal over plain HTTP (no browser): sessions, CSRF, escaping, the
//! no-JavaScript form, error pages and headers.

mod support;

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, COOKIE};
use reqwest::multipart::{Form, Part};
use support::plain::{PlainBrowser, location_of};
use support::*;

fn upload_form(csrf: Option<&str>, name: &str, bytes: Vec<u8>) -> Form {
    let mut form = Form::new();
    if let Some(token) = csrf {
        form = form.text("csrf", token.to_owned());
    }
    form.part("file", Part::bytes(bytes).file_name(name.to_owned()))
        .text("language", "eng")
        .text("language", "")
        .text("outputs", "pdf")
        .text("outputs", "txt,json")
}

/// The page at `location` once `ready` says it is (two minutes at most).
async fn page_once(
    app: &TestApp,
    browser: &PlainBrowser,
    location: &str,
    ready: impl Fn(&str) -> bool,
) -> String {
    let started = std::time::Instant::now();
    loop {
        let html = browser.get(app, location).await.text().await.expect("html");
        if ready(&html) {
            return html;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{html}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_form_without_javascript_creates_a_job_and_redirects_to_it() {
    let app = TestApp::spawn(|_| {}).await;
    let browser = PlainBrowser::visit(&app).await;
    let (png, _) = page_png(7);
    let hostile = "<img src=x onerror=alert(1)>.png";
    let r = browser
        .post_form(&app, upload_form(Some(&browser.csrf), hostile, png))
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let location = location_of(&r);
    assert!(location.starts_with("/jobs/"), "{location}");
    let id = location.trim_start_matches("/jobs/").to_owned();

    let page = browser.get(&app, &location).await;
    assert_eq!(page.status().as_u16(), 200);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(
        page.headers()
            .get("x-content-type-options")
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
    let html = page.text().await.expect("html");
    assert!(!html.contains("<img src=x"), "file names are escaped");
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62;.png"),
        "{html}"
    );

    // The job finishes; the page then shows downloads, and the form's outputs were honoured.
    let html = page_once(&app, &browser, &location, |html| {
        html.contains("data-status=\"complete\"") && html.contains("Searchable PDF")
    })
    .await;
    assert!(!html.contains(">hOCR<"), "hOCR was not asked for");
    // Without JavaScript nothing offers to copy.
    assert!(
        html.contains("class=\"button copy\"") && html.contains("hidden>Copy text</button>"),
        "{html}"
    );
    let history = browser.get(&app, "/jobs").await.text().await.expect("html");
    assert!(history.contains(&format!("/jobs/{id}")), "{history}");
    assert!(history.contains("English"), "{history}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_job_page_says_which_page_could_not_be_read_and_shows_the_rest() {
    let app = TestApp::spawn(|_| {}).await;
    let browser = PlainBrowser::visit(&app).await;
    let images: Vec<_> = small_pages(2, 40, 3).into_iter().map(|p| p.image).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let tiff = dir.path().join("scan.tif");
    scribe_fixtures::tiff_file::write_multipage_deflated(&images, &tiff).expect("tiff");
    scribe_fixtures::tiff_file::damage_page(&tiff, 0).expect("damage");
    let bytes = std::fs::read(&tiff).expect("read");
    let r = browser
        .post_form(&app, upload_form(Some(&browser.csrf), "scan.tif", bytes))
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let location = location_of(&r);
    let html = page_once(&app, &browser, &location, |html| {
        html.contains("data-status=\"complete\"")
    })
    .await;
    assert!(
        html.contains("Page 1 could not be read: the TIFF file is damaged"),
        "{html}"
    );
    assert!(
        html.contains("not read"),
        "its row in the pages table: {html}"
    );
    assert!(
        html.contains("aria-label=\"Page 2\""),
        "page 2's text is shown: {html}"
    );
    assert!(
        html.contains("<h4>Page 1</h4><p class=\"hint\">Not read.</p>"),
        "page 1 is not shown as a page without text: {html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_with_no_text_says_so_instead_of_showing_nothing() {
    let app = TestApp::spawn(|_| {}).await;
    let browser = PlainBrowser::visit(&app).await;
    let png = png_bytes(&image::GrayImage::from_pixel(850, 1100, image::Luma([255])));
    let r = browser
        .post_form(&app, upload_form(Some(&browser.csrf), "blank.png", png))
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let html = page_once(&app, &browser, &location_of(&r), |html| {
        html.contains("data-status=\"complete\"")
    })
    .await;
    assert!(html.contains("No text was found in this file."), "{html}");
    assert!(html.contains("No text found on this page."), "{html}");
}

#[tokio::test]
async fn forged_and_cross_site_posts_are_refused_before_anything_is_stored() {
    let app = TestApp::web_only(|_| {}).await;
    let browser = PlainBrowser::visit(&app).await;
    let (png, _) = page_png(8);

    let no_token = browser
        .post_form(&app, upload_form(None, "a.png", png.clone()))
        .await;
    assert_eq!(no_token.status().as_u16(), 403);
    assert!(
        no_token
            .text()
            .await
            .expect("html")
            .contains("security token"),
        "the refusal says why"
    );
    let wrong = browser
        .post_form(&app, upload_form(Some("00ff"), "a.png", png.clone()))
        .await;
    assert_eq!(wrong.status().as_u16(), 403);

    let cross_site = browser
        .http
        .post(app.url("/upload"))
        .header(COOKIE, &browser.cookie)
        .header("Origin", "https://evil.example")
        .multipart(upload_form(Some(&browser.csrf), "a.png", png.clone()))
        .send()
        .await
        .expect("POST");
    assert_eq!(cross_site.status().as_u16(), 403);
    let page = cross_site.text().await.expect("html");
    assert!(
        page.contains("<html") && page.contains("cross-site requests are refused"),
        "a person gets a page: {page}"
    );
    let cookieless = browser
        .http
        .post(app.url("/upload"))
        .multipart(upload_form(Some(&browser.csrf), "a.png", png.clone()))
        .send()
        .await
        .expect("POST");
    assert_eq!(cookieless.status().as_u16(), 403);
    let page = cookieless.text().await.expect("html");
    assert!(
        page.contains("<html") && page.contains("no Scribe session"),
        "{page}"
    );

    // Another browser's token does not work with this browser's cookie.
    let other = PlainBrowser::visit(&app).await;
    let swapped = browser
        .post_form(&app, upload_form(Some(&other.csrf), "a.png", png.clone()))
        .await;
    assert_eq!(swapped.status().as_u16(), 403);

    // Through the API, a cookie alone cannot change state either.
    let api = browser
        .http
        .post(app.url("/api/v1/jobs"))
        .header(COOKIE, &browser.cookie)
        .multipart(upload_form(None, "a.png", png))
        .send()
        .await
        .expect("POST");
    assert_eq!(api.status().as_u16(), 403);

    assert_eq!(app.count("SELECT count(*) AS n FROM jobs"), 0);
    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
}

#[tokio::test]
async fn jobs_belong_to_one_browser_and_refusals_are_pages() {
    let app = TestApp::web_only(|_| {}).await;
    let alice = PlainBrowser::visit(&app).await;
    let (png, _) = page_png(9);
    let r = alice
        .post_form(&app, upload_form(Some(&alice.csrf), "scan.png", png))
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let location = location_of(&r);
    let id = location.trim_start_matches("/jobs/").to_owned();

    // Another browser, an API key holder and a stranger see nothing.
    let bob = PlainBrowser::visit(&app).await;
    let theirs = bob.get(&app, &location).await;
    assert_eq!(theirs.status().as_u16(), 404);
    assert!(
        theirs
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert!(theirs.text().await.expect("html").contains("no such job"));
    let (status, _) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(status, 404);
    let through_api = bob.get(&app, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(through_api.status().as_u16(), 404);

    // The owner's browser may read the job through the API too (the live page does).
    let mine = alice.get(&app, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(mine.status().as_u16(), 200);

    // Cancelling through the API needs the token; through the form, the form's field.
    let url = app.url(&format!("/api/v1/jobs/{id}/cancel"));
    let bare = alice
        .http
        .post(&url)
        .header(COOKIE, &alice.cookie)
        .send()
        .await
        .expect("POST cancel");
    assert_eq!(bare.status().as_u16(), 403);
    let cancel = alice
        .http
        .post(app.url(&format!("/jobs/{id}/cancel")))
        .header(COOKIE, &alice.cookie)
        .form(&[("csrf", alice.csrf.as_str())])
        .send()
        .await
        .expect("POST cancel");
    assert_eq!(cancel.status().as_u16(), 303);
    let again = alice
        .http
        .post(&url)
        .header(COOKIE, &alice.cookie)
        .header("X-CSRF-Token", &alice.csrf)
        .send()
        .await
        .expect("POST cancel");
    assert_eq!(again.status().as_u16(), 409, "already cancelled");
    let page = alice.get(&app, &location).await.text().await.expect("html");
    assert!(page.contains("Cancelled"), "{page}");

    // A refused upload renders the form again with the API's message and status.
    let refused = alice
        .post_form(
            &app,
            upload_form(
                Some(&alice.csrf),
                "notes.txt",
                b"just some text\n".repeat(10),
            ),
        )
        .await;
    assert_eq!(refused.status().as_u16(), 415);
    let html = refused.text().await.expect("html");
    assert!(
        html.contains("`notes.txt` is in an unrecognised format, not a supported document"),
        "{html}"
    );
    assert!(html.contains("id=\"upload\""), "the form is shown again");

    for (path, status, says) in [
        ("/no/such/page", 404, "<h1>Not found</h1>"),
        ("/jobs?page=first", 400, "query string is invalid"),
    ] {
        let r = alice.get(&app, path).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        let html = r.text().await.expect("html");
        assert!(html.contains(says), "{path}: {html}");
    }
    let api_unknown = alice.get(&app, "/api/v1/nothing").await;
    assert_eq!(api_unknown.status().as_u16(), 404);
    let body: serde_json::Value = api_unknown.json().await.expect("json");
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_history_pages_through_every_job_once_newest_first() {
    let app = TestApp::web_only(|_| {}).await;
    let browser = PlainBrowser::visit(&app).await;
    let (png, _) = page_png(10);
    let mut ids = Vec::new();
    for i in 0..21 {
        let r = browser
            .post_form(
                &app,
                upload_form(
                    Some(&browser.csrf),
                    &format!("scan-{i:02}.png"),
                    png.clone(),
                ),
            )
            .await;
        assert_eq!(r.status().as_u16(), 303);
        ids.push(location_of(&r).trim_start_matches("/jobs/").to_owned());
    }
    let first = browser.get(&app, "/jobs").await.text().await.expect("html");
    let second = browser
        .get(&app, "/jobs?page=2")
        .await
        .text()
        .await
        .expect("html");
    assert!(
        first.contains("page 1 of 2") && first.contains("rel=\"next\""),
        "{first}"
    );
    assert!(!first.contains("rel=\"prev\""));
    assert!(second.contains("rel=\"prev\"") && !second.contains("rel=\"next\""));
    // Every job exactly once, the newest first.
    for (i, id) in ids.iter().enumerate() {
        let link = format!("/jobs/{id}\"");
        let on_first = first.matches(&link).count();
        let on_second = second.matches(&link).count();
        assert_eq!(on_first + on_second, 1, "job {i}");
        assert_eq!(
            on_second,
            usize::from(i == 0),
            "only the oldest is on page 2"
        );
    }
    let newest = first.find("scan-20.png").expect("newest listed");
    let older = first.find("scan-19.png").expect("next listed");
    assert!(newest < older, "newest first");
    let beyond = browser
        .get(&app, "/jobs?page=9")
        .await
        .text()
        .await
        .expect("html");
    assert!(beyond.contains("There are no uploads on this page"));
    // The largest page number is an empty page, for people and for the API alike.
    let last = browser
        .get(&app, "/jobs?page=9223372036854775807")
        .await
        .text()
        .await
        .expect("html");
    assert!(last.contains("There are no uploads on this page"), "{last}");
    let (status, body) = app
        .get_json(ALICE, "/api/v1/jobs?page=9223372036854775807&per_page=100")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["jobs"], serde_json::json!([]));

    // Filters, with the total of what matches.
    let html = |path: &'static str| {
        let (browser, app) = (&browser, &app);
        async move { browser.get(app, path).await.text().await.expect("html") }
    };
    assert!(first.contains("21 jobs in all"), "{first}");
    let named = html("/jobs?q=scan-1").await;
    assert!(named.contains("10 jobs match"), "{named}");
    assert!(named.contains("scan-15.png") && !named.contains("scan-20.png"));
    let one = html("/jobs?q=SCAN-07").await;
    assert!(
        one.contains("1 job matches") && one.contains("scan-07.png"),
        "{one}"
    );
    // LIKE's wildcards are text like any other.
    assert!(html("/jobs?q=%25").await.contains("No upload matches"));
    assert!(html("/jobs?q=scan_0").await.contains("No upload matches"));
    let done = html("/jobs?status=complete").await;
    assert!(
        done.contains("0 jobs match") && done.contains("No upload matches"),
        "{done}"
    );
    let waiting = html("/jobs?status=active&q=scan").await;
    assert!(waiting.contains("21 jobs match"), "{waiting}");
    assert!(
        waiting
            .replace("&#38;", "&")
            .replace("&amp;", "&")
            .contains("href=\"/jobs?page=2&status=active&q=scan\""),
        "the pager keeps the filter: {waiting}"
    );
    let control = html("/jobs?q=%00%07").await;
    assert!(
        control.contains("21 jobs in all"),
        "control characters are no filter (and no 503)"
    );
    let unknown = html("/jobs?status=nonsense").await;
    assert!(
        unknown.contains("21 jobs in all"),
        "an unknown status is no filter"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_search_page_shows_the_hit_on_its_page_preview() {
    let app = TestApp::spawn(|_| {}).await;
    let browser = PlainBrowser::visit(&app).await;
    let (png, text) = page_png(43);
    let form = Form::new()
        .text("csrf", browser.csrf.clone())
        .part("file", Part::bytes(png).file_name("letter <b>.png"))
        .text("outputs", "txt,json,preview");
    let r = browser.post_form(&app, form).await;
    assert_eq!(r.status().as_u16(), 303);
    let location = location_of(&r);
    let id = location.trim_start_matches("/jobs/").to_owned();
    let started = std::time::Instant::now();
    while !browser
        .get(&app, &location)
        .await
        .text()
        .await
        .expect("html")
        .contains("data-status=\"complete\"")
    {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the job did not finish"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Every page offers the search box.
    let home = browser.get(&app, "/").await.text().await.expect("html");
    assert!(home.contains("action=\"/search\""), "{home}");
    let word = long_word(&text);
    let page = browser.get(&app, &format!("/search?q={word}")).await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("1 page matches"), "{html}");
    assert!(
        html.contains("<mark>"),
        "the excerpt marks the word: {html}"
    );
    assert!(html.contains("letter &#60;b&#62;.png · page 1"), "{html}");
    assert!(html.contains(&format!("href=\"/jobs/{id}#page-")), "{html}");
    assert!(
        html.contains("<rect x=\""),
        "the word is outlined on the preview: {html}"
    );
    assert!(html.contains("preview.png"), "{html}");
    // Another browser finds nothing of this one's.
    let other = PlainBrowser::visit(&app).await;
    let html = other
        .get(&app, &format!("/search?q={word}"))
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("No page matches"), "{html}");
    // An empty search is a form, not an error.
    let empty = other.get(&app, "/search?q=").await;
    assert_eq!(empty.status().as_u16(), 200);
}
