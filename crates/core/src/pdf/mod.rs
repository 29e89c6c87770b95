//! PDFs through poppler's command-line tools: page count and encryption from
//! `pdfinfo`, each page's native image resolution from `pdfimages -list`, and
//! one page at a time rendered by `pdftoppm` straight to raw pixels: gray (PGM),
//! or colour (PPM) for pages whose scans are in colour. A plain scanned page is
//! read from its image instead (see `scan`), which is the same pixels for less.
//! A page's own text comes from `pdftotext`, and whether it is drawn visibly
//! (or is an earlier OCR's invisible layer) from `pdftohtml`, which leaves
//! invisible text out.
//!
//! We wrap pdftoppm ourselves rather than go through pdf2image 0.1.3: that crate
//! always round-trips pages through JPEG (an encode, a decode and lossy pixels),
//! ignores pdftoppm's exit status and panics when the tool is missing.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use image::{GrayImage, RgbImage};

use crate::document::DocumentError;
use crate::settings::{Limits, OcrSettings};
use crate::subprocess::{self, ChildLimits, SubprocessError};

pub mod guard;
pub mod objects;
mod page_tree;
mod scan;
mod words;

use scan::{ScanPages, ScanPixels};
pub use words::PageWords;

/// Below this a render is useless for OCR; a page that would need less to fit
/// the pixel limit is refused instead, unless it holds a scan of no finer
/// resolution (see [`PdfDocument::render_dpi`]).
const MIN_RENDER_DPI: u32 = 50;

/// A PDF whose structure has been read; pages render on demand.
#[derive(Debug)]
pub struct PdfDocument {
    path: PathBuf,
    /// Page sizes in points (1/72 inch), by 0-based index, as stored.
    sizes: Vec<(f64, f64)>,
    /// Each page's clockwise turn (`/Rotate`), by 0-based index.
    rotations: Vec<u16>,
    /// Highest raster-image resolution found on each page (1-based page number).
    image_ppi: HashMap<usize, u32>,
    /// Pages holding a colour image (1-based).
    colour_pages: HashSet<usize>,
    /// The share of each page's area its raster images are drawn over (1-based).
    image_cover: HashMap<usize, f64>,
    /// The file parsed, for pages whose scan can be read without rendering.
    scans: Option<Box<ScanPages>>,
    limits: ChildLimits,
    /// Whether lopdf may parse this file in-process (see `guard`).
    parse_safe: bool,
    /// Pages the file lists but does not hold (1-based): damaged page
    /// objects, or more pages counted than there are.
    lost: BTreeSet<usize>,
    /// The copy read instead of a file whose page tree had holes; `path` is it.
    _mended: Option<tempfile::TempPath>,
    max_pixels: u64,
    dpi: u32,
    min_dpi: u32,
    max_dpi: u32,
}

impl PdfDocument {
    pub fn open(path: &Path, limits: &Limits, ocr: &OcrSettings) -> Result<Self, DocumentError> {
        Self::open_mended(path, limits, ocr, None)
    }

