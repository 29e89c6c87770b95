//! lopdf, only for files it cannot be killed by. Its parser recurses once per
//! level of array or dictionary nesting, and a stack overflow aborts the whole
//! process, not the call: a 400 KB file of nested brackets would take a worker
//! and every page in flight on it down, again on each redelivery. So the bytes
//! are measured first — the file as stored and every compressed object stream
//! in it — and a file nested deeper than any real document is left to poppler,
//! which has its own recursion limit.

use std::io::Read;
use std::path::Path;

use lopdf::Document;

/// Deeper than real documents nest (they stay well under 32) and shallow
/// enough for lopdf on a 2 MiB thread stack (a test below holds it to that).
pub const MAX_NESTING: usize = 100;
/// An object stream larger than this once inflated is not checked, and so not parsed.
const MAX_OBJECT_STREAM_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("the PDF could not be read: {0}")]
    Io(#[from] std::io::Error),
    #[error("the PDF nests its objects deeper than {MAX_NESTING} levels")]
    TooDeep,
    #[error("the PDF has an object stream that cannot be checked before parsing")]
    Uncheckable,
    #[error("the PDF's objects could not be read: {0}")]
    Parse(#[from] lopdf::Error),
}

/// Parses the PDF at `path` once its nesting is known to be safe.
pub fn load(path: &Path) -> Result<Document, GuardError> {
    let bytes = std::fs::read(path)?;
    check(&bytes)?;
    Ok(Document::load_mem(&bytes)?)
}

/// Whether `bytes` (a whole file) nests no deeper than [`MAX_NESTING`].
pub fn check(bytes: &[u8]) -> Result<(), GuardError> {
    scan(bytes, true)
}

fn scan(bytes: &[u8], top_level: bool) -> Result<(), GuardError> {
    let mut depth = 0usize;
    // Where the dictionary open at depth 0 began: a stream's dictionary.
    let mut outer_dict = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => i = line_end(bytes, i),
            b'(' => i = string_end(bytes, i),
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                if depth == 0 {
                    outer_dict = i;
                }
                depth += 1;
                i += 2;
            }
            b'<' => i = find(bytes, i, b">").map_or(bytes.len(), |e| e + 1),
            b'>' if bytes.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 2;
            }
            b'[' => {
                depth += 1;
                i += 1;
            }
            b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b's' if bytes[i..].starts_with(b"stream") && (i == 0 || !is_regular(bytes[i - 1])) => {
                let body = body_start(bytes, i + 6);
                let end = find(bytes, body, b"endstream").unwrap_or(bytes.len());
                if top_level && depth == 0 {
                    object_stream(&bytes[outer_dict..i], &bytes[body..end])?;
                }
                i = end + b"endstream".len();
            }
            _ => i += 1,
        }
        if depth > MAX_NESTING {
            return Err(GuardError::TooDeep);
        }
    }
    Ok(())
}

/// Checks the objects packed in a stream whose dictionary is `dict`, if it is an object stream.
fn object_stream(dict: &[u8], body: &[u8]) -> Result<(), GuardError> {
    if find(dict, 0, b"/ObjStm").is_none() {
        return Ok(());
    }
    let flate_only = find(dict, 0, b"/FlateDecode").is_some()
        && [
            b"/DecodeParms".as_slice(),
            b"/LZW",
            b"/ASCII",
            b"/RunLength",
            b"/DCT",
            b"/Crypt",
        ]
        .iter()
        .all(|other| find(dict, 0, other).is_none());
    if find(dict, 0, b"/Filter").is_none() {
        return scan(body, false);
    }
    if !flate_only {
        return Err(GuardError::Uncheckable);
    }
    let mut inflated = Vec::new();
    flate2::read::ZlibDecoder::new(body)
        .take(MAX_OBJECT_STREAM_BYTES + 1)
        .read_to_end(&mut inflated)
        .map_err(|_| GuardError::Uncheckable)?;
    if inflated.len() as u64 > MAX_OBJECT_STREAM_BYTES {
        return Err(GuardError::Uncheckable);
    }
    scan(&inflated, false)
}

/// Stream data starts after the keyword's line end (CRLF or LF).
fn body_start(bytes: &[u8], after_keyword: usize) -> usize {
    match bytes.get(after_keyword..after_keyword + 2) {
        Some(b"\r\n") => after_keyword + 2,
        _ if bytes.get(after_keyword) == Some(&b'\n')
            || bytes.get(after_keyword) == Some(&b'\r') =>
        {
            after_keyword + 1
        }
        _ => after_keyword,
    }
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |p| from + p)
}

/// Past a literal string, whose parentheses nest and may be escaped.
fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut level = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => level += 1,
            b')' => {
                level -= 1;
                if level == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Not whitespace and not a delimiter: part of a name, number or keyword.
fn is_regular(b: u8) -> bool {
    !(b.is_ascii_whitespace() || b"()<>[]{}/%\0".contains(&b))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn nested(depth: usize) -> Vec<u8> {
        let mut out = b"1 0 obj\n<< /Junk ".to_vec();
        out.extend(std::iter::repeat_n(b'[', depth));
        out.extend(std::iter::repeat_n(b']', depth));
        out.extend_from_slice(b" >>\nendobj\n");
        out
    }

    #[test]
    fn ordinary_nesting_passes_and_deep_nesting_is_refused() {
        assert!(check(&nested(20)).is_ok());
        assert!(matches!(check(&nested(5000)), Err(GuardError::TooDeep)));
    }

    #[test]
    fn brackets_inside_strings_comments_and_streams_do_not_count() {
        let deep = "[".repeat(500);
        let file = format!(
            "1 0 obj\n({deep} \\( ) endobj\n% {deep}\n2 0 obj\n<< /Length 500 >>\nstream\n{deep}\nendstream\nendobj\n"
        );
        assert!(check(file.as_bytes()).is_ok());
    }

    #[test]
    fn deep_nesting_inside_a_compressed_object_stream_is_found() {
        let mut packed = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        packed.write_all(&nested(5000)).expect("deflate");
        let packed = packed.finish().expect("deflate");
        let mut file = format!(
            "5 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length {} >>\nstream\n",
            packed.len()
        )
        .into_bytes();
        file.extend_from_slice(&packed);
        file.extend_from_slice(b"\nendstream\nendobj\n");
        assert!(matches!(check(&file), Err(GuardError::TooDeep)));
    }

    #[test]
    fn lopdf_survives_the_deepest_file_the_guard_lets_through() {
        // On a thread with the 2 MiB stack of tokio's blocking pool.
        let worker = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(|| {
                let object = nested(MAX_NESTING - 1);
                let mut file = b"%PDF-1.4\n".to_vec();
                let offset = file.len();
                file.extend_from_slice(&object);
                let xref = file.len();
                file.extend_from_slice(
                    format!(
                        "xref\n0 2\n0000000000 65535 f \n{offset:010} 00000 n \n\
                         trailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
                    )
                    .as_bytes(),
                );
                assert!(check(&file).is_ok());
                let doc = Document::load_mem(&file).expect("lopdf reads it");
                assert!(
                    doc.get_object((1, 0)).is_ok(),
                    "the nested object was parsed"
                );
            })
            .expect("spawn");
        assert!(worker.join().is_ok());
    }
}
