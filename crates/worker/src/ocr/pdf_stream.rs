//! The bytes of an uploaded PDF's streams, read in-process within bounds:
//! the PDF/A survey, the PDF/A claim's XMP and the invisible text taken out
//! under `--force-ocr` all read streams a stranger wrote. lopdf inflates
//! without a limit and parses nested arrays by recursion without one; a few
//! kilobytes of Flate, or of `[`, must not become gigabytes or a stack
//! overflow here.

use lopdf::{Dictionary, Object, Stream};

/// The most arrays and dictionaries a drawing may nest before lopdf's
/// parser, which recurses into each, is not trusted with it; real drawings
/// nest a handful.
const MAX_NESTING: usize = 64;

/// The stream's decoded bytes when it is stored plain, or Flate-compressed
/// without a predictor, and decodes to at most `limit` bytes.
pub fn decoded_within(stream: &Stream, limit: u64) -> Option<Vec<u8>> {
    let bytes = match filters(&stream.dict).as_slice() {
        [] => stream.content.clone(),
        [flate] if flate == b"FlateDecode" && stream.dict.get(b"DecodeParms").is_err() => {
            inflate_within(&stream.content, limit)
        }
        _ => return None,
    };
    (bytes.len() as u64 <= limit).then_some(bytes)
}

/// Zlib `data` inflated as lopdf does it, but to at most `limit` + 1 bytes: what
/// inflates before an error is kept, and data that fails from its first byte is
/// read again as raw deflate past the two-byte header.
pub fn inflate_within(data: &[u8], limit: u64) -> Vec<u8> {
    use std::io::Read;
    let read = |reader: &mut dyn Read| {
        let mut out = Vec::new();
        // An error ends the stream; what came before it stays, as in lopdf.
        let _ = reader.take(limit + 1).read_to_end(&mut out);
        out
    };
    match read(&mut flate2::read::ZlibDecoder::new(data)) {
        out if out.is_empty() && data.len() > 2 => {
            read(&mut flate2::read::DeflateDecoder::new(&data[2..]))
        }
        out => out,
    }
}

/// A stream's filters, in the order they apply.
pub fn filters(d: &Dictionary) -> Vec<Vec<u8>> {
    match d.get(b"Filter") {
        Ok(Object::Name(n)) => vec![n.clone()],
        Ok(Object::Array(a)) => a
            .iter()
            .filter_map(|o| o.as_name().ok().map(<[u8]>::to_vec))
            .collect(),
        _ => Vec::new(),
    }
}

/// Past a literal string, whose parentheses nest and may be escaped.
pub fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut level = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' => level += 1,
            b')' => {
                level = level.saturating_sub(1);
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

/// Whether a drawing's arrays and dictionaries nest at most [`MAX_NESTING`]
/// deep, strings and comments aside. Bytes of an inline image may count as
/// brackets: such a drawing is refused, never wrongly passed.
pub fn shallow(drawing: &[u8]) -> bool {
    let (mut depth, mut i) = (0usize, 0);
    while i < drawing.len() {
        match drawing[i] {
            b'(' => {
                i = string_end(drawing, i);
                continue;
            }
            b'%' => {
                while i < drawing.len() && drawing[i] != b'\n' && drawing[i] != b'\r' {
                    i += 1;
                }
            }
            b'[' => depth += 1,
            b'<' if drawing.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 1;
            }
            // A hex string.
            b'<' => {
                while i < drawing.len() && drawing[i] != b'>' {
                    i += 1;
                }
            }
            b']' => depth = depth.saturating_sub(1),
            b'>' if drawing.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => {}
        }
        if depth > MAX_NESTING {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    #[test]
    fn nesting_is_counted_outside_strings_and_comments() {
        assert!(shallow(b"BT [(a) 10 (b)] TJ ET /P <</MCID 0>> BDC EMC"));
        assert!(shallow(&[b"(".as_slice(), &[b'['; 1000], b")"].concat()));
        assert!(shallow(&[b"%".as_slice(), &[b'['; 1000], b"\n"].concat()));
        assert!(shallow(&[b"<".as_slice(), &[b'['; 1000], b">"].concat()));
        assert!(!shallow(&[b'['; 100_000]));
        assert!(!shallow(&b"<<".repeat(1000)));
    }

    #[test]
    fn only_plain_or_lone_flate_within_the_limit_is_decoded() {
        let plain = Stream::new(dictionary! {}, b"abc".to_vec());
        assert_eq!(decoded_within(&plain, 3), Some(b"abc".to_vec()));
        assert_eq!(decoded_within(&plain, 2), None);
        let mut flate = Stream::new(dictionary! {}, vec![b'x'; 10_000]);
        flate.compress().expect("compress");
        assert_eq!(
            decoded_within(&flate, 10_000).map(|b| b.len()),
            Some(10_000)
        );
        assert_eq!(decoded_within(&flate, 9_999), None);
        let lzw = Stream::new(dictionary! { "Filter" => "LZWDecode" }, b"??".to_vec());
        assert_eq!(decoded_within(&lzw, 100), None);
    }
}
