//! Whether an earlier OCR's layer over a scan reads it as the engine does.
//!
//! A layer that stands over all of its scan's ink (see `coverage`) is kept
//! without reading the page, but standing over the ink is not reading it: a
//! layer made from a page read sideways or upside down, or in another script,
//! has a word on every line and says nothing. A band across the middle of the
//! page is read (a wider one, or the whole page, when the middle is bare),
//! turned upright first when it reads as a turned page does, and the layer is
//! trusted unless it lacks many of the words read there with confidence.

use std::collections::HashSet;

use scribe_core::preprocess::Prepared;
use scribe_core::results::Word;

use super::engine::Engine;
use super::page::{PageError, looks_sideways};
use super::run::DocumentRun;
use super::tesseract::Area;

/// What reading a sample of the page said of its layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The layer holds seven in ten or more of the words read with confidence.
    Agrees,
    /// It lacks many of them: it is no reading of this scan, or a poor one.
    Misreads,
    /// Too few words were read with confidence to tell (a figure, a page
    /// the engine cannot read well either): the layer is kept.
    Unsure,
}

/// Words read with this confidence, and this many letters, are the sample's.
const SURE_CONFIDENCE: f32 = 70.0;
const SURE_LETTERS: usize = 3;
/// The band read first, as a share of the page's height: eight lines or so
/// of a typed page, a sixth of the cost of reading it whole.
const NARROW: f64 = 0.125;
/// The band read when the first holds too few sure words.
const WIDE: f64 = 0.4;
/// Fewer sure words than this tell nothing.
const MIN_SURE_WORDS: usize = 12;
/// A layer holding fewer than this share of the sure words misreads the page:
/// it gets wrong three in ten of the words the engine is surest of, where a
/// reading of the page gets few of them wrong. A good layer read with the
/// wrong language chosen holds more (an English reading of a Fraktur page
/// finds 71–76% of its words in a good Fraktur layer), and is kept.
const AGREEING: f64 = 0.7;

/// Reads a band across the middle of page `number` and compares it with the
/// page's own text `layer`.
pub fn audit(
    engine: &mut Engine,
    run: &DocumentRun,
    number: usize,
    layer: &str,
) -> Result<Verdict, PageError> {
    let page = run.document.load_page(number)?;
    let preprocess = &run.settings.preprocess;
    let mut prepared = preprocess.apply(page);
    let mut words = engine.read_area(&prepared, band(&prepared, NARROW))?;
    let few = |words: &[Word]| sure(words).count() < MIN_SURE_WORDS;
    if preprocess.orientation && (looks_sideways(&words) || few(&words)) {
        let turn = engine
            .detect_orientation(prepared.display(), prepared.dpi)
            .filter(|&(rotation, confidence)| {
                rotation != 0 && confidence >= preprocess.orientation_min_confidence
            });
        if let Some((rotation, _)) = turn {
            prepared = preprocess.reorient(prepared, rotation);
            words = engine.read_area(&prepared, band(&prepared, NARROW))?;
        }
    }
    if few(&words) {
        // A figure, a table's rules or a blank stretch across the middle.
        words = engine.read_area(&prepared, band(&prepared, WIDE))?;
    }
    if words.len() < MIN_SURE_WORDS {
        // Still blank: the whole page, lest a layer be trusted because its
        // middle is empty. A band of words read without confidence (a poor
        // copy, handwriting) says as much as the page would.
        words = engine.read_area(&prepared, band(&prepared, 1.0))?;
    }
    let verdict = judge(&words, layer);
    tracing::debug!(
        page = number,
        ?verdict,
        "the page's earlier OCR layer audited"
    );
    Ok(verdict)
}

/// A band of `share` of the page's height across its middle, its whole width.
fn band(page: &Prepared, share: f64) -> Area {
    let (width, height) = page.ocr.dimensions();
    let rows = ((f64::from(height) * share) as u32).clamp(1, height.max(1));
    Area {
        left: 0,
        top: (height - rows.min(height)) / 2,
        width,
        height: rows,
    }
}

