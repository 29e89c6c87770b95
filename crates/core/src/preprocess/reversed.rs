//! Light text on dark patches of a light page: buttons, table headers, tags
//! and banners. Layout analysis takes a filled patch for a picture or for
//! noise and drops it, text and all; the engine never sees light text there
//! as text. A patch is found as a solid dark area holding light marks, and
//! [`lifted`] turns each into dark text on light paper before the page is read.

use image::{GrayImage, RgbImage};

/// The page is searched on a grid of cells about this many to its short side:
/// fine enough for a button's padding, coarse enough that a cell on a line of
/// dark text is never as dark as a fill.
const CELLS_ACROSS: u32 = 400;
/// A cell this much darker than the paper is part of a fill. Body text's ink
/// covers a fifth of its lines; a fill behind light text covers all.
const FILL_CONTRAST: u8 = 100;
/// The smallest patch, in cells either way: a line of text with some padding.
const MIN_CELLS: u32 = 4;
/// A patch's dark cells fill at least this share of its bounds: a fill, not
/// the strokes of a large letter or a drawing.
const MIN_FILL: f64 = 0.5;
/// Light marks are this much lighter than their patch.
const MARK_CONTRAST: u8 = 80;
/// A patch holds at least this share of light marks (text), and at most this
/// (more is a frame around light paper, which the engine reads as it is).
const MARKS: (f64, f64) = (0.02, 0.6);
/// Light marks on one row that make a patch's text (a button's word).
const SIDE_BY_SIDE: usize = 3;
/// Light marks smaller than this many pixels are specks, not letters.
const MIN_MARK: u64 = 4;
/// Each side of a patch is fill for at least this share of its middle.
const FRAMED: f64 = 0.9;
/// A patch larger than this share of the page is a photograph, or the page is
/// a dark one the engine reads whole.
const MAX_SHARE: f64 = 0.5;
/// Pages darker than this (paper level) are dark pages: nothing to find.
const MIN_PAPER: u8 = 160;
/// Nor is a page searched without end: the largest patches first.
const MAX_PATCHES: usize = 40;

/// A dark patch with light marks, in pixels of the page searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patch {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
    /// Its fill's level and its marks'.
    fill: u8,
    marks: u8,
}

/// The dark patches of a light `page` that hold light marks, the largest first.
pub fn patches(page: &GrayImage) -> Vec<Patch> {
    let (w, h) = page.dimensions();
    let Some(paper) = paper(page).filter(|&p| p >= MIN_PAPER) else {
        return Vec::new();
    };
    let cell = (w.min(h) / CELLS_ACROSS).max(1);
    let grid = Grid::of(page, cell);
    let dark: Vec<bool> = grid
        .means
        .iter()
        .map(|&m| u16::from(m) + u16::from(FILL_CONTRAST) <= u16::from(paper))
        .collect();
    let mut found: Vec<Patch> = components(&dark, grid.width, grid.height)
        .into_iter()
        .filter(|c| c.width() >= MIN_CELLS && c.height() >= MIN_CELLS)
        .filter(|c| c.cells as f64 >= c.area() as f64 * MIN_FILL)
        .filter_map(|c| {
            let (left, top) = (c.left * cell, c.top * cell);
            let width = ((c.right + 1) * cell).min(w) - left;
            let height = ((c.bottom + 1) * cell).min(h) - top;
            let share = f64::from(width) * f64::from(height) / (f64::from(w) * f64::from(h));
            // A cell more each way to draw in from: an edge cell mostly
            // paper is not dark, yet holds the fill's last pixels.
            let (l, t) = (left.saturating_sub(cell), top.saturating_sub(cell));
            let outer = (
                l,
                t,
                (left + width + cell).min(w) - l,
                (top + height + cell).min(h) - t,
            );
            (share <= MAX_SHARE)
                .then(|| marked(page, (left, top, width, height), outer))
                .flatten()
        })
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(u64::from(p.width) * u64::from(p.height)));
    found.truncate(MAX_PATCHES);
    found
}

