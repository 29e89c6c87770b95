//! The small PNG of a page that the portal shows: in colour when the page is in
//! colour, turned upright when OCR found it sideways.

use std::io::Cursor;

use fast_image_resize as fr;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, GrayImage, ImageEncoder, RgbImage, imageops};

#[derive(Debug, thiserror::Error)]
#[error("preview: {0}")]
pub struct PreviewError(String);

/// A gray page, already upright.
pub fn gray(image: &GrayImage, width: u32) -> Result<Vec<u8>, PreviewError> {
    let (w, h) = fitted(image.dimensions(), width);
    let small = shrink(
        image.as_raw(),
        image.dimensions(),
        (w, h),
        fr::PixelType::U8,
    )?;
    png(&small, (w, h), ExtendedColorType::L8)
}

/// A colour page as uploaded, turned clockwise by `rotation` degrees (a
/// multiple of 90) to show it as OCR read it.
pub fn colour(image: &RgbImage, rotation: u16, width: u32) -> Result<Vec<u8>, PreviewError> {
    let (iw, ih) = image.dimensions();
    let quarter = rotation % 180 == 90;
    // Fit the turned page to `width`: shrink to its size before turning.
    let (tw, th) = fitted(if quarter { (ih, iw) } else { (iw, ih) }, width);
    let (w, h) = if quarter { (th, tw) } else { (tw, th) };
    let small = shrink(image.as_raw(), (iw, ih), (w, h), fr::PixelType::U8x3)?;
    let small = RgbImage::from_raw(w, h, small)
        .ok_or_else(|| PreviewError("resized buffer has the wrong size".to_owned()))?;
    let turned = match rotation {
        90 => imageops::rotate90(&small),
        180 => imageops::rotate180(&small),
        270 => imageops::rotate270(&small),
        _ => small,
    };
    png(
        turned.as_raw(),
        turned.dimensions(),
        ExtendedColorType::Rgb8,
    )
}

/// `width` (at most the page's own) and the height that keeps the aspect.
fn fitted((w, h): (u32, u32), width: u32) -> (u32, u32) {
    let width = width.min(w).max(1);
    let height = (u64::from(h) * u64::from(width) / u64::from(w.max(1))).max(1) as u32;
    (width, height)
}

/// Bilinear downscale with SIMD: four times faster than `imageops::thumbnail`
/// at preview sizes, which matters on every page.
fn shrink(
    raw: &[u8],
    (w, h): (u32, u32),
    (to_w, to_h): (u32, u32),
    pixels: fr::PixelType,
) -> Result<Vec<u8>, PreviewError> {
    let failed = |e: &dyn std::fmt::Display| PreviewError(e.to_string());
    let src = fr::images::ImageRef::new(w, h, raw, pixels).map_err(|e| failed(&e))?;
    let mut dst = fr::images::Image::new(to_w, to_h, pixels);
    let bilinear = fr::ResizeAlg::Convolution(fr::FilterType::Bilinear);
    fr::Resizer::new()
        .resize(
            &src,
            &mut dst,
            &fr::ResizeOptions::new().resize_alg(bilinear),
        )
        .map_err(|e| failed(&e))?;
    Ok(dst.into_vec())
}

fn png(raw: &[u8], (w, h): (u32, u32), colour: ExtendedColorType) -> Result<Vec<u8>, PreviewError> {
    let mut png = Vec::new();
    // Fast deflate: a preview is looked at once or twice, so its encoding
    // should not take time from OCR (see the `scripts/bench ocr` output share).
    PngEncoder::new_with_quality(
        Cursor::new(&mut png),
        CompressionType::Fast,
        FilterType::Sub,
    )
    .write_image(raw, w, h, colour)
    .map_err(|e| PreviewError(e.to_string()))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(png: &[u8]) -> image::DynamicImage {
        image::load_from_memory(png).expect("a PNG")
    }

    #[test]
    fn a_colour_page_stays_colour_and_keeps_its_aspect() {
        let page = RgbImage::from_fn(800, 1000, |x, _| {
            if x < 400 {
                image::Rgb([200, 30, 30])
            } else {
                image::Rgb([30, 30, 200])
            }
        });
        let thumb = decoded(&colour(&page, 0, 200).expect("preview")).into_rgb8();
        assert_eq!(thumb.dimensions(), (200, 250));
        let left = thumb.get_pixel(20, 100).0;
        assert!(left[0] > 150 && left[2] < 80, "red stays red: {left:?}");
    }

    #[test]
    fn a_turned_page_is_shown_upright_at_the_width_asked() {
        // Red on the left of the page as stored; turned 90° clockwise it is on top.
        let page = RgbImage::from_fn(1000, 800, |x, _| {
            if x < 500 {
                image::Rgb([220, 20, 20])
            } else {
                image::Rgb([255, 255, 255])
            }
        });
        let thumb = decoded(&colour(&page, 90, 200).expect("preview")).into_rgb8();
        assert_eq!(thumb.dimensions(), (200, 250));
        assert!(thumb.get_pixel(100, 20).0[1] < 80, "the red half is on top");
        assert!(
            thumb.get_pixel(100, 230).0[1] > 200,
            "the white half at the bottom"
        );
    }

    #[test]
    fn a_gray_page_is_gray_and_never_enlarged() {
        let page = GrayImage::from_pixel(120, 60, image::Luma([90]));
        let thumb = decoded(&gray(&page, 400).expect("preview"));
        assert_eq!(thumb.color(), image::ColorType::L8);
        assert_eq!((thumb.width(), thumb.height()), (120, 60));
    }
}
