//! Tesseract's API returns each page's hOCR as a bare `ocr_page` fragment; a
//! file people open needs the XHTML wrapper and capability metadata around it.
//! The fragment speaks in the pixels of the image Tesseract read, which was
//! scaled, turned or deskewed; [`to_original`] moves it onto the page as uploaded.

use crate::geometry::Affine;
use crate::results::{BBox, Word};

/// One hOCR document holding `pages` (fragments, in order).
pub fn document<'a>(pages: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n",
        "    \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n",
        "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n",
        " <head>\n  <title></title>\n",
        "  <meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n",
        "  <meta name=\"ocr-system\" content=\"tesseract (via Scribe)\"/>\n",
        "  <meta name=\"ocr-capabilities\" content=\"ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf\"/>\n",
        " </head>\n <body>\n",
    ));
    for page in pages {
        out.push_str(page);
    }
    out.push_str(" </body>\n</html>\n");
    out
}

/// The fragment of page `number` (1-based, `size` pixels at `dpi`) that
/// holds `words` taken from the page itself rather than read (a PDF page's
/// own text), grouped by their block, paragraph and line numbers as
/// Tesseract's are.
pub fn from_words(number: usize, size: (u32, u32), dpi: Option<u32>, words: &[Word]) -> String {
    let mut out = format!(
        "  <div class='ocr_page' id='page_{number}' title='bbox 0 0 {} {}; ppageno {}{}'>\n",
        size.0,
        size.1,
        number.saturating_sub(1),
        dpi.map(|d| format!("; scan_res {d} {d}"))
            .unwrap_or_default()
    );
    let mut ids = [0usize; 4];
    for block in groups(words, |w| w.block) {
        ids[0] += 1;
        open(
            &mut out,
            3,
            "div",
            "ocr_carea",
            ("block", number, ids[0]),
            block,
        );
        for paragraph in groups(block, |w| w.paragraph) {
            ids[1] += 1;
            open(
                &mut out,
                4,
                "p",
                "ocr_par",
                ("par", number, ids[1]),
                paragraph,
            );
            for line in groups(paragraph, |w| w.line) {
                ids[2] += 1;
                open(
                    &mut out,
                    5,
                    "span",
                    "ocr_line",
                    ("line", number, ids[2]),
                    line,
                );
                for word in line {
                    ids[3] += 1;
                    let b = word.bbox;
                    out.push_str(&format!(
                        "      <span class='ocrx_word' id='word_{number}_{}' title='bbox {} {} {} {}; x_wconf {}'>{}</span>\n",
                        ids[3],
                        b.x,
                        b.y,
                        b.x.saturating_add(b.width),
                        b.y.saturating_add(b.height),
                        word.confidence.round(),
                        crate::xml::escape(&word.text)
                    ));
                }
                out.push_str("     </span>\n");
            }
            out.push_str("    </p>\n");
        }
        out.push_str("   </div>\n");
    }
    out.push_str("  </div>\n");
    out
}

/// `words` in runs of the same `key`.
fn groups(words: &[Word], key: impl Fn(&Word) -> u32) -> impl Iterator<Item = &[Word]> {
    words.chunk_by(move |a, b| key(a) == key(b))
}

/// The opening tag of an element holding `words`, boxed around them.
fn open(
    out: &mut String,
    indent: usize,
    tag: &str,
    class: &str,
    (kind, page, item): (&str, usize, usize),
    words: &[Word],
) {
    let (x0, y0, x1, y1) = words
        .iter()
        .fold((u32::MAX, u32::MAX, 0, 0), |(x0, y0, x1, y1), w| {
            let b = w.bbox;
            (
                x0.min(b.x),
                y0.min(b.y),
                x1.max(b.x.saturating_add(b.width)),
                y1.max(b.y.saturating_add(b.height)),
            )
        });
    out.push_str(&format!(
        "{:indent$}<{tag} class='{class}' id='{kind}_{page}_{item}' title=\"bbox {x0} {y0} {x1} {y1}\">\n",
        ""
    ));
}