/// A copy of `page` with each of `patches` turned to dark marks on light
/// paper: the engine reads them where they stand, as it reads print, and
/// lays them out with the rest of the page. What is light at a patch's border
/// (the paper beyond a rounded corner) is paper, not a mark: turned dark it
/// would read as a stroke beside the text.
pub fn lifted(page: &GrayImage, patches: &[Patch]) -> GrayImage {
    let mut out = page.clone();
    for p in patches {
        // A patch's marks are at least MARK_CONTRAST above its fill.
        let span = f32::from(p.marks - p.fill).max(1.0);
        for y in p.top..p.top + p.height {
            for x in p.left..p.left + p.width {
                let v = f32::from(page.get_pixel(x, y).0[0]);
                let lifted = 255.0 * (f32::from(p.marks) - v) / span;
                out.put_pixel(x, y, image::Luma([lifted.clamp(0.0, 255.0) as u8]));
            }
        }
        clear_from_border(page, p, &mut out);
        clear_around(p, &mut out);
    }
    out
}

/// Turns to paper a ring around `patch`: what was its edge's blur or its
/// corners' curve, left dark beside a patch now paper, reads as `|` and `(`.
fn clear_around(patch: &Patch, out: &mut GrayImage) {
    let (l, t, r, b) = with_ring(patch, out.dimensions());
    for y in t..b {
        for x in l..r {
            let inside = (patch.left..patch.left + patch.width).contains(&x)
                && (patch.top..patch.top + patch.height).contains(&y);
            if !inside {
                out.put_pixel(x, y, image::Luma([255]));
            }
        }
    }
}

/// A patch's bounds with the ring [`clear_around`] clears: left, top,
/// right and bottom (exclusive), within a page of `width` × `height`.
fn with_ring(patch: &Patch, (width, height): (u32, u32)) -> (u32, u32, u32, u32) {
    let ring = (patch.height / 12).clamp(2, 8);
    (
        patch.left.saturating_sub(ring),
        patch.top.saturating_sub(ring),
        (patch.left + patch.width + ring).min(width),
        (patch.top + patch.height + ring).min(height),
    )
}

/// Paints `patches` of `lifted` (see [`lifted`]), rings and all, over a
/// colour copy of the same page, so that a page read in colour reads its
/// patches lifted too.
pub fn lift_colour(colour: &mut RgbImage, lifted: &GrayImage, patches: &[Patch]) {
    for p in patches {
        let (l, t, r, b) = with_ring(p, lifted.dimensions());
        for y in t..b {
            for x in l..r {
                let v = lifted.get_pixel(x, y).0[0];
                colour.put_pixel(x, y, image::Rgb([v, v, v]));
            }
        }
    }
}

/// Turns back to paper the light pixels of `patch` joined to its border.
fn clear_from_border(page: &GrayImage, patch: &Patch, out: &mut GrayImage) {
    let (l, t) = (patch.left, patch.top);
    let (r, b) = (l + patch.width - 1, t + patch.height - 1);
    let light = |x: u32, y: u32| !is_fill(page, x, y, patch.fill);
    let mut stack: Vec<(u32, u32)> = (l..=r)
        .flat_map(|x| [(x, t), (x, b)])
        .chain((t..=b).flat_map(|y| [(l, y), (r, y)]))
        .filter(|&(x, y)| light(x, y))
        .collect();
    while let Some((x, y)) = stack.pop() {
        // Light pixels lift to less than white: white is visited.
        if out.get_pixel(x, y).0[0] == 255 {
            continue;
        }
        out.put_pixel(x, y, image::Luma([255]));
        let near = super::four_neighbours(x, y, (l, t, r + 1, b + 1));
        stack.extend(near.filter(|&(x, y)| light(x, y)));
    }
}

