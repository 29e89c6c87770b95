//! The searchable PDF: the original pages as they were, each with its
//! invisible text layer on top. A PDF keeps its own page objects (vector text,
//! colour, annotations) and gets the layer grafted on as a form XObject; an
//! image becomes a page of its own physical size showing the original pixels.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::pdf_image::{self, EmbedError, Embedded};
use super::{hidden_text, pdfa, pdfa_claim};

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, dictionary};
use scribe_core::document::Document as Upload;
use scribe_core::geometry::Affine;
use scribe_core::pdf::PdfDocument;
use scribe_core::pdf::guard::GuardError;
use scribe_core::pdf::objects::{inherited, media_size, rotation, shown_box};

/// What the final PDF needs to know of one page.
#[derive(Debug, Clone)]
pub struct PageLayer {
    /// 1-based.
    pub number: usize,
    /// The page's text layer (see `text_layer`); `None` for pages kept as they were.
    pub layer: Option<PathBuf>,
    /// The page could not be read: its size in pixels, zero when unknown. A
    /// PDF keeps the page as it is; a PDF made from images has a blank page
    /// of that size in its place, so the pages keep their numbers.
    pub unread: Option<(u32, u32)>,
    /// Whether its layer, when it has one, takes the place of the page's own
    /// invisible text (an earlier OCR's: read again with `ocr.skip_text` off,
    /// or found to misread the page or to read only part of it).
    pub replaces_hidden_text: bool,
    /// Clockwise turn found by orientation detection, shown through `/Rotate`.
    pub rotation: u16,
    /// Resolution of the original page, for an image's physical size.
    pub dpi: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchablePdfError {
    #[error("the PDF could not be read for its text layer: {0}")]
    Pdf(#[from] lopdf::Error),
    #[error(transparent)]
    Unsafe(#[from] GuardError),
    #[error(transparent)]
    Image(#[from] EmbedError),
    #[error("the searchable PDF could not be written: {0}")]
    Write(#[from] std::io::Error),
    #[error("page {0} is missing from the document")]
    MissingPage(usize),
}

/// What kind of PDF to write.
#[derive(Debug, Clone, Default)]
pub enum Flavour {
    #[default]
    Plain,
    /// PDF/A-2b where the pages allow it (see `pdfa`), else plain.
    Archival(pdfa::Describe),
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Plain,
    PdfA2b,
}

impl Written {
    /// As `results.json` states it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Plain => "pdf",
            Self::PdfA2b => "pdf/a-2b",
        }
    }
}

/// Writes the searchable PDF of `upload` to `dest`.
pub fn build(
    upload: &Upload,
    pages: &[PageLayer],
    flavour: &Flavour,
    dest: &Path,
) -> Result<Written, SearchablePdfError> {
    match (upload.pdf(), upload.raster()) {
        (Some(pdf), _) => match onto_pdf(pdf, pages, flavour, dest) {
            Err(
                e @ (SearchablePdfError::Pdf(_)
                | SearchablePdfError::Unsafe(_)
                | SearchablePdfError::MissingPage(_)),
            ) => {
                // poppler read it, lopdf cannot (some damaged or exotic files, or
                // a page tree lopdf counts differently): the pages as poppler
                // shows them still carry the text.
                tracing::warn!(error = %e, "PDF kept as rendered pages: its objects could not be read");
                from_images(pages, flavour, dest, |n| {
                    let (gray, colour, dpi) = pdf
                        .render_page(n)
                        .map_err(|e| EmbedError::Decode(e.to_string()))?;
                    let embedded = match colour {
                        Some(colour) => pdf_image::rgb(&colour)?,
                        None => pdf_image::gray(&gray)?,
                    };
                    Ok((embedded, Some((f64::from(dpi), f64::from(dpi)))))
                })
            }
            other => other,
        },
        (None, Some(raster)) => from_images(pages, flavour, dest, |n| {
            let stated = raster.page(n - 1).and_then(|p| p.upright_density());
            let embedded = match flavour {
                Flavour::Plain => pdf_image::embed(raster, n - 1)?,
                Flavour::Archival(_) => pdf_image::embed_archival(raster, n - 1)?,
            };
            Ok((embedded, stated))
        }),
        (None, None) => Err(SearchablePdfError::MissingPage(1)),
    }
}

fn onto_pdf(
    original: &PdfDocument,
    pages: &[PageLayer],
    flavour: &Flavour,
    dest: &Path,
) -> Result<Written, SearchablePdfError> {
    let mut doc = original.objects()?;
    let ids = doc.get_pages();
    let changed = pages.iter().any(|p| p.layer.is_some() || p.rotation != 0);
    let replacing = |p: &PageLayer| p.layer.is_some() && p.replaces_hidden_text;
    // Only a file with a page to strip has forms to spare.
    let spare: HashSet<ObjectId> = if pages.iter().any(replacing) {
        pages
            .iter()
            .filter(|p| !replacing(p))
            .filter_map(|p| ids.get(&(p.number as u32)))
            .flat_map(|&id| hidden_text::forms_drawn_by(&doc, id))
            .collect()
    } else {
        HashSet::new()
    };
    for page in pages {
        let &id = ids
            .get(&(page.number as u32))
            .ok_or(SearchablePdfError::MissingPage(page.number))?;
        if let Some(layer) = &page.layer {
            if replacing(page) {
                let gone = hidden_text::strip(&mut doc, id, &spare);
                tracing::debug!(
                    page = page.number,
                    gone,
                    "the page's earlier invisible text taken out"
                );
            }
            let layer = Document::load(layer)?;
            let (form, w, h) = import_form(&mut doc, &layer)?;
            let place = layer_to_user(&doc, id, w, h);
            attach(&mut doc, id, form, place)?;
        }
        if page.rotation != 0 {
            let turned = (rotation(&doc, id) + i64::from(page.rotation)).rem_euclid(360);
            doc.get_dictionary_mut(id)?.set("Rotate", turned);
        }
    }
    save(doc, flavour, dest, changed)
}

/// Saves `doc`, made PDF/A first when asked and possible. A `changed` file
/// written plain no longer claims to be PDF/A if it did.
fn save(
    mut doc: Document,
    flavour: &Flavour,
    dest: &Path,
    changed: bool,
) -> Result<Written, SearchablePdfError> {
    let written = match flavour {
        Flavour::Plain => Written::Plain,
        Flavour::Archival(describe) => match pdfa::conform(&mut doc, describe) {
            Ok(()) => Written::PdfA2b,
            Err(e) => {
                tracing::warn!(reason = %e, "searchable PDF written as plain PDF, not PDF/A");
                Written::Plain
            }
        },
    };
    if written == Written::Plain && changed && pdfa_claim::withdraw(&mut doc) {
        tracing::info!("the original's PDF/A claim withdrawn: the searchable PDF is plain PDF");
    }
    doc.save(dest)?;
    Ok(written)
}

/// One page per image that `image(n)` gives for page `n`, with its horizontal
/// and vertical resolution when known.
fn from_images(
    pages: &[PageLayer],
    flavour: &Flavour,
    dest: &Path,
    mut image: impl FnMut(usize) -> Result<(Embedded, Option<(f64, f64)>), EmbedError>,
) -> Result<Written, SearchablePdfError> {
    let mut doc = Document::with_version("1.5");
    let tree = doc.new_object_id();
    let mut kids = Vec::new();
    // Points per pixel (across, down) of the page before: an unread page,
    // whose resolution is not known, is given that, as one scanner made them
    // all (300 dpi, a scanner's default, before any).
    let mut scale = None;
    for page in pages {
        if let Some(size) = page.unread {
            let at = scale.unwrap_or((72.0 / 300.0, 72.0 / 300.0));
            kids.push(Object::Reference(blank_page(&mut doc, tree, size, at)));
            continue;
        }
        let (image, made_at) = image(page.number)?;
        let (sw, sh) = (f64::from(image.width), f64::from(image.height));
        let (uw, uh) = if image.orientation >= 5 {
            (sh, sw)
        } else {
            (sw, sh)
        };
        // Unknown resolution: the page is given the size the text suggests
        // (see results.json's dpi); failing that, 300 dpi, a scanner's default.
        let (dx, dy) = made_at.unwrap_or_else(|| {
            let d = f64::from(page.dpi.unwrap_or(300).max(1));
            (d, d)
        });
        let (ptx, pty) = (72.0 / dx.max(1.0), 72.0 / dy.max(1.0));
        scale = Some((ptx, pty));
        let (pw, ph) = (uw * ptx, uh * pty);
        // The unit square (image space, y up) → stored pixels (y down) →
        // upright pixels → page points (y up).
        let place = Affine {
            a: sw,
            b: 0.0,
            c: 0.0,
            d: -sh,
            e: 0.0,
            f: sh,
        }
        .then(orient(image.orientation, sw, sh))
        .then(Affine {
            a: ptx,
            b: 0.0,
            c: 0.0,
            d: -pty,
            e: 0.0,
            f: ph,
        });
        let image_id = doc.add_object(image.stream);
        let mut xobjects = dictionary! { "Im0" => image_id };
        let mut content = format!("q {} cm /Im0 Do Q\n", cm(place)).into_bytes();
        if let Some(layer) = &page.layer {
            let layer = Document::load(layer)?;
            let (form, _, _) = import_form(&mut doc, &layer)?;
            xobjects.set("ScribeText", form);
            content.extend_from_slice(
                format!("q {} cm /ScribeText Do Q\n", cm(Affine::scale(ptx, pty))).as_bytes(),
            );
        }
        let mut stream = Stream::new(dictionary! {}, content);
        let _ = stream.compress();
        let contents = doc.add_object(stream);
        let mut dict = dictionary! {
            "Type" => "Page",
            "Parent" => tree,
            "MediaBox" => vec![0.into(), 0.into(), real(pw), real(ph)],
            "Resources" => dictionary! { "XObject" => xobjects },
            "Contents" => contents,
        };
        if page.rotation != 0 {
            dict.set("Rotate", i64::from(page.rotation));
        }
        kids.push(Object::Reference(doc.add_object(dict)));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        tree,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => tree });
    doc.trailer.set("Root", catalog);
    save(doc, flavour, dest, false)
}

/// A page with nothing on it, `size` pixels at `scale` points each (across,
/// down), or A4 when its size is unknown: the place of a page that could not
/// be read.
fn blank_page(doc: &mut Document, tree: ObjectId, size: (u32, u32), scale: (f64, f64)) -> ObjectId {
    let (pw, ph) = if size.0 == 0 || size.1 == 0 {
        (595.0, 842.0)
    } else {
        (f64::from(size.0) * scale.0, f64::from(size.1) * scale.1)
    };
    doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => tree,
        "MediaBox" => vec![0.into(), 0.into(), real(pw), real(ph)],
        "Resources" => dictionary! {},
    })
}

