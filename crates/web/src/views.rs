//! One typed view per resource, built from database rows. The API serialises
//! these; the portal builds its pages from the same values, so what the two
//! show (which previews exist, which downloads, how many files failed, whether
//! the page total is final) cannot diverge.

use chrono::{DateTime, Utc};
use scribe_core::db::models::{Job, JobFiles, Page, Upload};
use scribe_core::formats::Formats;
use scribe_core::job::Status;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    pub status: Status,
    /// The earlier job whose results this one copied, without OCR.
    pub reused_from: Option<Uuid>,
    pub language: String,
    pub outputs: Formats,
    /// PDF pages with text of their own are read too, not kept as they are.
    pub force_ocr: bool,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub progress: Progress,
    /// Files that could not be read: a `complete` job may still have some.
    pub files_failed: usize,
    pub results_url: String,
    pub files: Vec<FileView>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Progress {
    pub pages_done: i64,
    /// The pages counted so far; it only grows while `pages_total_final` is false.
    pub pages_total: i64,
    /// Every file has been opened and counted (or will never be).
    pub pages_total_final: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    pub id: Uuid,
    pub file_name: String,
    pub detected_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub status: Status,
    pub error: Option<FileError>,
    pub page_count: Option<i32>,
    pub pages_done: i32,
    /// Pages done that could not be read (each says why): a complete file
    /// may have some.
    pub pages_unread: i32,
    pub attempts: i32,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub pages: Vec<PageView>,
    /// What can be downloaded now: everything asked for once the file is
    /// complete; the text and JSON of the pages read when its job was
    /// cancelled part-way; nothing otherwise.
    pub downloads: Option<Downloads>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileError {
    pub code: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageView {
    pub number: i32,
    pub mean_confidence: Option<f32>,
    pub duration_ms: i64,
    pub rotation: i32,
    pub words: i32,
    /// Only when the job asked for previews (and the page could be read).
    pub preview_url: Option<String>,
    /// Why the page could not be read; its file's other pages were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<FileError>,
    /// Shown by the portal, never in the API's JSON (the downloads hold it);
    /// empty when the rows were read without text.
    #[serde(skip)]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Downloads {
    pub text: String,
    pub hocr: Option<String>,
    pub json: String,
    pub pdf: Option<String>,
    /// Only some pages were read (the job was cancelled): text and JSON only.
    pub partial: bool,
}

/// The answer to an accepted job (`POST /api/v1/jobs`, a re-run).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AcceptedView {
    pub id: Uuid,
    pub status: Status,
    /// The earlier job whose results this one copied (the same files, language
    /// and outputs); the job is then complete at once.
    pub reused_from: Option<Uuid>,
    pub language: String,
    pub outputs: Formats,
    /// PDF pages with text of their own are read too, not kept as they are.
    pub force_ocr: bool,
    pub status_url: String,
    pub results_url: String,
    pub files: Vec<AcceptedFile>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AcceptedFile {
    pub id: Uuid,
    pub file_name: String,
    pub detected_type: String,
    pub size_bytes: i64,
    pub sha256: String,
}

impl JobView {
    pub fn of(rows: &JobFiles) -> Self {
        let job = &rows.job;
        let formats = job.formats();
        let files: Vec<FileView> = rows
            .uploads
            .iter()
            .map(|u| {
                let pages = rows.pages.iter().filter(|p| p.upload_id == u.id);
                FileView::of(job, u, pages, formats)
            })
            .collect();
        Self {
            id: job.id,
            status: job.status,
            reused_from: job.reused_from,
            language: job.language.clone(),
            outputs: formats,
            force_ocr: job.force_ocr,
            error: job.error.clone(),
            created_at: job.created_at,
            updated_at: job.updated_at,
            finished_at: job.finished_at,
            progress: Progress::of(&rows.uploads),
            files_failed: files.iter().filter(|f| f.status == Status::Error).count(),
            results_url: format!("/api/v1/jobs/{}/results", job.id),
            files,
        }
    }

    /// A finished job whose files did not all make it.
    pub fn partly_failed(&self) -> bool {
        self.status == Status::Complete && self.files_failed > 0
    }
}

impl Progress {
    pub fn of(uploads: &[Upload]) -> Self {
        Self {
            pages_done: uploads.iter().map(|u| i64::from(u.pages_done)).sum(),
            pages_total: uploads
                .iter()
                .map(|u| i64::from(u.page_count.unwrap_or(0)))
                .sum(),
            // A file that ended before it was opened (a damaged one, a cancel)
            // will never add pages.
            pages_total_final: uploads
                .iter()
                .all(|u| u.page_count.is_some() || u.status.is_finished()),
        }
    }
}

impl FileView {
    pub fn of<'a>(
        job: &Job,
        u: &Upload,
        pages: impl Iterator<Item = &'a Page>,
        formats: Formats,
    ) -> Self {
        let base = format!("/api/v1/jobs/{}/files/{}", job.id, u.id);
        let pages: Vec<PageView> = pages
            .map(|p| PageView {
                number: p.number,
                mean_confidence: p.mean_confidence,
                duration_ms: p.duration_ms,
                rotation: p.rotation,
                words: p.word_count,
                preview_url: (formats.preview && p.error.is_none())
                    .then(|| format!("{base}/pages/{}/preview.png", p.number)),
                error: p.error.as_ref().map(|message| FileError {
                    code: p.error_code.clone(),
                    message: message.clone(),
                }),
                text: p.text.clone(),
            })
            .collect();
        let downloads = match u.status {
            // text and JSON are always assembled; hOCR and PDF only when asked for.
            Status::Complete => Some(Downloads {
                text: format!("{base}/text"),
                hocr: formats.hocr.then(|| format!("{base}/hocr")),
                json: format!("{base}/json"),
                pdf: formats.pdf.then(|| format!("{base}/pdf")),
                partial: false,
            }),
            Status::Cancelled if !pages.is_empty() => Some(Downloads {
                text: format!("{base}/text"),
                hocr: None,
                json: format!("{base}/json"),
                pdf: None,
                partial: true,
            }),
            _ => None,
        };
        Self {
            id: u.id,
            file_name: u.file_name.clone(),
            detected_type: u.detected_type.clone(),
            size_bytes: u.size_bytes,
            sha256: u.sha256.clone(),
            status: u.status,
            error: u.error.as_ref().map(|message| FileError {
                code: u.error_code.clone(),
                message: message.clone(),
            }),
            page_count: u.page_count,
            pages_done: u.pages_done,
            pages_unread: pages.iter().filter(|p| p.error.is_some()).count() as i32,
            attempts: u.attempts,
            started_at: u.started_at,
            finished_at: u.finished_at,
            pages,
            downloads,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(status: Status, page_count: Option<i32>, pages_done: i32) -> Upload {
        let now = Utc::now();
        Upload {
            id: Uuid::new_v4(),
            job_id: Uuid::nil(),
            position: 0,
            file_name: "a.pdf".to_owned(),
            storage_key: String::new(),
            detected_type: "pdf".to_owned(),
            size_bytes: 1,
            sha256: String::new(),
            page_count,
            pages_done,
            status,
            error_code: None,
            error: None,
            attempts: 0,
            created_at: now,
            updated_at: now,
            started_at: None,
            finished_at: None,
            pages_at_claim: 0,
            pipeline: None,
        }
    }

    #[test]
    fn the_page_total_is_provisional_until_every_file_is_counted() {
        let counting = [
            upload(Status::Processing, Some(11), 4),
            upload(Status::Pending, None, 0),
        ];
        let p = Progress::of(&counting);
        assert_eq!((p.pages_done, p.pages_total), (4, 11));
        assert!(!p.pages_total_final);
        let counted = [
            upload(Status::Processing, Some(11), 4),
            upload(Status::Processing, Some(3), 0),
            // Failed before it was opened: it will never add pages.
            upload(Status::Error, None, 0),
        ];
        assert!(Progress::of(&counted).pages_total_final);
    }
}
