//! Image files (PNG, JPEG, TIFF, BMP, GIF, WebP, PNM, JPEG 2000) as pages.
//! Dimensions, resolution and orientation are read from the header and the
//! pixel limit is checked before anything is decoded, so a 30000×30000 PNG costs
//! a few bytes of reading, not gigabytes.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use image::{GrayImage, ImageBuffer, ImageFormat, ImageReader, RgbImage};
use tiff::ColorType;
use tiff::decoder::{Decoder as TiffDecoder, DecodingResult};
use tiff::tags::{PhotometricInterpretation, Tag};

use crate::density::{self, Density};
use crate::document::DocumentError;
use crate::sniff::DocumentKind;
use crate::subprocess::{self, ChildLimits, SubprocessError};

/// Headers (and JPEG's EXIF block, which holds the resolution some cameras
/// write) live in the first bytes; this much is read to find them.
const HEADER_BYTES: u64 = 256 * 1024;

/// One stored image of the file, as its header describes it.
#[derive(Debug, Clone, Copy)]
pub struct RasterPage {
    /// Pixels as stored, before any orientation tag is applied.
    pub width: u32,
    pub height: u32,
    pub density: Option<Density>,
    /// TIFF/EXIF Orientation (1–8; 1 is upright as stored), from the file's header.
    pub orientation: u16,
    /// 1 for bilevel scans, which the searchable PDF keeps 1-bit.
    pub bits_per_sample: u16,
}

impl RasterPage {
    /// Resolution across and down the page as a viewer shows it (a fax is
    /// 204 × 98 dpi; a turning tag swaps the two).
    pub fn upright_density(&self) -> Option<(f64, f64)> {
        let d = self.density?;
        Some(if self.orientation >= 5 {
            (d.y, d.x)
        } else {
            (d.x, d.y)
        })
    }

