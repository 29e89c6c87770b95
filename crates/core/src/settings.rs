//! One typed view of the configuration: `config/default.toml`, then
//! `config/$SCRIBE_ENV.toml`, then `SCRIBE__SECTION__KEY` environment variables.
//! Every field has a default, so a binary started outside the repository (or the
//! `scribe-worker ocr` command on a laptop) works without any file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::preprocess::Preprocess;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub ocr: OcrSettings,
    pub preprocess: Preprocess,
    pub limits: Limits,
    pub database: DatabaseSettings,
    pub broker: BrokerSettings,
    pub storage: StorageSettings,
    pub web: WebSettings,
    pub worker: WorkerSettings,
    pub notify: NotifySettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: usize,
    pub wait_timeout_secs: u64,
    pub statement_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "postgres://postgres@127.0.0.1:5432/scribe".to_owned(),
            pool_size: 8,
            wait_timeout_secs: 5,
            statement_timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerSettings {
    pub url: String,
    /// Every queue and exchange name starts with this, so deployments and tests never collide.
    pub prefix: String,
    /// Deliveries of one task before it is dead-lettered (a crash loop, a poison file).
    pub delivery_limit: u32,
    /// Backoff steps for transient failures; one delay queue each.
    pub retry_delays_secs: Vec<u64>,
    pub pool_size: usize,
}

impl Default for BrokerSettings {
    fn default() -> Self {
        Self {
            url: "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned(),
            prefix: "scribe".to_owned(),
            delivery_limit: 5,
            retry_delays_secs: vec![2, 10, 60],
            pool_size: 8,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    /// `local` or `s3`.
    pub backend: String,
    pub root: PathBuf,
    pub bucket: String,
    pub endpoint: Option<String>,
    /// How long one S3 request is retried (with backoff) on a transient error
    /// before the error reaches the caller: a worker then requeues its task,
    /// an upload answers 503.
    pub retry_timeout_secs: u64,
    /// Finished jobs older than this many days are deleted (rows and stored
    /// objects) by the web's sweeper; `None` keeps everything.
    pub retention_days: Option<u32>,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            backend: "local".to_owned(),
            root: PathBuf::from("data"),
            bucket: "scribe".to_owned(),
            endpoint: None,
            retry_timeout_secs: 60,
            retention_days: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    pub host: String,
    pub port: u16,
    /// `owner:key` pairs for `Authorization: Bearer <key>`; set through the
    /// environment (`SCRIBE__WEB__API_KEYS=alice:k1,bob:k2`), never in a file.
    pub api_keys: Vec<String>,
    pub max_request_bytes: u64,
    pub max_files_per_job: usize,
    /// Jobs not confirmed by the broker after this long are published again.
    pub republish_after_secs: u64,
    /// Stored bytes with no job row (an upload cut off by a replica dying) are
    /// removed once this old; far longer than any upload takes. 0 = never.
    pub orphan_after_secs: u64,
    /// Signs the portal's owner cookie and CSRF tokens; at least 32 bytes, the
    /// same on every replica, from the environment (`SCRIBE__WEB__COOKIE_SECRET`).
    /// Empty: a random key per process (browsers lose their history on restart).
    pub cookie_secret: String,
    /// Marks the owner cookie `Secure` (serve the portal over HTTPS).
    pub secure_cookies: bool,
    /// Address for `/metrics`, apart from the public port so that the ingress
    /// never exposes it; empty disables it.
    pub metrics_addr: String,
    /// The same owner sending the same files (SHA-256) with the same language
    /// and outputs gets the earlier job's results at once, without OCR.
    pub reuse_duplicates: bool,
    /// Where people reach the portal, for the job links in emails.
    pub public_url: String,
    /// Keys the `X-Scribe-Signature` HMAC of every webhook; at least 32 bytes,
    /// from the environment (`SCRIBE__WEB__WEBHOOK_SECRET`). Empty: jobs with
    /// a `webhook_url` are refused, since nobody could verify what they get.
    pub webhook_secret: String,
    /// Lets webhooks reach loopback, private and link-local addresses (dev
    /// and tests); off in production, where it would let anyone with an API
    /// key probe the cluster's own network.
    pub webhook_allow_private: bool,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 8080,
            api_keys: Vec::new(),
            max_request_bytes: 1024 * 1024 * 1024,
            max_files_per_job: 20,
            republish_after_secs: 30,
            orphan_after_secs: 3600,
            cookie_secret: String::new(),
            secure_cookies: false,
            metrics_addr: String::new(),
            reuse_duplicates: true,
            public_url: "http://127.0.0.1:8080".to_owned(),
            webhook_secret: String::new(),
            webhook_allow_private: false,
        }
    }
}

