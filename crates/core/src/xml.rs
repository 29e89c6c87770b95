//! Text put into XML (hOCR, XMP metadata).

/// Escapes markup and drops what XML 1.0 cannot hold (controls, U+FFFE/FFFF).
pub fn escape(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || (c >= ' ' && c != '\u{7f}' && c != '\u{fffe}' && c != '\u{ffff}')
        })
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_is_escaped_and_what_xml_cannot_hold_dropped() {
        assert_eq!(
            super::escape("a\u{1}b\u{fffe}<c>&'d'"),
            "ab&lt;c&gt;&amp;&#39;d&#39;"
        );
    }
}
