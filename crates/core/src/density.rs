//! The resolution an image file says it was scanned at, read from its header
//! (PNG pHYs, JPEG JFIF or EXIF, TIFF tags, BMP, JPEG 2000 `res ` boxes).
//! Scanners always write it; it decides the searchable PDF's page size and tells
//! Tesseract how large the glyphs are.

/// Values outside this range are placeholders (JFIF's "1:1 aspect", a 0) or
/// nonsense, never a real scan: treat them as unknown.
const CREDIBLE_DPI: std::ops::RangeInclusive<f64> = 50.0..=4800.0;

const METRES_PER_INCH: f64 = 0.0254;

/// The longest side of any page a screen resolution may describe (tabloid, A3).
const LARGEST_PAGE_INCHES: f64 = 17.0;
/// Displays' defaults, which editors and screenshot tools write for any image.
const SCREEN_DPI: [f64; 2] = [72.0, 96.0];

/// Whether `dpi` could be a scan's resolution.
pub fn is_credible(dpi: u32) -> bool {
    CREDIBLE_DPI.contains(&f64::from(dpi))
}

/// Horizontal and vertical resolution in dots per inch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Density {
    pub x: f64,
    pub y: f64,
}

impl Density {
    fn credible(x: f64, y: f64) -> Option<Self> {
        (CREDIBLE_DPI.contains(&x) && CREDIBLE_DPI.contains(&y)).then_some(Self { x, y })
    }

    /// The resolution as a whole number, for Tesseract and results.json (the vertical one,
    /// as Tesseract uses it for glyph sizes).
    pub fn dpi(self) -> u32 {
        self.y.round() as u32
    }
}

/// `density` when it can describe a document of `width` × `height` pixels, else
/// `None`. Image editors, screenshot tools and cameras write 72 or 96 dpi by
/// default, whatever the image: a 4000-pixel photo "at 72 dpi" would be a page 55 inches tall (a
/// poster-sized searchable PDF) and would be enlarged for OCR, while at 72 dpi
/// a real scanned page is under 1,300 pixels.
pub fn for_page(density: Option<Density>, width: u32, height: u32) -> Option<Density> {
    let d = density?;
    // A fax's 204 × 98 or a plan scanned at 100 dpi is a scanner's, and kept.
    let screen = d.x == d.y && SCREEN_DPI.contains(&d.x.round());
    let longest = (f64::from(width) / d.x).max(f64::from(height) / d.y);
    (!screen || longest <= LARGEST_PAGE_INCHES).then_some(d)
}

/// Reads the density from the first bytes of a PNG file (the pHYs chunk comes before IDAT).
pub fn png(bytes: &[u8]) -> Option<Density> {
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let len = be32(bytes, at)? as usize;
        let kind = bytes.get(at + 4..at + 8)?;
        if kind == b"pHYs" {
            let body = bytes.get(at + 8..at + 17)?;
            // Unit 1 is the metre; 0 means the values are only an aspect ratio.
            if body[8] != 1 {
                return None;
            }
            let per_metre = |o| f64::from(be32(body, o).unwrap_or(0));
            return Density::credible(
                per_metre(0) * METRES_PER_INCH,
                per_metre(4) * METRES_PER_INCH,
            );
        }
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        at = at.checked_add(12)?.checked_add(len)?;
    }
    None
}

