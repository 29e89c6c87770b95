//! Whether a scanned PDF page's own text covers what is printed on it. An
//! earlier OCR that read only part of the scan, or a memo's text with a scan
//! pasted in, leaves ink that no word of the page's text stands over; a layer
//! that leaves none needs no reading of the scan to check it.

use image::GrayImage;
use scribe_core::results::BBox;

/// The resolution a page is looked at: body text's lines stay apart, and a
/// render costs a fraction of a reading.
pub const DPI: u32 = 50;
/// Paper is the brightness that 90% of the page's pixels reach or fall below…
const PAPER_PERCENTILE: f64 = 0.9;
/// …and ink is darker than this share of it.
const INK_LEVEL: f64 = 0.6;

/// A word box whose lesser side is more than this many times the median's
/// is not a line's word (a watermark set across the page, a glyph drawn
/// huge) and covers nothing.
const MAX_SIZE_RATIO: u32 = 3;

/// The share (0–1) of the ink on `page` that no word box stands over, each
/// box grown by half its lesser side and a pixel all round (a layer's boxes
/// are seldom exactly on the ink, and the gaps between words are part of a
/// line). 0 for a page without ink.
pub fn uncovered_ink(page: &GrayImage, words: &[BBox]) -> f64 {
    let (width, height) = page.dimensions();
    let ink_below = (f64::from(paper(page)) * INK_LEVEL) as u8;
    let mut sides: Vec<u32> = words.iter().map(|b| b.width.min(b.height)).collect();
    sides.sort_unstable();
    let largest = sides.get(sides.len() / 2).map_or(u32::MAX, |m| {
        m.saturating_mul(MAX_SIZE_RATIO).saturating_add(1)
    });
    let mut covered = vec![false; page.len()];
    for b in words.iter().filter(|b| b.width.min(b.height) <= largest) {
        let grow = b.width.min(b.height) / 2 + 1;
        let x0 = b.x.saturating_sub(grow).min(width);
        let y0 = b.y.saturating_sub(grow).min(height);
        let x1 = b.x.saturating_add(b.width).saturating_add(grow).min(width);
        let y1 =
            b.y.saturating_add(b.height)
                .saturating_add(grow)
                .min(height);
        for y in y0..y1 {
            let row = (y * width) as usize;
            covered[row + x0 as usize..row + x1.max(x0) as usize].fill(true);
        }
    }
    let (ink, bare) = page
        .as_raw()
        .iter()
        .zip(&covered)
        .filter(|&(&level, _)| level < ink_below)
        .fold((0usize, 0usize), |(ink, bare), (_, &under)| {
            (ink + 1, bare + usize::from(!under))
        });
    if ink == 0 {
        return 0.0;
    }
    bare as f64 / ink as f64
}

/// The page's paper brightness (see [`PAPER_PERCENTILE`]).
fn paper(page: &GrayImage) -> u8 {
    let mut counts = [0usize; 256];
    for &level in page.as_raw() {
        counts[usize::from(level)] += 1;
    }
    let reach = (page.len() as f64 * PAPER_PERCENTILE) as usize;
    let mut seen = 0;
    for (level, &n) in counts.iter().enumerate() {
        seen += n;
        if seen > reach {
            return level as u8;
        }
    }
    u8::MAX
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// A white page with dark lines of "text" at the given rows.
    fn lined(rows: &[u32]) -> GrayImage {
        GrayImage::from_fn(200, 200, |x, y| {
            let on_line = rows.iter().any(|&r| (r..r + 6).contains(&y)) && (20..180).contains(&x);
            Luma([if on_line { 20 } else { 245 }])
        })
    }

    fn line_box(y: u32) -> BBox {
        BBox {
            x: 21,
            y: y + 1,
            width: 158,
            height: 4,
        }
    }

    #[test]
    fn ink_under_words_is_covered_and_ink_without_them_is_not() {
        let page = lined(&[20, 40, 60, 80]);
        let all: Vec<BBox> = [20, 40, 60, 80].map(line_box).to_vec();
        assert_eq!(uncovered_ink(&page, &all), 0.0);
        let half = uncovered_ink(&page, &all[..2]);
        assert!((half - 0.5).abs() < 0.01, "{half}");
        assert_eq!(uncovered_ink(&page, &[]), 1.0);
        assert_eq!(
            uncovered_ink(&lined(&[]), &all),
            0.0,
            "no ink, nothing bare"
        );
    }

    #[test]
    fn a_box_far_larger_than_the_words_covers_nothing() {
        let page = lined(&[20, 40, 60, 80]);
        let mut boxes: Vec<BBox> = [20, 40].map(line_box).to_vec();
        boxes.push(BBox {
            x: 0,
            y: 0,
            width: 200,
            height: 200,
        });
        let bare = uncovered_ink(&page, &boxes);
        assert!((bare - 0.5).abs() < 0.01, "{bare}");
    }

    #[test]
    fn boxes_past_the_page_s_edge_are_cut_to_it() {
        let page = lined(&[190]);
        let off = BBox {
            x: 150,
            y: 185,
            width: 400,
            height: 400,
        };
        assert_eq!(uncovered_ink(&page, &[off]), 0.0);
        let beyond = BBox {
            x: 500,
            y: 500,
            width: 10,
            height: 10,
        };
        assert_eq!(uncovered_ink(&page, &[beyond]), 1.0);
    }
}