/// The level most of the page is, sampled: its paper.
fn paper(page: &GrayImage) -> Option<u8> {
    let mut sample: Vec<u8> = page.pixels().step_by(7).map(|p| p.0[0]).collect();
    if sample.is_empty() {
        return None;
    }
    let middle = sample.len() / 2;
    Some(*sample.select_nth_unstable(middle).1)
}

/// The patch at a component's `cells`, if its light marks make it one: its
/// fill is their median level, its marks what stands `MARK_CONTRAST` above
/// it. Its box is drawn in from `outer` to the fill's own edges.
fn marked(page: &GrayImage, cells: Bounds, outer: Bounds) -> Option<Patch> {
    let (_, _, width, height) = cells;
    let fill = level_at(
        &histogram(page, cells),
        u64::from(width) * u64::from(height) / 2,
    )?;
    let bounds = tightened(page, outer, fill)?;
    let levels = histogram(page, bounds);
    let total: u64 = levels.iter().sum();
    let light_from = usize::from(fill.checked_add(MARK_CONTRAST)?);
    let light: u64 = levels[light_from..].iter().sum();
    let share = light as f64 / total as f64;
    if share < MARKS.0
        || share > MARKS.1
        || !framed(page, bounds, fill)
        || !side_by_side(page, bounds, fill)
    {
        return None;
    }
    // Stretched to black, the marks' median: the body of their strokes, not
    // the lightest of their anti-aliased edges.
    let marks = level_at(&levels[light_from..], light / 2)? + light_from as u8;
    let (left, top, width, height) = bounds;
    Some(Patch {
        left,
        top,
        width,
        height,
        fill,
        marks,
    })
}

/// Whether `SIDE_BY_SIDE` of the light marks held inside `bounds` stand on
/// one row, as letters of a word do: the counter of a bold `p` is a framed
/// light mark too, a `B`'s two stand one above the other and a blackletter
/// `ch` holds two side by side. Lifted in place, such a letter would be
/// turned inside out.
fn side_by_side(page: &GrayImage, (left, top, width, height): Bounds, fill: u8) -> bool {
    let light: Vec<bool> = (top..top + height)
        .flat_map(|y| (left..left + width).map(move |x| (x, y)))
        .map(|(x, y)| !is_fill(page, x, y, fill))
        .collect();
    // Marks held inside, clear of the border (paper beyond a rounded corner
    // is not a mark); a speck of noise in the fill is no letter.
    let marks: Vec<Component> = components(&light, width, height)
        .into_iter()
        .filter(|c| c.left > 0 && c.top > 0 && c.right + 1 < width && c.bottom + 1 < height)
        .filter(|c| c.cells >= MIN_MARK)
        .collect();
    marks.iter().any(|a| {
        let middle = (a.top + a.bottom) / 2;
        let row = marks
            .iter()
            .filter(|b| (b.top..=b.bottom).contains(&middle));
        row.count() >= SIDE_BY_SIDE
    })
}

/// The pixels' count at each level.
fn histogram(page: &GrayImage, (left, top, width, height): Bounds) -> [u64; 256] {
    let mut levels = [0u64; 256];
    for y in top..top + height {
        for x in left..left + width {
            levels[usize::from(page.get_pixel(x, y).0[0])] += 1;
        }
    }
    levels
}

/// Left, top, width, height in pixels.
type Bounds = (u32, u32, u32, u32);

/// Whether a pixel is as dark as a fill at `fill`, not a mark or paper.
fn is_fill(page: &GrayImage, x: u32, y: u32, fill: u8) -> bool {
    page.get_pixel(x, y).0[0] < fill.saturating_add(MARK_CONTRAST / 2)
}

