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

/// The pages (1-based) poppler counts but cannot find: pdfinfo sizes such
/// a page 0 × 0 points.
pub fn unfound(sizes: &[(f64, f64)]) -> impl Iterator<Item = usize> + '_ {
    sizes
        .iter()
        .enumerate()
        .filter(|(_, (w, h))| *w <= 0.0 || *h <= 0.0)
        .map(|(i, _)| i + 1)
}

/// How many pages poppler could not find ([`unfound`]), when it also said
/// it left an entry of the tree out; `None` otherwise (a page count that
/// only overstates the pages has nothing to renumber).
pub fn pages_left_out(said: &str, sizes: &[(f64, f64)]) -> Option<usize> {
    let unfound = unfound(sizes).count();
    (said.contains("Kid object") && unfound > 0).then_some(unfound)
}

/// Lays out `doc`'s page tree flat with a blank stand-in for each entry
/// that is not a page, and saves it to a temporary file. Only when the
/// walk agrees with poppler — `pages` in all, `left_out` of them lost —
/// is the copy made (`None` otherwise): a lost `/Pages` node held an unknown
/// number of pages, and an entry lopdf cannot parse but poppler can would
/// make a readable page blank.
pub fn mend(path: &Path, pages: usize, left_out: usize) -> Result<Option<Mended>, MendError> {
    let mut doc = Document::load(path)?;
    let root = doc
        .catalog()?
        .get(b"Pages")
        .and_then(Object::as_reference)?;
    let mut slots = Vec::new();
    let mut seen = HashSet::from([root]);
    walk(
        &doc,
        doc.get_dictionary(root)?,
        &Dictionary::new(),
        0,
        &mut seen,
        &mut slots,
    );
    let lost_here = slots
        .iter()
        .filter(|s| matches!(s, Slot::Lost { .. }))
        .count();
    if slots.len() != pages || lost_here != left_out {
        tracing::info!(
            pages,
            left_out,
            walked = slots.len(),
            lost_here,
            "the PDF's page tree is left as poppler reads it: its holes cannot be placed"
        );
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
            Slot::Lost { media_box } => {
                lost.insert(i + 1);
                let mut blank = Dictionary::new();
                blank.set("Type", "Page");
                blank.set("Parent", root);
                blank.set("Resources", Dictionary::new());
                let size = media_box.unwrap_or_else(|| {
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
    /// An entry that is no page; it stands where a page was, at the size
    /// its node gives its pages.
    Lost {
        media_box: Option<Object>,
    },
}

/// Appends the pages under the `/Pages` node `tree`, in order, to `slots`.
fn walk(
    doc: &Document,
    tree: &Dictionary,
    above: &Dictionary,
    depth: usize,
    seen: &mut HashSet<ObjectId>,
    slots: &mut Vec<Slot>,
) {
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
                    walk(doc, d, &inherited, depth + 1, seen, slots);
                }
            }
            // A page listed twice is drawn twice, by poppler and here alike.
            (Some(id), Some(_)) => slots.push(Slot::Page {
                id,
                inherited: inherited.clone(),
            }),
            _ => slots.push(Slot::Lost {
                media_box: inherited.get(b"MediaBox").ok().cloned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    /// Pages A, then under a node turned 90°: B, an entry that is no page, C.
    fn nested_tree_with_a_hole(path: &Path) {
        let mut doc = Document::with_version("1.7");
        let root = doc.new_object_id();
        let node = doc.new_object_id();
        let page = |doc: &mut Document, parent| {
            doc.add_object(dictionary! { "Type" => "Page", "Parent" => parent })
        };
        let a = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => root,
            "MediaBox" => vec![0.into(), 0.into(), 100.into(), 100.into()],
        });
        let (b, c) = (page(&mut doc, node), page(&mut doc, node));
        doc.objects.insert(
            node,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Parent" => root, "Rotate" => 90, "Count" => 3,
                "Kids" => vec![b.into(), Object::Reference((999, 0)), c.into()],
            }),
        );
        doc.objects.insert(
            root,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Count" => 4,
                "MediaBox" => vec![0.into(), 0.into(), 300.into(), 400.into()],
                "Kids" => vec![a.into(), node.into()],
            }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => root });
        doc.trailer.set("Root", catalog);
        doc.save(path).expect("save");
    }

    #[test]
    fn a_hole_in_a_nested_tree_keeps_its_place_and_pages_keep_what_they_inherit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("holed.pdf");
        nested_tree_with_a_hole(&path);
        let mended = mend(&path, 4, 1).expect("mend").expect("a copy");
        assert_eq!(mended.lost, BTreeSet::from([3]));
        let copy = Document::load(&mended.file).expect("the copy loads");
        let pages = copy.get_pages();
        assert_eq!(pages.len(), 4);
        let dict = |n: u32| copy.get_dictionary(pages[&n]).expect("page");
        // B and C carry the node's turn and the root's size; A keeps its own.
        for n in [2, 4] {
            assert_eq!(
                dict(n).get(b"Rotate").and_then(Object::as_i64).ok(),
                Some(90)
            );
            assert!(dict(n).has(b"MediaBox"));
        }
        assert!(!dict(1).has(b"Rotate"));
        let size = |n: u32| {
            dict(n)
                .get(b"MediaBox")
                .and_then(Object::as_array)
                .map(Vec::len)
        };
        assert_eq!(size(3).ok(), Some(4), "the stand-in has a size");
    }

    #[test]
    fn a_tree_whose_holes_poppler_counts_otherwise_is_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("holed.pdf");
        nested_tree_with_a_hole(&path);
        // A lost /Pages node could have held more pages than one stand-in;
        // an entry only lopdf cannot read would blank a page poppler reads.
        assert!(mend(&path, 5, 2).expect("mend").is_none());
        assert!(mend(&path, 4, 0).expect("mend").is_none());
    }

    #[test]
    fn only_an_entry_left_out_counts_as_a_hole() {
        let sized = [(612.0, 792.0), (0.0, 0.0)];
        let said = "Syntax Error: Kid object (page 2) is wrong type (cmd)\n";
        assert_eq!(pages_left_out(said, &sized), Some(1));
        assert_eq!(pages_left_out("", &sized), None, "a count too high alone");
        assert_eq!(pages_left_out(said, &[(612.0, 792.0)]), None);
    }
}
