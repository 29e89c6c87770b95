//! Rows as Rust types.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::job::Status;
use crate::schema::{jobs, pages, uploads};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: Uuid,
    pub owner: String,
    pub status: Status,
    pub language: String,
    pub formats: serde_json::Value,
    pub published: bool,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The earlier job whose results this one copied, without OCR.
    pub reused_from: Option<Uuid>,
    pub webhook_url: Option<String>,
    pub notify_email: Option<String>,
    /// PDF pages with text of their own are read too (`ocr.skip_text` off).
    pub force_ocr: bool,
}

impl Job {
    /// The outputs the job asked for; a stored value that no longer parses
    /// means the defaults (every output), as for a job from before the column mattered.
    pub fn formats(&self) -> crate::formats::Formats {
        serde_json::from_value(self.formats.clone()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob {
    pub id: Uuid,
    pub owner: String,
    pub language: String,
    pub formats: serde_json::Value,
    pub webhook_url: Option<String>,
    pub notify_email: Option<String>,
    /// PDF pages with text of their own are read too (`ocr.skip_text` off).
    pub force_ocr: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = uploads)]
pub struct Upload {
    pub id: Uuid,
    pub job_id: Uuid,
    pub position: i32,
    pub file_name: String,
    pub storage_key: String,
    pub detected_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub page_count: Option<i32>,
    pub pages_done: i32,
    pub status: Status,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `pages_done` when the upload was last claimed by a worker.
    pub pages_at_claim: i32,
    /// The build of the reading that finished it (see the worker's `pipeline`).
    pub pipeline: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = uploads)]
pub struct NewUpload {
    pub id: Uuid,
    pub job_id: Uuid,
    pub position: i32,
    pub file_name: String,
    pub storage_key: String,
    pub detected_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = pages)]
pub struct Page {
    pub upload_id: Uuid,
    pub number: i32,
    pub text: String,
    pub mean_confidence: Option<f32>,
    pub duration_ms: i64,
    pub rotation: i32,
    pub word_count: i32,
    /// Why the page could not be read (see `PageResult::error`).
    pub error_code: Option<String>,
    pub error: Option<String>,
}

/// A job with its files and their pages: what a view of the job is made from.
#[derive(Debug, Clone)]
pub struct JobFiles {
    pub job: Job,
    /// By position.
    pub uploads: Vec<Upload>,
    /// By upload, then page number.
    pub pages: Vec<Page>,
}