    /// [`Self::open`], or of the mended copy of a file whose page tree has holes.
    fn open_mended(
        path: &Path,
        limits: &Limits,
        ocr: &OcrSettings,
        mended: Option<page_tree::Mended>,
    ) -> Result<Self, DocumentError> {
        let child = ChildLimits {
            timeout: Duration::from_secs(limits.render_timeout_secs),
            memory_bytes: limits.render_memory_mb * 1024 * 1024,
        };
        let info = run_tool("pdfinfo", &[path.as_os_str()], child)?;
        let info = String::from_utf8_lossy(&info);
        let pages = field(&info, "Pages")
            .and_then(|v| v.parse::<usize>().ok())
            .ok_or_else(|| {
                DocumentError::Corrupt("the PDF has no readable page tree".to_owned())
            })?;
        if pages == 0 {
            return Err(DocumentError::NoPages);
        }
        if pages > limits.max_pages {
            return Err(DocumentError::TooManyPages {
                pages: Some(pages),
                limit: limits.max_pages,
            });
        }
        let last = pages.to_string();
        let said = run_tool_saying(
            "pdfinfo",
            &[
                "-f".as_ref(),
                "1".as_ref(),
                "-l".as_ref(),
                last.as_ref(),
                path.as_os_str(),
            ],
            child,
        )?;
        let sized = String::from_utf8_lossy(&said.stdout);
        let sizes = page_sizes(&sized, pages);
        let rotations = page_rotations(&sized, pages);
        // One trial parse per opened file, for every use of its objects.
        let parse_safe = guard::trial(path, limits.pdf_trial_parser.as_deref(), child)
            .map_err(|e| tracing::warn!(error = %e, "PDF left to poppler: lopdf will not parse it"))
            .is_ok();
        let left_out = page_tree::pages_left_out(&said.stderr, &sizes);
        if let (None, true, Some(left_out)) = (&mended, parse_safe, left_out) {
            match page_tree::mend(path, pages, left_out) {
                Ok(Some(copy)) => {
                    tracing::info!(lost = ?copy.lost, "the PDF's page tree has holes: read from a copy that keeps every page's number");
                    let at = copy.file.to_path_buf();
                    return Self::open_mended(&at, limits, ocr, Some(copy));
                }
                Ok(None) => {}
                // Read as poppler numbers it, one task's pages would not be
                // another's that could write the copy: try again later.
                Err(page_tree::MendError::Io(e)) => return Err(DocumentError::Io(e)),
                Err(e) => {
                    tracing::warn!(error = %e, "the PDF's damaged page tree could not be mended")
                }
            }
        }
        let (mut lost, mended) = match mended {
            Some(copy) => (copy.lost, Some(copy.file)),
            None => (BTreeSet::new(), None),
        };
        lost.extend(page_tree::unfound(&sizes));
        let listing = run_tool("pdfimages", &["-list".as_ref(), path.as_os_str()], child)?;
        let listing = String::from_utf8_lossy(&listing);
        let drawn = drawn(&listing, &sizes);
        // Only while lopdf sees poppler's pages: a tree they count differently
        // would hand one page's scan to another.
        let scans = parse_safe
            .then(|| ScanPages::load(path))
            .flatten()
            .filter(|s| s.agrees_with(&sizes))
            .map(Box::new);
        Ok(Self {
            path: path.to_owned(),
            sizes,
            rotations,
            image_ppi: image_resolutions(&drawn),
            colour_pages: colour_pages(&listing),
            image_cover: image_cover(&drawn),
            scans,
            limits: child,
            parse_safe,
            lost,
            _mended: mended,
            max_pixels: limits.max_pixels,
            dpi: ocr.dpi,
            min_dpi: ocr.min_dpi,
            max_dpi: ocr.max_dpi,
        })
    }

    pub fn page_count(&self) -> usize {
        self.sizes.len()
    }

    /// The resolution at which page `number` renders about `width` pixels
    /// wide (a preview's) either way up, between 10 and 300 dpi: a poster
    /// needs few, and a page turned by `/Rotate` is as wide as it is tall.
    pub fn dpi_for_width(&self, number: usize, width: u32) -> u32 {
        let (w_pt, h_pt) = self
            .sizes
            .get(number.wrapping_sub(1))
            .copied()
            .unwrap_or((612.0, 792.0));
        let side = w_pt.min(h_pt).max(1.0);
        ((f64::from(width) * 72.0 / side).ceil() as u32).clamp(10, 300)
    }

    /// The size in pixels pdftoppm renders page `number` at `dpi`, as shown
    /// (turned by its `/Rotate`).
    pub fn shown_pixels(&self, number: usize, dpi: u32) -> (u32, u32) {
        let (w_pt, h_pt) = self
            .sizes
            .get(number.wrapping_sub(1))
            .copied()
            .unwrap_or((612.0, 792.0));
        // As pdftoppm works it out.
        let px = |pt: f64| (pt * (f64::from(dpi) / 72.0)).ceil() as u32;
        match self.rotations.get(number.wrapping_sub(1)) {
            Some(90 | 270) => (px(h_pt), px(w_pt)),
            _ => (px(w_pt), px(h_pt)),
        }
    }

