//! A scanned page read straight from the PDF. A page that is nothing but one
//! image painted over its whole visible box, at the resolution we render at,
//! rasterises to that image's own pixels; decoding the image in-process gives
//! them without a pdftoppm process, a page render and a PGM round trip (about
//! 60 ms of a 200-dpi A4 page, against ~0.75 s of recognition).
//!
//! Only the plain shapes scanners write are taken: `q w 0 0 h x y cm /Im Do Q`,
//! an upright page, an 8-bit gray or RGB image (or 1-bit gray) with no mask,
//! stored raw, Flate (optionally PNG-predicted) or JPEG. Every other page (and
//! any doubt: a stream that does not decode, is short, or claims other sizes)
//! answers `None` and goes to pdftoppm, which handles all of PDF.

use std::io::{Cursor, Read};
use std::path::Path;

use flate2::read::ZlibDecoder;
use image::codecs::jpeg::JpegDecoder;
use image::{ColorType, GrayImage, ImageDecoder, RgbImage};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use crate::geometry::Affine;

use super::objects::{inherited, number, rotation, shown_box};

/// lopdf holds a parsed file whole in memory; past this pdftoppm, which reads
/// only what a page needs, is the better tool.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// A scan page's drawing is a few dozen bytes; a larger stream is not one
/// (and is not worth inflating to find out).
const MAX_CONTENT_BYTES: usize = 4096;
/// How far (in points) the image may miss the page's edges and still be the page.
const EDGE_TOLERANCE_PT: f64 = 0.75;
/// How far (in pixels) the image's size may miss the page's size at the render
/// resolution: pdftoppm rounds a page's pixel size up.
const SIZE_TOLERANCE_PX: f64 = 1.5;

/// A page's pixels, as the image stores them.
#[derive(Debug)]
pub enum ScanPixels {
    Gray(GrayImage),
    Rgb(RgbImage),
}

/// A PDF parsed once, whose scanned pages can be read without rendering.
pub struct ScanPages {
    doc: Document,
    pages: Vec<ObjectId>,
}

impl std::fmt::Debug for ScanPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanPages")
            .field("pages", &self.pages.len())
            .finish_non_exhaustive()
    }
}

impl ScanPages {
    /// Parses `path`; `None` when it is too large to hold, encrypted, or not
    /// something lopdf reads (poppler may still: those pages render).
    pub fn load(path: &Path) -> Option<Self> {
        let size = std::fs::metadata(path).ok()?.len();
        if size > MAX_FILE_BYTES {
            return None;
        }
        let doc = Document::load(path)
            .map_err(
                |e| tracing::debug!(error = %e, "PDF pages will be rendered: lopdf cannot read it"),
            )
            .ok()?;
        // Decrypted streams would be ours to get right; poppler's are proven.
        if doc.is_encrypted() || doc.was_encrypted() {
            return None;
        }
        let pages = doc.get_pages().into_values().collect();
        Some(Self { doc, pages })
    }

    /// Whether lopdf's pages are poppler's: as many, each of the size pdfinfo
    /// gave (in points, `sizes`).
    pub fn agrees_with(&self, sizes: &[(f64, f64)]) -> bool {
        self.pages.len() == sizes.len()
            && self.pages.iter().zip(sizes).all(|(&page, &(w, h))| {
                shown_box(&self.doc, page).is_some_and(|[x0, y0, x1, y1]| {
                    let near = |a: f64, b: f64| (a - b).abs() <= 0.5;
                    let (bw, bh) = (x1 - x0, y1 - y0);
                    // pdfinfo may give a turned page's size turned or not.
                    (near(bw, w) && near(bh, h))
                        || (rotation(&self.doc, page) % 180 == 90 && near(bh, w) && near(bw, h))
                })
            })
    }

