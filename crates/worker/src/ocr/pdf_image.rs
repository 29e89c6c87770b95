//! An uploaded image as a PDF image object, as close to the file as PDF allows:
//! JPEG and JPEG 2000 bytes pass through untouched, a single-strip CCITT G4
//! TIFF keeps its fax stream, bilevel pages stay 1-bit, and everything else is
//! stored losslessly (Flate with PNG row prediction) in its own colours.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

use flate2::Compression;
use flate2::write::ZlibEncoder;
use image::{DynamicImage, ImageDecoder, ImageReader};
use lopdf::{Object, Stream, dictionary};
use scribe_core::DocumentKind;
use scribe_core::raster::RasterDocument;
use tiff::tags::Tag;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("the image could not be read again for the PDF: {0}")]
    Io(#[from] std::io::Error),
    #[error("the image could not be decoded for the PDF: {0}")]
    Decode(String),
}

/// An image object and how its pixels sit on the upright page.
pub struct Embedded {
    pub stream: Stream,
    /// Orientation (TIFF/EXIF, 1–8) still to apply when placing it: 1 when the
    /// pixels were turned upright before embedding.
    pub orientation: u16,
    /// Stored pixel size.
    pub width: u32,
    pub height: u32,
}

/// Embeds page `index` (0-based) of `raster`.
pub fn embed(raster: &RasterDocument, index: usize) -> Result<Embedded, EmbedError> {
    let page = raster
        .page(index)
        .ok_or_else(|| EmbedError::Decode(format!("there is no page {}", index + 1)))?;
    let (w, h) = (page.width, page.height);
    match raster.kind() {
        DocumentKind::Jpeg => {
            let bytes = std::fs::read(raster.path())?;
            let (components, adobe) = jpeg_layout(&bytes);
            let mut dict = dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => w,
                "Height" => h,
                "BitsPerComponent" => 8,
                "Filter" => "DCTDecode",
                "ColorSpace" => match components {
                    1 => "DeviceGray",
                    4 => "DeviceCMYK",
                    _ => "DeviceRGB",
                },
            };
            // Adobe's CMYK JPEGs store inverted ink values.
            if components == 4 && adobe {
                dict.set(
                    "Decode",
                    [1, 0, 1, 0, 1, 0, 1, 0]
                        .into_iter()
                        .map(Object::from)
                        .collect::<Vec<_>>(),
                );
            }
            Ok(Embedded {
                stream: Stream::new(dict, bytes).with_compression(false),
                orientation: page.orientation,
                width: w,
                height: h,
            })
        }
        DocumentKind::Jp2 => {
            let bytes = std::fs::read(raster.path())?;
            let dict = dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => w,
                "Height" => h,
                "Filter" => "JPXDecode",
            };
            Ok(Embedded {
                stream: Stream::new(dict, bytes).with_compression(false),
                orientation: 1,
                width: w,
                height: h,
            })
        }
        DocumentKind::Tiff => match g4_strip(raster, index)? {
            Some((data, black_is_1)) => {
                let dict = dictionary! {
                    "Type" => "XObject",
                    "Subtype" => "Image",
                    "Width" => w,
                    "Height" => h,
                    "BitsPerComponent" => 1,
                    "ColorSpace" => "DeviceGray",
                    "Filter" => "CCITTFaxDecode",
                    "DecodeParms" => dictionary! {
                        "K" => -1,
                        "Columns" => w,
                        "Rows" => h,
                        "BlackIs1" => black_is_1,
                    },
                };
                Ok(Embedded {
                    stream: Stream::new(dict, data).with_compression(false),
                    orientation: page.orientation,
                    width: w,
                    height: h,
                })
            }
            None => decoded(raster, index),
        },
        DocumentKind::Png => match palette_png(raster.path(), (w, h))? {
            Some(stream) => Ok(Embedded {
                stream,
                orientation: page.orientation,
                width: w,
                height: h,
            }),
            None => decoded(raster, index),
        },
        _ => decoded(raster, index),
    }
}

