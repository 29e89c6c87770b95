//! One page, start to finish, on an OCR thread: render or decode, preprocess,
//! recognise, and make the per-page outputs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use scribe_core::density;
use scribe_core::document::DocumentError;
use scribe_core::pdf::{OwnText, PageWords, PdfDocument, letters};
use scribe_core::preprocess::{Applied, Binarize, Layout, Prepared, has_highlights, is_faint};
use scribe_core::results::{PageResult, PageSource, PageTimings, Word};

use super::coverage;
use super::engine::{Engine, Recognized};
use super::layer_audit::{self, Verdict};
use super::own_spelling;
use super::preview::{self, PreviewError};
use super::run::DocumentRun;
use super::tesseract::TesseractError;
use super::text_layer::{self, Frame};

/// Everything one page produced.
pub struct PageArtifacts {
    pub result: PageResult,
    pub hocr: Option<String>,
    pub preview_png: Option<Vec<u8>>,
    /// The page's text layer (see `text_layer`), inside the run's work directory.
    pub pdf_page: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error("OCR failed: {0}")]
    Engine(#[from] TesseractError),
    #[error("an output could not be written: {0}")]
    Output(String),
    #[error("cancelled")]
    Cancelled,
    #[error("the worker is stopping")]
    Stopped,
}

impl From<PreviewError> for PageError {
    fn from(e: PreviewError) -> Self {
        Self::Output(e.to_string())
    }
}

impl PageError {
    /// A stable machine-readable code, as a whole file's failure has.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Document(e) => e.code(),
            Self::Engine(_) => "ocr_failed",
            Self::Output(_) => "output_failed",
            Self::Cancelled => "cancelled",
            Self::Stopped => "stopped",
        }
    }

    /// A failure that every page of the document would meet too (a render
    /// that outlasts its time, a password): the document stops at the first,
    /// rather than trying each page in turn.
    pub fn ends_document(&self) -> bool {
        matches!(
            self,
            Self::Document(DocumentError::RenderTimeout { .. } | DocumentError::Encrypted)
        )
    }

    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Document(e) => e.is_permanent(),
            Self::Engine(TesseractError::Init { .. }) => false,
            Self::Engine(_) => true,
            Self::Output(_) | Self::Cancelled | Self::Stopped => false,
        }
    }
}

/// A layer whose words leave at most this share of a scan's ink bare covers
/// it (rules, logos and specks have no words): a sample of the page, not all
/// of it, is read to check it (see `layer_audit`).
const UNCOVERED_INK: f64 = 0.05;
/// Visible text this long is a born-digital page's, whose figures' ink has no
/// words: it is not checked, lest a chart's labels read by OCR replace it.
const FULL_LAYER_LETTERS: usize = 2000;
/// A layer with fewer is a few stray glyphs (a page number, a stamp), not one
/// to read the page from.
const MIN_LAYER_LETTERS: usize = 20;
/// A reading that finds this many letters, in words read with at least
/// [`NEW_WORD_CONFIDENCE`], where the page has no text of its own holds text
/// the layer lacks.
const NEW_LETTERS: usize = 20;
const NEW_WORD_CONFIDENCE: f32 = 60.0;
/// Words at least this confident count toward the size of a page's type.
const SIZED_WORD_CONFIDENCE: f32 = 50.0;

/// A reading that replaces a misreading layer is this confident on the
/// whole: an English reading of a Fraktur page came to 67, the Fraktur
/// model's to 86, a clean scan's to 90 and more.
const READS_WELL: f32 = 70.0;

