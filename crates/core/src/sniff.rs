//! The real type of an uploaded file, read from its first bytes. The file name
//! is never consulted: it is display text only.

use serde::{Deserialize, Serialize};

/// The input formats Scribe accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    Png,
    Jpeg,
    Tiff,
    Bmp,
    Gif,
    Webp,
    /// Netpbm: PBM, PGM, PPM (what SANE's `scanimage` writes) and PAM.
    Pnm,
    /// JPEG 2000, as a JP2 file or a bare codestream.
    Jp2,
    Pdf,
}

/// How many leading bytes [`sniff`] needs to decide.
pub const SNIFF_LEN: usize = 64;

impl DocumentKind {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Tiff => "image/tiff",
            Self::Bmp => "image/bmp",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Pnm => "image/x-portable-anymap",
            Self::Jp2 => "image/jp2",
            Self::Pdf => "application/pdf",
        }
    }

    /// The lowercase form stored in the database and results (`png`, `pdf`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Tiff => "tiff",
            Self::Bmp => "bmp",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::Pnm => "pnm",
            Self::Jp2 => "jp2",
            Self::Pdf => "pdf",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Png,
            Self::Jpeg,
            Self::Tiff,
            Self::Bmp,
            Self::Gif,
            Self::Webp,
            Self::Pnm,
            Self::Jp2,
            Self::Pdf,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
            Self::Tiff => "TIFF",
            Self::Bmp => "BMP",
            Self::Gif => "GIF",
            Self::Webp => "WebP",
            Self::Pnm => "PNM",
            Self::Jp2 => "JPEG 2000",
            Self::Pdf => "PDF",
        }
    }

    /// The accepted formats, for error messages.
    pub fn accepted() -> &'static str {
        "PNG, JPEG, TIFF, BMP, GIF, WebP, PNM, JPEG 2000 or PDF"
    }
}

/// What the bytes are, when they are not something we accept: a short
/// description for the error message ("a ZIP archive", "an ELF executable").
pub fn describe_unknown(head: &[u8]) -> String {
    match infer::get(head) {
        Some(t) => format!(
            "a {} file ({})",
            t.extension().to_uppercase(),
            t.mime_type()
        ),
        None if head.is_empty() => "an empty file".to_owned(),
        None => "in an unrecognised format".to_owned(),
    }
}

/// Detects the document kind from magic numbers.
pub fn sniff(head: &[u8]) -> Option<DocumentKind> {
    // PDF readers accept a header anywhere in the first KiB; real-world files
    // sometimes carry a few junk bytes before it.
    if find(head, b"%PDF-").is_some() {
        return Some(DocumentKind::Pdf);
    }
    // Neither format is in `infer`'s table.
    if head.starts_with(b"\0\0\0\x0cjP  \r\n\x87\n") || head.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
    {
        return Some(DocumentKind::Jp2);
    }
    if let [b'P', b'1'..=b'7', next, ..] = head
        && next.is_ascii_whitespace()
    {
        return Some(DocumentKind::Pnm);
    }
    let kind = infer::get(head)?;
    match kind.mime_type() {
        "image/png" => Some(DocumentKind::Png),
        "image/jpeg" => Some(DocumentKind::Jpeg),
        "image/tiff" => Some(DocumentKind::Tiff),
        "image/bmp" => Some(DocumentKind::Bmp),
        "image/gif" => Some(DocumentKind::Gif),
        "image/webp" => Some(DocumentKind::Webp),
        "application/pdf" => Some(DocumentKind::Pdf),
        _ => None,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real files are longer than their magic; some matchers insist on it.
    fn sniff(magic: &[u8]) -> Option<DocumentKind> {
        let mut buf = magic.to_vec();
        buf.resize(SNIFF_LEN, 0);
        super::sniff(&buf)
    }

    #[test]
    fn recognises_each_accepted_format_by_magic() {
        let cases: [(&[u8], DocumentKind); 7] = [
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", DocumentKind::Png),
            (b"\xff\xd8\xff\xe0\0\x10JFIF\0", DocumentKind::Jpeg),
            (b"II*\0\x08\0\0\0", DocumentKind::Tiff),
            (b"MM\0*\0\0\0\x08", DocumentKind::Tiff),
            (b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0", DocumentKind::Bmp),
            (b"GIF89a\x01\0\x01\0", DocumentKind::Gif),
            (b"%PDF-1.7\n", DocumentKind::Pdf),
        ];
        for (bytes, kind) in cases {
            assert_eq!(sniff(bytes), Some(kind), "{bytes:?}");
        }
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some(DocumentKind::Webp));
        assert_eq!(sniff(b"P4\n1654 2339\n"), Some(DocumentKind::Pnm));
        assert_eq!(sniff(b"P5 10 10 255\n"), Some(DocumentKind::Pnm));
        assert_eq!(sniff(b"P9 10"), None);
        assert_eq!(
            sniff(b"\0\0\0\x0cjP  \r\n\x87\n\0\0\0\x14ftypjp2 "),
            Some(DocumentKind::Jp2)
        );
        assert_eq!(
            sniff(&[0xFF, 0x4F, 0xFF, 0x51, 0, 0x2F]),
            Some(DocumentKind::Jp2)
        );
    }

    #[test]
    fn the_stored_form_round_trips_and_matches_serde() {
        for k in [
            DocumentKind::Png,
            DocumentKind::Jpeg,
            DocumentKind::Tiff,
            DocumentKind::Webp,
            DocumentKind::Pdf,
        ] {
            assert_eq!(DocumentKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::Value::from(k.as_str()))
            );
        }
        assert_eq!(DocumentKind::parse("exe"), None);
    }

    #[test]
    fn refuses_executables_and_text_whatever_their_name() {
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"), None);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(sniff(b"hello world"), None);
        assert_eq!(super::sniff(b""), None);
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.resize(SNIFF_LEN, 0);
        assert!(
            describe_unknown(&elf).contains("ELF"),
            "{}",
            describe_unknown(&elf)
        );
    }
}