/// A palette PNG (screenshots, scans saved with few colours) as an indexed
/// image with its own palette: expanded to RGB it would take three times the
/// bytes. `None` for other PNGs, and for palettes with transparency, which
/// the page must show on white.
fn palette_png(path: &std::path::Path, (w, h): (u32, u32)) -> Result<Option<Stream>, EmbedError> {
    let mut decoder = png::Decoder::new(BufReader::new(File::open(path)?));
    decoder.set_transformations(png::Transformations::IDENTITY);
    let decode = |e: png::DecodingError| EmbedError::Decode(e.to_string());
    let mut reader = decoder.read_info().map_err(decode)?;
    let info = reader.info();
    let Some(palette) = info.palette.as_deref().map(<[u8]>::to_vec) else {
        return Ok(None);
    };
    let bits = info.bit_depth as usize;
    if info.color_type != png::ColorType::Indexed
        || info.trns.is_some()
        || (info.width, info.height) != (w, h)
        || palette.is_empty()
        || palette.len() % 3 != 0
    {
        return Ok(None);
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| EmbedError::Decode("the PNG is too large to decode".to_owned()))?;
    let mut indices = vec![0; size];
    let frame = reader.next_frame(&mut indices).map_err(decode)?;
    indices.truncate(frame.buffer_size());
    let space = Object::Array(vec![
        "Indexed".into(),
        "DeviceRGB".into(),
        Object::Integer(palette.len() as i64 / 3 - 1),
        Object::String(palette, lopdf::StringFormat::Hexadecimal),
    ]);
    flate_image(&indices, w, h, space, 1, bits).map(Some)
}

/// Embeds page `index` for a PDF/A file: as `embed`, except that a CMYK JPEG
/// (device CMYK needs a CMYK output intent, and ours is sRGB) and a JPEG 2000
/// (whose channels and colour boxes PDF/A constrains in ways we do not read)
/// are decoded and stored as RGB or gray with Flate instead of passed through.
pub fn embed_archival(raster: &RasterDocument, index: usize) -> Result<Embedded, EmbedError> {
    // A JPEG 2000 is never passed through here, so its bytes are not read for it.
    if raster.kind() != DocumentKind::Jp2 {
        let embedded = embed(raster, index)?;
        let space = embedded
            .stream
            .dict
            .get(b"ColorSpace")
            .and_then(Object::as_name);
        if space.ok() != Some(b"DeviceCMYK".as_slice()) {
            return Ok(embedded);
        }
    }
    let decoded = raster
        .decode_page(index)
        .map_err(|e| EmbedError::Decode(e.to_string()))?;
    match decoded.colour {
        Some(colour) => rgb(&colour),
        None => gray(&decoded.gray),
    }
}

/// A gray page (a render) stored losslessly.
pub fn gray(image: &image::GrayImage) -> Result<Embedded, EmbedError> {
    let (w, h) = image.dimensions();
    Ok(Embedded {
        stream: flate_image(image.as_raw(), w, h, "DeviceGray".into(), 1, 8)?,
        orientation: 1,
        width: w,
        height: h,
    })
}

/// A colour page (a render) stored losslessly.
pub fn rgb(image: &image::RgbImage) -> Result<Embedded, EmbedError> {
    let (w, h) = image.dimensions();
    Ok(Embedded {
        stream: flate_image(image.as_raw(), w, h, "DeviceRGB".into(), 3, 8)?,
        orientation: 1,
        width: w,
        height: h,
    })
}

