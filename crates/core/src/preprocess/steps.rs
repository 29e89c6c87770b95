//! The preprocessing steps themselves, run on a page's pixels.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use image::{GrayImage, RgbImage};

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
    /// The original's colour pixels, when the page has colour and `ocr` is
    /// not a cleaned (denoised, binarised) copy: see [`Prepared::colour_ocr`].
    pub colour: Option<Arc<RgbImage>>,
}

impl Prepared {
    pub fn display(&self) -> &GrayImage {
        self.display.as_ref().unwrap_or(&self.ocr)
    }

    /// This page to be read again from its gray copy, not its colour one.
    pub fn in_gray(&self) -> Prepared {
        let mut gray = self.clone();
        gray.colour = None;
        gray
    }

    /// This page to be read again from a black-and-white copy of what the
    /// engine read (shown as before).
    pub fn binarized(&self, how: Binarize) -> Prepared {
        let started = Instant::now();
        let mut applied = self.applied.clone();
        applied.steps.retain(|s| !s.starts_with("binarize-"));
        applied.steps.push(format!("binarize-{}", how.name()));
        Prepared {
            ocr: how.apply(&self.ocr),
            display: Some(self.display().clone()),
            dpi: self.dpi,
            applied,
            millis: self.millis + started.elapsed().as_millis() as u64,
            original: self.original,
            to_original: self.to_original,
            layout: self.layout,
            colour: None,
        }
    }

    /// The colour page in the frame of `ocr` (scaled, turned and deskewed the
    /// same way, through `to_original`), for the engine to read instead of the
    /// gray copy.
    pub fn colour_ocr(&self) -> Option<Cow<'_, RgbImage>> {
        let colour = self.colour.as_deref()?;
        let (w, h) = self.ocr.dimensions();
        let m = self.to_original;
        if colour.dimensions() == (w, h) && m == Affine::IDENTITY {
            return Some(Cow::Borrowed(colour));
        }
        // Only enlarged: the same filter as the gray copy's, which keeps
        // strokes sharper than the bilinear warp that turning needs.
        if m.b == 0.0 && m.c == 0.0 && m.e == 0.0 && m.f == 0.0 {
            return Some(Cow::Owned(image::imageops::resize(
                colour,
                w,
                h,
                image::imageops::FilterType::CatmullRom,
            )));
        }
        Some(Cow::Owned(warp(colour, m, (w, h))))
    }
}

/// Samples `source` bilinearly at `to_source` of every pixel centre of a
/// `size` image; outside the source is white paper.
fn warp(source: &RgbImage, to_source: Affine, (w, h): (u32, u32)) -> RgbImage {
    let (sw, sh) = (source.width() as i64, source.height() as i64);
    let at = |x: i64, y: i64| -> [f32; 3] {
        if x < 0 || y < 0 || x >= sw || y >= sh {
            return [255.0; 3];
        }
        source.get_pixel(x as u32, y as u32).0.map(f32::from)
    };
    RgbImage::from_fn(w, h, |x, y| {
        let (sx, sy) = to_source.apply(f64::from(x) + 0.5, f64::from(y) + 0.5);
        let (fx, fy) = (sx - 0.5, sy - 0.5);
        let (x0, y0) = (fx.floor() as i64, fy.floor() as i64);
        let (tx, ty) = ((fx - fx.floor()) as f32, (fy - fy.floor()) as f32);
        let (p00, p10, p01, p11) = (
            at(x0, y0),
            at(x0 + 1, y0),
            at(x0, y0 + 1),
            at(x0 + 1, y0 + 1),
        );
        let mut out = [0u8; 3];
        for c in 0..3 {
            let top = p00[c] + (p10[c] - p00[c]) * tx;
            let bottom = p01[c] + (p11[c] - p01[c]) * tx;
            out[c] = (top + (bottom - top) * ty).round().clamp(0.0, 255.0) as u8;
        }
        image::Rgb(out)
    })
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
            colour,
            ..
        } = page;
        let mut to_original = Affine::scale(
            1.0 / original.scale,
            1.0 / (original.scale * original.aspect),
        );
        if original.scale < 1.0 {
            applied.steps.push("downsample".to_owned());
        }
        // Not the rounding of a downsampled page's two sides: a stretch.
        if (original.aspect - 1.0).abs() > 0.01 {
            applied.steps.push("square-pixels".to_owned());
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
            colour,
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
            colour: page.colour,
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
            mut colour,
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
        if self.flatten
            && layout == Layout::Page
            && let Some(flat) = super::flatten::even_out(&image)
        {
            ocr = Some(flat);
            applied.steps.push("flatten".to_owned());
        }
        if self.denoise {
            ocr = Some(imageproc::filter::median_filter(
                ocr.as_ref().unwrap_or(&image),
                1,
                1,
            ));
            applied.steps.push("denoise".to_owned());
        }
        if self.binarize != Binarize::None {
            ocr = Some(self.binarize.apply(ocr.as_ref().unwrap_or(&image)));
            applied
                .steps
                .push(format!("binarize-{}", self.binarize.name()));
        }
        let (ocr, display) = match ocr {
            Some(cleaned) => {
                // Cleaning was asked for: the engine reads the cleaned pixels.
                colour = None;
                (cleaned, Some(image))
            }
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
            colour,
        }
    }
}