    /// The share (0–1) of page `number`'s area that raster images are drawn
    /// over: near 1 for a scan, small for a born-digital page with figures.
    pub fn image_cover(&self, number: usize) -> f64 {
        self.image_cover.get(&number).copied().unwrap_or(0.0)
    }

    /// The file's objects, parsed by lopdf when its trial parse came back.
    pub fn objects(&self) -> Result<lopdf::Document, guard::GuardError> {
        if !self.parse_safe {
            return Err(guard::GuardError::Refused(
                "the trial parse of this file did not come back".to_owned(),
            ));
        }
        Ok(lopdf::Document::load(&self.path)?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The resolution page `number` (1-based) renders at: its scan's own
    /// resolution when it holds one, the configured default otherwise, and
    /// lowered if needed to stay within what OCR reads (and the pixel limit),
    /// down to 50 dpi, or to its scan's own resolution when that is lower.
    pub fn render_dpi(&self, number: usize) -> Result<u32, DocumentError> {
        let wanted = match self.image_ppi.get(&number) {
            Some(&ppi) => ppi.clamp(self.min_dpi, self.max_dpi),
            None => self.dpi,
        };
        let (w_pt, h_pt) = self
            .sizes
            .get(number - 1)
            .copied()
            .unwrap_or((612.0, 792.0));
        let area_in2 = (w_pt / 72.0) * (h_pt / 72.0);
        let budget = self.max_pixels.min(crate::document::MAX_OCR_PIXELS) as f64;
        let fitting = ((budget / area_in2.max(1e-6)).sqrt()).floor() as u32;
        if fitting >= MIN_RENDER_DPI {
            return Ok(wanted.min(fitting));
        }
        // A scan placed on a page far larger than the sheet it was (a tool
        // that took its pixels for points, or for 1 dpi) holds no more detail
        // than its own pixels: rendered at its own resolution it is read whole.
        match self.image_ppi.get(&number) {
            Some(&ppi) if self.image_cover(number) >= SCAN_COVER && ppi <= fitting => {
                Ok(ppi.max(1))
            }
            _ => Err(DocumentError::PageTooLarge {
                width_in: w_pt / 72.0,
                height_in: h_pt / 72.0,
                dpi: MIN_RENDER_DPI,
                limit: budget as u64,
            }),
        }
    }

    /// Renders page `number` at [`Self::render_dpi`]: gray, and also in colour
    /// when the page holds a colour scan (a gray page costs what [`Self::render`] does).
    pub fn render_page(
        &self,
        number: usize,
    ) -> Result<(GrayImage, Option<RgbImage>, u32), DocumentError> {
        if self.lost.contains(&number) {
            return Err(DocumentError::Corrupt(
                "the page is listed in the file, but its page object is damaged or missing: nothing of it could be read".to_owned(),
            ));
        }
        let dpi = self.render_dpi(number)?;
        let budget = self.max_pixels.min(crate::document::MAX_OCR_PIXELS);
        match self
            .scans
            .as_ref()
            .and_then(|s| s.page(number, dpi, budget))
        {
            Some(ScanPixels::Gray(gray)) => return Ok((gray, None, dpi)),
            Some(ScanPixels::Rgb(colour)) => {
                let gray = image::imageops::grayscale(&colour);
                return Ok((gray, Some(colour), dpi));
            }
            None => {}
        }
        let colour = self.colour_pages.contains(&number);
        let (rendered, said) = self.pdftoppm(number, dpi, !colour)?;
        // A scan whose image data is damaged is drawn as empty paper, with
        // a warning: that is not a blank page, and must not read as one.
        if image_damage(&said)
            && self.image_cover(number) >= SCAN_COVER
            && is_empty_paper(&rendered)
        {
            tracing::info!(page = number, poppler = %said.trim(), "a scan's image could not be drawn");
            return Err(DocumentError::Corrupt(
                "the page's scanned image is damaged: nothing of it could be drawn".to_owned(),
            ));
        }
        if !colour {
            return Ok((rendered.into_luma8(), None, dpi));
        }
        let colour = rendered.into_rgb8();
        let gray = image::imageops::grayscale(&colour);
        Ok((gray, Some(colour), dpi))
    }

    /// Renders page `number` in colour at a given resolution (for previews).
    pub fn render_colour(&self, number: usize, dpi: u32) -> Result<RgbImage, DocumentError> {
        Ok(self.pdftoppm(number, dpi, false)?.0.into_rgb8())
    }

    /// Renders page `number` in gray at a given resolution.
    pub fn render_at(&self, number: usize, dpi: u32) -> Result<(GrayImage, u32), DocumentError> {
        Ok((self.pdftoppm(number, dpi, true)?.0.into_luma8(), dpi))
    }

    /// The page rendered, and what poppler said while drawing it.
    fn pdftoppm(
        &self,
        number: usize,
        dpi: u32,
        gray: bool,
    ) -> Result<(image::DynamicImage, String), DocumentError> {
        let dir = tempfile::tempdir().map_err(DocumentError::Io)?;
        let root = dir.path().join("page");
        let n = number.to_string();
        let r = dpi.to_string();
        let mut args: Vec<&OsStr> = vec![
            "-f".as_ref(),
            n.as_ref(),
            "-l".as_ref(),
            n.as_ref(),
            "-r".as_ref(),
            r.as_ref(),
            // What viewers show, and the box the text layer is placed on.
            "-cropbox".as_ref(),
            "-singlefile".as_ref(),
        ];
        if gray {
            args.push("-gray".as_ref());
        }
        args.extend([self.path.as_os_str(), root.as_os_str()]);
        let said = run_tool_saying("pdftoppm", &args, self.limits)?.stderr;
        let rendered = root.with_extension(if gray { "pgm" } else { "ppm" });
        let image = image::open(&rendered)
            .map_err(|e| DocumentError::Corrupt(format!("page {number} did not render ({e})")))?;
        Ok((image, said))
    }

    /// The page's own text, when it has a letter or digit.
    pub fn text_layer(&self, number: usize) -> Result<Option<OwnText>, DocumentError> {
        // Not `-layout`: that keeps columns side by side, so a line of the
        // text reads across both; the default follows the reading order.
        let text = page_text(&self.pdftotext(number, &[])?);
        let letters = letters(&text);
        if letters == 0 {
            return Ok(None);
        }
        // An earlier OCR's invisible layer is drawn line by line in the order
        // its engine read the scan; poppler's own ordering, made for typeset
        // text, breaks a skewed scan's lines into pieces and mixes them.
        if self.image_cover(number) > 0.0
            && let Some(visible_letters) = self.visible_letters(number)
            && visible_letters * 2 < letters
        {
            let text = page_text(&self.pdftotext(number, &["-raw"])?);
            return Ok(Some(OwnText {
                text,
                invisible: true,
                visible_letters,
            }));
        }
        Ok(Some(OwnText {
            text,
            invisible: false,
            visible_letters: letters,
        }))
    }

    /// The words of page `number`'s own text `own`, where they stand on it.
    pub fn word_boxes(&self, number: usize, own: &OwnText) -> Result<PageWords, DocumentError> {
        // The crop box is what pdftoppm renders (see `pdftoppm`).
        let mut options = vec!["-bbox", "-cropbox"];
        if own.invisible {
            options.push("-raw");
        }
        let out = self.pdftotext(number, &options)?;
        Ok(PageWords::parse(&String::from_utf8_lossy(&out)).matched(&own.text))
    }

    /// How many of page `number`'s letters and digits are drawn visibly: the
    /// rest are in an invisible render mode, as OCR layers are, which
    /// pdftohtml leaves out. `None` when that cannot be told.
    fn visible_letters(&self, number: usize) -> Option<usize> {
        let n = number.to_string();
        // `-nodrm`: pdftohtml alone refuses a file that forbids copying its
        // text, which pdftotext reads regardless.
        let mut args: Vec<&OsStr> = ["-xml", "-i", "-q", "-nodrm", "-stdout", "-f", &n, "-l", &n]
            .map(OsStr::new)
            .to_vec();
        args.push(self.path.as_os_str());
        match run_tool("pdftohtml", &args, self.limits) {
            Ok(xml) => Some(visible_letters(&String::from_utf8_lossy(&xml))),
            Err(e) => {
                tracing::info!(page = number, error = %e, "could not tell whether the page's text is visible");
                None
            }
        }
    }

    /// `pdftotext` of page `number` with `options`, to standard output.
    fn pdftotext(&self, number: usize, options: &[&str]) -> Result<Vec<u8>, DocumentError> {
        let n = number.to_string();
        let mut args: Vec<&OsStr> = vec!["-f".as_ref(), n.as_ref(), "-l".as_ref(), n.as_ref()];
        args.extend(options.iter().map(OsStr::new));
        args.extend([self.path.as_os_str(), "-".as_ref()]);
        run_tool("pdftotext", &args, self.limits)
    }
}

fn run_tool(program: &str, args: &[&OsStr], limits: ChildLimits) -> Result<Vec<u8>, DocumentError> {
    run_tool_saying(program, args, limits).map(|out| out.stdout)
}

/// [`run_tool`], with what the tool said on its way to success.
fn run_tool_saying(
    program: &str,
    args: &[&OsStr],
    limits: ChildLimits,
) -> Result<subprocess::Output, DocumentError> {
    match subprocess::run(program, args, limits) {
        Ok(out) => Ok(out),
        Err(SubprocessError::Failed { stderr, .. }) if stderr.contains("Incorrect password") => {
            Err(DocumentError::Encrypted)
        }
        // pdfinfo's only word for an empty page tree.
        Err(SubprocessError::Failed { stderr, .. })
            if stderr.contains("after the last page (0)") =>
        {
            Err(DocumentError::NoPages)
        }
        Err(SubprocessError::Failed { program, stderr }) => {
            // The tool's words are for the log; the person gets a sentence.
            tracing::info!(%program, %stderr, "poppler refused a PDF");
            Err(DocumentError::Corrupt(damage(&stderr)))
        }
        Err(SubprocessError::Timeout { secs, .. }) => Err(DocumentError::RenderTimeout { secs }),
        Err(SubprocessError::Missing(tool)) => Err(DocumentError::ToolMissing(tool)),
        Err(SubprocessError::Io { source, .. }) => Err(DocumentError::Io(source)),
    }
}

/// A page whose images cover this share of it may hold a scan.
pub const SCAN_COVER: f64 = 0.3;

/// Whether poppler's warnings are about decoding an image's data (a JPEG,
/// JBIG2, CCITT fax or Flate stream), not the file-wide complaints many
/// scanners' PDFs draw on every page (hint tables, a rebuilt xref).
fn image_damage(said: &str) -> bool {
    const IMAGE_WORDS: [&str; 10] = [
        "jpeg",
        "dct",
        "jbig2",
        "ccitt",
        "flate",
        "jpx",
        "huffman",
        "bad 2d code",
        "bad white code",
        "bad black code",
    ];
    said.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        IMAGE_WORDS.iter().any(|w| line.contains(w))
    })
}

