//! What operators see: request metrics by route pattern on a port of their own
//! (never the public one), request ids in responses and in the real binary's
//! log lines, the worker's readiness and liveness, and a dashboard that charts
//! only metrics the binaries export.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

const LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_metrics_by_route_pattern_are_on_the_metrics_port_only() {
    let app = TestApp::web_only(|_| {}).await;
    assert_eq!(app.get_json(ALICE, "/api/v1/languages").await.0, 200);
    let id = uuid::Uuid::new_v4();
    let (status, _) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(status, 404);
    let public = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("send");
    assert_eq!(
        public.status().as_u16(),
        404,
        "the public port must not serve /metrics"
    );

    let (status, body) = app.scrape(app.web_metrics, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        r#"scribe_http_requests_total{method="GET",route="/api/v1/languages",status="200"} 1"#,
        r#"scribe_http_requests_total{method="GET",route="/api/v1/jobs/{id}",status="404"} 1"#,
        // The public /metrics request: no route, and no raw path as a label.
        r#"scribe_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"scribe_http_request_duration_seconds_count{method="GET",route="/api/v1/languages",status="200"} 1"#,
    ] {
        assert!(body.lines().any(|l| l == line), "no `{line}` in\n{body}");
    }
    assert!(!body.contains(&id.to_string()), "a raw path became a label");
    assert!(body.contains("\nprocess_resident_memory_bytes "), "{body}");
    assert!(body.contains("\nprocess_cpu_seconds_total "), "{body}");
}

/// The `scribe-web` binary beside this test's (cargo builds the workspace's binaries).
fn web_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("scribe-web");
    assert!(
        bin.is_file(),
        "{} missing: run `cargo build -p scribe-web` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

/// Stops the process even when an assertion fails first.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_comes_back_and_is_in_the_request_log_line() {
    let app = TestApp::web_only(|_| {}).await;
    let s = &app.settings;
    let log = app.storage.path().join("web.log");
    let mut child = Command::new(web_binary())
        .args(["--config", "/nonexistent-scribe-config", "serve"])
        .env("SCRIBE_LOG", "info")
        .env("SCRIBE_LOG_FORMAT", "json")
        .env("SCRIBE__DATABASE__URL", &s.database.url)
        .env("SCRIBE__BROKER__PREFIX", &s.broker.prefix)
        .env("SCRIBE__BROKER__RETRY_DELAYS_SECS", "1,2")
        .env("SCRIBE__STORAGE__ROOT", s.storage.root.as_os_str())
        .env("SCRIBE__WEB__PORT", "0")
        .env("SCRIBE__WEB__API_KEYS", format!("alice:{ALICE}"))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start scribe-web");
    let stdout = child.stdout.take().expect("stdout");
    let web = Running(child);
    let port = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("stdout");
        line.trim()
            .rsplit(' ')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"))
    })
    .await
    .expect("join");
    let base = format!("http://127.0.0.1:{port}");
    let missing = format!("/api/v1/jobs/{}", uuid::Uuid::new_v4());

    let get = |id: &'static str| {
        app.client
            .get(format!("{base}{missing}"))
            .bearer_auth(ALICE)
            .header("X-Request-Id", id)
            .send()
    };
    let kept = get("obs-req-0001").await.expect("send");
    assert_eq!(kept.status().as_u16(), 404);
    assert_eq!(kept.headers()["x-request-id"], "obs-req-0001");
    // A header that could forge log lines is replaced, not echoed.
    let forged = get("two words").await.expect("send");
    let fresh = forged.headers()["x-request-id"].to_str().expect("ascii");
    assert!(uuid::Uuid::parse_str(fresh).is_ok(), "{fresh}");
    let fresh = fresh.to_owned();
    drop(web);

    let text = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for id in ["obs-req-0001", fresh.as_str()] {
        let served: Vec<&Value> = lines
            .iter()
            .filter(|l| l["fields"]["message"] == "request served")
            .filter(|l| l["span"]["request.id"] == id)
            .collect();
        assert_eq!(served.len(), 1, "one line for request {id} in\n{text}");
        assert_eq!(served[0]["fields"]["http.status"], 404);
        assert_eq!(served[0]["fields"]["http.path"], missing.as_str());
        assert_eq!(served[0]["span"]["http.route"], "/api/v1/jobs/{id}");
    }
    assert!(!text.contains("two words"), "{text}");
}