pub fn process(
    engine: &mut Engine,
    run: &DocumentRun,
    number: usize,
) -> Result<PageArtifacts, PageError> {
    let started = Instant::now();
    let Some((pdf, own_text)) = text_layer(run, number)? else {
        return recognize(engine, run, number, Earlier::default());
    };
    // An earlier OCR's text, drawn invisibly, gives way to a new reading of
    // the page in the searchable PDF. Beside visible text (a line or more)
    // it stays, as the visible text does, lest the new layer repeat that.
    let replaced = own_text.invisible && own_text.visible_letters < MIN_LAYER_LETTERS;
    let own_letters = letters(&own_text.text);
    if own_letters < MIN_LAYER_LETTERS {
        // Its words matter only to the searchable PDF's layer.
        let own = run
            .formats
            .pdf
            .then(|| own_words(pdf, number, &own_text))
            .flatten();
        let earlier = Earlier {
            words: own.as_ref(),
            replaced,
        };
        return recognize(engine, run, number, earlier);
    }
    let own = own_words(pdf, number, &own_text);
    // A scan's text layer is checked against a reading of the page, unless
    // it covers the ink.
    let scanned = pdf.image_cover(number) >= scribe_core::pdf::SCAN_COVER;
    let typeset = !own_text.invisible && own_letters >= FULL_LAYER_LETTERS;
    let kept = !scanned || typeset || covers_the_ink(pdf, number, own.as_ref());
    let text = own_text.text;
    if kept && own_text.invisible && scanned && misreads(engine, run, number, &text)? {
        // A page the engine reads poorly too (a good layer, but the wrong
        // language chosen) keeps its layer, as does one it cannot read.
        match recognize(engine, run, number, Earlier::MISREAD) {
            Ok(read) if reads_well(&read.result) => {
                tracing::debug!(
                    page = number,
                    "the page's earlier OCR misreads it: replaced"
                );
                return Ok(read);
            }
            Ok(_) => tracing::debug!(
                page = number,
                "the page reads no better than its earlier OCR: kept"
            ),
            Err(e @ (PageError::Cancelled | PageError::Stopped)) => return Err(e),
            Err(e) => {
                tracing::info!(page = number, error = %e, "the page's scan could not be read; its text layer kept");
            }
        }
    }
    // What reading and auditing the layer took; a full reading of the scan,
    // if tried, is not its cost.
    let extracted = started.elapsed();
    if kept {
        return from_text_layer(run, pdf, number, (text, own), extracted);
    }
    // A scan with only a stamp, a fax header or a typed part as text, a memo
    // with a scan pasted in, or a scan an earlier OCR read only in part holds
    // text in its image that its own text lacks. The page is readable from
    // its layer whatever the engine makes of it, so a failed reading keeps
    // the layer.
    let earlier = Earlier {
        words: own.as_ref(),
        replaced,
    };
    match recognize(engine, run, number, earlier) {
        Ok(read) if finds_more(&read.result, &text, own.as_ref()) => {
            tracing::debug!(
                page = number,
                "the text layer holds less than the page's scan: OCR kept"
            );
            Ok(read)
        }
        Ok(_) => from_text_layer(run, pdf, number, (text, own), extracted),
        Err(e @ (PageError::Cancelled | PageError::Stopped)) => Err(e),
        Err(e) => {
            tracing::info!(page = number, error = %e, "the page's scan could not be read; its text layer kept");
            from_text_layer(run, pdf, number, (text, own), extracted)
        }
    }
}

/// The text a PDF page already has, as a reading of the page treats it.
#[derive(Clone, Copy, Default)]
struct Earlier<'a> {
    /// Its words: the words read over them take their spelling (see
    /// `own_spelling`), and, unless they are replaced, the new layer leaves
    /// them out.
    words: Option<&'a PageWords>,
    /// Invisible text, an earlier OCR's, that the new reading takes the place
    /// of, in the searchable PDF too.
    replaced: bool,
}

impl Earlier<'_> {
    /// An earlier OCR that misreads the page: nothing of it is kept.
    const MISREAD: Self = Self {
        words: None,
        replaced: true,
    };
}

/// Whether a reading is good in itself: confident on the whole.
fn reads_well(read: &PageResult) -> bool {
    read.words.len() >= 3 && read.mean_confidence.is_some_and(|c| c >= READS_WELL)
}

