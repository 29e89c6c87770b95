//! A PDF page read by OCR that has some text of its own (a Bates number, a
//! stamp, a typed header over a scan) holds that text exactly; the engine's
//! reading of the same ink may not (`4711-B` read as `471}-B`). Each word the
//! engine read over one word of the page's own text, and only it, takes that
//! word's spelling, in the words, the page's text and its hOCR.

use scribe_core::error_rate::edit_distance;
use scribe_core::results::{BBox, Word};

/// A misreading gets at most one letter in this many wrong.
const LETTERS_PER_MISREAD: usize = 3;
/// How far (in pixels) a word's box in the hOCR may lie from its box in the
/// words: both are mapped to the page's pixels, each rounded its own way.
const HOCR_BOX_SLACK: u32 = 2;

/// A word read one way and spelt another.
#[derive(Debug, Clone, PartialEq)]
pub struct Respelt {
    pub bbox: BBox,
    pub from: String,
    pub to: String,
}

/// `read`'s words (boxes in the page's pixels, in reading order) respelt as
/// the words of the page's own text `own` (same frame) they stand on, one on
/// one; `text`, the reading's text whose tokens are those words in order,
/// respelt to match. Returns the new text and the words changed.
pub fn respell(text: &str, read: &mut [Word], own: &[Word]) -> (String, Vec<Respelt>) {
    let mut changes: Vec<(usize, String)> = Vec::new();
    for (i, word) in read.iter().enumerate() {
        let mut on = own.iter().filter(|o| over(&word.bbox, &o.bbox));
        let (Some(mine), None) = (on.next(), on.next()) else {
            continue;
        };
        // One on one: a word poppler keeps whole that the engine split (or
        // the other way) is left as read.
        let alone = read
            .iter()
            .filter(|w| middle_in(&w.bbox, &mine.bbox))
            .count()
            == 1
            && own
                .iter()
                .filter(|o| middle_in(&o.bbox, &word.bbox))
                .count()
                == 1;
        if alone && mine.text != word.text && misread(&word.text, &mine.text) {
            changes.push((i, mine.text.clone()));
        }
    }
    if changes.is_empty() {
        return (text.to_owned(), Vec::new());
    }
    let text = respelt_text(text, read, &changes);
    let respelt = changes
        .into_iter()
        .map(|(i, to)| {
            let from = std::mem::replace(&mut read[i].text, to.clone());
            Respelt {
                bbox: read[i].bbox,
                from,
                to,
            }
        })
        .collect();
    (text, respelt)
}

/// The page's hOCR `fragment` (boxes in the page's pixels) with the words
/// `respelt` spelt anew: each `ocrx_word` that reads as the word did, where
/// the word stands.
pub fn respell_hocr(fragment: &str, respelt: &[Respelt]) -> String {
    if respelt.is_empty() {
        return fragment.to_owned();
    }
    const WORD: &str = "class='ocrx_word'";
    let mut out = String::with_capacity(fragment.len() + 16);
    let mut rest = fragment;
    while let Some(at) = rest.find(WORD) {
        let (before, tag) = rest.split_at(at);
        out.push_str(before);
        let Some(open_end) = tag.find('>') else {
            rest = tag;
            break;
        };
        let Some(close) = tag[open_end..].find("</span>").map(|c| open_end + c) else {
            rest = tag;
            break;
        };
        let inner = &tag[open_end + 1..close];
        let bbox = scribe_core::hocr::bbox_in(&tag[..open_end]);
        let change = respelt.iter().find(|r| {
            inner == scribe_core::xml::escape(&r.from) && bbox.is_some_and(|b| near(&b, &r.bbox))
        });
        out.push_str(&tag[..=open_end]);
        match change {
            Some(r) => out.push_str(&scribe_core::xml::escape(&r.to)),
            None => out.push_str(inner),
        }
        rest = &tag[close..];
    }
    out.push_str(rest);
    out
}

fn near(a: &BBox, b: &BBox) -> bool {
    a.x.abs_diff(b.x) <= HOCR_BOX_SLACK
        && a.y.abs_diff(b.y) <= HOCR_BOX_SLACK
        && a.width.abs_diff(b.width) <= HOCR_BOX_SLACK
        && a.height.abs_diff(b.height) <= HOCR_BOX_SLACK
}

/// Whether `read` is `own` misread: at most a third of its letters off. A
/// word that differs more is not the same word (a layer that belongs to
/// another page, or an earlier OCR's garbage), and the reading stands.
fn misread(read: &str, own: &str) -> bool {
    let (read, own): (Vec<char>, Vec<char>) = (read.chars().collect(), own.chars().collect());
    edit_distance(&read, &own) * LETTERS_PER_MISREAD <= read.len().max(own.len())
}

