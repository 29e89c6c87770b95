//! Skew estimation by projection profiles: when the rows of a page are summed
//! along the right angle, text lines and the gaps between them give the
//! sharpest profile (the largest sum of squares).

use image::{GrayImage, Luma, imageops};
use imageproc::contrast::otsu_level;
use imageproc::geometric_transformations::{Border, Interpolation, rotate_about_center};
use imageproc::region_labelling::{Connectivity, connected_components};

/// The profile is computed on a copy about this wide: plenty to see lines, cheap to scan.
const WORK_WIDTH: u32 = 800;
/// Fewer dark pixels than this is a blank or nearly blank page: no skew to find.
const MIN_INK: usize = 500;
/// A mark this many times taller than the typical mark is no letter: a bar
/// code, a QR code, a photo, a frame, a rule drawn on a slant.
const TALLER_THAN_TEXT: u32 = 3;

/// The clockwise rotation, in degrees, that makes the text lines level; 0 when
/// nothing convincing is found within ±`max_degrees`.
pub fn estimate_skew(image: &GrayImage, max_degrees: f32) -> f32 {
    if max_degrees <= 0.0 {
        return 0.0;
    }
    let small = if image.width() > WORK_WIDTH {
        let h = (u64::from(image.height()) * u64::from(WORK_WIDTH) / u64::from(image.width()))
            .max(1) as u32;
        imageops::thumbnail(image, WORK_WIDTH, h)
    } else {
        image.clone()
    };
    let level = otsu_level(&small);
    let mut ink: Vec<(f32, f32)> = small
        .enumerate_pixels()
        .filter(|(_, _, p)| p[0] < level)
        .map(|(x, y, _)| (x as f32, y as f32))
        .collect();
    let half = (small.width() * small.height()) as usize / 2;
    if ink.len() > half {
        // Mostly dark: a page photographed on a desk, or a photo. Only the dark
        // pixels near paper can be its lines; the desk is dark all around.
        ink = near_paper(&small, level, &ink);
    }
    // What is still mostly dark is a photo or an inverted scan: the profile means nothing.
    if ink.len() < MIN_INK || ink.len() > half {
        return 0.0;
    }
    let text = text_sized(small.dimensions(), &ink);
    if text.len() >= MIN_INK {
        ink = text;
    }
    let height = small.height() as f32;
    let score = |degrees: f32| profile_sharpness(&ink, degrees, height, small.width() as f32);

    let coarse = best_angle(-max_degrees, max_degrees, 0.5, &score);
    let fine = best_angle(coarse - 0.5, coarse + 0.5, 0.05, &score);
    // The slope of the lines is `fine`; turning the page back is the opposite.
    let correction = -fine;
    if score(fine) <= score(0.0) * 1.02 {
        0.0
    } else {
        correction
    }
}

/// The `ink` pixels that share a block of `PAPER_BLOCK` pixels with some paper
/// (a pixel at or above `level`).
fn near_paper(small: &GrayImage, level: u8, ink: &[(f32, f32)]) -> Vec<(f32, f32)> {
    const PAPER_BLOCK: u32 = 8;
    let bw = small.width().div_ceil(PAPER_BLOCK);
    let mut lit = vec![false; (bw * small.height().div_ceil(PAPER_BLOCK)) as usize];
    for (x, y, p) in small.enumerate_pixels() {
        if p[0] >= level {
            lit[((y / PAPER_BLOCK) * bw + x / PAPER_BLOCK) as usize] = true;
        }
    }
    ink.iter()
        .copied()
        .filter(|&(x, y)| lit[((y as u32 / PAPER_BLOCK) * bw + x as u32 / PAPER_BLOCK) as usize])
        .collect()
}

/// The `ink` of marks no taller than `TALLER_THAN_TEXT` typical marks. Large
/// blobs spoil the profile even when each is level: a shear lifts one beside
/// another (a QR code beside a bar code) until their rows line up, and on a
/// sparse page (a shipping label) that outweighs the few lines of text.
fn text_sized((width, height): (u32, u32), ink: &[(f32, f32)]) -> Vec<(f32, f32)> {
    let mut marks = GrayImage::new(width, height);
    for &(x, y) in ink {
        marks.put_pixel(x as u32, y as u32, Luma([255]));
    }
    let labels = connected_components(&marks, Connectivity::Eight, Luma([0]));
    // Per label: top, bottom and pixel count.
    let mut extents: Vec<(u32, u32, u32)> = Vec::new();
    for &(x, y) in ink {
        let label = labels.get_pixel(x as u32, y as u32)[0] as usize;
        if extents.len() <= label {
            extents.resize(label + 1, (u32::MAX, 0, 0));
        }
        let e = &mut extents[label];
        *e = (e.0.min(y as u32), e.1.max(y as u32), e.2 + 1);
    }
    let tall = |e: &(u32, u32, u32)| e.1 + 1 - e.0;
    // Specks of a pixel or two say nothing of the size of the print.
    let mut heights: Vec<u32> = extents.iter().filter(|e| e.2 >= 4).map(tall).collect();
    if heights.is_empty() {
        return Vec::new();
    }
    let mid = heights.len() / 2;
    let typical = *heights.select_nth_unstable(mid).1;
    let limit = typical * TALLER_THAN_TEXT;
    ink.iter()
        .copied()
        .filter(|&(x, y)| {
            let label = labels.get_pixel(x as u32, y as u32)[0] as usize;
            tall(&extents[label]) <= limit
        })
        .collect()
}

