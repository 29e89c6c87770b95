//! The API contract against a live instance (web and worker on the real
//! PostgreSQL and RabbitMQ): the served `/api/openapi.json` and `/api/docs`,
//! and schemathesis (PyPI, installed by `scripts/services s3`) fuzzing every
//! operation for server errors and answers that break the contract.

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_served_contract_lists_every_operation_and_the_docs_page_renders_it() {
    let app = TestApp::web_only(|_| {}).await;
    let r = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("openapi.json");
    assert_eq!(r.status().as_u16(), 200);
    let doc: Value = r.json().await.expect("json");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let operations: Vec<String> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|o| o.keys())
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    for want in [
        "POST /api/v1/jobs",
        "GET /api/v1/jobs",
        "GET /api/v1/jobs/{id}",
        "DELETE /api/v1/jobs/{id}",
        "POST /api/v1/jobs/{id}/cancel",
        "POST /api/v1/jobs/{id}/rerun",
        "GET /api/v1/jobs/{id}/archive.zip",
        "GET /api/v1/search",
        "GET /api/v1/languages",
    ] {
        assert!(
            operations.iter().any(|o| o == want),
            "{want}: {operations:?}"
        );
    }

    let page = app
        .client
        .get(app.url("/api/docs"))
        .send()
        .await
        .expect("docs");
    assert_eq!(page.status().as_u16(), 200);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    let html = page.text().await.expect("html");
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css", "api-docs.js"] {
        assert!(html.contains(&format!("/api/docs/{asset}")), "{html}");
        let r = app
            .client
            .get(app.url(&format!("/api/docs/{asset}")))
            .send()
            .await
            .expect("asset");
        assert_eq!(r.status().as_u16(), 200, "{asset}");
        let body = r.text().await.expect("body");
        assert!(body.len() > 100, "{asset}");
        if asset == "api-docs.js" {
            assert!(body.contains("\"/api/openapi.json\""), "{body}");
        }
    }
    let missing = app
        .client
        .get(app.url("/api/docs/nothing.js"))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status().as_u16(), 404);
}

/// Runs schemathesis against `app` with `extra` arguments from `dir` (where a
/// `schemathesis.toml` may fix parameters); panics with its report on any failure.
async fn schemathesis(app: &TestApp, dir: &std::path::Path, extra: &[&str]) {
    let program = test_venv("schemathesis");
    let base = app.base.clone();
    let dir = dir.to_owned();
    let extra: Vec<String> = extra.iter().map(|a| (*a).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&program)
            // It reads `schemathesis.toml` and keeps its state here.
            .current_dir(&dir)
            .args(["run", &format!("{base}/api/openapi.json")])
            .args(["--url", &base])
            .args([
                "--checks",
                "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            ])
            .args(["--header", &format!("Authorization: Bearer {ALICE}")])
            // One worker: hypothesis' source inspection is not thread-safe on
            // Python 3.11 ("AST constructor recursion depth mismatch").
            .args(["--seed", "1", "--workers", "1"])
            .args(["--request-timeout", "20", "--no-color"])
            .args(["--generation-database", "none"])
            .args(&extra)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "{} did not start ({e}); run scripts/services s3 to install it",
                    program.display()
                )
            })
    })
    .await
    .expect("schemathesis thread");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("passed"),
        "schemathesis ran no operation:\n{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_contract() {
    let app = TestApp::spawn(|_| {}).await;
    let (png, _) = page_png(97);
    let id = app
        .submit_ok(
            vec![("letter.png", png)],
            &[("outputs", "txt,json,hocr,pdf,preview")],
        )
        .await;
    let job = app.wait_for_job(&id, Duration::from_secs(120)).await;
    let upload = job["files"][0]["id"].as_str().expect("file id").to_owned();

    // Every operation, every parameter generated: mostly refusals and 404s.
    let anything = tempfile::tempdir().expect("tempdir");
    schemathesis(
        &app,
        anything.path(),
        &[
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "100",
        ],
    )
    .await;

    // The reads again, on a real finished job, so its 200 answers (the job,
    // results, events, downloads, preview, archive) are held to the contract.
    let real = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        real.path().join("schemathesis.toml"),
        format!("[parameters]\nid = \"{id}\"\nupload = \"{upload}\"\nn = 1\n"),
    )
    .expect("config");
    schemathesis(
        &app,
        real.path(),
        &[
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "30",
            "--include-method",
            "GET",
        ],
    )
    .await;
    let (_, metrics) = app.scrape(app.web_metrics, "/metrics").await;
    for route in [
        "/api/v1/jobs/{id}",
        "/api/v1/jobs/{id}/results",
        "/api/v1/jobs/{id}/events",
        "/api/v1/jobs/{id}/archive.zip",
        "/api/v1/jobs/{id}/files/{upload}/{kind}",
        "/api/v1/jobs/{id}/files/{upload}/pages/{n}/preview.png",
    ] {
        let ok = format!("route=\"{route}\",status=\"200\"");
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("scribe_http_requests_total") && l.contains(&ok)),
            "schemathesis never got a 200 from {route}:\n{metrics}"
        );
    }
}