    /// Size as a viewer shows it, with the orientation tag applied.
    pub fn upright_size(&self) -> (u32, u32) {
        if self.orientation >= 5 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// An image file, opened and checked; pages decode on demand.
#[derive(Debug)]
pub struct RasterDocument {
    path: PathBuf,
    kind: DocumentKind,
    pages: Vec<RasterPage>,
    /// A TIFF whose chain of pages breaks after `pages` (cut short, or a
    /// damaged directory): why the page after them, and any after that, is
    /// lost. The pages before it are read; that one counts as a page that
    /// cannot be read.
    lost: Option<String>,
    max_pixels: u64,
    tool_limits: ChildLimits,
}

impl RasterDocument {
    pub fn open(
        path: &Path,
        kind: DocumentKind,
        max_pixels: u64,
        max_pages: usize,
        tool_limits: ChildLimits,
    ) -> Result<Self, DocumentError> {
        let mut lost = None;
        let pages = match kind {
            DocumentKind::Tiff => {
                let (pages, broken) = tiff_pages(path, max_pixels, max_pages)?;
                lost = broken;
                pages
            }
            DocumentKind::Jp2 => {
                let head = read_head(path)?;
                let (width, height) = jp2_dimensions(&head).ok_or_else(|| {
                    DocumentError::Corrupt(
                        "the JPEG 2000 file is damaged: it has no image header".to_owned(),
                    )
                })?;
                check_pixels(width, height, max_pixels)?;
                vec![RasterPage {
                    width,
                    height,
                    density: density::for_page(density::jp2(&head), width, height),
                    orientation: 1,
                    bits_per_sample: 8,
                }]
            }
            _ => {
                // The header alone: size, and the EXIF orientation phones write.
                let mut decoder = reader(path, kind)?
                    .into_decoder()
                    .map_err(|e| decode_error(kind, &e))?;
                let (width, height) = image::ImageDecoder::dimensions(&decoder);
                let orientation = image::ImageDecoder::orientation(&mut decoder)
                    .map_or(1, |o| u16::from(o.to_exif()));
                check_pixels(width, height, max_pixels)?;
                let head = read_head(path)?;
                let declared = match kind {
                    DocumentKind::Png => density::png(&head),
                    DocumentKind::Jpeg => density::jpeg(&head),
                    DocumentKind::Bmp => density::bmp(&head),
                    _ => None,
                };
                let density = density::for_page(declared, width, height);
                let bits_per_sample = match (kind, head.get(0..2)) {
                    (DocumentKind::Pnm, Some(b"P1" | b"P4")) => 1,
                    _ => 8,
                };
                vec![RasterPage {
                    width,
                    height,
                    density,
                    orientation,
                    bits_per_sample,
                }]
            }
        };
        Ok(Self {
            path: path.to_owned(),
            kind,
            pages,
            lost,
            max_pixels,
            tool_limits,
        })
    }

    pub fn page_count(&self) -> usize {
        self.pages.len() + usize::from(self.lost.is_some())
    }

    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header facts of page `index` (0-based).
    pub fn page(&self, index: usize) -> Option<&RasterPage> {
        self.pages.get(index)
    }

    /// Decodes page `index` (0-based) to grayscale, turned upright as its
    /// orientation tag says.
    pub fn decode(&self, index: usize) -> Result<GrayImage, DocumentError> {
        Ok(self.decode_page(index)?.gray)
    }

    /// Decodes page `index` (0-based), upright, as gray and, for a colour
    /// JPEG, PNG, TIFF, JPEG 2000 or the like, also as the colour it holds.
    pub fn decode_page(&self, index: usize) -> Result<Decoded, DocumentError> {
        match self.kind {
            DocumentKind::Tiff => self.decode_tiff(index),
            DocumentKind::Jp2 => self.decode_jp2(),
            _ => self.decode_with_image(),
        }
    }

    fn decode_with_image(&self) -> Result<Decoded, DocumentError> {
        if self.kind == DocumentKind::Jpeg
            && !jpeg_is_complete(&std::fs::read(&self.path).map_err(DocumentError::Io)?)
        {
            // The decoder would fill the missing rows with gray and carry on.
            return Err(DocumentError::Corrupt(
                "the JPEG file is truncated".to_owned(),
            ));
        }
        let mut reader = reader(&self.path, self.kind)?;
        reader.limits(self.decode_limits());
        let mut decoder = reader
            .into_decoder()
            .map_err(|e| decode_error(self.kind, &e))?;
        // Phones store pictures sideways and say so in EXIF; honour it first.
        let orientation = image::ImageDecoder::orientation(&mut decoder)
            .unwrap_or(image::metadata::Orientation::NoTransforms);
        let mut image =
            image::DynamicImage::from_decoder(decoder).map_err(|e| decode_error(self.kind, &e))?;
        image.apply_orientation(orientation);
        Ok(flatten(image))
    }

    /// Header checked already; this bounds what a lying header could make the decoder allocate.
    fn decode_limits(&self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(self.max_pixels.saturating_mul(8));
        limits
    }

    /// JPEG 2000 through OpenJPEG's command-line decoder, run like poppler's
    /// tools with a timeout and a memory limit, into a PNM that `image` reads.
    fn decode_jp2(&self) -> Result<Decoded, DocumentError> {
        let dir = tempfile::tempdir().map_err(DocumentError::Io)?;
        let out = dir.path().join("page.pnm");
        let args = [
            "-i".as_ref(),
            self.path.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
            "-quiet".as_ref(),
        ];
        self.run_tool("opj_decompress", &args, || {
            "the JPEG 2000 file is damaged and cannot be decoded".to_owned()
        })?;
        let mut reader = ImageReader::open(&out).map_err(DocumentError::Io)?;
        reader.set_format(ImageFormat::Pnm);
        reader.limits(self.decode_limits());
        let image = reader
            .decode()
            .map_err(|e| decode_error(DocumentKind::Jp2, &e))?;
        Ok(flatten(image))
    }

    fn decode_tiff(&self, index: usize) -> Result<Decoded, DocumentError> {
        if let Some(lost) = self.lost.as_ref().filter(|_| index >= self.pages.len()) {
            return Err(DocumentError::Corrupt(lost.clone()));
        }
        let decoded = match tiff_page(&self.path, index, self.max_pixels) {
            Err(refused @ DocumentError::UnsupportedEncoding { .. }) => {
                self.through_libtiff(index, refused)?
            }
            other => other?,
        };
        let orientation = self.pages.get(index).map_or(1, |p| p.orientation);
        Ok(Decoded {
            gray: apply_orientation(decoded.gray, orientation),
            colour: decoded.colour.map(|c| apply_orientation(c, orientation)),
        })
    }

    /// A page in a compression the `tiff` crate has no decoder for (a fax
    /// machine's CCITT Group 3, 1D or 2D; old-style JPEG) is rewritten
    /// uncompressed by libtiff's `tiffcp`, run like the other decoding tools
    /// with a timeout and a memory limit. libtiff reads past the damaged lines
    /// a phone line leaves in a fax, as a fax machine would. What libtiff
    /// cannot read either stays `refused`, except a fax it gives up on, which
    /// is damaged.
    fn through_libtiff(
        &self,
        index: usize,
        refused: DocumentError,
    ) -> Result<Decoded, DocumentError> {
        let dir = tempfile::tempdir().map_err(DocumentError::Io)?;
        // tiffcp takes `FILE,N` for page N and splits at the first comma: a
        // link with a plain name keeps a comma in the upload's path harmless.
        let input = dir.path().join("in.tif");
        let target = std::path::absolute(&self.path).map_err(DocumentError::Io)?;
        std::os::unix::fs::symlink(target, &input).map_err(DocumentError::Io)?;
        let page = format!("{},{index}", input.display());
        let out = dir.path().join("page.tif");
        // `-m 0`: the memory limit is the child's (tool_limits), not tiffcp's
        // own 256 MiB, which a big colour page would pass. `-f msb2lsb`: the
        // tiff crate ignores FillOrder, and fax servers often store bits
        // low-order first.
        let args = [
            "-m".as_ref(),
            "0".as_ref(),
            "-f".as_ref(),
            "msb2lsb".as_ref(),
            "-c".as_ref(),
            "none".as_ref(),
            page.as_ref(),
            out.as_os_str(),
        ];
        match self.run_tool("tiffcp", &args, || {
            format!(
                "the TIFF file is damaged: page {} cannot be decoded",
                index + 1
            )
        }) {
            Err(DocumentError::Corrupt(_)) if !is_fax(&self.path, index) => return Err(refused),
            other => other?,
        }
        tiff_page(&out, 0, self.max_pixels)
    }

    /// Runs a decoding tool within the render limits; a refusal is reported
    /// as the damage `damaged` describes.
    fn run_tool(
        &self,
        tool: &str,
        args: &[&std::ffi::OsStr],
        damaged: impl FnOnce() -> String,
    ) -> Result<(), DocumentError> {
        match subprocess::run(tool, args, self.tool_limits) {
            Ok(_) => Ok(()),
            Err(SubprocessError::Missing(tool)) => Err(DocumentError::ToolMissing(tool)),
            Err(SubprocessError::Timeout { secs, .. }) => {
                Err(DocumentError::RenderTimeout { secs })
            }
            Err(SubprocessError::Io { source, .. }) => Err(DocumentError::Io(source)),
            Err(SubprocessError::Failed { stderr, .. }) => {
                tracing::info!(%stderr, tool, "a decoding tool refused a file");
                Err(DocumentError::Corrupt(damaged()))
            }
        }
    }
}

/// Whether page `index` of the TIFF at `path` holds fax codes (CCITT modified
/// Huffman, Group 3 or Group 4), which libtiff always decodes.
fn is_fax(path: &Path, index: usize) -> bool {
    open_tiff(path)
        .ok()
        .and_then(|mut decoder| {
            decoder.seek_to_image(index).ok()?;
            decoder.find_tag_unsigned::<u16>(Tag::Compression).ok()?
        })
        .is_some_and(|c| (2..=4).contains(&c))
}

/// Page `index` of the TIFF at `path`, as stored (before its orientation tag).
fn tiff_page(path: &Path, index: usize, max_pixels: u64) -> Result<Decoded, DocumentError> {
    let mut decoder = open_tiff(path)?;
    decoder.seek_to_image(index).map_err(|e| tiff_error(&e))?;
    let (w, h) = decoder.dimensions().map_err(|e| tiff_error(&e))?;
    check_pixels(w, h, max_pixels)?;
    let color = decoder.colortype().map_err(|e| tiff_error(&e))?;
    let white_is_zero = decoder
        .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
        .ok()
        .flatten()
        == Some(PhotometricInterpretation::WhiteIsZero.to_u16());
    // G4 pages are decoded here, not by the tiff crate: its fax output
    // already follows the photometry on some files and not on others (a
    // min-is-white page came out inverted), and it refuses valid layouts
    // such as a strip taller than the page.
    let fax = decoder
        .find_tag_unsigned::<u16>(Tag::Compression)
        .ok()
        .flatten()
        == Some(4);
    if let Some(gray) = fax
        .then(|| g4_strips(&mut decoder, w, h, white_is_zero))
        .flatten()
    {
        return Ok(Decoded { gray, colour: None });
    }
    // The tiff crate turns WhiteIsZero samples into BlackIsZero itself.
    let data = decoder.read_image().map_err(|e| tiff_error(&e))?;
    tiff_pixels(w, h, color, data)
}

/// A CCITT G4 page decoded strip by strip with the `fax` crate. Fax codes
/// name white and black runs; with BlackIsZero photometry the file stores the
/// page inverted, so its "black" runs are the paper.
fn g4_strips(
    decoder: &mut TiffDecoder<BufReader<File>>,
    w: u32,
    h: u32,
    white_is_zero: bool,
) -> Option<GrayImage> {
    use std::io::{Seek, SeekFrom};
    let width = u16::try_from(w).ok()?;
    let offsets = decoder
        .find_tag_unsigned_vec::<u64>(Tag::StripOffsets)
        .ok()??;
    let counts = decoder
        .find_tag_unsigned_vec::<u64>(Tag::StripByteCounts)
        .ok()??;
    let rows_per_strip = decoder
        .find_tag_unsigned::<u32>(Tag::RowsPerStrip)
        .ok()
        .flatten()
        .unwrap_or(h)
        .min(h);
    let (ink, paper) = if white_is_zero { (0, 255) } else { (255, 0) };
    let total = w as usize * h as usize;
    let mut pixels = Vec::with_capacity(total);
    // Only the strips the page has rows for: a hostile table of offsets cannot
    // make us read (or decode) more than the page.
    let strips = h.div_ceil(rows_per_strip.max(1)) as usize;
    for (i, (&offset, &count)) in offsets.iter().zip(&counts).take(strips).enumerate() {
        let first_row = (i as u64).checked_mul(u64::from(rows_per_strip))?;
        let rows = u64::from(rows_per_strip).min(u64::from(h).saturating_sub(first_row)) as u32;
        if rows == 0 || pixels.len() >= total {
            break;
        }
        let file = decoder.inner();
        file.seek(SeekFrom::Start(offset)).ok()?;
        let mut strip = Vec::new();
        // A G4 strip is never larger than its rows uncompressed, plus slack.
        let bound = (u64::from(w).div_ceil(8) * u64::from(rows)).saturating_mul(2) + 1024;
        file.by_ref()
            .take(count.min(bound))
            .read_to_end(&mut strip)
            .ok()?;
        fax::decoder::decode_g4(strip.into_iter(), width, u16::try_from(rows).ok(), |line| {
            pixels.extend(fax::decoder::pels(line, width).map(|c| match c {
                fax::Color::Black => ink,
                fax::Color::White => paper,
            }));
        })?;
    }
    pixels.resize(total, paper);
    GrayImage::from_raw(w, h, pixels)
}

/// Every IFD of a TIFF: its size, resolution and orientation; and, when the
/// chain of IFDs breaks after the first, why the rest is lost. Refused when
/// no page is within `max_pixels`.
fn tiff_pages(
    path: &Path,
    max_pixels: u64,
    max_pages: usize,
) -> Result<(Vec<RasterPage>, Option<String>), DocumentError> {
    let mut decoder = open_tiff(path)?;
    let mut pages = Vec::new();
    // Whether a page is within the pixel limit, and the first refusal.
    let (mut fits, mut refused) = (false, None);
    // A file cut short (an interrupted download or copy) or with a damaged
    // directory still has its first pages whole.
    let lost = |pages: &[RasterPage], e: &tiff::TiffError| {
        format!(
            "the file breaks off after page {} ({}): this page and any after it are lost",
            pages.len(),
            tiff_error(e)
        )
    };
    let lost = loop {
        if pages.len() >= max_pages {
            return Err(DocumentError::TooManyPages {
                pages: None,
                limit: max_pages,
            });
        }
        let (width, height) = match decoder.dimensions() {
            Ok(size) => size,
            Err(e) if !pages.is_empty() => break Some(lost(&pages, &e)),
            Err(e) => return Err(tiff_error(&e)),
        };
        match check_pixels(width, height, max_pixels) {
            Ok(()) => fits = true,
            // Refused when it is read, as one page; the file is refused now
            // only if no page fits (`within`).
            Err(e) => {
                refused.get_or_insert(e);
            }
        }
        let mut rational = |tag| match decoder.find_tag(tag).ok().flatten()? {
            tiff::decoder::ifd::Value::Rational(n, d) if d > 0 => Some(f64::from(n) / f64::from(d)),
            tiff::decoder::ifd::Value::Float(v) => Some(f64::from(v)),
            tiff::decoder::ifd::Value::Double(v) => Some(v),
            other => other.into_u32().ok().map(f64::from),
        };
        let (x, y) = (rational(Tag::XResolution), rational(Tag::YResolution));
        let unit = decoder
            .find_tag_unsigned::<u16>(Tag::ResolutionUnit)
            .ok()
            .flatten();
        let orientation = decoder
            .find_tag_unsigned::<u16>(Tag::Orientation)
            .ok()
            .flatten()
            .filter(|o| (1..=8).contains(o))
            .unwrap_or(1);
        // One value per sample (three for RGB): the deepest decides.
        let bits_per_sample = decoder
            .find_tag_unsigned_vec::<u16>(Tag::BitsPerSample)
            .ok()
            .flatten()
            .and_then(|v| v.into_iter().max())
            .unwrap_or(1);
        pages.push(RasterPage {
            width,
            height,
            density: density::for_page(density::from_tiff_tags(x, y, unit), width, height),
            orientation,
            bits_per_sample,
        });
        if !decoder.more_images() {
            break None;
        }
        if let Err(e) = decoder.next_image() {
            break Some(lost(&pages, &e));
        }
    };
    match refused {
        Some(e) if !fits => Err(e),
        _ => Ok((pages, lost)),
    }
}

/// Turns a stored raster upright as TIFF/EXIF orientation `tag` says.
fn apply_orientation<P>(
    image: ImageBuffer<P, Vec<P::Subpixel>>,
    tag: u16,
) -> ImageBuffer<P, Vec<P::Subpixel>>
where
    P: image::Pixel + 'static,
{
    use image::imageops::{flip_horizontal, flip_vertical, rotate90, rotate180, rotate270};
    match tag {
        2 => flip_horizontal(&image),
        3 => rotate180(&image),
        4 => flip_vertical(&image),
        5 => flip_horizontal(&rotate90(&image)),
        6 => rotate90(&image),
        7 => flip_horizontal(&rotate270(&image)),
        8 => rotate270(&image),
        _ => image,
    }
}

/// Width and height from a JP2 file's `ihdr` box or a bare codestream's SIZ marker.
fn jp2_dimensions(head: &[u8]) -> Option<(u32, u32)> {
    let be32 = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    if head.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        // SIZ: Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz.
        let (x, y) = (be32(head, 8)?, be32(head, 12)?);
        let (xo, yo) = (be32(head, 16)?, be32(head, 20)?);
        return Some((x.checked_sub(xo)?, y.checked_sub(yo)?));
    }
    let at = head.windows(4).position(|w| w == b"ihdr")?;
    let (height, width) = (be32(head, at + 4)?, be32(head, at + 8)?);
    Some((width, height))
}

fn read_head(path: &Path) -> Result<Vec<u8>, DocumentError> {
    let mut head = Vec::new();
    File::open(path)
        .and_then(|f| f.take(HEADER_BYTES).read_to_end(&mut head))
        .map_err(DocumentError::Io)?;
    Ok(head)
}

fn reader(path: &Path, kind: DocumentKind) -> Result<ImageReader<BufReader<File>>, DocumentError> {
    let format = match kind {
        DocumentKind::Png => ImageFormat::Png,
        DocumentKind::Jpeg => ImageFormat::Jpeg,
        DocumentKind::Bmp => ImageFormat::Bmp,
        DocumentKind::Gif => ImageFormat::Gif,
        DocumentKind::Webp => ImageFormat::WebP,
        DocumentKind::Tiff => ImageFormat::Tiff,
        DocumentKind::Pnm => ImageFormat::Pnm,
        DocumentKind::Jp2 | DocumentKind::Pdf => {
            return Err(DocumentError::Unsupported(format!("a {}", kind.name())));
        }
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
        other => {
            tracing::info!(error = %other, "image decoder refused a file");
            DocumentError::Corrupt(format!(
                "the {} file is damaged and cannot be decoded",
                kind.name()
            ))
        }
    }
}

fn tiff_error(err: &tiff::TiffError) -> DocumentError {
    match err {
        tiff::TiffError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            DocumentError::Corrupt("the TIFF file is truncated".to_owned())
        }
        // Not damage: a valid file Scribe has no decoder for.
        tiff::TiffError::UnsupportedError(e) => DocumentError::UnsupportedEncoding {
            kind: "TIFF",
            how: e.to_string(),
        },
        other => {
            tracing::info!(error = %other, "TIFF decoder refused a file");
            DocumentError::Corrupt("the TIFF file is damaged and cannot be decoded".to_owned())
        }
    }
}

