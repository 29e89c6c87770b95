//! The words of a PDF page's own text where they stand on it, from
//! `pdftotext -bbox`, matched to the page's text: poppler may split a word
//! into pieces (a skewed OCR layer's word, letter by letter), and its text,
//! not its list of boxes, says where words and lines begin and end.

use crate::results::{BBox, Word};

/// A page's own text is not read but taken as it is: nothing about it is
/// uncertain.
const OWN_TEXT_CONFIDENCE: f32 = 100.0;
/// How many boxes past the last matched one a word of the text is looked
/// for before it is taken as having no box (text poppler joins, such as a
/// word broken at a line's end by a hyphen, is not in its list of boxes).
const LOOK_AHEAD: usize = 8;

/// The words of a page's own text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageWords {
    /// The page's size in points, as stored (not turned by `/Rotate`).
    size: (f64, f64),
    words: Vec<OwnWord>,
}

#[derive(Debug, Clone, PartialEq)]
struct OwnWord {
    text: String,
    /// Left, top, right and bottom in points from the top left of the page as shown.
    bounds: [f64; 4],
    /// Its paragraph and line in the page's text (1-based); 0 before it is
    /// matched to the text.
    paragraph: u32,
    line: u32,
}

impl PageWords {
    /// The words of `pdftotext -bbox` output, as poppler boxes them.
    pub(super) fn parse(html: &str) -> Self {
        let Some(size) = html
            .lines()
            .find(|l| l.trim_start().starts_with("<page "))
            .and_then(|l| Some((attribute(l, "width")?, attribute(l, "height")?)))
        else {
            return Self::default();
        };
        let words = html
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with("<word "))
            .filter_map(word)
            .collect();
        Self { size, words }
    }

    /// The words of `text` (pdftotext's, in the same order as these boxes),
    /// each boxed by the pieces it is made of, numbered by the text's lines
    /// and its paragraphs (runs of lines between blank ones). A word whose
    /// pieces are not found keeps no box.
    pub(super) fn matched(self, text: &str) -> Self {
        let pieces = self.words;
        let mut words = Vec::new();
        let mut next = 0;
        let (mut paragraph, mut line, mut blank) = (0, 0, true);
        for l in text.lines() {
            if l.trim().is_empty() {
                blank = true;
                continue;
            }
            if blank {
                paragraph += 1;
                blank = false;
            }
            line += 1;
            for token in l.split_whitespace() {
                let found = (next..pieces.len().min(next + LOOK_AHEAD))
                    .find_map(|start| Some((start, made_of(token, &pieces[start..])?)));
                let Some((start, count)) = found else {
                    continue;
                };
                let bounds = pieces[start..start + count].iter().fold(
                    pieces[start].bounds,
                    |[x0, y0, x1, y1], p| {
                        let [a0, b0, a1, b1] = p.bounds;
                        [x0.min(a0), y0.min(b0), x1.max(a1), y1.max(b1)]
                    },
                );
                words.push(OwnWord {
                    text: token.to_owned(),
                    bounds,
                    paragraph,
                    line,
                });
                next = start + count;
            }
        }
        Self {
            size: self.size,
            words,
        }
    }

    /// The words' boxes on the page rendered `shown` pixels wide and tall
    /// (see [`PageWords::words`]).
    pub fn in_pixels(&self, shown: (u32, u32)) -> Vec<BBox> {
        self.words(shown).into_iter().map(|w| w.bbox).collect()
    }

    /// The words on the page rendered `shown` pixels wide and tall, their
    /// boxes in pixels from its top left (y down); a paragraph of the text is
    /// a block. poppler gives the page's size as it is stored but its words
    /// as the page is shown, turned by its `/Rotate`: the render's shape
    /// says which.
    pub fn words(&self, (width, height): (u32, u32)) -> Vec<Word> {
        let (mut w_pt, mut h_pt) = self.size;
        if (w_pt > h_pt) != (width > height) {
            std::mem::swap(&mut w_pt, &mut h_pt);
        }
        let (sx, sy) = (
            f64::from(width) / w_pt.max(1e-6),
            f64::from(height) / h_pt.max(1e-6),
        );
        self.words
            .iter()
            .filter_map(|w| {
                let [x0, y0, x1, y1] = w.bounds;
                // poppler boxes a word cut by the page's edge, or a glyph
                // drawn huge, past the page.
                let (x0, y0) = ((x0 * sx).max(0.0), (y0 * sy).max(0.0));
                let (x1, y1) = (
                    (x1 * sx).min(f64::from(width)),
                    (y1 * sy).min(f64::from(height)),
                );
                (x1 > x0 && y1 > y0).then(|| Word {
                    text: w.text.clone(),
                    confidence: OWN_TEXT_CONFIDENCE,
                    bbox: BBox {
                        x: x0 as u32,
                        y: y0 as u32,
                        width: (x1 - x0).ceil() as u32,
                        height: (y1 - y0).ceil() as u32,
                    },
                    block: w.paragraph.max(1),
                    paragraph: w.paragraph.max(1),
                    line: w.line.max(1),
                })
            })
            .collect()
    }
}

