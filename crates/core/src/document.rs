//! A document as Scribe sees it: a file whose real type is known, checked
//! against the limits, that yields gray pages one at a time.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use image::{GrayImage, RgbImage};

use crate::density;
use crate::pdf::PdfDocument;
use crate::raster::{Decoded, RasterDocument};
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
    #[error("{}", too_many_pages(*pages, *limit))]
    TooManyPages { pages: Option<usize>, limit: usize },
    #[error("the image is {width}×{height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error(
        "the page is {width_in:.0}×{height_in:.0} inches: even at {dpi} dpi that is more than the {limit} pixels a page may have"
    )]
    PageTooLarge {
        width_in: f64,
        height_in: f64,
        dpi: u32,
        limit: u64,
    },
    #[error(
        "the {kind} file is stored in a way Scribe cannot read yet ({how}); save it as PDF, PNG or JPEG and upload it again"
    )]
    UnsupportedEncoding { kind: &'static str, how: String },
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
            Self::UnsupportedEncoding { .. } => "unsupported_encoding",
            Self::Corrupt(_) => "corrupt_file",
            Self::Encrypted => "encrypted_pdf",
            Self::NoPages => "no_pages",
            Self::TooManyPages { .. } => "too_many_pages",
            Self::TooManyPixels { .. } | Self::PageTooLarge { .. } => "too_many_pixels",
            Self::TooLarge { .. } => "file_too_large",
            Self::RenderTimeout { .. } => "render_timeout",
            Self::ToolMissing(_) => "tool_missing",
            Self::Io(_) => "io_error",
        }
    }
}

fn too_many_pages(pages: Option<usize>, limit: usize) -> String {
    match pages {
        Some(p) => format!("the document has {p} pages, more than the limit of {limit}"),
        None => format!("the document has more than {limit} pages, the most one may have"),
    }
}

/// OCR reads at most this many pixels of a page (an A3 page at 400 dpi):
/// past it Tesseract's own buffers grow into gigabytes and the text gains
/// nothing, so larger pages are read from a downsampled copy.
pub const MAX_OCR_PIXELS: u64 = 25_000_000;

/// How far a page's two resolutions may differ before it is read with square
/// pixels (a fax's 204 × 98 dpi differ by 2.08; a scanner's rounding by far less).
const SQUARE_ENOUGH: f64 = 1.1;

/// One page ready for preprocessing.
#[derive(Debug, Clone)]
pub struct Page {
    /// 1-based.
    pub number: usize,
    /// What OCR reads: upright, gray, at most `ocr.max_dpi`.
    pub image: GrayImage,
    /// Resolution of `image`, when known.
    pub dpi: Option<u32>,
    /// The page as uploaded (upright as a viewer shows it), in its own pixels:
    /// word boxes are reported in these.
    pub original: Original,
    /// The original's colour pixels, for a colour image that is read at its
    /// own size (see [`crate::raster::Decoded`]) or a PDF page holding a colour scan.
    pub colour: Option<Arc<RgbImage>>,
}

/// Size and resolution of a page as uploaded, and how the read copy relates to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Original {
    pub width: u32,
    pub height: u32,
    /// What the file states (or, for a PDF, the resolution it was rendered at).
    pub dpi: Option<u32>,
    /// Pixels of the read copy per original pixel, across (1.0 unless it was
    /// downsampled).
    pub scale: f64,
    /// The read copy's scale down the page over its scale across: 1.0 but for
    /// pixels that are not square (a fax at 204 × 98 dpi is read square, 2.08).
    pub aspect: f64,
}

#[derive(Debug)]
enum Source {
    Raster(RasterDocument),
    Pdf(Box<PdfDocument>),
}

