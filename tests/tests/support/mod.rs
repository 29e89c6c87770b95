//! `TestApp`: a web app and a worker in-process against the real PostgreSQL and
//! RabbitMQ, each test with its own database, queue prefix and storage root.

#![allow(dead_code)]

pub mod browser;
pub mod plain;
pub mod receiver;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ExchangeDeleteOptions, QueueDeleteOptions,
};
use lapin::{BasicProperties, ConnectionProperties};
use scribe_core::broker::Names;
use scribe_core::settings::Settings;
use scribe_worker::queue::Worker;
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

pub const ALICE: &str = "alice-key-0001";
pub const BOB: &str = "bob-key-000002";
/// Signs the webhooks of every test app (`web.webhook_secret`).
pub const WEBHOOK_SECRET: &str = "test-webhook-secret-at-least-32-bytes";
const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestApp {
    pub base: String,
    pub settings: Settings,
    pub client: reqwest::Client,
    pub storage: tempfile::TempDir,
    pub database: String,
    /// `/metrics` port of the first web replica.
    pub web_metrics: u16,
    /// `/metrics` (and probes) port of each in-process worker.
    pub worker_metrics: Vec<u16>,
    workers: Vec<watch::Sender<bool>>,
}

/// Polls `probe` every `every` until it answers `Some`; panics after `limit`
/// with what `waiting` says about the last try.
pub async fn eventually<T>(
    limit: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let started = Instant::now();
    loop {
        match probe() {
            Ok(done) => return done,
            Err(waiting) => assert!(started.elapsed() < limit, "after {limit:?}: {waiting}"),
        }
        tokio::time::sleep(every).await;
    }
}

/// For [`eventually`]: `got` once it holds `n` things, else how many it holds.
pub fn at_least<T>(n: usize, got: Vec<T>, what: &str) -> Result<Vec<T>, String> {
    if got.len() >= n {
        Ok(got)
    } else {
        Err(format!("{} of {n} {what}", got.len()))
    }
}

/// The Python with the test servers (aiosmtpd): `SCRIBE_TEST_PYTHON`, else the
/// venv `scripts/services s3` makes.
pub fn test_python() -> PathBuf {
    std::env::var_os("SCRIBE_TEST_PYTHON").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/test-venv/bin/python"
            ))
        },
        PathBuf::from,
    )
}

/// Another program of that Python's venv (schemathesis), next to it.
pub fn test_venv(program: &str) -> PathBuf {
    test_python().with_file_name(program)
}

/// Settings for one isolated test: its own database, queue prefix and storage.
pub fn test_settings(database: &str, storage: &Path) -> Settings {
    let mut s = Settings::default();
    s.database.url = format!("postgres://postgres@127.0.0.1:5432/{database}");
    s.database.pool_size = 4;
    s.broker.prefix = format!("test-{database}");
    s.broker.retry_delays_secs = vec![1, 2];
    s.storage.root = storage.to_owned();
    s.web.port = 0;
    s.web.metrics_addr = "127.0.0.1:0".to_owned();
    s.web.api_keys = vec![format!("alice:{ALICE}"), format!("bob:{BOB}")];
    s.web.republish_after_secs = 2;
    // Shared by every replica a test starts, as in a deployment.
    s.web.cookie_secret = "test-cookie-secret-shared-by-all-replicas".to_owned();
    // As config/test.toml: receivers in tests listen on 127.0.0.1.
    s.web.webhook_secret = WEBHOOK_SECRET.to_owned();
    s.web.webhook_allow_private = true;
    s.ocr.threads = 2;
    s.worker.slots = 2;
    s
}

