//! Text that layout analysis took for a picture. Tesseract finds pictures by
//! their texture, and a column of amounts between dotted rules on a receipt,
//! lines beside a signature or under a stamp, or a chart's labels can become
//! one picture block that is then not read at all: the words are simply
//! missing. In each such block the words are found one by one (sparse text),
//! gathered into lines, and each line is read on its own; the lines that read
//! as text (confident letters and digits) join the page where they stand. A
//! real picture's marks read as a few unsure letters and stay out.

use std::path::Path;
use std::time::{Duration, Instant};

use scribe_core::results::{BBox, Word};
use scribe_core::tsv;

use super::tesseract::{Api, Area, PSM_SINGLE_LINE, PSM_SPARSE_TEXT, Passage, TesseractError};
use super::text_layer;

/// A block smaller than this either way holds no line of readable text.
const MIN_SIDE: u32 = 8;
/// A line counts as text at this mean word confidence: Tesseract is rarely
/// this sure of the marks of a photograph, a drawing or handwriting.
const LINE_CONFIDENCE: f32 = 70.0;
/// Sparse text finds words at any confidence; below this they are specks.
const FOUND_CONFIDENCE: f32 = 10.0;
/// Each line is one more reading: a photograph full of texture is not read
/// line by line without end.
const MAX_LINES: usize = 120;
/// Nor does looking for text in pictures take longer than this, or than
/// three times reading the page did, whichever is longer: sparse text in a
/// noisy picture can take minutes, and on a busy machine every reading is slow.
const MIN_BUDGET: Duration = Duration::from_secs(5);
/// A picture this much of the page is a photograph, not text laid over one.
const MAX_SHARE: f64 = 0.8;

/// What looking for text in a page's pictures may still take.
struct Budget {
    deadline: Instant,
    lines: usize,
}

impl Budget {
    /// For a page whose reading took `spent`.
    fn for_page(spent: Duration) -> Self {
        Self {
            deadline: Instant::now() + (spent * 3).max(MIN_BUDGET),
            lines: MAX_LINES,
        }
    }
}

/// What was read in one picture block: its lines, top to bottom.
pub struct Rescued {
    /// The passage its lines follow (see [`anchor`]).
    pub after: usize,
    pub lines: Vec<String>,
    pub words: Vec<Word>,
    /// Each line's hOCR fragment.
    pub hocr: Vec<String>,
}

/// Where the readings of picture blocks go besides the returned values.
pub struct Outputs<'a> {
    pub hocr: bool,
    /// The page's text layer, `…`.pdf, which each accepted line's is added to.
    pub pdf_base: Option<&'a Path>,
    pub tessdata: &'a Path,
}

/// Reads the picture blocks among `passages` of the current image (`image`,
/// its whole area) for lines of text. `read` are the words the page's reading
/// already has: Tesseract's picture blocks can overlap its text blocks and
/// each other, and nothing is read twice. They may take three times what
/// reading the page took (`spent`). The engine's last reading is
/// replaced.
pub fn read(
    api: &mut Api,
    passages: &[Passage],
    read: &[Word],
    image: Area,
    spent: Duration,
    out: &Outputs,
) -> Result<Vec<Rescued>, TesseractError> {
    let page = f64::from(image.width) * f64::from(image.height);
    let regions: Vec<Region> = merged_pictures(passages)
        .into_iter()
        .filter(|(_, area)| {
            let share = f64::from(area.width) * f64::from(area.height) / page.max(1.0);
            area.width >= MIN_SIDE && area.height >= MIN_SIDE && share <= MAX_SHARE
        })
        .map(|(block, area)| Region {
            block,
            area,
            after: anchor(passages, block, area),
        })
        .collect();
    let taken = read.iter().map(|w| w.bbox).collect();
    read_regions(
        api,
        &regions,
        taken,
        image,
        &mut Budget::for_page(spent),
        out,
    )
}

/// A picture whose text the page's reading lacks.
struct Region {
    /// The block its words are numbered in.
    block: u32,
    area: Area,
    /// The passage its text follows.
    after: usize,
}

