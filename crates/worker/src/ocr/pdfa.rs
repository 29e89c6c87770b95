//! PDF/A-2b for the searchable PDF, done on its objects with lopdf rather than
//! by re-rendering through Ghostscript: the pages stay the bytes they were
//! (JPEG passed through, 1-bit kept 1-bit, a PDF's own objects), and only what
//! the standard asks of the file is added — XMP metadata that names the part,
//! an sRGB output intent, a file identifier — and what it forbids is removed
//! where removing it changes nothing a reader sees (additional actions, hidden
//! annotation flags, image interpolation, scripts).
//!
//! What cannot be fixed without re-rendering (a font whose program is not in
//! the file, CMYK content with no CMYK output intent, encryption, LZW, a
//! forbidden annotation or action) is found first, before anything changes,
//! and reported: the caller then keeps the plain searchable PDF rather than
//! label a file PDF/A that is not.

use std::collections::HashSet;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, StringFormat, dictionary};

use super::icc;
use super::pdf_stream::{filters, inflate_within, string_end};

/// Deeper nesting than any real file has is treated as hostile and not walked.
const MAX_DEPTH: usize = 64;
/// Most bytes one drawing may inflate to: far beyond any page's drawing, far
/// below a worker's memory. The survey reads every stream in the file, used or
/// not, so a few kilobytes of Flate must not become gigabytes here.
const MAX_DRAWING_BYTES: u64 = 64 << 20;
/// Most bytes all drawings together may inflate to, which bounds the time.
const MAX_DRAWINGS_BYTES: u64 = 1 << 30;
/// Flate's largest expansion: a deflate stream of maximal runs.
const FLATE_MAX_RATIO: u64 = 1032;
/// ASCII85's: `z` stands for four zero bytes.
const ASCII85_MAX_RATIO: u64 = 4;
/// Annotation types PDF/A-2 forbids (ISO 19005-2, 6.3.1).
const FORBIDDEN_ANNOTATIONS: [&[u8]; 5] = [b"3D", b"Sound", b"Screen", b"Movie", b"FileAttachment"];
/// Actions PDF/A-2 allows (6.5.1); named actions only for page moves.
const ALLOWED_ACTIONS: [&[u8]; 6] = [
    b"GoTo",
    b"GoToR",
    b"GoToE",
    b"Thread",
    b"URI",
    b"SubmitForm",
];
const ALLOWED_NAMED: [&[u8]; 4] = [b"NextPage", b"PrevPage", b"FirstPage", b"LastPage"];
/// Annotation flags: Invisible, Hidden, Print, NoView.
const INVISIBLE: i64 = 1;
const HIDDEN: i64 = 2;
const PRINT: i64 = 4;
const NO_VIEW: i64 = 32;
const TOGGLE_NO_VIEW: i64 = 256;
const NOT_SHOWN: i64 = INVISIBLE | HIDDEN | NO_VIEW | TOGGLE_NO_VIEW;

/// Why a document was left as a plain PDF.
#[derive(Debug, thiserror::Error)]
#[error("the PDF cannot be made PDF/A-2b without re-rendering it: {}", .0.join("; "))]
pub struct NotConformable(pub Vec<String>);

/// What the document is called, for its metadata.
#[derive(Debug, Default, Clone)]
pub struct Describe {
    pub title: Option<String>,
}