/// Whether two boxes each have their middle inside the other: the same word.
fn over(a: &BBox, b: &BBox) -> bool {
    middle_in(a, b) && middle_in(b, a)
}

/// Whether the middle of `p` is inside `q`.
fn middle_in(p: &BBox, q: &BBox) -> bool {
    let (mx, my) = (p.x + p.width / 2, p.y + p.height / 2);
    (q.x..=q.x.saturating_add(q.width)).contains(&mx)
        && (q.y..=q.y.saturating_add(q.height)).contains(&my)
}

/// `text` with the tokens that are `read`'s words `changes` (by index) spelt anew.
/// Tokens and words are walked together; a token that is not the next word
/// (the text holds something the words do not) is passed over.
fn respelt_text(text: &str, read: &[Word], changes: &[(usize, String)]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut next_word = 0;
    let mut change = changes.iter().peekable();
    let mut last = 0;
    for (start, token) in tokens(text) {
        let Some(w) = (next_word..read.len().min(next_word + 4)).find(|&w| read[w].text == token)
        else {
            continue;
        };
        next_word = w + 1;
        while change.peek().is_some_and(|(i, _)| *i < w) {
            change.next();
        }
        if let Some((_, spelling)) = change.next_if(|(i, _)| *i == w) {
            out.push_str(&text[last..start]);
            out.push_str(spelling);
            last = start + token.len();
        }
    }
    out.push_str(&text[last..]);
    out
}

/// The whitespace-separated tokens of `text` with their byte offsets.
fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_whitespace()
        .map(move |t| (t.as_ptr() as usize - text.as_ptr() as usize, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, x: u32, y: u32, width: u32) -> Word {
        Word {
            text: text.to_owned(),
            confidence: 90.0,
            bbox: BBox {
                x,
                y,
                width,
                height: 20,
            },
            block: 1,
            paragraph: 1,
            line: 1,
        }
    }

    #[test]
    fn words_on_the_page_s_own_text_take_its_spelling() {
        let text = "RECEIVED 12 MAR\nRef. 471}-B  and more\n";
        let mut read = vec![
            word("RECEIVED", 0, 0, 100),
            word("12", 110, 0, 20),
            word("MAR", 140, 0, 40),
            word("Ref.", 0, 30, 40),
            word("471}-B", 50, 30, 60),
            word("and", 120, 30, 30),
            word("more", 160, 30, 40),
        ];
        let own = vec![
            word("RECEIVED", 2, 1, 98),
            // One own word over two read ones: both left as read.
            word("12MAR", 110, 0, 70),
            word("Ref.", 1, 30, 40),
            word("4711-B", 49, 31, 62),
        ];
        let (out, changed) = respell(text, &mut read, &own);
        assert_eq!(
            changed,
            [Respelt {
                bbox: read[4].bbox,
                from: "471}-B".to_owned(),
                to: "4711-B".to_owned()
            }]
        );
        assert_eq!(out, "RECEIVED 12 MAR\nRef. 4711-B  and more\n");
        assert_eq!(read[4].text, "4711-B");
        assert_eq!(read[1].text, "12");
        // Another word altogether stands on it: the reading stands.
        let other = vec![word("4711-B", 0, 0, 100)];
        assert!(respell("RECEIVED", &mut read[..1], &other).1.is_empty());
        // Nothing of its own under the words: nothing changes.
        assert_eq!(
            respell(text, &mut read[5..], &own),
            (text.to_owned(), Vec::new())
        );
    }

    #[test]
    fn the_hocr_word_where_a_word_was_respelt_is_respelt_too() {
        let fragment = "<span class='ocrx_word' id='word_1_1' title='bbox 0 30 40 50; x_wconf 96'>Ref.</span>\n\
                        <span class='ocrx_word' id='word_1_2' title='bbox 51 31 110 50; x_wconf 61'>471}-B</span>\n\
                        <span class='ocrx_word' id='word_1_3' title='bbox 200 300 260 320; x_wconf 90'>471}-B</span>";
        let respelt = [Respelt {
            bbox: BBox {
                x: 50,
                y: 30,
                width: 60,
                height: 20,
            },
            from: "471}-B".to_owned(),
            to: "4711-B".to_owned(),
        }];
        let out = respell_hocr(fragment, &respelt);
        assert!(out.contains("x_wconf 61'>4711-B</span>"), "{out}");
        // The same reading elsewhere on the page is not that word.
        assert!(out.contains("x_wconf 90'>471}-B</span>"), "{out}");
        assert!(out.contains("x_wconf 96'>Ref.</span>"), "{out}");
        assert_eq!(respell_hocr(fragment, &[]), fragment);
    }
}