    /// Page `number` (1-based) as rendering it at `dpi` would give it, when it
    /// is a plain scan of at most `max_pixels`; `None` when it must be rendered.
    pub fn page(&self, number: usize, dpi: u32, max_pixels: u64) -> Option<ScanPixels> {
        let page = *self.pages.get(number.checked_sub(1)?)?;
        let doc = &self.doc;
        if rotation(doc, page) != 0 || draws_annotations(doc, page) {
            return None;
        }
        let [x0, y0, x1, y1] = shown_box(doc, page)?;
        let (name, placed) = single_image(doc, page)?;
        let near = |a: f64, b: f64| (a - b).abs() <= EDGE_TOLERANCE_PT;
        let covers = placed.b.abs() < 1e-6
            && placed.c.abs() < 1e-6
            && placed.a > 0.0
            && placed.d > 0.0
            && near(placed.e, x0)
            && near(placed.f, y0)
            && near(placed.e + placed.a, x1)
            && near(placed.f + placed.d, y1);
        if !covers {
            return None;
        }
        let image = image_stream(doc, page, &name)?;
        let spec = ImageSpec::read(doc, &image.dict)?;
        let scale = f64::from(dpi) / 72.0;
        let fits = |px: u32, pt: f64| (f64::from(px) - pt * scale).abs() <= SIZE_TOLERANCE_PX;
        if !fits(spec.width, x1 - x0)
            || !fits(spec.height, y1 - y0)
            || u64::from(spec.width) * u64::from(spec.height) > max_pixels
        {
            return None;
        }
        let pixels = decode(image, &spec);
        if pixels.is_none() {
            tracing::debug!(
                page = number,
                "scanned page will be rendered: its image did not decode here"
            );
        }
        pixels
    }
}

/// Whether pdftoppm would draw annotations over the page (links draw nothing).
fn draws_annotations(doc: &Document, page: ObjectId) -> bool {
    let Some(annots) = doc
        .get_dictionary(page)
        .ok()
        .and_then(|d| d.get(b"Annots").ok())
    else {
        return false;
    };
    let Ok((_, Object::Array(list))) = doc.dereference(annots) else {
        return true;
    };
    list.iter().any(|a| {
        let subtype = doc
            .dereference(a)
            .ok()
            .and_then(|(_, o)| o.as_dict().ok())
            .and_then(|d| d.get(b"Subtype").ok())
            .and_then(|t| t.as_name().ok());
        subtype != Some(b"Link".as_slice())
    })
}

/// The one image a page draws and where it puts the unit square, when the page
/// draws nothing else.
fn single_image(doc: &Document, page: ObjectId) -> Option<(Vec<u8>, Affine)> {
    let mut content = Vec::new();
    for id in doc.get_page_contents(page) {
        let stream = doc.get_object(id).ok()?.as_stream().ok()?;
        content.extend(content_bytes(doc, stream)?);
        // Streams of one page join at a token boundary.
        content.push(b'\n');
        if content.len() > MAX_CONTENT_BYTES {
            return None;
        }
    }
    let mut stack = Vec::new();
    let mut ctm = Affine::IDENTITY;
    let mut drawn = None;
    let mut operands: Vec<Token> = Vec::new();
    for token in tokens(&content) {
        let op = match token? {
            Token::Operator(op) => op,
            operand => {
                operands.push(operand);
                continue;
            }
        };
        match (op, operands.as_slice()) {
            (b"q", []) => stack.push(ctm),
            (b"Q", []) => ctm = stack.pop()?,
            (
                b"cm",
                [
                    Token::Number(a),
                    Token::Number(b),
                    Token::Number(c),
                    Token::Number(d),
                    Token::Number(e),
                    Token::Number(f),
                ],
            ) => {
                let (a, b, c, d, e, f) = (*a, *b, *c, *d, *e, *f);
                ctm = Affine { a, b, c, d, e, f }.then(ctm);
            }
            (b"Do", [Token::Name(name)]) if drawn.is_none() => drawn = Some((name.to_vec(), ctm)),
            _ => return None,
        }
        operands.clear();
    }
    if operands.is_empty() { drawn } else { None }
}

