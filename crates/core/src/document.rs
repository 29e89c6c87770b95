//! A document as Scribe sees it: a file whose real type is known, checked
//! against the limits, that yields gray pages one at a time.

use std::io::Read;
use std::path::Path;

use image::GrayImage;

use crate::pdf::PdfDocument;
use crate::raster::RasterDocument;
use crate::settings::Settings;
use crate::sniff::{self, DocumentKind};

/// Why a document cannot be processed. Every message is a sentence a person
/// can act on; [`DocumentError::is_permanent`] tells a retry from a refusal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    #[error("the file is empty (0 bytes)")]
    Empty,
    #[error("the file is {0}, not a supported document; send {accepted}", accepted = DocumentKind::accepted())]
    Unsupported(String),
    #[error("{0}")]
    Corrupt(String),
    #[error("the PDF is password-protected; remove the password and upload it again")]
    Encrypted,
    #[error("the PDF has no pages")]
    NoPages,
    #[error("{} pages is more than the limit of {limit}", pages.map_or("the document has more".to_owned(), |p| format!("the document has {p}")))]
    TooManyPages { pages: Option<usize>, limit: usize },
    #[error("the image is {width}×{height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("the file is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("rendering a page took longer than {secs} s and was stopped")]
    RenderTimeout { secs: u64 },
    #[error("`{0}` is not installed on this server")]
    ToolMissing(String),
    #[error("the file could not be read: {0}")]
    Io(#[source] std::io::Error),
}

impl DocumentError {
    /// A permanent error repeats on every attempt: the input itself is at fault.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, Self::Io(_) | Self::ToolMissing(_))
    }

    /// A stable machine-readable code for APIs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty_file",
            Self::Unsupported(_) => "unsupported_type",
            Self::Corrupt(_) => "corrupt_file",
            Self::Encrypted => "encrypted_pdf",
            Self::NoPages => "no_pages",
            Self::TooManyPages { .. } => "too_many_pages",
            Self::TooManyPixels { .. } => "too_many_pixels",
            Self::TooLarge { .. } => "file_too_large",
            Self::RenderTimeout { .. } => "render_timeout",
            Self::ToolMissing(_) => "tool_missing",
            Self::Io(_) => "io_error",
        }
    }
}

/// One page ready for preprocessing.
#[derive(Debug, Clone)]
pub struct Page {
    /// 1-based.
    pub number: usize,
    pub image: GrayImage,
    /// Resolution the page was rendered or scanned at, when known.
    pub dpi: Option<u32>,
}

#[derive(Debug)]
enum Source {
    Raster(RasterDocument),
    Pdf(PdfDocument),
}

/// An opened, checked document. `load_page` takes `&self` and is safe to call
/// from several OCR threads at once: each call decodes or renders independently.
#[derive(Debug)]
pub struct Document {
    kind: DocumentKind,
    source: Source,
}

impl Document {
    /// Sniffs the type, checks every limit that can be checked without
    /// decoding, and counts the pages.
    pub fn open(path: &Path, settings: &Settings) -> Result<Self, DocumentError> {
        let limits = &settings.limits;
        let size = std::fs::metadata(path).map_err(DocumentError::Io)?.len();
        if size == 0 {
            return Err(DocumentError::Empty);
        }
        if size > limits.max_file_bytes {
            return Err(DocumentError::TooLarge {
                size,
                limit: limits.max_file_bytes,
            });
        }
        let mut head = Vec::with_capacity(1024);
        std::fs::File::open(path)
            .and_then(|f| f.take(1024).read_to_end(&mut head))
            .map_err(DocumentError::Io)?;
        let kind = sniff::sniff(&head)
            .ok_or_else(|| DocumentError::Unsupported(sniff::describe_unknown(&head)))?;
        let source = match kind {
            DocumentKind::Pdf => Source::Pdf(PdfDocument::open(path, limits, &settings.ocr)?),
            _ => Source::Raster(RasterDocument::open(
                path,
                kind,
                limits.max_pixels,
                limits.max_pages,
            )?),
        };
        Ok(Self { kind, source })
    }

    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    pub fn page_count(&self) -> usize {
        match &self.source {
            Source::Raster(r) => r.page_count(),
            Source::Pdf(p) => p.page_count(),
        }
    }

    /// The PDF behind this document, for text layers and page extraction.
    pub fn pdf(&self) -> Option<&PdfDocument> {
        match &self.source {
            Source::Pdf(p) => Some(p),
            Source::Raster(_) => None,
        }
    }

    /// Decodes or renders page `number` (1-based).
    pub fn load_page(&self, number: usize) -> Result<Page, DocumentError> {
        if number == 0 || number > self.page_count() {
            return Err(DocumentError::Corrupt(format!(
                "page {number} does not exist; the document has {} pages",
                self.page_count()
            )));
        }
        let (image, dpi) = match &self.source {
            Source::Raster(r) => (r.decode(number - 1)?, None),
            Source::Pdf(p) => {
                let (image, dpi) = p.render(number)?;
                (image, Some(dpi))
            }
        };
        Ok(Page { number, image, dpi })
    }
}
