//! A warm OCR engine: Tesseract loaded once per thread and reused page after
//! page, plus a lazily loaded orientation (OSD) model.

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::GrayImage;
use scribe_core::preprocess::Prepared;
use scribe_core::results::Word;
use scribe_core::tsv;

use scribe_core::preprocess::Layout;

use super::tesseract::{Api, PSM_AUTO, PSM_OSD_ONLY, PSM_SINGLE_LINE, Pix, TesseractError};

/// OSD reads a copy no finer than this: a quarter of the cost of a 300-dpi
/// page, and still enough detail for the small type of a two-column paper,
/// which at lower resolutions OSD can no longer tell from noise.
const OSD_DPI: f32 = 200.0;
/// Without a known resolution, a copy scaled to this long edge.
const OSD_EDGE: u32 = 2000;

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
        let (small, dpi) = if f < 1.0 {
            let w = ((image.width() as f32 * f) as u32).max(1);
            let h = ((image.height() as f32 * f) as u32).max(1);
            (
                image::imageops::resize(image, w, h, image::imageops::FilterType::Triangle),
                dpi.map(|d| ((d as f32 * f) as u32).max(70)),
            )
        } else {
            (image.clone(), dpi)
        };
        let pix = Pix::from_gray(&small, dpi).ok()?;
        osd.set_image(&pix, dpi);
        let found = osd.detect_orientation();
        osd.clear();
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
        let ocr = match page.colour_ocr() {
            Some(colour) => Pix::from_rgb(&colour, page.dpi)?,
            None => Pix::from_gray(&page.ocr, page.dpi)?,
        };
        // Layout analysis finds columns and reading order on a page; on a lone
        // line it tends to split or drop words that line mode reads whole.
        self.api.set_page_seg_mode(match layout {
            Layout::Page => PSM_AUTO,
            Layout::Line => PSM_SINGLE_LINE,
        });
        self.api.set_image(&ocr, page.dpi);
        let result = self.read_results(want_hocr, pdf_base);
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

    fn read_results(
        &mut self,
        want_hocr: bool,
        pdf_base: Option<&Path>,
    ) -> Result<(String, Option<String>, Vec<Word>), TesseractError> {
        self.api.recognize()?;
        let text = self.api.text()?;
        let words = tsv::parse_words(&self.api.tsv(0)?);
        let hocr = if want_hocr {
            Some(self.api.hocr(0)?)
        } else {
            None
        };
        if let Some(base) = pdf_base {
            self.api.write_pdf_page(base, &self.tessdata)?;
        }
        Ok((text, hocr, words))
    }
}