/// JFIF's density when it states a unit, else EXIF's XResolution/YResolution
/// unless a camera wrote them: a photo's dpi (72, 180, 300, by maker) says
/// nothing about the paper in it.
pub fn jpeg(bytes: &[u8]) -> Option<Density> {
    let mut exif = None;
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return None;
        }
        let marker = bytes[at + 1];
        // Start of scan: every header segment has been seen.
        if marker == 0xDA {
            break;
        }
        let len = be16(bytes, at + 2)? as usize;
        let body = bytes.get(at + 4..(at + 2 + len).min(bytes.len()))?;
        match marker {
            0xE0 if body.starts_with(b"JFIF\0") && body.len() >= 12 => {
                let (unit, x, y) = (body[7], be16(body, 8)?, be16(body, 10)?);
                let per_inch = match unit {
                    1 => 1.0,
                    2 => 2.54,
                    _ => 0.0,
                };
                if let Some(d) = Density::credible(f64::from(x) * per_inch, f64::from(y) * per_inch)
                {
                    return Some(d);
                }
            }
            0xE1 if body.starts_with(b"Exif\0\0") => exif = tiff_ifd0(&body[6..]),
            _ => {}
        }
        at += 2 + len;
    }
    exif
}

/// BMP's pixels per metre (BITMAPINFOHEADER and later).
pub fn bmp(bytes: &[u8]) -> Option<Density> {
    if bytes.len() < 46 || le32(bytes, 14)? < 40 {
        return None;
    }
    let x = f64::from(le32(bytes, 38)?) * METRES_PER_INCH;
    let y = f64::from(le32(bytes, 42)?) * METRES_PER_INCH;
    Density::credible(x, y)
}

/// A TIFF's resolution from its already-parsed tags: `unit` is ResolutionUnit
/// (2 inch, 3 centimetre). Unit 1, "no absolute unit", is read as inches the way
/// libtiff's tools and Leptonica do: the tools that write it mean dpi.
pub fn from_tiff_tags(x: Option<f64>, y: Option<f64>, unit: Option<u16>) -> Option<Density> {
    let per_inch = match unit.unwrap_or(2) {
        3 => 2.54,
        _ => 1.0,
    };
    let x = x?;
    Density::credible(x * per_inch, y.unwrap_or(x) * per_inch)
}

/// JPEG 2000 (JP2 boxes): the capture resolution `resc`, else the display one `resd`,
/// both in pixels per metre as numerator/denominator × 10^exponent.
pub fn jp2(bytes: &[u8]) -> Option<Density> {
    let res = find_box(bytes, b"jp2h").and_then(|h| find_box(h, b"res "))?;
    let body = find_box(res, b"resc").or_else(|| find_box(res, b"resd"))?;
    if body.len() < 10 {
        return None;
    }
    let ppm = |num: usize, den: usize, exp: usize| {
        let (n, d) = (f64::from(be16(body, num)?), f64::from(be16(body, den)?));
        (d > 0.0).then(|| n / d * 10f64.powi(i32::from(body[exp] as i8)))
    };
    // Vertical first in the box: VR_N, VR_D, HR_N, HR_D, VR_E, HR_E.
    let y = ppm(0, 2, 8)?;
    let x = ppm(4, 6, 9)?;
    Density::credible(x * METRES_PER_INCH, y * METRES_PER_INCH)
}

/// Body text is set at about 10–12 pt.
const BODY_POINTS: f64 = 11.0;
/// The median word's box, in ems: many words have no descender, some no
/// ascender either (measured 0.67–0.73 on printed 10-pt papers and on
/// rendered letters; 0.8, the full ascender-to-descender height, judged such
/// pages 13–20% coarser than they were).
const MEDIAN_WORD_EMS: f64 = 0.68;

/// Estimates the resolution of a page that does not say, from the height of its
/// words (see [`BODY_POINTS`]). `None` without enough words to judge.
pub fn estimate_from_word_heights(mut heights: Vec<u32>) -> Option<u32> {
    if heights.len() < 5 {
        return None;
    }
    heights.sort_unstable();
    let median = f64::from(heights[heights.len() / 2]);
    let inches = BODY_POINTS * MEDIAN_WORD_EMS / 72.0;
    let dpi = (median / inches / 10.0).round() * 10.0;
    Some(dpi.clamp(70.0, 1200.0) as u32)
}

