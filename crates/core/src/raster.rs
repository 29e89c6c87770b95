//! Image files (PNG, JPEG, TIFF, BMP, GIF, WebP) as pages. Dimensions are read
//! from the header and checked against the pixel limit before anything is
//! decoded, so a 30000×30000 PNG costs a few bytes of reading, not gigabytes.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use image::{GrayImage, ImageFormat, ImageReader};
use tiff::ColorType;
use tiff::decoder::{Decoder as TiffDecoder, DecodingResult};
use tiff::tags::{PhotometricInterpretation, Tag};

use crate::document::DocumentError;
use crate::sniff::DocumentKind;

/// An image file, opened and checked; pages decode on demand.
#[derive(Debug)]
pub struct RasterDocument {
    path: PathBuf,
    kind: DocumentKind,
    pages: usize,
    max_pixels: u64,
}

impl RasterDocument {
    pub fn open(
        path: &Path,
        kind: DocumentKind,
        max_pixels: u64,
        max_pages: usize,
    ) -> Result<Self, DocumentError> {
        let pages = if kind == DocumentKind::Tiff {
            let mut decoder = open_tiff(path)?;
            let mut pages = 0;
            loop {
                pages += 1;
                if pages > max_pages {
                    return Err(DocumentError::TooManyPages {
                        pages: None,
                        limit: max_pages,
                    });
                }
                let (w, h) = decoder.dimensions().map_err(|e| tiff_error(&e))?;
                check_pixels(w, h, max_pixels)?;
                if !decoder.more_images() {
                    break;
                }
                decoder.next_image().map_err(|e| tiff_error(&e))?;
            }
            pages
        } else {
            let (w, h) = reader(path, kind)?
                .into_dimensions()
                .map_err(|e| decode_error(kind, &e))?;
            check_pixels(w, h, max_pixels)?;
            1
        };
        Ok(Self {
            path: path.to_owned(),
            kind,
            pages,
            max_pixels,
        })
    }

    pub fn page_count(&self) -> usize {
        self.pages
    }

    /// Decodes page `index` (0-based) to grayscale.
    pub fn decode(&self, index: usize) -> Result<GrayImage, DocumentError> {
        if self.kind == DocumentKind::Tiff {
            return self.decode_tiff(index);
        }
        if self.kind == DocumentKind::Jpeg
            && !jpeg_is_complete(&std::fs::read(&self.path).map_err(DocumentError::Io)?)
        {
            // The decoder would fill the missing rows with gray and carry on.
            return Err(DocumentError::Corrupt(
                "the JPEG file is truncated".to_owned(),
            ));
        }
        let mut reader = reader(&self.path, self.kind)?;
        let mut limits = image::Limits::default();
        // Header checked already; this bounds what a lying header could make the decoder allocate.
        limits.max_alloc = Some(self.max_pixels.saturating_mul(8));
        reader.limits(limits);
        let mut decoder = reader
            .into_decoder()
            .map_err(|e| decode_error(self.kind, &e))?;
        // Phones store pictures sideways and say so in EXIF; honour it first.
        let orientation = image::ImageDecoder::orientation(&mut decoder)
            .unwrap_or(image::metadata::Orientation::NoTransforms);
        let mut image =
            image::DynamicImage::from_decoder(decoder).map_err(|e| decode_error(self.kind, &e))?;
        image.apply_orientation(orientation);
        Ok(flatten_to_gray(image))
    }

    fn decode_tiff(&self, index: usize) -> Result<GrayImage, DocumentError> {
        let mut decoder = open_tiff(&self.path)?;
        decoder.seek_to_image(index).map_err(|e| tiff_error(&e))?;
        let (w, h) = decoder.dimensions().map_err(|e| tiff_error(&e))?;
        check_pixels(w, h, self.max_pixels)?;
        let color = decoder.colortype().map_err(|e| tiff_error(&e))?;
        let white_is_zero = decoder
            .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
            .ok()
            .flatten()
            == Some(PhotometricInterpretation::WhiteIsZero.to_u16());
        let data = decoder.read_image().map_err(|e| tiff_error(&e))?;
        let mut gray = tiff_to_gray(w, h, color, data)?;
        if white_is_zero {
            image::imageops::invert(&mut gray);
        }
        Ok(gray)
    }
}

fn reader(path: &Path, kind: DocumentKind) -> Result<ImageReader<BufReader<File>>, DocumentError> {
    let format = match kind {
        DocumentKind::Png => ImageFormat::Png,
        DocumentKind::Jpeg => ImageFormat::Jpeg,
        DocumentKind::Bmp => ImageFormat::Bmp,
        DocumentKind::Gif => ImageFormat::Gif,
        DocumentKind::Webp => ImageFormat::WebP,
        DocumentKind::Tiff => ImageFormat::Tiff,
        DocumentKind::Pdf => return Err(DocumentError::Unsupported("a PDF".to_owned())),
    };
    let file = File::open(path).map_err(DocumentError::Io)?;
    let mut reader = ImageReader::new(BufReader::new(file));
    reader.set_format(format);
    Ok(reader)
}

