//! Workers on other machines: the web and two worker processes that share
//! nothing but PostgreSQL, RabbitMQ and an S3-compatible server (moto's, started
//! by `scripts/services s3`), each worker with its own scratch directory.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::*;

/// The S3 server `scripts/test` starts and exports; its credentials come from
/// the environment (AWS_ACCESS_KEY_ID…), as in a deployment.
fn endpoint() -> String {
    std::env::var("SCRIBE_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "no S3 server: run `scripts/services s3` and export SCRIBE_TEST_S3_ENDPOINT=http://127.0.0.1:5005 \
             AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… AWS_REGION=us-east-1 (scripts/test does)"
        )
    })
}

fn worker_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("scribe-worker")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A worker process with a scratch directory of its own and no storage root.
fn spawn_worker(app: &TestApp, scratch: &std::path::Path, metrics: u16) -> Child {
    let s = &app.settings;
    Command::new(worker_binary())
        .arg("run")
        .arg("--config")
        .arg("/nonexistent-scribe-config")
        .env("TMPDIR", scratch)
        .env("SCRIBE__DATABASE__URL", &s.database.url)
        .env("SCRIBE__BROKER__PREFIX", &s.broker.prefix)
        // The queues' delay arguments must match the web's declaration.
        .env("SCRIBE__BROKER__RETRY_DELAYS_SECS", "1,2")
        .env("SCRIBE__STORAGE__BACKEND", "s3")
        .env("SCRIBE__STORAGE__BUCKET", &s.storage.bucket)
        .env("SCRIBE__STORAGE__ENDPOINT", endpoint())
        .env(
            "SCRIBE__STORAGE__ROOT",
            scratch.join("no-such-shared-folder"),
        )
        .env("SCRIBE__WORKER__SLOTS", "1")
        .env("SCRIBE__WORKER__PAGES_PER_TASK", "5")
        .env(
            "SCRIBE__WORKER__METRICS_ADDR",
            format!("127.0.0.1:{metrics}"),
        )
        .env("SCRIBE__OCR__THREADS", "1")
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(scratch.join("worker.log"))
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
        )
        .spawn()
        .expect("start scribe-worker")
}

async fn pages_done(client: &reqwest::Client, port: u16) -> u64 {
    let body = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("worker metrics")
        .text()
        .await
        .unwrap_or_default();
    body.lines()
        .find_map(|l| l.strip_prefix("scribe_pages_done_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

async fn text_of(app: &TestApp, id: &str, job: &serde_json::Value) -> String {
    let upload = job["files"][0]["id"].as_str().expect("file id");
    let r = app
        .download(&format!("/api/v1/jobs/{id}/files/{upload}/text"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    r.text().await.expect("text")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_sharing_only_s3_split_a_30_page_pdf_like_local_storage() {
    let endpoint = endpoint();
    let bucket = format!("scribe-test-{}", uuid::Uuid::new_v4().simple());
    let client = reqwest::Client::new();
    let made = client
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("S3 server reachable");
    assert!(made.status().is_success(), "bucket: {}", made.status());

    let pages = 30;
    let (pdf, _) = scanned_pdf(pages, 130);
    let fields = [("outputs", "txt,json,pdf")];

    let app = TestApp::web_only(|s| {
        s.storage.backend = "s3".to_owned();
        s.storage.bucket = bucket.clone();
        s.storage.endpoint = Some(endpoint.clone());
    })
    .await;
    let id = app
        .submit_ok(vec![("thirty.pdf", pdf.clone())], &fields)
        .await;
    let scratch = [
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    ];
    let ports = [free_port(), free_port()];
    let mut workers: Vec<Child> = scratch
        .iter()
        .zip(ports)
        .map(|(dir, port)| spawn_worker(&app, dir.path(), port))
        .collect();
    let job = app
        .wait_for_job_or_timeout(&id, Duration::from_secs(300))
        .await;
    let shares = [
        pages_done(&client, ports[0]).await,
        pages_done(&client, ports[1]).await,
    ];
    for w in &mut workers {
        let _ = w.kill();
        let _ = w.wait();
    }
    let logs: Vec<String> = scratch
        .iter()
        .map(|d| std::fs::read_to_string(d.path().join("worker.log")).unwrap_or_default())
        .collect();
    assert_eq!(
        job["status"],
        "complete",
        "{job}\nworker logs:\n{}",
        logs.join("\n---\n")
    );
    assert_eq!(job["files"][0]["pages_done"], pages);
    assert_eq!(shares[0] + shares[1], pages, "every page once: {shares:?}");
    assert!(
        shares.iter().all(|&n| n > 0),
        "both workers took page ranges: {shares:?}"
    );
    let s3_text = text_of(&app, &id, &job).await;
    let pdf_out = app
        .download(&format!(
            "/api/v1/jobs/{id}/files/{}/pdf",
            job["files"][0]["id"].as_str().unwrap_or_default()
        ))
        .await;
    assert_eq!(pdf_out.status().as_u16(), 200);
    assert!(pdf_out.bytes().await.expect("pdf").starts_with(b"%PDF-"));

    // The same document on local storage with one in-process worker.
    let local = TestApp::spawn(|s| s.worker.pages_per_task = 5).await;
    let local_id = local.submit_ok(vec![("thirty.pdf", pdf)], &fields).await;
    let local_job = local
        .wait_for_job(&local_id, Duration::from_secs(300))
        .await;
    assert_eq!(local_job["status"], "complete", "{local_job}");
    assert_eq!(
        s3_text,
        text_of(&local, &local_id, &local_job).await,
        "the same outputs on S3 and on local storage"
    );
}

#[tokio::test]
async fn a_large_output_goes_up_in_parts_and_comes_back_whole() {
    use object_store::ObjectStoreExt;
    let endpoint = endpoint();
    let bucket = format!("scribe-test-{}", uuid::Uuid::new_v4().simple());
    let made = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("S3 server reachable");
    assert!(made.status().is_success(), "bucket: {}", made.status());
    let settings = scribe_core::settings::StorageSettings {
        backend: "s3".to_owned(),
        bucket,
        endpoint: Some(endpoint),
        ..Default::default()
    };
    let store = scribe_core::storage::open(&settings).expect("S3 store");
    let dir = tempfile::tempdir().expect("tmp");
    let (small, large) = (dir.path().join("small"), dir.path().join("large"));
    std::fs::write(&small, b"a few bytes").expect("write");
    // 20 MiB that no two parts share, so a part out of order would show.
    let bytes: Vec<u8> = (0..20u32 << 18).flat_map(|i| i.to_le_bytes()).collect();
    std::fs::write(&large, &bytes).expect("write");

    for (name, path, parts) in [("small", &small, None), ("large", &large, Some("-3"))] {
        let key = object_store::path::Path::from(format!("objects/{name}"));
        scribe_worker::queue::objects::upload(&store, &key, path)
            .await
            .expect("upload");
        let meta = store.head(&key).await.expect("stored");
        // S3 names a multipart object's ETag after its part count.
        let etag = meta.e_tag.unwrap_or_default();
        match parts {
            Some(suffix) => assert!(etag.trim_matches('"').ends_with(suffix), "ETag {etag}"),
            None => assert!(!etag.contains('-'), "ETag {etag}"),
        }
        let back = store
            .get(&key)
            .await
            .expect("get")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(back.as_ref(), std::fs::read(path).expect("read").as_slice());
    }
}
