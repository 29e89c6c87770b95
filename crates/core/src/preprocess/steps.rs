//! The preprocessing steps themselves, run on a page's pixels.

use std::time::Instant;

use image::GrayImage;

use super::{
    Applied, Binarize, Layout, Preprocess, classify, estimate_skew, rotate_degrees, rotate_quarter,
    upscale, upscale_factor,
};
use crate::document::{Original, Page};
use crate::geometry::{self, Affine};

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
    /// The page as uploaded.
    pub original: Original,
    /// From pixels of `ocr` (and `display`) to pixels of the original.
    pub to_original: Affine,
    /// Whether `ocr` is a page or a single line.
    pub layout: Layout,
}

impl Prepared {
    pub fn display(&self) -> &GrayImage {
        self.display.as_ref().unwrap_or(&self.ocr)
    }
}

impl Preprocess {
    /// Runs the enabled steps except orientation, which needs the engine: see
    /// [`Preprocess::reorient`].
    pub fn apply(&self, page: Page) -> Prepared {
        let started = Instant::now();
        let mut applied = Applied {
            steps: vec!["grayscale".to_owned()],
            scale: page.original.scale as f32,
            ..Applied::default()
        };
        let Page {
            mut image,
            mut dpi,
            original,
            ..
        } = page;
        let mut to_original = Affine::scale(1.0 / original.scale, 1.0 / original.scale);
        if original.scale < 1.0 {
            applied.steps.push("downsample".to_owned());
        }

        // Never past what OCR reads at most: a 50-dpi poster header must not
        // become a 200-megapixel page.
        let (w, h) = image.dimensions();
        let room = (crate::document::MAX_OCR_PIXELS as f64 / (f64::from(w) * f64::from(h)).max(1.0))
            .sqrt() as f32;
        if self.upscale
            && let Some(factor) = upscale_factor(image.dimensions(), dpi, self.upscale_below_dpi)
                .map(|f| f.min(room))
                .filter(|&f| f > 1.0)
        {
            let before = image.width();
            image = upscale::resize(&image, factor);
            let exact = f64::from(image.width()) / f64::from(before.max(1));
            dpi = dpi.map(|d| (d as f32 * factor).round() as u32);
            applied.scale *= factor;
            applied.steps.push("upscale".to_owned());
            to_original = Affine::scale(1.0 / exact, 1.0 / exact).then(to_original);
        }
        let base = Base {
            image,
            dpi,
            original,
            to_original,
        };
        self.finish(base, applied, started)
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
        let image = page.display.unwrap_or(page.ocr);
        let (w, h) = image.dimensions();
        let base = Base {
            image: rotate_quarter(&image, rotation),
            dpi: page.dpi,
            original: page.original,
            to_original: geometry::unturn(rotation, w, h).then(page.to_original),
        };
        let mut prepared = self.finish(base, applied, started);
        prepared.millis += page.millis;
        prepared
    }

    fn finish(&self, base: Base, mut applied: Applied, started: Instant) -> Prepared {
        let Base {
            mut image,
            dpi,
            original,
            mut to_original,
        } = base;
        // A lone line has too few rows for the skew estimate to mean anything,
        // and the engine's line mode follows a slight slope by itself.
        let layout = classify(&image);
        if self.deskew && layout == Layout::Page {
            let skew = estimate_skew(&image, self.max_deskew_degrees);
            if skew.abs() >= self.min_deskew_degrees {
                image = rotate_degrees(&image, skew);
                applied.skew_corrected = (skew * 100.0).round() / 100.0;
                applied.steps.push("deskew".to_owned());
                let (cx, cy) = (
                    f64::from(image.width()) / 2.0,
                    f64::from(image.height()) / 2.0,
                );
                to_original = Affine::translate(-cx, -cy)
                    .then(Affine::rotate(-f64::from(skew).to_radians()))
                    .then(Affine::translate(cx, cy))
                    .then(to_original);
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
            display,
            dpi,
            applied,
            millis: started.elapsed().as_millis() as u64,
            original,
            to_original,
            layout,
            ocr,
        }
    }
}

/// A page between steps: the image so far and how it maps to the original.
struct Base {
    image: GrayImage,
    dpi: Option<u32>,
    original: Original,
    to_original: Affine,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deskew_mapping_finds_the_dot_it_moved() {
        let mut image = GrayImage::from_pixel(400, 300, image::Luma([255]));
        image.put_pixel(300, 100, image::Luma([0]));
        let turned = rotate_degrees(&image, 10.0);
        let (x, y) = turned
            .enumerate_pixels()
            .min_by_key(|(_, _, p)| p.0[0])
            .map(|(x, y, _)| (f64::from(x) + 0.5, f64::from(y) + 0.5))
            .unwrap_or_default();
        let (cx, cy) = (200.0, 150.0);
        let back = Affine::translate(-cx, -cy)
            .then(Affine::rotate(-10f64.to_radians()))
            .then(Affine::translate(cx, cy))
            .apply(x, y);
        assert!(
            (back.0 - 300.5).abs() < 1.5 && (back.1 - 100.5).abs() < 1.5,
            "{back:?}"
        );
    }
}