/// A JPEG is whole when its last scan is followed by an end-of-image marker.
/// Scan data escapes 0xFF bytes, so a marker inside it cannot be a false match;
/// an EXIF thumbnail's end marker comes before the main image's scans.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    match last_scan {
        Some(at) => bytes[at..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    }
}

fn open_tiff(path: &Path) -> Result<TiffDecoder<BufReader<File>>, DocumentError> {
    let file = File::open(path).map_err(DocumentError::Io)?;
    TiffDecoder::new(BufReader::new(file)).map_err(|e| tiff_error(&e))
}

fn check_pixels(width: u32, height: u32, max_pixels: u64) -> Result<(), DocumentError> {
    if width == 0 || height == 0 {
        return Err(DocumentError::Corrupt(
            "the image has no pixels (0 width or height)".to_owned(),
        ));
    }
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(DocumentError::TooManyPixels {
            width,
            height,
            limit: max_pixels,
        });
    }
    Ok(())
}

fn decode_error(kind: DocumentKind, err: &image::ImageError) -> DocumentError {
    match err {
        image::ImageError::Limits(_) => DocumentError::Corrupt(format!(
            "the {} file claims a size larger than its header says",
            kind.name()
        )),
        image::ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            DocumentError::Corrupt(format!("the {} file is truncated", kind.name()))
        }
        other => DocumentError::Corrupt(format!(
            "the {} file is damaged and cannot be decoded ({other})",
            kind.name()
        )),
    }
}

fn tiff_error(err: &tiff::TiffError) -> DocumentError {
    match err {
        tiff::TiffError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            DocumentError::Corrupt("the TIFF file is truncated".to_owned())
        }
        tiff::TiffError::UnsupportedError(e) => DocumentError::Corrupt(format!(
            "the TIFF file uses a feature Scribe cannot read ({e})"
        )),
        other => DocumentError::Corrupt(format!(
            "the TIFF file is damaged and cannot be decoded ({other})"
        )),
    }
}

/// Converts the TIFF layouts scanners actually produce to 8-bit gray.
fn tiff_to_gray(
    w: u32,
    h: u32,
    color: ColorType,
    data: DecodingResult,
) -> Result<GrayImage, DocumentError> {
    let (wu, hu) = (w as usize, h as usize);
    let unsupported =
        || DocumentError::Corrupt(format!("the TIFF colour layout {color:?} is not supported"));
    let pixels: Vec<u8> = match (color, data) {
        (ColorType::Gray(1), DecodingResult::U8(bits)) => {
            let stride = wu.div_ceil(8);
            let mut out = Vec::with_capacity(wu * hu);
            for y in 0..hu {
                for x in 0..wu {
                    let byte = bits.get(y * stride + x / 8).copied().unwrap_or(0);
                    // In TIFF's BlackIsZero convention a set bit is white.
                    out.push(if byte & (0x80 >> (x % 8)) != 0 {
                        255
                    } else {
                        0
                    });
                }
            }
            out
        }
        (ColorType::Gray(8), DecodingResult::U8(v)) => v,
        (ColorType::Gray(16), DecodingResult::U16(v)) => v.iter().map(|p| (p >> 8) as u8).collect(),
        (ColorType::GrayA(8), DecodingResult::U8(v)) => v.chunks_exact(2).map(|p| p[0]).collect(),
        (ColorType::RGB(8), DecodingResult::U8(v)) => v.chunks_exact(3).map(luma).collect(),
        (ColorType::RGBA(8), DecodingResult::U8(v)) => v.chunks_exact(4).map(luma).collect(),
        (ColorType::RGB(16), DecodingResult::U16(v)) => v
            .chunks_exact(3)
            .map(|p| luma(&[(p[0] >> 8) as u8, (p[1] >> 8) as u8, (p[2] >> 8) as u8]))
            .collect(),
        (ColorType::CMYK(8), DecodingResult::U8(v)) => v
            .chunks_exact(4)
            .map(|p| {
                let k = 255 - u16::from(p[3]);
                let ch = |c: u8| ((255 - u16::from(c)) * k / 255) as u8;
                luma(&[ch(p[0]), ch(p[1]), ch(p[2])])
            })
            .collect(),
        _ => return Err(unsupported()),
    };
    GrayImage::from_raw(w, h, pixels).ok_or_else(|| {
        DocumentError::Corrupt("the TIFF page holds fewer pixels than its size says".to_owned())
    })
}

/// Gray pixels as a person would see them on white paper: transparent areas
/// (screenshots, exported scans) become white, not the black their RGB holds.
fn flatten_to_gray(image: image::DynamicImage) -> GrayImage {
    if !image.color().has_alpha() {
        return image.into_luma8();
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    let pixels = rgba
        .pixels()
        .map(|p| {
            let a = u32::from(p[3]);
            let gray = u32::from(luma(&p.0[..3]));
            ((gray * a + 255 * (255 - a)) / 255) as u8
        })
        .collect();
    GrayImage::from_raw(w, h, pixels).unwrap_or_else(|| GrayImage::new(w, h))
}

fn luma(p: &[u8]) -> u8 {
    ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8
}