/// Rewrites a page fragment's geometry into the original page's pixels:
/// every `bbox` through `map`, the sizes that hOCR states in pixels
/// (`x_size`, `x_ascenders`, `x_descenders`, the baseline's offset) by its
/// scale, and `scan_res` to the original's resolution when known. The page's
/// own box becomes the original's size.
pub fn to_original(fragment: &str, map: Affine, size: (u32, u32), dpi: Option<u32>) -> String {
    let scale = (map.a * map.d - map.b * map.c).abs().sqrt();
    let mut out = String::with_capacity(fragment.len());
    let mut rest = fragment;
    while let Some(at) = rest.find("title=") {
        let (before, after) = rest.split_at(at + "title=".len());
        out.push_str(before);
        let Some(quote) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            rest = after;
            continue;
        };
        let Some(end) = after[1..].find(quote) else {
            rest = after;
            break;
        };
        let title = &after[1..=end];
        out.push(quote);
        out.push_str(&remap_title(title, map, scale, size, dpi));
        out.push(quote);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Numbers a page fragment as page `number` (1-based) of its document.
/// Tesseract reads each page alone, so every fragment calls itself page 1
/// (`id='page_1'`, `word_1_7`, `ppageno 0`): joined, their ids would clash.
pub fn numbered(fragment: &str, number: usize) -> String {
    // `page_1`, or `word_1_7`: a class, the page, then the item.
    let out = renamed(fragment, |id| match id.split_once('_') {
        Some((class, tail)) if tail == "1" || tail.starts_with("1_") => {
            format!("{class}_{number}{}", &tail[1..])
        }
        _ => id.to_owned(),
    });
    out.replacen(
        "ppageno 0",
        &format!("ppageno {}", number.saturating_sub(1)),
        1,
    )
}

/// `page` with the content of another fragment of the same page, `part`,
/// placed after block `after` (Tesseract's `block_1_N`, counted from 1 as
/// it counts them; 0 puts it first) and whatever was grafted there before,
/// so the hOCR reads in the order the text does; at the end when no block
/// comes later. `part`'s ids (Tesseract numbers every reading from 1)
/// get `tag` after the page number, so they stay apart from `page`'s.
pub fn graft(page: &str, part: &str, tag: &str, after: u32) -> String {
    let inner = part.find("class='ocr_page'").and_then(|at| {
        let open = at + part[at..].find('>')? + 1;
        let close = part.rfind("</div>")?;
        (close >= open).then(|| &part[open..close])
    });
    let (Some(inner), Some(end)) = (inner, page.rfind("</div>")) else {
        return page.to_owned();
    };
    let at = next_block(page, after).unwrap_or(end);
    let inner = renamed(inner, |id| match id.split_once('_') {
        Some((class, tail)) => match tail.split_once('_') {
            Some((page, item)) => format!("{class}_{page}_{tag}_{item}"),
            None => format!("{class}_{tail}_{tag}"),
        },
        None => format!("{id}_{tag}"),
    });
    let mut out = String::with_capacity(page.len() + inner.len());
    out.push_str(&page[..at]);
    out.push_str(&inner);
    out.push_str(&page[at..]);
    out
}

/// Where the element of the first of Tesseract's own blocks numbered past
/// `after` opens (grafted blocks, `block_1_p0_1`, are not its own).
fn next_block(page: &str, after: u32) -> Option<usize> {
    const ID: &str = "id='block_1_";
    let mut from = 0;
    while let Some(found) = page[from..].find(ID) {
        let id_at = from + found;
        from = id_at + ID.len();
        let digits = page[from..].find(|c: char| !c.is_ascii_digit())?;
        let later = page[from..from + digits]
            .parse::<u32>()
            .is_ok_and(|n| n > after);
        if later && page[from + digits..].starts_with('\'') {
            return page[..id_at].rfind("<div");
        }
    }
    None
}

/// `fragment` with every `id='…'` value passed through `rename`.
fn renamed(fragment: &str, rename: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(fragment.len() + 64);
    let mut rest = fragment;
    while let Some(at) = rest.find("id='") {
        let (before, after) = rest.split_at(at + "id='".len());
        out.push_str(before);
        let end = after.find('\'').unwrap_or(after.len());
        out.push_str(&rename(&after[..end]));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// One `title` attribute: `;`-separated properties, each a name and numbers.
fn remap_title(title: &str, map: Affine, scale: f64, size: (u32, u32), dpi: Option<u32>) -> String {
    let props: Vec<String> = title
        .split(';')
        .map(|prop| {
            let prop = prop.trim();
            let mut words = prop.split_whitespace();
            let name = words.next().unwrap_or_default();
            let numbers: Vec<&str> = words.collect();
            match (name, numbers.as_slice()) {
                ("bbox", [x0, y0, x1, y1]) => match parse_box([x0, y0, x1, y1]) {
                    Some(b) => {
                        let m = map.map_box(b, size.0, size.1);
                        format!("bbox {} {} {} {}", m.x, m.y, m.x + m.width, m.y + m.height)
                    }
                    None => prop.to_owned(),
                },
                ("x_size" | "x_ascenders" | "x_descenders", [v]) => match v.parse::<f64>() {
                    Ok(v) => format!("{name} {}", round2(v * scale)),
                    Err(_) => prop.to_owned(),
                },
                ("baseline", [slope, offset]) => match offset.parse::<f64>() {
                    Ok(o) => format!("baseline {slope} {}", round2(o * scale)),
                    Err(_) => prop.to_owned(),
                },
                ("scan_res", [_, _]) => match dpi {
                    Some(d) => format!("scan_res {d} {d}"),
                    None => prop.to_owned(),
                },
                _ => prop.to_owned(),
            }
        })
        .collect();
    props.join("; ")
}

/// The `bbox x0 y0 x1 y1` property in an element's opening tag (or title).
pub fn bbox_in(tag: &str) -> Option<BBox> {
    let after = &tag[tag.find("bbox ")? + "bbox ".len()..];
    let property = after.split([';', '\'', '"']).next()?;
    match property.split_whitespace().collect::<Vec<_>>().as_slice() {
        [x0, y0, x1, y1] => parse_box([x0, y0, x1, y1]),
        _ => None,
    }
}

fn parse_box(v: [&&str; 4]) -> Option<BBox> {
    let [x0, y0, x1, y1] = v.map(|n| n.parse::<u32>().ok());
    let (x0, y0, x1, y1) = (x0?, y0?, x1?, y1?);
    Some(BBox {
        x: x0,
        y: y0,
        width: x1.checked_sub(x0)?,
        height: y1.checked_sub(y0)?,
    })
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::bbox_in;
    use crate::geometry::Affine;

    #[test]
    fn moves_boxes_and_sizes_to_the_original_pixels() {
        let fragment = concat!(
            "<div class='ocr_page' id='page_1' title='image \"x\"; bbox 0 0 200 100; ppageno 0; scan_res 600 600'>\n",
            "<span class='ocr_line' title=\"bbox 20 10 180 30; baseline 0.01 -4; x_size 20; x_descenders 4; x_ascenders 5\">",
            "<span class='ocrx_word' title='bbox 20 10 60 30; x_wconf 96'>Hello</span></span></div>\n",
        );
        // Read at twice the original's size.
        let out = super::to_original(fragment, Affine::scale(0.5, 0.5), (100, 50), Some(300));
        assert!(
            out.contains("bbox 0 0 100 50; ppageno 0; scan_res 300 300"),
            "{out}"
        );
        assert!(out.contains("title=\"bbox 10 5 90 15; baseline 0.01 -2; x_size 10; x_descenders 2; x_ascenders 2.5\""), "{out}");
        assert!(
            out.contains("title='bbox 10 5 30 15; x_wconf 96'>Hello</span>"),
            "{out}"
        );
        assert!(
            out.starts_with("<div class='ocr_page' id='page_1' title='image \"x\";"),
            "{out}"
        );
    }

    #[test]
    fn a_page_s_own_words_become_blocks_paragraphs_lines_and_words() {
        let word = |text: &str, x: u32, y: u32, (block, paragraph, line): (u32, u32, u32)| {
            crate::results::Word {
                text: text.to_owned(),
                confidence: 100.0,
                bbox: crate::results::BBox {
                    x,
                    y,
                    width: 10,
                    height: 5,
                },
                block,
                paragraph,
                line,
            }
        };
        let words = [
            word("Fish", 0, 0, (1, 1, 1)),
            word("&", 20, 0, (1, 1, 1)),
            word("chips", 0, 10, (1, 1, 2)),
            word("<end>", 50, 40, (2, 2, 3)),
        ];
        let page = super::from_words(3, (100, 60), Some(150), &words);
        assert!(
            page.starts_with("  <div class='ocr_page' id='page_3' title='bbox 0 0 100 60; ppageno 2; scan_res 150 150'>"),
            "{page}"
        );
        assert!(
            page.contains("<div class='ocr_carea' id='block_3_1' title=\"bbox 0 0 30 15\">"),
            "{page}"
        );
        assert!(
            page.contains("<span class='ocr_line' id='line_3_2' title=\"bbox 0 10 10 15\">"),
            "{page}"
        );
        assert!(
            page.contains("<span class='ocrx_word' id='word_3_2' title='bbox 20 0 30 5; x_wconf 100'>&amp;</span>"),
            "{page}"
        );
        assert!(page.contains(">&lt;end&gt;</span>"), "{page}");
        assert_eq!(page.matches("class='ocr_carea'").count(), 2);
        assert_eq!(page.matches("class='ocr_par'").count(), 2);
        assert_eq!(page.matches("class='ocr_line'").count(), 3);
        // Every element opened is closed.
        for (open, close) in [("<div", "</div>"), ("<p ", "</p>"), ("<span", "</span>")] {
            assert_eq!(
                page.matches(open).count(),
                page.matches(close).count(),
                "{open}"
            );
        }
    }

    #[test]
    fn numbers_a_fragment_as_its_page_of_the_document() {
        let fragment = "<div class='ocr_page' id='page_1' title='bbox 0 0 9 9; ppageno 0'>\
            <span class='ocr_line' id='line_1_12'><span class='ocrx_word' id='word_1_7'>a</span>\
            <span id='block_11_1'>b</span></span></div>";
        let out = super::numbered(fragment, 3);
        assert!(
            out.contains("id='page_3' title='bbox 0 0 9 9; ppageno 2'"),
            "{out}"
        );
        assert!(
            out.contains("id='line_3_12'") && out.contains("id='word_3_7'"),
            "{out}"
        );
        assert!(
            out.contains("id='block_11_1'"),
            "only page 1's own ids: {out}"
        );
        assert_eq!(super::numbered(fragment, 1), fragment);
    }

    #[test]
    fn a_grafted_part_joins_the_page_with_ids_of_its_own() {
        let page = "<div class='ocr_page' id='page_1' title='bbox 0 0 9 9'>\
            <div class='ocr_carea' id='block_1_1'><span class='ocrx_word' id='word_1_1'>Total</span></div>\
            </div>\n";
        let part = "<div class='ocr_page' id='page_1' title='bbox 0 0 9 9'>\
            <div class='ocr_carea' id='block_1_1'><span class='ocrx_word' id='word_1_1'>13.40</span></div>\
            </div>\n";
        let out = super::graft(page, part, "p0", 1);
        assert_eq!(out.matches("class='ocr_page'").count(), 1, "{out}");
        assert!(out.ends_with("</div></div>\n"), "{out}");
        let total = out.find("Total").expect("the page's word");
        let amount = out.find("13.40").expect("the part's word");
        assert!(total < amount, "{out}");
        assert!(out.contains("id='word_1_p0_1'>13.40"), "{out}");
        assert!(out.contains("id='word_1_1'>Total"), "{out}");
        // Numbered as page 2 of a document, both keep apart.
        let numbered = super::numbered(&out, 2);
        assert!(numbered.contains("id='word_2_p0_1'") && numbered.contains("id='word_2_1'"));
        // A part that is not a page fragment changes nothing.
        assert_eq!(super::graft(page, "<p>x</p>", "p1", 1), page);
    }

    #[test]
    fn a_grafted_part_stands_where_its_text_is_read() {
        let page = "<div class='ocr_page' id='page_1' title='bbox 0 0 9 9'>\
            <div class='ocr_photo' id='block_1_1' title='bbox 0 0 9 2'></div>\
            <div class='ocr_carea' id='block_1_2'><span class='ocrx_word' id='word_1_1'>Hello</span></div>\
            <div class='ocr_carea' id='block_1_12'><span class='ocrx_word' id='word_1_2'>Bye</span></div>\
            </div>\n";
        let part = |word: &str| {
            format!(
                "<div class='ocr_page' id='page_1' title='bbox 0 0 9 9'>\
                <div class='ocr_carea' id='block_1_1'><span class='ocrx_word' id='word_1_1'>{word}</span></div>\
                </div>\n"
            )
        };
        // A heading Tesseract took for a picture: its lines after the picture, in turn.
        let out = super::graft(page, &part("Anna"), "p0", 1);
        let out = super::graft(&out, &part("Schmidt"), "p1", 1);
        let at = |w: &str| out.find(w).expect(w);
        assert!(
            at("Anna") < at("Schmidt") && at("Schmidt") < at("Hello"),
            "{out}"
        );
        // Block 1 is not block 12's prefix; past the last block, at the end.
        let out = super::graft(page, &part("Ciao"), "p0", 2);
        assert!(
            at_of(&out, "Hello") < at_of(&out, "Ciao") && at_of(&out, "Ciao") < at_of(&out, "Bye"),
            "{out}"
        );
        let out = super::graft(page, &part("Ciao"), "p0", 12);
        assert!(out.ends_with("Ciao</span></div></div>\n"), "{out}");
    }

    fn at_of(out: &str, word: &str) -> usize {
        out.find(word).expect(word)
    }

    #[test]
    fn an_element_s_box_is_read_from_its_title() {
        let tag = "<span class='ocrx_word' id='word_1_3' title='bbox 10 20 30 45; x_wconf 96'";
        let b = bbox_in(tag).expect("a box");
        assert_eq!((b.x, b.y, b.width, b.height), (10, 20, 20, 25));
        assert_eq!(bbox_in("<span title='bbox 30 20 10 45'"), None);
        assert_eq!(bbox_in("<span title='x_wconf 96'"), None);
    }

    #[test]
    fn leaves_a_fragment_without_geometry_alone() {
        let fragment = "<div class='ocr_page'><span title='x_wconf 9'>a</span> title= </div>";
        let out = super::to_original(fragment, Affine::scale(0.5, 0.5), (10, 10), None);
        assert_eq!(out, fragment);
    }

    #[test]
    fn wraps_fragments_in_order() {
        let doc = super::document([
            "<div class='ocr_page' id='page_1'></div>\n",
            "<div class='ocr_page' id='page_2'></div>\n",
        ]);
        assert!(doc.starts_with("<?xml"));
        assert!(doc.find("page_1") < doc.find("page_2"));
        assert!(doc.trim_end().ends_with("</html>"));
    }
}
