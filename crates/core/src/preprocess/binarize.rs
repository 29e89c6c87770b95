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