/// Whether a render is paper and nothing else: not one pixel of ink, not
/// even the specks and edge shadows a scan of a blank sheet has.
fn is_empty_paper(image: &image::DynamicImage) -> bool {
    const INK: u8 = 250;
    let paper = |samples: &[u8]| samples.iter().all(|&v| v >= INK);
    match image {
        image::DynamicImage::ImageLuma8(gray) => paper(gray.as_raw()),
        image::DynamicImage::ImageRgb8(colour) => paper(colour.as_raw()),
        other => paper(other.to_rgb8().as_raw()),
    }
}

/// What is wrong with a PDF poppler could not read, in words.
fn damage(stderr: &str) -> String {
    let s = stderr.to_ascii_lowercase();
    let what = if s.contains("xref") || s.contains("trailer") {
        "its table of contents (the cross-reference table) is broken, often because the file was cut short"
    } else if s.contains("may not be a pdf") || s.contains("no pdf header") {
        "it does not have the structure of a PDF"
    } else if s.contains("font") {
        "a font inside it is broken"
    } else if s.contains("image") || s.contains("stream") {
        "an image or data stream inside it is broken"
    } else {
        "its structure is broken"
    };
    format!("the PDF is damaged and cannot be read: {what}")
}

/// A PDF page's own text.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnText {
    pub text: String,
    /// Most of it is drawn invisibly, as an earlier OCR's layer is; it is
    /// then taken in the order it is drawn (`pdftotext -raw`), not poppler's
    /// reading order (see [`PdfDocument::text_layer`]).
    pub invisible: bool,
    /// Its letters and digits drawn visibly (all of them, unless `invisible`).
    pub visible_letters: usize,
}