/// From stored pixels to upright pixels (both y down) for TIFF/EXIF orientation `tag`.
fn orient(tag: u16, w: f64, h: f64) -> Affine {
    let m = |a, b, c, d, e, f| Affine { a, b, c, d, e, f };
    match tag {
        2 => m(-1.0, 0.0, 0.0, 1.0, w, 0.0),
        3 => m(-1.0, 0.0, 0.0, -1.0, w, h),
        4 => m(1.0, 0.0, 0.0, -1.0, 0.0, h),
        5 => m(0.0, 1.0, 1.0, 0.0, 0.0, 0.0),
        6 => m(0.0, 1.0, -1.0, 0.0, h, 0.0),
        7 => m(0.0, -1.0, -1.0, 0.0, h, w),
        8 => m(0.0, -1.0, 1.0, 0.0, 0.0, w),
        _ => Affine::IDENTITY,
    }
}

/// From a layer's space (original pixels, y up) to the user space of PDF page
/// `id`, which pdftoppm rendered as its crop box turned by `/Rotate`.
fn layer_to_user(doc: &Document, id: ObjectId, w: f64, h: f64) -> Affine {
    let [x0, y0, x1, y1] = shown_box(doc, id).unwrap_or([0.0, 0.0, 612.0, 792.0]);
    let rotate = rotation(doc, id);
    let (dw, dh) = if rotate % 180 == 90 {
        (y1 - y0, x1 - x0)
    } else {
        (x1 - x0, y1 - y0)
    };
    // Layer (y up) → displayed points (u right, v down from the top-left).
    let shown = Affine {
        a: dw / w.max(1e-9),
        b: 0.0,
        c: 0.0,
        d: -dh / h.max(1e-9),
        e: 0.0,
        f: dh,
    };
    let m = |a, b, c, d, e, f| Affine { a, b, c, d, e, f };
    let unrotate = match rotate {
        90 => m(0.0, 1.0, 1.0, 0.0, x0, y0),
        180 => m(-1.0, 0.0, 0.0, 1.0, x1, y0),
        270 => m(0.0, -1.0, -1.0, 0.0, x1, y1),
        _ => m(1.0, 0.0, 0.0, -1.0, x0, y1),
    };
    shown.then(unrotate)
}