/// Reads each of `regions` for lines of text: the words are found one by one
/// (sparse text), gathered into lines, and each line read on its own; the
/// lines that read as text join the page where their region stands. Each
/// line's part of the text layer is written beside the page's and added to
/// it. `taken` are the boxes of words already read: nothing is read twice.
fn read_regions(
    api: &mut Api,
    regions: &[Region],
    mut taken: Vec<BBox>,
    image: Area,
    budget: &mut Budget,
    out: &Outputs,
) -> Result<Vec<Rescued>, TesseractError> {
    let deadline = budget.deadline;
    let mut rescued = Vec::new();
    let mut layers = Vec::new();
    for &Region { block, area, after } in regions {
        if budget.lines == 0 {
            break;
        }
        let Some(found) = read_area(api, area, PSM_SPARSE_TEXT, deadline)? else {
            break;
        };
        let found: Vec<Word> = found
            .into_iter()
            .filter(|w| {
                w.confidence >= FOUND_CONFIDENCE
                    && w.text.chars().any(char::is_alphanumeric)
                    && !taken.iter().any(|t| overlap(*t, w.bbox))
            })
            .collect();
        let mut region = Rescued {
            after,
            lines: Vec::new(),
            words: Vec::new(),
            hocr: Vec::new(),
        };
        for tries in line_areas(&found, image, &taken) {
            let mut words = Vec::new();
            for line in tries {
                if budget.lines == 0 {
                    break;
                }
                budget.lines -= 1;
                words = read_area(api, line, PSM_SINGLE_LINE, deadline)?.unwrap_or_default();
                if reads_as_text(&words) {
                    break;
                }
            }
            let again = words
                .iter()
                .any(|w| taken.iter().any(|t| overlap(*t, w.bbox)));
            if again || !reads_as_text(&words) {
                continue;
            }
            taken.extend(words.iter().map(|w| w.bbox));
            let number = region.lines.len() as u32 + 1;
            region.words.extend(words.into_iter().map(|w| Word {
                block,
                paragraph: 1,
                line: number,
                ..w
            }));
            region.lines.push(api.text()?.trim_end().to_owned());
            if out.hocr {
                region.hocr.push(api.hocr(0)?);
            }
            if let Some(base) = out.pdf_base {
                let layer = text_layer::beside(base, &format!("picture-{}", layers.len()));
                api.write_pdf_page(&layer, out.tessdata)?;
                layers.push(layer.with_extension("pdf"));
            }
        }
        if !region.lines.is_empty() {
            rescued.push(region);
        }
    }
    if let (Some(base), false) = (out.pdf_base, layers.is_empty()) {
        let added = text_layer::append(&base.with_extension("pdf"), &layers);
        for layer in &layers {
            // The page's layer is what matters; a leftover part only takes room.
            let _ = std::fs::remove_file(layer);
        }
        added.map_err(|_| TesseractError::Pdf)?;
    }
    Ok(rescued)
}

/// The picture blocks, those that touch or overlap joined into one (a
/// halftone is often cut into many blocks, and a label on it across two), each
/// with the first of their block numbers.
fn merged_pictures(passages: &[Passage]) -> Vec<(u32, Area)> {
    let mut merged: Vec<(u32, Area)> = Vec::new();
    for passage in passages {
        let Passage::Picture { block, area } = *passage else {
            continue;
        };
        let (mut block, mut area) = (block, area);
        // Joining two can make the union touch pictures joined before.
        while let Some(i) = merged.iter().position(|(_, m)| m.touches(&area)) {
            let (b, m) = merged.swap_remove(i);
            (block, area) = (block.min(b), area.union(&m));
        }
        merged.push((block, area));
    }
    merged.sort_by_key(|(block, _)| *block);
    merged
}

/// The page's text with each rescued picture's lines as a paragraph of
/// their own, after the paragraph they stand under (see [`anchor`]).
pub fn text(passages: &[Passage], rescued: &[Rescued]) -> String {
    let mut text = String::new();
    for (i, passage) in passages.iter().enumerate() {
        if let Passage::Text { text: t, .. } = passage {
            text.push_str(t);
        }
        for r in rescued.iter().filter(|r| r.after == i) {
            text.push_str(&r.lines.join("\n"));
            text.push_str("\n\n");
        }
    }
    text
}

