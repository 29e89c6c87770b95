//! One page's invisible text, as a one-page PDF in the coordinates of the page
//! as uploaded. Tesseract writes its text-only PDF in the frame of the image it
//! read (upscaled, turned, deskewed); this moves it, with one `cm`, into a page
//! whose unit is one original pixel (y up, origin bottom-left), so whoever puts
//! it on the final page only needs to know the original's size.

use std::path::{Path, PathBuf};

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use scribe_core::geometry::Affine;
use scribe_core::pdf::objects::media_size;
use scribe_core::results::BBox;

#[derive(Debug, thiserror::Error)]
pub enum TextLayerError {
    #[error("Tesseract's text layer could not be read: {0}")]
    Read(#[source] lopdf::Error),
    #[error("Tesseract's text layer has no page")]
    NoPage,
    #[error("the text layer could not be written: {0}")]
    Write(#[source] std::io::Error),
}

/// Where a layer's page box is, in original pixels.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    /// The image Tesseract read, in its own pixels.
    pub ocr_size: (u32, u32),
    /// From those pixels to the original's (both y down).
    pub to_original: Affine,
    pub original_size: (u32, u32),
}

/// Where another reading of the same page writes its text layer: next to
/// `base` (the page's own, without `.pdf`), its name followed by `suffix`.
pub fn beside(base: &Path, suffix: &str) -> PathBuf {
    let name = base
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    base.with_file_name(format!("{name}-{suffix}"))
}

fn first_page(doc: &Document) -> Result<lopdf::ObjectId, TextLayerError> {
    doc.get_pages()
        .into_values()
        .next()
        .ok_or(TextLayerError::NoPage)
}

/// Adds the text of Tesseract's text-only pages `extras` to its page at
/// `page`. All were written by the same renderer for the same image, so they
/// share the page box and the one glyphless font, and their drawing can follow
/// `page`'s as it is.
pub fn append(page: &Path, extras: &[PathBuf]) -> Result<(), TextLayerError> {
    let mut doc = Document::load(page).map_err(TextLayerError::Read)?;
    let id = first_page(&doc)?;
    let mut content = doc.get_page_content(id).map_err(TextLayerError::Read)?;
    for extra in extras {
        let other = Document::load(extra).map_err(TextLayerError::Read)?;
        content.push(b'\n');
        content.extend(
            other
                .get_page_content(first_page(&other)?)
                .map_err(TextLayerError::Read)?,
        );
    }
    set_content(&mut doc, id, content)?;
    doc.save(page).map_err(TextLayerError::Write)?;
    Ok(())
}

/// Makes `content` the whole of `page`'s drawing, dropping what it replaces.
fn set_content(
    doc: &mut Document,
    page: lopdf::ObjectId,
    content: Vec<u8>,
) -> Result<(), TextLayerError> {
    let mut stream = Stream::new(dictionary! {}, content);
    // Compression failing only leaves the stream larger.
    let _ = stream.compress();
    let contents = doc.add_object(stream);
    doc.get_dictionary_mut(page)
        .map_err(TextLayerError::Read)?
        .set("Contents", contents);
    doc.prune_objects();
    Ok(())
}

/// Rewrites Tesseract's text-only page at `source` into `dest`, placed by `frame`.
pub fn normalize(source: &Path, frame: Frame, dest: &Path) -> Result<(), TextLayerError> {
    let mut doc = Document::load(source).map_err(TextLayerError::Read)?;
    let page = first_page(&doc)?;
    let (w_pt, h_pt) = media_size(&doc, page)
        .unwrap_or((f64::from(frame.ocr_size.0), f64::from(frame.ocr_size.1)));
    let (ocr_w, ocr_h) = (f64::from(frame.ocr_size.0), f64::from(frame.ocr_size.1));
    let (orig_w, orig_h) = (
        f64::from(frame.original_size.0),
        f64::from(frame.original_size.1),
    );
    // Tesseract's points (y up) → its image's pixels (y down) → original pixels
    // (y down) → original pixels with y up, as a PDF page counts them.
    let m = Affine {
        a: ocr_w / w_pt.max(1e-9),
        b: 0.0,
        c: 0.0,
        d: -ocr_h / h_pt.max(1e-9),
        e: 0.0,
        f: ocr_h,
    }
    .then(frame.to_original)
    .then(Affine {
        d: -1.0,
        f: orig_h,
        ..Affine::IDENTITY
    });
    let body = doc.get_page_content(page).map_err(TextLayerError::Read)?;
    let mut content = format!(
        "q {:.6} {:.6} {:.6} {:.6} {:.4} {:.4} cm\n",
        m.a, m.b, m.c, m.d, m.e, m.f
    )
    .into_bytes();
    content.extend_from_slice(&body);
    content.extend_from_slice(b"\nQ\n");
    set_content(&mut doc, page, content)?;
    let dict = doc.get_dictionary_mut(page).map_err(TextLayerError::Read)?;
    dict.set(
        "MediaBox",
        vec![
            0.into(),
            0.into(),
            Object::Real(orig_w as f32),
            Object::Real(orig_h as f32),
        ],
    );
    dict.remove(b"CropBox");
    doc.save(dest).map_err(TextLayerError::Write)?;
    Ok(())
}

/// Leaves out of the layer at `layer` (as [`normalize`] wrote it) the words
/// that stand on `own`: the boxes, in original pixels (y down), of text the
/// page already has. Its own text stays on the page, so a text extractor or a
/// viewer's search would otherwise find those words twice. Returns how many
/// words were left out.
pub fn leave_out(layer: &Path, own: &[BBox]) -> Result<usize, TextLayerError> {
    if own.is_empty() {
        return Ok(0);
    }
    let mut doc = Document::load(layer).map_err(TextLayerError::Read)?;
    let page = first_page(&doc)?;
    let (_, height) = media_size(&doc, page).ok_or(TextLayerError::NoPage)?;
    let body = doc.get_page_content(page).map_err(TextLayerError::Read)?;
    let content = Content::decode(&body).map_err(TextLayerError::Read)?;
    let mut pen = Pen::default();
    let mut kept = Vec::with_capacity(content.operations.len());
    let mut left_out = 0;
    for op in content.operations {
        // The layer's page counts y up; the boxes, y down.
        let repeats = pen.follow(&op).is_some_and(|word| {
            let word = Placed {
                y: height - word.y,
                ..word
            };
            own.iter().any(|b| word.stands_on(b))
        });
        if repeats {
            left_out += 1;
        } else {
            kept.push(op);
        }
    }
    if left_out == 0 {
        return Ok(0);
    }
    let content = Content { operations: kept }
        .encode()
        .map_err(TextLayerError::Read)?;
    set_content(&mut doc, page, content)?;
    doc.save(layer).map_err(TextLayerError::Write)?;
    Ok(left_out)
}

/// Whether a word read at `word` (original pixels, y down) stands on one of
/// the page's own words `own`, as [`leave_out`] judges it.
pub fn on_own_text(word: &BBox, own: &[BBox]) -> bool {
    let placed = Placed {
        x: f64::from(word.x) + f64::from(word.width) / 2.0,
        y: f64::from(word.y) + f64::from(word.height) / 2.0,
        height: f64::from(word.width.min(word.height)),
    };
    own.iter().any(|b| placed.stands_on(b))
}

/// Where a word lies on a page: its middle and its letters' height.
#[derive(Debug, Clone, Copy)]
struct Placed {
    x: f64,
    y: f64,
    height: f64,
}

impl Placed {
    /// Whether the word's middle (y down) is on `b`, give or take a quarter
    /// of its letters' height, and its letters are of a size with one side of
    /// the box (its height; its width for a word set vertically, or a single
    /// letter), which a stamp set diagonally across the page, its box far
    /// larger both ways than its letters, is not.
    fn stands_on(&self, b: &BBox) -> bool {
        let (left, top) = (f64::from(b.x), f64::from(b.y));
        let (width, height) = (f64::from(b.width), f64::from(b.height));
        let slack = self.height / 4.0;
        let near = |side: f64| side <= 3.0 * self.height && self.height <= 3.0 * side;
        (near(width) || near(height))
            && left - slack <= self.x
            && self.x <= left + width + slack
            && top - slack <= self.y
            && self.y <= top + height + slack
    }
}

/// Enough of PDF's graphics and text state to place the words Tesseract's
/// renderer shows: `q`, `Q` and `cm`; `Tm`, `Td`, `Tf` and `Tz`. It moves to
/// each word with `Tm` or `Td`, so the line matrix is where each word starts.
#[derive(Debug, Clone)]
struct Pen {
    ctm: Affine,
    saved: Vec<Affine>,
    line: Affine,
    size: f64,
    stretch: f64,
}

impl Default for Pen {
    fn default() -> Self {
        Self {
            ctm: Affine::IDENTITY,
            saved: Vec::new(),
            line: Affine::IDENTITY,
            size: 0.0,
            stretch: 1.0,
        }
    }
}

/// Width of every glyph of Tesseract's glyphless font, in text space units
/// per unit of font size (its `/DW 500`).
const GLYPH_WIDTH: f64 = 0.5;

impl Pen {
    /// Follows `op`; for one that shows text, where that text lies (y up).
    fn follow(&mut self, op: &Operation) -> Option<Placed> {
        let n = |i: usize| {
            op.operands
                .get(i)
                .and_then(|o| o.as_float().ok())
                .map(f64::from)
        };
        let matrix = || {
            Some(Affine {
                a: n(0)?,
                b: n(1)?,
                c: n(2)?,
                d: n(3)?,
                e: n(4)?,
                f: n(5)?,
            })
        };
        match op.operator.as_str() {
            "q" => self.saved.push(self.ctm),
            "Q" => self.ctm = self.saved.pop().unwrap_or(Affine::IDENTITY),
            "cm" => self.ctm = matrix()?.then(self.ctm),
            "BT" => self.line = Affine::IDENTITY,
            "Tm" => self.line = matrix()?,
            "Td" | "TD" => self.line = Affine::translate(n(0)?, n(1)?).then(self.line),
            "Tf" => self.size = n(1)?,
            "Tz" => self.stretch = n(0)? / 100.0,
            "Tj" | "TJ" => {
                let glyphs = glyph_count(op.operands.first()?);
                let to_page = self.line.then(self.ctm);
                let width = glyphs as f64 * GLYPH_WIDTH * self.size * self.stretch;
                // Halfway along, and a third of the font's height above the baseline.
                let (x, y) = to_page.apply(width / 2.0, self.size / 3.0);
                let (x0, y0) = to_page.apply(0.0, 0.0);
                let (x1, y1) = to_page.apply(0.0, self.size);
                let height = (x1 - x0).hypot(y1 - y0);
                return Some(Placed { x, y, height });
            }
            _ => {}
        }
        None
    }
}

/// Glyphs in a `Tj` string or `TJ` array of Tesseract's two-byte codes.
fn glyph_count(shown: &Object) -> usize {
    match shown {
        Object::String(bytes, _) => bytes.len() / 2,
        Object::Array(parts) => parts.iter().map(glyph_count).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-page layer 200 × 200 units drawing `body`.
    fn layer(dir: &Path, body: &str) -> PathBuf {
        let mut doc = Document::with_version("1.5");
        let pages = doc.new_object_id();
        let contents = doc.add_object(Stream::new(dictionary! {}, body.as_bytes().to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages,
            "MediaBox" => vec![0.into(), 0.into(), 200.into(), 200.into()],
            "Contents" => contents,
        });
        doc.objects.insert(
            pages,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => vec![page.into()],
                "Count" => 1,
            }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        let path = dir.join("layer.pdf");
        doc.save(&path).expect("save");
        path
    }

    fn shown(path: &Path) -> Vec<Vec<u8>> {
        let doc = Document::load(path).expect("load");
        let body = doc
            .get_page_content(first_page(&doc).expect("page"))
            .expect("content");
        Content::decode(&body)
            .expect("decode")
            .operations
            .iter()
            .filter(|op| op.operator == "TJ")
            .filter_map(|op| match op.operands.first()? {
                Object::Array(parts) => parts.first()?.as_str().ok().map(<[u8]>::to_vec),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn only_the_words_on_the_pages_own_text_are_left_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Scaled by 2: "AB" from (20, 160) to (40, 180) in y-up units, "CD" 60 units right.
        let body = "q 2 0 0 2 0 0 cm\nBT 3 Tr 1 0 0 1 10 80 Tm /f-0-0 10 Tf 100 Tz [ <00410042> ] TJ \
                    30 0 Td [ <00430044> ] TJ ET\nQ";
        let path = layer(dir.path(), body);
        // A stamp set diagonally across the page: its box covers "CD" but is
        // far larger both ways than its letters.
        let turned = BBox {
            x: 60,
            y: 0,
            width: 100,
            height: 100,
        };
        assert_eq!(leave_out(&path, &[turned]).expect("leave out"), 0);
        assert_eq!(shown(&path).len(), 2);
        // The page's own word where "AB" is (y down: 20 to 40).
        let own = BBox {
            x: 18,
            y: 22,
            width: 24,
            height: 18,
        };
        assert_eq!(leave_out(&path, &[own, turned]).expect("leave out"), 1);
        assert_eq!(shown(&path), vec![b"\x00C\x00D".to_vec()]);
        // A word of the page's own set vertically (a page turned by `/Rotate`)
        // is as thick as its letters are tall.
        let vertical = BBox {
            x: 80,
            y: 0,
            width: 20,
            height: 200,
        };
        assert_eq!(leave_out(&path, &[vertical]).expect("leave out"), 1);
        assert!(shown(&path).is_empty());
    }
}