/// Makes `doc` a PDF/A-2b file, or leaves it untouched and says why not.
pub fn conform(doc: &mut Document, describe: &Describe) -> Result<(), NotConformable> {
    let survey = survey(doc);
    let mut blockers = survey.blockers;
    let intent = existing_intent(doc);
    match intent {
        Some(n) => {
            if survey.cmyk && n != 4 {
                blockers.push("it draws in CMYK and its output intent is not CMYK".to_owned());
            }
            if survey.rgb && n != 3 {
                blockers.push("it draws in RGB and its output intent is not RGB".to_owned());
            }
        }
        None if survey.cmyk => {
            blockers.push("it draws in device CMYK and carries no CMYK output intent".to_owned());
        }
        None => {}
    }
    if !blockers.is_empty() {
        blockers.sort();
        blockers.dedup();
        return Err(NotConformable(blockers));
    }

    if doc.version.as_str() > "1.7" || !doc.version.starts_with("1.") {
        doc.version = "1.7".to_owned();
    }
    // Four bytes over 127 on the header's second line mark the file as binary.
    doc.binary_mark = vec![0xE2, 0xE3, 0xCF, 0xD3];
    for object in doc.objects.values_mut() {
        tidy(object, 0);
    }
    for id in &survey.appearance_refs {
        if let Some(Object::Dictionary(ap)) = doc.objects.get_mut(id) {
            keep_only_normal_appearance(ap);
        }
    }
    let info = info(doc, describe);
    let xmp = xmp(
        &info,
        &chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    let metadata = doc.add_object(
        Stream::new(
            dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
            xmp.into_bytes(),
        )
        .with_compression(false),
    );
    let output_intents = if intent.is_none() {
        let mut profile = Stream::new(dictionary! { "N" => 3 }, icc::srgb());
        // Compression failing only leaves the profile larger.
        let _ = profile.compress();
        let profile = doc.add_object(profile);
        Some(vec![Object::Dictionary(dictionary! {
            "Type" => "OutputIntent",
            "S" => "GTS_PDFA1",
            "OutputConditionIdentifier" => Object::string_literal(icc::DESCRIPTION),
            "Info" => Object::string_literal(icc::DESCRIPTION),
            "DestOutputProfile" => profile,
        })])
    } else {
        None
    };
    let info_id = doc.add_object(info.dictionary());
    doc.trailer.set("Info", info_id);
    doc.trailer.set("ID", file_id(doc));
    // Parts of the catalog that are often their own objects, tidied where they are.
    let parts: Vec<(&[u8], Option<ObjectId>)> = [b"Names".as_slice(), b"AcroForm", b"OCProperties"]
        .into_iter()
        .map(|key| {
            let id = doc
                .catalog()
                .ok()
                .and_then(|c| c.get(key).ok())
                .and_then(|v| v.as_reference().ok());
            (key, id)
        })
        .collect();
    let catalog = doc
        .catalog_mut()
        .map_err(|_| NotConformable(vec!["it has no document catalog".to_owned()]))?;
    catalog.set("Metadata", metadata);
    if let Some(intents) = output_intents {
        catalog.set("OutputIntents", intents);
    }
    catalog.remove(b"AA");
    catalog.remove(b"Perms");
    for (key, id) in parts {
        let part = match id {
            Some(id) => doc.objects.get_mut(&id).and_then(|o| o.as_dict_mut().ok()),
            None => doc
                .catalog_mut()
                .ok()
                .and_then(|c| c.get_mut(key).ok())
                .and_then(|o| o.as_dict_mut().ok()),
        };
        if let Some(part) = part {
            tidy_catalog_part(key, part);
        }
    }
    Ok(())
}

#[derive(Default)]
struct Survey {
    rgb: bool,
    cmyk: bool,
    blockers: Vec<String>,
    /// Appearance dictionaries held by reference, to trim to their normal appearance.
    appearance_refs: HashSet<ObjectId>,
    /// Bytes of drawing inflated so far.
    inflated: u64,
}

fn survey(doc: &Document) -> Survey {
    let mut s = Survey::default();
    if doc.trailer.has(b"Encrypt") {
        s.blockers.push("it is encrypted".to_owned());
    }
    if doc.catalog().is_err() {
        s.blockers.push("it has no document catalog".to_owned());
    }
    for object in doc.objects.values() {
        look(doc, object, &mut s, 0);
    }
    s
}

fn look(doc: &Document, object: &Object, s: &mut Survey, depth: usize) {
    if depth > MAX_DEPTH {
        s.blockers
            .push("its objects nest too deeply to check".to_owned());
        return;
    }
    match object {
        Object::Name(n) => colour_name(n, s),
        Object::Array(items) => {
            for item in items {
                look(doc, item, s, depth + 1);
            }
        }
        Object::Dictionary(d) => look_dict(doc, d, None, s, depth),
        Object::Stream(stream) => look_dict(doc, &stream.dict, Some(stream), s, depth),
        _ => {}
    }
}

fn look_dict(
    doc: &Document,
    d: &Dictionary,
    stream: Option<&Stream>,
    s: &mut Survey,
    depth: usize,
) {
    let name = |key: &[u8]| d.get(key).and_then(Object::as_name).ok();
    let subtype = name(b"Subtype");
    if name(b"Type") == Some(b"Font".as_slice()) && !is_our_text_font(doc, d) {
        // Widths, cmaps and glyph sets of a document's own fonts are PDF/A
        // rules we cannot verify here; only Tesseract's invisible font is known.
        let base = name(b"BaseFont")
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        s.blockers.push(format!(
            "it has fonts of its own ({base}) that cannot be checked"
        ));
    }
    if name(b"Type") == Some(b"ExtGState".as_slice()) {
        let tr2_default = name(b"TR2") == Some(b"Default".as_slice());
        if d.has(b"TR") || (d.has(b"TR2") && !tr2_default) || d.has(b"HTP") {
            s.blockers
                .push("it uses transfer functions or halftones".to_owned());
        }
    }
    if let Some(stream) = stream {
        look_stream(d, stream, subtype, s);
    }
    if name(b"Type") == Some(b"Annot".as_slice())
        || (d.has(b"Rect") && subtype.is_some_and(is_annotation))
    {
        look_annotation(d, subtype, s);
    }
    for key in [b"A".as_slice(), b"OpenAction", b"Next"] {
        if let Ok(value) = d.get(key) {
            look_action(doc, value, s);
        }
    }
    for (key, value) in d.iter() {
        match key.as_slice() {
            // Additional actions are removed, not checked.
            b"AA" => {}
            // An ICC profile's alternate is a fallback, not what is drawn.
            b"Alternate" if d.has(b"N") => {}
            _ => look(doc, value, s, depth + 1),
        }
    }
}

fn look_stream(d: &Dictionary, stream: &Stream, subtype: Option<&[u8]>, s: &mut Survey) {
    let filters = filters(d);
    let lzw = filters.iter().any(|f| f == b"LZWDecode");
    if lzw {
        s.blockers.push("it has LZW-compressed streams".to_owned());
    }
    if subtype == Some(b"PS".as_slice())
        || d.get(b"Subtype2").and_then(Object::as_name).ok() == Some(b"PS".as_slice())
        || (subtype == Some(b"Form".as_slice()) && d.has(b"PS"))
    {
        s.blockers.push("it has PostScript XObjects".to_owned());
    }
    // LZW is refused anyway, and its expansion has no useful bound.
    if lzw || !may_be_drawn(d, subtype) {
        return;
    }
    match drawing(stream, &filters, &mut s.inflated) {
        Ok(content) => colours_drawn(&content, s),
        Err(blocker) => s.blockers.push(blocker.to_owned()),
    }
}

/// A stream's drawing, decoded, unless it could inflate past [`MAX_DRAWING_BYTES`]
/// or, with the `inflated` bytes before it (which this adds to, refused or
/// not, so the time spent is bounded too), past [`MAX_DRAWINGS_BYTES`].
fn drawing(
    stream: &Stream,
    filters: &[Vec<u8>],
    inflated: &mut u64,
) -> Result<Vec<u8>, &'static str> {
    const TOO_MUCH: &str = "it has more drawing than can be checked";
    if filters.is_empty() {
        return Ok(stream.content.clone());
    }
    let limit = MAX_DRAWING_BYTES.min(MAX_DRAWINGS_BYTES.saturating_sub(*inflated));
    // lopdf makes room for two rows of a PNG predictor, as wide as the file says.
    let predictor = stream
        .dict
        .get(b"DecodeParms")
        .and_then(Object::as_dict)
        .and_then(|p| p.get(b"Predictor"))
        .and_then(Object::as_i64)
        .is_ok_and(|p| p >= 2);
    if predictor || limit == 0 {
        return Err(TOO_MUCH);
    }
    let mut worst = Some(stream.content.len() as u64);
    for filter in filters {
        let ratio = match filter.as_slice() {
            b"FlateDecode" => FLATE_MAX_RATIO,
            b"ASCII85Decode" => ASCII85_MAX_RATIO,
            _ => return Err("it has a stream whose drawing cannot be read"),
        };
        worst = worst.and_then(|w| w.checked_mul(ratio));
    }
    if worst.is_none_or(|worst| worst > limit) {
        // One Flate stage, the usual case, is inflated within the limit rather than refused.
        if filters != [b"FlateDecode".to_vec()] {
            return Err(TOO_MUCH);
        }
        let content = inflate_within(&stream.content, limit);
        *inflated += content.len() as u64;
        if content.len() as u64 > limit {
            return Err(TOO_MUCH);
        }
        return Ok(content);
    }
    let content = stream
        .decompressed_content()
        .map_err(|_| "it has a stream whose drawing cannot be read")?;
    *inflated += content.len() as u64;
    Ok(content)
}

