//! Marks made with a highlighter: bright, saturated bands over text.

use image::RgbImage;

/// Share of the page (sampled) that must be highlighter-coloured.
const MIN_SHARE: f64 = 0.01;

/// Whether a colour page carries highlighter marks (or other bright,
/// saturated areas): pixels whose strongest channel is bright while their
/// weakest is far below it. Yellow is dark in blue, green in red and blue.
pub fn has_highlights(image: &RgbImage) -> bool {
    let (w, h) = image.dimensions();
    let (mut marked, mut seen) = (0u64, 0u64);
    for y in (0..h).step_by(3) {
        for x in (0..w).step_by(3) {
            let [r, g, b] = image.get_pixel(x, y).0;
            let (hi, lo) = (r.max(g).max(b), r.min(g).min(b));
            seen += 1;
            if hi >= 150 && hi - lo >= 90 {
                marked += 1;
            }
        }
    }
    seen > 0 && marked as f64 >= seen as f64 * MIN_SHARE
}

#[cfg(test)]
mod tests {
    use super::has_highlights;
    use image::{Rgb, RgbImage};

    #[test]
    fn a_yellow_band_is_a_highlight_black_on_white_and_purple_print_are_not() {
        let page = |band: Rgb<u8>, ink: Rgb<u8>| {
            RgbImage::from_fn(300, 300, |x, y| match (x % 9 < 4, y) {
                (true, 100..120) => ink,
                (_, 95..125) => band,
                (true, 200..210) => ink,
                _ => Rgb([250, 250, 248]),
            })
        };
        assert!(has_highlights(&page(
            Rgb([250, 240, 40]),
            Rgb([10, 10, 10])
        )));
        assert!(has_highlights(&page(
            Rgb([150, 250, 120]),
            Rgb([10, 10, 10])
        )));
        assert!(!has_highlights(&page(
            Rgb([250, 250, 248]),
            Rgb([10, 10, 10])
        )));
        // A receipt's purple print on grey-tinted paper: dark, not bright.
        assert!(!has_highlights(&page(
            Rgb([200, 200, 205]),
            Rgb([90, 40, 120])
        )));
    }
}