/// Converts the TIFF layouts scanners actually produce to 8-bit gray, and
/// the colour ones to RGB as well (see [`Decoded`]).
fn tiff_pixels(
    w: u32,
    h: u32,
    color: ColorType,
    data: DecodingResult,
) -> Result<Decoded, DocumentError> {
    let (wu, hu) = (w as usize, h as usize);
    let unsupported =
        || DocumentError::Corrupt(format!("the TIFF colour layout {color:?} is not supported"));
    let short =
        || DocumentError::Corrupt("the TIFF page holds fewer pixels than its size says".to_owned());
    let gray = |pixels: Vec<u8>| GrayImage::from_raw(w, h, pixels).ok_or_else(short);
    let rgb: Vec<u8> = match (color, data) {
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
            return Ok(Decoded {
                gray: gray(out)?,
                colour: None,
            });
        }
        (ColorType::Gray(8), DecodingResult::U8(v)) => {
            return Ok(Decoded {
                gray: gray(v)?,
                colour: None,
            });
        }
        (ColorType::Gray(16), DecodingResult::U16(v)) => {
            return Ok(Decoded {
                gray: gray(v.iter().map(|p| (p >> 8) as u8).collect())?,
                colour: None,
            });
        }
        (ColorType::GrayA(8), DecodingResult::U8(v)) => {
            return Ok(Decoded {
                gray: gray(v.chunks_exact(2).map(|p| p[0]).collect())?,
                colour: None,
            });
        }
        (ColorType::RGB(8), DecodingResult::U8(v)) => v,
        (ColorType::RGBA(8), DecodingResult::U8(v)) => {
            v.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect()
        }
        (ColorType::RGB(16), DecodingResult::U16(v)) => v.iter().map(|c| (c >> 8) as u8).collect(),
        (ColorType::CMYK(8), DecodingResult::U8(v)) => v
            .chunks_exact(4)
            .flat_map(|p| {
                let k = 255 - u16::from(p[3]);
                let ch = |c: u8| ((255 - u16::from(c)) * k / 255) as u8;
                [ch(p[0]), ch(p[1]), ch(p[2])]
            })
            .collect(),
        _ => return Err(unsupported()),
    };
    let colour = RgbImage::from_raw(w, h, rgb).ok_or_else(short)?;
    Ok(Decoded {
        gray: gray(colour.pixels().map(|p| luma(&p.0)).collect())?,
        colour: Some(colour),
    })
}

