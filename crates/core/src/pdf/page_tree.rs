//! A page tree with holes in it. When one of its entries is not a page —
//! an object damaged past reading, a dangling reference — poppler leaves it
//! out and numbers the pages after it one lower: the third page is drawn as
//! page 2, and the last page number draws nothing. Read as it stands, such
//! a file gives one page's text under another's number and ends in an empty
//! page. Mended, every page keeps its number: the tree is laid out flat in
//! a copy of the file with a blank stand-in where each entry was lost, and
//! the stand-ins are reported as pages that could not be read.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use lopdf::{Dictionary, Document, Object, ObjectId};

/// What pages inherit from the `/Pages` nodes above them (PDF 32000 7.7.3.4):
/// laid out flat, a page must carry them itself.
const INHERITED: [&[u8]; 4] = [b"Resources", b"MediaBox", b"CropBox", b"Rotate"];

/// Deeper than any real page tree; a cycle is caught before it.
const MAX_DEPTH: usize = 64;

/// A copy of the file in which every page has its number.
#[derive(Debug)]
pub struct Mended {
    pub file: tempfile::TempPath,
    /// The stand-ins, by 1-based page number.
    pub lost: BTreeSet<usize>,
}

/// Whether poppler's reading of a file of `claimed` pages shows a damaged
/// tree: an entry it left out, or a page it counts but cannot find (as
/// pdfinfo tells it, a page of 0 × 0 points).
pub fn looks_damaged(said: &str, sizes: &[(f64, f64)]) -> bool {
    said.contains("Kid object") || sizes.iter().any(|&(w, h)| w <= 0.0 || h <= 0.0)
}

/// Lays out `doc`'s page tree flat with a blank stand-in for each entry
/// that is not a page, and saves it to a temporary file; `None` when the
/// tree has no hole lopdf can find (then there is nothing to renumber).
pub fn mend(path: &Path) -> Result<Option<Mended>, MendError> {
    let mut doc = Document::load(path)?;
    let root = doc
        .catalog()?
        .get(b"Pages")
        .and_then(Object::as_reference)?;
    let mut slots = Vec::new();
    let mut seen = HashSet::from([root]);
    walk(&doc, root, &Dictionary::new(), 0, &mut seen, &mut slots);
    if !slots.iter().any(|s| matches!(s, Slot::Lost { .. })) {
        return Ok(None);
    }
    let mut kids = Vec::with_capacity(slots.len());
    let mut lost = BTreeSet::new();
    for (i, slot) in slots.into_iter().enumerate() {
        let id = match slot {
            Slot::Page { id, inherited } => {
                let page = doc.get_dictionary_mut(id)?;
                for (key, value) in inherited.iter() {
                    if !page.has(key) {
                        page.set(key.clone(), value.clone());
                    }
                }
                page.set("Parent", root);
                id
            }
            Slot::Lost { inherited } => {
                lost.insert(i + 1);
                let mut blank = Dictionary::new();
                blank.set("Type", "Page");
                blank.set("Parent", root);
                blank.set("Resources", Dictionary::new());
                let size = inherited.get(b"MediaBox").cloned().unwrap_or_else(|_| {
                    Object::Array(vec![0.into(), 0.into(), 612.into(), 792.into()])
                });
                blank.set("MediaBox", size);
                doc.add_object(blank)
            }
        };
        kids.push(Object::Reference(id));
    }
    let count = kids.len() as i64;
    let tree = doc.get_dictionary_mut(root)?;
    tree.set("Kids", kids);
    tree.set("Count", count);
    let file = tempfile::Builder::new()
        .prefix("scribe-mended-")
        .suffix(".pdf")
        .tempfile()
        .map_err(MendError::Io)?
        .into_temp_path();
    doc.save(&file).map_err(MendError::Io)?;
    Ok(Some(Mended { file, lost }))
}

#[derive(Debug, thiserror::Error)]
pub enum MendError {
    #[error("the PDF's objects could not be read: {0}")]
    Pdf(#[from] lopdf::Error),
    #[error("the mended copy could not be written: {0}")]
    Io(#[source] std::io::Error),
}

enum Slot {
    Page {
        id: ObjectId,
        inherited: Dictionary,
    },
    /// An entry that is no page; it stands where a page was.
    Lost {
        inherited: Dictionary,
    },
}

fn walk(
    doc: &Document,
    node: ObjectId,
    above: &Dictionary,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    slots: &mut Vec<Slot>,
) {
    let Ok(tree) = doc.get_dictionary(node) else {
        slots.push(Slot::Lost {
            inherited: above.clone(),
        });
        return;
    };
    let mut inherited = above.clone();
    for key in INHERITED {
        if let Ok(value) = tree.get(key) {
            inherited.set(key.to_vec(), value.clone());
        }
    }
    let Ok(kids) = tree.get(b"Kids").and_then(|k| doc.dereference(k)) else {
        return;
    };
    let Ok(kids) = kids.1.as_array() else {
        return;
    };
    for kid in kids {
        let kid = kid.as_reference().ok();
        let dict = kid.and_then(|id| doc.get_dictionary(id).ok());
        match (kid, dict) {
            (Some(id), Some(d)) if d.has(b"Kids") => {
                if depth < MAX_DEPTH && seen.insert(id) {
                    walk(doc, id, &inherited, depth + 1, seen, slots);
                }
            }
            // A page listed twice is drawn twice, by poppler and here alike.
            (Some(id), Some(_)) => slots.push(Slot::Page {
                id,
                inherited: inherited.clone(),
            }),
            _ => slots.push(Slot::Lost {
                inherited: inherited.clone(),
            }),
        }
    }
}
