//! Black-and-white conversion. Off by default: Tesseract thresholds internally,
//! and its LSTM model reads anti-aliased gray better than a hard threshold.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Binarize {
    None,
    /// One global threshold: clean, evenly lit scans.
    Otsu,
    /// A threshold per neighbourhood: photos with shadows or uneven light.
    Adaptive,
}

impl Binarize {
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Otsu => "otsu",
            Self::Adaptive => "adaptive",
        }
    }

    #[cfg(feature = "preprocess")]
    pub fn apply(self, image: &image::GrayImage) -> image::GrayImage {
        use imageproc::contrast::{ThresholdType, adaptive_threshold, otsu_level, threshold};
        match self {
            Self::None => image.clone(),
            Self::Otsu => threshold(image, otsu_level(image), ThresholdType::Binary),
            // A block about the height of a text line at 300 dpi.
            Self::Adaptive => adaptive_threshold(image, 20, 10),
        }
    }
}

#[cfg(feature = "preprocess")]
/// Whether a page's ink stands only faintly off its paper (a pale
/// photocopy, gray print): its darkest pixels (the darkest 0.5%) are
/// within 64 levels of its median, yet not so close that it is blank.
/// The engine's own global threshold can miss such ink altogether.
pub fn is_faint(image: &image::GrayImage) -> bool {
    let mut histogram = [0u64; 256];
    for p in image.pixels() {
        histogram[usize::from(p.0[0])] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let level_at = |share: f64| {
        let wanted = (total as f64 * share).ceil() as u64;
        let mut seen = 0;
        histogram
            .iter()
            .position(|&n| {
                seen += n;
                seen >= wanted.max(1)
            })
            .unwrap_or(255)
    };
    let contrast = level_at(0.5).saturating_sub(level_at(0.005));
    (16..64).contains(&contrast)
}

#[cfg(all(test, feature = "preprocess"))]
mod tests {
    use super::is_faint;
    use image::{GrayImage, Luma};

    /// Lines of `ink` on `paper`, with a little scanner noise.
    fn page(ink: u8, paper: u8) -> GrayImage {
        GrayImage::from_fn(400, 300, |x, y| {
            let noise = ((x * 7 + y * 13) % 5) as u8;
            if y % 30 < 6 && x % 11 < 7 && (40..360).contains(&x) {
                Luma([ink + noise])
            } else {
                Luma([paper - noise])
            }
        })
    }

    #[test]
    fn a_pale_photocopy_is_faint_a_print_and_a_blank_sheet_are_not() {
        assert!(is_faint(&page(200, 236)));
        assert!(!is_faint(&page(20, 240)));
        assert!(!is_faint(&page(150, 240)));
        assert!(!is_faint(&page(236, 240)));
    }
}