/// A content stream's bytes: stored plainly or with one Flate filter and no
/// parameters (what scan pages use), inflated to at most the content limit.
fn content_bytes(doc: &Document, stream: &Stream) -> Option<Vec<u8>> {
    if stream.dict.has(b"DecodeParms") {
        return None;
    }
    let names = filter_names(doc, &stream.dict)?;
    match names.as_slice() {
        [] => (stream.content.len() <= MAX_CONTENT_BYTES).then(|| stream.content.clone()),
        [b"FlateDecode"] => {
            let mut out = Vec::new();
            ZlibDecoder::new(stream.content.as_slice())
                .take(MAX_CONTENT_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .ok()?;
            (out.len() <= MAX_CONTENT_BYTES).then_some(out)
        }
        _ => None,
    }
}

#[derive(Debug)]
enum Token<'a> {
    Number(f64),
    Name(&'a [u8]),
    Operator(&'a [u8]),
}

/// The tokens of a content stream, as far as a scan page needs: numbers, names
/// and operators between PDF whitespace and comments. Anything else (strings,
/// arrays, dictionaries, inline images) is an error: such a page is rendered.
fn tokens(data: &[u8]) -> impl Iterator<Item = Option<Token<'_>>> {
    let white = |c: u8| matches!(c, 0 | b'\t' | b'\n' | 0x0c | b'\r' | b' ');
    let delimiter = move |c: u8| white(c) || b"()<>[]{}/%".contains(&c);
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            while i < data.len() && white(data[i]) {
                i += 1;
            }
            if data.get(i) == Some(&b'%') {
                while i < data.len() && !matches!(data[i], b'\n' | b'\r') {
                    i += 1;
                }
                continue;
            }
            break;
        }
        let start = i;
        let first = *data.get(i)?;
        if first == b'/' {
            i += 1;
        } else if !delimiter(first) {
        } else {
            i = data.len();
            return Some(None);
        }
        while i < data.len() && !delimiter(data[i]) {
            i += 1;
        }
        let word = &data[start..i];
        Some(if first == b'/' {
            Some(Token::Name(&word[1..]))
        } else if first.is_ascii_alphabetic() || first == b'\'' || first == b'"' {
            Some(Token::Operator(word))
        } else {
            std::str::from_utf8(word)
                .ok()?
                .parse()
                .ok()
                .map(Token::Number)
        })
    })
}

fn image_stream<'a>(doc: &'a Document, page: ObjectId, name: &[u8]) -> Option<&'a Stream> {
    let resources = doc
        .dereference(inherited(doc, page, b"Resources")?)
        .ok()?
        .1
        .as_dict()
        .ok()?;
    let xobjects = doc
        .dereference(resources.get(b"XObject").ok()?)
        .ok()?
        .1
        .as_dict()
        .ok()?;
    let stream = doc
        .dereference(xobjects.get(name).ok()?)
        .ok()?
        .1
        .as_stream()
        .ok()?;
    (stream.dict.get(b"Subtype").ok()?.as_name().ok()? == b"Image").then_some(stream)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Filter {
    None,
    Flate { png_predicted: bool },
    Jpeg,
}

/// What an image dictionary says, when it is one we decode.
#[derive(Debug)]
struct ImageSpec {
    width: u32,
    height: u32,
    components: u8,
    bits: u8,
    /// 1-bit only: `/Decode [1 0]`, ink stored as 1.
    inverted: bool,
    filter: Filter,
}