/// Whether a stream may be content (a page's, a form's, a pattern's, a glyph's
/// or an appearance): every stream but the kinds that hold something else.
fn may_be_drawn(d: &Dictionary, subtype: Option<&[u8]>) -> bool {
    let kind = d.get(b"Type").and_then(Object::as_name).ok();
    let data = matches!(
        kind,
        Some(b"Metadata" | b"XRef" | b"ObjStm" | b"EmbeddedFile" | b"OutputIntent")
    );
    let image_or_font = matches!(
        subtype,
        Some(b"Image" | b"Type1C" | b"CIDFontType0C" | b"OpenType" | b"XML")
    );
    let font_program = [b"Length1".as_slice(), b"Length2", b"Length3"]
        .iter()
        .any(|k| d.has(k));
    // ICC profiles (N), functions (FunctionType), shadings' data (ShadingType),
    // CMaps (CMapName) and CIDToGIDMaps (no keys but the stream's own) are data.
    let other_data = [
        b"N".as_slice(),
        b"FunctionType",
        b"ShadingType",
        b"CMapName",
    ]
    .iter()
    .any(|k| d.has(k));
    !(data || image_or_font || font_program || other_data)
}

fn look_annotation(d: &Dictionary, subtype: Option<&[u8]>, s: &mut Survey) {
    let Some(subtype) = subtype else { return };
    if FORBIDDEN_ANNOTATIONS.contains(&subtype) {
        s.blockers.push(format!(
            "it has a {} annotation",
            String::from_utf8_lossy(subtype)
        ));
        return;
    }
    match d.get(b"AP") {
        Ok(Object::Reference(id)) => {
            s.appearance_refs.insert(*id);
        }
        Ok(_) => {}
        Err(_) => {
            if !rect_is_empty(d) && subtype != b"Link" && subtype != b"Popup" {
                s.blockers.push(format!(
                    "a {} annotation has no appearance",
                    String::from_utf8_lossy(subtype)
                ));
            }
        }
    }
}