/// Pixels decoded and stored losslessly, already upright.
fn decoded(raster: &RasterDocument, index: usize) -> Result<Embedded, EmbedError> {
    let bilevel = raster.page(index).is_some_and(|p| p.bits_per_sample == 1);
    let image = if bilevel || raster.kind() == DocumentKind::Tiff {
        // Our own TIFF path knows min-is-white, the orientation tag and every
        // page of the file, in colour when it holds colour.
        let page = raster
            .decode_page(index)
            .map_err(|e| EmbedError::Decode(e.to_string()))?;
        match page.colour {
            Some(colour) if !bilevel => DynamicImage::ImageRgb8(colour),
            _ if raster.kind() == DocumentKind::Tiff && !bilevel => {
                colour_tiff(raster, index).unwrap_or(DynamicImage::ImageLuma8(page.gray))
            }
            _ => DynamicImage::ImageLuma8(page.gray),
        }
    } else {
        let mut reader = ImageReader::open(raster.path())?
            .with_guessed_format()
            .map_err(EmbedError::Io)?;
        reader.no_limits();
        let mut decoder = reader
            .into_decoder()
            .map_err(|e| EmbedError::Decode(e.to_string()))?;
        let orientation = decoder
            .orientation()
            .unwrap_or(image::metadata::Orientation::NoTransforms);
        let mut image =
            DynamicImage::from_decoder(decoder).map_err(|e| EmbedError::Decode(e.to_string()))?;
        image.apply_orientation(orientation);
        image
    };
    let (w, h) = (image.width(), image.height());
    if bilevel && let Some(fax) = g4_encode(&image.to_luma8()) {
        let dict = dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => w,
            "Height" => h,
            "BitsPerComponent" => 1,
            "ColorSpace" => "DeviceGray",
            "Filter" => "CCITTFaxDecode",
            "DecodeParms" => dictionary! { "K" => -1, "Columns" => w, "Rows" => h },
        };
        return Ok(Embedded {
            stream: Stream::new(dict, fax).with_compression(false),
            orientation: 1,
            width: w,
            height: h,
        });
    }
    let (space, colors, pixels, bits) = if bilevel {
        ("DeviceGray", 1, pack_bits(&image.into_luma8()), 1)
    } else if image.color().has_color() {
        ("DeviceRGB", 3, on_white(image).into_raw(), 8)
    } else if image.color().has_alpha() {
        let rgb = on_white(image);
        (
            "DeviceGray",
            1,
            DynamicImage::ImageRgb8(rgb).into_luma8().into_raw(),
            8,
        )
    } else {
        ("DeviceGray", 1, image.into_luma8().into_raw(), 8)
    };
    Ok(Embedded {
        stream: flate_image(&pixels, w, h, space.into(), colors, bits)?,
        orientation: 1,
        width: w,
        height: h,
    })
}

/// An image object of raw pixels under Flate with the PNG "Up" predictor.
fn flate_image(
    pixels: &[u8],
    w: u32,
    h: u32,
    space: Object,
    colors: usize,
    bits: usize,
) -> Result<Stream, EmbedError> {
    let row = (w as usize * colors * bits).div_ceil(8);
    let data = deflate_up(pixels, row)?;
    let dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => w,
        "Height" => h,
        "BitsPerComponent" => bits as i64,
        "ColorSpace" => space,
        "Filter" => "FlateDecode",
        "DecodeParms" => dictionary! {
            "Predictor" => 12,
            "Colors" => colors as i64,
            "BitsPerComponent" => bits as i64,
            "Columns" => w,
        },
    };
    Ok(Stream::new(dict, data).with_compression(false))
}

/// A colour TIFF our own path reads as gray (palette, 16-bit) through `image`,
/// upright; `None` when it cannot, and the gray page is used instead. `image`
/// reads only a TIFF's first page.
fn colour_tiff(raster: &RasterDocument, index: usize) -> Option<DynamicImage> {
    if index != 0 {
        return None;
    }
    let mut reader = ImageReader::open(raster.path()).ok()?;
    reader.set_format(image::ImageFormat::Tiff);
    reader.no_limits();
    let image = reader.decode().ok()?;
    if !image.color().has_color() {
        return None;
    }
    let orientation = raster.page(index).map_or(1, |p| p.orientation);
    let mut image = image;
    if let Some(o) = image::metadata::Orientation::from_exif(orientation as u8) {
        image.apply_orientation(o);
    }
    Some(image)
}

/// Transparent areas become white paper, as the OCR copy treats them.
fn on_white(image: DynamicImage) -> image::RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = image::RgbImage::new(w, h);
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(p[3]);
        for c in 0..3 {
            o[c] = ((u32::from(p[c]) * a + 255 * (255 - a)) / 255) as u8;
        }
    }
    out
}