/// Copies a one-page layer PDF into `doc` as a form XObject; returns it with its size.
fn import_form(
    doc: &mut Document,
    layer: &Document,
) -> Result<(ObjectId, f64, f64), SearchablePdfError> {
    let page = layer
        .get_pages()
        .into_values()
        .next()
        .ok_or(SearchablePdfError::MissingPage(1))?;
    let (w, h) = media_size(layer, page).unwrap_or((1.0, 1.0));
    let content = layer.get_page_content(page)?;
    let mut map = HashMap::new();
    let resources = match inherited(layer, page, b"Resources") {
        Some(r) => copy(r, layer, doc, &mut map),
        None => Object::Dictionary(Dictionary::new()),
    };
    let mut form = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), real(w), real(h)],
            "Resources" => resources,
        },
        content,
    );
    let _ = form.compress();
    Ok((doc.add_object(form), w, h))
}

/// Deep-copies `obj` from `src` into `dst`, renumbering references once each.
fn copy(
    obj: &Object,
    src: &Document,
    dst: &mut Document,
    map: &mut HashMap<ObjectId, ObjectId>,
) -> Object {
    match obj {
        Object::Reference(id) => {
            if let Some(&new) = map.get(id) {
                return Object::Reference(new);
            }
            let new = dst.new_object_id();
            map.insert(*id, new);
            let copied = match src.get_object(*id) {
                Ok(o) => copy(o, src, dst, map),
                Err(_) => Object::Null,
            };
            dst.objects.insert(new, copied);
            Object::Reference(new)
        }
        Object::Dictionary(d) => Object::Dictionary(copy_dict(d, src, dst, map)),
        Object::Array(a) => Object::Array(a.iter().map(|o| copy(o, src, dst, map)).collect()),
        Object::Stream(s) => {
            let mut stream = Stream::new(copy_dict(&s.dict, src, dst, map), s.content.clone());
            stream.allows_compression = s.allows_compression;
            Object::Stream(stream)
        }
        other => other.clone(),
    }
}

