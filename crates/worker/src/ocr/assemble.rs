//! A document's final files from its finished pages: `results.json`,
//! `text.txt`, `hocr.html` and `searchable.pdf`. The CLI and the queue worker
//! both call this one function, so they produce the same files by construction.

use std::path::{Path, PathBuf};

use scribe_core::document::Document;
use scribe_core::formats::Formats;
use scribe_core::results::{DocumentResult, PageSource};

use super::pdfa::Describe;
use super::searchable_pdf::{self, Flavour, PageLayer, SearchablePdfError, Written};

/// What assembly starts from: the pages' results (in page order), their hOCR
/// and their text layers.
pub struct Pages<'a> {
    pub result: &'a DocumentResult,
    /// One fragment per OCR'd page, in page order (text-layer pages have none).
    pub hocr: &'a [String],
    /// Text layer of page `n` at `layers(n)`, for OCR'd pages.
    pub layer: &'a dyn Fn(usize) -> Option<PathBuf>,
    /// Pages with text of their own were read too (`ocr.skip_text` off): an
    /// OCR'd PDF page's earlier invisible text gives way to its new layer.
    pub forced: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error("an output could not be written: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Pdf(#[from] SearchablePdfError),
    #[error("page {0}'s text layer is missing")]
    MissingLayer(usize),
}

impl AssembleError {
    /// Missing or unwritable files are worth another try; a PDF we cannot graft onto is not.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Pdf(SearchablePdfError::Pdf(_)))
    }
}

/// `results.json`: the document's results and what its searchable PDF is.
#[derive(serde::Serialize)]
struct WithPdf<'a> {
    #[serde(flatten)]
    result: &'a DocumentResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    searchable_pdf: Option<&'static str>,
}

/// The files written, by name.
pub struct Assembled {
    pub files: Vec<(&'static str, PathBuf)>,
}

/// Writes the outputs `formats` asks for into `dir`.
pub fn assemble(
    document: &Document,
    pages: &Pages<'_>,
    formats: Formats,
    dir: &Path,
) -> Result<Assembled, AssembleError> {
    let mut files = Vec::new();
    let mut write = |name: &'static str, bytes: &[u8]| -> std::io::Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, bytes)?;
        files.push((name, path));
        Ok(())
    };
    if formats.txt {
        write("text.txt", pages.result.text().as_bytes())?;
    }
    if formats.hocr {
        let doc = scribe_core::hocr::document(pages.hocr.iter().map(String::as_str));
        write("hocr.html", doc.as_bytes())?;
    }
    let (mut written, mut pdf) = (None, None);
    if formats.pdf {
        let layers = pages
            .result
            .pages
            .iter()
            .map(|p| {
                let layer = match p.source {
                    PageSource::Ocr => {
                        Some((pages.layer)(p.number).ok_or(AssembleError::MissingLayer(p.number))?)
                    }
                    PageSource::TextLayer | PageSource::Unread => None,
                };
                Ok(PageLayer {
                    number: p.number,
                    unread: (p.source == PageSource::Unread).then_some((p.width, p.height)),
                    replaces_hidden_text: pages.forced || p.replaced_text_layer,
                    layer,
                    rotation: p.rotation_applied,
                    dpi: p.dpi,
                })
            })
            .collect::<Result<Vec<_>, AssembleError>>()?;
        let path = dir.join("searchable.pdf");
        let flavour = if formats.pdfa {
            Flavour::Archival(Describe {
                title: Some(pages.result.file_name.clone()),
            })
        } else {
            Flavour::Plain
        };
        written = Some(searchable_pdf::build(document, &layers, &flavour, &path)?);
        pdf = Some(path);
    }
    if formats.json {
        // After the PDF: whether it became PDF/A is known only once it is written.
        let json = serde_json::to_vec_pretty(&WithPdf {
            result: pages.result,
            searchable_pdf: written.map(Written::label),
        })
        .map_err(std::io::Error::other)?;
        write("results.json", &json)?;
    }
    if let Some(path) = pdf {
        files.push(("searchable.pdf", path));
    }
    Ok(Assembled { files })
}