/// A decoded page: gray for every step that analyses it, and the colour
/// pixels too when the file has colour, because Tesseract separates coloured
/// text from its background per channel and reads such pages better in colour.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub gray: GrayImage,
    pub colour: Option<RgbImage>,
}

/// Pixels as a person would see them on white paper: transparent areas
/// (screenshots, exported scans) become white, not the black their RGB holds.
fn flatten(image: image::DynamicImage) -> Decoded {
    if !image.color().has_color() && !image.color().has_alpha() {
        return Decoded {
            gray: image.into_luma8(),
            colour: None,
        };
    }
    let has_colour = image.color().has_color();
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut rgb = RgbImage::new(w, h);
    for (out, p) in rgb.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(p[3]);
        let on_white = |c: u8| ((u32::from(c) * a + 255 * (255 - a)) / 255) as u8;
        *out = image::Rgb([on_white(p[0]), on_white(p[1]), on_white(p[2])]);
    }
    drop(rgba);
    let pixels = rgb.pixels().map(|p| luma(&p.0)).collect();
    Decoded {
        gray: GrayImage::from_raw(w, h, pixels).unwrap_or_else(|| GrayImage::new(w, h)),
        colour: has_colour.then_some(rgb),
    }
}

/// Leptonica's weights, which Tesseract applies to the colour images the
/// `tesseract` command is given: coloured ink (a receipt's purple, a stamp)
/// then comes out as dark as Tesseract itself would see it.
fn luma(p: &[u8]) -> u8 {
    ((u32::from(p[0]) * 3 + u32::from(p[1]) * 5 + u32::from(p[2]) * 2) / 10) as u8
}