/// An opened, checked document. `load_page` takes `&self` and is safe to call
/// from several OCR threads at once: each call decodes or renders independently.
#[derive(Debug)]
pub struct Document {
    kind: DocumentKind,
    source: Source,
    ocr_dpi: u32,
    max_dpi: u32,
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
            DocumentKind::Pdf => {
                Source::Pdf(Box::new(PdfDocument::open(path, limits, &settings.ocr)?))
            }
            _ => Source::Raster(RasterDocument::open(
                path,
                kind,
                limits.max_pixels,
                limits.max_pages,
                crate::raster::tool_limits(limits.render_timeout_secs, limits.render_memory_mb),
            )?),
        };
        Ok(Self {
            kind,
            source,
            ocr_dpi: settings.ocr.dpi,
            max_dpi: settings.ocr.max_dpi,
        })
    }

    /// The image file behind this document, for the searchable PDF's pages.
    pub fn raster(&self) -> Option<&RasterDocument> {
        match &self.source {
            Source::Raster(r) => Some(r),
            Source::Pdf(_) => None,
        }
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
        match &self.source {
            Source::Raster(r) => {
                let decoded = r.decode_page(number - 1)?;
                let density = r.page(number - 1).and_then(|p| p.upright_density());
                Ok(self.fit_for_ocr(number, decoded, density))
            }
            Source::Pdf(p) => {
                let (image, colour, dpi) = p.render_page(number)?;
                // Rendered below any scanner's resolution, a page's stated size
                // is not its sheet's, and says nothing of its glyphs' size.
                let dpi = Some(dpi).filter(|&d| density::is_credible(d));
                let original = Original {
                    width: image.width(),
                    height: image.height(),
                    dpi,
                    scale: 1.0,
                    aspect: 1.0,
                };
                Ok(Page {
                    number,
                    image,
                    dpi,
                    original,
                    colour: colour.map(Arc::new),
                })
            }
        }
    }

    /// A decoded image page, downsampled when it holds more detail than OCR
    /// uses (a 1200-dpi scan is read at the configured `ocr.dpi`) and made of
    /// square pixels when its two resolutions differ: glyphs squashed to half
    /// their height, as a fax's 204 × 98 dpi stores them, read as other letters.
    fn fit_for_ocr(&self, number: usize, decoded: Decoded, density: Option<(f64, f64)>) -> Page {
        let Decoded {
            gray: image,
            colour,
        } = decoded;
        let (w, h) = image.dimensions();
        let (dpi, stretch) = match density {
            Some((x, y)) if x.max(y) / x.min(y) > SQUARE_ENOUGH => {
                let finer = x.max(y);
                (Some(finer.round() as u32), (finer / x, finer / y))
            }
            Some((_, y)) => (Some(y.round() as u32), (1.0, 1.0)),
            None => (None, (1.0, 1.0)),
        };
        let original = Original {
            width: w,
            height: h,
            dpi,
            scale: 1.0,
            aspect: 1.0,
        };
        let (sw, sh) = (f64::from(w) * stretch.0, f64::from(h) * stretch.1);
        let by_dpi = match dpi {
            Some(d) if d > self.max_dpi => f64::from(self.ocr_dpi) / f64::from(d),
            _ => 1.0,
        };
        let by_size = (MAX_OCR_PIXELS as f64 / (sw * sh)).sqrt();
        let scale = by_dpi.min(by_size).min(1.0);
        if scale == 1.0 && stretch == (1.0, 1.0) {
            return Page {
                number,
                image,
                dpi,
                original,
                colour: colour.map(Arc::new),
            };
        }
        // A resized page is a big scan (or a fax) read in gray: its colour
        // would cost more memory than the few pages it helps are worth.
        drop(colour);
        let nw = ((sw * scale).round() as u32).max(1);
        let nh = ((sh * scale).round() as u32).max(1);
        let resized =
            image::imageops::resize(&image, nw, nh, image::imageops::FilterType::Triangle);
        drop(image);
        let across = f64::from(nw) / f64::from(w);
        Page {
            number,
            image: resized,
            dpi: dpi.map(|d| (f64::from(d) * scale).round() as u32),
            original: Original {
                scale: across,
                aspect: f64::from(nh) / f64::from(h) / across,
                ..original
            },
            colour: None,
        }
    }
}