/// Whether an earlier OCR's `layer`, which stands over the scan's ink, is
/// not a reading of it (see `layer_audit`); not when that cannot be told.
fn misreads(
    engine: &mut Engine,
    run: &DocumentRun,
    number: usize,
    layer: &str,
) -> Result<bool, PageError> {
    match layer_audit::audit(engine, run, number, layer) {
        Ok(verdict) => Ok(verdict == Verdict::Misreads),
        Err(e @ (PageError::Cancelled | PageError::Stopped)) => Err(e),
        Err(e) => {
            tracing::info!(page = number, error = %e, "the page's earlier OCR could not be audited; kept");
            Ok(false)
        }
    }
}

/// Whether the page's own words `own` stand over all but a little of the
/// ink on it (see `coverage`); not when that cannot be told.
fn covers_the_ink(pdf: &PdfDocument, number: usize, own: Option<&PageWords>) -> bool {
    let Some(own) = own else {
        return false;
    };
    match pdf.render_at(number, coverage::DPI) {
        Ok((page, _)) => {
            let bare = coverage::uncovered_ink(&page, &own.in_pixels(page.dimensions()));
            tracing::debug!(page = number, bare, "ink the page's own text leaves bare");
            bare <= UNCOVERED_INK
        }
        Err(e) => {
            tracing::info!(page = number, error = %e, "the page could not be looked at for ink its text leaves bare");
            false
        }
    }
}

/// Where page `number`'s own words stand; `None` if they cannot be placed,
/// and then its text layer is kept whole: words found twice are better than
/// a page not read.
fn own_words(pdf: &PdfDocument, number: usize, text: &OwnText) -> Option<PageWords> {
    pdf.word_boxes(number, text)
        .inspect_err(|e| {
            tracing::info!(page = number, error = %e, "the page's own words could not be placed");
        })
        .ok()
}

/// Whether `read` found text the page's own text `layer` (its words `own`)
/// lacks: words where the page has none of its own (a pasted scan is a small
/// part of a memo's letters), or clearly more of it (see [`holds_more`]).
fn finds_more(read: &PageResult, layer: &str, own: Option<&PageWords>) -> bool {
    if holds_more(&read.text, layer) {
        return true;
    }
    let Some(own) = own.map(|o| o.in_pixels((read.width, read.height))) else {
        return false;
    };
    let new: usize = read
        .words
        .iter()
        .filter(|w| w.confidence >= NEW_WORD_CONFIDENCE)
        .filter(|w| !text_layer::on_own_text(&w.bbox, &own))
        .map(|w| letters(&w.text))
        .sum();
    new >= NEW_LETTERS
}

/// Whether `read` has clearly more to it than `layer`: half as much again and
/// a hundred letters more, so an OCR layer that OCR merely repeats is kept.
fn holds_more(read: &str, layer: &str) -> bool {
    let (read, layer) = (letters(read), letters(layer));
    read > layer + layer / 2 + 100
}

