//! What happens to a job after it is accepted, as a person sees it: honest
//! status (partly failed jobs, cancelled jobs keeping their pages, page totals
//! marked provisional), delete, re-run and retention.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::{Connection, PgConnection};
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use support::plain::{PlainBrowser, location_of};
use support::*;

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partly_failed_job_says_so_in_the_api_the_job_page_and_the_history() {
    let app = TestApp::spawn(|_| {}).await;
    let browser = PlainBrowser::visit(&app).await;
    let (png, _) = page_png(40);
    let form = Form::new()
        .text("csrf", browser.csrf.clone())
        .part("file", Part::bytes(png).file_name("good.png"))
        .part(
            "file",
            Part::bytes(b"%PDF-1.7\nnot a PDF at all".to_vec()).file_name("bad.pdf"),
        )
        .part(
            "file",
            Part::bytes(b"%PDF-1.4\nstill no PDF".to_vec()).file_name("worse.pdf"),
        )
        .text("outputs", "txt,json");
    let r = browser.post_form(&app, form).await;
    assert_eq!(r.status().as_u16(), 303);
    let location = location_of(&r);
    let id = location.trim_start_matches("/jobs/").to_owned();

    let started = Instant::now();
    let job = loop {
        let r = browser.get(&app, &format!("/api/v1/jobs/{id}")).await;
        let job: Value = r.json().await.expect("json");
        if job["status"] == "complete" || job["status"] == "error" {
            break job;
        }
        assert!(started.elapsed() < LIMIT, "{job}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(job["files_failed"], 2, "{job}");
    assert_eq!(job["progress"]["pages_total_final"], true, "{job}");
    assert!(
        job["files"][0]["pages"][0]["preview_url"].is_null(),
        "previews were not asked for, so none is listed: {job}"
    );

    let page = browser.html(&app, &location).await;
    assert!(page.contains("Complete · 2 of 3 files failed"), "{page}");
    assert!(page.contains("status-partial"), "{page}");
    let history = browser.html(&app, "/jobs").await;
    assert!(
        history.contains("Complete · 2 of 3 files failed"),
        "{history}"
    );
    assert!(history.contains("badge status-complete status-partial"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_job_keeps_and_serves_the_pages_read_before_the_cancel() {
    let app = TestApp::spawn(|s| {
        s.worker.slots = 1;
        s.ocr.threads = 1;
        s.worker.pages_per_task = 0;
    })
    .await;
    let (pdf, texts) = scanned_pdf(8, 140);
    let id = app
        .submit_ok(vec![("long.pdf", pdf)], &[("outputs", "txt,json,preview")])
        .await;
    let running = app.wait_for_pages(&id, 1, Duration::from_secs(90)).await;
    assert_eq!(
        running["progress"]["pages_total_final"], true,
        "one file, counted: {running}"
    );
    assert_eq!(app.cancel(ALICE, &id).await.status().as_u16(), 200);
    // The page in hand may still land; then nothing moves.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(job["status"], "cancelled");
    let file = &job["files"][0];
    let read = file["pages"].as_array().expect("pages").len();
    assert!((1..8).contains(&read), "{job}");
    assert_eq!(file["pages_done"], read);
    assert_eq!(file["downloads"]["partial"], true, "{job}");
    assert!(file["downloads"]["pdf"].is_null());

    let r = app.download(&format!("/api/v1/jobs/{id}/results")).await;
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().contains_key("x-scribe-note"));
    let results: Value = r.json().await.expect("json");
    assert_eq!(results["status"], "cancelled");
    assert!(
        results["note"]
            .as_str()
            .is_some_and(|n| n.contains("cancelled"))
    );
    let partial = &results["files"][0]["result"];
    assert_eq!(partial["partial"], true, "{results}");
    assert_eq!(partial["pages_read"], read);
    assert!(
        partial["pages"][0]["words"]
            .as_array()
            .is_some_and(|w| !w.is_empty()),
        "{partial}"
    );

    let text_url = file["downloads"]["text"].as_str().expect("text url");
    let r = app.download(text_url).await;
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.expect("text");
    let pages: Vec<&str> = text.split('\u{c}').collect();
    assert_eq!(pages.len(), read);
    assert!(cer(pages[0], &texts[0]) <= 0.02, "{}", pages[0]);
    let file_id = file["id"].as_str().expect("id");
    let pdf = app
        .download(&format!("/api/v1/jobs/{id}/files/{file_id}/pdf"))
        .await;
    assert_eq!(pdf.status().as_u16(), 409);
    let preview = app
        .download(&format!(
            "/api/v1/jobs/{id}/files/{file_id}/pages/1/preview.png"
        ))
        .await;
    assert_eq!(preview.status().as_u16(), 200, "page 1's preview is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_job_is_gone_with_every_stored_object() {
    let app = TestApp::spawn(|_| {}).await;
    let (png, _) = page_png(41);
    let id = app.submit_ok(vec![("gone.png", png)], &[]).await;
    let (keep_png, _) = page_png(42);
    let kept = app.submit_ok(vec![("kept.png", keep_png)], &[]).await;
    app.wait_for_job(&id, LIMIT).await;
    app.wait_for_job(&kept, LIMIT).await;
    assert!(
        app.stored_files_of(&id).len() > 3,
        "the original and results are stored"
    );

    assert_eq!(app.delete(BOB, &id).await.status().as_u16(), 404);
    let r = app.delete(ALICE, &id).await;
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await.0,
        404
    );
    assert_eq!(
        app.get_json(ALICE, &format!("/api/v1/jobs/{id}/results"))
            .await
            .0,
        404
    );
    assert_eq!(app.delete(ALICE, &id).await.status().as_u16(), 404);
    assert_eq!(app.stored_files_of(&id), Vec::<std::path::PathBuf>::new());
    assert!(
        !app.storage.path().join("uploads").join(&id).exists(),
        "no empty directories are left behind"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM uploads WHERE job_id = '{id}'"
        )),
        0
    );
    assert_eq!(
        app.get_json(ALICE, &format!("/api/v1/jobs/{kept}")).await.0,
        200
    );
    assert!(!app.stored_files_of(&kept).is_empty(), "other jobs stay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleting_a_running_job_leaves_its_worker_working_and_nothing_stored() {
    let app = TestApp::spawn(|s| {
        s.worker.slots = 1;
        s.ocr.threads = 1;
        s.worker.pages_per_task = 0;
    })
    .await;
    let (pdf, _) = scanned_pdf(8, 150);
    let id = app.submit_ok(vec![("running.pdf", pdf)], &[]).await;
    app.wait_for_pages(&id, 1, Duration::from_secs(90)).await;
    assert_eq!(app.delete(ALICE, &id).await.status().as_u16(), 204);
    assert_eq!(
        app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await.0,
        404
    );

    // The worker drops the task and takes the next one.
    let (png, _) = page_png(43);
    let next = app.submit_ok(vec![("next.png", png)], &[]).await;
    let job = app.wait_for_job(&next, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(app.stored_files_of(&id), Vec::<std::path::PathBuf>::new());
    assert_eq!(app.count("SELECT count(*) AS n FROM jobs"), 1);
    let names = app.names();
    assert_eq!(app.queue_depth(&names.ocr_queue()).await, 0);
    assert_eq!(
        app.queue_depth(&names.retry_queue(0)).await,
        0,
        "the vanished job is not retried"
    );
    assert!(app.dead_letter().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rerun_reads_the_stored_originals_with_another_language_and_outputs() {
    let app = TestApp::spawn(|_| {}).await;
    let (png, text) = page_png(44);
    let id = app
        .submit_ok(
            vec![("letter.png", png)],
            &[("language", "eng"), ("outputs", "txt,json")],
        )
        .await;
    let first = app.wait_for_job(&id, LIMIT).await;
    assert!(first["files"][0]["downloads"]["pdf"].is_null());

    let rerun = |key: &'static str, body: Value| {
        let url = app.url(&format!("/api/v1/jobs/{id}/rerun"));
        let client = app.client.clone();
        async move {
            client
                .post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .expect("rerun")
        }
    };
    let refused = rerun(ALICE, serde_json::json!({"language": "xx"})).await;
    assert_eq!(refused.status().as_u16(), 400);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unknown_language");
    assert_eq!(
        rerun(BOB, serde_json::json!({})).await.status().as_u16(),
        404
    );

    let r = rerun(
        ALICE,
        serde_json::json!({"language": "deu+eng", "outputs": "txt,json,pdf"}),
    )
    .await;
    assert_eq!(r.status().as_u16(), 202);
    let accepted: Value = r.json().await.expect("json");
    let new_id = accepted["id"].as_str().expect("id").to_owned();
    assert_ne!(new_id, id);
    assert_eq!(accepted["status"], "pending");
    assert_eq!(accepted["files"][0]["file_name"], "letter.png");
    assert_eq!(accepted["files"][0]["sha256"], first["files"][0]["sha256"]);

    let job = app.wait_for_job(&new_id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(job["language"], "deu+eng");
    assert_eq!(job["outputs"]["pdf"], true);
    let pdf_url = job["files"][0]["downloads"]["pdf"]
        .as_str()
        .expect("a searchable PDF this time");
    let pdf = app.download(pdf_url).await;
    assert_eq!(pdf.status().as_u16(), 200);
    assert!(pdf.bytes().await.expect("pdf").starts_with(b"%PDF"));
    let text_url = job["files"][0]["downloads"]["text"].as_str().expect("url");
    let got = app.download(text_url).await.text().await.expect("text");
    assert!(cer(&got, &text) <= 0.05, "{got}");

    // The original job is untouched, and deleting it leaves the re-run whole.
    let (_, before) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(before["language"], "eng");
    assert_eq!(app.delete(ALICE, &id).await.status().as_u16(), 204);
    let again = rerun(ALICE, serde_json::json!({})).await;
    assert_eq!(again.status().as_u16(), 404);
    let r = app
        .client
        .post(app.url(&format!("/api/v1/jobs/{new_id}/rerun")))
        .bearer_auth(ALICE)
        .send()
        .await
        .expect("rerun without a body");
    assert_eq!(r.status().as_u16(), 202, "no body: the same settings again");
}

/// Where the first page of job `id`'s first file got its text, which must read as `truth`.
async fn page_source(app: &TestApp, id: &str, truth: &str) -> String {
    let (status, results) = app
        .get_json(ALICE, &format!("/api/v1/jobs/{id}/results"))
        .await;
    assert_eq!(status, 200, "{results}");
    let page = &results["files"][0]["result"]["pages"][0];
    let text = page["text"].as_str().unwrap_or_default();
    assert!(cer(text, truth) <= 0.05, "{page}");
    page["source"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn force_ocr_reads_a_pdf_s_own_text_again_for_a_job_and_its_rerun() {
    let app = TestApp::spawn(|_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = scribe_fixtures::page_text(47, 4);
    let path = dir.path().join("digital.pdf");
    scribe_fixtures::pdf::write_text(std::slice::from_ref(&lines), &path).expect("pdf");
    let pdf = std::fs::read(&path).expect("read");
    let truth = lines.join("\n");

    let refused = app
        .submit(
            ALICE,
            vec![("digital.pdf", pdf.clone())],
            &[("force_ocr", "maybe")],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 400);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "malformed_body", "{body}");

    let kept = app
        .submit_ok(
            vec![("digital.pdf", pdf.clone())],
            &[("outputs", "txt,json")],
        )
        .await;
    let job = app.wait_for_job(&kept, LIMIT).await;
    assert_eq!(job["force_ocr"], false, "{job}");
    assert_eq!(page_source(&app, &kept, &truth).await, "text_layer");

    // The same file and outputs: no duplicate of the job that kept its text.
    let r = app
        .submit(
            ALICE,
            vec![("digital.pdf", pdf.clone())],
            &[("outputs", "txt,json"), ("force_ocr", "true")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 202);
    let accepted: Value = r.json().await.expect("json");
    assert_eq!(accepted["force_ocr"], true, "{accepted}");
    assert!(accepted["reused_from"].is_null(), "{accepted}");
    let forced = accepted["id"].as_str().expect("id").to_owned();
    let job = app.wait_for_job(&forced, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(page_source(&app, &forced, &truth).await, "ocr");

    let r = app
        .client
        .post(app.url(&format!("/api/v1/jobs/{kept}/rerun")))
        .bearer_auth(ALICE)
        .json(&serde_json::json!({"force_ocr": true}))
        .send()
        .await
        .expect("rerun");
    assert_eq!(r.status().as_u16(), 202);
    let rerun: Value = r.json().await.expect("json");
    let rerun = rerun["id"].as_str().expect("id").to_owned();
    let job = app.wait_for_job(&rerun, LIMIT).await;
    assert_eq!(job["force_ocr"], true, "{job}");
    assert_eq!(page_source(&app, &rerun, &truth).await, "ocr");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_portal_deletes_and_reruns_with_plain_forms() {
    let app = TestApp::spawn(|_| {}).await;
    let browser = PlainBrowser::visit(&app).await;
    let (png, _) = page_png(45);
    let form = Form::new()
        .text("csrf", browser.csrf.clone())
        .part("file", Part::bytes(png).file_name("scan.png"))
        .text("outputs", "txt,json")
        // A ticked checkbox.
        .text("force_ocr", "on");
    let location = location_of(&browser.post_form(&app, form).await);
    let id = location.trim_start_matches("/jobs/").to_owned();
    let page = browser.html(&app, &location).await;
    assert!(page.contains(&format!("action=\"/jobs/{id}/delete\"")));
    assert!(page.contains(&format!("action=\"/jobs/{id}/rerun\"")));
    assert!(page.contains("name=\"force_ocr\" checked"), "{page}");

    let r = browser
        .post(
            &app,
            &format!("/jobs/{id}/rerun"),
            &[
                ("language", "deu"),
                ("language", ""),
                ("outputs", "pdf"),
                ("outputs", "txt,json"),
                // The form's hidden field, its checkbox left unticked.
                ("force_ocr", "false"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let rerun = location_of(&r);
    assert_ne!(rerun, location);
    let rerun_id = rerun.trim_start_matches("/jobs/");
    let job: Value = browser
        .get(&app, &format!("/api/v1/jobs/{rerun_id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(job["language"], "deu");
    assert_eq!(job["outputs"]["pdf"], true);
    assert_eq!(job["force_ocr"], false, "{job}");

    let forged = browser
        .http
        .post(app.url(&format!("/jobs/{id}/delete")))
        .header(reqwest::header::COOKIE, &browser.cookie)
        .form(&[("csrf", "0000")])
        .send()
        .await
        .expect("POST");
    assert_eq!(forged.status().as_u16(), 403);
    let r = browser.post(&app, &format!("/jobs/{id}/delete"), &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(location_of(&r), "/jobs?deleted=1");
    let history = browser.html(&app, "/jobs?deleted=1").await;
    assert!(history.contains("were deleted"), "{history}");
    assert_eq!(browser.get(&app, &location).await.status().as_u16(), 404);
    assert_eq!(
        browser.get(&app, &rerun).await.status().as_u16(),
        200,
        "the re-run is its own job"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sweeper_deletes_jobs_past_their_retention() {
    let app = TestApp::web_only(|s| {
        s.storage.retention_days = Some(7);
        s.web.republish_after_secs = 1;
    })
    .await;
    let (old_png, _) = page_png(46);
    let old = app.submit_ok(vec![("old.png", old_png)], &[]).await;
    let (new_png, _) = page_png(47);
    let recent = app.submit_ok(vec![("recent.png", new_png)], &[]).await;
    let (run_png, _) = page_png(48);
    let active = app.submit_ok(vec![("waiting.png", run_png)], &[]).await;
    // Finished (cancelled) jobs, one of them eight days ago.
    for id in [&old, &recent] {
        assert_eq!(app.cancel(ALICE, id).await.status().as_u16(), 200);
    }
    app.execute(&format!(
        "UPDATE jobs SET finished_at = now() - interval '8 days', \
         created_at = now() - interval '8 days' WHERE id IN ('{old}', '{active}')"
    ));
    assert!(!app.stored_files_of(&old).is_empty());

    let started = Instant::now();
    while app.get_json(ALICE, &format!("/api/v1/jobs/{old}")).await.0 != 404 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the expired job is still there"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.stored_files_of(&old), Vec::<std::path::PathBuf>::new());
    for id in [&recent, &active] {
        assert_eq!(
            app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await.0,
            200,
            "a recent or unfinished job stays"
        );
        assert!(!app.stored_files_of(id).is_empty());
    }
}

/// Counts the statements a connection sends.
struct Statements(Arc<AtomicUsize>);

impl Instrumentation for Statements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_job_list_costs_the_same_queries_for_one_job_or_many() {
    let app = TestApp::web_only(|_| {}).await;
    let mut counts = Vec::new();
    for jobs in [1, 6] {
        while app.count("SELECT count(*) AS n FROM jobs") < jobs {
            let (png, _) = page_png(50);
            let (other, _) = page_png(51);
            app.submit_ok(vec![("a.png", png), ("b.png", other)], &[])
                .await;
        }
        let url = app.settings.database.url.clone();
        let (statements, listed) = tokio::task::spawn_blocking(move || {
            let mut conn = PgConnection::establish(&url).expect("db");
            let n = Arc::new(AtomicUsize::new(0));
            conn.set_instrumentation(Statements(Arc::clone(&n)));
            let listed = scribe_core::db::queries::jobs_with_files(
                &mut conn,
                "api:alice",
                &Default::default(),
                20,
                0,
            )
            .expect("list");
            (n.load(Ordering::Relaxed), listed)
        })
        .await
        .expect("join");
        assert_eq!(listed.len() as i64, jobs);
        assert!(listed.iter().all(|j| j.uploads.len() == 2));
        counts.push(statements);
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
    assert!(counts[0] <= 3, "{counts:?}");

    // The API's list is that query: every job with its files, in one answer.
    let (status, list) = app.get_json(ALICE, "/api/v1/jobs?per_page=100").await;
    assert_eq!(status, 200);
    let jobs = list["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 6);
    assert!(
        jobs.iter()
            .all(|j| j["files"].as_array().map(Vec::len) == Some(2))
    );
    assert!(
        jobs.iter()
            .all(|j| j["progress"]["pages_total_final"] == false),
        "nothing is counted before a worker opens the files"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_archive_streams_every_output_of_every_file_under_its_own_name() {
    let mut app = TestApp::web_only(|_| {}).await;
    let (a, text_a) = page_png(45);
    let (b, text_b) = page_png(46);
    let id = app
        .submit_ok(vec![("scan.png", a), ("scan.png", b)], &[])
        .await;
    let zip_url = format!("/api/v1/jobs/{id}/archive.zip");
    assert_eq!(
        app.download(&zip_url).await.status().as_u16(),
        409,
        "not yet"
    );
    app.start_worker();
    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");

    let bob = app
        .client
        .get(app.url(&zip_url))
        .bearer_auth(BOB)
        .send()
        .await
        .expect("send");
    assert_eq!(bob.status().as_u16(), 404);
    let r = app.download(&zip_url).await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().expect("ascii"),
        "application/zip"
    );
    let bytes = r.bytes().await.expect("zip").to_vec();
    let zip = async_zip::base::read::mem::ZipFileReader::new(bytes)
        .await
        .expect("a readable ZIP");
    let names: Vec<String> = zip
        .file()
        .entries()
        .iter()
        .map(|e| e.filename().as_str().expect("UTF-8 name").to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "results.json",
            "scan.txt",
            "scan.hocr.html",
            "scan.json",
            "scan.ocr.pdf",
            "scan (2).txt",
            "scan (2).hocr.html",
            "scan (2).json",
            "scan (2).ocr.pdf",
        ]
    );
    // Dated when the job finished (this year), not ZIP's empty 1980-00-00.
    let since_1970 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let this_year = 1970 + (since_1970 / 31_556_952) as i32;
    for e in zip.file().entries() {
        let date = e.last_modification_date();
        assert!(
            date.year() >= this_year - 1 && (1..=12).contains(&date.month()) && date.day() >= 1,
            "{date:?}"
        );
    }
    let member = |i: usize| {
        let zip = &zip;
        async move {
            let mut out = Vec::new();
            let mut entry = zip.reader_with_entry(i).await.expect("entry");
            entry
                .read_to_end_checked(&mut out)
                .await
                .expect("CRC matches");
            out
        }
    };
    let text = String::from_utf8(member(1).await).expect("text");
    assert!(cer(&text, &text_a) <= 0.05, "{text}");
    let text = String::from_utf8(member(5).await).expect("text");
    assert!(cer(&text, &text_b) <= 0.05, "{text}");
    assert!(member(4).await.starts_with(b"%PDF"));
    let results: Value = serde_json::from_slice(&member(0).await).expect("JSON");
    assert_eq!(results["job_id"], id.as_str());
}
