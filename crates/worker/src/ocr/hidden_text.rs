//! A page read again over an earlier OCR's invisible layer (with `--force-ocr`,
//! or when that layer misread the page or read only part of it) would get ours
//! as well, and a text extractor would find every word twice. The earlier
//! layer goes: text drawn invisibly (render mode 3, or 7, which only clips) is
//! taken out of the page's drawing and out of the forms it draws, as
//! OCRmyPDF's `--redo-ocr` does. Visible text stays.

use std::collections::HashSet;

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use scribe_core::pdf::objects::inherited;

use super::pdf_stream;

/// Most bytes one drawing may inflate to (a page's drawing is far smaller);
/// a larger one is left as it is rather than held in memory.
const MAX_DRAWING_BYTES: u64 = 64 << 20;
/// Forms inside forms deeper than this are not real.
const MAX_DEPTH: usize = 16;

/// Takes the invisible text out of page `page` of `doc` and the forms it
/// draws, but for the forms in `spare` (drawn by pages that keep their text
/// too); returns how many text-showing operations went. A drawing that
/// cannot be read within bounds is left as it is.
pub fn strip(doc: &mut Document, page: ObjectId, spare: &HashSet<ObjectId>) -> usize {
    let mut removed = 0;
    let streams = doc.get_page_contents(page);
    if let Some(ops) = drawing(doc, &streams) {
        let (kept, gone) = without_invisible_text(ops);
        if gone > 0
            && let Ok(bytes) = (Content { operations: kept }).encode()
        {
            let mut stream = Stream::new(Dictionary::new(), bytes);
            // Compression failing only leaves the drawing larger.
            let _ = stream.compress();
            let id = doc.add_object(stream);
            if let Ok(dict) = doc.get_dictionary_mut(page) {
                dict.set("Contents", id);
                removed += gone;
            }
        }
    }
    // A form is changed in place, for every page that draws it.
    let mut seen = spare.clone();
    for form in forms_drawn_by(doc, page) {
        removed += strip_form(doc, form, &mut seen, 0);
    }
    removed
}

/// The forms page `page` draws directly.
pub fn forms_drawn_by(doc: &Document, page: ObjectId) -> Vec<ObjectId> {
    inherited(doc, page, b"Resources")
        .map(|r| forms_of(doc, r))
        .unwrap_or_default()
}

/// As [`strip`], for the form `id` and the forms it draws.
fn strip_form(
    doc: &mut Document,
    id: ObjectId,
    seen: &mut HashSet<ObjectId>,
    depth: usize,
) -> usize {
    if depth > MAX_DEPTH || !seen.insert(id) {
        return 0;
    }
    let mut removed = 0;
    if let Some(ops) = drawing(doc, &[id]) {
        let (kept, gone) = without_invisible_text(ops);
        if gone > 0
            && let Ok(bytes) = (Content { operations: kept }).encode()
            && let Ok(Object::Stream(stream)) = doc.get_object_mut(id)
        {
            stream.dict.remove(b"Filter");
            stream.dict.remove(b"DecodeParms");
            stream.set_content(bytes);
            let _ = stream.compress();
            removed += gone;
        }
    }
    let inner = doc
        .get_object(id)
        .and_then(Object::as_stream)
        .ok()
        .and_then(|s| s.dict.get(b"Resources").ok())
        .map(|r| forms_of(doc, r))
        .unwrap_or_default();
    for form in inner {
        removed += strip_form(doc, form, seen, depth + 1);
    }
    removed
}

/// The form XObjects in a resource dictionary.
fn forms_of(doc: &Document, resources: &Object) -> Vec<ObjectId> {
    let Ok((_, resources)) = doc.dereference(resources) else {
        return Vec::new();
    };
    let Some(xobjects) = resources
        .as_dict()
        .ok()
        .and_then(|r| r.get(b"XObject").ok())
        .and_then(|x| doc.dereference(x).ok())
        .and_then(|(_, x)| x.as_dict().ok())
    else {
        return Vec::new();
    };
    xobjects
        .iter()
        .filter_map(|(_, v)| v.as_reference().ok())
        .filter(|id| {
            doc.get_object(*id)
                .and_then(Object::as_stream)
                .is_ok_and(|s| {
                    s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Form")
                })
        })
        .collect()
}

/// The operations of the drawing held in `streams`, one after another, when
/// each can be read within bounds and lopdf can be trusted to parse them
/// (see `pdf_stream`).
fn drawing(doc: &Document, streams: &[ObjectId]) -> Option<Vec<Operation>> {
    let mut bytes = Vec::new();
    for id in streams {
        let stream = doc.get_object(*id).and_then(Object::as_stream).ok()?;
        let room = MAX_DRAWING_BYTES.checked_sub(bytes.len() as u64)?;
        bytes.extend_from_slice(&pdf_stream::decoded_within(stream, room)?);
        // Streams of one page join as if one, with whitespace between.
        bytes.push(b'\n');
    }
    if !pdf_stream::shallow(&bytes) {
        tracing::info!("a drawing nests too deeply to parse: its invisible text is left");
        return None;
    }
    Content::decode(&bytes).ok().map(|c| c.operations)
}