/// One page of `pdftotext` output, without its form feed and trailing blank lines.
fn page_text(out: &[u8]) -> String {
    let text = String::from_utf8_lossy(out).replace('\u{c}', "");
    text.trim_end().to_owned()
}

/// How many letters and digits `text` holds.
pub fn letters(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphanumeric()).count()
}

/// The letters and digits of the page text in `pdftohtml -xml` output: inside
/// its `<text>` elements (not the document's bookmarks, which it gives with
/// every page), outside their markup and character references.
fn visible_letters(xml: &str) -> usize {
    xml.split("<text ")
        .skip(1)
        .map(|element| {
            let inner = element.split_once('>').map_or("", |(_, rest)| rest);
            let inner = inner.split("</text>").next().unwrap_or("");
            let (mut count, mut in_tag, mut in_reference) = (0, false, false);
            for c in inner.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    '&' if !in_tag => in_reference = true,
                    ';' => in_reference = false,
                    c if !in_tag && !in_reference && c.is_alphanumeric() => count += 1,
                    _ => {}
                }
            }
            count
        })
        .sum()
}

fn field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// Parses `Page    3 size: 595.276 x 841.89 pts (A4)` lines.
fn page_sizes(info: &str, pages: usize) -> Vec<(f64, f64)> {
    let mut sizes = vec![(612.0, 792.0); pages];
    for (num, dims) in per_page(info, "size") {
        let mut parts = dims.split_whitespace();
        let w = parts.next().and_then(|v| v.parse::<f64>().ok());
        let h = parts.nth(1).and_then(|v| v.parse::<f64>().ok());
        if let (Some(w), Some(h), Some(slot)) =
            (w, h, num.checked_sub(1).and_then(|i| sizes.get_mut(i)))
        {
            *slot = (w, h);
        }
    }
    sizes
}

