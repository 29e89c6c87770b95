//! Tesseract's TSV output, turned into words with boxes. TSV is the one
//! renderer that gives per-word confidences and geometry in a flat table.

use crate::results::{BBox, Word};

/// Parses TSV rows: `level page block par line word left top width height conf text`.
/// Only level-5 (word) rows with text are kept.
pub fn parse_words(tsv: &str) -> Vec<Word> {
    tsv.lines()
        .filter_map(|line| {
            let cols: Vec<&str> = line.splitn(12, '\t').collect();
            if cols.len() < 12 || cols[0] != "5" {
                return None;
            }
            let num = |i: usize| cols[i].trim().parse::<u32>().ok();
            let text = cols[11].trim();
            let confidence = cols[10].trim().parse::<f32>().ok()?;
            if text.is_empty() || confidence < 0.0 {
                return None;
            }
            Some(Word {
                text: text.to_owned(),
                confidence,
                bbox: BBox {
                    x: num(6)?,
                    y: num(7)?,
                    width: num(8)?,
                    height: num(9)?,
                },
                block: num(2)?,
                paragraph: num(3)?,
                line: num(4)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_word_rows_with_their_boxes() {
        let tsv = "1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t\n\
                   4\t1\t1\t1\t1\t0\t300\t280\t900\t60\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t300\t282\t210\t58\t96.4\tScribe\n\
                   5\t1\t1\t1\t1\t2\t530\t280\t120\t60\t91\treads\n\
                   5\t1\t1\t1\t1\t3\t700\t280\t10\t60\t95\t \n";
        let words = parse_words(tsv);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].text, "Scribe");
        assert_eq!(
            words[0].bbox,
            BBox {
                x: 300,
                y: 282,
                width: 210,
                height: 58
            }
        );
        assert!((words[1].confidence - 91.0).abs() < f32::EPSILON);
    }
}