/// `words` with each rescued picture's words placed as its text is.
pub fn words(words: Vec<Word>, passages: &[Passage], rescued: &[Rescued]) -> Vec<Word> {
    // Placed in the reading's own words, in block order; inserting one by one
    // would place later ones among words of a picture's block put earlier.
    let mut at: Vec<(usize, usize)> = rescued
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let after = block_before(passages, r);
            (words.partition_point(|w| w.block <= after), i)
        })
        .collect();
    at.sort_unstable();
    let extra: usize = rescued.iter().map(|r| r.words.len()).sum();
    let mut out = Vec::with_capacity(words.len() + extra);
    let mut words = words.into_iter();
    let mut taken = 0;
    for (position, i) in at {
        out.extend(words.by_ref().take(position - taken));
        taken = position;
        out.extend(rescued[i].words.iter().cloned());
    }
    out.extend(words);
    out
}

/// The block of the passage `rescued` follows: where its part goes in the
/// page's hOCR (see `scribe_core::hocr::graft`).
pub fn block_before(passages: &[Passage], rescued: &Rescued) -> u32 {
    passages.get(rescued.after).map_or(0, Passage::block)
}

/// Tesseract lists pictures apart from the text flow, often at the end. A
/// picture's text belongs after the nearest paragraph above it that shares
/// some of its width (the item line above a column of amounts); with none,
/// where Tesseract listed the picture.
fn anchor(passages: &[Passage], picture: u32, a: Area) -> usize {
    above(passages, a).unwrap_or_else(|| {
        passages
            .iter()
            .position(|p| matches!(p, Passage::Picture { block, .. } if *block == picture))
            .unwrap_or(passages.len().saturating_sub(1))
    })
}

/// The nearest paragraph above `a` that shares some of its width.
fn above(passages: &[Passage], a: Area) -> Option<usize> {
    let above = passages.iter().enumerate().filter_map(|(i, p)| match p {
        Passage::Text { area, .. }
            if area.top <= a.top
                && area.left < a.left + a.width
                && a.left < area.left + area.width =>
        {
            Some((area.top, i))
        }
        _ => None,
    });
    above.max().map(|(_, i)| i)
}

/// The words read in `area`, or `None` once `deadline` has passed.
fn read_area(
    api: &mut Api,
    area: Area,
    mode: u32,
    deadline: Instant,
) -> Result<Option<Vec<Word>>, TesseractError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Ok(None);
    }
    api.set_rectangle(area);
    api.set_page_seg_mode(mode);
    let millis = u32::try_from(left.as_millis()).unwrap_or(u32::MAX);
    if api.recognize_within(millis).is_err() {
        // Out of time, or nothing Tesseract could read: nothing found.
        return Ok(Some(Vec::new()));
    }
    Ok(Some(tsv::parse_words(&api.tsv(0)?)))
}