/// Reads page `number`, which may have text of its own (`earlier`).
fn recognize(
    engine: &mut Engine,
    run: &DocumentRun,
    number: usize,
    earlier: Earlier<'_>,
) -> Result<PageArtifacts, PageError> {
    let started = Instant::now();
    let page = run.document.load_page(number)?;
    let render_ms = started.elapsed().as_millis() as u64;
    // Kept for the preview: preprocessing drops it from cleaned copies.
    let colour = if run.formats.preview {
        page.colour.clone()
    } else {
        None
    };

    let preprocess = &run.settings.preprocess;
    let prepared = preprocess.apply(page);

    let pdf_base = run
        .formats
        .pdf
        .then(|| run.workdir.join(format!("page-{number:05}-tesseract")));
    let recognized = read(engine, &prepared, run.formats.hocr, pdf_base.as_deref())?;
    let below = preprocess.orientation_check_below;
    let second = Rereading {
        hocr: run.formats.hocr,
        pdf_base: pdf_base.as_deref(),
    };
    let sideways = looks_sideways(&recognized.words);
    let mut current = (prepared, recognized);
    if preprocess.orientation && (sideways || reads_badly(&current.1, below)) {
        let started = Instant::now();
        let turn = engine
            .detect_orientation(current.0.display(), current.0.dpi)
            .filter(|&(rotation, confidence)| {
                rotation != 0 && confidence >= preprocess.orientation_min_confidence
            });
        current.0.millis += started.elapsed().as_millis() as u64;
        if let Some((rotation, _)) = turn {
            let turned = preprocess.reorient(current.0.clone(), rotation);
            // A sideways page often reads well as vertical text; turned upright it
            // reads as well or nearly, and then its boxes and PDF page are upright too.
            let bar = if sideways { 0.9 } else { 1.0 };
            if second.try_instead(engine, "turned", turned, &mut current, |again, first| {
                score(again) > score(first) * bar
            })? {
                tracing::debug!(page = number, rotation, "page turned upright");
            }
        }
    }

    // A highlighter's band is dark in one colour channel, and the engine,
    // which thresholds each channel of a colour page, takes a marked line for
    // a picture and drops it, confidently. Such a page is read in gray too.
    if current.0.colour.as_deref().is_some_and(has_highlights) {
        let gray = current.0.in_gray();
        if second.try_instead(engine, "gray", gray, &mut current, |again, first| {
            score(again) > score(first)
        })? {
            tracing::debug!(page = number, "highlighted page read in gray");
        }
    }

    // A pale photocopy can come back all but empty: the engine's one global
    // threshold finds no ink. A threshold per neighbourhood does; that reading
    // is kept when it is good in itself (specks of a blank sheet's
    // show-through, made ink by the threshold, would beat an empty page) and
    // the more convincing.
    if preprocess.binarize == Binarize::None
        && reads_badly(&current.1, below)
        && is_faint(&current.0.ocr)
    {
        let cleaned = current.0.binarized(Binarize::Adaptive);
        if second.try_instead(
            engine,
            "binarized",
            cleaned,
            &mut current,
            |again, first| !reads_badly(again, below) && score(again) > score(first),
        )? {
            tracing::debug!(page = number, "faint page read in black and white");
        }
    }
    // The resolution a file states can be wrong — a scan placed on a PDF page
    // far smaller than its sheet — and the engine, told glyphs are far
    // smaller than they are, takes them for specks and misreads them, often
    // confidently. The words it found tell their size; a page they belie is
    // read again at theirs. (Told too low, it reads as well: a large-print
    // page pays nothing.) Specks read as words are not counted.
    if let Some(told) = current.0.dpi
        && let Some(judged) = density::estimate_from_word_heights(
            current
                .1
                .words
                .iter()
                .filter(|w| w.confidence >= SIZED_WORD_CONFIDENCE)
                .map(|w| w.bbox.height)
                .collect(),
        )
        && judged * 2 < told
    {
        let mut retold = current.0.clone();
        retold.dpi = Some(judged);
        if second.try_instead(engine, "retold", retold, &mut current, |again, first| {
            score(again) > score(first)
        })? {
            tracing::debug!(
                page = number,
                told,
                judged,
                "page read at the resolution its words show"
            );
        }
    }
    let (prepared, mut recognized) = current;

    let output_started = Instant::now();
    let width = run.settings.ocr.preview_width;
    let preview_png = match (run.formats.preview, &colour) {
        (false, _) => None,
        (true, Some(colour)) => Some(preview::colour(colour, prepared.applied.rotation, width)?),
        (true, None) => Some(preview::gray(prepared.display(), width)?),
    };
    let original = prepared.original;
    for word in &mut recognized.words {
        word.bbox = prepared
            .to_original
            .map_box(word.bbox, original.width, original.height);
    }
    let mut text = recognized.text.trim_end().to_owned();
    let mut respelt = Vec::new();
    if let Some(own) = earlier.words {
        let own = own.words((original.width, original.height));
        (text, respelt) = own_spelling::respell(&text, &mut recognized.words, &own);
        if !respelt.is_empty() {
            tracing::debug!(
                page = number,
                changed = respelt.len(),
                "words read on the page's own text spelt as it is"
            );
        }
    }
    let (dpi, dpi_estimated) = match original.dpi {
        Some(d) => (Some(d), false),
        None => (
            density::estimate_for_page(
                original.width,
                original.height,
                // In the file's own frame a page turned upright, or read as
                // vertical lines, has its words on end: their thickness is
                // the lesser side.
                recognized
                    .words
                    .iter()
                    .map(|w| w.bbox.height.min(w.bbox.width))
                    .collect(),
            ),
            true,
        ),
    };
    let hocr = recognized.hocr.take().map(|fragment| {
        let placed = scribe_core::hocr::to_original(
            &fragment,
            prepared.to_original,
            (original.width, original.height),
            dpi,
        );
        own_spelling::respell_hocr(&scribe_core::hocr::numbered(&placed, number), &respelt)
    });
    let pdf_page = match &pdf_base {
        Some(base) => {
            let layer = run.workdir.join(format!("page-{number:05}.pdf"));
            let frame = Frame {
                ocr_size: prepared.ocr.dimensions(),
                to_original: prepared.to_original,
                original_size: (original.width, original.height),
            };
            text_layer::normalize(&base.with_extension("pdf"), frame, &layer)
                .map_err(|e| PageError::Output(e.to_string()))?;
            if let Some(own) = earlier.words.filter(|_| !earlier.replaced) {
                let own = own.in_pixels((original.width, original.height));
                let left_out = text_layer::leave_out(&layer, &own)
                    .map_err(|e| PageError::Output(e.to_string()))?;
                tracing::debug!(
                    page = number,
                    left_out,
                    "words on the page's own text left out of its layer"
                );
            }
            Some(layer)
        }
        None => None,
    };
    let output_ms = output_started.elapsed().as_millis() as u64;
    let applied = prepared.applied.clone();
    Ok(PageArtifacts {
        result: PageResult {
            number,
            width: original.width,
            height: original.height,
            dpi,
            dpi_estimated: dpi_estimated && dpi.is_some(),
            source: PageSource::Ocr,
            replaced_text_layer: earlier.replaced,
            text,
            mean_confidence: recognized.mean_confidence,
            rotation_applied: applied.rotation,
            skew_corrected: applied.skew_corrected,
            preprocessing: applied,
            timings: PageTimings {
                render_ms,
                preprocess_ms: prepared.millis,
                recognize_ms: recognized.millis,
                output_ms,
            },
            words: recognized.words,
            error: None,
        },
        hocr,
        preview_png,
        pdf_page,
    })
}

