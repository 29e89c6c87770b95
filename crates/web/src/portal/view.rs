//! What the portal's templates show, built from database rows: labels,
//! human sizes and durations, per-file progress. No HTML here: the templates
//! escape every string.

use chrono::{DateTime, Utc};
use scribe_core::db::models::{Job, Page, Upload};
use scribe_core::formats::Formats;
use scribe_core::job::Status;
use scribe_core::languages;
use uuid::Uuid;

/// Text shown inline per file, in bytes; the downloads hold all of it.
const MAX_INLINE_TEXT: usize = 512 * 1024;

pub struct StatusView {
    /// `pending`, `processing`…: the CSS class and `data-status`.
    pub key: &'static str,
    pub label: &'static str,
    pub running: bool,
}

impl StatusView {
    pub fn of(stored: &str) -> Self {
        let status = Status::parse(stored).unwrap_or(Status::Error);
        let label = match status {
            Status::Pending => "Pending",
            Status::Processing => "Processing",
            Status::Complete => "Complete",
            Status::Error => "Error",
            Status::Cancelled => "Cancelled",
        };
        Self {
            key: status.as_str(),
            label,
            running: !status.is_finished(),
        }
    }
}

pub struct JobView {
    pub id: Uuid,
    pub status: StatusView,
    pub language: String,
    pub created: String,
    pub duration: String,
    pub pages_done: i64,
    pub pages_total: i64,
    pub files: Vec<FileCard>,
    pub results_url: Option<String>,
}

pub struct FileCard {
    pub job_id: Uuid,
    pub id: Uuid,
    pub name: String,
    pub size: String,
    pub kind: String,
    pub status: StatusView,
    pub pages_done: i32,
    /// `None` until the worker has counted the pages.
    pub page_count: Option<i32>,
    pub error: Option<String>,
    pub pages: Vec<PageView>,
    /// Part of the text was left out of the page (it is in the downloads).
    pub text_truncated: bool,
    pub downloads: Vec<Download>,
}

impl FileCard {
    pub fn progress_label(&self) -> String {
        match (self.status.key, self.page_count) {
            ("pending", _) => "Waiting for a worker".to_owned(),
            (_, None) => "Reading the file".to_owned(),
            (_, Some(n)) => format!("{} of {n} pages", self.pages_done),
        }
    }

    pub fn has_previews(&self) -> bool {
        self.pages.iter().any(|p| p.preview_url.is_some())
    }

    /// The `<progress>` maximum; 1 while the page count is unknown.
    pub fn progress_max(&self) -> i32 {
        self.page_count.unwrap_or(1).max(1)
    }
}

pub struct PageView {
    pub number: i32,
    pub confidence: String,
    pub words: i32,
    pub rotation: i32,
    pub preview_url: Option<String>,
    /// `None` when the inline text budget ran out before this page.
    pub text: Option<String>,
}

pub struct Download {
    pub label: &'static str,
    pub url: String,
}

pub fn job_view(job: &Job, uploads: &[Upload], pages: &[Page]) -> JobView {
    let formats = job.formats();
    let files: Vec<FileCard> = uploads
        .iter()
        .map(|u| {
            let own: Vec<&Page> = pages.iter().filter(|p| p.upload_id == u.id).collect();
            file_card(job.id, u, &own, formats)
        })
        .collect();
    let status = StatusView::of(&job.status);
    JobView {
        id: job.id,
        language: languages::describe(&job.language),
        created: timestamp(job.created_at),
        duration: duration(job.created_at, job.finished_at),
        pages_done: uploads.iter().map(|u| i64::from(u.pages_done)).sum(),
        pages_total: uploads
            .iter()
            .map(|u| i64::from(u.page_count.unwrap_or(0)))
            .sum(),
        results_url: matches!(status.key, "complete" | "error")
            .then(|| format!("/api/v1/jobs/{}/results", job.id)),
        status,
        files,
    }
}

pub fn file_card(job_id: Uuid, u: &Upload, pages: &[&Page], formats: Formats) -> FileCard {
    let status = StatusView::of(&u.status);
    let base = format!("/api/v1/jobs/{job_id}/files/{}", u.id);
    let complete = status.key == "complete";
    let mut budget = MAX_INLINE_TEXT;
    let mut truncated = false;
    let pages = pages
        .iter()
        .map(|p| {
            let text = if complete && p.text.len() <= budget {
                budget -= p.text.len();
                Some(p.text.trim_end().to_owned())
            } else {
                truncated |= complete;
                None
            };
            PageView {
                number: p.number,
                confidence: p
                    .mean_confidence
                    .map_or_else(|| "–".to_owned(), |c| format!("{c:.0}%")),
                words: p.word_count,
                rotation: p.rotation,
                preview_url: formats
                    .preview
                    .then(|| format!("{base}/pages/{}/preview.png", p.number)),
                text,
            }
        })
        .collect();
    let mut downloads = Vec::new();
    if complete {
        downloads.push(Download {
            label: "Text",
            url: format!("{base}/text"),
        });
        if formats.hocr {
            downloads.push(Download {
                label: "hOCR",
                url: format!("{base}/hocr"),
            });
        }
        downloads.push(Download {
            label: "JSON with word boxes",
            url: format!("{base}/json"),
        });
        if formats.pdf {
            downloads.push(Download {
                label: "Searchable PDF",
                url: format!("{base}/pdf"),
            });
        }
    }
    FileCard {
        job_id,
        id: u.id,
        name: u.file_name.clone(),
        size: human_bytes(u.size_bytes),
        kind: scribe_core::sniff::DocumentKind::parse(&u.detected_type)
            .map_or_else(|| u.detected_type.clone(), |k| k.name().to_owned()),
        error: u.error.clone(),
        pages_done: u.pages_done,
        page_count: u.page_count,
        status,
        pages,
        text_truncated: truncated,
        downloads,
    }
}

/// `1536` → `1.5 KB` (powers of 1000, as file managers show them).
pub fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// From acceptance to finish, or "–" while it runs.
pub fn duration(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> String {
    let Some(to) = to else {
        return "–".to_owned();
    };
    let secs = (to - from).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(999), "999 bytes");
        assert_eq!(human_bytes(1_500), "1.5 KB");
        assert_eq!(human_bytes(268_435_456), "268.4 MB");
    }

    #[test]
    fn durations_read_like_a_person_says_them() {
        let t0 = DateTime::<Utc>::from_timestamp(0, 0).expect("epoch");
        let at = |s| DateTime::<Utc>::from_timestamp(s, 0);
        assert_eq!(duration(t0, None), "–");
        assert_eq!(duration(t0, at(42)), "42 s");
        assert_eq!(duration(t0, at(125)), "2 min 5 s");
        assert_eq!(duration(t0, at(7260)), "2 h 1 min");
    }

    #[test]
    fn unknown_stored_statuses_show_as_errors_not_as_running() {
        assert!(!StatusView::of("bogus").running);
        assert_eq!(StatusView::of("processing").label, "Processing");
    }
}