/// A bilevel page as CCITT G4, the densest lossless code for scans of text
/// (what the scanner's own G4 TIFF used); `None` past G4's 65535-pixel width.
fn g4_encode(gray: &image::GrayImage) -> Option<Vec<u8>> {
    use fax::{Color, encoder::Encoder};
    let width = u16::try_from(gray.width()).ok()?;
    let mut encoder = Encoder::new(fax::VecWriter::new());
    for row in gray.as_raw().chunks_exact(gray.width().max(1) as usize) {
        let pels = row
            .iter()
            .map(|&p| if p < 128 { Color::Black } else { Color::White });
        encoder.encode_line(pels, width).ok()?;
    }
    Some(encoder.finish().ok()?.finish())
}

/// 8-bit gray (0 or 255 after bilevel decoding) packed 8 pixels a byte, 1 = white.
fn pack_bits(gray: &image::GrayImage) -> Vec<u8> {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let stride = w.div_ceil(8);
    let mut out = vec![0u8; stride * h];
    for (y, row) in gray.as_raw().chunks_exact(w.max(1)).enumerate() {
        for (x, &p) in row.iter().enumerate() {
            if p >= 128 {
                out[y * stride + x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    out
}

/// Zlib with the PNG "Up" filter on every row: scans change little from one
/// row to the next, so this halves what plain deflate leaves.
fn deflate_up(pixels: &[u8], row: usize) -> Result<Vec<u8>, EmbedError> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::new(6));
    let mut line = vec![0u8; row + 1];
    let mut previous = vec![0u8; row];
    for current in pixels.chunks(row.max(1)) {
        line[0] = 2;
        for (i, &p) in current.iter().enumerate() {
            line[i + 1] = p.wrapping_sub(previous[i]);
        }
        z.write_all(&line[..=current.len()])?;
        previous[..current.len()].copy_from_slice(current);
    }
    Ok(z.finish()?)
}

/// The components of a JPEG's frame and whether it carries Adobe's APP14 marker.
fn jpeg_layout(bytes: &[u8]) -> (u8, bool) {
    let (mut components, mut adobe) = (3, false);
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        match marker {
            0xEE if bytes.get(at + 4..at + 9) == Some(b"Adobe") => adobe = true,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                components = bytes.get(at + 9).copied().unwrap_or(3);
                break;
            }
            _ => {}
        }
        at += 2 + len;
    }
    (components, adobe)
}

/// The raw fax stream of a TIFF page stored as one CCITT G4 strip, and
/// whether a 1 bit is black in it (PhotometricInterpretation BlackIsZero).
fn g4_strip(raster: &RasterDocument, index: usize) -> Result<Option<(Vec<u8>, bool)>, EmbedError> {
    let file = File::open(raster.path())?;
    let Ok(mut decoder) = tiff::decoder::Decoder::new(BufReader::new(file)) else {
        return Ok(None);
    };
    if decoder.seek_to_image(index).is_err() {
        return Ok(None);
    }
    let mut tag = |t| decoder.find_tag_unsigned::<u32>(t).ok().flatten();
    let compression = tag(Tag::Compression);
    let fill_order = tag(Tag::FillOrder).unwrap_or(1);
    let photometric = tag(Tag::PhotometricInterpretation).unwrap_or(0);
    if compression != Some(4) || fill_order != 1 {
        return Ok(None);
    }
    let offsets = decoder
        .find_tag_unsigned_vec::<u64>(Tag::StripOffsets)
        .ok()
        .flatten()
        .unwrap_or_default();
    let counts = decoder
        .find_tag_unsigned_vec::<u64>(Tag::StripByteCounts)
        .ok()
        .flatten()
        .unwrap_or_default();
    let ([offset], [count]) = (offsets.as_slice(), counts.as_slice()) else {
        return Ok(None);
    };
    let file = decoder.inner();
    file.seek(SeekFrom::Start(*offset))?;
    let mut data = Vec::new();
    file.by_ref().take(*count).read_to_end(&mut data)?;
    Ok(Some((data, photometric == 1)))
}
