//! What kind of image a page is, so the engine can pick its page-segmentation
//! mode: Tesseract's automatic layout analysis finds columns and reading order
//! on a page, but on a lone text line it often splits or drops words that its
//! single-line mode reads whole.

use image::GrayImage;

/// How the engine should segment an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A page or any multi-line region: full layout analysis (columns, blocks).
    Page,
    /// One line of text (a crop, a label, a page number).
    Line,
}

/// Counts the text lines from the row profile of dark pixels: rows through a
/// line's x-height band are far darker than the gaps between lines, even where
/// descenders touch the next line's ascenders, so thresholding the profile at a
/// fraction of its peak separates lines without any glyph analysis.
pub fn classify(image: &GrayImage) -> Layout {
    let (w, h) = image.dimensions();
    if w == 0 || h == 0 {
        return Layout::Page;
    }
    let level = imageproc::contrast::otsu_level(image);
    let ink: Vec<u32> = image
        .rows()
        .map(|row| row.filter(|p| p.0[0] <= level).count() as u32)
        .collect();
    // Relative to a typical inked row, not the darkest: a logo, a rule or a
    // barcode must not make every text line look faint.
    let mut inked: Vec<u32> = ink.iter().copied().filter(|&c| c > 0).collect();
    if inked.is_empty() {
        return Layout::Page;
    }
    inked.sort_unstable();
    let threshold = (inked[inked.len() / 2] / 4).max(1);
    let mut bands = Vec::new();
    let mut start = None;
    for (y, &count) in ink.iter().enumerate() {
        match (count > threshold, start) {
            (true, None) => start = Some(y),
            (false, Some(s)) => {
                bands.push(y - s);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        bands.push(ink.len() - s);
    }
    let mut sorted = bands.clone();
    sorted.sort_unstable();
    let typical = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
    // Specks and rules are thin beside a line's body; they do not count as lines.
    let lines: Vec<usize> = bands.into_iter().filter(|&b| b * 4 >= typical).collect();
    // One line on an otherwise empty page is still a page: the line must fill
    // a good part of the image for line mode to see it as the whole.
    // A line is much wider than tall; one tall band is a skewed or turned page
    // whose lines have run together in the profile.
    match lines.as_slice() {
        [line] if (h as usize) <= line * 6 && line * 8 <= w as usize => Layout::Line,
        _ => Layout::Page,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn bars(height: u32, rows: &[(u32, u32)]) -> GrayImage {
        let mut img = GrayImage::from_pixel(600, height, Luma([255]));
        for &(top, bottom) in rows {
            for y in top..bottom {
                for x in (20..580).step_by(3) {
                    img.put_pixel(x, y, Luma([0]));
                }
            }
        }
        img
    }

    #[test]
    fn one_band_is_a_line_and_several_are_a_page() {
        assert_eq!(classify(&bars(60, &[(20, 40)])), Layout::Line);
        assert_eq!(
            classify(&bars(200, &[(20, 40), (60, 80), (100, 120)])),
            Layout::Page
        );
        // A speck above the line does not make it two lines.
        assert_eq!(classify(&bars(60, &[(2, 4), (20, 40)])), Layout::Line);
        // Nor does a dark banner above many lines make them one.
        let mut receipt: Vec<(u32, u32)> = vec![(5, 60)];
        receipt.extend((0..20).map(|i| (80 + i * 30, 92 + i * 30)));
        assert_eq!(classify(&bars(700, &receipt)), Layout::Page);
        // One line alone on a large page is a page.
        assert_eq!(classify(&bars(600, &[(20, 40)])), Layout::Page);
        // So is a page whose skewed lines run together into one tall band.
        assert_eq!(classify(&bars(500, &[(20, 480)])), Layout::Page);
        assert_eq!(
            classify(&GrayImage::from_pixel(50, 50, Luma([255]))),
            Layout::Page
        );
    }
}