/// Limits for a decoding tool (OpenJPEG), from the render limits in the settings.
pub fn tool_limits(timeout_secs: u64, memory_mb: u64) -> ChildLimits {
    ChildLimits {
        timeout: Duration::from_secs(timeout_secs),
        memory_bytes: memory_mb * 1024 * 1024,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ChildLimits {
        ChildLimits {
            timeout: std::time::Duration::from_secs(20),
            memory_bytes: 512 << 20,
        }
    }

    /// A page of bars and blocks no two rows alike, as a PBM (1 is black).
    fn pattern() -> (GrayImage, Vec<u8>) {
        let (w, h) = (173u32, 61u32);
        let page = GrayImage::from_fn(w, h, |x, y| {
            let ink = (x * 7 + y * 3) % 23 < 5 || (x / 9 + y / 5) % 11 == 0;
            image::Luma([if ink { 0 } else { 255 }])
        });
        let mut pbm = format!("P4\n{w} {h}\n").into_bytes();
        for row in page.rows() {
            for byte in row.collect::<Vec<_>>().chunks(8) {
                pbm.push(
                    byte.iter()
                        .enumerate()
                        .fold(0u8, |b, (i, p)| if p.0[0] == 0 { b | 0x80 >> i } else { b }),
                );
            }
        }
        (page, pbm)
    }

    /// `pbm` as a TIFF made by netpbm's `pnmtotiff` with `options`.
    fn pnmtotiff(pbm: &[u8], options: &[&str], path: &Path) {
        let input = path.with_extension("pbm");
        std::fs::write(&input, pbm).expect("pbm");
        let out = std::process::Command::new("pnmtotiff")
            .args(options)
            .arg(&input)
            .output()
            .expect("pnmtotiff (netpbm, scripts/deps)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(path, out.stdout).expect("tiff");
    }

    #[test]
    fn two_tone_tiffs_are_read_exactly_in_every_compression_and_polarity() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (page, pbm) = pattern();
        let mut pgm = format!("P5\n{} {}\n255\n", page.width(), page.height()).into_bytes();
        pgm.extend_from_slice(page.as_raw());
        // A comma in the path: tiffcp would take what follows it for a page number.
        let sub = dir.path().join("fax,1");
        std::fs::create_dir(&sub).expect("dir");
        for (name, pnm, options) in [
            // A fax machine's Group 3, which libtiff decodes for us.
            ("1d.tif", &pbm, &["-g3", "-minisblack"][..]),
            ("2d.tif", &pbm, &["-g3", "-2d", "-fill", "-minisblack"][..]),
            ("fax.tif", &pbm, &["-g3", "-miniswhite"][..]),
            // Min-is-white was read inverted before: the tiff crate inverts
            // such samples itself.
            ("plain-white.tif", &pbm, &["-none", "-miniswhite"][..]),
            (
                "packbits-white.tif",
                &pbm,
                &["-packbits", "-miniswhite"][..],
            ),
            ("gray-white.tif", &pgm, &["-lzw", "-miniswhite"][..]),
            ("gray-black.tif", &pgm, &["-lzw", "-minisblack"][..]),
        ] {
            let path = sub.join(name);
            pnmtotiff(pnm, options, &path);
            let doc = RasterDocument::open(&path, DocumentKind::Tiff, 1 << 20, 10, limits())
                .expect("its header is valid");
            let decoded = doc.decode_page(0).expect("libtiff reads Group 3");
            assert!(decoded.colour.is_none());
            assert_eq!(decoded.gray.dimensions(), page.dimensions(), "{name}");
            let wrong = decoded
                .gray
                .pixels()
                .zip(page.pixels())
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(wrong, 0, "{name}: {wrong} pixels differ");
        }
    }

    #[test]
    fn a_group_3_page_whose_codes_are_noise_is_reported_as_damaged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, pbm) = pattern();
        let path = dir.path().join("fax.tif");
        pnmtotiff(&pbm, &["-g3"], &path);
        // pnmtotiff writes the strip first, from byte 8, and the directory after it.
        let mut bytes = std::fs::read(&path).expect("read");
        let ifd = u32::from_le_bytes(bytes[4..8].try_into().expect("offset")) as usize;
        assert!(ifd > 64, "the strip comes before the directory");
        bytes[8..ifd].fill(0xFF);
        std::fs::write(&path, bytes).expect("write");
        let doc = RasterDocument::open(&path, DocumentKind::Tiff, 1 << 20, 10, limits())
            .expect("its header is intact");
        let err = doc.decode_page(0).expect_err("no line can be decoded");
        assert_eq!(err.code(), "corrupt_file", "{err}");
        assert!(err.to_string().contains("page 1"), "{err}");
    }
}
