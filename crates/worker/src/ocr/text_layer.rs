//! One page's invisible text, as a one-page PDF in the coordinates of the page
//! as uploaded. Tesseract writes its text-only PDF in the frame of the image it
//! read (upscaled, turned, deskewed); this moves it, with one `cm`, into a page
//! whose unit is one original pixel (y up, origin bottom-left), so whoever puts
//! it on the final page only needs to know the original's size.

use std::path::{Path, PathBuf};

use lopdf::{Document, Object, Stream, dictionary};
use scribe_core::geometry::Affine;
use scribe_core::pdf::objects::media_size;

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
    let mut stream = Stream::new(dictionary! {}, content);
    // Compression failing only leaves the stream larger.
    let _ = stream.compress();
    let contents = doc.add_object(stream);
    doc.get_dictionary_mut(id)
        .map_err(TextLayerError::Read)?
        .set("Contents", contents);
    doc.prune_objects();
    doc.save(page).map_err(TextLayerError::Write)?;
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
    let mut stream = Stream::new(dictionary! {}, content);
    // Compression failing only leaves the stream larger.
    let _ = stream.compress();
    let contents = doc.add_object(stream);
    let dict = doc.get_dictionary_mut(page).map_err(TextLayerError::Read)?;
    dict.set("Contents", contents);
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
    doc.prune_objects();
    doc.save(dest).map_err(TextLayerError::Write)?;
    Ok(())
}
