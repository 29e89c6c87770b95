//! Enlarging low-resolution pages: Tesseract reads glyphs best at roughly
//! 20–30 px of x-height, which a 100-dpi fax or a small crop does not have.

use image::GrayImage;
use image::imageops::{self, FilterType};

/// Images of unknown resolution this small are treated as low-resolution.
const SMALL_IMAGE_EDGE: u32 = 1000;
/// Never enlarge past this: beyond it the cost grows and nothing is gained.
const MAX_FACTOR: f32 = 3.0;

/// The factor to enlarge by, if the page needs it.
pub fn upscale_factor((w, h): (u32, u32), dpi: Option<u32>, below_dpi: u32) -> Option<f32> {
    let factor = match dpi {
        Some(dpi) if dpi > 0 && dpi < below_dpi => 300.0 / dpi as f32,
        Some(_) => return None,
        None if w.max(h) < SMALL_IMAGE_EDGE => 2.0,
        None => return None,
    };
    Some(factor.min(MAX_FACTOR))
}

pub fn resize(image: &GrayImage, factor: f32) -> GrayImage {
    let w = (image.width() as f32 * factor).round().max(1.0) as u32;
    let h = (image.height() as f32 * factor).round().max(1.0) as u32;
    imageops::resize(image, w, h, FilterType::CatmullRom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_low_resolution_pages_are_enlarged() {
        assert_eq!(upscale_factor((2480, 3508), Some(300), 150), None);
        assert_eq!(upscale_factor((850, 1100), Some(100), 150), Some(3.0));
        assert_eq!(upscale_factor((600, 400), None, 150), Some(2.0));
        assert_eq!(upscale_factor((2000, 1500), None, 150), None);
    }
}