/// How many of `pieces`, from the first, spell `token` when joined.
fn made_of(token: &str, pieces: &[OwnWord]) -> Option<usize> {
    let mut rest = token;
    for (i, piece) in pieces.iter().enumerate() {
        rest = rest.strip_prefix(piece.text.as_str())?;
        if rest.is_empty() {
            return Some(i + 1);
        }
    }
    None
}

/// One `<word xMin=… yMin=… xMax=… yMax=…>text</word>` line.
fn word(line: &str) -> Option<OwnWord> {
    let bounds = [
        attribute(line, "xMin")?,
        attribute(line, "yMin")?,
        attribute(line, "xMax")?,
        attribute(line, "yMax")?,
    ];
    let open = line.find('>')? + 1;
    let close = line.rfind("</word>")?;
    let text = unescape(line.get(open..close)?);
    (!text.is_empty()).then_some(OwnWord {
        text,
        bounds,
        paragraph: 0,
        line: 0,
    })
}

/// The text of an element as poppler escapes it (the five XML entities).
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The number in `name="…"` on an HTML tag's line.
fn attribute(line: &str, name: &str) -> Option<f64> {
    let start = line.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = line[start..].find('"')?;
    line[start..start + len].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_boxes_are_scaled_to_the_page_as_shown() {
        let html = r#"<body>
<doc>
  <page width="612.000000" height="792.000000">
    <word xMin="36.000000" yMin="764.820000" xMax="101.580000" yMax="774.070000">ACME-000123</word>
    <word xMin="-2.000000" yMin="10.000000" xMax="4.000000" yMax="20.000000">x</word>
    <word xMin="700.000000" yMin="500.000000" xMax="750.000000" yMax="510.000000">wide</word>
  </page>
</doc>"#;
        let words = PageWords::parse(html);
        let upright = words.in_pixels((1224, 1584));
        assert_eq!(
            upright[0],
            BBox {
                x: 72,
                y: 1529,
                width: 132,
                height: 19
            }
        );
        assert_eq!(
            upright[1],
            BBox {
                x: 0,
                y: 20,
                width: 8,
                height: 20
            }
        );
        // A word past the page's right edge is cut at it: here, off it.
        assert_eq!(upright.len(), 2);
        // Turned by `/Rotate 90`, the page is shown landscape; its words' boxes
        // are in that frame, its size is not.
        let turned = words.in_pixels((1584, 1224));
        assert_eq!(
            turned.last(),
            Some(&BBox {
                x: 1400,
                y: 1000,
                width: 100,
                height: 20
            })
        );
        assert!(
            PageWords::parse("<html></html>")
                .in_pixels((100, 100))
                .is_empty()
        );
    }

    #[test]
    fn words_are_the_text_s_boxed_by_the_pieces_they_are_made_of() {
        let html = r#"<doc>
  <page width="72.000000" height="72.000000">
    <word xMin="0.000000" yMin="0.000000" xMax="10.000000" yMax="10.000000">Fi</word>
    <word xMin="10.000000" yMin="1.000000" xMax="30.000000" yMax="11.000000">sh&amp;chips</word>
    <word xMin="36.000000" yMin="0.000000" xMax="72.000000" yMax="10.000000">&lt;b&gt;</word>
    <word xMin="0.000000" yMin="10.000000" xMax="30.000000" yMax="20.000000">&quot;ok&quot;</word>
    <word xMin="40.000000" yMin="10.000000" xMax="60.000000" yMax="20.000000">sum-</word>
    <word xMin="0.000000" yMin="20.000000" xMax="30.000000" yMax="30.000000">maries</word>
    <word xMin="0.000000" yMin="40.000000" xMax="30.000000" yMax="50.000000">end</word>
  </page>
</doc>"#;
        // The text poppler gives with those boxes: a word broken at a line's
        // end joined again, a blank line between paragraphs.
        let text = "Fish&chips <b>\n\"ok\" summaries\n\nend\n";
        let words = PageWords::parse(html).matched(text).words((144, 144));
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["Fish&chips", "<b>", "\"ok\"", "end"]);
        assert_eq!(
            words[0].bbox,
            BBox {
                x: 0,
                y: 0,
                width: 60,
                height: 22
            }
        );
        let groups: Vec<(u32, u32, u32)> = words
            .iter()
            .map(|w| (w.block, w.paragraph, w.line))
            .collect();
        assert_eq!(groups, [(1, 1, 1), (1, 1, 1), (1, 1, 2), (2, 2, 3)]);
        assert!(words.iter().all(|w| w.confidence == OWN_TEXT_CONFIDENCE));
    }
}