fn best_angle(from: f32, to: f32, step: f32, score: &dyn Fn(f32) -> f64) -> f32 {
    let steps = ((to - from) / step).round() as i32;
    (0..=steps)
        .map(|i| from + i as f32 * step)
        .map(|a| (a, score(a)))
        .fold(
            (0.0, f64::MIN),
            |best, cur| if cur.1 > best.1 { cur } else { best },
        )
        .0
}

/// Sum of squared row counts after shearing the ink by `degrees`.
fn profile_sharpness(ink: &[(f32, f32)], degrees: f32, height: f32, width: f32) -> f64 {
    let slope = degrees.to_radians().tan();
    let margin = (width * slope.abs()).ceil();
    let bins = (height + 2.0 * margin) as usize + 1;
    let mut rows = vec![0u32; bins];
    for &(x, y) in ink {
        let row = (y - x * slope + margin).round();
        if row >= 0.0
            && let Some(slot) = rows.get_mut(row as usize)
        {
            *slot += 1;
        }
    }
    rows.iter().map(|&c| f64::from(c) * f64::from(c)).sum()
}

/// Rotates clockwise by `degrees` about the centre, filling uncovered corners with white.
pub fn rotate_degrees(image: &GrayImage, degrees: f32) -> GrayImage {
    rotate_about_center(
        image,
        degrees.to_radians(),
        Interpolation::Bilinear,
        Border::Constant(Luma([255])),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Horizontal bars like text lines, then turned clockwise by `degrees`.
    fn lined_page(degrees: f32) -> GrayImage {
        let mut page = GrayImage::from_pixel(1200, 1600, Luma([255]));
        for line in 0..20 {
            let y0 = 150 + line * 60;
            for y in y0..y0 + 18 {
                for x in 150..1050 {
                    if (x / 25) % 4 != 3 {
                        page.put_pixel(x, y, Luma([0]));
                    }
                }
            }
        }
        rotate_degrees(&page, degrees)
    }

    /// A shipping label: a few lines of text at the top left, a bar code
    /// under them and a QR code (three solid finder squares and a scatter of
    /// modules) at the right, turned clockwise by `degrees`.
    fn label(degrees: f32) -> GrayImage {
        let mut page = GrayImage::from_pixel(2400, 1600, Luma([255]));
        let mut ink = |x0: u32, y0: u32, w: u32, h: u32| {
            for y in y0..y0 + h {
                for x in x0..x0 + w {
                    page.put_pixel(x, y, Luma([0]));
                }
            }
        };
        // Words of thin strokes: text is mostly paper, codes mostly ink.
        for line in 0..6 {
            for word in 0..8 {
                for stroke in 0..7 {
                    ink(150 + word * 110 + stroke * 12, 150 + line * 70, 4, 30);
                }
            }
        }
        for bar in 0..40 {
            ink(150 + bar * 18, 650, 6 + (bar * 7 % 3) * 4, 300);
        }
        let module = 16;
        for (mx, my) in [(0, 0), (18, 0), (0, 18)] {
            ink(
                1500 + mx * module,
                250 + my * module,
                7 * module,
                7 * module,
            );
        }
        for i in 0..25u32 {
            for j in 0..25u32 {
                let finder = !(8..=16).contains(&i) && j < 8 || i < 8 && j > 16;
                if !finder && (i * 25 + j).wrapping_mul(2_654_435_761) >> 13 & 1 == 1 {
                    ink(1500 + i * module, 250 + j * module, module, module);
                }
            }
        }
        rotate_degrees(&page, degrees)
    }

    #[test]
    fn a_labels_codes_do_not_tilt_its_lines() {
        for skew in [0.0f32, 3.0, -5.0] {
            let found = estimate_skew(&label(skew), 15.0);
            assert!((found + skew).abs() < 0.3, "skewed {skew}, found {found}");
        }
    }

    #[test]
    fn finds_the_rotation_that_levels_the_lines() {
        for skew in [-7.0f32, -3.0, 4.5, 12.0] {
            let found = estimate_skew(&lined_page(skew), 15.0);
            assert!((found + skew).abs() < 0.3, "skewed {skew}, found {found}");
        }
    }

    #[test]
    fn a_page_on_a_dark_desk_is_levelled_too() {
        // A narrow page (a receipt) in the middle of a desk that fills most of the frame.
        let skew = 4.0f32;
        let mut frame = GrayImage::from_pixel(1600, 1600, Luma([60]));
        let page = lined_page(0.0);
        for y in 0..1600 {
            for x in 0..600 {
                // The page's middle third, its lines across it.
                frame.put_pixel(500 + x, y, *page.get_pixel(300 + x, y));
            }
        }
        let turned = rotate_about_center(
            &frame,
            skew.to_radians(),
            Interpolation::Bilinear,
            Border::Constant(Luma([60])),
        );
        let found = estimate_skew(&turned, 15.0);
        assert!((found + skew).abs() < 0.3, "skewed {skew}, found {found}");
    }

    #[test]
    fn a_level_or_blank_page_is_left_alone() {
        assert!(estimate_skew(&lined_page(0.0), 15.0).abs() < 0.1);
        let blank = GrayImage::from_pixel(800, 1000, Luma([255]));
        assert_eq!(estimate_skew(&blank, 15.0), 0.0);
    }
}