impl TestApp {
    /// Web only; call [`TestApp::start_worker`] for OCR.
    pub async fn web_only(tune: impl FnOnce(&mut Settings)) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            scribe_core::telemetry::init();
        }
        let database = format!("scribe_test_{}", Uuid::new_v4().simple());
        let storage = tempfile::tempdir().expect("tempdir");
        let mut settings = test_settings(&database, storage.path());
        tune(&mut settings);
        create_database(&database, &settings.database.url).await;
        let app = scribe_web::Application::build(settings.clone())
            .await
            .expect("web app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let web_metrics = app.metrics_port().expect("web.metrics_addr is set");
        tokio::spawn(app.run());
        Self {
            base,
            web_metrics,
            settings,
            client: reqwest::Client::new(),
            storage,
            database,
            worker_metrics: Vec::new(),
            workers: Vec::new(),
        }
    }

    pub async fn spawn(tune: impl FnOnce(&mut Settings)) -> Self {
        let mut app = Self::web_only(tune).await;
        app.start_worker();
        app
    }

    /// Another web replica on the same database, broker and storage; returns its base URL.
    pub async fn another_web_replica(&self) -> String {
        let app = scribe_web::Application::build(self.settings.clone())
            .await
            .expect("second web app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run());
        base
    }

    pub fn start_worker(&mut self) {
        self.start_worker_with(|_| {});
    }

    /// Stops every in-process worker (each finishes what it holds first).
    pub fn stop_workers(&mut self) {
        for stop in self.workers.drain(..) {
            let _ = stop.send(true);
        }
    }

    /// A worker with its own tweaks to the test's settings.
    pub fn start_worker_with(&mut self, tune: impl FnOnce(&mut Settings)) {
        let (stop, stopped) = watch::channel(false);
        let mut settings = self.settings.clone();
        settings.worker.metrics_addr = "127.0.0.1:0".to_owned();
        tune(&mut settings);
        let worker = Worker::build(settings).expect("worker builds");
        self.worker_metrics.extend(worker.metrics_port());
        tokio::spawn(async move { worker.run(stopped).await });
        self.workers.push(stop);
    }

    /// A body from one of the metrics listeners (`/metrics`, `/readyz`…).
    pub async fn scrape(&self, port: u16, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await
            .expect("metrics listener answers");
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn submit(
        &self,
        key: &str,
        files: Vec<(&str, Vec<u8>)>,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        }
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        self.client
            .post(self.url("/api/v1/jobs"))
            .bearer_auth(key)
            .multipart(form)
            .send()
            .await
            .expect("request sent")
    }

    /// Submits and expects 202; returns the job id.
    pub async fn submit_ok(&self, files: Vec<(&str, Vec<u8>)>, fields: &[(&str, &str)]) -> String {
        let r = self.submit(ALICE, files, fields).await;
        assert_eq!(r.status().as_u16(), 202);
        let body: Value = r.json().await.expect("json");
        body["id"].as_str().expect("id").to_owned()
    }

    /// Cancels the job as `key` (`POST /api/v1/jobs/{id}/cancel`).
    pub async fn cancel(&self, key: &str, id: &str) -> reqwest::Response {
        let url = self.url(&format!("/api/v1/jobs/{id}/cancel"));
        self.client
            .post(url)
            .bearer_auth(key)
            .send()
            .await
            .expect("request sent")
    }

    /// Deletes the job as `key`.
    pub async fn delete(&self, key: &str, id: &str) -> reqwest::Response {
        let url = self.url(&format!("/api/v1/jobs/{id}"));
        self.client
            .delete(url)
            .bearer_auth(key)
            .send()
            .await
            .expect("request sent")
    }

    /// GET as Alice.
    pub async fn download(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(ALICE)
            .send()
            .await
            .expect("request sent")
    }

    /// The text of the download at `url` (a field of a file's `downloads`).
    pub async fn download_text(&self, url: &Value) -> String {
        let url = url.as_str().expect("a download's url");
        self.download(url).await.text().await.expect("body")
    }

    pub async fn get_json(&self, key: &str, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request sent");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Polls until the job is finished; panics after `limit`.
    pub async fn wait_for_job(&self, id: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let (status, job) = self.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
            assert_eq!(status, 200, "{job}");
            if matches!(
                job["status"].as_str(),
                Some("complete" | "error" | "cancelled")
            ) {
                return job;
            }
            assert!(
                started.elapsed() < limit,
                "job {id} not finished after {limit:?}: {job}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Like [`TestApp::wait_for_job`], but answers the job as it is after
    /// `limit` instead of panicking, so a test can clean up and say why.
    pub async fn wait_for_job_or_timeout(&self, id: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let (_, job) = self.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
            if matches!(
                job["status"].as_str(),
                Some("complete" | "error" | "cancelled")
            ) || started.elapsed() >= limit
            {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Polls until the job's first file has at least `pages` pages done.
    pub async fn wait_for_pages(&self, id: &str, pages: i64, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let (_, job) = self.get_json(ALICE, &format!("/api/v1/jobs/{id}")).await;
            if job["files"][0]["pages_done"].as_i64().unwrap_or(0) >= pages {
                return job;
            }
            assert!(
                started.elapsed() < limit,
                "fewer than {pages} pages done after {limit:?}: {job}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn names(&self) -> Names {
        Names::new(&self.settings.broker.prefix)
    }

    /// Publishes raw bytes to the tasks exchange, as a buggy producer would.
    pub async fn publish_raw(&self, payload: &[u8]) {
        let conn =
            lapin::Connection::connect(&self.settings.broker.url, ConnectionProperties::default())
                .await
                .expect("amqp");
        let ch = conn.create_channel().await.expect("channel");
        ch.basic_publish(
            self.names().tasks_exchange().as_str().into(),
            scribe_core::broker::OCR_ROUTING_KEY.into(),
            BasicPublishOptions::default(),
            payload,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
        let _ = conn.close(200, "bye".into()).await;
    }

    /// Messages waiting in `queue`.
    pub async fn queue_depth(&self, queue: &str) -> u32 {
        let conn =
            lapin::Connection::connect(&self.settings.broker.url, ConnectionProperties::default())
                .await
                .expect("amqp");
        let ch = conn.create_channel().await.expect("channel");
        let q = ch
            .queue_declare(
                queue.into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                lapin::types::FieldTable::default(),
            )
            .await
            .expect("queue exists");
        let _ = conn.close(200, "bye".into()).await;
        q.message_count()
    }

    /// Takes one message from `queue` with its headers, if any.
    pub async fn take(&self, queue: &str) -> Option<(Vec<u8>, lapin::types::FieldTable)> {
        let conn =
            lapin::Connection::connect(&self.settings.broker.url, ConnectionProperties::default())
                .await
                .expect("amqp");
        let ch = conn.create_channel().await.expect("channel");
        let got = ch
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic_get");
        let _ = conn.close(200, "bye".into()).await;
        got.map(|m| {
            let headers = m.delivery.properties.headers().clone().unwrap_or_default();
            (m.delivery.data.clone(), headers)
        })
    }

    /// Takes the first message `queue` receives within `limit`: the door answers
    /// before its relay publishes, so a task appears a moment after the 202.
    pub async fn take_within(
        &self,
        queue: &str,
        limit: Duration,
    ) -> Option<(Vec<u8>, lapin::types::FieldTable)> {
        let started = Instant::now();
        loop {
            let got = self.take(queue).await;
            if got.is_some() || started.elapsed() >= limit {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Takes one message from the dead-letter queue, if any.
    pub async fn dead_letter(&self) -> Option<Vec<u8>> {
        self.take(&self.names().dead_queue())
            .await
            .map(|(data, _)| data)
    }

    /// Counts rows in a table of this test's database.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = PgConnection::establish(&self.settings.database.url).expect("db");
        diesel::sql_query(sql)
            .get_result::<N>(&mut conn)
            .expect("count")
            .n
    }

    /// Runs a statement on this test's database (to age a job, say).
    pub fn execute(&self, sql: &str) -> usize {
        let mut conn = PgConnection::establish(&self.settings.database.url).expect("db");
        diesel::sql_query(sql)
            .execute(&mut conn)
            .expect("statement")
    }

    /// Stored files under this job's keys (its originals and its results).
    pub fn stored_files_of(&self, job: &str) -> Vec<PathBuf> {
        self.stored_files()
            .into_iter()
            .filter(|p| p.components().any(|c| c.as_os_str() == job))
            .collect()
    }

    /// Every file under the storage root.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out)
                } else {
                    out.push(p)
                }
            }
        }
        let mut out = Vec::new();
        walk(self.storage.path(), &mut out);
        out
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        for w in &self.workers {
            let _ = w.send(true);
        }
        let (url, prefix) = (
            self.settings.broker.url.clone(),
            self.settings.broker.prefix.clone(),
        );
        let database = self.database.clone();
        let retries = self.settings.broker.retry_delays_secs.len();
        // Best-effort cleanup on a separate thread: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(conn) =
                    lapin::Connection::connect(&url, ConnectionProperties::default()).await
                    && let Ok(ch) = conn.create_channel().await
                {
                    let n = Names::new(&prefix);
                    let mut queues = vec![n.ocr_queue(), n.dead_queue()];
                    queues.extend((0..retries).map(|i| n.retry_queue(i)));
                    for q in queues {
                        let _ = ch
                            .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                            .await;
                    }
                    for x in [n.tasks_exchange(), n.dead_exchange(), n.events_exchange()] {
                        let _ = ch
                            .exchange_delete(x.as_str().into(), ExchangeDeleteOptions::default())
                            .await;
                    }
                }
            });
            if let Ok(mut admin) = PgConnection::establish(ADMIN_URL) {
                let _ =
                    diesel::sql_query(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                        .execute(&mut admin);
            }
        })
        .join();
    }
}

async fn create_database(name: &str, url: &str) {
    let (name, url) = (name.to_owned(), url.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut admin = PgConnection::establish(ADMIN_URL)
            .expect("PostgreSQL on 127.0.0.1:5432 (scripts/services)");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create database");
        let mut conn = PgConnection::establish(&url).expect("connect to test database");
        scribe_core::db::migrate(&mut conn).expect("migrations apply");
    })
    .await
    .expect("join");
}

/// A small scanned page with known text, as PNG bytes.
pub fn page_png(seed: u64) -> (Vec<u8>, String) {
    let page =
        scribe_fixtures::render_page(&scribe_fixtures::page_text(seed, 4), 300, (6.0, 3.0), 12.0)
            .expect("render");
    (png_bytes(&page.image), page.text())
}

/// `image` as PNG bytes.
pub fn png_bytes(image: &image::GrayImage) -> Vec<u8> {
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode");
    png
}

/// `pages` small scanned pages of `lines` lines each, seeded from `seed` on.
pub fn small_pages(pages: u64, seed: u64, lines: usize) -> Vec<scribe_fixtures::render::Page> {
    (0..pages)
        .map(|i| {
            scribe_fixtures::render_page(
                &scribe_fixtures::page_text(seed + i, lines),
                300,
                (6.0, 3.0),
                12.0,
            )
            .expect("render")
        })
        .collect()
}

/// The page count `pdfinfo` gives for a PDF's bytes.
pub fn pdf_page_count(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("count.pdf");
    std::fs::write(&path, pdf).expect("write");
    let info = std::process::Command::new("pdfinfo")
        .arg(&path)
        .output()
        .expect("pdfinfo");
    let info = String::from_utf8_lossy(&info.stdout);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("pdfinfo says no page count: {info}"))
}

/// A scanned PDF of `pages` small pages, and each page's text.
pub fn scanned_pdf(pages: u64, seed: u64) -> (Vec<u8>, Vec<String>) {
    let rendered = small_pages(pages, seed, 4);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("scan.pdf");
    scribe_fixtures::pdf::write_scanned(
        &rendered.iter().map(|p| p.image.clone()).collect::<Vec<_>>(),
        300,
        &path,
    )
    .expect("pdf");
    (
        std::fs::read(path).expect("read"),
        rendered.iter().map(|p| p.text()).collect(),
    )
}

/// A word of `text` long enough to be a search term of its own, lower-cased.
pub fn long_word(text: &str) -> String {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphabetic()))
        .find(|w| w.len() >= 7)
        .expect("a long word")
        .to_lowercase()
}

pub fn cer(got: &str, want: &str) -> f64 {
    scribe_core::error_rate::character_error_rate(got, want)
}
