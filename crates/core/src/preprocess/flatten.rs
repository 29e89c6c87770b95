//! Evening out the light on a photographed page. A phone photo is bright
//! where the lamp or window was and dim across the rest; Tesseract's one
//! global threshold then loses the strokes in one part or the other. Dividing
//! the page by its own paper (its background, estimated at low resolution)
//! makes the paper white everywhere and keeps each stroke's contrast.

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma};
use imageproc::morphology::{Mask, grayscale_dilate, grayscale_erode};

/// The background is estimated on a copy about this many pixels on its long
/// side: a block is then a few strokes wide, so it always holds some paper.
const SMALL_EDGE: u32 = 256;
/// A page darker than this at its median is not dark text on paper (a
/// dark-mode screenshot, a negative): its "paper" would be its text.
const MIN_PAPER_MEDIAN: u8 = 140;
/// The paper is uneven when the typical paper of two parts of the page differs
/// by more than this; an evenly lit scan's differs by a few levels.
const UNEVEN_SPREAD: u8 = 40;
/// Light changes across paper by a level or two from block to block (a few
/// at a shadow's soft edge); a photograph's "paper" by tens.
const SMOOTH_STEP: u8 = 8;

/// The page divided by its paper, or `None` when its paper is evenly lit (a
/// scan) or it is not dark text on light paper.
///
/// Paper is what is at least half as bright as the brightest paper, and a
/// shadow deeper than that where it bears ink (a block holding strokes well
/// darker than its brightest pixel). The rest (the black edges of a scan with
/// the lid open, the desk under a photographed page, an empty dark box) is not
/// paper: it does not make the light uneven, and it is divided by the light of
/// the paper next to it, so it stays as dark as it was against that paper
/// rather than being divided by itself into a white, speckled field.
pub fn even_out(page: &GrayImage) -> Option<GrayImage> {
    let (w, h) = page.dimensions();
    if w < 64 || h < 64 || percentile(page.pixels().map(|p| p.0[0]), 50) < MIN_PAPER_MEDIAN {
        return None;
    }
    let blocks = Blocks::of(page);
    let brightest = percentile(blocks.closed.pixels().map(|p| p.0[0]), 98);
    let paper = blocks.paper_mask(brightest);
    if !unevenly_lit(&blocks.closed, &paper) {
        return None;
    }
    let filled = fill_from_paper(blocks.closed, paper);
    let smooth = imageproc::filter::box_filter(&filled, 2, 2);
    // Each small pixel stands for a whole block, the last ones reaching past the page.
    let (sw, sh) = smooth.dimensions();
    let light = imageops::resize(
        &smooth,
        sw * blocks.side,
        sh * blocks.side,
        FilterType::Triangle,
    );
    // Never more than a fourfold lift: noise in the deepest shadow stays noise.
    let floor = brightest / 4;
    let mut out = page.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        let bg = u32::from(light.get_pixel(x, y).0[0].max(floor)).max(1);
        p.0[0] = (u32::from(p.0[0]) * 255 / bg).min(255) as u8;
    }
    Some(out)
}

/// The page at low resolution, a block of `side` pixels to a cell.
struct Blocks {
    side: u32,
    /// Each block's brightest pixel (text strokes are thinner than a block),
    /// closed over its neighbours so that bold text and small marks are bridged.
    closed: GrayImage,
    /// Each block's darkest pixel.
    darkest: GrayImage,
}

impl Blocks {
    fn of(page: &GrayImage) -> Self {
        let (w, h) = page.dimensions();
        let side = (w.max(h) / SMALL_EDGE).max(4);
        let (sw, sh) = (w.div_ceil(side), h.div_ceil(side));
        let mut brightest = GrayImage::new(sw, sh);
        let mut darkest = GrayImage::from_pixel(sw, sh, Luma([255]));
        let square = Mask::square(1);
        for (x, y, p) in page.enumerate_pixels() {
            let (cx, cy) = (x / side, y / side);
            let b = brightest.get_pixel_mut(cx, cy);
            b.0[0] = b.0[0].max(p.0[0]);
            let d = darkest.get_pixel_mut(cx, cy);
            d.0[0] = d.0[0].min(p.0[0]);
        }
        Self {
            side,
            closed: grayscale_erode(&grayscale_dilate(&brightest, &square), &square),
            darkest,
        }
    }

    /// Which cells are paper (see [`even_out`]).
    fn paper_mask(&self, brightest: u8) -> Vec<bool> {
        self.closed
            .pixels()
            .zip(self.darkest.pixels())
            .map(|(light, dark)| {
                let (light, dark) = (u32::from(light.0[0]), u32::from(dark.0[0]));
                // Ink stands well below its paper (under 0.7 of its light, even
                // blurred in a shadow); a desk's grain does not.
                light * 2 >= u32::from(brightest) || (light >= 24 && dark * 10 < light * 7)
            })
            .collect()
    }
}

/// `closed` with every cell that is not paper given the light of the nearest
/// paper around it (the dimmest of it, so that a blank stretch inside a shadow
/// takes the shadow's light, not the lit paper's), growing inwards ring by ring.
fn fill_from_paper(mut closed: GrayImage, mut paper: Vec<bool>) -> GrayImage {
    let (w, h) = closed.dimensions();
    let index = |x: u32, y: u32| (y * w + x) as usize;
    let mut open: Vec<(u32, u32)> = closed
        .enumerate_pixels()
        .filter(|&(x, y, _)| !paper[index(x, y)])
        .map(|(x, y, _)| (x, y))
        .collect();
    while !open.is_empty() {
        let mut lit = Vec::new();
        for &(x, y) in &open {
            let around = (y.saturating_sub(1)..=(y + 1).min(h - 1))
                .flat_map(|ny| (x.saturating_sub(1)..=(x + 1).min(w - 1)).map(move |nx| (nx, ny)))
                .filter(|&(nx, ny)| paper[index(nx, ny)])
                .map(|(nx, ny)| closed.get_pixel(nx, ny).0[0])
                .min();
            if let Some(v) = around {
                lit.push((x, y, v));
            }
        }
        // No paper anywhere near what is left: leave it as it is.
        if lit.is_empty() {
            break;
        }
        for &(x, y, v) in &lit {
            closed.put_pixel(x, y, Luma([v]));
            paper[index(x, y)] = true;
        }
        open.retain(|&(x, y)| !paper[index(x, y)]);
    }
    closed
}

