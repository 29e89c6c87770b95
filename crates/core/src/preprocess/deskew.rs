//! Skew estimation by projection profiles: when the rows of a page are summed
//! along the right angle, text lines and the gaps between them give the
//! sharpest profile (the largest sum of squares).

use image::{GrayImage, Luma, imageops};
use imageproc::contrast::otsu_level;
use imageproc::geometric_transformations::{Border, Interpolation, rotate_about_center};

/// The profile is computed on a copy about this wide: plenty to see lines, cheap to scan.
const WORK_WIDTH: u32 = 800;
/// Fewer dark pixels than this is a blank or nearly blank page: no skew to find.
const MIN_INK: usize = 500;

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