/// An action where one is run: under `A`, `OpenAction` or `Next` (a chain).
fn look_action(doc: &Document, value: &Object, s: &mut Survey) {
    let value = match doc.dereference(value) {
        Ok((_, v)) => v,
        Err(_) => return,
    };
    let actions: Vec<&Object> = match value {
        Object::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for action in actions {
        let Ok((_, Object::Dictionary(d))) = doc.dereference(action) else {
            // An OpenAction may be a destination array, which is allowed.
            continue;
        };
        if let Ok(kind) = d.get(b"S").and_then(Object::as_name)
            && !action_allowed(kind, d)
        {
            s.blockers
                .push(format!("it has a {} action", String::from_utf8_lossy(kind)));
        }
    }
}

fn is_annotation(subtype: &[u8]) -> bool {
    matches!(
        subtype,
        b"Text"
            | b"Link"
            | b"FreeText"
            | b"Line"
            | b"Square"
            | b"Circle"
            | b"Polygon"
            | b"PolyLine"
            | b"Highlight"
            | b"Underline"
            | b"Squiggly"
            | b"StrikeOut"
            | b"Stamp"
            | b"Caret"
            | b"Ink"
            | b"Popup"
            | b"FileAttachment"
            | b"Sound"
            | b"Movie"
            | b"Widget"
            | b"Screen"
            | b"PrinterMark"
            | b"TrapNet"
            | b"Watermark"
            | b"3D"
            | b"Redact"
    )
}

/// Only an annotation with neither width nor height may go without an appearance.
fn rect_is_empty(d: &Dictionary) -> bool {
    let Ok(rect) = d.get(b"Rect").and_then(Object::as_array) else {
        return true;
    };
    let v: Vec<f32> = rect.iter().filter_map(|o| o.as_float().ok()).collect();
    v.len() == 4 && (v[2] - v[0]).abs() < f32::EPSILON && (v[3] - v[1]).abs() < f32::EPSILON
}

fn action_allowed(action: &[u8], d: &Dictionary) -> bool {
    if action == b"Named" {
        return d
            .get(b"N")
            .and_then(Object::as_name)
            .is_ok_and(|n| ALLOWED_NAMED.contains(&n));
    }
    ALLOWED_ACTIONS.contains(&action)
}

/// Tesseract's invisible glyphless font (the Type 0 font and its descendant),
/// whose embedded program maps every code to one glyph, never `.notdef`.
fn is_our_text_font(doc: &Document, font: &Dictionary) -> bool {
    let base = font.get(b"BaseFont").and_then(Object::as_name).ok();
    let embedded = font
        .get(b"FontDescriptor")
        .and_then(|d| doc.dereference(d))
        .and_then(|(_, d)| d.as_dict())
        .is_ok_and(|d| d.has(b"FontFile2"));
    match font.get(b"Subtype").and_then(Object::as_name) {
        Ok(b"Type0") => base == Some(b"GlyphLessFont".as_slice()),
        Ok(b"CIDFontType2") => base == Some(b"GlyphLessFont".as_slice()) && embedded,
        _ => false,
    }
}

fn colour_name(name: &[u8], s: &mut Survey) {
    match name {
        b"DeviceRGB" | b"RGB" => s.rgb = true,
        b"DeviceCMYK" | b"CMYK" => s.cmyk = true,
        _ => {}
    }
}

/// Which device colours a content stream sets: its colour operators and the
/// colour-space names it uses. Strings and inline image data are skipped; a
/// stray word elsewhere can still count, which errs towards refusing.
fn colours_drawn(content: &[u8], s: &mut Survey) {
    let mut i = 0;
    let mut token_start = None;
    let end_token = |start: &mut Option<usize>, at: usize, s: &mut Survey| -> bool {
        let Some(from) = start.take() else {
            return false;
        };
        match &content[from..at] {
            b"k" | b"K" => s.cmyk = true,
            b"rg" | b"RG" => s.rgb = true,
            [b'/', name @ ..] => colour_name(name, s),
            b"ID" => return true,
            _ => {}
        }
        false
    };
    while i < content.len() {
        let b = content[i];
        let delimiter = b.is_ascii_whitespace() || b"()<>[]{}%/".contains(&b);
        if delimiter && end_token(&mut token_start, i, s) {
            // Inline image data runs to `EI`; nothing in it is an operator.
            i = find(content, i, b"EI").map_or(content.len(), |e| e + 2);
            continue;
        }
        match b {
            b'(' => i = string_end(content, i),
            b'<' if content.get(i + 1) == Some(&b'<') => i += 2,
            b'<' => {
                i = find(content, i, b">").map_or(content.len(), |e| e + 1);
            }
            b'%' => {
                i = content[i..]
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .map_or(content.len(), |p| i + p);
            }
            b'/' => {
                token_start = Some(i);
                i += 1;
            }
            _ if delimiter => i += 1,
            _ => {
                token_start.get_or_insert(i);
                i += 1;
            }
        }
    }
    end_token(&mut token_start, content.len(), s);
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The components of the document's own PDF/A output intent profile, if it has one.
fn existing_intent(doc: &Document) -> Option<i64> {
    let catalog = doc.catalog().ok()?;
    let (_, intents) = doc.dereference(catalog.get(b"OutputIntents").ok()?).ok()?;
    intents.as_array().ok()?.iter().find_map(|intent| {
        let (_, intent) = doc.dereference(intent).ok()?;
        let intent = intent.as_dict().ok()?;
        if intent.get(b"S").and_then(Object::as_name).ok()? != b"GTS_PDFA1" {
            return None;
        }
        let (_, profile) = doc
            .dereference(intent.get(b"DestOutputProfile").ok()?)
            .ok()?;
        profile
            .as_stream()
            .ok()?
            .dict
            .get(b"N")
            .and_then(Object::as_i64)
            .ok()
    })
}

/// Removes, in place, what PDF/A forbids and no reader would see go.
fn tidy(object: &mut Object, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let dict = match object {
        Object::Array(items) => {
            for item in items {
                tidy(item, depth + 1);
            }
            return;
        }
        Object::Dictionary(d) => d,
        Object::Stream(s) => &mut s.dict,
        _ => return,
    };
    dict.remove(b"AA");
    // XMP anywhere but the catalog must meet the catalog's rules; it is optional, so it goes.
    if dict.get(b"Type").and_then(Object::as_name).ok() != Some(b"Catalog".as_slice()) {
        dict.remove(b"Metadata");
    }
    let subtype = dict
        .get(b"Subtype")
        .and_then(Object::as_name)
        .ok()
        .map(<[u8]>::to_vec);
    match subtype.as_deref() {
        Some(b"Image") => {
            dict.remove(b"Interpolate");
            dict.remove(b"Alternates");
            dict.remove(b"OPI");
        }
        Some(b"Form") => {
            dict.remove(b"OPI");
        }
        Some(s) if dict.has(b"Rect") && is_annotation(s) => {
            // A popup may go without flags; every other annotation prints and shows.
            match dict.get(b"F").and_then(Object::as_i64) {
                Ok(flags) => dict.set("F", (flags | PRINT) & !NOT_SHOWN),
                Err(_) if s != b"Popup" => dict.set("F", PRINT),
                Err(_) => {}
            }
            if let Ok(Object::Dictionary(ap)) = dict.get_mut(b"AP") {
                keep_only_normal_appearance(ap);
            }
        }
        _ => {}
    }
    for (_, value) in dict.iter_mut() {
        tidy(value, depth + 1);
    }
}

fn keep_only_normal_appearance(ap: &mut Dictionary) {
    ap.remove(b"R");
    ap.remove(b"D");
}

fn tidy_catalog_part(key: &[u8], part: &mut Dictionary) {
    match key {
        b"Names" => {
            part.remove(b"JavaScript");
            // PDF/A-2 embeds only PDF/A files; others cannot be kept.
            part.remove(b"EmbeddedFiles");
        }
        b"AcroForm" => {
            part.remove(b"NeedAppearances");
            part.remove(b"XFA");
        }
        b"OCProperties" => {
            name_configuration(part.get_mut(b"D").ok(), "Default");
            if let Ok(Object::Array(configs)) = part.get_mut(b"Configs") {
                for (i, config) in configs.iter_mut().enumerate() {
                    name_configuration(Some(config), &format!("Configuration {}", i + 1));
                }
            }
        }
        _ => {}
    }
}

/// Optional-content configurations must be named and must not switch by usage (6.9).
fn name_configuration(config: Option<&mut Object>, name: &str) {
    if let Some(Object::Dictionary(config)) = config {
        if !config.has(b"Name") {
            config.set("Name", Object::string_literal(name));
        }
        config.remove(b"AS");
    }
}

/// The document information kept, each entry mirrored in the XMP.
struct Info {
    title: Option<String>,
    author: Option<String>,
    subject: Option<String>,
    keywords: Option<String>,
    creator: Option<String>,
}

const PRODUCER: &str = "Scribe";

fn info(doc: &Document, describe: &Describe) -> Info {
    let old = doc
        .trailer
        .get(b"Info")
        .and_then(|i| doc.dereference(i))
        .and_then(|(_, i)| i.as_dict())
        .ok();
    let text = |key: &[u8]| {
        old.and_then(|d| d.get(key).ok())
            .and_then(|v| lopdf::decode_text_string(v).ok())
            .map(|v| v.chars().filter(|c| !c.is_control()).collect::<String>())
            .filter(|v| !v.trim().is_empty())
    };
    Info {
        title: text(b"Title").or_else(|| describe.title.clone()),
        author: text(b"Author"),
        subject: text(b"Subject"),
        keywords: text(b"Keywords"),
        creator: text(b"Creator"),
    }
}

impl Info {
    fn dictionary(&self) -> Dictionary {
        let mut d = dictionary! { "Producer" => lopdf::text_string(PRODUCER) };
        for (key, value) in self.entries() {
            if let Some(v) = value {
                d.set(key, lopdf::text_string(v));
            }
        }
        d
    }

    fn entries(&self) -> [(&'static str, Option<&String>); 5] {
        [
            ("Title", self.title.as_ref()),
            ("Author", self.author.as_ref()),
            ("Subject", self.subject.as_ref()),
            ("Keywords", self.keywords.as_ref()),
            ("Creator", self.creator.as_ref()),
        ]
    }
}

fn xmp(info: &Info, now: &str) -> String {
    let e = scribe_core::xml::escape;
    let mut props = format!(
        "   <pdfaid:part>2</pdfaid:part>\n   <pdfaid:conformance>B</pdfaid:conformance>\n   \
         <pdf:Producer>{PRODUCER}</pdf:Producer>\n   <xmp:ModifyDate>{now}</xmp:ModifyDate>\n   \
         <xmp:MetadataDate>{now}</xmp:MetadataDate>\n"
    );
    if let Some(t) = &info.title {
        props += &format!(
            "   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:title>\n",
            e(t)
        );
    }
    if let Some(a) = &info.author {
        props += &format!(
            "   <dc:creator><rdf:Seq><rdf:li>{}</rdf:li></rdf:Seq></dc:creator>\n",
            e(a)
        );
    }
    if let Some(s) = &info.subject {
        props += &format!(
            "   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:description>\n",
            e(s)
        );
    }
    if let Some(k) = &info.keywords {
        props += &format!("   <pdf:Keywords>{}</pdf:Keywords>\n", e(k));
    }
    if let Some(c) = &info.creator {
        props += &format!("   <xmp:CreatorTool>{}</xmp:CreatorTool>\n", e(c));
    }
    // `xml:` is declared although XML predefines it: some XMP readers refuse
    // it undeclared, and the declaration is harmless to the rest.
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n \
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n  \
         <rdf:Description rdf:about=\"\"\n    \
         xmlns:xml=\"http://www.w3.org/XML/1998/namespace\"\n    \
         xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"\n    \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n    \
         xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n    \
         xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n\
         {props}  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>"
    )
}

/// The trailer's `ID`: the original's permanent half when it has one, a new changing half.
fn file_id(doc: &Document) -> Object {
    let fresh = || {
        Object::String(
            uuid::Uuid::new_v4().as_bytes().to_vec(),
            StringFormat::Hexadecimal,
        )
    };
    let permanent = doc
        .trailer
        .get(b"ID")
        .and_then(Object::as_array)
        .ok()
        .and_then(|a| a.first())
        .filter(|first| first.as_str().is_ok_and(|s| !s.is_empty()))
        .map(|first| match first {
            Object::String(bytes, _) => Object::String(bytes.clone(), StringFormat::Hexadecimal),
            other => other.clone(),
        })
        .unwrap_or_else(fresh);
    Object::Array(vec![permanent, fresh()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_doc(content: &[u8], resources: Dictionary) -> Document {
        let mut doc = Document::with_version("1.5");
        let pages = doc.new_object_id();
        let contents = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            "Resources" => resources,
            "Contents" => contents,
        });
        doc.objects.insert(
            pages,
            Object::Dictionary(
                dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
            ),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        doc
    }

    #[test]
    fn a_stream_that_would_inflate_past_the_limit_is_not_inflated() {
        use std::io::Write;
        let zlib = |bytes: &[u8]| {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(bytes).expect("deflate");
            z.finish().expect("deflate")
        };
        // A stream referred to by nothing, with no type: it could be a drawing.
        let survey_with = |dict: Dictionary, content: Vec<u8>| {
            let mut doc = page_doc(b"0 0 10 10 re f", dictionary! {});
            doc.add_object(Stream::new(dict, content));
            survey(&doc)
        };
        let flate = || dictionary! { "Filter" => "FlateDecode" };
        let too_much = |found: Survey| {
            found
                .blockers
                .contains(&"it has more drawing than can be checked".to_owned())
        };
        let once = zlib(&vec![b' '; (MAX_DRAWING_BYTES + 1) as usize]);
        assert!(too_much(survey_with(flate(), once)));
        // Twice deflated, a few hundred bytes that could be a gigabyte: not even inflated once.
        let twice = zlib(&zlib(&vec![0; 64 << 20]));
        assert!(twice.len() < 64 << 10, "{}", twice.len());
        let chain = vec![Object::from("FlateDecode"), Object::from("FlateDecode")];
        assert!(too_much(survey_with(
            dictionary! { "Filter" => chain },
            twice
        )));
        // A predictor's rows, as wide as the file says, are not made.
        let rows = dictionary! {
            "Filter" => "FlateDecode",
            "DecodeParms" => dictionary! { "Predictor" => 12, "Columns" => 2_500_000_000i64 },
        };
        assert!(too_much(survey_with(rows, zlib(b"1 0 0 rg"))));
        // Within the limit, a stream is read for its colours.
        let found = survey_with(flate(), zlib(b"1 0 0 rg 0 0 5 5 re f"));
        assert!(
            found.blockers.is_empty() && found.rgb,
            "{:?}",
            found.blockers
        );
        // Large enough that Flate's worst ratio would refuse it: inflated within the limit.
        let mut big = b"1 0 0 rg\n".to_vec();
        for i in 0u64..200_000 {
            let n = i.wrapping_mul(2_654_435_761) % 100_000;
            big.extend_from_slice(format!("{n} {} 3 4 re f\n", n / 7).as_bytes());
        }
        let drawn = zlib(&big);
        assert!(drawn.len() as u64 * FLATE_MAX_RATIO > MAX_DRAWING_BYTES);
        let found = survey_with(flate(), drawn);
        assert!(
            found.blockers.is_empty() && found.rgb,
            "{:?}",
            found.blockers
        );
    }

    #[test]
    fn an_rgb_page_gets_metadata_an_srgb_intent_and_an_id() {
        let mut doc = page_doc(b"1 0 0 rg 0 0 10 10 re f", dictionary! {});
        conform(
            &mut doc,
            &Describe {
                title: Some("scan <1>.png".to_owned()),
            },
        )
        .expect("conforms");
        let catalog = doc.catalog().expect("catalog");
        let (_, meta) = doc
            .dereference(catalog.get(b"Metadata").expect("metadata"))
            .expect("ref");
        let xml =
            String::from_utf8(meta.as_stream().expect("stream").content.clone()).expect("utf-8");
        assert!(xml.contains("<pdfaid:part>2</pdfaid:part>"), "{xml}");
        assert!(xml.contains("<pdfaid:conformance>B</pdfaid:conformance>"));
        assert!(
            xml.contains("scan &lt;1&gt;.png"),
            "titles are escaped: {xml}"
        );
        let intents = catalog
            .get(b"OutputIntents")
            .and_then(Object::as_array)
            .expect("intents");
        assert_eq!(intents.len(), 1);
        let id = doc
            .trailer
            .get(b"ID")
            .and_then(Object::as_array)
            .expect("ID");
        assert_eq!(id.len(), 2);
    }

    #[test]
    fn unembedded_fonts_and_device_cmyk_are_refused_and_the_file_left_alone() {
        let font =
            dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" };
        let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        let mut doc = page_doc(b"BT /F1 12 Tf (hi) Tj ET 0 0 0 1 k", resources);
        let before = doc.objects.len();
        let err = conform(&mut doc, &Describe::default()).expect_err("not conformable");
        let text = err.to_string();
        assert!(text.contains("fonts of its own (Helvetica)"), "{text}");
        assert!(text.contains("CMYK"), "{text}");
        assert_eq!(doc.objects.len(), before, "nothing was added");
        assert!(doc.catalog().expect("catalog").get(b"Metadata").is_err());
    }

    #[test]
    fn hidden_annotations_are_made_printable_and_scripts_dropped() {
        let annot = dictionary! {
            "Type" => "Annot", "Subtype" => "Link", "F" => 2,
            "Rect" => vec![0.into(), 0.into(), 10.into(), 10.into()],
            "AA" => dictionary! {},
        };
        let mut doc = page_doc(b"", dictionary! {});
        let id = doc.add_object(annot);
        conform(&mut doc, &Describe::default()).expect("conforms");
        let annot = doc.get_dictionary(id).expect("annot");
        assert_eq!(annot.get(b"F").and_then(Object::as_i64).expect("F"), PRINT);
        assert!(!annot.has(b"AA"));
    }

    #[test]
    fn a_javascript_link_is_refused() {
        let mut doc = page_doc(b"", dictionary! {});
        doc.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Link",
            "Rect" => vec![0.into(), 0.into(), 10.into(), 10.into()],
            "A" => dictionary! { "S" => "JavaScript", "JS" => Object::string_literal("app.alert(1)") },
        });
        let err = conform(&mut doc, &Describe::default()).expect_err("refused");
        assert!(err.to_string().contains("JavaScript action"), "{err}");
    }

    #[test]
    fn colour_operators_count_outside_strings_and_inline_images_only() {
        let drawn = |content: &[u8]| {
            let mut s = Survey::default();
            colours_drawn(content, &mut s);
            (s.rgb, s.cmyk)
        };
        assert_eq!(drawn(b"BT [(Wor)-20(k)]TJ <6b> Tj ET 0 g"), (false, false));
        assert_eq!(drawn(b"BI /W 1 /H 1 /CS /G ID k rg EI 0 g"), (false, false));
        assert_eq!(drawn(b"0 0 0 1 k 0 0 10 10 re f"), (false, true));
        assert_eq!(drawn(b"/DeviceCMYK cs"), (false, true));
        assert_eq!(drawn(b"q<</MCID 0>>BDC 1 0 0 rg"), (true, false));
    }

    #[test]
    fn scripts_and_attachments_go_from_a_names_tree_held_by_reference() {
        let mut doc = page_doc(b"", dictionary! {});
        let names = doc.add_object(dictionary! {
            "JavaScript" => dictionary! { "Names" => vec![
                Object::string_literal("hello"),
                dictionary! { "S" => "JavaScript", "JS" => Object::string_literal("app.alert(1)") }.into(),
            ] },
            "EmbeddedFiles" => dictionary! { "Names" => Vec::<Object>::new() },
            "Dests" => dictionary! {},
        });
        let form = doc.add_object(
            dictionary! { "Fields" => Vec::<Object>::new(), "NeedAppearances" => true },
        );
        doc.catalog_mut().expect("catalog").set("Names", names);
        doc.catalog_mut().expect("catalog").set("AcroForm", form);
        conform(&mut doc, &Describe::default()).expect("conforms once the scripts are gone");
        let names = doc.get_dictionary(names).expect("names");
        assert!(!names.has(b"JavaScript") && !names.has(b"EmbeddedFiles"));
        assert!(names.has(b"Dests"));
        assert!(
            !doc.get_dictionary(form)
                .expect("form")
                .has(b"NeedAppearances")
        );
    }

    #[test]
    fn a_popup_without_flags_keeps_none_and_others_print() {
        let mut doc = page_doc(b"", dictionary! {});
        let rect = || vec![0.into(), 0.into(), 10.into(), 10.into()];
        let popup = doc
            .add_object(dictionary! { "Type" => "Annot", "Subtype" => "Popup", "Rect" => rect() });
        let hidden = doc.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Popup", "Rect" => rect(), "F" => 256 + 32,
        });
        conform(&mut doc, &Describe::default()).expect("conforms");
        assert!(!doc.get_dictionary(popup).expect("popup").has(b"F"));
        let flags = doc
            .get_dictionary(hidden)
            .expect("popup")
            .get(b"F")
            .and_then(Object::as_i64);
        assert_eq!(flags.expect("F"), PRINT);
    }
}
