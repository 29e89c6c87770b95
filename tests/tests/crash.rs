//! A worker killed with SIGKILL mid-job loses nothing and repeats nothing: the
//! broker redelivers the unacked task and a new worker finishes the job.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::*;

fn worker_binary() -> std::path::PathBuf {
    // target/debug/deps/crash-… → target/debug/scribe-worker
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("scribe-worker");
    assert!(
        bin.is_file(),
        "{} missing: run `cargo build -p scribe-worker` (cargo test --workspace builds it)",
        bin.display()
    );
    bin
}

fn spawn_worker(app: &TestApp) -> Child {
    spawn_worker_with(app, &[])
}

fn spawn_worker_with(app: &TestApp, env: &[(&str, &str)]) -> Child {
    let s = &app.settings;
    Command::new(worker_binary())
        .envs(env.iter().copied())
        .arg("run")
        .arg("--config")
        .arg("/nonexistent-scribe-config")
        .env("SCRIBE__DATABASE__URL", &s.database.url)
        .env("SCRIBE__BROKER__PREFIX", &s.broker.prefix)
        .env("SCRIBE__BROKER__RETRY_DELAYS_SECS", "1,2")
        .env("SCRIBE__STORAGE__ROOT", s.storage.root.as_os_str())
        .env("SCRIBE__WORKER__SLOTS", "1")
        .env("SCRIBE__OCR__THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start scribe-worker")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_worker_loses_nothing_and_repeats_nothing() {
    let app = TestApp::web_only(|_| {}).await;
    let pages = 8;
    let (pdf, _) = scanned_pdf(pages, 50);
    let id = app
        .submit_ok(vec![("long.pdf", pdf)], &[("outputs", "txt,json")])
        .await;

    let mut first = spawn_worker(&app);
    let job = app.wait_for_pages(&id, 2, Duration::from_secs(90)).await;
    let done = job["files"][0]["pages_done"].as_i64().unwrap_or(0);
    assert!(
        done < pages as i64,
        "the job finished before the kill; make it longer"
    );
    first.kill().expect("SIGKILL");
    first.wait().expect("reaped");

    let mut second = spawn_worker(&app);
    let job = app.wait_for_job(&id, Duration::from_secs(180)).await;
    let _ = second.kill();
    let _ = second.wait();

    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(job["files"][0]["pages_done"], pages);
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages"),
        pages as i64,
        "every page exactly once"
    );
    assert_eq!(
        app.count("SELECT count(DISTINCT number) AS n FROM pages"),
        pages as i64
    );
    assert!(
        job["files"][0]["attempts"].as_i64().is_some_and(|a| a >= 2),
        "{job}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_between_the_results_and_the_final_state_leaves_neither_missing() {
    let app = TestApp::web_only(|_| {}).await;
    let (png, _) = page_png(61);
    let id = app
        .submit_ok(vec![("one.png", png)], &[("outputs", "txt,json")])
        .await;

    // This worker dies right after writing the job's results.json, before the job is final.
    let mut first = spawn_worker_with(&app, &[("SCRIBE_FAIL_POINT", "after_job_results")]);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = first.try_wait().expect("poll worker") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the fail point was never reached"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        !status.success(),
        "the worker aborted at the fail point: {status:?}"
    );
    let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    assert_ne!(
        job["status"], "complete",
        "not final before the results are known: {job}"
    );

    // The redelivered task finds the upload done and finishes the job.
    let mut second = spawn_worker(&app);
    let job = app.wait_for_job(&id, Duration::from_secs(120)).await;
    let _ = second.kill();
    let _ = second.wait();
    assert_eq!(job["status"], "complete", "{job}");
    let (status, results) = app
        .get_json(ALICE, &format!("/api/v1/jobs/{id}/results"))
        .await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results["files"][0]["status"], "complete", "{results}");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_that_kills_its_worker_every_time_ends_in_error_not_in_a_loop() {
    let app = TestApp::web_only(|_| {}).await;
    let (png, _) = page_png(62);
    let id = app
        .submit_ok(vec![("poison.png", png)], &[("outputs", "txt,json")])
        .await;
    let limit = app.settings.broker.delivery_limit;
    // Each worker dies on the file, as a decoder crash would kill it; a new one
    // is started each time, as Kubernetes would.
    for _ in 0..limit + 2 {
        let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
        if job["status"] == "error" {
            break;
        }
        let mut worker = spawn_worker_with(&app, &[("SCRIBE_FAIL_POINT", "before_ocr")]);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while worker.try_wait().expect("poll").is_none() && std::time::Instant::now() < deadline {
            let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
            if job["status"] == "error" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = worker.kill();
        let _ = worker.wait();
    }
    let job = app.wait_for_job(&id, Duration::from_secs(10)).await;
    assert_eq!(job["status"], "error", "{job}");
    let message = job["files"][0]["error"].to_string();
    assert!(message.contains("stopped"), "{job}");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), 0);
}

