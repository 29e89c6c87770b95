//! Light text on dark patches (see `scribe_core::preprocess::reversed`),
//! read from a copy of the page where each is lifted to dark text on light,
//! as picture blocks are read (see `pictures`), and placed where it stands.

use scribe_core::results::BBox;

use super::pictures::{self, Budget, Outputs, Region, Rescued};
use super::tesseract::{Api, Area, Passage, TesseractError};

/// Reads `patches` of the current image, the lifted copy, for lines of text.
/// `taken` are the boxes of the words the page's reading (and its pictures')
/// already has.
/// Each patch's words are numbered as a paragraph of the block its text
/// follows, after that block's own.
pub fn read(
    api: &mut Api,
    passages: &[Passage],
    taken: Vec<BBox>,
    patches: &[Area],
    image: Area,
    budget: &mut Budget,
    out: &Outputs,
) -> Result<Vec<Rescued>, TesseractError> {
    let mut regions: Vec<Region> = Vec::with_capacity(patches.len());
    for &area in patches {
        let after = standing_under(passages, area);
        let block = after.map_or(0, |i| passages[i].block());
        let own = passages
            .iter()
            .filter(|p| matches!(p, Passage::Text { block: b, .. } if *b == block))
            .count();
        let earlier = regions.iter().filter(|r| r.block == block).count();
        regions.push(Region {
            block,
            paragraph: (own + earlier) as u32 + 1,
            area,
            after,
        });
    }
    pictures::read_regions(api, &regions, taken, image, budget, out, "patch")
}

/// Where a patch's text belongs: after the nearest paragraph above it that
/// shares some of its width (a row of buttons under a form's last line) or,
/// with none, after the lowest paragraph that starts above it; before the
/// first when it tops the page (a banner).
fn standing_under(passages: &[Passage], a: Area) -> Option<usize> {
    pictures::above(passages, a).or_else(|| {
        let higher = passages.iter().enumerate().filter_map(|(i, p)| match p {
            Passage::Text { area, .. } if area.top <= a.top => Some((area.top, i)),
            _ => None,
        });
        higher.max().map(|(_, i)| i)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn area(left: u32, top: u32, width: u32, height: u32) -> Area {
        Area::new(left, top, width, height)
    }

    #[test]
    fn a_patch_follows_the_paragraph_it_stands_under_or_tops_the_page() {
        let text = |block, area| Passage::Text {
            block,
            area,
            text: String::new(),
        };
        let passages = vec![
            text(1, area(100, 300, 800, 60)),
            text(2, area(1200, 300, 800, 400)),
            text(3, area(100, 900, 800, 60)),
        ];
        // A row of buttons under the first paragraph.
        assert_eq!(standing_under(&passages, area(100, 500, 300, 100)), Some(0));
        // Under no paragraph's width: after the lowest that starts above it.
        assert_eq!(standing_under(&passages, area(2100, 800, 200, 80)), Some(1));
        // A banner across the top.
        assert_eq!(standing_under(&passages, area(0, 0, 2400, 150)), None);
    }
}