fn sure(words: &[Word]) -> impl Iterator<Item = String> + '_ {
    words
        .iter()
        .filter(|w| w.confidence >= SURE_CONFIDENCE)
        .map(|w| spelling(&w.text))
        .filter(|s| s.chars().count() >= SURE_LETTERS)
}

/// A word as both readings can be compared: its letters and digits, in
/// lower case, with the long s as an s (a Fraktur model writes it, an
/// Antiqua one cannot).
fn spelling(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ſ' { 's' } else { c })
        .collect()
}

fn judge(read: &[Word], layer: &str) -> Verdict {
    let sure: Vec<String> = sure(read).collect();
    let own: HashSet<String> = layer.split_whitespace().map(spelling).collect();
    let found = sure.iter().filter(|w| own.contains(*w)).count();
    tracing::debug!(
        read = read.len(),
        sure = sure.len(),
        found,
        "words read with confidence, and found in the layer"
    );
    if sure.len() < MIN_SURE_WORDS || own.is_empty() {
        return Verdict::Unsure;
    }
    if (found as f64) < AGREEING * sure.len() as f64 {
        Verdict::Misreads
    } else {
        Verdict::Agrees
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scribe_core::results::BBox;

    fn word(text: &str, confidence: f32) -> Word {
        Word {
            text: text.to_owned(),
            confidence,
            bbox: BBox {
                x: 0,
                y: 0,
                width: 10,
                height: 10,
            },
            block: 1,
            paragraph: 1,
            line: 1,
        }
    }

    const READ: &str = "the amplitude of the magnetic field thus if the latter is multiplied \
                        by one hundred so will be the maximum energy too such large amplification";

    fn read(confidence: f32) -> Vec<Word> {
        READ.split(' ').map(|w| word(w, confidence)).collect()
    }

    #[test]
    fn a_layer_that_holds_the_words_read_agrees_whatever_their_case_and_marks() {
        let layer = "The amplitude of the magnetic field. Thus, if the latter is \
                     multiplied by one hundred, so will be the maximum energy too. Such a \
                     large amplification";
        assert_eq!(judge(&read(90.0), layer), Verdict::Agrees);
    }

    #[test]
    fn a_layer_read_from_a_turned_page_misreads_it() {
        let layer = "ewozevony ee 2 5 3 53 Bp es 8 yeu BeZegsyags ats BelLoees Be ssegsH \
                     oe24 |2So2sSeRe |esoe262Es Sagceaets De the of";
        assert_eq!(judge(&read(90.0), layer), Verdict::Misreads);
    }

    #[test]
    fn a_layer_that_lacks_three_in_ten_of_the_sure_words_misreads_the_page() {
        let words: Vec<&str> = READ.split(' ').collect();
        let layer_without = |missing: usize| {
            let mut layer = words.clone();
            // Words of three letters or more, each once in the reading.
            for gone in [
                "amplitude",
                "magnetic",
                "field",
                "latter",
                "multiplied",
                "hundred",
            ]
            .iter()
            .take(missing)
            {
                layer.retain(|w| w != gone);
            }
            layer.join(" ")
        };
        let sure = sure(&read(90.0)).count();
        assert_eq!(sure, 19);
        assert_eq!(judge(&read(90.0), &layer_without(2)), Verdict::Agrees);
        assert_eq!(judge(&read(90.0), &layer_without(6)), Verdict::Misreads);
    }

    #[test]
    fn doubtful_readings_or_a_lone_line_tell_nothing() {
        let layer = "ewozevony ee 2 5 3 53 Bp es 8 yeu";
        assert_eq!(judge(&read(40.0), layer), Verdict::Unsure);
        assert_eq!(judge(&read(90.0)[..6], layer), Verdict::Unsure);
    }

    #[test]
    fn a_long_s_is_an_s_and_hyphens_and_quotes_are_not_letters() {
        assert_eq!(spelling("„Harniſch,“"), "harnisch");
        assert_eq!(spelling("Zorn-"), "zorn");
    }
}