/// Closes this test's worker connections from the broker side, as a broker restart would.
fn drop_worker_connections(prefix: &str) -> usize {
    let out = Command::new("rabbitmqctl")
        .args(["-q", "list_connections", "pid", "client_properties"])
        .output()
        .expect("rabbitmqctl");
    let listing = String::from_utf8_lossy(&out.stdout);
    let needle = format!("scribe-worker {prefix} pid");
    let pids: Vec<String> = listing
        .lines()
        .filter(|l| l.contains(&needle))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    for pid in &pids {
        let _ = Command::new("rabbitmqctl")
            .args(["-q", "close_connection", pid, "test: broker restart"])
            .status();
    }
    pids.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_worker_reconnects_when_the_broker_drops_it() {
    let app = TestApp::spawn(|_| {}).await;
    let (pdf, _) = scanned_pdf(4, 90);
    let id = app
        .submit_ok(vec![("r.pdf", pdf)], &[("outputs", "txt,json")])
        .await;
    app.wait_for_pages(&id, 1, Duration::from_secs(90)).await;
    let prefix = app.settings.broker.prefix.clone();
    let dropped = tokio::task::spawn_blocking(move || drop_worker_connections(&prefix))
        .await
        .expect("join");
    assert!(dropped >= 1, "the worker's connection was found and closed");

    let job = app.wait_for_job(&id, Duration::from_secs(180)).await;
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM pages"),
        4,
        "every page exactly once"
    );

    // And it consumes new work on the new connection.
    let (png, _) = page_png(95);
    let id = app.submit_ok(vec![("after.png", png)], &[]).await;
    assert_eq!(
        app.wait_for_job(&id, Duration::from_secs(120)).await["status"],
        "complete"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_commits_the_page_in_hand_requeues_the_rest_and_exits_promptly() {
    let app = TestApp::web_only(|_| {}).await;
    let pages = 8;
    let (pdf, _) = scanned_pdf(pages, 110);
    let id = app
        .submit_ok(vec![("term.pdf", pdf)], &[("outputs", "txt,json")])
        .await;
    let worker = spawn_worker(&app);
    app.wait_for_pages(&id, 1, Duration::from_secs(90)).await;
    let pid = worker.id().to_string();
    let asked = std::time::Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let status = tokio::task::spawn_blocking(move || {
        let mut worker = worker;
        worker.wait()
    })
    .await
    .expect("join")
    .expect("wait");
    let took = asked.elapsed();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    // It did not read the whole document before leaving.
    let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
    let done = job["files"][0]["pages_done"].as_i64().unwrap_or(0);
    assert!(
        done < pages as i64,
        "stopped after {done} pages in {took:?}: the rest should have been requeued"
    );
    assert_ne!(job["status"], "complete", "{job}");

    // The rest went back to the queue: another worker finishes it, repeating no page.
    let mut second = spawn_worker(&app);
    let job = app.wait_for_job(&id, Duration::from_secs(120)).await;
    let _ = second.kill();
    let _ = second.wait();
    assert_eq!(job["status"], "complete", "{job}");
    assert_eq!(app.count("SELECT count(*) AS n FROM pages"), pages as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_whose_engine_hangs_fails_liveness_and_its_task_goes_to_another() {
    let app = TestApp::web_only(|_| {}).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut wedged = spawn_worker_with(
        &app,
        &[
            ("SCRIBE_FAIL_POINT", "hang_in_ocr"),
            ("SCRIBE__WORKER__STALL_TIMEOUT_SECS", "2"),
            ("SCRIBE__WORKER__METRICS_ADDR", &addr),
        ],
    );
    let probe = |path: &'static str| {
        let url = format!("http://{addr}{path}");
        let client = app.client.clone();
        async move {
            match client.get(url).send().await {
                Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                Err(_) => (0, String::new()),
            }
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while probe("/readyz").await.0 != 200 {
        assert!(std::time::Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(probe("/livez").await.0, 200, "alive while idle");

    let (png, _) = page_png(64);
    let id = app.submit_ok(vec![("stuck.png", png)], &[]).await;
    let body = loop {
        let (status, body) = probe("/livez").await;
        if status == 503 {
            break body;
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            std::time::Instant::now() < deadline,
            "a hung engine never failed liveness"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(body.contains("1 tasks in hand"), "{body}");

    // What the kubelet does next: restart it. The broker hands the task on.
    wedged.kill().expect("SIGKILL");
    wedged.wait().expect("reaped");
    let mut healthy = spawn_worker(&app);
    let job = app.wait_for_job(&id, Duration::from_secs(120)).await;
    let _ = healthy.kill();
    let _ = healthy.wait();
    assert_eq!(job["status"], "complete", "{job}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_that_loses_its_worker_after_each_page_is_not_taken_for_poison() {
    // Few deliveries allowed, so the old rule would fail the file half-way.
    let app = TestApp::web_only(|s| s.broker.delivery_limit = 2).await;
    let pages = 4;
    let (pdf, _) = scanned_pdf(pages, 63);
    let id = app
        .submit_ok(vec![("long.pdf", pdf)], &[("outputs", "txt,json")])
        .await;
    // Each worker commits one page and dies (a broker restart, a node lost),
    // and a new one is started each time, as Kubernetes would.
    let mut workers = 0;
    let job = loop {
        let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
        if job["status"] != "pending" && job["status"] != "processing" {
            break job;
        }
        assert!(workers < 3 * pages, "no end after {workers} workers: {job}");
        workers += 1;
        let mut worker = spawn_worker_with(
            &app,
            &[
                ("SCRIBE_FAIL_POINT", "after_page"),
                ("SCRIBE__BROKER__DELIVERY_LIMIT", "2"),
            ],
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while worker.try_wait().expect("poll").is_none() && std::time::Instant::now() < deadline {
            let (_, job) = app.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
            if job["status"] == "complete" || job["status"] == "error" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = worker.kill();
        let _ = worker.wait();
    };
    assert_eq!(job["status"], "complete", "{job}");
    assert!(
        workers > 2,
        "the delivery limit was passed: {workers} workers"
    );
    assert_eq!(job["files"][0]["pages_done"], pages);
    assert_eq!(
        app.count("SELECT count(DISTINCT number) AS n FROM pages"),
        pages as i64
    );
}
