//! `results.json`: what OCR found in one document, page by page, with every
//! word's bounding box. The schema is versioned; additive changes keep the
//! version, anything else bumps it. The README documents each field.

use serde::{Deserialize, Serialize};

use crate::preprocess::Applied;
use crate::sniff::DocumentKind;

pub const SCHEMA_VERSION: u32 = 1;

/// The job's `results.json`: each file's status beside its own `results.json`.
#[derive(Debug, Serialize)]
pub struct JobResults<'a> {
    pub job_id: uuid::Uuid,
    pub files: Vec<FileResults<'a>>,
}

#[derive(Debug, Serialize)]
pub struct FileResults<'a> {
    pub upload_id: uuid::Uuid,
    pub file_name: &'a str,
    pub status: crate::job::Status,
    pub error: Option<&'a str>,
    /// The file's own `results.json`; `None` when it has none (it could not be read).
    pub result: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DocumentResult {
    pub schema_version: u32,
    /// The uploaded file's name, as display text.
    pub file_name: String,
    pub detected_type: DocumentKind,
    pub mime_type: String,
    pub page_count: usize,
    pub language: String,
    pub duration_ms: u64,
    /// Mean of the OCR'd pages' confidences, weighted by word count; `None`
    /// with no words read.
    pub mean_confidence: Option<f32>,
    pub pages: Vec<PageResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PageResult {
    /// 1-based.
    pub number: usize,
    /// Size of the page as uploaded (upright), in its own pixels: the word
    /// boxes' frame. For a PDF, the page rendered at `dpi`.
    pub width: u32,
    pub height: u32,
    /// The page's resolution: the file's own, the render's for a PDF, or
    /// (`dpi_estimated`) judged from the height of its words.
    pub dpi: Option<u32>,
    #[serde(default)]
    pub dpi_estimated: bool,
    /// `ocr`, or `text_layer` when the PDF page's own text was used.
    pub source: PageSource,
    /// An `ocr` page that had an earlier OCR's invisible text, which misread
    /// it (read sideways, upside down, from a poor copy, in another script)
    /// or left part of it unread: this reading replaces that text, in the
    /// searchable PDF too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replaced_text_layer: bool,
    pub text: String,
    /// Tesseract's mean word confidence, 0–100.
    pub mean_confidence: Option<f32>,
    /// Clockwise rotation applied to make the page upright.
    pub rotation_applied: u16,
    /// Skew removed, in degrees.
    pub skew_corrected: f32,
    pub preprocessing: Applied,
    pub timings: PageTimings,
    pub words: Vec<Word>,
    /// Why an `unread` page could not be read; its file's other pages were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<PageFailure>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PageSource {
    Ocr,
    TextLayer,
    /// The page could not be read (damaged, too large, refused by the
    /// engine): it has no text, and `error` says why.
    Unread,
}

/// A page's own failure, in the terms a whole file's failure has.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PageFailure {
    /// As a file's error code: `corrupt_file`, `too_many_pixels`, `ocr_failed`…
    pub code: String,
    pub message: String,
}

impl PageResult {
    /// Page `number`, which could not be read. `size` is its size in pixels
    /// when its file states it (zero when not known).
    pub fn unread(number: usize, size: (u32, u32), failure: PageFailure) -> Self {
        Self {
            number,
            width: size.0,
            height: size.1,
            dpi: None,
            dpi_estimated: false,
            source: PageSource::Unread,
            replaced_text_layer: false,
            text: String::new(),
            mean_confidence: None,
            rotation_applied: 0,
            skew_corrected: 0.0,
            preprocessing: Applied::default(),
            timings: PageTimings::default(),
            words: Vec::new(),
            error: Some(failure),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PageTimings {
    pub render_ms: u64,
    pub preprocess_ms: u64,
    pub recognize_ms: u64,
    /// Outputs: hOCR, PDF page, preview.
    pub output_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Word {
    pub text: String,
    /// 0–100.
    pub confidence: f32,
    pub bbox: BBox,
    /// Tesseract's layout position: block, paragraph, line, word (1-based).
    pub block: u32,
    pub paragraph: u32,
    pub line: u32,
}

/// Pixels from the top-left corner of the page image.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BBox {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl DocumentResult {
    /// A document's results; the derived fields (schema, MIME type, mean
    /// confidence) are filled in here so every producer agrees on them.
    pub fn new(
        file_name: &str,
        kind: DocumentKind,
        page_count: usize,
        language: &str,
        duration_ms: u64,
        pages: Vec<PageResult>,
    ) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            file_name: file_name.to_owned(),
            detected_type: kind,
            mime_type: kind.mime().to_owned(),
            page_count,
            language: language.to_owned(),
            duration_ms,
            mean_confidence: Self::word_weighted_confidence(&pages),
            pages,
        }
    }

    /// The merged text: pages separated by form feeds.
    pub fn text(&self) -> String {
        self.pages
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\u{c}")
    }

    /// The first page and its failure when no page could be read: the whole
    /// file has failed then, for that reason.
    pub fn nothing_read(&self) -> Option<(usize, &PageFailure)> {
        if self.pages.iter().any(|p| p.source != PageSource::Unread) {
            return None;
        }
        let first = self.pages.first()?;
        Some((first.number, first.error.as_ref()?))
    }

    fn word_weighted_confidence(pages: &[PageResult]) -> Option<f32> {
        let (sum, n) = pages
            .iter()
            // A page's own text was not read: its words are not guesses.
            .filter(|p| p.source == PageSource::Ocr)
            .flat_map(|p| &p.words)
            .fold((0.0f64, 0usize), |(s, n), w| {
                (s + f64::from(w.confidence), n + 1)
            });
        (n > 0).then(|| (sum / n as f64) as f32)
    }
}