impl ImageSpec {
    fn read(doc: &Document, dict: &Dictionary) -> Option<Self> {
        let get = |key: &[u8]| {
            dict.get(key)
                .ok()
                .and_then(|o| doc.dereference(o).ok())
                .map(|(_, o)| o)
        };
        // Masks and stencils composite with what is under them.
        if get(b"ImageMask").and_then(|o| o.as_bool().ok()) == Some(true)
            || dict.has(b"SMask")
            || dict.has(b"Mask")
            // Optional content may be switched off, and then poppler draws nothing.
            || dict.has(b"OC")
        {
            return None;
        }
        let width = u32::try_from(get(b"Width")?.as_i64().ok()?).ok()?;
        let height = u32::try_from(get(b"Height")?.as_i64().ok()?).ok()?;
        if width == 0 || height == 0 {
            return None;
        }
        let components = colour_components(get(b"ColorSpace")?)?;
        let filter = filter(doc, dict)?;
        let bits = match (
            filter,
            get(b"BitsPerComponent").and_then(|o| o.as_i64().ok()),
        ) {
            (Filter::Jpeg, _) => 8,
            (_, Some(8)) => 8,
            (_, Some(1)) if components == 1 => 1,
            _ => return None,
        };
        let inverted = match get(b"Decode") {
            None => false,
            Some(d) => {
                let v: Vec<f64> = d
                    .as_array()
                    .ok()?
                    .iter()
                    .filter_map(|o| number(doc, o))
                    .collect();
                let identity: Vec<f64> = (0..components).flat_map(|_| [0.0, 1.0]).collect();
                if v == identity {
                    false
                } else if bits == 1 && v == [1.0, 0.0] {
                    true
                } else {
                    return None;
                }
            }
        };
        if let Filter::Flate {
            png_predicted: true,
        } = filter
        {
            // The predictor's row layout must be the image's own.
            let parms = flate_parms(doc, dict)?;
            let int =
                |key: &[u8], default: i64| parm(doc, parms, key).map(|v| v.unwrap_or(default));
            if int(b"Colors", 1) != Some(i64::from(components))
                || int(b"BitsPerComponent", 8) != Some(i64::from(bits))
                || int(b"Columns", 1) != Some(i64::from(width))
            {
                return None;
            }
        }
        Some(Self {
            width,
            height,
            components,
            bits,
            inverted,
            filter,
        })
    }

    fn row_bytes(&self) -> usize {
        (self.width as usize * usize::from(self.components) * usize::from(self.bits)).div_ceil(8)
    }
}

/// 1 for gray, 3 for RGB. ICC-based spaces are rendered: poppler maps their
/// samples through the profile, which can move every level.
fn colour_components(space: &Object) -> Option<u8> {
    match space {
        Object::Name(n) if n == b"DeviceGray" => Some(1),
        Object::Name(n) if n == b"DeviceRGB" => Some(3),
        _ => None,
    }
}

/// A stream's filter names; `None` when `/Filter` is not a name or an array of names.
fn filter_names<'a>(doc: &'a Document, dict: &'a Dictionary) -> Option<Vec<&'a [u8]>> {
    match dict.get(b"Filter").ok().map(|o| doc.dereference(o)) {
        None => Some(Vec::new()),
        Some(Ok((_, Object::Name(n)))) => Some(vec![n.as_slice()]),
        Some(Ok((_, Object::Array(a)))) => a
            .iter()
            .map(|o| doc.dereference(o).ok()?.1.as_name().ok())
            .collect(),
        Some(_) => None,
    }
}

/// An integer decode parameter: `Some(None)` when absent, `None` when not an integer.
fn parm(doc: &Document, parms: &Dictionary, key: &[u8]) -> Option<Option<i64>> {
    match parms.get(key) {
        Err(_) => Some(None),
        Ok(o) => doc.dereference(o).ok()?.1.as_i64().ok().map(Some),
    }
}

fn filter(doc: &Document, dict: &Dictionary) -> Option<Filter> {
    let names = filter_names(doc, dict)?;
    // An array of filters takes an array of parameters; poppler ignores a
    // mismatched shape, and so must the pixels we produce.
    let listed = matches!(
        dict.get(b"Filter").ok().map(|o| doc.dereference(o)),
        Some(Ok((_, Object::Array(_))))
    );
    let parms = dict.get(b"DecodeParms").ok().map(|o| doc.dereference(o));
    let has_parms = match parms {
        None | Some(Ok((_, Object::Null))) => false,
        Some(Ok((_, Object::Array(_)))) if listed => true,
        Some(Ok((_, Object::Dictionary(_)))) if !listed => true,
        Some(_) => return None,
    };
    match names.as_slice() {
        [] => Some(Filter::None),
        [b"FlateDecode"] => {
            let predictor = match flate_parms(doc, dict) {
                Some(p) => parm(doc, p, b"Predictor")?.unwrap_or(1),
                None => 1,
            };
            match predictor {
                1 => Some(Filter::Flate {
                    png_predicted: false,
                }),
                10..=15 => Some(Filter::Flate {
                    png_predicted: true,
                }),
                _ => None,
            }
        }
        // ColorTransform and friends change how poppler reads the JPEG.
        [b"DCTDecode"] if !has_parms => Some(Filter::Jpeg),
        _ => None,
    }
}