/// Reads a page in the mode its layout calls for. A single line is also read
/// with full layout analysis, which is cheap at that size, and the more
/// convincing reading kept: line mode wins on most lines, but not on all.
fn read(
    engine: &mut Engine,
    page: &Prepared,
    hocr: bool,
    pdf_base: Option<&std::path::Path>,
) -> Result<Recognized, PageError> {
    let first = engine.recognize(page, page.layout, hocr, pdf_base)?;
    if page.layout != Layout::Line {
        return Ok(first);
    }
    let other_base = pdf_base.map(|b| text_layer::beside(b, "page"));
    let mut other = engine.recognize(page, Layout::Page, hocr, other_base.as_deref())?;
    if score(&other) <= score(&first) {
        return Ok(first);
    }
    if let (Some(from), Some(to)) = (&other_base, pdf_base) {
        std::fs::rename(from.with_extension("pdf"), to.with_extension("pdf"))
            .map_err(|e| PageError::Output(format!("PDF page: {e}")))?;
    }
    other.millis += first.millis;
    Ok(other)
}

/// Where and how a page is read again, from another preparation of it.
struct Rereading<'a> {
    hocr: bool,
    /// The first reading's PDF page, if one is written.
    pdf_base: Option<&'a Path>,
}

impl Rereading<'_> {
    /// Reads `candidate` and takes it, with its reading, in place of
    /// `current` when `better(new, first)`: the new reading then counts the
    /// first's time too, and its PDF page (written next to the first's, named
    /// by `suffix`) takes the first's name. Returns whether it was taken.
    fn try_instead(
        &self,
        engine: &mut Engine,
        suffix: &str,
        candidate: Prepared,
        current: &mut (Prepared, Recognized),
        better: impl FnOnce(&Recognized, &Recognized) -> bool,
    ) -> Result<bool, PageError> {
        let base = self.pdf_base.map(|b| text_layer::beside(b, suffix));
        let mut again = read(engine, &candidate, self.hocr, base.as_deref())?;
        if !better(&again, &current.1) {
            return Ok(false);
        }
        again.millis += current.1.millis;
        if let (Some(from), Some(to)) = (&base, self.pdf_base) {
            std::fs::rename(from.with_extension("pdf"), to.with_extension("pdf"))
                .map_err(|e| PageError::Output(format!("PDF page: {e}")))?;
        }
        *current = (candidate, again);
        Ok(true)
    }
}