/// Parses `Page    3 rot:  90` lines: how each page is turned by `/Rotate`.
fn page_rotations(info: &str, pages: usize) -> Vec<u16> {
    let mut turns = vec![0; pages];
    for (num, rot) in per_page(info, "rot") {
        if let (Ok(rot), Some(slot)) = (
            rot.trim().parse::<i64>(),
            num.checked_sub(1).and_then(|i| turns.get_mut(i)),
        ) {
            *slot = rot.rem_euclid(360) as u16;
        }
    }
    turns
}

/// The page numbers and values of pdfinfo's `Page  N name: value` lines.
fn per_page<'a>(info: &'a str, name: &'a str) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    info.lines().filter_map(move |line| {
        let (num, value) = line.strip_prefix("Page")?.split_once(':')?;
        let num = num.strip_suffix(name)?.trim().parse().ok()?;
        Some((num, value))
    })
}

/// The columns of each image row of `pdfimages -list` (masks and stencils left
/// out): page num type width height color comp bpc enc interp object ID x-ppi
/// y-ppi size ratio.
fn image_rows(listing: &str) -> impl Iterator<Item = Vec<&str>> {
    listing
        .lines()
        .skip(2)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols.len() >= 14 && cols[2] == "image")
}

/// One image drawn on a page, as `pdfimages -list` describes it.
struct Drawn {
    page: usize,
    stencil: bool,
    x_ppi: f64,
    /// The share of the page it is drawn over.
    share: f64,
}

