//! Jobs end to end through the web app, RabbitMQ, the worker and PostgreSQL.

mod support;

use std::time::Duration;

use support::*;

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_image_job_completes_with_text_downloads_and_previews() {
    let app = TestApp::spawn(|_| {}).await;
    let (png, truth) = page_png(1);
    let started = std::time::Instant::now();
    let r = app
        .submit(ALICE, vec![("receipt.png", png)], &[("language", "eng")])
        .await;
    assert_eq!(r.status().as_u16(), 202);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "accepting must not wait for OCR"
    );
    let body: serde_json::Value = r.json().await.expect("json");
    let id = body["id"].as_str().expect("id").to_owned();
    assert_eq!(body["status"], "pending");
    assert_eq!(body["status_url"], format!("/api/v1/jobs/{id}"));

    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(job["progress"]["pages_done"], 1);
    let file = &job["files"][0];
    assert_eq!(file["detected_type"], "png");
    assert_eq!(file["pages"].as_array().map(Vec::len), Some(1));

    let text = app
        .download(file["downloads"]["text"].as_str().expect("url"))
        .await;
    assert_eq!(text.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(
        text.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains("receipt.txt")
    );
    let text = text.text().await.expect("body");
    assert!(cer(&text, &truth) <= 0.02, "{text}");

    // The JSON view reads the pages' figures without their text; the portal reads both.
    let upload: uuid::Uuid = file["id"].as_str().expect("id").parse().expect("uuid");
    let mut conn =
        <diesel::PgConnection as diesel::Connection>::establish(&app.settings.database.url)
            .expect("connect");
    let bare =
        scribe_core::db::queries::pages_of_uploads(&mut conn, &[upload], false).expect("query");
    let full =
        scribe_core::db::queries::pages_of_uploads(&mut conn, &[upload], true).expect("query");
    assert_eq!((bare.len(), full.len()), (1, 1));
    assert_eq!(bare[0].text, "");
    assert!(cer(&full[0].text, &truth) <= 0.02, "{}", full[0].text);
    assert_eq!(
        (bare[0].number, bare[0].word_count, bare[0].mean_confidence),
        (full[0].number, full[0].word_count, full[0].mean_confidence)
    );

    let pdf = app
        .download(file["downloads"]["pdf"].as_str().expect("url"))
        .await;
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.expect("body").starts_with(b"%PDF"));

    let hocr = app
        .download(file["downloads"]["hocr"].as_str().expect("url"))
        .await;
    assert!(hocr.text().await.expect("body").contains("ocrx_word"));

    let preview = app
        .download(file["pages"][0]["preview_url"].as_str().expect("url"))
        .await;
    assert_eq!(preview.headers()["content-type"], "image/png");
    assert!(image::load_from_memory(&preview.bytes().await.expect("body")).is_ok());

    let (status, missing) = app
        .get_json(
            ALICE,
            &format!(
                "{}/pages/9/preview.png",
                file["pages"][0]["preview_url"]
                    .as_str()
                    .expect("url")
                    .rsplit_once("/pages/")
                    .expect("pages")
                    .0
            ),
        )
        .await;
    assert_eq!(status, 404);
    assert!(
        missing["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("page 9")),
        "{missing}"
    );
    let (status, results) = app
        .get_json(ALICE, &format!("/api/v1/jobs/{id}/results"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(results["files"][0]["result"]["schema_version"], 1);
    assert!(
        results["files"][0]["result"]["pages"][0]["words"]
            .as_array()
            .is_some_and(|w| !w.is_empty())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_corrupt_file_fails_alone_and_the_other_files_complete() {
    let app = TestApp::spawn(|_| {}).await;
    let (pdf, pages) = scanned_pdf(2, 10);
    let (png, _) = page_png(12);
    let r = app
        .submit(
            ALICE,
            vec![
                ("scan.pdf", pdf),
                ("broken.pdf", b"%PDF-1.7\ngarbage that is no PDF".to_vec()),
                ("photo.png", png),
            ],
            &[("language", "eng"), ("outputs", "txt,json,pdf")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 202);
    let body: serde_json::Value = r.json().await.expect("json");
    let id = body["id"].as_str().expect("id").to_owned();
    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    let files = job["files"].as_array().expect("files");
    assert_eq!(files.len(), 3);
    assert_eq!(files[0]["status"], "complete");
    assert_eq!(files[0]["pages_done"], 2);
    assert_eq!(files[1]["status"], "error");
    assert_eq!(files[1]["error"]["code"], "corrupt_file");
    assert!(
        files[1]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("damaged")),
        "{}",
        files[1]
    );
    assert_eq!(files[2]["status"], "complete");
    assert!(
        files[0]["downloads"]["hocr"].is_null(),
        "hOCR was not requested"
    );
    // A refused download: its status and message.
    let refusal = |file: usize, kind: &'static str| {
        let url = format!(
            "/api/v1/jobs/{id}/files/{}/{kind}",
            files[file]["id"].as_str().expect("id")
        );
        let app = &app;
        async move {
            let r = app.download(&url).await;
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.expect("json");
            let message = body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (status, message)
        }
    };
    let (status, message) = refusal(0, "hocr").await;
    assert_eq!(status, 404);
    assert!(message.contains("did not ask"), "{message}");
    let (status, message) = refusal(1, "text").await;
    assert_eq!(status, 409);
    assert!(
        message.starts_with("this file could not be read, so it has no downloads: ")
            && message.contains("damaged"),
        "{message}"
    );
    let (status, message) = refusal(0, "exe").await;
    assert_eq!(status, 404);
    assert!(message.contains("no `exe` download"), "{message}");
    let url = files[0]["downloads"]["text"].as_str().expect("url");
    let text = app.download(url).await.text().await.expect("body");
    let got: Vec<&str> = text.split('\u{c}').collect();
    assert_eq!(got.len(), 2);
    for (g, want) in got.iter().zip(&pages) {
        assert!(cer(g, want) <= 0.02, "{g}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_damaged_page_is_reported_and_the_rest_of_its_file_is_read() {
    // One page per task: the pages are read apart and judged together.
    let app = TestApp::spawn(|s| s.worker.pages_per_task = 1).await;
    let rendered = small_pages(3, 30, 4);
    let images: Vec<_> = rendered.iter().map(|p| p.image.clone()).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let (damaged, ruined) = (
        dir.path().join("damaged.tif"),
        dir.path().join("ruined.tif"),
    );
    scribe_fixtures::tiff_file::write_multipage_deflated(&images, &damaged).expect("tiff");
    scribe_fixtures::tiff_file::write_multipage_deflated(&images[..2], &ruined).expect("tiff");
    scribe_fixtures::tiff_file::damage_page(&damaged, 1).expect("damage");
    for page in 0..2 {
        scribe_fixtures::tiff_file::damage_page(&ruined, page).expect("damage");
    }
    // A page with text of its own, beside them: its hOCR page is kept too.
    let typed = dir.path().join("typed.pdf");
    scribe_fixtures::pdf::write_text(&[vec!["Quarterly ledger summary".to_owned()]], &typed)
        .expect("pdf");
    let read = |p: &std::path::Path| std::fs::read(p).expect("read");
    let id = app
        .submit_ok(
            vec![
                ("damaged.tif", read(&damaged)),
                ("ruined.tif", read(&ruined)),
                ("typed.pdf", read(&typed)),
            ],
            &[
                ("language", "eng"),
                ("outputs", "txt,json,pdf,preview,hocr"),
            ],
        )
        .await;
    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    let file = &job["files"][0];
    assert_eq!(file["status"], "complete", "{file}");
    assert_eq!(file["pages_done"], 3);
    assert_eq!(file["pages_unread"], 1);
    let pages = file["pages"].as_array().expect("pages");
    assert!(
        pages[0]["error"].is_null() && pages[2]["error"].is_null(),
        "{file}"
    );
    assert_eq!(pages[1]["error"]["code"], "corrupt_file", "{file}");
    assert!(
        pages[1]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("damaged")),
        "{file}"
    );
    assert!(
        pages[1]["preview_url"].is_null(),
        "no preview of an unread page"
    );
    assert!(pages[0]["preview_url"].is_string());
    let text = app.download_text(&file["downloads"]["text"]).await;
    let got: Vec<&str> = text.split('\u{c}').collect();
    assert_eq!(got.len(), 3, "{text:?}");
    assert!(cer(got[0], &rendered[0].text()) <= 0.02, "{}", got[0]);
    assert_eq!(got[1], "");
    assert!(cer(got[2], &rendered[2].text()) <= 0.02, "{}", got[2]);
    let (status, results) = app
        .get_json(ALICE, &format!("/api/v1/jobs/{id}/results"))
        .await;
    assert_eq!(status, 200);
    let result = &results["files"][0]["result"];
    assert_eq!(result["pages"][1]["source"], "unread", "{result}");
    assert_eq!(result["pages"][1]["error"]["code"], "corrupt_file");
    let pdf = app
        .download(file["downloads"]["pdf"].as_str().expect("pdf"))
        .await
        .bytes()
        .await
        .expect("pdf");
    assert_eq!(pdf_page_count(&pdf), 3, "the unread page keeps its place");
    let hocr = app.download_text(&file["downloads"]["hocr"]).await;
    assert_eq!(hocr.matches("class='ocr_page'").count(), 3, "{hocr}");
    assert!(hocr.contains("id='page_3'"), "{hocr}");

    let typed = &job["files"][2];
    assert_eq!(typed["pages"][0]["words"], 3, "{typed}");
    let hocr = app.download_text(&typed["downloads"]["hocr"]).await;
    assert!(hocr.contains(">ledger<"), "the typed page's words: {hocr}");

    // A file with no page to read fails, for its first page's reason.
    let file = &job["files"][1];
    assert_eq!(file["status"], "error", "{file}");
    assert_eq!(file["error"]["code"], "corrupt_file", "{file}");
    assert!(
        file["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("page 1: ") && m.contains("damaged")),
        "{file}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_pending_job_never_starts() {
    let mut app = TestApp::web_only(|_| {}).await;
    let (pdf, _) = scanned_pdf(3, 20);
    let id = app.submit_ok(vec![("long.pdf", pdf)], &[]).await;
    let cancelled = app.cancel(ALICE, &id).await;
    assert_eq!(cancelled.status().as_u16(), 200);
    let again = app.cancel(ALICE, &id).await;
    assert_eq!(
        again.status().as_u16(),
        409,
        "a finished job cannot be cancelled twice"
    );

    app.start_worker();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(job["status"], "cancelled");
    assert_eq!(job["files"][0]["status"], "cancelled");
    assert!(
        job["files"][0]["finished_at"].is_string(),
        "a cancelled file says when it ended: {job}"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages"),
        0,
        "no page of a cancelled job is processed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duplicated_task_and_a_garbage_message_change_nothing() {
    let app = TestApp::spawn(|_| {}).await;
    let (pdf, _) = scanned_pdf(2, 30);
    let r = app
        .submit(ALICE, vec![("twice.pdf", pdf)], &[("outputs", "txt,json")])
        .await;
    let body: serde_json::Value = r.json().await.expect("json");
    let id = body["id"].as_str().expect("id").to_owned();
    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete");

    // The same task again, and a message no worker can parse.
    let task = scribe_core::task::OcrTask::new(
        id.parse().expect("uuid"),
        body["files"][0]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid"),
    );
    app.publish_raw(&serde_json::to_vec(&task).expect("json"))
        .await;
    app.publish_raw(b"{not json at all").await;

    let mut dead = None;
    for _ in 0..50 {
        dead = app.dead_letter().await;
        if dead.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        dead.as_deref(),
        Some(&b"{not json at all"[..]),
        "garbage goes to the dead-letter queue"
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages"),
        2,
        "no duplicate pages"
    );
    let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(job["status"], "complete");
    assert_eq!(job["files"][0]["pages_done"], 2);

    // The worker is still consuming.
    let (png, _) = page_png(33);
    let id = app.submit_ok(vec![("after.png", png)], &[]).await;
    assert_eq!(app.wait_for_job(&id, LIMIT).await["status"], "complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storage_hiccup_is_retried_and_the_job_completes() {
    let app = TestApp::spawn(|s| s.broker.retry_delays_secs = vec![3, 3]).await;
    // A plain file where the results directory belongs: every result write fails
    // until it is removed.
    let blocker = app.storage.path().join("results");
    std::fs::write(&blocker, b"in the way").expect("blocker");
    let (png, _) = page_png(40);
    let id = app.submit_ok(vec![("retry.png", png)], &[]).await;

    // Unblock once the failed task is parked in the first delay queue.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while app.queue_depth(&app.names().retry_queue(0)).await < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the failure was never parked for retry"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::remove_file(&blocker).expect("unblock");

    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    assert!(
        job["files"][0]["attempts"].as_i64().is_some_and(|a| a >= 2),
        "retried: {job}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_large_pdf_is_split_into_page_ranges_shared_by_workers() {
    let mut app = TestApp::spawn(|s| {
        s.worker.pages_per_task = 2;
        s.worker.slots = 1;
        s.ocr.threads = 1;
    })
    .await;
    app.start_worker();
    let (pdf, pages) = scanned_pdf(5, 60);
    let id = app
        .submit_ok(vec![("split.pdf", pdf)], &[("outputs", "txt,json,pdf")])
        .await;
    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(job["files"][0]["pages_done"], 5);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages"),
        5,
        "every page exactly once"
    );
    // Three range tasks claimed the upload: the whole-file task and two more shares.
    assert!(
        job["files"][0]["attempts"].as_i64().is_some_and(|a| a >= 3),
        "{job}"
    );

    let url = job["files"][0]["downloads"]["text"].as_str().expect("url");
    let text = app.download(url).await.text().await.expect("body");
    let got: Vec<&str> = text.split('\u{c}').collect();
    assert_eq!(got.len(), 5, "pages assembled in order");
    for (g, want) in got.iter().zip(&pages) {
        assert!(cer(g, want) <= 0.02, "{g}");
    }
    let pdf_url = job["files"][0]["downloads"]["pdf"].as_str().expect("url");
    let merged = app.download(pdf_url).await.bytes().await.expect("body");
    assert_eq!(pdf_page_count(&merged), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_request_trace_id_travels_with_the_task() {
    let app = TestApp::web_only(|_| {}).await;
    let (png, _) = page_png(70);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png).file_name("t.png"),
    );
    let r = app
        .client
        .post(app.url("/api/v1/jobs"))
        .bearer_auth(ALICE)
        .header("X-Request-Id", "trace-abc-123")
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 202);
    assert_eq!(r.headers()["x-request-id"], "trace-abc-123");
    let (_, headers) = app
        .take_within(&app.names().ocr_queue(), Duration::from_secs(10))
        .await
        .expect("the task is queued");
    let trace = headers
        .inner()
        .get(scribe_core::broker::TRACE_HEADER)
        .cloned();
    assert_eq!(
        trace,
        Some(lapin::types::AMQPValue::LongString("trace-abc-123".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_worker_serves_metrics() {
    let app = TestApp::spawn(|_| {}).await;
    let (png, _) = page_png(80);
    let id = app
        .submit_ok(
            vec![
                ("m.png", png),
                ("broken.pdf", b"%PDF-1.7\ngarbage that is no PDF".to_vec()),
            ],
            &[],
        )
        .await;
    assert_eq!(app.wait_for_job(&id, LIMIT).await["status"], "complete");
    let port = app.worker_metrics[0];
    let body = app
        .client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    assert!(body.contains("scribe_pages_done_total 1"), "{body}");
    assert!(
        body.contains("scribe_tasks_total{outcome=\"ok\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("scribe_tasks_total{outcome=\"permanent\"} 1"),
        "the refused file counts as a permanent failure: {body}"
    );
    assert!(body.contains("scribe_ocr_seconds_count 1"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn progress_streams_live_over_server_sent_events() {
    use futures_util::StreamExt;
    // No worker until the stream is open, so every page's event is seen.
    let mut app = TestApp::web_only(|_| {}).await;
    let (pdf, _) = scanned_pdf(3, 100);
    let id = app
        .submit_ok(vec![("live.pdf", pdf)], &[("outputs", "txt,json")])
        .await;
    let r = app
        .client
        .get(app.url(&format!("/api/v1/jobs/{id}/events")))
        .bearer_auth(ALICE)
        .send()
        .await
        .expect("events");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    app.start_worker();
    let mut body = String::new();
    let mut stream = r.bytes_stream();
    let read = tokio::time::timeout(LIMIT, async {
        while let Some(chunk) = stream.next().await {
            body.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the stream ends when the job finishes: {body}"
    );
    assert!(body.starts_with("event: snapshot\n"), "{body}");
    for done in 1..=3 {
        assert!(
            body.contains(&format!("\"pages_done\":{done}")),
            "page {done} announced: {body}"
        );
    }
    assert!(body.contains("\"job_status\":\"complete\""), "{body}");
    assert!(
        body.contains("\"job_status\":\"processing\""),
        "the claim is announced: {body}"
    );
    // Another owner cannot listen in.
    let r = app
        .client
        .get(app.url(&format!("/api/v1/jobs/{id}/events")))
        .bearer_auth(BOB)
        .send()
        .await
        .expect("events");
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_reaches_every_listener_and_ends_their_streams() {
    use futures_util::StreamExt;
    let app = TestApp::web_only(|_| {}).await;
    let (png, _) = page_png(30);
    let id = app.submit_ok(vec![("later.png", png)], &[]).await;
    // Listening on another replica than the one that is told to cancel.
    let other = app.another_web_replica().await;
    let r = app
        .client
        .get(format!("{other}/api/v1/jobs/{id}/events"))
        .bearer_auth(ALICE)
        .send()
        .await
        .expect("events");
    assert_eq!(r.status().as_u16(), 200);
    let mut stream = r.bytes_stream();
    let first = stream.next().await.expect("snapshot").expect("chunk");
    assert!(String::from_utf8_lossy(&first).starts_with("event: snapshot"));
    assert_eq!(app.cancel(ALICE, &id).await.status().as_u16(), 200);
    let mut body = String::new();
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = stream.next().await {
            body.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        }
    })
    .await;
    assert!(read.is_ok(), "the stream ends after the cancel: {body}");
    assert!(body.contains("\"job_status\":\"cancelled\""), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelling_a_running_job_stops_it_after_the_current_page() {
    let app = TestApp::spawn(|s| {
        s.worker.slots = 1;
        s.ocr.threads = 1;
        s.worker.pages_per_task = 0;
    })
    .await;
    let (pdf, _) = scanned_pdf(8, 120);
    let id = app
        .submit_ok(vec![("stop.pdf", pdf)], &[("outputs", "txt,json")])
        .await;
    app.wait_for_pages(&id, 1, Duration::from_secs(90)).await;
    assert_eq!(app.cancel(ALICE, &id).await.status().as_u16(), 200);
    let at_cancel = app.count("SELECT count(*) AS n FROM pages");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = app.count("SELECT count(*) AS n FROM pages");
    assert!(
        after <= at_cancel + 1,
        "at most the page in hand finishes: {at_cancel} then {after}"
    );
    assert!(after < 8, "the job did not run to the end");
    let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(job["status"], "cancelled");
    assert_eq!(job["files"][0]["status"], "cancelled");
    assert!(
        job["files"][0]["finished_at"].is_string(),
        "a cancelled file says when it ended: {job}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outputs_pdfa_travels_with_the_job_and_results_say_what_was_made() {
    let app = TestApp::spawn(|_| {}).await;
    let (png, _) = page_png(3);
    let id = app
        .submit_ok(
            vec![("scan.png", png)],
            &[("language", "eng"), ("outputs", "pdfa")],
        )
        .await;
    let job = app.wait_for_job(&id, LIMIT).await;
    assert_eq!(job["status"], "complete", "{job}");
    let file = &job["files"][0];
    let pdf = app
        .download(file["downloads"]["pdf"].as_str().expect("a searchable PDF"))
        .await;
    let pdf = pdf.bytes().await.expect("body");
    let xmp = String::from_utf8_lossy(&pdf);
    assert!(
        xmp.contains("<pdfaid:part>2</pdfaid:part>"),
        "no PDF/A claim"
    );
    let (status, results) = app
        .get_json(ALICE, &format!("/api/v1/jobs/{id}/results"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(results["files"][0]["result"]["searchable_pdf"], "pdf/a-2b");
}