/// The bounds drawn in from each side past rows and columns less than half
/// fill (paper taken in by a cell at the edge); `None` if nothing is left.
fn tightened(page: &GrayImage, bounds: Bounds, fill: u8) -> Option<Bounds> {
    let (mut l, mut t, w, h) = bounds;
    let (mut r, mut b) = (l + w, t + h);
    let row = |y: u32, l: u32, r: u32| (l..r).filter(|&x| is_fill(page, x, y, fill)).count() * 2;
    let column = |x: u32, t: u32, b: u32| (t..b).filter(|&y| is_fill(page, x, y, fill)).count() * 2;
    while t < b && row(t, l, r) < (r - l) as usize {
        t += 1;
    }
    while t < b && row(b - 1, l, r) < (r - l) as usize {
        b -= 1;
    }
    while l < r && column(l, t, b) < (b - t) as usize {
        l += 1;
    }
    while l < r && column(r - 1, t, b) < (b - t) as usize {
        r -= 1;
    }
    (r - l >= MIN_CELLS && b - t >= MIN_CELLS).then_some((l, t, r - l, b - t))
}

/// Whether the fill runs along all four sides of the rectangle (its corners
/// may be rounded): a patch holds its marks, where a dark letter's bounds
/// cross paper on one side at least.
fn framed(page: &GrayImage, (left, top, width, height): Bounds, fill: u8) -> bool {
    let filled = |along: &mut dyn Iterator<Item = bool>| {
        let (mut n, mut dark) = (0u32, 0u32);
        for f in along {
            n += 1;
            dark += u32::from(f);
        }
        n > 0 && f64::from(dark) >= f64::from(n) * FRAMED
    };
    let (right, bottom) = (left + width - 1, top + height - 1);
    // The middle of each side, clear of rounded corners, a pixel or two in
    // from an edge the anti-aliasing has lightened.
    let (x0, x1) = (left + width / 10, right - width / 10);
    let (y0, y1) = (top + height / 10, bottom - height / 10);
    let (inset_x, inset_y) = ((width / 20).min(2), (height / 20).min(2));
    filled(&mut (x0..=x1).map(|x| is_fill(page, x, top + inset_y, fill)))
        && filled(&mut (x0..=x1).map(|x| is_fill(page, x, bottom - inset_y, fill)))
        && filled(&mut (y0..=y1).map(|y| is_fill(page, left + inset_x, y, fill)))
        && filled(&mut (y0..=y1).map(|y| is_fill(page, right - inset_x, y, fill)))
}

/// The level below which `rank` of the counted pixels lie.
fn level_at(levels: &[u64], rank: u64) -> Option<u8> {
    let mut seen = 0;
    for (level, &count) in levels.iter().enumerate() {
        seen += count;
        if seen > rank {
            return u8::try_from(level).ok();
        }
    }
    None
}

/// The page's mean level in square cells (the last row and column of cells
/// take in what is left over).
struct Grid {
    width: u32,
    height: u32,
    means: Vec<u8>,
}

impl Grid {
    fn of(page: &GrayImage, cell: u32) -> Self {
        let (w, h) = page.dimensions();
        let (width, height) = ((w / cell).max(1), (h / cell).max(1));
        let mut sums = vec![0u64; (width * height) as usize];
        let mut counts = vec![0u64; sums.len()];
        for (x, y, p) in page.enumerate_pixels() {
            let i = ((y / cell).min(height - 1) * width + (x / cell).min(width - 1)) as usize;
            sums[i] += u64::from(p.0[0]);
            counts[i] += 1;
        }
        let means = sums
            .iter()
            .zip(&counts)
            .map(|(&s, &c)| (s / c.max(1)) as u8)
            .collect();
        Self {
            width,
            height,
            means,
        }
    }
}

/// A set of cells joined side to side.
struct Component {
    left: u32,
    top: u32,
    right: u32,
    bottom: u32,
    cells: u64,
}

impl Component {
    fn width(&self) -> u32 {
        self.right - self.left + 1
    }

    fn height(&self) -> u32 {
        self.bottom - self.top + 1
    }