async fn wait_for_status(app: &TestApp, port: u16, path: &str, want: u16) -> String {
    let started = Instant::now();
    loop {
        let (status, body) = app.scrape(port, path).await;
        if status == want {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{path} still {status} after 30 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_is_ready_only_when_consuming_with_its_database_and_alive_while_it_retries() {
    let mut app = TestApp::web_only(|_| {}).await;
    app.start_worker();
    app.start_worker_with(|s| {
        s.broker.url = "amqp://guest:guest@127.0.0.1:1/%2f".to_owned();
    });
    // Its own queue, so that it never takes the job below.
    app.start_worker_with(|s| {
        s.broker.prefix.push_str("-nodb");
        s.database.url = "postgres://postgres@127.0.0.1:1/scribe".to_owned();
    });
    let (connected, cut_off, no_db) = (
        app.worker_metrics[0],
        app.worker_metrics[1],
        app.worker_metrics[2],
    );

    wait_for_status(&app, connected, "/readyz", 200).await;
    assert_eq!(app.scrape(connected, "/livez").await.0, 200);
    assert_eq!(app.scrape(connected, "/healthz").await.0, 200);

    // No broker: not ready, but alive: it keeps reconnecting, a restart would not help.
    let (status, body) = app.scrape(cut_off, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(app.scrape(cut_off, "/livez").await.0, 200);

    // Consuming but without its database it cannot commit a page: not ready either.
    let started = Instant::now();
    loop {
        let (status, body) = app.scrape(no_db, "/readyz").await;
        assert_eq!(status, 503, "ready without a database: {body}");
        if body.contains("database") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never consumed: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.scrape(no_db, "/livez").await.0, 200);

    // And the ready one takes work.
    let (png, _) = page_png(82);
    let id = app.submit_ok(vec![("r.png", png)], &[]).await;
    assert_eq!(app.wait_for_job(&id, LIMIT).await["status"], "complete");
    assert_eq!(app.scrape(connected, "/livez").await.0, 200);
    // The task is acked (and the gauge lowered) just after the job turns complete.
    let started = Instant::now();
    let metrics = loop {
        let (_, metrics) = app.scrape(connected, "/metrics").await;
        if metrics.contains("\nscribe_tasks_in_flight 0") || started.elapsed() > LIMIT {
            break metrics;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(metrics.contains("\nscribe_tasks_in_flight 0"), "{metrics}");
    assert!(
        metrics.contains("\nprocess_resident_memory_bytes "),
        "{metrics}"
    );
}

/// Every `expr` in the dashboard, however deeply its panel nests it.
fn exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("expr", Value::String(e)) => out.push(e.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_metric_the_dashboard_charts_is_exported() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/components/monitoring/grafana-dashboard.json"
    );
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("dashboard")).expect("JSON");
    let mut queries = Vec::new();
    exprs(&dashboard, &mut queries);
    assert!(queries.len() >= 6, "{queries:?}");

    let app = TestApp::spawn(|_| {}).await;
    let (png, _) = page_png(83);
    let id = app.submit_ok(vec![("d.png", png)], &[]).await;
    assert_eq!(app.wait_for_job(&id, LIMIT).await["status"], "complete");
    let refused = app
        .submit(ALICE, vec![("x.txt", b"not a document".to_vec())], &[])
        .await;
    assert!(refused.status().is_client_error());
    let (_, web) = app.scrape(app.web_metrics, "/metrics").await;
    let (_, worker) = app.scrape(app.worker_metrics[0], "/metrics").await;
    let exported: Vec<&str> = web.lines().chain(worker.lines()).collect();

    let mut names: Vec<&str> = queries
        .iter()
        .flat_map(|q| q.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')))
        .filter(|t| t.starts_with("scribe_") || t.starts_with("process_"))
        .collect();
    names.sort_unstable();
    names.dedup();
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        assert!(
            exported.iter().any(|l| l
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['{', ' ']))),
            "the dashboard charts `{name}`, which neither binary exports"
        );
    }
}
