//! A warm OCR engine: Tesseract loaded once per thread and reused page after
//! page, plus a lazily loaded orientation (OSD) model.

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::GrayImage;
use scribe_core::preprocess::Prepared;
use scribe_core::results::Word;
use scribe_core::{hocr, tsv};

use scribe_core::preprocess::{Layout, reversed};

use super::tesseract::{Api, Area, PSM_AUTO, PSM_OSD_ONLY, PSM_SINGLE_LINE, Pix, TesseractError};
use super::{pictures, table_rows};

/// OSD reads a copy no finer than this: a quarter of the cost of a 300-dpi
/// page, and still enough detail for the small type of a two-column paper,
/// which at lower resolutions OSD can no longer tell from noise.
const OSD_DPI: f32 = 200.0;
/// Without a known resolution, a copy scaled to this long edge.
const OSD_EDGE: u32 = 2000;
/// OSD's confidence above which its answer on a reduced copy is taken as it is.
const OSD_SURE: f32 = 2.0;

fn osd_once(osd: &mut Api, image: &GrayImage, dpi: Option<u32>) -> Option<(i32, f32)> {
    let pix = Pix::from_gray(image, dpi).ok()?;
    osd.set_image(&pix, dpi);
    let found = osd.detect_orientation();
    osd.clear();
    found
}

/// What the engine read on one page.
pub struct Recognized {
    pub text: String,
    pub hocr: Option<String>,
    pub words: Vec<Word>,
    pub mean_confidence: Option<f32>,
    pub millis: u64,
}

pub struct Engine {
    tessdata: PathBuf,
    lang: String,
    api: Api,
    osd: Option<Api>,
    osd_failed: bool,
}

