//! A PDF page read by OCR that has some text of its own (a Bates number, a
//! stamp, a typed header over a scan) holds that text exactly; the engine's
//! reading of the same ink may not (`4711-B` read as `471}-B`). Each word the
//! engine read over one word of the page's own text, and only it, takes that
//! word's spelling, in the words and in the page's text.

use scribe_core::error_rate::edit_distance;
use scribe_core::results::{BBox, Word};

/// A misreading gets at most one letter in this many wrong.
const LETTERS_PER_MISREAD: usize = 3;

/// `read`'s words (boxes in the page's pixels, in reading order) respelt as
/// the words of the page's own text `own` (same frame) they stand on, one on
/// one; `text`, the reading's text whose tokens are those words in order,
/// respelt to match. Returns the new text and how many words changed.
pub fn respell(text: &str, read: &mut [Word], own: &[Word]) -> (String, usize) {
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
        return (text.to_owned(), 0);
    }
    let text = respelt_text(text, read, &changes);
    for (i, spelling) in &changes {
        read[*i].text.clone_from(spelling);
    }
    (text, changes.len())
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
        assert_eq!(changed, 1);
        assert_eq!(out, "RECEIVED 12 MAR\nRef. 4711-B  and more\n");
        assert_eq!(read[4].text, "4711-B");
        assert_eq!(read[1].text, "12");
        // Another word altogether stands on it: the reading stands.
        let other = vec![word("4711-B", 0, 0, 100)];
        assert_eq!(respell("RECEIVED", &mut read[..1], &other).1, 0);
        // Nothing of its own under the words: nothing changes.
        assert_eq!(respell(text, &mut read[5..], &own), (text.to_owned(), 0));
    }
}