/// Sheets scanners take whole, portrait, in inches: A4, US Letter, US Legal,
/// A5. Not A3: an A3 sheet at d dpi is an A5 one at 2d, pixel for pixel.
const PAPERS: [(f64, f64); 4] = [(8.268, 11.693), (8.5, 11.0), (8.5, 14.0), (5.827, 8.268)];
/// Resolutions scanners offer.
const SCANNER_DPI: [f64; 7] = [100.0, 150.0, 200.0, 240.0, 300.0, 400.0, 600.0];
/// How far a scan's pixels may stray from a sheet's exact size (scanners round
/// and trim a few pixels).
const SHEET_TOLERANCE: f64 = 0.01;

/// The resolution at which `width` × `height` pixels are a whole sheet of a
/// standard paper size at a resolution scanners offer (2480 × 3508 is A4 at
/// 300 dpi), if there is one. A scan that lost its resolution is most often a
/// whole sheet, and this is exact where the height of its words is a guess.
pub fn sheet_resolution(width: u32, height: u32) -> Option<u32> {
    let (short, long) = (f64::from(width.min(height)), f64::from(width.max(height)));
    let near = |pixels: f64, exact: f64| (pixels - exact).abs() <= exact * SHEET_TOLERANCE;
    SCANNER_DPI
        .iter()
        .find(|&&dpi| {
            PAPERS
                .iter()
                .any(|&(w, h)| near(short, w * dpi) && near(long, h * dpi))
        })
        .map(|&dpi| dpi as u32)
}

/// The resolution of a page that does not state one: that of the sheet it is
/// the size of, when its words agree within a factor of two (a screenshot may
/// happen to be a sheet's size), else judged from its words.
pub fn estimate_for_page(width: u32, height: u32, word_heights: Vec<u32>) -> Option<u32> {
    let judged = estimate_from_word_heights(word_heights);
    match (sheet_resolution(width, height), judged) {
        (Some(sheet), Some(words)) if words * 2 >= sheet && words <= sheet * 2 => Some(sheet),
        (Some(sheet), None) => Some(sheet),
        (_, judged) => judged,
    }
}

/// The first box of type `kind` among the boxes in `bytes`, as its contents.
fn find_box<'a>(bytes: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 0;
    // A JP2 file starts with its 12-byte signature box; skip it like any other.
    while at + 8 <= bytes.len() {
        let len = be32(bytes, at)? as usize;
        let (start, end) = match len {
            0 => (at + 8, bytes.len()),
            1 => {
                let long = u64::from_be_bytes(bytes.get(at + 8..at + 16)?.try_into().ok()?);
                (at + 16, at.checked_add(usize::try_from(long).ok()?)?)
            }
            n if n < 8 => return None,
            n => (at + 8, at.checked_add(n)?),
        };
        // A box must end past its header, or the walk would never move on.
        if end < start || end <= at {
            return None;
        }
        if &bytes[at + 4..at + 8] == kind {
            return bytes.get(start..end.min(bytes.len()));
        }
        at = end;
    }
    None
}