/// Garbage from a sideways, upside-down or faint page: few words, low confidence.
fn reads_badly(r: &Recognized, below: f32) -> bool {
    r.words.len() < 3 || r.mean_confidence.unwrap_or(0.0) < below
}

/// Layout analysis reads a page turned 90° as vertical text, often with good
/// confidence; its words then stand taller than wide.
pub(super) fn looks_sideways(words: &[Word]) -> bool {
    let long: Vec<_> = words
        .iter()
        .filter(|w| w.text.chars().count() >= 4)
        .collect();
    long.len() >= 3 && long.iter().filter(|w| w.bbox.height > w.bbox.width).count() * 2 > long.len()
}

/// How convincing a reading is: confident words count, doubtful ones barely.
fn score(r: &Recognized) -> f32 {
    r.words
        .iter()
        .map(|w| (w.confidence / 100.0).powi(2) * w.text.chars().count() as f32)
        .sum()
}

/// With `skip_text` (the default), a PDF page's own text, when it has any.
fn text_layer(
    run: &DocumentRun,
    number: usize,
) -> Result<Option<(&PdfDocument, OwnText)>, PageError> {
    let Some(pdf) = run.document.pdf().filter(|_| run.settings.ocr.skip_text) else {
        return Ok(None);
    };
    Ok(pdf.text_layer(number)?.map(|text| (pdf, text)))
}

/// A page that keeps its own `text`, whose words are `own`: no OCR, and the
/// searchable PDF keeps the page as it is.
fn from_text_layer(
    run: &DocumentRun,
    pdf: &PdfDocument,
    number: usize,
    (text, own): (String, Option<PageWords>),
    extracted: std::time::Duration,
) -> Result<PageArtifacts, PageError> {
    let started = Instant::now();
    // Rendered as wide as the preview is shown, so its text is as sharp as an OCR'd page's.
    let dpi = pdf.dpi_for_width(number, run.settings.ocr.preview_width);
    let (preview_png, (width, height)) = if run.formats.preview {
        let img = pdf.render_colour(number, dpi)?;
        (
            Some(preview::colour(&img, 0, run.settings.ocr.preview_width)?),
            img.dimensions(),
        )
    } else {
        (None, pdf.shown_pixels(number, dpi))
    };
    let words = own.map(|o| o.words((width, height))).unwrap_or_default();
    let hocr = run
        .formats
        .hocr
        .then(|| scribe_core::hocr::from_words(number, (width, height), Some(dpi), &words));
    Ok(PageArtifacts {
        result: PageResult {
            number,
            width,
            height,
            dpi: Some(dpi),
            dpi_estimated: false,
            source: PageSource::TextLayer,
            replaced_text_layer: false,
            text,
            mean_confidence: None,
            rotation_applied: 0,
            skew_corrected: 0.0,
            preprocessing: Applied {
                steps: vec!["text-layer".to_owned()],
                scale: 1.0,
                ..Applied::default()
            },
            timings: PageTimings {
                render_ms: (extracted + started.elapsed()).as_millis() as u64,
                ..PageTimings::default()
            },
            words,
            error: None,
        },
        hocr,
        preview_png,
        pdf_page: None,
    })
}
