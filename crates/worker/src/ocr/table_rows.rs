//! Tables read row by row. Layout analysis takes each column of a table (a
//! spreadsheet, an invoice's items and amounts) for a paragraph of its own
//! and reads the columns one after the other, so a row's label ends up a
//! screen away from its figures. Paragraphs side by side whose lines stand on
//! the same rows, and hold a cell's few words each, are a table when one of
//! them holds figures or they are four or more: its text is read across, row
//! by row, where the first of them stood.

use std::collections::HashMap;

use scribe_core::results::Word;

use super::tesseract::Passage;

/// A table's cells hold at most this many words a line (the median): the
/// columns of an article hold lines of prose.
const CELL_WORDS: usize = 3;
/// Two paragraphs are columns of one table when this share of the shorter
/// one's lines stand on a row of the other's.
const ALIGNED: f64 = 0.6;
/// Two columns alone are a table when one holds figures in this share of its
/// lines: two lists side by side (an index, a glossary) hold words.
const FIGURES: f64 = 0.7;

/// `passages` with each table's paragraphs read row by row: the table's text
/// stands in its first paragraph, the others' is left empty, so the passages
/// keep their places (picture text is placed by them). `None` when the page
/// holds no table. `words` are the reading's, numbered as the passages are.
pub fn by_rows(passages: &[Passage], words: &[Word]) -> Option<Vec<Passage>> {
    let paragraphs = paragraphs(passages, words);
    let columns: Vec<&Paragraph> = paragraphs
        .iter()
        .filter(|p| p.lines.len() >= 2 && median_words(p) <= CELL_WORDS)
        .collect();
    let mut group: Vec<usize> = (0..columns.len()).collect();
    for i in 0..columns.len() {
        for j in i + 1..columns.len() {
            if side_by_side(columns[i], columns[j]) {
                let (a, b) = (root(&mut group, i), root(&mut group, j));
                group[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: Vec<Vec<&Paragraph>> = vec![Vec::new(); columns.len()];
    for (i, column) in columns.iter().enumerate() {
        groups[root(&mut group, i)].push(column);
    }
    let mut tables: Vec<Vec<&Paragraph>> = groups.into_iter().filter(|g| is_table(g)).collect();
    // A lone line on a table's row (its total, its header cut off by a rule)
    // is a paragraph of one line: a cell of the table all the same.
    for table in &mut tables {
        let strays: Vec<&Paragraph> = paragraphs.iter().filter(|p| is_cell(p, table)).collect();
        table.extend(strays);
    }
    if tables.is_empty() {
        return None;
    }
    let mut out = passages.to_vec();
    for table in tables {
        let first = table.iter().map(|p| p.passage).min()?;
        for p in &table {
            if let Passage::Text { text, .. } = &mut out[p.passage] {
                text.clear();
            }
        }
        if let Passage::Text { text, .. } = &mut out[first] {
            *text = rows(&table);
        }
    }
    Some(out)
}

/// A paragraph of the reading with its lines.
struct Paragraph<'a> {
    /// Its place among the passages.
    passage: usize,
    lines: Vec<Line<'a>>,
}

impl Paragraph<'_> {
    fn left(&self) -> u32 {
        self.lines.iter().map(|l| l.left).min().unwrap_or(0)
    }

    fn right(&self) -> u32 {
        self.lines.iter().map(|l| l.right).max().unwrap_or(0)
    }
}

/// A line's words and where it stands.
struct Line<'a> {
    words: Vec<&'a str>,
    left: u32,
    right: u32,
    top: u32,
    bottom: u32,
}

impl Line<'_> {
    fn middle(&self) -> u32 {
        (self.top + self.bottom) / 2
    }

    /// Whether `other` stands on this line's row: its middle within this
    /// line's height, and this one's within its.
    fn shares_row(&self, other: &Line) -> bool {
        (self.top..=self.bottom).contains(&other.middle())
            && (other.top..=other.bottom).contains(&self.middle())
    }
}

/// The text passages with their words' lines: Tesseract numbers a block's
/// paragraphs from 1 in the order the passages list them.
fn paragraphs<'a>(passages: &[Passage], words: &'a [Word]) -> Vec<Paragraph<'a>> {
    let mut by_paragraph: HashMap<(u32, u32), Vec<&Word>> = HashMap::new();
    for w in words {
        by_paragraph
            .entry((w.block, w.paragraph))
            .or_default()
            .push(w);
    }
    let mut out = Vec::new();
    let mut seen_in_block = (0u32, 0u32);
    for (i, passage) in passages.iter().enumerate() {
        let Passage::Text { block, .. } = passage else {
            continue;
        };
        let number = if seen_in_block.0 == *block {
            seen_in_block.1 + 1
        } else {
            1
        };
        seen_in_block = (*block, number);
        let mut lines: Vec<(u32, Line<'a>)> = Vec::new();
        for w in by_paragraph.get(&(*block, number)).into_iter().flatten() {
            let b = w.bbox;
            match lines.iter_mut().find(|(n, _)| *n == w.line) {
                Some((_, line)) => {
                    line.words.push(&w.text);
                    line.left = line.left.min(b.x);
                    line.right = line.right.max(b.x + b.width);
                    line.top = line.top.min(b.y);
                    line.bottom = line.bottom.max(b.y + b.height);
                }
                None => lines.push((
                    w.line,
                    Line {
                        words: vec![&w.text],
                        left: b.x,
                        right: b.x + b.width,
                        top: b.y,
                        bottom: b.y + b.height,
                    },
                )),
            }
        }
        out.push(Paragraph {
            passage: i,
            lines: lines.into_iter().map(|(_, l)| l).collect(),
        });
    }
    out
}