/// A page between steps: the image so far and how it maps to the original.
struct Base {
    image: GrayImage,
    dpi: Option<u32>,
    original: Original,
    to_original: Affine,
    colour: Option<Arc<RgbImage>>,
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

    /// A colour page and its gray copy, with dark bars of three colours.
    fn colour_page(w: u32, h: u32, dpi: u32) -> Page {
        let colour = RgbImage::from_fn(w, h, |x, y| {
            let bar = (y / 12) % 4;
            let ink = (x / 9) % 5 != 0;
            match (bar, ink) {
                (0, true) => image::Rgb([200, 20, 20]),
                (1, true) => image::Rgb([20, 20, 160]),
                (2, true) => image::Rgb([30, 30, 30]),
                _ => image::Rgb([250, 245, 235]),
            }
        });
        let gray = GrayImage::from_fn(w, h, |x, y| {
            let p = colour.get_pixel(x, y).0.map(f32::from);
            image::Luma([(0.3 * p[0] + 0.5 * p[1] + 0.2 * p[2]) as u8])
        });
        Page {
            number: 1,
            image: gray,
            dpi: Some(dpi),
            original: Original {
                width: w,
                height: h,
                dpi: Some(dpi),
                scale: 1.0,
                aspect: 1.0,
            },
            colour: Some(Arc::new(colour)),
        }
    }

    /// How far the colour copy's brightness strays from the gray copy's.
    fn mean_gray_difference(p: &Prepared) -> f64 {
        let colour = p.colour_ocr().expect("a colour copy");
        assert_eq!(colour.dimensions(), p.ocr.dimensions());
        let total: f64 = colour
            .pixels()
            .zip(p.ocr.pixels())
            .map(|(c, g)| {
                let c = c.0.map(f64::from);
                (0.3 * c[0] + 0.5 * c[1] + 0.2 * c[2] - f64::from(g.0[0])).abs()
            })
            .sum();
        total / f64::from(p.ocr.width() * p.ocr.height())
    }

    #[test]
    fn the_colour_copy_follows_the_gray_one_through_every_step() {
        let steps = Preprocess::default();
        // As uploaded: the very pixels, no copy.
        let same = steps.apply(colour_page(400, 300, 300));
        assert!(matches!(same.colour_ocr(), Some(Cow::Borrowed(_))));
        // Enlarged 3×, then turned a quarter.
        let small = steps.apply(colour_page(300, 200, 100));
        assert_eq!(small.ocr.dimensions(), (900, 600));
        assert!(
            mean_gray_difference(&small) < 6.0,
            "{}",
            mean_gray_difference(&small)
        );
        let turned = steps.reorient(small, 90);
        assert_eq!(turned.ocr.dimensions(), (600, 900));
        assert!(
            mean_gray_difference(&turned) < 6.0,
            "{}",
            mean_gray_difference(&turned)
        );
        // Cleaned pixels were asked for: the engine reads those.
        let binarized = Preprocess {
            binarize: Binarize::Otsu,
            ..Preprocess::default()
        };
        assert!(
            binarized
                .apply(colour_page(400, 300, 300))
                .colour_ocr()
                .is_none()
        );
    }
}