/// The images and stencils (image masks: a 1-bit scan or the text layer of a
/// layered scan may be drawn as one, in black) of `pdfimages -list`. An
/// image's drawn size is its pixels over its ppi (which poppler derives from
/// the drawn size).
fn drawn(listing: &str, sizes: &[(f64, f64)]) -> Vec<Drawn> {
    listing
        .lines()
        .skip(2)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|cols| cols.len() >= 14 && matches!(cols[2], "image" | "stencil"))
        .filter_map(|cols| {
            // Counted from the end: an inline image's object ID is one column, not two.
            let n = cols.len();
            let (Ok(page), Ok(w), Ok(h), Ok(x_ppi), Ok(y_ppi)) = (
                cols[0].parse::<usize>(),
                cols[3].parse::<f64>(),
                cols[4].parse::<f64>(),
                cols[n - 4].parse::<f64>(),
                cols[n - 3].parse::<f64>(),
            ) else {
                return None;
            };
            let &(w_pt, h_pt) = sizes.get(page.wrapping_sub(1))?;
            if x_ppi <= 0.0 || y_ppi <= 0.0 || w_pt <= 0.0 || h_pt <= 0.0 {
                return None;
            }
            Some(Drawn {
                page,
                stencil: cols[2] == "stencil",
                x_ppi,
                share: (w / x_ppi) * (h / y_ppi) / ((w_pt / 72.0) * (h_pt / 72.0)),
            })
        })
        .collect()
}

/// The highest resolution of what each page shows: any image, and a stencil
/// drawn over at least a quarter of the page. A layered scan (mixed raster
/// content) is a coarse colour background under a sharp 1-bit text stencil,
/// and must be read at the stencil's resolution; a small stencil (a
/// signature, a tick) says nothing of the page.
fn image_resolutions(drawn: &[Drawn]) -> HashMap<usize, u32> {
    let mut ppi = HashMap::new();
    for d in drawn.iter().filter(|d| !d.stencil || d.share >= 0.25) {
        let slot = ppi.entry(d.page).or_insert(0);
        *slot = (*slot).max(d.x_ppi.round() as u32);
    }
    ppi
}

/// The share of each page its images are drawn over; overlaps count twice, so
/// the share is capped at 1.
fn image_cover(drawn: &[Drawn]) -> HashMap<usize, f64> {
    let mut cover = HashMap::new();
    for d in drawn {
        let share = cover.entry(d.page).or_insert(0.0);
        *share = f64::min(1.0, *share + d.share);
    }
    cover
}