/// The lines `words` stand on: words side by side, their
/// heights overlapping by half and no more than two heights apart. Each
/// reaches half a height further to the sides but not into a word already
/// read on its row, and a quarter height above and below, inside `image`.
/// Ordered top to bottom, then left to right.
fn line_areas(words: &[Word], image: Area, taken: &[BBox]) -> Vec<Vec<Area>> {
    // Left to right, so a line grows from its end: taken top to bottom, a
    // lower-case word would start a line of its own beside the capitals
    // before it and the word between them.
    let mut words: Vec<&Word> = words.iter().collect();
    words.sort_by_key(|w| w.bbox.x);
    let mut lines: Vec<Vec<&Word>> = Vec::new();
    for w in words {
        let (l, t) = (w.bbox.x, w.bbox.y);
        let (r, b) = (l + w.bbox.width, t + w.bbox.height);
        let joins = lines.iter_mut().find(|line| {
            let (ll, lt, lr, lb) = extent(line);
            let overlap = b.min(lb).saturating_sub(t.max(lt));
            let height = (b - t).min(lb - lt);
            let gap = l.saturating_sub(lr).max(ll.saturating_sub(r));
            overlap * 2 >= height && gap <= 2 * (b - t).max(lb - lt)
        });
        match joins {
            Some(line) => line.push(w),
            None => lines.push(vec![w]),
        }
    }
    let mut areas: Vec<Vec<Area>> = lines
        .iter()
        .map(|line| {
            // A word that took in specks of the picture is taller than its
            // letters: the line stands on its words' median bottom, as tall
            // as their median height or, if that takes in specks too, their
            // least.
            let bottom = median(line.iter().map(|w| w.bbox.y + w.bbox.height));
            let heights = [
                median(line.iter().map(|w| w.bbox.height)),
                line.iter().map(|w| w.bbox.height).min().unwrap_or(0),
            ];
            let mut tries: Vec<Area> = heights
                .iter()
                .filter_map(|&h| line_area(line, bottom, h, image, taken))
                .collect();
            tries.dedup();
            tries
        })
        .filter(|tries| !tries.is_empty())
        .collect();
    // Top to bottom, and the lines of one row (a label and its amount) left
    // to right.
    areas.sort_by_key(|tries| tries[0].top);
    let mut row = 0;
    let mut row_middle = 0;
    let mut rows: Vec<(u32, Vec<Area>)> = Vec::with_capacity(areas.len());
    for tries in areas {
        let a = tries[0];
        if rows.is_empty() || a.top >= row_middle {
            row += 1;
            row_middle = a.top + a.height / 2;
        }
        rows.push((row, tries));
    }
    rows.sort_by_key(|(row, tries)| (*row, tries[0].left));
    rows.into_iter().map(|(_, tries)| tries).collect()
}

/// The area of a line of `words` standing on `bottom`, `h` tall.
fn line_area(words: &[&Word], bottom: u32, h: u32, image: Area, taken: &[BBox]) -> Option<Area> {
    let (l, _, r, _) = extent(words);
    let mut left = l.saturating_sub(h / 2).max(image.left);
    let mut right = (r + h / 2).min(image.left + image.width);
    let (t, b) = (bottom.saturating_sub(h), bottom);
    for k in taken.iter().filter(|k| k.y < b && t < k.y + k.height) {
        if k.x + k.width <= l {
            left = left.max(k.x + k.width);
        } else if r <= k.x {
            right = right.min(k.x);
        }
    }
    let top = t.saturating_sub(h / 4).max(image.top);
    let bottom = (b + h / 4).min(image.top + image.height);
    (right > left && bottom > top).then_some(Area {
        left,
        top,
        width: right - left,
        height: bottom - top,
    })
}

/// Left, top, right and bottom of the words' boxes together.
fn extent(words: &[&Word]) -> (u32, u32, u32, u32) {
    words
        .iter()
        .fold((u32::MAX, u32::MAX, 0, 0), |(l, t, r, b), w| {
            (
                l.min(w.bbox.x),
                t.min(w.bbox.y),
                r.max(w.bbox.x + w.bbox.width),
                b.max(w.bbox.y + w.bbox.height),
            )
        })
}