/// XResolution, YResolution and ResolutionUnit from IFD0 of an EXIF TIFF block,
/// unless its EXIF sub-IFD records an exposure, aperture or focal length (a camera).
fn tiff_ifd0(tiff: &[u8]) -> Option<Density> {
    let big = match tiff.get(0..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |o: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(o..o + 2)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |o: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(o..o + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let tags = |ifd: usize| {
        let count = u16_at(ifd).map_or(0, usize::from).min(256);
        (0..count).map_while(move |i| {
            let entry = ifd + 2 + i * 12;
            Some((u16_at(entry)?, entry))
        })
    };
    let (mut x, mut y, mut unit, mut exif) = (None, None, None, None);
    for (tag, entry) in tags(u32_at(4)? as usize) {
        let rational = || {
            let at = u32_at(entry + 8)? as usize;
            let (n, d) = (u32_at(at)?, u32_at(at + 4)?);
            (d > 0).then(|| f64::from(n) / f64::from(d))
        };
        match tag {
            0x011A => x = rational(),
            0x011B => y = rational(),
            0x0128 => unit = u16_at(entry + 8),
            0x8769 => exif = u32_at(entry + 8),
            _ => {}
        }
    }
    // ExposureTime, FNumber, FocalLength.
    let camera = exif.is_some_and(|at| {
        tags(at as usize).any(|(tag, _)| matches!(tag, 0x829A | 0x829D | 0x920A))
    });
    if camera {
        return None;
    }
    from_tiff_tags(x, y, unit)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_png_phys_in_metres_only() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&[0, 0, 0, 13]);
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&[0; 17]);
        png.extend_from_slice(&[0, 0, 0, 9]);
        png.extend_from_slice(b"pHYs");
        png.extend_from_slice(&11811u32.to_be_bytes());
        png.extend_from_slice(&11811u32.to_be_bytes());
        png.push(1);
        assert_eq!(super::png(&png).map(Density::dpi), Some(300));
        let last = png.len() - 1;
        png[last] = 0;
        assert_eq!(super::png(&png), None);
    }

    #[test]
    fn reads_jfif_dpi_and_ignores_aspect_only_density() {
        let jfif = |unit: u8, d: u16| {
            let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
            j.extend_from_slice(b"JFIF\0\x01\x01");
            j.push(unit);
            j.extend_from_slice(&d.to_be_bytes());
            j.extend_from_slice(&d.to_be_bytes());
            j.extend_from_slice(&[0, 0, 0xFF, 0xDA]);
            j
        };
        assert_eq!(jpeg(&jfif(1, 200)).map(Density::dpi), Some(200));
        assert_eq!(jpeg(&jfif(2, 118)).map(Density::dpi), Some(300));
        assert_eq!(jpeg(&jfif(0, 1)), None);
    }

    /// A JPEG whose only density is EXIF's 72 dpi, with an EXIF sub-IFD
    /// holding `sub_tag` (little-endian TIFF).
    fn exif_jpeg(sub_tag: u16) -> Vec<u8> {
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        let entry = |tag: u16, kind: u16, value: u32| {
            let mut e = tag.to_le_bytes().to_vec();
            e.extend_from_slice(&kind.to_le_bytes());
            e.extend_from_slice(&1u32.to_le_bytes());
            e.extend_from_slice(&value.to_le_bytes());
            e
        };
        // IFD0 at 8: 4 entries (2 + 48 + 4 bytes), then the rational at 62, the sub-IFD at 70.
        tiff.extend_from_slice(&4u16.to_le_bytes());
        tiff.extend(entry(0x011A, 5, 62));
        tiff.extend(entry(0x011B, 5, 62));
        tiff.extend(entry(0x0128, 3, 2));
        tiff.extend(entry(0x8769, 4, 70));
        tiff.extend_from_slice(&0u32.to_le_bytes());
        tiff.extend_from_slice(&72u32.to_le_bytes());
        tiff.extend_from_slice(&1u32.to_le_bytes());
        tiff.extend_from_slice(&1u16.to_le_bytes());
        tiff.extend(entry(sub_tag, 3, 1));
        tiff.extend_from_slice(&0u32.to_le_bytes());
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE1];
        j.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
        j.extend_from_slice(b"Exif\0\0");
        j.extend_from_slice(&tiff);
        j.extend_from_slice(&[0xFF, 0xDA]);
        j
    }

    #[test]
    fn a_cameras_exif_resolution_is_not_the_papers() {
        // ColorSpace only: an editor's or scanner's EXIF, believed.
        assert_eq!(jpeg(&exif_jpeg(0xA001)).map(Density::dpi), Some(72));
        // FocalLength: a camera's.
        assert_eq!(jpeg(&exif_jpeg(0x920A)), None);
    }

    #[test]
    fn a_screen_resolution_is_believed_only_for_a_page_sized_image() {
        let at = |dpi: f64| Some(Density { x: dpi, y: dpi });
        // A phone photo "at 72 dpi" would be 42 × 56 inches.
        assert_eq!(for_page(at(72.0), 3000, 4000), None);
        // A 1080p screenshot at 96 dpi: 20 inches wide.
        assert_eq!(for_page(at(96.0), 1920, 1080), None);
        // A letter page scanned at 72 dpi.
        assert_eq!(for_page(at(72.0), 612, 792), at(72.0));
        // A large drawing scanned at 300 or 100 dpi: a real 24 × 36 inch sheet.
        assert_eq!(for_page(at(300.0), 7200, 10800), at(300.0));
        assert_eq!(for_page(at(100.0), 2400, 3600), at(100.0));
        // A long fax page at 204 × 98 dpi keeps its oblong pixels.
        let fax = Some(Density { x: 204.0, y: 98.0 });
        assert_eq!(for_page(fax, 1728, 2200), fax);
        assert_eq!(for_page(None, 100, 100), None);
    }

    #[test]
    fn a_jp2_box_that_does_not_move_on_ends_the_walk() {
        let mut jp2 = b"\0\0\0\x0cjP  \r\n\x87\n".to_vec();
        // LBox = 1 with an XLBox of 0: a box ending where it starts.
        jp2.extend_from_slice(&[0, 0, 0, 1]);
        jp2.extend_from_slice(b"jp2h");
        jp2.extend_from_slice(&[0; 8]);
        jp2.extend_from_slice(b"ihdr");
        assert_eq!(super::jp2(&jp2), None);
    }

    #[test]
    fn tiff_units_and_word_height_estimates() {
        assert_eq!(
            from_tiff_tags(Some(300.0), None, None).map(Density::dpi),
            Some(300)
        );
        assert_eq!(
            from_tiff_tags(Some(118.11), Some(118.11), Some(3)).map(Density::dpi),
            Some(300)
        );
        assert_eq!(
            from_tiff_tags(Some(300.0), Some(300.0), Some(1)).map(Density::dpi),
            Some(300)
        );
        assert_eq!(from_tiff_tags(Some(1.0), Some(1.0), Some(2)), None);
        // 11-pt words at 300 dpi: a median box of 0.68 em is 31 pixels.
        assert_eq!(estimate_from_word_heights(vec![31; 50]), Some(300));
    }

    #[test]
    fn a_page_the_size_of_a_whole_sheet_takes_the_sheets_resolution() {
        assert_eq!(sheet_resolution(2480, 3508), Some(300)); // A4
        assert_eq!(sheet_resolution(3504, 2481), Some(300)); // A4 landscape, trimmed
        assert_eq!(sheet_resolution(1700, 2200), Some(200)); // Letter
        assert_eq!(sheet_resolution(1275, 2100), Some(150)); // Legal
        assert_eq!(sheet_resolution(1920, 1080), None); // a screen
        assert_eq!(sheet_resolution(3000, 4000), None); // a photo
        assert_eq!(sheet_resolution(2400, 3508), None); // 3% narrower than A4
        assert_eq!(sheet_resolution(1748, 2480), Some(300)); // A5, not A3 at 150
        // 7-pt words on an A4 sheet at 300 dpi judge it 190 dpi: the sheet wins.
        assert_eq!(estimate_for_page(2480, 3508, vec![20; 50]), Some(300));
        assert_eq!(estimate_for_page(2480, 3508, vec![]), Some(300));
        // Words four times too big for the sheet: not a scan of it.
        assert_eq!(estimate_for_page(2480, 3508, vec![130; 50]), Some(1200));
        assert_eq!(estimate_for_page(1000, 700, vec![31; 50]), Some(300));
        assert_eq!(estimate_for_page(1000, 700, vec![]), None);
        assert_eq!(estimate_from_word_heights(vec![35; 2]), None);
    }
}
