//! The portal in a real browser: headless Chromium over WebDriver, against the
//! real web app, worker, PostgreSQL and RabbitMQ. Screenshots of every page go
//! to `target/tmp/screenshots/`.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use support::browser::Browser;
use support::*;

const LIMIT: Duration = Duration::from_secs(120);
const SOON: Duration = Duration::from_secs(15);

/// Fixture files on disk, for the file input.
fn write_files(dir: &std::path::Path, files: &[(&str, &[u8])]) -> Vec<PathBuf> {
    files
        .iter()
        .map(|(name, bytes)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).expect("fixture written");
            path
        })
        .collect()
}

async fn choose(browser: &Browser, paths: &[PathBuf]) {
    let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    browser
        .find("#files")
        .await
        .send_keys(&list.join("\n"))
        .await
        .expect("files chosen");
}

/// Chooses the files on the upload page, sends them and waits for the job page.
async fn upload(browser: &Browser, app: &TestApp, paths: &[PathBuf]) {
    browser.goto(&app.url("/")).await;
    choose(browser, paths).await;
    browser.find("#submit").await.click().await.expect("submit");
    browser
        .until(
            "the job page",
            "location.pathname.startsWith('/jobs/')",
            SOON,
        )
        .await;
}

/// A new browser that has sent one generated page as `name` and shows its job.
async fn one_page_job(app: &TestApp, seed: u64, name: &str) -> Browser {
    let dir = tempfile::tempdir().expect("tempdir");
    let (png, _) = page_png(seed);
    let paths = write_files(dir.path(), &[(name, &png)]);
    let browser = Browser::start(1280, 900).await;
    upload(&browser, app, &paths).await;
    browser
}

/// Starts a worker, waits for `condition` on the open job page, and checks that
/// the page got there by itself (no reload).
async fn watch_until(browser: &Browser, app: &mut TestApp, what: &str, condition: &str) {
    browser
        .eval("window.stillThisPage = true; return null;")
        .await;
    app.start_worker();
    browser.until(what, condition, LIMIT).await;
    assert_eq!(
        browser.eval("return window.stillThisPage === true;").await,
        Value::Bool(true),
        "the page updated itself, without a reload"
    );
}

