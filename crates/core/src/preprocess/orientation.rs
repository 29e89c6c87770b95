//! Quarter turns. Detecting which way is up needs Tesseract's OSD, so that part
//! lives in the worker; this is the cheap, exact pixel shuffle.

use image::GrayImage;
use image::imageops;

/// Turns the image clockwise by `degrees` (0, 90, 180 or 270; others are ignored).
pub fn rotate_quarter(image: &GrayImage, degrees: u16) -> GrayImage {
    match degrees {
        90 => imageops::rotate90(image),
        180 => imageops::rotate180(image),
        270 => imageops::rotate270(image),
        _ => image.clone(),
    }
}
