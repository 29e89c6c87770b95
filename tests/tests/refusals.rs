//! Every request a client can get wrong gets a clear 4xx and leaves nothing behind.

mod support;

use support::*;

async fn refused(app: &TestApp, r: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(r.status().as_u16(), status);
    let body: serde_json::Value = r.json().await.expect("JSON error envelope");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM jobs"),
        0,
        "no job row for a refused request"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM uploads"), 0);
    assert!(
        app.stored_files().is_empty(),
        "nothing stored: {:?}",
        app.stored_files()
    );
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_with_a_reason() {
    let app = TestApp::web_only(|s| {
        s.limits.max_file_bytes = 200_000;
        s.web.max_request_bytes = 300_000;
        s.web.max_files_per_job = 2;
    })
    .await;
    let (png, _) = page_png(1);
    assert!(png.len() < 200_000, "fixture fits the limit");

    let r = app.submit(ALICE, vec![], &[("language", "eng")]).await;
    refused(&app, r, 400, "no_file").await;

    let r = app.submit(ALICE, vec![("empty.png", vec![])], &[]).await;
    refused(&app, r, 400, "empty_file").await;

    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(4096, 0);
    let r = app.submit(ALICE, vec![("photo.png", elf)], &[]).await;
    let msg = refused(&app, r, 415, "unsupported_type").await;
    assert!(msg.contains("ELF"), "{msg}");

    let mut oversized = png.clone();
    oversized.resize(250_000, 0);
    let r = app.submit(ALICE, vec![("big.png", oversized)], &[]).await;
    refused(&app, r, 413, "file_too_large").await;

    let r = app
        .submit(
            ALICE,
            vec![
                ("a.png", png.clone()),
                ("b.png", png.clone()),
                ("c.png", png.clone()),
            ],
            &[],
        )
        .await;
    refused(&app, r, 400, "too_many_files").await;

    let mut big = png.clone();
    big.resize(190_000, 0);
    let r = app
        .submit(ALICE, vec![("a.png", big.clone()), ("b.png", big)], &[])
        .await;
    refused(&app, r, 413, "request_too_large").await;

    let r = app
        .submit(
            ALICE,
            vec![("a.png", png.clone())],
            &[("language", "eng+klingon")],
        )
        .await;
    let msg = refused(&app, r, 400, "unknown_language").await;
    assert!(msg.contains("klingon") && msg.contains("eng"), "{msg}");

    let r = app
        .submit(ALICE, vec![("a.png", png.clone())], &[("outputs", "docx")])
        .await;
    refused(&app, r, 400, "unknown_output").await;

    let r = post_raw(
        &app,
        "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\nunterminated",
    )
    .await;
    refused(&app, r, 400, "malformed_multipart").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_file_names_are_display_text_only() {
    let app = TestApp::web_only(|_| {}).await;
    let (png, _) = page_png(2);
    let long = format!("{}.png", "n".repeat(500));
    // A NUL cannot travel in a multipart header: that request is refused as malformed.
    let r = app
        .submit(ALICE, vec![("nul\0byte.png", png.clone())], &[])
        .await;
    assert!(matches!(r.status().as_u16(), 202 | 400), "{}", r.status());
    if r.status().as_u16() == 202 {
        let body: serde_json::Value = r.json().await.expect("json");
        assert!(
            !body["files"][0]["file_name"]
                .as_str()
                .unwrap_or_default()
                .contains('\0')
        );
    } else {
        assert_eq!(app.count("SELECT count(*) AS n FROM jobs"), 0);
    }
    for name in [
        "../../etc/passwd.png",
        "<script>alert(1)</script>.png",
        long.as_str(),
    ] {
        let r = app.submit(ALICE, vec![(name, png.clone())], &[]).await;
        assert_eq!(r.status().as_u16(), 202, "{name}");
        let body: serde_json::Value = r.json().await.expect("json");
        let shown = body["files"][0]["file_name"].as_str().expect("name");
        assert!(
            !shown.contains("..") && !shown.contains('\0') && shown.chars().count() <= 255,
            "{shown}"
        );
        assert!(shown.ends_with(".png"), "the type stays visible: {shown}");
    }
    for path in app.stored_files() {
        let rel = path
            .strip_prefix(app.storage.path())
            .expect("inside storage")
            .to_string_lossy()
            .into_owned();
        assert!(
            rel.starts_with("uploads/") && rel.ends_with("/original"),
            "keys come from ids: {rel}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_belong_to_their_owner() {
    let app = TestApp::web_only(|_| {}).await;
    let (png, _) = page_png(3);

    let anonymous = app
        .client
        .post(app.url("/api/v1/jobs"))
        .send()
        .await
        .expect("send");
    assert_eq!(anonymous.status().as_u16(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let r = app
        .submit("wrong-key-123", vec![("a.png", png.clone())], &[])
        .await;
    assert_eq!(r.status().as_u16(), 401);

    let r = app.submit(ALICE, vec![("a.png", png)], &[]).await;
    let id = r.json::<serde_json::Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for path in [
        format!("/api/v1/jobs/{id}"),
        format!("/api/v1/jobs/{id}/results"),
    ] {
        assert_eq!(
            app.get_json(BOB, &path).await.0,
            404,
            "{path} for another owner"
        );
        let r = app.client.get(app.url(&path)).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 401, "{path} without a key");
    }
    let r = app.cancel(BOB, &id).await;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await.0,
        200
    );
    assert_eq!(app.get_json(ALICE, "/api/v1/jobs/not-a-uuid").await.0, 404);
    let (status, bad) = app.get_json(ALICE, "/api/v1/jobs?page=abc").await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"]["code"], "bad_query");
    let (_, listed) = app.get_json(BOB, "/api/v1/jobs").await;
    assert_eq!(listed["jobs"].as_array().map(Vec::len), Some(0));
    let (_, listed) = app.get_json(ALICE, "/api/v1/jobs").await;
    assert_eq!(listed["jobs"].as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_endpoints_answer() {
    let app = TestApp::web_only(|_| {}).await;
    let (status, langs) = app.get_json(ALICE, "/api/v1/languages").await;
    assert_eq!(status, 200);
    let langs: Vec<&str> = langs["languages"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for l in ["eng", "deu", "fra", "spa"] {
        assert!(langs.contains(&l), "{langs:?}");
    }
    assert!(!langs.contains(&"osd"));
    assert_eq!(app.get_json(ALICE, "/healthz").await.0, 200);
    assert_eq!(app.get_json(ALICE, "/readyz").await.0, 200);
    let (_, metrics) = app.scrape(app.web_metrics, "/metrics").await;
    assert!(metrics.contains("scribe_jobs_accepted_total"));
}

/// POSTs `body` as Alice's job, a multipart body with the boundary `XYZ`.
async fn post_raw(app: &TestApp, body: impl Into<reqwest::Body>) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/jobs"))
        .bearer_auth(ALICE)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body(body)
        .send()
        .await
        .expect("send")
}

/// One multipart part, its Content-Disposition parameters written raw.
fn raw_part(disposition: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--XYZ\r\nContent-Disposition: form-data; {disposition}\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--XYZ--\r\n");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_parts_are_taken_however_their_name_is_sent() {
    let app = TestApp::web_only(|_| {}).await;
    let (png, _) = page_png(3);
    for (disposition, shown) in [
        // `curl -F file=<scan.png`: no file name at all.
        ("name=\"file\"", "upload"),
        // RFC 5987 only.
        (
            "name=\"file\"; filename*=UTF-8''%C3%9Cbersicht.png",
            "Übersicht.png",
        ),
        (
            "name=\"file\"; filename*=ISO-8859-1''%DCbersicht.png",
            "Übersicht.png",
        ),
    ] {
        let r = post_raw(&app, raw_part(disposition, &png)).await;
        assert_eq!(r.status().as_u16(), 202, "{disposition}");
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["files"][0]["file_name"], shown, "{disposition}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_character_in_a_file_name_is_named_as_the_cause() {
    let app = TestApp::web_only(|_| {}).await;
    let (png, _) = page_png(4);
    let r = post_raw(
        &app,
        raw_part("name=\"file\"; filename=\"scan\x1b[0m.png\"", &png),
    )
    .await;
    let message = refused(&app, r, 400, "malformed_multipart").await;
    assert!(message.contains("control characters"), "{message}");
}
