//! Reading a page's attributes from a PDF parsed by lopdf: those a page may
//! inherit from its ancestors, and rectangles whose numbers may be indirect.

use lopdf::{Document, Object, ObjectId};

/// A page's MediaBox width and height, following inheritance up the page tree.
pub fn media_size(doc: &Document, page: ObjectId) -> Option<(f64, f64)> {
    let [x0, y0, x1, y1] = rect(doc, inherited(doc, page, b"MediaBox")?)?;
    Some(((x1 - x0).abs(), (y1 - y0).abs()))
}

/// The box a viewer shows (and pdftoppm `-cropbox` renders): the CropBox
/// clipped to the MediaBox, else the MediaBox, as `[x0 y0 x1 y1]` with x0 ≤ x1
/// and y0 ≤ y1.
pub fn shown_box(doc: &Document, page: ObjectId) -> Option<[f64; 4]> {
    let ordered = |r: [f64; 4]| {
        [
            r[0].min(r[2]),
            r[1].min(r[3]),
            r[0].max(r[2]),
            r[1].max(r[3]),
        ]
    };
    let media = inherited(doc, page, b"MediaBox")
        .and_then(|b| rect(doc, b))
        .map(ordered);
    let crop = inherited(doc, page, b"CropBox")
        .and_then(|b| rect(doc, b))
        .map(ordered);
    match (crop, media) {
        (Some(c), Some(m)) => {
            let clipped = [
                c[0].max(m[0]),
                c[1].max(m[1]),
                c[2].min(m[2]),
                c[3].min(m[3]),
            ];
            let empty = clipped[0] >= clipped[2] || clipped[1] >= clipped[3];
            Some(if empty { m } else { clipped })
        }
        (c, m) => c.or(m),
    }
}

/// A page's clockwise turn, `/Rotate`, in 0..360.
pub fn rotation(doc: &Document, page: ObjectId) -> i64 {
    inherited(doc, page, b"Rotate")
        .and_then(|r| doc.dereference(r).ok()?.1.as_i64().ok())
        .unwrap_or(0)
        .rem_euclid(360)
}

/// A PDF rectangle (`[x0 y0 x1 y1]`, any element possibly indirect).
pub fn rect(doc: &Document, obj: &Object) -> Option<[f64; 4]> {
    let arr = doc.dereference(obj).ok()?.1.as_array().ok()?;
    let v: Vec<f64> = arr.iter().filter_map(|o| number(doc, o)).collect();
    v.try_into().ok()
}

/// A number, integer or real, possibly indirect.
pub fn number(doc: &Document, obj: &Object) -> Option<f64> {
    doc.dereference(obj).ok()?.1.as_float().ok().map(f64::from)
}

/// A page attribute that may be set on the page or any ancestor (MediaBox,
/// CropBox, Rotate, Resources).
pub fn inherited<'a>(doc: &'a Document, page: ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut node = doc.get_dictionary(page).ok()?;
    // A malformed tree could loop; real ones are shallow.
    for _ in 0..64 {
        if let Ok(v) = node.get(key) {
            return Some(v);
        }
        let parent = node.get(b"Parent").ok()?.as_reference().ok()?;
        node = doc.get_dictionary(parent).ok()?;
    }
    None
}