fn median(values: impl Iterator<Item = u32>) -> u32 {
    let mut v: Vec<u32> = values.collect();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Whether two boxes share at least half of the smaller one.
fn overlap(a: BBox, b: BBox) -> bool {
    let w = (a.x + a.width)
        .min(b.x + b.width)
        .saturating_sub(a.x.max(b.x));
    let h = (a.y + a.height)
        .min(b.y + b.height)
        .saturating_sub(a.y.max(b.y));
    let smaller = (a.width * a.height).min(b.width * b.height);
    smaller > 0 && 2 * u64::from(w) * u64::from(h) >= u64::from(smaller)
}

/// Confident, and mostly letters and digits: what a line of text reads as
/// and the marks of a drawing, read as letters, rarely do.
fn reads_as_text(line: &[Word]) -> bool {
    if line.is_empty() {
        return false;
    }
    let confidence = line.iter().map(|w| w.confidence).sum::<f32>() / line.len() as f32;
    let marks: Vec<char> = line
        .iter()
        .flat_map(|w| w.text.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let alphanumeric = marks.iter().filter(|c| c.is_alphanumeric()).count();
    confidence >= LINE_CONFIDENCE && alphanumeric >= 2 && alphanumeric * 2 >= marks.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, confidence: f32, (x, y): (u32, u32), block: u32) -> Word {
        Word {
            text: text.to_owned(),
            confidence,
            bbox: BBox {
                x,
                y,
                width: 60,
                height: 20,
            },
            block,
            paragraph: 1,
            line: 1,
        }
    }

    const fn area(left: u32, top: u32, width: u32, height: u32) -> Area {
        Area::new(left, top, width, height)
    }

    #[test]
    fn confident_letters_and_digits_read_as_text_and_unsure_marks_do_not() {
        assert!(reads_as_text(&[word("13.40", 93.0, (0, 0), 1)]));
        assert!(reads_as_text(&[
            word("Total", 91.0, (0, 0), 1),
            word(":", 80.0, (70, 0), 1)
        ]));
        // A scribble read as letters: unsure.
        assert!(!reads_as_text(&[word("Stafl", 41.0, (0, 0), 1)]));
        // Sure, but marks rather than letters.
        assert!(!reads_as_text(&[word("~=<—", 90.0, (0, 0), 1)]));
        assert!(!reads_as_text(&[word("e", 95.0, (0, 0), 1)]));
        assert!(!reads_as_text(&[]));
    }

    #[test]
    fn words_side_by_side_make_a_line_and_a_wide_gap_or_a_row_below_does_not() {
        let words = vec![
            word("Total", 90.0, (30, 100), 1),
            word("sales", 90.0, (100, 102), 1),
            // Far to the right on the same row: a column of its own.
            word("13.40", 90.0, (400, 101), 1),
            word("Cash", 90.0, (30, 140), 1),
        ];
        let lines = line_areas(&words, area(0, 0, 600, 300), &[]);
        assert_eq!(
            lines,
            vec![
                vec![area(20, 97, 150, 30)],
                vec![area(390, 96, 80, 30)],
                vec![area(20, 135, 80, 30)]
            ]
        );
        // A word that took in specks above it: tried at its line's median
        // height, then at its least.
        let mut tall = vec![
            word("North", 90.0, (30, 60), 1),
            word("Gate", 90.0, (100, 80), 1),
            word("1.2", 90.0, (170, 100), 1),
        ];
        tall[0].bbox.height = 60;
        tall[1].bbox.height = 40;
        let lines = line_areas(&tall, area(0, 0, 600, 300), &[]);
        assert_eq!(
            lines,
            vec![vec![area(10, 70, 240, 60), area(20, 95, 220, 30)]]
        );
        // Inside the image, and short of a word already read on the row.
        let read = BBox {
            x: 0,
            y: 96,
            width: 20,
            height: 20,
        };
        let lines = line_areas(&words[..1], area(5, 98, 600, 300), &[read]);
        assert_eq!(lines, vec![vec![area(20, 98, 80, 27)]]);
    }

    #[test]
    fn a_short_word_lower_on_the_row_joins_its_line() {
        // "Mark as paid": the capitals' top is above the lower-case word
        // between them, which a line built top to bottom met last.
        let mut words = vec![
            word("Mark", 90.0, (419, 436), 1),
            word("paid", 90.0, (515, 436), 1),
            word("as", 90.0, (482, 440), 1),
        ];
        words[0].bbox.width = 55;
        words[1].bbox.width = 46;
        words[2].bbox.width = 23;
        let lines = line_areas(&words, area(0, 0, 1000, 600), &[]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0][0].left < 419 && lines[0][0].left + lines[0][0].width > 561);
    }

    #[test]
    fn each_part_is_placed_among_the_readings_own_words() {
        let text = |block, top| Passage::Text {
            block,
            area: area(0, top, 100, 20),
            text: String::new(),
        };
        let passages = vec![text(1, 0), text(2, 100), text(3, 200), text(4, 300)];
        let part = |after, word: Word| Rescued {
            after,
            lines: Vec::new(),
            words: vec![word],
            hocr: Vec::new(),
        };
        // A picture (block 9) after block 2, then another (block 10) after
        // block 3: among the words with the first's in, a search for block
        // 3's end met the first's words and stopped short of block 3.
        let rescued = vec![
            part(1, word("picture", 90.0, (0, 150), 9)),
            part(2, word("second", 90.0, (0, 250), 10)),
        ];
        let page: Vec<Word> = (1..=4)
            .map(|b| word(&format!("w{b}"), 90.0, (0, 100 * (b - 1)), b))
            .collect();
        let merged = words(page, &passages, &rescued);
        let order: Vec<&str> = merged.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(order, ["w1", "w2", "picture", "w3", "second", "w4"]);
    }

    #[test]
    fn pictures_that_touch_are_one() {
        let picture = |block, area| Passage::Picture { block, area };
        let passages = vec![
            picture(3, area(100, 100, 200, 100)),
            Passage::Text {
                block: 4,
                area: area(0, 0, 50, 50),
                text: String::new(),
            },
            picture(7, area(300, 150, 100, 100)),
            picture(9, area(1000, 1000, 10, 10)),
            picture(8, area(90, 240, 20, 20)),
        ];
        assert_eq!(
            merged_pictures(&passages),
            vec![(3, area(90, 100, 310, 160)), (9, area(1000, 1000, 10, 10))]
        );
    }

    #[test]
    fn boxes_overlap_when_they_share_half_the_smaller() {
        let b = |x, y, width, height| BBox {
            x,
            y,
            width,
            height,
        };
        assert!(overlap(b(0, 0, 100, 20), b(10, 0, 30, 20)));
        assert!(overlap(b(0, 0, 100, 20), b(90, 0, 20, 20)));
        assert!(!overlap(b(0, 0, 100, 20), b(95, 0, 20, 20)));
        assert!(!overlap(b(0, 0, 100, 20), b(0, 30, 100, 20)));
        assert!(!overlap(b(0, 0, 0, 0), b(0, 0, 10, 10)));
    }

    #[test]
    fn a_pictures_lines_follow_the_paragraph_above_them() {
        let passages = vec![
            Passage::Text {
                block: 1,
                area: area(40, 600, 520, 60),
                text: "1 SR ENERGIZER 13.40\n\n".to_owned(),
            },
            Passage::Text {
                block: 2,
                area: area(40, 700, 300, 150),
                text: "Discount\nChange\n\n".to_owned(),
            },
            Passage::Text {
                block: 3,
                area: area(40, 900, 520, 60),
                text: "Thank you\n\n".to_owned(),
            },
            Passage::Picture {
                block: 4,
                area: area(420, 720, 150, 140),
            },
        ];
        let rescued = vec![Rescued {
            after: anchor(&passages, 4, area(420, 720, 150, 140)),
            lines: vec!["0.00".to_owned(), "6.60".to_owned()],
            words: vec![
                word("0.00", 95.0, (500, 730), 4),
                word("6.60", 95.0, (500, 800), 4),
            ],
            hocr: Vec::new(),
        }];
        assert_eq!(
            text(&passages, &rescued),
            "1 SR ENERGIZER 13.40\n\n0.00\n6.60\n\nDiscount\nChange\n\nThank you\n\n"
        );
        let page_words = vec![
            word("ENERGIZER", 90.0, (100, 610), 1),
            word("Discount", 90.0, (40, 710), 2),
            word("Thank", 90.0, (40, 910), 3),
        ];
        let merged = words(page_words, &passages, &rescued);
        let order: Vec<&str> = merged.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(order, ["ENERGIZER", "0.00", "6.60", "Discount", "Thank"]);
        // With nothing above it that shares its width, where Tesseract put it.
        let mut lone = rescued;
        lone[0].after = anchor(&passages, 4, area(1000, 720, 100, 100));
        assert!(text(&passages, &lone).ends_with("Thank you\n\n0.00\n6.60\n\n"));
    }
}