/// Webhooks and emails when a job finishes, delivered by the web's dispatcher.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS),
    /// `smtp://host:25` (plain: a relay on the same host or pod network
    /// only), with `user:password@` if the relay wants them; from
    /// the environment (`SCRIBE__NOTIFY__SMTP_URL`). Empty: no emails, and
    /// jobs asking for one are refused.
    pub smtp_url: String,
    /// The sender, `Scribe <scribe@example.org>` or a bare address.
    pub from: String,
    /// Waits between attempts; one more attempt than entries, then it is abandoned.
    pub retry_delays_secs: Vec<u64>,
    /// How often each replica looks for due notifications.
    pub poll_interval_ms: u64,
    /// Limit for one delivery (connect, send, answer).
    pub timeout_secs: u64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            smtp_url: String::new(),
            from: "Scribe <scribe@localhost>".to_owned(),
            retry_delays_secs: vec![30, 60, 180, 360],
            poll_interval_ms: 1000,
            timeout_secs: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// OCR slots (tasks in flight); 0 means `ocr.threads`.
    pub slots: usize,
    /// Documents with more pages are split into tasks of this many pages, so
    /// several workers share one document; 0 never splits.
    pub pages_per_task: u32,
    /// Address for `/metrics`, `/readyz` and `/livez`; empty disables it.
    pub metrics_addr: String,
    /// Liveness fails when tasks are in hand and no page or task has finished
    /// for this long (a hung renderer or engine): the pod is restarted and the
    /// broker redelivers its tasks. Keep it above the slowest page.
    pub stall_timeout_secs: u64,
    /// On SIGTERM, how long to wait for the pages being read to be committed;
    /// the rest of each task goes back to the queue. Keep it well inside the
    /// pod's `terminationGracePeriodSeconds` (60 in deploy/).
    pub drain_timeout_secs: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            slots: 0,
            pages_per_task: 10,
            metrics_addr: String::new(),
            stall_timeout_secs: 600,
            drain_timeout_secs: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OcrSettings {
    /// Language used when a request names none, in Tesseract's `deu+eng` form.
    pub default_language: String,
    /// Render resolution for PDF pages that hold no raster image.
    pub dpi: u32,
    /// Scanned PDF pages render at their image's own resolution, clamped to this range.
    pub min_dpi: u32,
    pub max_dpi: u32,
    /// OCR threads (one warm engine each); 0 means one per core.
    pub threads: usize,
    /// Where the `*.traineddata` files are; empty means Tesseract's usual places.
    pub tessdata_dir: Option<PathBuf>,
    /// Use a PDF page's own text layer instead of running OCR on it.
    pub skip_text: bool,
    /// Width of the page preview thumbnails, in pixels.
    pub preview_width: u32,
    /// The languages jobs may ask for. Empty means whatever tessdata is installed
    /// here; set it on web replicas, which have no tessdata of their own.
    pub languages: Vec<String>,
}

impl Default for OcrSettings {
    fn default() -> Self {
        Self {
            default_language: "eng".to_owned(),
            dpi: 300,
            min_dpi: 150,
            max_dpi: 400,
            threads: 0,
            tessdata_dir: None,
            skip_text: true,
            preview_width: 1000,
            languages: Vec::new(),
        }
    }
}

