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
        assert!(r.bytes().await.expect("body").len() > 100, "{asset}");
    }
    let script = app
        .client
        .get(app.url("/api/docs/api-docs.js"))
        .send()
        .await
        .expect("initializer")
        .text()
        .await
        .expect("text");
    assert!(script.contains("\"/api/openapi.json\""), "{script}");
    let missing = app
        .client
        .get(app.url("/api/docs/nothing.js"))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_contract() {
    let app = TestApp::spawn(|_| {}).await;
    // Something to list, search and download, so the answers carry real data.
    let (png, _) = page_png(97);
    let id = app
        .submit_ok(vec![("letter.png", png)], &[("outputs", "txt,json,pdf")])
        .await;
    app.wait_for_job(&id, Duration::from_secs(120)).await;

    let schemathesis = test_venv("schemathesis");
    let reports = tempfile::tempdir().expect("tempdir");
    let base = app.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&schemathesis)
            // Its own state (`.schemathesis/`) goes with the reports.
            .current_dir(reports.path())
            .args(["run", &format!("{base}/api/openapi.json")])
            .args(["--url", &base])
            .args([
                "--checks",
                "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
            ])
            .args(["--header", &format!("Authorization: Bearer {ALICE}")])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args(["--max-examples", "100", "--seed", "1", "--workers", "2"])
            .args(["--request-timeout", "20", "--no-color"])
            .args(["--generation-database", "none"])
            .arg("--report-dir")
            .arg(reports.path())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "{} did not start ({e}); run scripts/services s3 to install it",
                    schemathesis.display()
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