/// Whether the light falling on the paper changes across the page: the
/// typical paper of each sixteenth of it (a 4 × 4 grid, the median of its
/// paper cells where the light is smooth) differs by more than
/// [`UNEVEN_SPREAD`] from one to another. A band of colour, a shaded table or
/// a picture changes the paper only locally,
/// and a sixteenth's median holds unless it fills most of it; a lamp's,
/// window's or hand's light changes it over whole parts of the page.
fn unevenly_lit(closed: &GrayImage, paper: &[bool]) -> bool {
    let (sw, sh) = closed.dimensions();
    let mut medians = Vec::with_capacity(16);
    for gy in 0..4 {
        for gx in 0..4 {
            let (x0, x1) = (sw * gx / 4, sw * (gx + 1) / 4);
            let (y0, y1) = (sh * gy / 4, sh * (gy + 1) / 4);
            let cells: Vec<u8> = (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| paper[(y * sw + x) as usize] && smooth(closed, x, y))
                .map(|(x, y)| closed.get_pixel(x, y).0[0])
                .collect();
            // A sixteenth that is mostly not smooth paper (a desk, a picture)
            // says nothing.
            if cells.len() * 2 > ((x1 - x0) * (y1 - y0)) as usize {
                medians.push(percentile(cells.into_iter(), 50));
            }
        }
    }
    match (medians.iter().max(), medians.iter().min()) {
        (Some(hi), Some(lo)) => hi - lo > UNEVEN_SPREAD,
        _ => false,
    }
}

/// Whether the light at cell (`x`, `y`) is within [`SMOOTH_STEP`] of its
/// neighbours': lit paper. A picture's light parts pass for paper cell by
/// cell, and on an evenly lit page would make its light look uneven.
fn smooth(closed: &GrayImage, x: u32, y: u32) -> bool {
    let (w, h) = closed.dimensions();
    let here = closed.get_pixel(x, y).0[0];
    super::four_neighbours(x, y, (0, 0, w, h))
        .all(|(nx, ny)| closed.get_pixel(nx, ny).0[0].abs_diff(here) <= SMOOTH_STEP)
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
    fn an_evenly_lit_scan_with_a_colour_band_and_a_shaded_table_is_left_alone() {
        let page = GrayImage::from_fn(1200, 1600, |x, y| {
            let ink = y % 40 < 6 && x % 30 < 20;
            let band = y < 160;
            let table = (200..700).contains(&x) && (600..900).contains(&y);
            Luma([match (ink, band, table) {
                (true, _, _) => 40,
                (false, true, _) => 154,
                (false, false, true) => 200,
                _ => 245,
            }])
        });
        assert!(even_out(&page).is_none());
    }

    #[test]
    fn an_evenly_lit_page_with_a_photograph_is_left_alone() {
        // Text on the left, a photograph (light and shade changing every
        // few blocks) filling the right half.
        let page = GrayImage::from_fn(1200, 1600, |x, y| {
            if x >= 600 {
                let shade = (f64::from(x) / 9.0).sin() * (f64::from(y) / 13.0).cos();
                return Luma([(150.0 + 95.0 * shade) as u8]);
            }
            Luma([if y % 40 < 6 && x % 30 < 20 { 40 } else { 245 }])
        });
        assert!(even_out(&page).is_none());
    }

    #[test]
    fn a_long_narrow_strip_is_evened_out_where_it_was_lit() {
        let page = GrayImage::from_fn(64, 5000, |x, y| {
            let light = 250.0 - 120.0 * f64::from(y) / 5000.0;
            let ink = y % 40 < 6 && x % 30 < 20;
            Luma([(if ink { light * 0.3 } else { light }) as u8])
        });
        let flat = even_out(&page).expect("uneven");
        assert!(
            flat.get_pixel(63, 4990).0[0] >= 235,
            "{:?}",
            flat.get_pixel(63, 4990)
        );
        assert!(flat.get_pixel(5, 4962).0[0] < 110);
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

    #[test]
    fn the_desk_around_a_photographed_page_stays_a_desk() {
        // A page lit from the left on a mid-gray desk (level 104), which fills the right third.
        let page = GrayImage::from_fn(1200, 800, |x, y| {
            if x >= 800 {
                return Luma([104 + (x * 7 + y * 13) as u8 % 9]);
            }
            let light = 250.0 - 120.0 * f64::from(x) / 800.0;
            let ink = y % 40 < 6 && x % 30 < 20;
            Luma([(if ink { light * 0.3 } else { light }) as u8])
        });
        let flat = even_out(&page).expect("uneven");
        // Against the dim paper at its edge (130) the desk is about 0.83 of the light.
        let desk: Vec<u8> = (900..1190)
            .step_by(7)
            .map(|x| flat.get_pixel(x, 400).0[0])
            .collect();
        assert!(
            desk.iter().all(|&v| v < 230),
            "the desk turned white: {desk:?}"
        );
    }
}