impl OcrSettings {
    pub fn thread_count(&self) -> usize {
        if self.threads > 0 {
            return self.threads;
        }
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_pages: usize,
    /// Width × height of one image or rendered page.
    pub max_pixels: u64,
    /// Wall-clock limit for rendering one PDF page.
    pub render_timeout_secs: u64,
    /// Address-space limit for the renderer subprocess (and the PDF trial
    /// parse); 0 for none.
    pub render_memory_mb: u64,
    /// The program that tries each PDF parse first (see `pdf::guard`): set by
    /// the worker binary to itself at start-up, never read from configuration.
    #[serde(skip)]
    pub pdf_trial_parser: Option<std::path::PathBuf>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 256 * 1024 * 1024,
            max_pages: 1000,
            max_pixels: 150_000_000,
            render_timeout_secs: 60,
            render_memory_mb: 2048,
            pdf_trial_parser: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration could not be read: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration key `{key}` is invalid: {reason}")]
    Invalid { key: &'static str, reason: String },
}

impl Settings {
    /// Reads the layered configuration from `config_dir` (missing files are fine).
    pub fn load(config_dir: &Path) -> Result<Self, SettingsError> {
        let env = std::env::var("SCRIBE_ENV").unwrap_or_else(|_| "dev".to_owned());
        let settings: Settings = config::Config::builder()
            .add_source(config::File::from(config_dir.join("default.toml")).required(false))
            .add_source(config::File::from(config_dir.join(format!("{env}.toml"))).required(false))
            .add_source(
                config::Environment::with_prefix("SCRIBE")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("web.api_keys")
                    .with_list_parse_key("ocr.languages")
                    .with_list_parse_key("broker.retry_delays_secs")
                    .with_list_parse_key("notify.retry_delays_secs")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key, reason: &str| {
            Err(SettingsError::Invalid {
                key,
                reason: reason.to_owned(),
            })
        };
        let o = &self.ocr;
        if !(50..=1200).contains(&o.dpi) {
            return invalid("ocr.dpi", "must be between 50 and 1200");
        }
        if o.min_dpi == 0 || o.min_dpi > o.max_dpi {
            return invalid("ocr.min_dpi", "must be positive and at most ocr.max_dpi");
        }
        if !(16..=4096).contains(&o.preview_width) {
            return invalid("ocr.preview_width", "must be between 16 and 4096");
        }
        if self.storage.retention_days == Some(0) {
            return invalid(
                "storage.retention_days",
                "must be at least 1 (leave it unset to keep jobs forever)",
            );
        }
        let l = &self.limits;
        if l.max_pages == 0 {
            return invalid("limits.max_pages", "must be at least 1");
        }
        if l.max_pixels < 10_000 {
            return invalid("limits.max_pixels", "must be at least 10000");
        }
        if l.render_timeout_secs == 0 {
            return invalid("limits.render_timeout_secs", "must be at least 1");
        }
        // Below this the PDF trial parse's budget (under half the limit) is
        // nothing, and every PDF would silently lose its in-process reading.
        if (1..MIN_RENDER_MEMORY_MB).contains(&l.render_memory_mb) {
            return invalid(
                "limits.render_memory_mb",
                "must be 0 (no limit) or at least 512",
            );
        }
        if self.preprocess.max_deskew_degrees > 45.0 || self.preprocess.max_deskew_degrees < 0.0 {
            return invalid("preprocess.max_deskew_degrees", "must be between 0 and 45");
        }
        if self.broker.prefix.is_empty()
            || !self
                .broker
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return invalid(
                "broker.prefix",
                "must be non-empty letters, digits, `-`, `_` or `.`",
            );
        }
        if self.web.api_keys.iter().any(|k| {
            k.split_once(':')
                .is_none_or(|(o, k)| o.is_empty() || k.len() < 8)
        }) {
            return invalid(
                "web.api_keys",
                "each entry must be `owner:key` with a key of 8 or more characters",
            );
        }
        if self.worker.stall_timeout_secs == 0 {
            return invalid("worker.stall_timeout_secs", "must be at least 1");
        }
        if self.web.max_files_per_job == 0 {
            return invalid("web.max_files_per_job", "must be at least 1");
        }
        if !(self.web.webhook_secret.is_empty() || self.web.webhook_secret.len() >= 32) {
            return invalid(
                "web.webhook_secret",
                "must be at least 32 bytes (or empty to refuse webhooks)",
            );
        }
        if !(self.web.public_url.starts_with("http://")
            || self.web.public_url.starts_with("https://"))
        {
            return invalid("web.public_url", "must start with http:// or https://");
        }
        let n = &self.notify;
        if n.retry_delays_secs.contains(&0) {
            return invalid(
                "notify.retry_delays_secs",
                "every wait must be at least 1 second",
            );
        }
        if n.timeout_secs == 0 {
            return invalid("notify.timeout_secs", "must be at least 1");
        }
        if n.poll_interval_ms < 50 {
            return invalid("notify.poll_interval_ms", "must be at least 50");
        }
        Ok(())
    }

    /// The OCR slots a worker runs: tasks in flight and OCR threads.
    pub fn worker_slots(&self) -> usize {
        if self.worker.slots > 0 {
            self.worker.slots
        } else {
            self.ocr.thread_count()
        }
    }
}

/// The least `limits.render_memory_mb` other than 0.
const MIN_RENDER_MEMORY_MB: u64 = 512;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().expect("defaults validate");
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let mut s = Settings::default();
        s.ocr.min_dpi = 500;
        let err = s.validate().expect_err("min above max is refused");
        assert!(err.to_string().contains("ocr.min_dpi"), "{err}");
        let mut s = Settings::default();
        s.limits.render_memory_mb = 256;
        let err = s.validate().expect_err("too little for a parse");
        assert!(err.to_string().contains("limits.render_memory_mb"), "{err}");
        s.limits.render_memory_mb = 0;
        s.validate().expect("no limit at all is allowed");
    }
}