fn copy_dict(
    d: &Dictionary,
    src: &Document,
    dst: &mut Document,
    map: &mut HashMap<ObjectId, ObjectId>,
) -> Dictionary {
    let mut out = Dictionary::new();
    for (k, v) in d.iter() {
        if k.as_slice() != b"Parent" {
            out.set(k.clone(), copy(v, src, dst, map));
        }
    }
    out
}

/// Draws `form` over page `id` through `place`, with the page's own drawing
/// fenced in `q … Q` so none of its graphics state leaks into the layer.
fn attach(
    doc: &mut Document,
    id: ObjectId,
    form: ObjectId,
    place: Affine,
) -> Result<(), SearchablePdfError> {
    let mut resources = match inherited(doc, id, b"Resources") {
        Some(r) => doc.dereference(r)?.1.as_dict()?.clone(),
        None => Dictionary::new(),
    };
    let mut xobjects = match resources.get(b"XObject") {
        Ok(x) => doc.dereference(x)?.1.as_dict()?.clone(),
        Err(_) => Dictionary::new(),
    };
    let mut name = "ScribeText".to_owned();
    while xobjects.has(name.as_bytes()) {
        name.push('X');
    }
    xobjects.set(name.as_bytes().to_vec(), form);
    resources.set("XObject", xobjects);

    let mut contents: Vec<Object> = match doc.get_dictionary(id)?.get(b"Contents") {
        Ok(Object::Reference(r)) => match doc.get_object(*r) {
            Ok(Object::Array(a)) => a.clone(),
            _ => vec![Object::Reference(*r)],
        },
        Ok(Object::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let open = doc.add_object(Stream::new(dictionary! {}, b"q\n".to_vec()));
    let tail = format!("\nQ\nq {} cm /{name} Do Q\n", cm(place)).into_bytes();
    let close = doc.add_object(Stream::new(dictionary! {}, tail));
    contents.insert(0, Object::Reference(open));
    contents.push(Object::Reference(close));
    let page = doc.get_dictionary_mut(id)?;
    page.set("Resources", resources);
    page.set("Contents", contents);
    Ok(())
}

fn cm(m: Affine) -> String {
    format!(
        "{:.6} {:.6} {:.6} {:.6} {:.4} {:.4}",
        m.a, m.b, m.c, m.d, m.e, m.f
    )
}

fn real(v: f64) -> Object {
    Object::Real(v as f32)
}