/// `ops` without the text they show invisibly, and how many went. The render
/// mode is part of the graphics state, saved by `q` and restored by `Q`.
fn without_invisible_text(ops: Vec<Operation>) -> (Vec<Operation>, usize) {
    let (mut mode, mut saved, mut gone) = (0, Vec::new(), 0);
    let mut kept = Vec::with_capacity(ops.len());
    for op in ops {
        let invisible = mode == 3 || mode == 7;
        match op.operator.as_str() {
            "q" => saved.push(mode),
            "Q" => mode = saved.pop().unwrap_or(0),
            "Tr" => {
                if let Some(m) = op.operands.first().and_then(|o| o.as_i64().ok()) {
                    mode = m;
                }
            }
            "Tj" | "TJ" if invisible => {
                gone += 1;
                continue;
            }
            // Move to the next line, then show: the move stays.
            "'" if invisible => {
                gone += 1;
                kept.push(Operation::new("T*", vec![]));
                continue;
            }
            // Set word and character spacing, move, show: all but the showing.
            "\"" if invisible => {
                gone += 1;
                let mut operands = op.operands.into_iter();
                if let (Some(word), Some(character)) = (operands.next(), operands.next()) {
                    kept.push(Operation::new("Tw", vec![word]));
                    kept.push(Operation::new("Tc", vec![character]));
                }
                kept.push(Operation::new("T*", vec![]));
                continue;
            }
            _ => {}
        }
        kept.push(op);
    }
    (kept, gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    fn ops(content: &[u8]) -> Vec<Operation> {
        Content::decode(content).expect("content").operations
    }

    fn shown(ops: &[Operation]) -> Vec<String> {
        ops.iter()
            .filter(|o| matches!(o.operator.as_str(), "Tj" | "TJ" | "'" | "\""))
            .map(|o| format!("{} {:?}", o.operator, o.operands.last()))
            .collect()
    }

    #[test]
    fn invisible_text_goes_and_visible_text_stays() {
        let content = b"BT /F1 12 Tf (seen) Tj 3 Tr (hidden) Tj [(hid) 10 (den)] TJ (line) ' \
                        1 2 (spaced) \" ET q BT 0 Tr (inside) Tj ET Q BT (after) Tj 7 Tr (clip) Tj \
                        q 0 Tr Q (still) Tj ET";
        let (kept, gone) = without_invisible_text(ops(content));
        assert_eq!(gone, 7);
        let left = shown(&kept);
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(
            left[0].contains("seen") && left[1].contains("inside"),
            "{left:?}"
        );
        // `'` and `"` keep their line move and spacing.
        let names: Vec<&str> = kept.iter().map(|o| o.operator.as_str()).collect();
        assert!(names.contains(&"T*") && names.contains(&"Tw") && names.contains(&"Tc"));
    }

    #[test]
    fn a_form_that_a_page_keeping_its_text_draws_keeps_its_text() {
        let mut doc = Document::with_version("1.5");
        let pages = doc.new_object_id();
        let layer = b"BT 3 Tr (hidden) Tj ET".to_vec();
        let form = doc.add_object(Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Form" },
            layer.clone(),
        ));
        let page = |doc: &mut Document| {
            let contents = doc.add_object(Stream::new(Dictionary::new(), b"/Fm0 Do".to_vec()));
            doc.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages,
                "Contents" => contents,
                "Resources" => dictionary! { "XObject" => dictionary! { "Fm0" => form } },
            })
        };
        let (read, kept) = (page(&mut doc), page(&mut doc));
        let spare: HashSet<ObjectId> = forms_drawn_by(&doc, kept).into_iter().collect();
        assert_eq!(spare, HashSet::from([form]));
        assert_eq!(strip(&mut doc, read, &spare), 0);
        let content = |doc: &Document| {
            let stream = doc
                .get_object(form)
                .and_then(Object::as_stream)
                .expect("form");
            stream
                .decompressed_content()
                .unwrap_or_else(|_| stream.content.clone())
        };
        assert_eq!(content(&doc), layer);
        assert_eq!(strip(&mut doc, read, &HashSet::new()), 1);
        assert_ne!(content(&doc), layer);
    }

    #[test]
    fn a_drawing_nested_too_deep_to_parse_is_left_as_it_is() {
        let mut doc = Document::with_version("1.5");
        let pages = doc.new_object_id();
        let hostile = [b"BT 3 Tr (x) Tj ".as_slice(), &[b'['; 200_000]].concat();
        let contents = doc.add_object(Stream::new(Dictionary::new(), hostile));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages,
            "Contents" => contents,
        });
        assert_eq!(strip(&mut doc, page, &HashSet::new()), 0);
        let kept = doc
            .get_dictionary(page)
            .expect("page")
            .get(b"Contents")
            .expect("contents");
        assert_eq!(kept.as_reference().ok(), Some(contents));
    }
}
