//! Evening out the light on a photographed page. A phone photo is bright
//! where the lamp or window was and dim across the rest; Tesseract's one
//! global threshold then loses the strokes in one part or the other. Dividing
//! the page by its own paper (its background, estimated at low resolution)
//! makes the paper white everywhere and keeps each stroke's contrast.

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};

/// The background is estimated on a copy about this many pixels on its long
/// side: a block is then a few strokes wide, so it always holds some paper.
const SMALL_EDGE: u32 = 256;
/// A page darker than this at its median is not dark text on paper (a
/// dark-mode screenshot, a negative): its "paper" would be its text.
const MIN_PAPER_MEDIAN: u8 = 140;
/// The paper is uneven when its brightest and dimmest parts (2nd and 98th
/// percentile) differ by more than this; an evenly lit scan's differ by a few levels.
const UNEVEN_SPREAD: u8 = 40;

/// The page divided by its paper, or `None` when its paper is even (a scan)
/// or it is not dark text on light paper.
///
/// What is darker than half the brightest paper is not taken for paper (the
/// black edges of a scan with the lid open, the table under a photographed
/// page, a dark box or picture): it does not make the paper uneven. Nothing is
/// divided by less than a quarter of the brightest paper, so a dark box is not
/// turned white along with the white text on it.
pub fn even_out(page: &GrayImage) -> Option<GrayImage> {
    let (w, h) = page.dimensions();
    if w < 64 || h < 64 || percentile(page.pixels().map(|p| p.0[0]), 50) < MIN_PAPER_MEDIAN {
        return None;
    }
    let closed = paper(page);
    let brightest = percentile(closed.pixels().map(|p| p.0[0]), 98);
    // Judged before smoothing, which would blend dark edges into grays.
    let dimmest = percentile(
        closed
            .pixels()
            .map(|p| p.0[0])
            .filter(|&v| v >= brightest / 2),
        2,
    );
    if brightest.saturating_sub(dimmest) <= UNEVEN_SPREAD {
        return None;
    }
    // A shadow may fall deeper than half: only what is darker still is kept from
    // being divided by itself.
    let floor = brightest / 4;
    let smooth = imageproc::filter::box_filter(&closed, 2, 2);
    let paper = imageops::resize(&smooth, w, h, FilterType::Triangle);
    let mut out = page.clone();
    for (p, bg) in out.pixels_mut().zip(paper.pixels()) {
        let bg = u32::from(bg.0[0].max(floor)).max(1);
        p.0[0] = (u32::from(p.0[0]) * 255 / bg).min(255) as u8;
    }
    Some(out)
}

/// The page's paper at low resolution: the brightest pixel of each block
/// (text strokes are thinner than a block), then closed over its neighbours
/// so that bold text and small dark marks are bridged.
fn paper(page: &GrayImage) -> GrayImage {
    let (w, h) = page.dimensions();
    let block = (w.max(h) / SMALL_EDGE).max(4);
    let (sw, sh) = (w.div_ceil(block), h.div_ceil(block));
    let mut small = GrayImage::new(sw, sh);
    for (x, y, p) in page.enumerate_pixels() {
        let s = small.get_pixel_mut(x / block, y / block);
        s.0[0] = s.0[0].max(p.0[0]);
    }
    filter3(&filter3(&small, u8::max), u8::min)
}

/// Each pixel combined with its 3×3 neighbourhood by `pick` (max: dilate, min: erode).
fn filter3(image: &GrayImage, pick: fn(u8, u8) -> u8) -> GrayImage {
    let (w, h) = image.dimensions();
    GrayImage::from_fn(w, h, |x, y| {
        let mut v = image.get_pixel(x, y).0[0];
        for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
            for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                v = pick(v, image.get_pixel(nx, ny).0[0]);
            }
        }
        Luma([v])
    })
}

/// The gray level below which `pct` percent of `levels` lie.
fn percentile(levels: impl Iterator<Item = u8>, pct: u64) -> u8 {
    let mut histogram = [0u64; 256];
    for level in levels {
        histogram[usize::from(level)] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let wanted = total * pct / 100;
    let mut seen = 0;
    for (level, count) in histogram.iter().enumerate() {
        seen += count;
        if seen > wanted {
            return level as u8;
        }
    }
    255
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dark bars (text lines) on paper lit from the left: 250 at the left
    /// edge, 130 at the right.
    fn lit_from_the_left() -> GrayImage {
        GrayImage::from_fn(1200, 800, |x, y| {
            let light = 250.0 - 120.0 * f64::from(x) / 1200.0;
            let ink = y % 40 < 6 && x % 30 < 20;
            Luma([(if ink { light * 0.3 } else { light }) as u8])
        })
    }

    #[test]
    fn unevenly_lit_paper_becomes_white_and_the_ink_stays_dark() {
        let page = lit_from_the_left();
        let flat = even_out(&page).expect("uneven light is evened out");
        // Paper at the dim right edge and at the bright left edge.
        assert!(
            flat.get_pixel(1190, 20).0[0] >= 235,
            "{:?}",
            flat.get_pixel(1190, 20)
        );
        assert!(flat.get_pixel(10, 20).0[0] >= 235);
        // Ink on the dim side is as dark as on the bright side.
        let (left, right) = (flat.get_pixel(5, 2).0[0], flat.get_pixel(1175, 2).0[0]);
        assert!(left < 110 && right < 110, "{left} {right}");
    }

    #[test]
    fn an_evenly_lit_scan_and_a_dark_page_are_left_alone() {
        let scan = GrayImage::from_fn(1200, 800, |x, y| {
            Luma([if y % 40 < 6 && x % 30 < 20 { 40 } else { 245 }])
        });
        assert!(even_out(&scan).is_none());
        let dark_mode = GrayImage::from_fn(1200, 800, |x, y| {
            let light = 60.0 - 40.0 * f64::from(x) / 1200.0;
            let text = y % 40 < 6 && x % 30 < 20;
            Luma([if text { 230 } else { light as u8 }])
        });
        assert!(even_out(&dark_mode).is_none());
        // Evenly lit, with the black edges of a scan made with the lid open.
        let lid_open = GrayImage::from_fn(1200, 800, |x, y| {
            let edge = !(60..1140).contains(&x);
            let ink = y % 40 < 6 && x % 30 < 20;
            Luma([if edge {
                5
            } else if ink {
                40
            } else {
                245
            }])
        });
        assert!(even_out(&lid_open).is_none());
    }

    #[test]
    fn white_text_on_a_dark_box_stays_readable() {
        let page = GrayImage::from_fn(1200, 800, |x, y| {
            let light = 250.0 - 120.0 * f64::from(x) / 1200.0;
            let in_box = (100..500).contains(&x) && (300..600).contains(&y);
            let stroke = y % 40 < 6 && x % 30 < 20;
            let v = match (in_box, stroke) {
                (true, true) => 235.0,
                (true, false) => 30.0,
                (false, true) => light * 0.3,
                (false, false) => light,
            };
            Luma([v as u8])
        });
        let flat = even_out(&page).expect("uneven");
        // Deep inside the box, away from its strokes: still dark; a stroke: still light.
        let (ground, stroke) = (flat.get_pixel(400, 330).0[0], flat.get_pixel(401, 321).0[0]);
        assert!(ground < 140 && stroke > 220, "{ground} {stroke}");
    }
}