/// Parses `pdfimages -list`: the pages with an image of three or more colour
/// components, or a palette (which may hold colour).
fn colour_pages(listing: &str) -> HashSet<usize> {
    image_rows(listing)
        .filter(|cols| cols[6].parse::<u32>().unwrap_or(1) >= 3 || cols[5] == "index")
        .filter_map(|cols| cols[0].parse::<usize>().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_warnings_about_image_data_count_as_a_damaged_scan() {
        assert!(image_damage(
            "Syntax Error (478): Unknown compression method in flate stream"
        ));
        assert!(image_damage(
            "Corrupt JPEG data: 81 extraneous bytes before marker 0xf5"
        ));
        assert!(!image_damage(
            "Syntax Error: Invalid least number of objects reading page offset hints table"
        ));
        assert!(!image_damage(
            "Syntax Error: Couldn't find trailer dictionary"
        ));
        assert!(!image_damage(""));
    }

    #[test]
    fn damage_is_described_in_words_not_poppler_output() {
        let msg = damage("Syntax Error: Couldn't read xref table\n");
        assert!(msg.contains("cross-reference table"), "{msg}");
        assert!(!msg.contains("Syntax Error"));
    }

    #[test]
    fn visible_letters_are_counted_in_text_not_markup() {
        let xml = r##"<?xml version="1.0" encoding="UTF-8"?>
<pdf2xml producer="poppler" version="22.12.0">
<page number="1" position="absolute" top="0" left="0" height="1188" width="918">
	<fontspec id="0" size="14" family="Times" color="#000000"/>
<text top="82" left="82" width="356" height="14" font="0"><b>Fish</b> &amp; chips &#34;2&#34;</text>
</page>
<outline>
<item page="1">Chapter One</item>
</outline>
</pdf2xml>"##;
        assert_eq!(visible_letters(xml), "Fishchips2".len());
        assert_eq!(visible_letters(""), 0);
    }

    #[test]
    fn reads_page_sizes_and_image_resolutions() {
        let info = "Pages:           2\nPage    1 size: 595.276 x 841.89 pts (A4)\nPage    2 size: 612 x 792 pts (letter)\n";
        assert_eq!(field(info, "Pages"), Some("2"));
        assert_eq!(page_sizes(info, 2), vec![(595.276, 841.89), (612.0, 792.0)]);
        let turned = "Page    1 size: 612 x 792 pts (letter)\nPage    1 rot:   0\nPage    2 size: 612 x 792 pts (letter)\nPage    2 rot:   -90\n";
        assert_eq!(page_rotations(turned, 2), vec![0, 270]);
        let listing = "page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio\n\
--------------------------------------------------------------------------------------------\n\
   1     0 image    1654  2339  gray    1   8  image  no         8  0   200   200  120K 3.2%\n\
   2     1 smask    1654  2339  gray    1   8  image  no         9  0   600   600  120K 3.2%\n";
        let shown = drawn(listing, &page_sizes(info, 2));
        let ppi = image_resolutions(&shown);
        assert_eq!(ppi.get(&1), Some(&200));
        assert_eq!(ppi.get(&2), None);
        assert!(colour_pages(listing).is_empty());
        // 1654 × 2339 px at 200 ppi is 8.27 × 11.7 in: all of an A4 page, none of page 2
        // (a soft mask is not drawn).
        let cover = image_cover(&shown);
        assert!((cover[&1] - 1.0).abs() < 0.01, "{cover:?}");
        assert_eq!(cover.get(&2), None);
        let half = "page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio\n\
--------------------------------------------------------------------------------------------\n\
   1     0 stencil  1700  1100  -       1   1  image  no         8  0   200   200  120K 3.2%\n";
        let cover = image_cover(&drawn(half, &[(612.0, 792.0)]));
        assert!((cover[&1] - 0.5).abs() < 0.01, "{cover:?}");
    }

    #[test]
    fn a_layered_scan_is_read_at_its_text_stencils_resolution_not_a_small_ones() {
        // A 100-ppi colour background under a 300-ppi text stencil, as
        // layered (MRC) scans are made; page 2 has a 600-ppi signature stencil.
        let listing = "page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio\n\
--------------------------------------------------------------------------------------------\n\
   1     0 image     827  1169  rgb     3   8  jpeg   no         7  0   100   100 16.1K 0.6%\n\
   1     1 stencil  2481  3507  -       1   1  ccitt  no         8  0   300   300 16.4K 1.5%\n\
   2     2 image    1654  2339  gray    1   8  jpeg   no         9  0   200   200  120K 3.2%\n\
   2     3 stencil   600   200  -       1   1  ccitt  no        10  0   600   600    2K 1.5%\n";
        let a4 = (595.276, 841.89);
        let ppi = image_resolutions(&drawn(listing, &[a4, a4]));
        assert_eq!(ppi.get(&1), Some(&300));
        assert_eq!(ppi.get(&2), Some(&200));
    }

    #[test]
    fn colour_pages_are_those_with_a_colour_or_palette_image() {
        let listing = "page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio\n\
--------------------------------------------------------------------------------------------\n\
   1     0 image    1654  2339  rgb     3   8  jpeg   no         8  0   200   200  120K 3.2%\n\
   2     1 image    1654  2339  icc     1   8  image  no         9  0   200   200  120K 3.2%\n\
   3     2 image    1654  2339  icc     3   8  jpx    no        10  0   200   200  120K 3.2%\n\
   4     3 image     100   100  index   1   8  image  no        11  0    72    72    1K 3.2%\n\
   5     4 image    1654  2339  cmyk    4   8  jpeg   no        12  0   200   200  120K 3.2%\n\
   6     5 smask    1654  2339  rgb     3   8  image  no        13  0   200   200  120K 3.2%\n";
        let pages = colour_pages(listing);
        let mut pages: Vec<usize> = pages.into_iter().collect();
        pages.sort_unstable();
        assert_eq!(pages, [1, 3, 4, 5]);
    }
}