/// The page is not wider than the viewport (nothing to scroll sideways).
async fn fits_width(browser: &Browser) -> bool {
    browser
        .eval("return document.documentElement.scrollWidth <= window.innerWidth;")
        .await
        == Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_files_finish_live_then_show_text_previews_and_a_searchable_pdf() {
    // No worker yet: the page must be showing before any work happens.
    let mut app = TestApp::web_only(|_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, first_text) = page_png(21);
    let (pdf, pdf_text) = scanned_pdf(2, 22);
    let paths = write_files(dir.path(), &[("letter.png", &first), ("report.pdf", &pdf)]);
    let browser = Browser::start(1280, 1000).await;
    // Anything the Content-Security-Policy blocks would break the page: record it.
    browser.record_csp_violations().await;

    browser.goto(&app.url("/")).await;
    choose(&browser, &paths).await;
    browser
        .until(
            "two chosen files listed",
            "document.querySelectorAll('#chosen li').length === 2",
            SOON,
        )
        .await;
    let listed = browser.find("#chosen").await.text().await.expect("text");
    assert!(
        listed.contains("letter.png") && listed.contains("report.pdf"),
        "{listed}"
    );
    assert!(listed.contains("KB"), "sizes are shown: {listed}");
    browser
        .find("#language2")
        .await
        .select_by_value("deu")
        .await
        .expect("second language");
    browser.screenshot("upload").await;
    // Record what the upload's progress bar showed; sessionStorage outlives the navigation.
    browser
        .eval(
            "const open = XMLHttpRequest.prototype.open;
             XMLHttpRequest.prototype.open = function (...args) {
               this.upload.addEventListener('progress', (e) => sessionStorage.setItem('progressEvents',
                 String(Number(sessionStorage.getItem('progressEvents') || 0) + 1)));
               this.upload.addEventListener('load', () => {
                 const bar = document.getElementById('send-progress');
                 sessionStorage.setItem('bar', JSON.stringify({value: bar.value,
                   shown: !document.getElementById('sending').hidden}));
               });
               return open.apply(this, args);
             };
             return null;",
        )
        .await;
    browser.find("#submit").await.click().await.expect("submit");
    browser
        .until(
            "the job page",
            "location.pathname.startsWith('/jobs/')",
            SOON,
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelector('#job').dataset.status;")
            .await,
        "pending"
    );
    assert!(
        browser
            .find(".spinner")
            .await
            .is_displayed()
            .await
            .expect("spinner")
    );
    // A marker that a reload would wipe out, and a log of what the status line said.
    browser
        .eval(
            "window.stillThisPage = true; window.said = [];
             const line = document.getElementById('job-status');
             new MutationObserver(() => window.said.push(line.textContent))
               .observe(line, {childList: true, characterData: true, subtree: true});
             return null;",
        )
        .await;
    browser.screenshot("job-pending").await;

    app.start_worker();
    browser
        .until(
            "the job to complete live",
            "document.querySelector('#job').dataset.status === 'complete'",
            LIMIT,
        )
        .await;
    assert_eq!(
        browser.eval("return window.stillThisPage === true;").await,
        Value::Bool(true),
        "the page updated itself, without a reload"
    );
    browser
        .until(
            "both cards swapped in",
            "document.querySelectorAll('li.file[data-status=complete] .downloads').length === 2 \
             && document.querySelectorAll('.previews img').length === 3 \
             && Array.from(document.querySelectorAll('.previews img')).every(i => i.complete && i.naturalWidth > 0)",
            SOON,
        )
        .await;
    let status = browser
        .find("#job-status")
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(status, "Complete · 2 files, 3 pages");
    let said = browser.eval("return window.said;").await;
    assert!(
        said.as_array().is_some_and(|s| s
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.starts_with("Reading")))),
        "progress was shown while the worker read: {said}"
    );
    assert_eq!(
        browser
            .eval("return document.querySelector('#job-status').getAttribute('aria-live');")
            .await,
        "polite"
    );
    let language = browser.find(".facts").await.text().await.expect("facts");
    assert!(language.contains("English + German"), "{language}");

    // The text is there and reads right.
    let text = browser
        .eval("return Array.from(document.querySelectorAll('.text pre')).map(p => p.textContent).join('\\n');")
        .await;
    let text = text.as_str().unwrap_or_default().to_owned();
    let want = format!("{first_text}\n{}", pdf_text.join("\n"));
    assert!(
        cer(&text, &want) < 0.05,
        "CER {} for:\n{text}",
        cer(&text, &want)
    );
    let confidences = browser.find_all_text(".pages tbody td:nth-child(2)").await;
    assert_eq!(confidences.len(), 3);
    assert!(
        confidences.iter().all(|c| c.ends_with('%')),
        "{confidences:?}"
    );
    browser.screenshot("job-complete").await;
    assert_eq!(
        browser.csp_violations().await,
        Value::Array(vec![]),
        "the CSP blocked nothing the page uses"
    );

    // A preview opens large.
    browser
        .find("a.preview")
        .await
        .click()
        .await
        .expect("preview");
    browser
        .until("the large preview", "document.getElementById('viewer').open && document.getElementById('viewer-image').naturalWidth >= 800", SOON)
        .await;
    browser.screenshot("preview").await;
    browser
        .find("#viewer .close")
        .await
        .click()
        .await
        .expect("close");
    browser
        .until(
            "the preview closed",
            "!document.getElementById('viewer').open",
            SOON,
        )
        .await;

    // Copy text puts the file's text on the clipboard.
    browser
        .devtools(
            "Browser.grantPermissions",
            serde_json::json!({
                "origin": app.base,
                "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
            }),
        )
        .await;
    browser
        .find("li.file button.copy")
        .await
        .click()
        .await
        .expect("copy");
    browser
        .until(
            "the copy confirmed",
            "document.querySelector('li.file button.copy').textContent === 'Copied'",
            SOON,
        )
        .await;
    let copied = browser
        .client
        .execute_async(
            "const [done] = arguments; navigator.clipboard.readText().then(done, e => done('error: ' + e));",
            vec![],
        )
        .await
        .expect("clipboard read");
    let shown = browser
        .eval("return Array.from(document.querySelectorAll('li.file:first-child .text pre')).map(p => p.textContent).join('\\n\\n');")
        .await;
    assert_eq!(copied, shown, "the clipboard holds the first file's text");
    assert!(
        cer(copied.as_str().unwrap_or_default(), &first_text) < 0.05,
        "{copied}"
    );

    // The searchable PDF downloads with this browser's session.
    let pdf_link = browser
        .find("li.file:nth-child(2) a[href$='/pdf']")
        .await
        .attr("href")
        .await
        .expect("href")
        .expect("a PDF link");
    let fetched = browser
        .client
        .execute_async(
            "const [url, done] = arguments;
             fetch(url).then(async r => {
               const bytes = new Uint8Array(await r.arrayBuffer());
               done({status: r.status, type: r.headers.get('content-type'),
                     disposition: r.headers.get('content-disposition'),
                     head: String.fromCharCode(...bytes.slice(0, 5)), size: bytes.length});
             }).catch(e => done({error: String(e)}));",
            vec![Value::String(pdf_link)],
        )
        .await
        .expect("fetch runs");
    assert_eq!(fetched["status"], 200, "{fetched}");
    assert_eq!(fetched["type"], "application/pdf");
    assert_eq!(fetched["head"], "%PDF-");
    assert!(
        fetched["disposition"]
            .as_str()
            .unwrap_or_default()
            .contains("report.ocr.pdf"),
        "{fetched}"
    );

    // The history lists the job.
    browser
        .find("nav a[href='/jobs']")
        .await
        .click()
        .await
        .expect("history");
    browser
        .until(
            "the history",
            "document.querySelectorAll('table.history tbody tr').length === 1",
            SOON,
        )
        .await;
    let row = browser
        .find("table.history tbody tr")
        .await
        .text()
        .await
        .expect("row");
    assert!(
        row.contains("letter.png, report.pdf") && row.contains("Complete") && row.contains('3'),
        "{row}"
    );
    browser.screenshot("history").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dropped_files_are_taken_and_unsupported_files_are_refused_before_and_after_sending() {
    let app = TestApp::web_only(|_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = write_files(dir.path(), &[("notes.txt", b"meeting notes, not a scan\n")]);
    let browser = Browser::start(1280, 900).await;
    browser.goto(&app.url("/")).await;

    // Drag and drop: a real DataTransfer with a real file, dropped on the zone.
    let (png, _) = page_png(23);
    let dropped = browser
        .client
        .execute(
            "const [bytes] = arguments;
             const dt = new DataTransfer();
             dt.items.add(new File([new Uint8Array(bytes)], 'dropped.png', {type: 'image/png'}));
             const zone = document.getElementById('drop');
             zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
             const over = zone.classList.contains('over');
             zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
             return over;",
            vec![serde_json::json!(png)],
        )
        .await
        .expect("drop");
    assert_eq!(dropped, Value::Bool(true), "the zone shows it is a target");
    browser
        .until(
            "the dropped file listed",
            "document.querySelector('#chosen li') && document.querySelector('#chosen').textContent.includes('dropped.png') \
             && document.getElementById('files').files.length === 1",
            SOON,
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.getElementById('form-error').hidden;")
            .await,
        Value::Bool(true)
    );

    // An unsupported file: refused in the page, before anything is sent…
    choose(&browser, &paths).await;
    browser
        .until(
            "the refusal",
            "!document.getElementById('form-error').hidden",
            SOON,
        )
        .await;
    let before = browser
        .find("#form-error")
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(
        before,
        "`notes.txt` is in an unrecognised format, not a supported document; send PNG, JPEG, TIFF, BMP, GIF, WebP, PNM, JPEG 2000 or PDF"
    );
    browser.find("#submit").await.click().await.expect("submit");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(browser.eval("return location.pathname;").await == "/");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM jobs"),
        0,
        "nothing was sent"
    );
    browser.screenshot("upload-refused").await;

    // …and by the server when it is sent anyway (the form posted without the script).
    browser
        .eval("HTMLFormElement.prototype.submit.call(document.getElementById('upload')); return null;")
        .await;
    browser
        .until("the server's refusal page", "location.pathname === '/upload' && !!document.querySelector('#form-error:not([hidden])')", SOON)
        .await;
    let after = browser
        .find("#form-error")
        .await
        .text()
        .await
        .expect("text");
    assert_eq!(after, before, "the page and the server say the same thing");
    assert_eq!(app.count("SELECT count(*) AS n FROM jobs"), 0);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_job_is_cancelled_and_another_browser_gets_not_found() {
    let app = TestApp::web_only(|_| {}).await;
    let browser = one_page_job(&app, 24, "invoice.png").await;
    let job_url = browser.client.current_url().await.expect("url").to_string();
    browser
        .eval("window.stillThisPage = true; return null;")
        .await;
    // The confirmation opens first; nothing is cancelled by the first click.
    browser
        .find("#cancel-confirm summary")
        .await
        .click()
        .await
        .expect("open the confirmation");
    browser
        .find("#cancel button")
        .await
        .click()
        .await
        .expect("cancel");
    browser
        .until(
            "the job cancelled",
            "document.querySelector('#job').dataset.status === 'cancelled'",
            SOON,
        )
        .await;
    assert_eq!(
        browser
            .find("#job-status")
            .await
            .text()
            .await
            .expect("text"),
        "Cancelled"
    );
    assert_eq!(
        browser.eval("return window.stillThisPage === true;").await,
        Value::Bool(true)
    );
    browser
        .until(
            "the cancel button gone",
            "!document.getElementById('cancel')",
            SOON,
        )
        .await;
    browser.screenshot("job-cancelled").await;

    let stranger = Browser::start(1280, 900).await;
    stranger.goto(&job_url).await;
    let heading = stranger.find("h1").await.text().await.expect("h1");
    assert_eq!(heading, "Not found");
    let message = stranger.find(".alert").await.text().await.expect("alert");
    assert_eq!(message, "no such job");
    stranger.screenshot("not-found").await;
    stranger.goto(&app.url("/jobs")).await;
    let empty = stranger.find("main").await.text().await.expect("main");
    assert!(empty.contains("Nothing yet"), "{empty}");
    stranger.close().await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_portal_works_on_a_phone_by_keyboard_and_at_200_percent_zoom() {
    let app = TestApp::spawn(|_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (png, _) = page_png(25);
    let paths = write_files(
        dir.path(),
        &[(
            "a-photo-with-a-rather-long-file-name-from-a-phone-camera.png",
            &png,
        )],
    );
    // A phone: 390×844 CSS pixels.
    let phone = Browser::start(390, 844).await;
    phone.goto(&app.url("/")).await;
    assert!(fits_width(&phone).await, "the upload page fits a phone");

    // Every control has a label a screen reader can read.
    let unlabelled = phone
        .eval(
            "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, button, textarea'))
               .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.textContent.trim())
               .map(c => c.outerHTML);",
        )
        .await;
    assert_eq!(unlabelled, Value::Array(vec![]), "controls without labels");
    // Every installed language by a person's name, never a bare code (frk, Fraktur).
    let bare = phone
        .eval(
            "return Array.from(document.querySelectorAll('#language option'))
               .filter(o => o.textContent.trim() === o.value).map(o => o.value);",
        )
        .await;
    assert_eq!(bare, Value::Array(vec![]), "languages shown as codes");

    // Keyboard: the first Tab reaches the skip link, and focus is visible.
    let tab: String = char::from(fantoccini::key::Key::Tab).to_string();
    phone.find("body").await.send_keys(&tab).await.expect("tab");
    let focused = phone.client.active_element().await.expect("focus");
    assert_eq!(focused.text().await.expect("text"), "Skip to content");
    let outline = focused.css_value("outline-style").await.expect("css");
    assert_ne!(outline, "none", "focus is visible");

    choose(&phone, &paths).await;
    phone.screenshot("phone-upload").await;
    phone.find("#submit").await.click().await.expect("submit");
    phone
        .until(
            "the job page",
            "location.pathname.startsWith('/jobs/')",
            SOON,
        )
        .await;
    phone
        .until(
            "the job to complete",
            "document.querySelector('li.file[data-status=complete] .downloads')",
            LIMIT,
        )
        .await;
    assert!(fits_width(&phone).await, "the job page fits a phone");
    phone
        .until(
            "the thumbnail",
            "Array.from(document.querySelectorAll('.previews img')).every(i => i.complete && i.naturalWidth > 0)",
            SOON,
        )
        .await;
    phone.screenshot("phone-job").await;

    // The history on a phone: status and time stay on screen, and the whole row opens the job.
    let job_path = phone
        .eval("return location.pathname;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned();
    phone.goto(&app.url("/jobs")).await;
    assert!(fits_width(&phone).await, "the history fits a phone");
    let off_screen = phone
        .eval(
            "const row = document.querySelector('table.history tbody tr');
             return Array.from(row.cells).filter(c => c.offsetParent !== null)
               .filter(c => c.getBoundingClientRect().right > window.innerWidth + 1)
               .map(c => c.textContent);",
        )
        .await;
    assert_eq!(off_screen, Value::Array(vec![]), "cells off screen");
    assert!(
        phone
            .find("table.history tbody tr td:nth-child(6) .badge")
            .await
            .is_displayed()
            .await
            .expect("displayed"),
        "the status shows on a phone"
    );
    // What a tap on the row's time lands on: the link to the job.
    let tapped = phone
        .eval(
            "const c = document.querySelector('table.history tbody tr td:nth-child(7)').getBoundingClientRect();
             const hit = document.elementFromPoint(c.x + c.width / 2, c.y + c.height / 2);
             const link = hit && hit.closest('a.row-link');
             return link ? link.getAttribute('href') : (hit ? hit.outerHTML : null);",
        )
        .await;
    assert_eq!(tapped, Value::String(job_path.clone()), "a tap on the row");
    phone
        .find("table.history a.row-link")
        .await
        .click()
        .await
        .expect("the row's link");
    phone
        .until(
            "the row's click to open the job",
            &format!("location.pathname === '{job_path}'"),
            SOON,
        )
        .await;

    // 200% zoom of a 1280-pixel window is a 640-pixel layout; WCAG reflow asks for 320.
    for width in [640, 320] {
        phone
            .client
            .set_window_size(width, 800)
            .await
            .expect("resize");
        phone.client.refresh().await.expect("reload");
        assert!(
            fits_width(&phone).await,
            "the job page reflows at {width} px"
        );
        phone.goto(&app.url("/")).await;
        assert!(
            fits_width(&phone).await,
            "the upload page reflows at {width} px"
        );
        phone.client.back().await.expect("back");
    }
    phone.screenshot("zoom-job").await;
    phone.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_server_sent_events_the_page_polls_to_completion() {
    let mut app = TestApp::web_only(|_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (png, _) = page_png(26);
    let paths = write_files(dir.path(), &[("memo.png", &png)]);
    let browser = Browser::start(1280, 900).await;
    // A browser (or a proxy) without EventSource.
    browser
        .before_every_page("delete window.EventSource;")
        .await;
    upload(&browser, &app, &paths).await;
    assert_eq!(
        browser.eval("return typeof window.EventSource;").await,
        "undefined"
    );
    watch_until(
        &browser,
        &mut app,
        "the job to complete by polling",
        "document.querySelector('li.file[data-status=complete] .downloads')",
    )
    .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_that_cannot_be_read_says_why_and_the_rest_of_the_job_works() {
    let mut app = TestApp::web_only(|_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (png, _) = page_png(27);
    let paths = write_files(
        dir.path(),
        &[
            ("broken.pdf", b"%PDF-1.7\nthis is no PDF at all"),
            ("good.png", &png),
        ],
    );
    let browser = Browser::start(1280, 1000).await;
    upload(&browser, &app, &paths).await;
    app.start_worker();
    browser
        .until(
            "both files finished",
            "document.querySelector('#job').dataset.status === 'complete' \
             && document.querySelector('li.file[data-status=error] .alert') \
             && document.querySelector('li.file[data-status=complete] .downloads')",
            LIMIT,
        )
        .await;
    let error = browser
        .find("li.file[data-status=error] .alert")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        error.starts_with("This file could not be read: ") && error.contains("damaged"),
        "{error}"
    );
    assert_eq!(
        browser
            .find("#job-status")
            .await
            .text()
            .await
            .expect("text"),
        "Complete · 1 of 2 files failed"
    );
    // The badge, as swapped in live, is not a plain success, and neither is the history's.
    browser
        .until(
            "the partial badge",
            "document.getElementById('job-status-label').classList.contains('status-partial') \
             && document.getElementById('job-status-label').textContent.trim() === 'Complete · 1 of 2 files failed'",
            SOON,
        )
        .await;
    let text = browser
        .find("li.file[data-status=complete] .text")
        .await
        .text()
        .await
        .expect("text");
    assert!(text.contains("Page 1"), "{text}");
    browser.screenshot("job-with-error").await;
    browser.goto(&app.url("/jobs")).await;
    let badge = browser.find("table.history .badge").await;
    assert_eq!(
        badge.text().await.expect("text"),
        "Complete · 1 of 2 files failed"
    );
    assert!(
        badge
            .attr("class")
            .await
            .expect("class")
            .is_some_and(|c| c.contains("status-partial"))
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_is_deleted_after_a_confirmation_and_is_gone() {
    let app = TestApp::web_only(|_| {}).await;
    let browser = one_page_job(&app, 32, "delete-me.png").await;
    let job_url = browser.client.current_url().await.expect("url").to_string();
    let id = job_url.rsplit('/').next().expect("id").to_owned();
    assert!(!app.stored_files_of(&id).is_empty());
    // The first click only opens the confirmation.
    browser
        .find("#delete-confirm summary")
        .await
        .click()
        .await
        .expect("open the confirmation");
    assert_eq!(app.count("SELECT count(*) AS n FROM jobs"), 1);
    browser.screenshot("job-delete-confirm").await;
    browser
        .find("#delete button")
        .await
        .click()
        .await
        .expect("delete");
    browser
        .until(
            "the history after the delete",
            "location.pathname === '/jobs' && !!document.getElementById('deleted-note')",
            SOON,
        )
        .await;
    assert_eq!(app.count("SELECT count(*) AS n FROM jobs"), 0);
    assert!(app.stored_files_of(&id).is_empty());
    browser.goto(&job_url).await;
    assert_eq!(
        browser.find("h1").await.text().await.expect("h1"),
        "Not found"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_page_checks_size_and_count_with_the_servers_own_words() {
    let app = TestApp::web_only(|s| {
        s.limits.max_file_bytes = 2_000;
        s.web.max_files_per_job = 1;
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (png, _) = page_png(28);
    let paths = write_files(
        dir.path(),
        &[("big.png", &png), ("small.gif", b"GIF89a tiny")],
    );
    let browser = Browser::start(1280, 900).await;
    browser.goto(&app.url("/")).await;
    choose(&browser, &paths).await;
    browser
        .until(
            "the refusals",
            "document.querySelectorAll('#form-error li').length === 2",
            SOON,
        )
        .await;
    let said = browser.find_all_text("#form-error li").await;
    assert_eq!(
        said,
        [
            "at most 1 file per job",
            "`big.png` is larger than the limit of 2000 bytes"
        ]
    );
    assert_eq!(
        browser.find_all_text("#chosen li.bad").await.len(),
        1,
        "the oversized file is marked"
    );

    // The server, sent the same files without the script, refuses with the first of them.
    browser
        .eval("HTMLFormElement.prototype.submit.call(document.getElementById('upload')); return null;")
        .await;
    browser
        .until(
            "the server's refusal",
            "location.pathname === '/upload' && !document.getElementById('form-error').hidden",
            SOON,
        )
        .await;
    let server = browser
        .find("#form-error")
        .await
        .text()
        .await
        .expect("text");
    assert!(said.contains(&server), "{server} not among {said:?}");
    assert_eq!(app.count("SELECT count(*) AS n FROM jobs"), 0);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_sent_to_one_replica_is_followed_live_on_another() {
    let mut app = TestApp::web_only(|_| {}).await;
    let other = app.another_web_replica().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (pdf, _) = scanned_pdf(2, 29);
    let paths = write_files(dir.path(), &[("minutes.pdf", &pdf)]);
    let browser = Browser::start(1280, 900).await;
    // Count the updates that arrive over Server-Sent Events (not by polling).
    browser
        .before_every_page(
            "window.updates = 0; const Source = window.EventSource; \
             window.EventSource = class extends Source { constructor(...a) { super(...a); \
             this.addEventListener('update', () => { window.updates += 1; }); } }; \
             window.apiReads = 0; const get = window.fetch; window.fetch = (url, ...rest) => { \
             if (String(url).startsWith('/api/')) window.apiReads += 1; return get(url, ...rest); };",
        )
        .await;
    upload(&browser, &app, &paths).await;
    // The same browser (cookies ignore the port) opens the job on the other replica.
    let path = browser.eval("return location.pathname;").await;
    let path = path.as_str().expect("path").to_owned();
    browser.goto(&format!("{other}{path}")).await;
    assert_eq!(
        browser
            .eval("return document.querySelector('#job').dataset.status;")
            .await,
        "pending",
        "the other replica knows this browser and its job"
    );
    watch_until(
        &browser,
        &mut app,
        "the job to complete on the other replica",
        "document.querySelector('#job').dataset.status === 'complete' \
             && document.querySelector('li.file[data-status=complete] .downloads')",
    )
    .await;
    let updates = browser.eval("return window.updates;").await;
    assert!(
        updates.as_u64().is_some_and(|n| n >= 2),
        "progress came as events through the other replica: {updates}"
    );
    assert_eq!(
        browser.eval("return window.apiReads;").await,
        0,
        "the events themselves moved the page: no job JSON read per event"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_made_elsewhere_reaches_the_open_page() {
    let app = TestApp::web_only(|_| {}).await;
    let browser = one_page_job(&app, 31, "queued.png").await;
    browser
        .eval("window.stillThisPage = true; return null;")
        .await;
    // Another tab of the same browser cancels: same cookie, same token.
    let cookie = browser
        .client
        .get_named_cookie("scribe_owner")
        .await
        .expect("the session cookie");
    let csrf = browser
        .eval("return document.getElementById('job').dataset.csrf;")
        .await;
    let id = browser
        .eval("return document.getElementById('job').dataset.job;")
        .await;
    let r = app
        .client
        .post(app.url(&format!("/api/v1/jobs/{}/cancel", id.as_str().expect("id"))))
        .header("Cookie", format!("scribe_owner={}", cookie.value()))
        .header("X-CSRF-Token", csrf.as_str().expect("token"))
        .send()
        .await
        .expect("POST cancel");
    assert_eq!(r.status().as_u16(), 200);
    browser
        .until(
            "the open page to show the cancel",
            "document.querySelector('#job').dataset.status === 'cancelled' \
             && !document.getElementById('cancel') \
             && document.querySelector('li.file').dataset.status === 'cancelled'",
            SOON,
        )
        .await;
    assert_eq!(
        browser.eval("return window.stillThisPage === true;").await,
        Value::Bool(true)
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_desktop_notification_is_asked_for_on_a_click_and_shown_when_a_background_job_ends() {
    let app = TestApp::web_only(|_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (png, _) = page_png(26);
    let paths = write_files(dir.path(), &[("memo.png", &png)]);
    let browser = Browser::start(1280, 900).await;
    // A stand-in Notification API that records what the page asks of it, and
    // a tab that is in the background.
    browser
        .before_every_page(
            "window.asked = 0; window.shown = []; \
             window.Notification = class { constructor(title, options) { window.shown.push(title + ' | ' + options.body); } \
               static requestPermission() { window.asked++; window.Notification.permission = 'granted'; return Promise.resolve('granted'); } }; \
             window.Notification.permission = 'default'; \
             Object.defineProperty(document, 'hidden', { get: () => window.inBackground === true });",
        )
        .await;
    upload(&browser, &app, &paths).await;
    assert_eq!(
        browser.eval("return window.asked;").await,
        0,
        "never asked on load"
    );
    let button = browser.find("#notify-me").await;
    assert!(
        button.is_displayed().await.expect("displayed"),
        "offered on a running job"
    );
    button.click().await.expect("click");
    browser
        .until("permission asked once", "window.asked === 1", SOON)
        .await;
    browser
        .until(
            "the button gone once granted",
            "document.getElementById('notify-me').hidden",
            SOON,
        )
        .await;
    browser
        .eval("window.inBackground = true; return null;")
        .await;
    // Cancelled with the page's own session, as from another tab.
    browser
        .eval(
            "fetch('/api/v1/jobs/' + document.getElementById('job').dataset.job + '/cancel', \
             { method: 'POST', headers: { 'X-CSRF-Token': document.getElementById('job').dataset.csrf } }); return null;",
        )
        .await;
    browser
        .until("a notification shown", "window.shown.length === 1", SOON)
        .await;
    let shown = browser.eval("return window.shown[0];").await;
    let shown = shown.as_str().expect("title and body");
    assert!(
        shown.starts_with("Scribe: job cancelled | Cancelled"),
        "{shown}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_search_outlines_the_hit_on_the_preview_and_opens_the_job_at_that_page() {
    let app = TestApp::spawn(|_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (png, text) = page_png(44);
    let paths = write_files(dir.path(), &[("minutes.png", &png)]);
    let browser = Browser::start(1280, 900).await;
    upload(&browser, &app, &paths).await;
    let job_path = browser.eval("return location.pathname;").await;
    let job_path = job_path.as_str().expect("path").to_owned();
    browser
        .until(
            "the job to finish",
            "document.querySelector('#job[data-status=\"complete\"]') !== null",
            LIMIT,
        )
        .await;
    let word = long_word(&text);

    // The header's search box, as a user would find it.
    let search = browser.find("form.search input[name=q]").await;
    search.send_keys(&word).await.expect("typed");
    search.send_keys("\u{E007}").await.expect("enter");
    browser
        .until(
            "the search results",
            "location.pathname === '/search' && document.querySelectorAll('.hit').length > 0",
            SOON,
        )
        .await;
    browser
        .until(
            "the page preview loaded",
            "(() => { const i = document.querySelector('.hit-page img'); return !!i && i.complete && i.naturalWidth > 0; })()",
            SOON,
        )
        .await;
    browser.screenshot("search").await;
    assert_eq!(
        browser.find_all_text(".hit-title").await,
        vec!["minutes.png · page 1".to_owned()]
    );
    let marked = browser.find_all_text(".hit-snippet mark").await;
    assert!(
        marked.iter().any(|m| m.to_lowercase().contains(&word)),
        "{word} is highlighted: {marked:?}"
    );
    // The outline is drawn on the preview: inside the picture, with a size,
    // and not the whole page.
    let geometry = browser
        .eval(
            "const img = document.querySelector('.hit-page img').getBoundingClientRect();
             const rects = [...document.querySelectorAll('.hit-boxes rect')].map(r => r.getBoundingClientRect());
             return rects.map(r => [r.width > 2 && r.height > 2,
                                    r.left >= img.left - 1 && r.right <= img.right + 1
                                      && r.top >= img.top - 1 && r.bottom <= img.bottom + 1,
                                    r.width < img.width / 2]);",
        )
        .await;
    let boxes = geometry.as_array().expect("boxes");
    assert!(!boxes.is_empty(), "no outline on the preview");
    for b in boxes {
        assert_eq!(b, &serde_json::json!([true, true, true]), "{geometry}");
    }
    browser.find(".hit-link").await.click().await.expect("open");
    browser
        .until(
            "the job page at the hit's page",
            &format!("location.pathname === '{job_path}' && location.hash.startsWith('#page-')"),
            SOON,
        )
        .await;
    let target = browser
        .eval("return !!document.getElementById(location.hash.slice(1));")
        .await;
    assert_eq!(
        target,
        Value::Bool(true),
        "the link names a page on the job"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_is_read_again_in_another_language_as_a_new_job() {
    let app = TestApp::spawn(|_| {}).await;
    let browser = one_page_job(&app, 45, "again.png").await;
    let first = browser.eval("return location.pathname;").await;
    let first = first.as_str().expect("path").to_owned();
    browser
        .until(
            "the first job to finish",
            "document.querySelector('#job[data-status=\"complete\"]') !== null",
            LIMIT,
        )
        .await;
    browser
        .find("#rerun-box summary")
        .await
        .click()
        .await
        .expect("open the re-run form");
    browser
        .find("#rerun-language")
        .await
        .select_by_value("deu")
        .await
        .expect("another language");
    browser.screenshot("job-rerun").await;
    browser
        .find("#rerun button[type=submit]")
        .await
        .click()
        .await
        .expect("re-run");
    browser
        .until(
            "the new job's page",
            &format!("location.pathname.startsWith('/jobs/') && location.pathname !== '{first}'"),
            SOON,
        )
        .await;
    // The file's card is swapped in with its text after the status changes.
    browser
        .until(
            "the new job's text",
            "document.querySelector('li.file[data-status=\"complete\"] section[id^=page-] pre') !== null",
            LIMIT,
        )
        .await;
    assert_eq!(app.count("SELECT count(*) AS n FROM jobs"), 2);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM jobs WHERE language = 'deu'"),
        1
    );
    let text = browser.find_all_text("section[id^=page-] pre").await;
    assert!(
        text.iter().any(|t| t.split_whitespace().count() > 5),
        "the new job shows its text: {text:?}"
    );
    // The first job is still there as it was.
    browser.goto(&app.url(&first)).await;
    browser
        .until(
            "the first job",
            "document.querySelector('#job[data-status=\"complete\"]') !== null",
            SOON,
        )
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_docs_render_from_vendored_files_under_the_policy() {
    let app = TestApp::web_only(|_| {}).await;
    let browser = Browser::start(1280, 900).await;
    browser.record_csp_violations().await;
    browser.goto(&app.url("/api/docs")).await;
    browser
        .until(
            "the operations listed",
            "document.querySelectorAll('.opblock').length >= 10",
            SOON,
        )
        .await;
    // Opened, an operation draws its parameters, responses and schemas too.
    browser
        .find(".opblock-summary")
        .await
        .click()
        .await
        .expect("open an operation");
    browser
        .until(
            "the operation's responses",
            "document.querySelectorAll('.opblock.is-open .responses-table').length > 0",
            SOON,
        )
        .await;
    browser.screenshot("api-docs").await;
    let paths = browser.find_all_text(".opblock-summary-path").await;
    assert!(
        paths.iter().any(|p| p.contains("/api/v1/search")),
        "{paths:?}"
    );
    assert_eq!(
        browser.csp_violations().await,
        serde_json::json!([]),
        "nothing was blocked by the CSP"
    );
    browser.close().await;
}
