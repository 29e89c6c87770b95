//! Cleaning a page up before OCR. Each step is switchable in `[preprocess]`;
//! the defaults are the steps our fixtures showed to lower the error rate
//! (figures in the README). What ran on a page is recorded in its results.

mod binarize;
mod deskew;
mod orientation;
mod upscale;

use std::time::Instant;

use image::GrayImage;
use serde::{Deserialize, Serialize};

pub use binarize::Binarize;
pub use deskew::{estimate_skew, rotate_degrees};
pub use orientation::rotate_quarter;
pub use upscale::upscale_factor;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Preprocess {
    /// Detect 90/180/270° rotation (Tesseract OSD, run by the worker) and turn
    /// the page upright. OSD only runs on pages that read badly as they are
    /// (mean confidence below `orientation_check_below`), so upright pages pay nothing.
    pub orientation: bool,
    pub orientation_check_below: f32,
    /// Minimum OSD confidence before a page is turned.
    pub orientation_min_confidence: f32,
    pub deskew: bool,
    pub max_deskew_degrees: f32,
    /// Skews smaller than this are left alone: rotating costs time and blurs glyphs.
    pub min_deskew_degrees: f32,
    pub binarize: Binarize,
    /// A 3×3 median filter against salt-and-pepper noise.
    pub denoise: bool,
    /// Enlarge pages scanned below `upscale_below_dpi` to 300 dpi.
    pub upscale: bool,
    pub upscale_below_dpi: u32,
}

impl Default for Preprocess {
    fn default() -> Self {
        Self {
            orientation: true,
            orientation_check_below: 70.0,
            orientation_min_confidence: 1.0,
            deskew: true,
            max_deskew_degrees: 15.0,
            min_deskew_degrees: 0.3,
            binarize: Binarize::None,
            denoise: false,
            upscale: true,
            upscale_below_dpi: 150,
        }
    }
}

/// What preprocessing did to one page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    /// Step names in the order they ran.
    pub steps: Vec<String>,
    /// Clockwise quarter-turn applied to make the page upright: 0, 90, 180 or 270.
    pub rotation: u16,
    /// Skew removed, in degrees (positive: the page was turned clockwise to fix it).
    pub skew_corrected: f32,
    /// Linear scale factor applied (1.0 when not upscaled).
    pub scale: f32,
}

/// A page ready for the engine.
#[derive(Clone)]
pub struct Prepared {
    /// What Tesseract reads.
    pub ocr: GrayImage,
    /// Upright, deskewed gray page for the searchable PDF and previews; `None`
    /// when it is the same image as `ocr`.
    pub display: Option<GrayImage>,
    /// Resolution of `ocr`, when known.
    pub dpi: Option<u32>,
    pub applied: Applied,
    pub millis: u64,
}

impl Prepared {
    pub fn display(&self) -> &GrayImage {
        self.display.as_ref().unwrap_or(&self.ocr)
    }
}

impl Preprocess {
    /// Runs the enabled steps except orientation, which needs the engine: see
    /// [`Preprocess::reorient`].
    pub fn apply(&self, image: GrayImage, dpi: Option<u32>) -> Prepared {
        let started = Instant::now();
        let mut applied = Applied {
            steps: vec!["grayscale".to_owned()],
            scale: 1.0,
            ..Applied::default()
        };
        let mut image = image;
        let mut dpi = dpi;

        if self.upscale
            && let Some(factor) = upscale_factor(image.dimensions(), dpi, self.upscale_below_dpi)
        {
            image = upscale::resize(&image, factor);
            dpi = dpi.map(|d| (d as f32 * factor).round() as u32);
            applied.scale = factor;
            applied.steps.push("upscale".to_owned());
        }
        self.finish(image, dpi, applied, started)
    }

    /// Turns an already prepared page clockwise by `rotation` and redoes the
    /// steps that depend on which way is up.
    pub fn reorient(&self, page: Prepared, rotation: u16) -> Prepared {
        let started = Instant::now();
        let mut applied = page.applied;
        applied.steps.retain(|s| s == "grayscale" || s == "upscale");
        applied.skew_corrected = 0.0;
        applied.rotation = rotation;
        applied.steps.push("orientation".to_owned());
        // The display copy is the upright page before cleaning; start again from it.
        let base = page.display.unwrap_or(page.ocr);
        let mut prepared = self.finish(rotate_quarter(&base, rotation), page.dpi, applied, started);
        prepared.millis += page.millis;
        prepared
    }

    fn finish(
        &self,
        mut image: GrayImage,
        dpi: Option<u32>,
        mut applied: Applied,
        started: Instant,
    ) -> Prepared {
        if self.deskew {
            let skew = estimate_skew(&image, self.max_deskew_degrees);
            if skew.abs() >= self.min_deskew_degrees {
                image = rotate_degrees(&image, skew);
                applied.skew_corrected = (skew * 100.0).round() / 100.0;
                applied.steps.push("deskew".to_owned());
            }
        }
        let mut ocr = None;
        if self.denoise {
            ocr = Some(imageproc::filter::median_filter(&image, 1, 1));
            applied.steps.push("denoise".to_owned());
        }
        if self.binarize != Binarize::None {
            ocr = Some(self.binarize.apply(ocr.as_ref().unwrap_or(&image)));
            applied
                .steps
                .push(format!("binarize-{}", self.binarize.name()));
        }
        let (ocr, display) = match ocr {
            Some(cleaned) => (cleaned, Some(image)),
            None => (image, None),
        };
        Prepared {
            ocr,
            display,
            dpi,
            applied,
            millis: started.elapsed().as_millis() as u64,
        }
    }
}