    fn area(&self) -> u64 {
        u64::from(self.width()) * u64::from(self.height())
    }
}

/// The groups of set cells in a `width` × `height` grid.
fn components(set: &[bool], width: u32, height: u32) -> Vec<Component> {
    let mut seen = vec![false; set.len()];
    let mut found = Vec::new();
    let mut stack = Vec::new();
    for start in 0..set.len() {
        if !set[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let (x, y) = ((start as u32) % width, (start as u32) / width);
        let mut c = Component {
            left: x,
            top: y,
            right: x,
            bottom: y,
            cells: 0,
        };
        while let Some(i) = stack.pop() {
            let (x, y) = ((i as u32) % width, (i as u32) / width);
            c.cells += 1;
            (c.left, c.right) = (c.left.min(x), c.right.max(x));
            (c.top, c.bottom) = (c.top.min(y), c.bottom.max(y));
            for (nx, ny) in super::four_neighbours(x, y, (0, 0, width, height)) {
                let n = (ny * width + nx) as usize;
                if set[n] && !seen[n] {
                    seen[n] = true;
                    stack.push(n);
                }
            }
        }
        found.push(c);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// A page of `paper` with dark "lines of text" (strokes 3 px wide, a fifth
    /// of each line inked) and, where `button` says, a filled box of `fill`
    /// with light strokes of `marks` in it.
    fn page(paper: u8, button: Option<(u8, u8)>) -> GrayImage {
        GrayImage::from_fn(1200, 1600, |x, y| {
            let stroke = x % 15 < 3;
            if let Some((fill, marks)) = button
                && (100..400).contains(&x)
                && (900..960).contains(&y)
            {
                let text = (150..350).contains(&x) && (915..945).contains(&y) && stroke;
                return Luma([if text { marks } else { fill }]);
            }
            let line = (100..1100).contains(&x) && y % 60 < 30 && y < 800 && stroke;
            Luma([if line { 20 } else { paper }])
        })
    }

    #[test]
    fn a_filled_box_with_light_text_is_a_patch_and_dark_text_on_paper_is_not() {
        let found = patches(&page(250, Some((110, 255))));
        assert_eq!(found.len(), 1, "{found:?}");
        let p = found[0];
        // The box, to within a cell (three pixels here).
        assert!(
            p.left.abs_diff(100) <= 3 && p.top.abs_diff(900) <= 3,
            "{p:?}"
        );
        assert!(
            p.width.abs_diff(300) <= 6 && p.height.abs_diff(60) <= 6,
            "{p:?}"
        );
        assert!(patches(&page(250, None)).is_empty());
    }

    #[test]
    fn a_solid_box_a_pale_box_and_a_dark_page_hold_no_patch() {
        // Nothing light in it: a bar, a photo's shadow, a large letter's stroke.
        assert!(patches(&page(250, Some((110, 110)))).is_empty());
        // Too pale to be a fill: dark text on it is read as it is.
        assert!(patches(&page(250, Some((200, 255)))).is_empty());
        // A dark-mode page is read whole by the engine.
        assert!(patches(&page(40, Some((110, 255)))).is_empty());
    }

    #[test]
    fn a_box_is_found_wherever_it_falls_on_the_grid() {
        // Cells are 6 px here; the box starts at every offset within one.
        for shift in 0..6 {
            let page = GrayImage::from_fn(2400, 3000, |x, y| {
                let (x0, y0) = (600 + shift, 1200 + shift);
                let inside = (x0..x0 + 400).contains(&x) && (y0..y0 + 130).contains(&y);
                let text = (x0 + 50..x0 + 350).contains(&x) && (y0 + 40..y0 + 90).contains(&y);
                Luma([match (inside, text && x % 12 < 4) {
                    (true, true) => 255,
                    (true, false) => 30,
                    _ => 250,
                }])
            });
            let found = patches(&page);
            assert_eq!(found.len(), 1, "shifted {shift}: {found:?}");
            let p = found[0];
            assert_eq!(
                (p.left, p.top, p.width, p.height),
                (600 + shift, 1200 + shift, 400, 130)
            );
        }
    }

    #[test]
    fn paper_beyond_a_rounded_corner_stays_paper() {
        let page = GrayImage::from_fn(1200, 1600, |x, y| {
            let corner = !(106..394).contains(&x) && !(906..954).contains(&y);
            let inside = (100..400).contains(&x) && (900..960).contains(&y) && !corner;
            let text = (150..350).contains(&x) && (915..945).contains(&y) && x % 15 < 3;
            Luma([match (inside, text) {
                (true, true) => 255,
                (true, false) => 110,
                _ => 250,
            }])
        });
        let found = patches(&page);
        assert_eq!(found.len(), 1, "{found:?}");
        let lifted = lifted(&page, &found);
        assert_eq!(lifted.get_pixel(found[0].left, found[0].top).0[0], 255);
        assert_eq!(lifted.get_pixel(150, 920).0[0], 0);
    }

    #[test]
    fn the_counters_of_bold_letters_are_no_patch() {
        // A bold `b` as a screenshot enlarged shows it: a thick ring of ink
        // round one light counter; a `B`'s two counters stand one above the
        // other, a blackletter `ch`'s two side by side. Beside them, a patch
        // of three light marks side by side.
        let page = GrayImage::from_fn(1200, 1600, |x, y| {
            // A bowl squared off as enlarged type is: 80 across, strokes 22 thick.
            let ring = |cx: u32, cy: u32| {
                let (dx, dy) = (x.abs_diff(cx), y.abs_diff(cy));
                dx < 40 && dy < 40 && (dx >= 18 || dy >= 18)
            };
            let b = ring(200, 300) || (155..165).contains(&x) && (200..340).contains(&y);
            let double_b = ring(500, 300) || ring(500, 378);
            let ch = ring(200, 700) || ring(278, 700);
            let patch = (800..1000).contains(&x) && (280..360).contains(&y);
            let marks = [830, 880, 930].iter().any(|m| (*m..m + 20).contains(&x));
            let marked = patch && (300..340).contains(&y) && marks;
            Luma([match (b || double_b || ch || patch, marked) {
                (_, true) => 250,
                (true, false) => 30,
                _ => 250,
            }])
        });
        let found = patches(&page);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].left.abs_diff(800) <= 3, "{found:?}");
    }

    #[test]
    fn a_lifted_patch_is_dark_text_on_white_paper() {
        let original = page(250, Some((110, 255)));
        let found = patches(&original);
        let lifted = lifted(&original, &found);
        // The box's fill is paper, its light strokes ink, and the rest of the
        // page (its dark text too) as it was.
        assert_eq!(lifted.get_pixel(120, 905).0[0], 255);
        assert_eq!(lifted.get_pixel(150, 920).0[0], 0);
        assert_eq!(lifted.get_pixel(105, 10).0[0], 20);
        for (x, y) in (0..original.width()).step_by(7).zip((0..800).step_by(3)) {
            assert_eq!(lifted.get_pixel(x, y), original.get_pixel(x, y));
        }
        let mut colour =
            RgbImage::from_pixel(original.width(), original.height(), image::Rgb([9, 9, 9]));
        lift_colour(&mut colour, &lifted, &found);
        assert_eq!(colour.get_pixel(120, 905).0, [255, 255, 255]);
        assert_eq!(colour.get_pixel(150, 920).0, [0, 0, 0]);
        assert_eq!(colour.get_pixel(100, 0).0, [9, 9, 9]);
        // The ring cleared round the patch is painted too.
        let (left, top) = (found[0].left, found[0].top);
        assert_eq!(colour.get_pixel(left - 1, top + 10).0, [255, 255, 255]);
    }
}