fn flate_parms<'a>(doc: &'a Document, dict: &'a Dictionary) -> Option<&'a Dictionary> {
    let parms = doc.dereference(dict.get(b"DecodeParms").ok()?).ok()?.1;
    match parms {
        Object::Dictionary(d) => Some(d),
        Object::Array(a) => doc.dereference(a.first()?).ok()?.1.as_dict().ok(),
        _ => None,
    }
}

fn decode(stream: &Stream, spec: &ImageSpec) -> Option<ScanPixels> {
    let samples = match spec.filter {
        Filter::Jpeg => return jpeg(&stream.content, spec),
        Filter::None => {
            let want = spec.row_bytes() * spec.height as usize;
            stream.content.get(..want)?.to_vec()
        }
        Filter::Flate { png_predicted } => inflate(&stream.content, spec, png_predicted)?,
    };
    let (w, h) = (spec.width, spec.height);
    match (spec.components, spec.bits) {
        (1, 1) => Some(ScanPixels::Gray(unpack_bits(&samples, spec)?)),
        (1, _) => GrayImage::from_raw(w, h, samples).map(ScanPixels::Gray),
        _ => RgbImage::from_raw(w, h, samples).map(ScanPixels::Rgb),
    }
}

/// Inflates exactly the image's rows (never more: a stream may be a bomb),
/// undoing PNG row prediction.
fn inflate(data: &[u8], spec: &ImageSpec, png_predicted: bool) -> Option<Vec<u8>> {
    let row = spec.row_bytes();
    let stored_row = row + usize::from(png_predicted);
    let want = stored_row.checked_mul(spec.height as usize)?;
    let mut out = Vec::with_capacity(want);
    ZlibDecoder::new(data)
        .take(want as u64)
        .read_to_end(&mut out)
        .ok()?;
    if out.len() < want {
        return None;
    }
    if !png_predicted {
        return Some(out);
    }
    let bpp = (usize::from(spec.components) * usize::from(spec.bits)).div_ceil(8);
    let mut pixels = Vec::with_capacity(row * spec.height as usize);
    let mut prior = vec![0u8; row];
    for stored in out.chunks_exact(stored_row) {
        let (kind, line) = (stored[0], &stored[1..]);
        let start = pixels.len();
        for (i, &x) in line.iter().enumerate() {
            let a = if i >= bpp { pixels[start + i - bpp] } else { 0 };
            let b = prior[i];
            let c = if i >= bpp { prior[i - bpp] } else { 0 };
            let predicted = match kind {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => paeth(a, b, c),
                _ => return None,
            };
            pixels.push(x.wrapping_add(predicted));
        }
        prior.copy_from_slice(&pixels[start..]);
    }
    Some(pixels)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// 1-bit rows (0 is black unless inverted) as 8-bit gray.
fn unpack_bits(samples: &[u8], spec: &ImageSpec) -> Option<GrayImage> {
    let (w, h) = (spec.width as usize, spec.height as usize);
    let row = spec.row_bytes();
    let (zero, one) = if spec.inverted { (255, 0) } else { (0, 255) };
    let mut pixels = Vec::with_capacity(w * h);
    for line in samples.chunks_exact(row).take(h) {
        pixels.extend((0..w).map(|x| {
            if line[x / 8] & (0x80 >> (x % 8)) == 0 {
                zero
            } else {
                one
            }
        }));
    }
    GrayImage::from_raw(spec.width, spec.height, pixels)
}

fn jpeg(data: &[u8], spec: &ImageSpec) -> Option<ScanPixels> {
    let decoder = JpegDecoder::new(Cursor::new(data)).ok()?;
    if decoder.dimensions() != (spec.width, spec.height) {
        return None;
    }
    let colour = decoder.color_type();
    let mut buf = vec![0; usize::try_from(decoder.total_bytes()).ok()?];
    decoder.read_image(&mut buf).ok()?;
    let (w, h) = (spec.width, spec.height);
    match (colour, spec.components) {
        (ColorType::L8, 1) => GrayImage::from_raw(w, h, buf).map(ScanPixels::Gray),
        (ColorType::Rgb8, 3) => RgbImage::from_raw(w, h, buf).map(ScanPixels::Rgb),
        // A JPEG whose components disagree with its colour space (CMYK, say).
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ExtendedColorType;
    use image::codecs::jpeg::JpegEncoder;
    use lopdf::content::{Content, Operation};
    use lopdf::dictionary;

    const DPI: u32 = 144;
    const W: u32 = 200;
    const H: u32 = 280;

    /// 4-pixel blocks of every level, different per channel, so a misplaced
    /// row or channel shows. (pdftoppm softens single-pixel detail a little
    /// even at the image's own resolution; blocks keep that out of the comparison.)
    fn samples(components: u32) -> Vec<u8> {
        (0..H * W * components)
            .map(|i| {
                let (x, y) = ((i / components) % W / 4, (i / components) / W / 4);
                ((x * 37 + y * 91) ^ (x * y) ^ (i % components * 85)) as u8
            })
            .collect()
    }

    /// PNG-filtered rows, cycling through all five filter types.
    fn png_rows(data: &[u8], row: usize, bpp: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for (y, line) in data.chunks_exact(row).enumerate() {
            let kind = (y % 5) as u8;
            out.push(kind);
            for i in 0..row {
                let a = if i >= bpp { line[i - bpp] } else { 0 };
                let b = if y > 0 { data[(y - 1) * row + i] } else { 0 };
                let c = if y > 0 && i >= bpp {
                    data[(y - 1) * row + i - bpp]
                } else {
                    0
                };
                let predicted = match kind {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                    _ => paeth(a, b, c),
                };
                out.push(line[i].wrapping_sub(predicted));
            }
        }
        out
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).expect("compress");
        enc.finish().expect("compress")
    }

    struct Page {
        image: Dictionary,
        data: Vec<u8>,
        content: Vec<Operation>,
        rotate: i64,
        annotation: Option<&'static str>,
    }

    fn page(image: Dictionary, data: Vec<u8>) -> Page {
        let (w, h) = (
            f64::from(W) * 72.0 / f64::from(DPI),
            f64::from(H) * 72.0 / f64::from(DPI),
        );
        Page {
            image,
            data,
            content: vec![
                Operation::new("q", vec![]),
                Operation::new(
                    "cm",
                    vec![
                        (w as f32).into(),
                        0.into(),
                        0.into(),
                        (h as f32).into(),
                        0.into(),
                        0.into(),
                    ],
                ),
                Operation::new("Do", vec!["Im0".into()]),
                Operation::new("Q", vec![]),
            ],
            rotate: 0,
            annotation: None,
        }
    }

    fn image_dict(space: &str, bits: i64) -> Dictionary {
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => i64::from(W),
            "Height" => i64::from(H),
            "ColorSpace" => space,
            "BitsPerComponent" => bits,
        }
    }

    fn write(p: Page, dir: &Path) -> std::path::PathBuf {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let image = doc.add_object(Stream::new(p.image, p.data));
        let content = Content {
            operations: p.content,
        }
        .encode()
        .expect("content");
        let content = doc.add_object(Stream::new(dictionary! {}, content));
        let (w, h) = (
            f64::from(W) * 72.0 / f64::from(DPI),
            f64::from(H) * 72.0 / f64::from(DPI),
        );
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), (w as f32).into(), (h as f32).into()],
            "Rotate" => p.rotate,
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } },
            "Contents" => content,
        });
        if let Some(kind) = p.annotation {
            let annot = dictionary! {
                "Type" => "Annot",
                "Subtype" => kind,
                "Rect" => vec![0.into(), 0.into(), 10.into(), 10.into()],
            };
            let dict = doc.get_dictionary_mut(page).expect("page");
            dict.set("Annots", vec![Object::Dictionary(annot)]);
        }
        doc.objects.insert(
            pages_id,
            Object::Dictionary(
                dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
            ),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let path = dir.join("page.pdf");
        doc.save(&path).expect("save");
        path
    }

    /// pdftoppm's render of page 1 at DPI, as RGB: the pixels we must equal.
    fn poppler(pdf: &Path) -> RgbImage {
        let root = pdf.with_file_name("render");
        let ok = std::process::Command::new("pdftoppm")
            .args(["-r", &DPI.to_string(), "-cropbox", "-singlefile"])
            .arg(pdf)
            .arg(&root)
            .status()
            .expect("pdftoppm runs")
            .success();
        assert!(ok, "pdftoppm failed");
        image::open(root.with_extension("ppm"))
            .expect("render")
            .into_rgb8()
    }

    fn read(pdf: &Path) -> Option<ScanPixels> {
        ScanPages::load(pdf)?.page(1, DPI, u64::MAX)
    }

    fn raw(pixels: &ScanPixels) -> &[u8] {
        match pixels {
            ScanPixels::Gray(g) => g.as_raw(),
            ScanPixels::Rgb(c) => c.as_raw(),
        }
    }

    fn mean(v: &[u8]) -> f64 {
        v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64
    }

    /// Reads page 1 of `p` without rendering and checks it against the pixels
    /// it stores (`expected`, within `tolerance` levels on average: 0 for
    /// lossless filters) and against pdftoppm's render (the same size, and
    /// the same brightness: nothing inverted or dropped). pdftoppm itself is
    /// not the pixel oracle: it softens detail even at the image's own size.
    fn assert_read(p: Page, colour: bool, expected: &[u8], tolerance: f64) {
        let dir = tempfile::tempdir().expect("tempdir");
        let pdf = write(p, dir.path());
        let ours = read(&pdf).expect("a plain scanned page is read without rendering");
        assert_eq!(matches!(ours, ScanPixels::Rgb(_)), colour);
        let got = raw(&ours);
        assert_eq!(got.len(), expected.len());
        let off = got
            .iter()
            .zip(expected)
            .map(|(&a, &b)| f64::from(a.abs_diff(b)))
            .sum::<f64>()
            / got.len() as f64;
        assert!(off <= tolerance, "{off:.2} levels from the stored pixels");
        let theirs = poppler(&pdf);
        let ours = match ours {
            ScanPixels::Gray(g) => image::DynamicImage::ImageLuma8(g).into_rgb8(),
            ScanPixels::Rgb(c) => c,
        };
        assert_eq!(ours.dimensions(), theirs.dimensions(), "pdftoppm's size");
        let (m, t) = (mean(ours.as_raw()), mean(theirs.as_raw()));
        assert!((m - t).abs() <= 3.0, "mean level {m:.1}, pdftoppm's {t:.1}");
    }

    #[test]
    fn raw_flate_and_predicted_gray_and_rgb_read_as_pdftoppm_renders_them() {
        let gray = samples(1);
        assert_read(
            page(image_dict("DeviceGray", 8), gray.clone()),
            false,
            &gray,
            0.0,
        );
        let mut flate = image_dict("DeviceGray", 8);
        flate.set("Filter", "FlateDecode");
        assert_read(page(flate, zlib(&gray)), false, &gray, 0.0);

        let rgb = samples(3);
        let mut predicted = image_dict("DeviceRGB", 8);
        predicted.set("Filter", vec![Object::Name(b"FlateDecode".to_vec())]);
        let parms = dictionary! { "Predictor" => 15, "Colors" => 3, "BitsPerComponent" => 8, "Columns" => i64::from(W) };
        predicted.set("DecodeParms", vec![parms.clone().into()]);
        let rows = png_rows(&rgb, W as usize * 3, 3);
        assert_read(page(predicted.clone(), zlib(&rows)), true, &rgb, 0.0);
        // Parameters not shaped like the filters are not read as poppler reads them.
        predicted.set("DecodeParms", parms);
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(read(&write(page(predicted, zlib(&rows)), dir.path())).is_none());
    }

    #[test]
    fn one_bit_pages_read_as_pdftoppm_renders_them_inverted_or_not() {
        let bits: Vec<u8> = samples(1).iter().map(|&v| v & 0xA5).collect();
        let row = (W as usize).div_ceil(8);
        let packed: Vec<u8> = bits
            .chunks_exact(W as usize)
            .flat_map(|r| r[..row].to_vec())
            .collect();
        let mut plain = image_dict("DeviceGray", 1);
        plain.set("Filter", "FlateDecode");
        let expand = |one: u8| -> Vec<u8> {
            packed
                .chunks_exact(row)
                .flat_map(|line| {
                    (0..W as usize).map(move |x| {
                        if line[x / 8] & (0x80 >> (x % 8)) == 0 {
                            255 - one
                        } else {
                            one
                        }
                    })
                })
                .collect()
        };
        assert_read(page(plain.clone(), zlib(&packed)), false, &expand(255), 0.0);
        plain.set("Decode", vec![1.into(), 0.into()]);
        assert_read(page(plain, zlib(&packed)), false, &expand(0), 0.0);
    }

    #[test]
    fn jpeg_pages_read_as_pdftoppm_renders_them() {
        for (space, colour, kind) in [
            ("DeviceGray", false, ExtendedColorType::L8),
            ("DeviceRGB", true, ExtendedColorType::Rgb8),
        ] {
            let pixels = samples(if colour { 3 } else { 1 });
            let mut jpeg = Vec::new();
            JpegEncoder::new_with_quality(&mut jpeg, 90)
                .encode(&pixels, W, H, kind)
                .expect("encode");
            let mut dict = image_dict(space, 8);
            dict.set("Filter", "DCTDecode");
            assert_read(page(dict, jpeg), colour, &pixels, 4.0);
        }
    }

    #[test]
    fn pages_that_are_more_than_one_upright_unmasked_image_are_left_to_pdftoppm() {
        let dir = tempfile::tempdir().expect("tempdir");
        let plain = || page(image_dict("DeviceGray", 8), samples(1));
        assert!(
            read(&write(plain(), dir.path())).is_some(),
            "the plain page is read"
        );

        let mut text = plain();
        text.content.push(Operation::new("BT", vec![]));
        text.content.push(Operation::new("ET", vec![]));
        let mut hidden_text = plain();
        // PDF whitespace a lenient parser stops at, then text poppler draws.
        hidden_text.content.push(Operation::new("\u{c}BT", vec![]));
        let mut optional = plain();
        optional.image.set("OC", Object::Reference((98, 0)));
        let mut icc = plain();
        icc.image.set(
            "ColorSpace",
            vec![
                Object::Name(b"ICCBased".to_vec()),
                Object::Reference((97, 0)),
            ],
        );
        let mut linked = plain();
        linked.annotation = Some("Link");
        assert!(
            read(&write(linked, dir.path())).is_some(),
            "a link draws nothing"
        );
        let mut stamped = plain();
        stamped.annotation = Some("Stamp");
        let mut turned = plain();
        turned.rotate = 90;
        let mut half = plain();
        half.content[1].operands[0] = 50.into();
        let mut masked = plain();
        masked.image.set("SMask", Object::Reference((99, 0)));
        let mut cmyk = plain();
        cmyk.image.set("ColorSpace", "DeviceCMYK");
        let mut short = plain();
        short.data.truncate(short.data.len() / 2);
        let mut bomb = plain();
        bomb.image.set("Filter", "FlateDecode");
        bomb.data = zlib(&vec![0; (W * H * 4) as usize]);
        for (what, p) in [
            ("other marks", text),
            ("text after a form feed", hidden_text),
            ("a stamp annotation", stamped),
            ("optional content", optional),
            ("an ICC-based colour space", icc),
            ("a turned page", turned),
            ("an image over half the page", half),
            ("a masked image", masked),
            ("CMYK", cmyk),
            ("a short stream", short),
        ] {
            assert!(
                read(&write(p, dir.path())).is_none(),
                "{what} must be rendered"
            );
        }
        // More data than the image holds is cut at the image's size.
        let got = read(&write(bomb, dir.path())).expect("decodes");
        assert!(matches!(got, ScanPixels::Gray(g) if g.dimensions() == (W, H)));

        let pdf = write(plain(), dir.path());
        let pages = ScanPages::load(&pdf).expect("loads");
        assert!(
            pages.page(1, DPI * 2, u64::MAX).is_none(),
            "another resolution must be rendered"
        );
        assert!(
            pages.page(1, DPI, u64::from(W * H) - 1).is_none(),
            "past the pixel limit"
        );
        assert!(pages.page(2, DPI, u64::MAX).is_none(), "there is no page 2");
    }
}
