//! What the portal's templates show, built from database rows: labels,
//! human sizes and durations, per-file progress. No HTML here: the templates
//! escape every string.

use chrono::{DateTime, Utc};
use scribe_core::job::Status;
use scribe_core::languages;
use uuid::Uuid;

use crate::views::{self, FileView};

/// Text shown inline per file, in bytes; the downloads hold all of it.
const MAX_INLINE_TEXT: usize = 512 * 1024;

pub struct StatusView {
    pub value: Status,
    /// `pending`, `processing`…: the CSS class and `data-status`.
    pub key: &'static str,
    pub label: String,
    pub running: bool,
    /// Complete, but some files failed: never shown as a plain success.
    pub partial: bool,
}

impl StatusView {
    pub fn of(status: Status) -> Self {
        let label = match status {
            Status::Pending => "Pending",
            Status::Processing => "Processing",
            Status::Complete => "Complete",
            Status::Error => "Error",
            Status::Cancelled => "Cancelled",
        };
        Self {
            value: status,
            key: status.as_str(),
            label: label.to_owned(),
            running: !status.is_finished(),
            partial: false,
        }
    }

    /// A job's badge: "Complete · 2 of 3 files failed" when some files failed.
    pub fn of_job(job: &views::JobView) -> Self {
        let mut status = Self::of(job.status);
        if job.partly_failed() {
            status.partial = true;
            status.label = format!(
                "Complete · {} of {} files failed",
                job.files_failed,
                job.files.len()
            );
        }
        status
    }
}

/// "11", "≥ 11" while files are still being counted, "counting…" before any is.
pub fn pages_label(progress: &views::Progress) -> String {
    match (progress.pages_total_final, progress.pages_total) {
        (true, n) => n.to_string(),
        (false, 0) => "counting…".to_owned(),
        (false, n) => format!("≥ {n}"),
    }
}

pub struct JobView {
    pub id: Uuid,
    pub status: StatusView,
    pub language: String,
    /// The stored code (`deu+eng`), for the re-run form.
    pub language_code: String,
    pub outputs: scribe_core::formats::Formats,
    pub force_ocr: bool,
    pub created: String,
    pub duration: String,
    pub pages_done: i64,
    pub pages_total: i64,
    pub pages_total_final: bool,
    pub files_failed: usize,
    pub files: Vec<FileCard>,
    pub results_url: Option<String>,
    /// Every output in one ZIP, once the job has some (complete or error).
    pub archive_url: Option<String>,
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
    /// Its pages, text and downloads are shown: it is complete, or its job
    /// was cancelled after some of its pages were read.
    pub show_results: bool,
    /// Only some pages were read (the job was cancelled).
    pub partial: bool,
}

impl FileCard {
    pub fn progress_label(&self) -> String {
        match (self.status.value, self.page_count) {
            (Status::Pending, _) => "Waiting for a worker".to_owned(),
            (_, None) => "Reading the file".to_owned(),
            (_, Some(n)) => format!("{} of {n} pages", self.pages_done),
        }
    }

    pub fn has_previews(&self) -> bool {
        self.pages.iter().any(|p| p.preview_url.is_some())
    }

    /// Every page read and not one word on any: a photo, a blank sheet, or a
    /// language or scan the engine could make nothing of. Said, so an empty
    /// result is not taken for a fault of ours, nor a fault for an empty page.
    pub fn found_no_text(&self) -> bool {
        let mut read = self.pages.iter().filter(|p| p.error.is_none()).peekable();
        self.show_results && !self.partial && read.peek().is_some() && read.all(|p| p.words == 0)
    }

    /// The `<progress>` maximum; 1 while the page count is unknown.
    pub fn progress_max(&self) -> i32 {
        self.page_count.unwrap_or(1).max(1)
    }

    /// "3 of 8 pages were read before the job was cancelled."
    pub fn partial_label(&self) -> String {
        let of = self
            .page_count
            .map_or_else(String::new, |n| format!(" of {n}"));
        format!(
            "The job was cancelled: {}{of} page{} read before the cancel.",
            self.pages.len(),
            if self.pages.len() == 1 {
                " was"
            } else {
                "s were"
            }
        )
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
    /// Why the page could not be read.
    pub error: Option<String>,
}

pub struct Download {
    pub label: &'static str,
    pub url: String,
}

/// The page's model of a job, from the same typed view the API serialises.
pub fn job_view(job: &views::JobView) -> JobView {
    JobView {
        id: job.id,
        status: StatusView::of_job(job),
        language: languages::describe(&job.language),
        language_code: job.language.clone(),
        outputs: job.outputs,
        force_ocr: job.force_ocr,
        created: timestamp(job.created_at),
        duration: duration(job.created_at, job.finished_at),
        pages_done: job.progress.pages_done,
        pages_total: job.progress.pages_total,
        pages_total_final: job.progress.pages_total_final,
        files_failed: job.files_failed,
        results_url: job.status.is_finished().then(|| job.results_url.clone()),
        archive_url: matches!(job.status, Status::Complete | Status::Error)
            .then(|| format!("/api/v1/jobs/{}/archive.zip", job.id)),
        files: job.files.iter().map(|f| file_card(job.id, f)).collect(),
    }
}

pub fn file_card(job_id: Uuid, f: &FileView) -> FileCard {
    let status = StatusView::of(f.status);
    let mut budget = MAX_INLINE_TEXT;
    let mut truncated = false;
    let show_results = f.downloads.is_some();
    let pages = f
        .pages
        .iter()
        .map(|p| {
            let text = if show_results && p.text.len() <= budget {
                budget -= p.text.len();
                Some(p.text.trim_end().to_owned())
            } else {
                truncated |= show_results;
                None
            };
            PageView {
                number: p.number,
                confidence: p
                    .mean_confidence
                    .map_or_else(|| "–".to_owned(), |c| format!("{c:.0}%")),
                words: p.words,
                rotation: p.rotation,
                preview_url: p.preview_url.clone(),
                text,
                error: p.error.as_ref().map(|e| e.message.clone()),
            }
        })
        .collect();
    let mut downloads = Vec::new();
    let mut partial = false;
    if let Some(d) = &f.downloads {
        partial = d.partial;
        downloads.push(Download {
            label: if d.partial { "Text so far" } else { "Text" },
            url: d.text.clone(),
        });
        if let Some(url) = &d.hocr {
            downloads.push(Download {
                label: "hOCR",
                url: url.clone(),
            });
        }
        downloads.push(Download {
            label: "JSON with word boxes",
            url: d.json.clone(),
        });
        if let Some(url) = &d.pdf {
            downloads.push(Download {
                label: "Searchable PDF",
                url: url.clone(),
            });
        }
    }
    FileCard {
        job_id,
        id: f.id,
        name: f.file_name.clone(),
        size: human_bytes(f.size_bytes),
        kind: scribe_core::sniff::DocumentKind::parse(&f.detected_type)
            .map_or_else(|| f.detected_type.clone(), |k| k.name().to_owned()),
        error: f.error.as_ref().map(|e| e.message.clone()),
        pages_done: f.pages_done,
        page_count: f.page_count,
        status,
        pages,
        text_truncated: truncated,
        downloads,
        show_results,
        partial,
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
    fn provisional_page_totals_say_so() {
        let p = |pages_total, pages_total_final| views::Progress {
            pages_done: 0,
            pages_total,
            pages_total_final,
        };
        assert_eq!(pages_label(&p(0, false)), "counting…");
        assert_eq!(pages_label(&p(11, false)), "≥ 11");
        assert_eq!(pages_label(&p(14, true)), "14");
    }
}