impl Engine {
    pub fn new(tessdata: &Path, lang: &str) -> Result<Self, TesseractError> {
        let mut api = Api::new(tessdata, lang)?;
        // Interword spaces keep the layout of tables and forms in the plain text.
        api.set_variable("preserve_interword_spaces", "1")?;
        // Tesseract's debug chatter about resolution goes to stderr otherwise.
        api.set_variable("debug_file", "/dev/null")?;
        Ok(Self {
            tessdata: tessdata.to_owned(),
            lang: lang.to_owned(),
            api,
            osd: None,
            osd_failed: false,
        })
    }

    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// The clockwise quarter-turn that makes `image` upright, with OSD's confidence.
    pub fn detect_orientation(
        &mut self,
        image: &GrayImage,
        dpi: Option<u32>,
    ) -> Option<(u16, f32)> {
        if self.osd.is_none() && !self.osd_failed {
            match Api::new(&self.tessdata, "osd") {
                Ok(mut osd) => {
                    osd.set_page_seg_mode(PSM_OSD_ONLY);
                    let _ = osd.set_variable("debug_file", "/dev/null");
                    self.osd = Some(osd);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "orientation detection disabled: install tesseract-ocr-osd");
                    self.osd_failed = true;
                }
            }
        }
        let osd = self.osd.as_mut()?;
        let long = image.width().max(image.height());
        let f = match dpi {
            Some(d) => OSD_DPI / d.max(1) as f32,
            None => OSD_EDGE as f32 / long.max(1) as f32,
        };
        let (small, small_dpi) = if f < 1.0 {
            let w = ((image.width() as f32 * f) as u32).max(1);
            let h = ((image.height() as f32 * f) as u32).max(1);
            (
                image::imageops::resize(image, w, h, image::imageops::FilterType::Triangle),
                dpi.map(|d| ((d as f32 * f) as u32).max(70)),
            )
        } else {
            (image.clone(), dpi)
        };
        let mut found = osd_once(osd, &small, small_dpi);
        // Without a resolution the copy's scale is a guess, and the small type
        // of a photographed page can shrink past what OSD tells from noise
        // (a phone photo of a letter, turned: confidence 0.3 and the wrong
        // way round on the copy, 8.7 on the photo): unsure, it looks at every
        // pixel.
        if f < 1.0 && found.is_none_or(|(_, conf)| conf < OSD_SURE) {
            let full = osd_once(osd, image, dpi);
            if full.is_some_and(|(_, conf)| found.is_none_or(|(_, c)| conf > c)) {
                found = full;
            }
        }
        // Tesseract reports how far the page is turned clockwise; undoing it
        // is the rest of the full turn.
        found.map(|(deg, conf)| (((360 - deg.rem_euclid(360)) % 360) as u16, conf))
    }

    /// Recognises a prepared page. With `pdf_base`, also writes its text layer
    /// (Tesseract's frame, see `text_layer`) to `pdf_base`.pdf.
    pub fn recognize(
        &mut self,
        page: &Prepared,
        layout: Layout,
        want_hocr: bool,
        pdf_base: Option<&Path>,
    ) -> Result<Recognized, TesseractError> {
        let started = Instant::now();
        // Light text on dark patches is lifted to dark on light where it
        // stands, so layout analysis reads it in its place on the page, and
        // what the fill made of it before (junk, or nothing) is never read.
        let patches = match layout {
            Layout::Page => reversed::patches(&page.ocr),
            Layout::Line => Vec::new(),
        };
        let lifted = (!patches.is_empty()).then(|| reversed::lifted(&page.ocr, &patches));
        if !patches.is_empty() {
            tracing::debug!(patches = patches.len(), "light text on dark patches lifted");
        }
        let gray = lifted.as_ref().unwrap_or(&page.ocr);
        let ocr = match page.colour_ocr() {
            Some(colour) if lifted.is_some() => {
                let mut colour = colour.into_owned();
                reversed::lift_colour(&mut colour, gray, &patches);
                Pix::from_rgb(&colour, page.dpi)?
            }
            Some(colour) => Pix::from_rgb(&colour, page.dpi)?,
            None => Pix::from_gray(gray, page.dpi)?,
        };
        // Layout analysis finds columns and reading order on a page; on a lone
        // line it tends to split or drop words that line mode reads whole.
        self.api.set_page_seg_mode(match layout {
            Layout::Page => PSM_AUTO,
            Layout::Line => PSM_SINGLE_LINE,
        });
        self.api.set_image(&ocr, page.dpi);
        let result = self.read_results(page, layout, want_hocr, pdf_base);
        self.api.clear();
        let (text, hocr, words) = result?;
        let mean_confidence = (!words.is_empty())
            .then(|| words.iter().map(|w| w.confidence).sum::<f32>() / words.len() as f32);
        Ok(Recognized {
            text,
            hocr,
            words,
            mean_confidence,
            millis: started.elapsed().as_millis() as u64,
        })
    }

    /// The words in `area` of a prepared page (in the page's OCR pixels),
    /// read with layout analysis and nothing else: a sample, not a page's
    /// outputs. Boxes are in the page's pixels.
    pub fn read_area(&mut self, page: &Prepared, area: Area) -> Result<Vec<Word>, TesseractError> {
        // A crop, not Tesseract's own rectangle: set on a fresh image, that
        // read clean print as garbage (confidence under 40).
        let crop =
            image::imageops::crop_imm(&page.ocr, area.left, area.top, area.width, area.height)
                .to_image();
        let ocr = Pix::from_gray(&crop, page.dpi)?;
        self.api.set_page_seg_mode(PSM_AUTO);
        self.api.set_image(&ocr, page.dpi);
        let words = self
            .api
            .recognize()
            .and_then(|()| self.api.tsv(0))
            .map(|tsv| tsv::parse_words(&tsv));
        self.api.clear();
        let mut words = words?;
        for w in &mut words {
            w.bbox.x += area.left;
            w.bbox.y += area.top;
        }
        Ok(words)
    }

    fn read_results(
        &mut self,
        page: &Prepared,
        layout: Layout,
        want_hocr: bool,
        pdf_base: Option<&Path>,
    ) -> Result<(String, Option<String>, Vec<Word>), TesseractError> {
        let started = Instant::now();
        self.api.recognize()?;
        let mut text = self.api.text()?;
        let mut words = tsv::parse_words(&self.api.tsv(0)?);
        let mut hocr = if want_hocr {
            Some(self.api.hocr(0)?)
        } else {
            None
        };
        if let Some(base) = pdf_base {
            self.api.write_pdf_page(base, &self.tessdata)?;
        }
        if layout != Layout::Page {
            return Ok((text, hocr, words));
        }
        // Last, since reading a picture block replaces the page's reading.
        let passages = self.api.passages();
        let outputs = pictures::Outputs {
            hocr: want_hocr,
            pdf_base,
            tessdata: &self.tessdata,
        };
        let (width, height) = page.ocr.dimensions();
        let image = Area::new(0, 0, width, height);
        let rescued = pictures::read(
            &mut self.api,
            &passages,
            &words,
            image,
            started.elapsed(),
            &outputs,
        )?;
        let tabled = table_rows::by_rows(&passages, &words);
        if tabled.is_some() || !rescued.is_empty() {
            text = pictures::text(tabled.as_deref().unwrap_or(&passages), &rescued);
            if let Some(page) = &mut hocr {
                let parts = rescued.iter().flat_map(|r| {
                    let after = pictures::block_before(&passages, r);
                    r.hocr.iter().map(move |part| (after, part))
                });
                for (i, (after, part)) in parts.enumerate() {
                    *page = hocr::graft(page, part, &format!("p{i}"), after);
                }
            }
            words = pictures::words(words, &passages, &rescued);
        }
        Ok((text, hocr, words))
    }
}