fn median_words(p: &Paragraph) -> usize {
    let mut counts: Vec<usize> = p.lines.iter().map(|l| l.words.len()).collect();
    counts.sort_unstable();
    counts[counts.len() / 2]
}

/// Whether two paragraphs stand side by side, their lines on the same rows.
fn side_by_side(a: &Paragraph, b: &Paragraph) -> bool {
    if a.left() < b.right() && b.left() < a.right() {
        return false;
    }
    let aligned = a
        .lines
        .iter()
        .filter(|l| b.lines.iter().any(|m| l.shares_row(m)))
        .count();
    let shorter = a.lines.len().min(b.lines.len());
    aligned >= 2 && aligned as f64 >= shorter as f64 * ALIGNED
}

/// Whether `p` is a line of a few words on a row of `table`, beside its
/// cells and within its width (not a heading in the page's other column).
fn is_cell(p: &Paragraph, table: &[&Paragraph]) -> bool {
    let [line] = p.lines.as_slice() else {
        return false;
    };
    let left = table.iter().map(|c| c.left()).min().unwrap_or(0);
    let right = table.iter().map(|c| c.right()).max().unwrap_or(0);
    let middle = (line.left + line.right) / 2;
    if middle < left || middle > right {
        return false;
    }
    let mut on_row = table
        .iter()
        .flat_map(|c| &c.lines)
        .filter(|l| l.shares_row(line))
        .peekable();
    line.words.len() <= CELL_WORDS
        && on_row.peek().is_some()
        && on_row.all(|l| l.right <= line.left || line.right <= l.left)
}

/// Columns of which one holds figures (amounts, counts, dates), or four
/// columns or more. Paragraphs above one another are one column: the two
/// columns of an article's footnotes, a paragraph of links each, are two
/// lists side by side. Three columns of words alone are as often a letter's
/// footer (address, telephone, bank) or an index as a table.
fn is_table(paragraphs: &[&Paragraph]) -> bool {
    let mut columns: Vec<(u32, u32, Vec<&Line>)> = Vec::new();
    for p in paragraphs {
        let (mut left, mut right) = (p.left(), p.right());
        let mut lines: Vec<&Line> = p.lines.iter().collect();
        while let Some(i) = columns.iter().position(|(l, r, _)| *l < right && left < *r) {
            let (l, r, more) = columns.swap_remove(i);
            (left, right) = (left.min(l), right.max(r));
            lines.extend(more);
        }
        columns.push((left, right, lines));
    }
    let figures = |lines: &Vec<&Line>| {
        let figures = lines
            .iter()
            .filter(|l| l.words.iter().all(|w| is_figure(w)));
        figures.count() as f64 >= lines.len() as f64 * FIGURES
    };
    match columns.len() {
        0 | 1 => false,
        2 | 3 => columns.iter().any(|(_, _, lines)| figures(lines)),
        _ => true,
    }
}

/// An amount, a count, a date or a percentage: digits and their marks.
fn is_figure(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
        && word
            .chars()
            .all(|c| c.is_alphanumeric() && !c.is_alphabetic() || ".,:;-+/%()$€£¥'".contains(c))
}

/// The table's lines row by row, each row left to right, as a paragraph.
fn rows(table: &[&Paragraph]) -> String {
    let mut lines: Vec<&Line> = table.iter().flat_map(|p| &p.lines).collect();
    lines.sort_by_key(|l| l.middle());
    let mut rows: Vec<Vec<&Line>> = Vec::new();
    for line in lines {
        match rows.last_mut() {
            Some(row) if row[0].shares_row(line) => row.push(line),
            _ => rows.push(vec![line]),
        }
    }
    let mut text = String::new();
    for mut row in rows {
        row.sort_by_key(|l| l.left);
        let cells: Vec<String> = row.iter().map(|l| l.words.join(" ")).collect();
        text.push_str(&cells.join(" "));
        text.push('\n');
    }
    text.push('\n');
    text
}

