//! Cleaning a page up before OCR. Each step is switchable in `[preprocess]`;
//! the defaults are the steps our fixtures showed to lower the error rate
//! (figures in the README). What ran on a page is recorded in its results.

mod binarize;
#[cfg(feature = "preprocess")]
mod deskew;
#[cfg(feature = "preprocess")]
mod flatten;
#[cfg(feature = "preprocess")]
mod highlight;
#[cfg(feature = "preprocess")]
mod layout;
#[cfg(feature = "preprocess")]
mod orientation;
#[cfg(feature = "preprocess")]
pub mod reversed;
#[cfg(feature = "preprocess")]
mod steps;
#[cfg(feature = "preprocess")]
mod upscale;

use serde::{Deserialize, Serialize};

pub use binarize::Binarize;
#[cfg(feature = "preprocess")]
pub use binarize::is_faint;
#[cfg(feature = "preprocess")]
pub use deskew::{estimate_skew, rotate_degrees};
#[cfg(feature = "preprocess")]
pub use highlight::has_highlights;
#[cfg(feature = "preprocess")]
pub use layout::{Layout, classify};
#[cfg(feature = "preprocess")]
pub use orientation::rotate_quarter;
#[cfg(feature = "preprocess")]
pub use steps::Prepared;
#[cfg(feature = "preprocess")]
pub use upscale::upscale_factor;

/// The pixels left of, right of, above and below (`x`, `y`) that lie within
/// `left..right` × `top..bottom`: the steps of a flood over a page or a grid.
#[cfg(feature = "preprocess")]
fn four_neighbours(
    x: u32,
    y: u32,
    (left, top, right, bottom): (u32, u32, u32, u32),
) -> impl Iterator<Item = (u32, u32)> {
    [
        (x > left).then(|| (x - 1, y)),
        (x + 1 < right).then(|| (x + 1, y)),
        (y > top).then(|| (x, y - 1)),
        (y + 1 < bottom).then(|| (x, y + 1)),
    ]
    .into_iter()
    .flatten()
}

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
    /// Divide a page lit unevenly (a photo) by its own paper, so that the
    /// engine's global threshold holds across it; evenly lit scans are untouched.
    pub flatten: bool,
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
            flatten: true,
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