/// Union-find's root of `i`, paths halved on the way.
fn root(group: &mut [usize], mut i: usize) -> usize {
    while group[i] != i {
        group[i] = group[group[i]];
        i = group[i];
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::tesseract::Area;
    use scribe_core::results::BBox;

    /// A paragraph of block `block`, one line per cell of `cells` at `x`,
    /// rows 40 px apart from `top`.
    fn column(block: u32, x: u32, top: u32, cells: &[&str]) -> (Passage, Vec<Word>) {
        let mut words = Vec::new();
        for (row, cell) in cells.iter().enumerate() {
            let y = top + 40 * row as u32;
            for (k, w) in cell.split(' ').enumerate() {
                words.push(Word {
                    text: w.to_owned(),
                    confidence: 90.0,
                    bbox: BBox {
                        x: x + 70 * k as u32,
                        y,
                        width: 60,
                        height: 20,
                    },
                    block,
                    paragraph: 1,
                    line: row as u32 + 1,
                });
            }
        }
        let text = format!("{}\n\n", cells.join("\n"));
        let area = Area::new(x, top, 200, 40 * cells.len() as u32);
        (Passage::Text { block, area, text }, words)
    }

    fn page(columns: Vec<(Passage, Vec<Word>)>) -> (Vec<Passage>, Vec<Word>) {
        let (passages, words): (Vec<_>, Vec<_>) = columns.into_iter().unzip();
        (passages, words.concat())
    }

    fn text(passages: &[Passage]) -> String {
        passages
            .iter()
            .filter_map(|p| match p {
                Passage::Text { text, .. } => Some(text.as_str()),
                Passage::Picture { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_spreadsheets_columns_are_read_row_by_row() {
        let (passages, words) = page(vec![
            column(1, 100, 500, &["Intro line"]),
            column(2, 100, 600, &["Region", "North", "South"]),
            column(3, 400, 601, &["Q1", "12,400", "9,870", "22,270"]),
            column(4, 700, 599, &["Q2", "13,150", "10,240", "23,390"]),
            // Its last row's label, set apart by a gap above it.
            column(6, 100, 720, &["Total"]),
            column(5, 100, 800, &["Closing line"]),
        ]);
        let rows = by_rows(&passages, &words).expect("a table");
        assert_eq!(
            text(&rows),
            "Intro line\n\nRegion Q1 Q2\nNorth 12,400 13,150\nSouth 9,870 10,240\nTotal 22,270 23,390\n\nClosing line\n\n"
        );
        assert_eq!(rows.len(), passages.len());
    }

    #[test]
    fn items_beside_their_amounts_are_a_table_and_two_lists_are_not() {
        let (passages, words) = page(vec![
            column(1, 100, 600, &["Coffee beans", "Milk", "Sugar"]),
            column(2, 600, 600, &["12.40", "1.10", "0.95"]),
        ]);
        let rows = by_rows(&passages, &words).expect("a table");
        assert_eq!(text(&rows), "Coffee beans 12.40\nMilk 1.10\nSugar 0.95\n\n");
        // Two columns of an index: words, not figures.
        let (passages, words) = page(vec![
            column(1, 100, 600, &["apples, 12", "bread, 40", "butter, 7"]),
            column(2, 600, 600, &["cheese, 3", "dates, 19", "eggs, 22"]),
        ]);
        assert!(by_rows(&passages, &words).is_none());
    }

    #[test]
    fn prose_columns_and_columns_off_each_others_rows_are_not_tables() {
        let prose = "the quick brown fox jumps over";
        let (passages, words) = page(vec![
            column(1, 100, 600, &[prose, prose, prose]),
            column(2, 600, 600, &[prose, prose, prose]),
            column(3, 1100, 600, &[prose, prose, prose]),
        ]);
        assert!(by_rows(&passages, &words).is_none());
        // Footnotes in two columns, the right one a paragraph per note: two
        // columns of links, not three of a table.
        let (passages, words) = page(vec![
            column(
                1,
                100,
                600,
                &[
                    "https://de.wiki",
                    "Martin_Sutermeister",
                    "(High German),",
                    "https://als.wiki",
                    "(Zurich German).",
                ],
            ),
            column(2, 600, 600, &["4 www.edimuster.ch/", "bibel.htm"]),
            column(3, 600, 680, &["5 www.die-bibel.de/", "online-bibeln/"]),
        ]);
        assert!(by_rows(&passages, &words).is_none());
        // Three columns of words: a letter's footer, say.
        let (passages, words) = page(vec![
            column(1, 100, 600, &["Acme Ltd", "1 High St", "Leeds"]),
            column(2, 700, 600, &["Phone", "Fax", "Email"]),
            column(3, 1300, 600, &["Bank", "Sort code", "Account"]),
        ]);
        assert!(by_rows(&passages, &words).is_none());
        // Side by side, but each row of one between two of the others'.
        let (passages, words) = page(vec![
            column(1, 100, 600, &["a1", "a2", "a3"]),
            column(2, 400, 620, &["b1", "b2", "b3"]),
            column(3, 700, 600, &["c1", "c2", "c3"]),
            column(4, 1000, 600, &["d1", "d2", "d3"]),
            column(5, 1300, 600, &["e1", "e2", "e3"]),
        ]);
        let rows = by_rows(&passages, &words).expect("a, c, d and e are a table");
        assert_eq!(
            text(&rows),
            "a1 c1 d1 e1\na2 c2 d2 e2\na3 c3 d3 e3\n\nb1\nb2\nb3\n\n"
        );
    }
}
