//! Real-document behaviour on generated files: reading order across columns,
//! the resolution a file states, and a searchable PDF that is the original page
//! (size, colour, bit depth, brightness) with only invisible text added.

mod support;

use std::path::Path;

use image::GrayImage;
use scribe_core::formats::Formats;
use scribe_core::results::PageSource;
use scribe_core::settings::Settings;
use scribe_fixtures::{
    halftone_map, page_text, pdf, render, render_columns, render_page, tiff_file,
};
use support::*;

/// Page sizes in points from `pdfinfo`.
fn page_sizes(pdf: &Path) -> Vec<(f64, f64)> {
    let pages = run("pdfinfo", &["-f", "1", "-l", "999", &pdf.to_string_lossy()]);
    pages
        .lines()
        .filter(|l| l.starts_with("Page") && l.contains(" size:"))
        .filter_map(|l| {
            let dims = l.split(" size:").nth(1)?;
            let mut parts = dims.split_whitespace();
            let w = parts.next()?.parse().ok()?;
            let h = parts.nth(1)?.parse().ok()?;
            Some((w, h))
        })
        .collect()
}

/// Mean gray level of the PDF's first page rendered at `dpi`.
fn rendered_brightness(pdf: &Path, dpi: u32) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("r");
    run(
        "pdftoppm",
        &[
            "-r",
            &dpi.to_string(),
            "-gray",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            &pdf.to_string_lossy(),
            &root.to_string_lossy(),
        ],
    );
    mean(
        &image::open(root.with_extension("pgm"))
            .expect("render")
            .into_luma8(),
    )
}

fn mean(image: &GrayImage) -> f64 {
    image.pixels().map(|p| f64::from(p.0[0])).sum::<f64>() / image.len().max(1) as f64
}

fn two_columns() -> scribe_fixtures::Page {
    render_columns(&page_text(11, 3), &page_text(12, 3), 300, (8.5, 5.5), 11.0)
        .expect("render columns")
}

/// The PNM encoding of a gray page (P5), what SANE's scanimage writes.
fn pgm(image: &GrayImage) -> Vec<u8> {
    let mut out = format!("P5\n{} {}\n255\n", image.width(), image.height()).into_bytes();
    out.extend_from_slice(image.as_raw());
    out
}

#[test]
fn the_first_column_is_read_before_the_second() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = two_columns();
    let path = save_png(&page.image, dir.path(), "columns.png");
    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let text = result.text();
    let half = page.lines.len() / 2;
    // The left column's last line and the right column's first line, found in the text.
    let find = |line: &str| {
        let words: Vec<&str> = line.split_whitespace().take(3).collect();
        text.find(&words.join(" "))
            .unwrap_or_else(|| panic!("{words:?} not in {text:?}"))
    };
    let left_last = find(&page.lines[half - 1]);
    let right_first = find(&page.lines[half]);
    assert!(
        left_last < right_first,
        "the right column starts before the left one ends:\n{text}"
    );
    let rate = cer(&text, &page.text());
    assert!(rate <= 0.03, "CER {rate:.4}");
}

#[test]
fn a_page_that_states_no_resolution_is_measured_by_its_words() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A letter's body text, 10.5–12 pt, at two scanner resolutions.
    for (dpi, points, seed) in [(300, 11.0, 51), (200, 12.0, 52), (300, 10.5, 53)] {
        let page = render_page(&page_text(seed, 10), dpi, (7.0, 6.0), points).expect("render");
        let png = save_png(&page.image, dir.path(), &format!("{seed}.png"));
        let (result, _) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
        let p = &result.pages[0];
        assert!(p.dpi_estimated);
        let guess = f64::from(p.dpi.expect("enough words to judge"));
        assert!(
            (guess / f64::from(dpi) - 1.0).abs() <= 0.1,
            "{points} pt at {dpi} dpi was judged {guess} dpi"
        );
    }
}

#[test]
fn a_whole_a4_sheet_without_a_resolution_becomes_an_a4_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Small print, which the height of its words alone judges ~210 dpi.
    let sheet = render_page(&page_text(54, 6), 300, (8.268, 11.693), 7.0).expect("render");
    let png = save_png(&sheet.image, dir.path(), "sheet.png");
    let (result, sink) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert_eq!((p.dpi, p.dpi_estimated), (Some(300), true));
    let (pw, ph) = page_sizes(&searchable(&sink, dir.path()))[0];
    assert!(
        (pw - 595.3).abs() < 2.0 && (ph - 841.9).abs() < 2.0,
        "{pw}×{ph} pt, not A4"
    );
}

/// `page` as a worn-out copier leaves it: `ink` barely darker than gray paper
/// (236), soft and grainy; `mirrored`, as the other side shows through.
fn pale(page: &GrayImage, ink: u32, mirrored: bool) -> GrayImage {
    let (w, h) = page.dimensions();
    let gray = GrayImage::from_fn(w, h, |x, y| {
        let x = if mirrored { w - 1 - x } else { x };
        let v = u32::from(page.get_pixel(x, y).0[0]);
        image::Luma([(ink + v * (236 - ink) / 255) as u8])
    });
    let soft = image::imageops::blur(&gray, 1.3);
    GrayImage::from_fn(w, h, |x, y| {
        let grain = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) % 13;
        let v = i32::from(soft.get_pixel(x, y).0[0]) + grain as i32 - 6;
        image::Luma([v.clamp(0, 255) as u8])
    })
}

#[test]
fn the_blank_back_of_a_sheet_stays_blank_though_its_front_shows_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let front = render_page(&page_text(62, 14), 300, (8.268, 11.693), 11.0).expect("render");
    let back = pale(&front.image, 212, true);
    let png = gray_png_at(&back, 11811, &dir.path().join("back.png"));
    let (result, _) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    let letters = p.text.chars().filter(|c| c.is_alphanumeric()).count();
    assert!(letters < 40, "{letters} letters: {:?}", p.text);
}

#[test]
fn a_pale_photocopy_is_read_in_black_and_white_when_gray_finds_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = render_page(&page_text(61, 14), 300, (8.268, 11.693), 11.0).expect("render");
    let png = gray_png_at(
        &pale(&page.image, 200, false),
        11811,
        &dir.path().join("pale.png"),
    );
    let (result, _) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    let error = cer(&p.text, &page.text());
    assert!(error < 0.05, "CER {error:.3}: {:?}", p.text);
    assert!(
        p.preprocessing
            .steps
            .iter()
            .any(|s| s == "binarize-adaptive"),
        "{:?}",
        p.preprocessing.steps
    );
}

#[test]
fn lines_marked_with_a_highlighter_are_read_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = render_page(&page_text(63, 10), 300, (8.268, 6.0), 11.0).expect("render");
    let (w, h) = page.image.dimensions();
    // The rows of each line of print, from the gaps between them.
    let inked: Vec<bool> = (0..h)
        .map(|y| (0..w).any(|x| page.image.get_pixel(x, y).0[0] < 128))
        .collect();
    let mut lines = Vec::new();
    let mut start = None;
    for (y, &ink) in inked.iter().enumerate() {
        match (ink, start) {
            (true, None) => start = Some(y),
            (false, Some(s)) => {
                lines.push(s.saturating_sub(8)..y + 8);
                start = None;
            }
            _ => {}
        }
    }
    assert!(lines.len() >= 6, "{} lines", lines.len());
    // Every other line marked, in the colours of a pencil case, multiplied
    // over the print as ink on paper is.
    let pens = [
        [255, 240, 60],
        [150, 250, 120],
        [255, 150, 200],
        [255, 180, 60],
    ];
    let colour = image::RgbImage::from_fn(w, h, |x, y| {
        let v = u32::from(page.image.get_pixel(x, y).0[0]);
        let pen = lines
            .iter()
            .position(|l| l.contains(&(y as usize)))
            .filter(|n| n % 2 == 1)
            .map_or([255, 255, 255], |n| pens[n / 2 % pens.len()]);
        image::Rgb(pen.map(|c: u32| (c * v / 255) as u8))
    });
    let png = dir.path().join("marked.png");
    colour.save(&png).expect("png");
    let (result, _) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
    let error = cer(&result.pages[0].text, &page.text());
    assert!(error < 0.05, "CER {error:.3}: {:?}", result.pages[0].text);
}

#[test]
fn a_stated_resolution_is_read_and_sizes_the_pdf_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(21);
    let (w, h) = page.image.dimensions();
    // A PNG that says 300 dpi (pHYs, pixels per metre).
    let png = gray_png_at(&page.image, 11811, &dir.path().join("scan.png"));
    let (result, sink) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert_eq!(p.dpi, Some(300));
    assert!(!p.dpi_estimated);
    assert_eq!((p.width, p.height), (w, h));
    assert!(!p.preprocessing.steps.contains(&"upscale".to_owned()));
    let pdf = searchable(&sink, dir.path());
    let (pw, ph) = page_sizes(&pdf)[0];
    let (ew, eh) = (f64::from(w) / 300.0 * 72.0, f64::from(h) / 300.0 * 72.0);
    assert!(
        (pw - ew).abs() / ew < 0.01 && (ph - eh).abs() / eh < 0.01,
        "{pw}×{ph} pt for a {ew}×{eh} pt page"
    );
    // The words are findable in the PDF and the page looks like the scan.
    let text = run("pdftotext", &[&pdf.to_string_lossy(), "-"]);
    assert!(word_recall(&text, &page.text()) > 0.9, "{text}");
    let shown = rendered_brightness(&pdf, 300);
    assert!((shown - mean(&page.image)).abs() < 4.0, "{shown}");
}

/// A scan of `page` (300 dpi pixels) placed on a PDF page sized as if it were
/// scanned at `stated` dpi, as tools that misread an image's resolution do.
fn scan_on_a_page_sized_for(page: &render::Page, stated: u32, dir: &Path) -> std::path::PathBuf {
    let path = dir.join(format!("stated-{stated}.pdf"));
    pdf::write_scanned(std::slice::from_ref(&page.image), stated, &path).expect("pdf");
    path
}

#[test]
fn a_scan_on_a_pdf_page_far_too_small_is_read_at_the_size_its_words_show() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = render_page(&page_text(36, 40), DPI, (8.5, 11.0), 9.0).expect("render");
    // 2.3 × 3 inches: told the render's 400 dpi, the engine took 9-pixel
    // words for 2-point type and misread a third of the page.
    let path = scan_on_a_page_sized_for(&page, 1100, dir.path());
    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let error = cer(&result.pages[0].text, &page.text());
    assert!(error <= 0.03, "CER {error:.3}: {}", result.pages[0].text);
}

#[test]
fn a_scan_on_a_pdf_page_far_too_large_is_read_at_its_own_pixels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(35);
    // 180 × 135 inches: even at 50 dpi over the pixel limit, which refused
    // the file, though the scan itself is 2.4 megapixels.
    let path = scan_on_a_page_sized_for(&page, 10, dir.path());
    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let read = &result.pages[0];
    assert_eq!((read.width, read.height), page.image.dimensions());
    assert!(read.dpi_estimated, "10 dpi is no scanner's: {:?}", read.dpi);
    let error = cer(&read.text, &page.text());
    assert!(error <= 0.02, "CER {error:.3}: {}", read.text);
    let out = searchable(&sink, dir.path());
    assert_eq!(page_sizes(&out), page_sizes(&path), "the PDF's own page");
}

#[test]
fn a_colour_jpeg_stays_colour_and_is_passed_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(22);
    let (w, h) = page.image.dimensions();
    let colour = blue_on_cream(&page.image);
    let path = dir.path().join("photo.jpg");
    colour.save(&path).expect("jpeg");
    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    assert!(cer(&result.text(), &page.text()) < 0.05);
    let pdf = searchable(&sink, dir.path());
    let imgs = images(&pdf);
    assert_eq!(imgs.len(), 1, "{imgs:?}");
    assert_eq!((imgs[0].0, imgs[0].1), (w, h));
    assert_eq!(imgs[0].2, "rgb");
    assert_eq!(imgs[0].4, "jpeg");
    let input = std::fs::metadata(&path).expect("stat").len() as f64;
    let output = std::fs::metadata(&pdf).expect("stat").len() as f64;
    assert!(
        output < input * 1.5,
        "{output} bytes for a {input}-byte JPEG"
    );
    assert_colour_preview(&sink, "the JPEG");

    // The same page as an RGB TIFF (three BitsPerSample values) stays colour too.
    let tiff = dir.path().join("photo.tif");
    colour.save(&tiff).expect("tiff");
    let (_, sink) = ocr_file(&tiff, "eng", Settings::default()).expect("ocr");
    let pdf = searchable(&sink, dir.path());
    assert_eq!(images(&pdf)[0].2, "rgb", "{:?}", images(&pdf));
    // Every page of a colour TIFF, not only its first.
    let pages = dir.path().join("pages.tif");
    tiff_file::write_multipage_rgb(&[colour.clone(), colour.clone()], &pages).expect("tiff");
    let (_, sink) = ocr_file(&pages, "eng", Settings::default()).expect("ocr");
    let pdf = searchable(&sink, dir.path());
    let spaces: Vec<_> = images(&pdf).into_iter().map(|i| i.2).collect();
    assert_eq!(spaces, ["rgb", "rgb"]);
    // And Tesseract is given its colour, as for the JPEG, in the right orientation.
    let doc = scribe_core::Document::open(&tiff, &Settings::default()).expect("open");
    let loaded = doc.load_page(1).expect("page");
    let seen = loaded
        .colour
        .as_deref()
        .expect("the TIFF's colour is kept for OCR");
    assert_eq!(seen.dimensions(), (w, h));
    assert_eq!(seen, &colour);
}

/// The page's preview is in colour, and its paper is the cream of the page.
fn assert_colour_preview(sink: &MemorySink, what: &str) {
    let png = sink.pages[0].2.as_deref().expect("a preview");
    let preview = image::load_from_memory(png).expect("png");
    assert_eq!(preview.color(), image::ColorType::Rgb8, "{what}");
    let rgb = preview.into_rgb8();
    let n = f64::from(rgb.width() * rgb.height());
    let [r, g, b] = [0, 1, 2].map(|c| rgb.pixels().map(|p| f64::from(p.0[c])).sum::<f64>() / n);
    assert!(
        r > b + 15.0,
        "{what}: the preview is not cream ({r:.0}, {g:.0}, {b:.0})"
    );
}

#[test]
fn a_colour_scanned_pdf_is_read_and_shown_in_colour_a_gray_one_in_gray() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(27);
    let (w, h) = page.image.dimensions();
    let colour = blue_on_cream(&page.image);
    let path = dir.path().join("colour-scan.pdf");
    pdf::write_scanned_colour(std::slice::from_ref(&colour), 300, &path).expect("pdf");
    let doc = scribe_core::Document::open(&path, &Settings::default()).expect("open");
    let loaded = doc.load_page(1).expect("page");
    let seen = loaded
        .colour
        .as_deref()
        .expect("a colour page renders in colour");
    assert_eq!(seen.dimensions(), (w, h));
    assert_eq!(seen.get_pixel(0, 0).0, [250, 240, 215]);
    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    assert!(
        cer(&result.text(), &page.text()) < 0.05,
        "{}",
        result.text()
    );
    assert_colour_preview(&sink, "the colour PDF");

    let gray = dir.path().join("gray-scan.pdf");
    pdf::write_scanned(std::slice::from_ref(&page.image), 300, &gray).expect("pdf");
    let doc = scribe_core::Document::open(&gray, &Settings::default()).expect("open");
    assert!(doc.load_page(1).expect("page").colour.is_none());
    let (_, sink) = ocr_file(&gray, "eng", Settings::default()).expect("ocr");
    let preview = image::load_from_memory(sink.pages[0].2.as_deref().expect("preview"));
    assert_eq!(preview.expect("png").color(), image::ColorType::L8);
}

#[test]
fn bilevel_g4_and_min_is_white_tiffs_stay_1_bit_and_upright() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(23);
    for photometric in ["-minisblack", "-miniswhite"] {
        let tiff = dir.path().join(format!("scan{photometric}.tif"));
        g4_tiff(&page.image, photometric, &tiff);
        let (result, sink) = ocr_file(&tiff, "eng", Settings::default()).expect("ocr");
        assert!(
            cer(&result.text(), &page.text()) < 0.05,
            "{photometric}: {}",
            result.text()
        );
        assert_eq!(result.pages[0].dpi, Some(300));
        let pdf = searchable(&sink, dir.path());
        let imgs = images(&pdf);
        assert_eq!(imgs[0].3, 1, "{photometric}: {imgs:?}");
        // A single-strip G4 page keeps its fax stream; any bilevel page is G4.
        assert_eq!(imgs[0].4, "ccitt", "{photometric}: {imgs:?}");
        let shown = rendered_brightness(&pdf, 300);
        assert!(
            (shown - mean(&page.image)).abs() < 6.0,
            "{photometric}: rendered mean {shown} vs {}",
            mean(&page.image)
        );
        let input = std::fs::metadata(&tiff).expect("stat").len() as f64;
        let output = std::fs::metadata(&pdf).expect("stat").len() as f64;
        assert!(output < input * 1.5 + 20_000.0, "{output} vs {input}");
        // The preview is not inverted either.
        let preview = image::load_from_memory(sink.pages[0].2.as_deref().expect("preview"))
            .expect("png")
            .into_luma8();
        assert!(
            mean(&preview) > 200.0,
            "{photometric}: preview mean {}",
            mean(&preview)
        );
    }
}

#[test]
fn an_orientation_tagged_tiff_is_read_upright_and_shown_upright() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(24);
    // Stored turned a quarter to the left, with Orientation 6 saying "turn it right to view".
    let stored = image::imageops::rotate270(&page.image);
    let tiff = dir.path().join("tagged.tif");
    {
        use tiff::encoder::{Rational, TiffEncoder, colortype};
        use tiff::tags::{ResolutionUnit, Tag};
        let file = std::fs::File::create(&tiff).expect("create");
        let mut enc = TiffEncoder::new(std::io::BufWriter::new(file)).expect("tiff");
        let mut img = enc
            .new_image::<colortype::Gray8>(stored.width(), stored.height())
            .expect("image");
        img.encoder()
            .write_tag(Tag::Orientation, 6u16)
            .expect("tag");
        img.resolution(ResolutionUnit::Inch, Rational { n: 300, d: 1 });
        img.write_data(stored.as_raw()).expect("data");
    }
    let (result, sink) = ocr_file(&tiff, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert_eq!((p.width, p.height), page.image.dimensions());
    assert_eq!(p.rotation_applied, 0, "the tag, not OSD, turned it");
    assert!(cer(&result.text(), &page.text()) < 0.05);
    let pdf = searchable(&sink, dir.path());
    let (pw, ph) = page_sizes(&pdf)[0];
    assert!(
        pw > ph,
        "the page is shown landscape like the original: {pw}×{ph}"
    );
}

#[test]
fn a_fax_resolution_204_by_98_dpi_gives_a_page_of_its_real_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A letter-width fax line: 1728 × 1078 pixels at 204 × 98 dpi is 8.47 × 11 in.
    let page = GrayImage::from_fn(1728, 1078, |x, y| {
        image::Luma([if (x / 40 + y / 20) % 7 == 0 { 0 } else { 255 }])
    });
    let tiff = dir.path().join("fax.tif");
    {
        use tiff::encoder::{Rational, TiffEncoder, colortype};
        use tiff::tags::Tag;
        let file = std::fs::File::create(&tiff).expect("create");
        let mut enc = TiffEncoder::new(std::io::BufWriter::new(file)).expect("tiff");
        let mut img = enc
            .new_image::<colortype::Gray8>(page.width(), page.height())
            .expect("image");
        img.encoder()
            .write_tag(Tag::XResolution, Rational { n: 204, d: 1 })
            .expect("x");
        img.encoder()
            .write_tag(Tag::YResolution, Rational { n: 98, d: 1 })
            .expect("y");
        img.encoder()
            .write_tag(Tag::ResolutionUnit, 2u16)
            .expect("unit");
        img.write_data(page.as_raw()).expect("data");
    }
    let (_, sink) = ocr_file(&tiff, "eng", Settings::default()).expect("ocr");
    let pdf = searchable(&sink, dir.path());
    let (pw, ph) = page_sizes(&pdf)[0];
    let (ew, eh) = (1728.0 / 204.0 * 72.0, 1078.0 / 98.0 * 72.0);
    assert!(
        (pw - ew).abs() / ew < 0.01 && (ph - eh).abs() / eh < 0.01,
        "{pw}×{ph} pt, expected {ew:.1}×{eh:.1}"
    );
}

#[test]
fn a_group_3_fax_at_204_by_98_dpi_is_read_with_square_pixels() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Fax "normal" mode keeps every other row of a 204 × 196-dpi page, so its
    // letters are stored at half their height.
    let fine = render_page(&page_text(41, 8), 204, (7.0, 5.0), 7.0).expect("render");
    let (w, h) = fine.image.dimensions();
    let fax = GrayImage::from_fn(w, h / 2, |x, y| *fine.image.get_pixel(x, 2 * y));
    let path = dir.path().join("fax.tif");
    pnmtotiff(
        &fax,
        &[
            "-g3",
            "-2d",
            "-fill",
            "-miniswhite",
            "-xresolution",
            "204",
            "-yresolution",
            "98",
        ],
        &path,
    );
    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let page = &result.pages[0];
    // Read squashed (only enlarged), 7-point print comes out at CER ~0.23.
    let error = cer(&page.text, &fine.text());
    assert!(error < 0.06, "CER {error:.3}: {}", page.text);
    assert!(
        page.preprocessing
            .steps
            .iter()
            .any(|s| s == "square-pixels"),
        "{:?}",
        page.preprocessing.steps
    );
    // Boxes stay in the file's own pixels, which the searchable PDF places
    // at 204 × 98 dpi.
    assert_eq!((page.width, page.height), fax.dimensions());
    let ink_ends = fax
        .enumerate_rows()
        .filter_map(|(y, mut row)| row.any(|(_, _, p)| p.0[0] < 128).then_some(y + 1))
        .max();
    let lowest = page.words.iter().map(|w| w.bbox.y + w.bbox.height).max();
    assert!(
        lowest
            .zip(ink_ends)
            .is_some_and(|(a, b)| a.abs_diff(b) <= 3),
        "the last line ends at row {lowest:?}; the ink at {ink_ends:?}"
    );
    let pdf = searchable(&sink, dir.path());
    let (pw, ph) = page_sizes(&pdf)[0];
    let (ew, eh) = (f64::from(w) / 204.0 * 72.0, f64::from(h / 2) / 98.0 * 72.0);
    assert!(
        (pw - ew).abs() < 1.0 && (ph - eh).abs() < 1.0,
        "{pw}×{ph} pt, expected {ew:.1}×{eh:.1}"
    );
}

#[test]
fn pnm_and_jpeg_2000_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(25);
    let pnm = dir.path().join("scan.pgm");
    std::fs::write(&pnm, pgm(&page.image)).expect("pgm");
    let pbm_path = dir.path().join("scan.pbm");
    std::fs::write(&pbm_path, pbm(&page.image)).expect("pbm");
    let jp2 = dir.path().join("scan.jp2");
    run(
        "opj_compress",
        &[
            "-i",
            &pnm.to_string_lossy(),
            "-o",
            &jp2.to_string_lossy(),
            "-r",
            "20",
        ],
    );
    // A bilevel page stays bilevel: G4, like a fax or a scanner's TIFF.
    for (path, encoding) in [(&pnm, "image"), (&pbm_path, "ccitt"), (&jp2, "jpx")] {
        let (result, sink) = ocr_file(path, "eng", Settings::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let rate = cer(&result.text(), &page.text());
        assert!(rate < 0.05, "{}: CER {rate}", path.display());
        let pdf = searchable(&sink, dir.path());
        assert_eq!(images(&pdf)[0].4, encoding, "{}", path.display());
    }
}

#[test]
fn a_born_digital_pdf_keeps_its_own_text_and_pages_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = page_text(26, 4);
    let path = dir.path().join("digital.pdf");
    pdf::write_text(std::slice::from_ref(&lines), &path).expect("pdf");
    let before = run("pdftotext", &[&path.to_string_lossy(), "-"]);
    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    assert_eq!(result.pages[0].source, PageSource::TextLayer);
    let pdf = searchable(&sink, dir.path());
    let after = run("pdftotext", &[&pdf.to_string_lossy(), "-"]);
    assert_eq!(after, before, "the text layer is the original's, unchanged");
    assert!(images(&pdf).is_empty(), "nothing rasterised");
    assert_eq!(page_sizes(&pdf), page_sizes(&path));
    // Its preview is rendered as wide as previews are, not at 72 dpi (612 px).
    let preview = image::load_from_memory(sink.pages[0].2.as_deref().expect("preview"))
        .expect("preview is an image");
    assert_eq!(preview.width(), Settings::default().ocr.preview_width);
    // 8.5 in at 118 dpi.
    assert_eq!(result.pages[0].width, 1003);
    assert_eq!(result.pages[0].dpi, Some(118));
}

#[test]
fn a_born_digital_page_s_words_are_its_own_boxed_where_they_stand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let upright = dir.path().join("digital.pdf");
    pdf::write_text(&[page_text(27, 4)], &upright).expect("pdf");
    let turned = dir.path().join("turned.pdf");
    run(
        "qpdf",
        &[
            "--rotate=+90:1",
            &upright.to_string_lossy(),
            &turned.to_string_lossy(),
        ],
    );
    let no_preview = Formats {
        preview: false,
        ..Formats::default()
    };
    let read = |path: &Path, formats: Formats| {
        let (result, mut sink) =
            ocr_file_as(path, "eng", Settings::default(), formats).expect("ocr");
        // Nothing was read: the page's words are not guesses to average.
        assert_eq!(result.mean_confidence, None);
        let page = result.pages.into_iter().next().expect("a page");
        assert_eq!(page.source, PageSource::TextLayer);
        let hocr = sink.pages[0].1.take().expect("hOCR");
        page.words.iter().for_each(|w| {
            assert!(
                w.bbox.x + w.bbox.width <= page.width && w.bbox.y + w.bbox.height <= page.height,
                "{w:?} off a {}x{} page",
                page.width,
                page.height
            );
        });
        let words: Vec<&str> = page.words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(words, page.text.split_whitespace().collect::<Vec<_>>());
        assert_eq!(hocr.matches("class='ocrx_word'").count(), words.len());
        page
    };
    let page = read(&upright, Formats::default());
    // The first word where pdftotext places it, at the page's resolution.
    let bbox = run("pdftotext", &["-bbox", &upright.to_string_lossy(), "-"]);
    let at = |name: &str| -> f64 {
        bbox.lines()
            .find(|l| l.contains("<word "))
            .and_then(|l| word_attribute(l, name))
            .expect("a word box")
    };
    let scale = f64::from(page.dpi.expect("dpi")) / 72.0;
    let first = page.words[0].bbox;
    assert!(
        (f64::from(first.x) - at("xMin") * scale).abs() <= 2.0,
        "{first:?}"
    );
    assert!(
        (f64::from(first.y) - at("yMin") * scale).abs() <= 2.0,
        "{first:?}"
    );
    // Turned by `/Rotate 90`, the page is shown landscape and its first word
    // stands on end at the top right; without a preview rendered the page's
    // size is worked out, and is the render's.
    let shown = read(&turned, no_preview);
    let rendered = read(&turned, Formats::default());
    assert_eq!(
        (shown.width, shown.height),
        (rendered.width, rendered.height)
    );
    assert_eq!((shown.width, shown.height), (page.height, page.width));
    let first = shown.words[0].bbox;
    assert!(
        first.height > first.width && first.x > shown.width / 2,
        "{first:?}"
    );
}

#[test]
fn a_scanned_pdf_keeps_its_page_objects_and_gains_findable_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = two_columns();
    let path = dir.path().join("scan.pdf");
    pdf::write_scanned(std::slice::from_ref(&page.image), 300, &path).expect("pdf");
    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    assert!(cer(&result.text(), &page.text()) < 0.05);
    let out = searchable(&sink, dir.path());
    assert_eq!(page_sizes(&out), page_sizes(&path));
    let (before, after) = (images(&path), images(&out));
    assert_eq!(after, before, "the scan's own image object is kept");
    let text = run("pdftotext", &[&out.to_string_lossy(), "-"]);
    assert!(word_recall(&text, &page.text()) > 0.9, "{text}");
    // Word positions: the layer's first word sits where OCR found it on the page.
    let bbox = run("pdftotext", &["-bbox", &out.to_string_lossy(), "-"]);
    let first = &result.pages[0].words[0];
    let scale = 72.0 / 300.0;
    let x = f64::from(first.bbox.x) * scale;
    let line = bbox
        .lines()
        .find(|l| l.contains(&format!(">{}</word>", first.text)))
        .unwrap_or_else(|| panic!("{} not in {bbox}", first.text));
    let x_min = word_attribute(line, "xMin").expect("xMin");
    assert!(
        (x_min - x).abs() < 3.0,
        "word at {x_min} pt, OCR box at {x} pt"
    );
}

#[test]
fn an_earlier_ocr_layer_over_a_skewed_scan_is_read_in_its_engines_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = two_columns();
    let skewed = render::skew(&page.image, -3.0);
    let png = gray_png_at(&skewed, 11_811, &dir.path().join("skewed.png"));
    // The earlier OCR is the tesseract command's PDF: the scan with each
    // word drawn invisibly along its skewed line.
    let base = dir.path().join("earlier");
    run(
        "tesseract",
        &[
            &png.to_string_lossy(),
            &base.to_string_lossy(),
            "-l",
            "eng",
            "pdf",
        ],
    );
    let earlier = base.with_extension("pdf");
    // The same file, its text not to be copied (an owner password).
    let locked = dir.path().join("locked.pdf");
    run(
        "qpdf",
        &[
            "--encrypt",
            "",
            "owner",
            "256",
            "--extract=n",
            "--",
            &earlier.to_string_lossy(),
            &locked.to_string_lossy(),
        ],
    );
    for path in [earlier, locked] {
        let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
        let p = &result.pages[0];
        assert_eq!(p.source, PageSource::TextLayer);
        // Put together by poppler's reading order, made for typeset text, the
        // skewed lines came apart into pieces and the columns mixed.
        let rate = cer(&p.text, &page.text());
        assert!(rate <= 0.05, "{path:?}: CER {rate:.4}: {:?}", p.text);
        // Its words are the text's, whole: poppler boxes such a layer's words
        // in pieces along the skewed line.
        let words: Vec<&str> = p.words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(words, p.text.split_whitespace().collect::<Vec<_>>());
    }
}

#[test]
fn read_again_by_force_a_scan_s_earlier_layer_gives_way_to_the_new_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = two_columns();
    let path = dir.path().join("scan.pdf");
    pdf::write_scanned(std::slice::from_ref(&page.image), 300, &path).expect("pdf");
    // Our own searchable PDF stands in for an earlier OCR's.
    let (_, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let earlier = dir.path().join("earlier.pdf");
    std::fs::rename(searchable(&sink, dir.path()), &earlier).expect("rename");
    let mut forced = Settings::default();
    forced.ocr.skip_text = false;
    let (result, sink) = ocr_file(&earlier, "eng", forced).expect("ocr");
    assert_eq!(result.pages[0].source, PageSource::Ocr);
    let out = searchable(&sink, dir.path());
    let text = run("pdftotext", &["-raw", &out.to_string_lossy(), "-"]);
    // Both layers together held every word twice.
    assert_each_word_once(&text, &page.text());
    assert_eq!(images(&out), images(&earlier), "the scan itself is kept");
}

#[test]
fn hocr_boxes_are_in_the_uploaded_pixels_like_the_json_words() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 120 dpi is enlarged 2.5× for Tesseract; both outputs must still speak in
    // the pixels of the file as uploaded.
    let page = render_page(&page_text(31, 3), 120, (6.0, 3.0), 12.0).expect("render");
    let (w, h) = page.image.dimensions();
    let png = gray_png_at(&page.image, 4724, &dir.path().join("small.png"));
    let (result, sink) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert!(
        p.preprocessing.steps.contains(&"upscale".to_owned()),
        "{:?}",
        p.preprocessing
    );
    let hocr = sink.pages[0].1.as_deref().expect("hOCR");
    assert!(
        hocr.contains(&format!("bbox 0 0 {w} {h};")),
        "page box: {hocr:.300}"
    );
    assert!(hocr.contains("scan_res 120 120"), "{hocr:.300}");
    let boxes_of = |class: &str| -> Vec<[u32; 4]> {
        hocr.split(&format!("class='{class}'"))
            .skip(1)
            .filter_map(|s| {
                let b = s.split("bbox ").nth(1)?.split(';').next()?;
                let n: Vec<u32> = b
                    .split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect();
                n.try_into().ok()
            })
            .collect()
    };
    let hocr_words = boxes_of("ocrx_word");
    let json_words: Vec<[u32; 4]> = p
        .words
        .iter()
        .map(|w| {
            [
                w.bbox.x,
                w.bbox.y,
                w.bbox.x + w.bbox.width,
                w.bbox.y + w.bbox.height,
            ]
        })
        .collect();
    assert!(json_words.len() >= 10, "{} words", json_words.len());
    let matching = hocr_words.iter().filter(|b| json_words.contains(b)).count();
    assert!(
        matching * 10 >= hocr_words.len() * 9,
        "{matching} of {} hOCR word boxes match the JSON words",
        hocr_words.len()
    );
    assert!(
        hocr_words.iter().all(|b| b[2] <= w && b[3] <= h),
        "a box outside the page"
    );
}

#[test]
fn labels_on_a_halftone_picture_are_read_once_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let labels = [
        (300, 80, "North Gate 1.2 km"),
        (1100, 250, "Old Mill Road"),
        (400, 420, "Riverside Park"),
        (1200, 600, "Station 400 m"),
    ];
    let map = halftone_map(
        "Members may borrow up to twelve books and four films at a time.",
        &labels,
        "Opening hours are posted at the entrance and on our website.",
    )
    .expect("map");
    let png = gray_png_at(&map.image, 11811, &dir.path().join("map.png"));
    let (result, sink) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
    let text = &result.pages[0].text;
    // Layout analysis takes the map for a picture and reads none of it; the
    // picture's own lines are read, and nothing it already read comes twice.
    for word in ["North", "Gate", "Mill", "Park", "Station"] {
        assert_eq!(text.matches(word).count(), 1, "{word} in {text:?}");
    }
    assert!(text.find("Members") < text.find("North"), "{text:?}");
    assert!(text.find("Station") < text.find("Opening"), "{text:?}");
    // The hOCR reads in the same order.
    let hocr = sink.pages[0].1.as_deref().expect("hOCR");
    let at = |word: &str| hocr.find(word).expect(word);
    assert!(
        at("Members") < at("North") && at("North") < at("Opening"),
        "{hocr}"
    );
    // The words found there are in the searchable PDF and in results.json.
    let pdf = searchable(&sink, dir.path());
    let layer = run("pdftotext", &["-raw", &pdf.to_string_lossy(), "-"]);
    assert!(layer.contains("North Gate"), "{layer}");
    assert_eq!(layer.matches("Station").count(), 1, "{layer}");
    let gate = result.pages[0]
        .words
        .iter()
        .find(|w| w.text == "Gate")
        .expect("Gate's box");
    let (_, label_top) = map.picture;
    assert!(
        (label_top + 60..label_top + 160).contains(&gate.bbox.y),
        "{:?}",
        gate.bbox
    );
}

#[test]
fn light_text_on_filled_buttons_is_read_where_it_stands() {
    let dir = tempfile::tempdir().expect("tempdir");
    // White on green, red, blue and gray: their gray levels.
    let labels = [
        ("Send invoice", 118u8),
        ("Delete", 105),
        ("Approve", 97),
        ("Archive", 116),
    ];
    let page = render::buttons(
        "Billing Customers Reports",
        "Please check the amounts before you send the invoice.",
        &labels,
        "Last changed three minutes ago by the accounts team.",
    )
    .expect("page");
    let png = gray_png_at(&page, 11811, &dir.path().join("form.png"));
    let (result, sink) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
    let text = &result.pages[0].text;
    // Layout analysis drops a filled box with its text; each is read, once,
    // between the lines above and below it, and the banner once too.
    for word in ["Send invoice", "Delete", "Approve", "Archive", "Customers"] {
        assert_eq!(text.matches(word).count(), 1, "{word} in {text:?}");
    }
    let at = |word: &str| text.find(word).expect(word);
    assert!(at("Billing") < at("Please"), "{text:?}");
    assert!(
        at("amounts") < at("Send") && at("Archive") < at("Last"),
        "{text:?}"
    );
    assert!(
        at("Send") < at("Delete") && at("Delete") < at("Approve"),
        "{text:?}"
    );
    // In the hOCR, the searchable PDF and results.json too.
    let hocr = sink.pages[0].1.as_deref().expect("hOCR");
    assert!(hocr.find("Approve") < hocr.find("Last"), "{hocr}");
    let pdf = searchable(&sink, dir.path());
    let layer = run("pdftotext", &["-raw", &pdf.to_string_lossy(), "-"]);
    assert!(
        layer.contains("Delete") && layer.contains("Archive"),
        "{layer}"
    );
    let delete = result.pages[0]
        .words
        .iter()
        .find(|w| w.text == "Delete")
        .expect("Delete's box");
    assert!((500..630).contains(&delete.bbox.y), "{:?}", delete.bbox);
}

#[test]
fn a_spreadsheets_grid_is_read_row_by_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows: [&[&str]; 6] = [
        &["Region", "Q1", "Q2", "Q3", "Total"],
        &["North", "12,400", "13,150", "11,980", "37,530"],
        &["South", "9,870", "10,240", "10,990", "31,100"],
        &["East", "15,020", "14,760", "15,880", "45,660"],
        &["West", "8,430", "8,910", "9,220", "26,560"],
        &["Total", "45,720", "47,060", "48,070", "140,850"],
    ];
    let sheet = render::spreadsheet(&rows).expect("sheet");
    let png = gray_png_at(&sheet, 3780, &dir.path().join("sheet.png"));
    let (result, _) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
    let text = &result.pages[0].text;
    // Layout analysis reads each column on its own; a row's label then
    // stands a screen away from its figures.
    for row in &rows[1..] {
        let line = row.join(" ");
        assert!(text.contains(&line), "{line:?} in {text:?}");
    }
    assert!(text.find("North") < text.find("South"), "{text:?}");
}

#[test]
fn a_photographed_page_on_its_side_is_judged_by_its_letters_not_its_words_on_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A letter photographed from above in landscape: 8-pt text at 300 dpi
    // on a wide dark desk, slightly out of focus, the photo stating no
    // resolution.
    let letter = render_page(&page_text(91, 8), 300, (8.268, 7.0), 8.0).expect("render");
    let (w, h) = letter.image.dimensions();
    let mut photo = GrayImage::from_pixel(w + 2000, h + 900, image::Luma([60]));
    image::imageops::overlay(&mut photo, &letter.image, 1000, 450);
    let photo = scribe_fixtures::render::noise(&image::imageops::blur(&photo, 1.5), 7);
    let sideways = image::imageops::rotate90(&photo);
    let png = save_png(&sideways, dir.path(), "photo.png");
    let (result, sink) = ocr_file(&png, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    let error = cer(&p.text, &letter.text());
    assert!(error < 0.05, "CER {error:.3}: {:?}", p.text);
    // Read as it lies (vertical lines) or turned upright, either way.
    assert!([0, 90, 270].contains(&p.rotation_applied));
    // The resolution is judged from its letters' thickness, not the length
    // of its words standing on end in the photo's frame: 8-pt letters at
    // 300 dpi are as tall as 11-pt body text at 218.
    let dpi = p.dpi.expect("a judged resolution");
    assert!(p.dpi_estimated && (190..=250).contains(&dpi), "{dpi} dpi");
    let (pw, _) = page_sizes(&searchable(&sink, dir.path()))[0];
    let expected = f64::from(sideways.width()) / f64::from(dpi) * 72.0;
    assert!((pw - expected).abs() < 2.0, "{pw} pt wide, not {expected}");
}

fn deflated_tiff(pages: &[render::Page], path: &Path) {
    let images: Vec<_> = pages.iter().map(|p| p.image.clone()).collect();
    tiff_file::write_multipage_deflated(&images, path).expect("tiff");
}

/// `pages` as a scanned PDF at 300 dpi in `dir`.
fn scanned_pdf(pages: &[render::Page], dir: &Path) -> std::path::PathBuf {
    let path = dir.join("scan.pdf");
    let images: Vec<_> = pages.iter().map(|p| p.image.clone()).collect();
    pdf::write_scanned(&images, 300, &path).expect("pdf");
    path
}

/// Asserts that `page` was not read, with `code` and a message saying `says`.
fn assert_unread(page: &scribe_core::results::PageResult, code: &str, says: &str) {
    assert_eq!(page.source, PageSource::Unread, "{page:?}");
    let failure = page.error.as_ref().expect("an unread page says why");
    assert_eq!(failure.code, code);
    assert!(failure.message.contains(says), "{}", failure.message);
}

fn damage_tiff_page(path: &Path, index: usize) {
    tiff_file::damage_page(path, index).expect("damage");
}

#[test]
fn a_damaged_page_of_a_tiff_is_reported_and_the_other_pages_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages: Vec<_> = (16..19).map(page).collect();
    let path = dir.path().join("damaged.tiff");
    deflated_tiff(&pages, &path);
    damage_tiff_page(&path, 1);

    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("the file is read");
    assert_eq!(result.page_count, 3);
    let sources: Vec<_> = result.pages.iter().map(|p| p.source).collect();
    assert_eq!(
        sources,
        [PageSource::Ocr, PageSource::Unread, PageSource::Ocr]
    );
    for i in [0, 2] {
        let rate = cer(&result.pages[i].text, &pages[i].text());
        assert!(rate <= 0.02, "page {}: CER {rate:.4}", i + 1);
    }
    assert_unread(&result.pages[1], "corrupt_file", "damaged");
    assert!(result.pages[1].text.is_empty() && result.pages[1].words.is_empty());
    // Its size is the file's: the searchable PDF keeps three pages the size
    // of the scans, the second blank.
    assert_eq!(
        (result.pages[1].width, result.pages[1].height),
        pages[1].image.dimensions()
    );
    let text = result.text();
    assert_eq!(
        text.split('\u{c}').count(),
        3,
        "page 2 keeps its place: {text:?}"
    );
    assert_eq!(text.split('\u{c}').nth(1), Some(""));
    let pdf = dir.path().join("out.pdf");
    std::fs::write(&pdf, sink.pdf.expect("a searchable PDF")).expect("write");
    let sizes = page_sizes(&pdf);
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    assert!((sizes[1].0 - sizes[0].0).abs() < 1.0, "{sizes:?}");
    let json = sink.json.expect("results.json");
    assert_eq!(json["pages"][1]["source"], "unread");
    assert_eq!(json["pages"][1]["error"]["code"], "corrupt_file");
    assert!(
        json["pages"][0].get("error").is_none(),
        "{}",
        json["pages"][0]
    );
}

#[test]
fn a_tiff_cut_short_gives_its_whole_pages_and_says_the_rest_is_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages: Vec<_> = (19..22).map(page).collect();
    let path = dir.path().join("cut.tiff");
    deflated_tiff(&pages, &path);
    let third = {
        let bytes = std::fs::read(&path).expect("read");
        let mut d = tiff::decoder::Decoder::new(std::io::Cursor::new(bytes)).expect("tiff");
        d.seek_to_image(2).expect("page 3");
        d.get_tag_u64_vec(tiff::tags::Tag::StripOffsets)
            .expect("offsets")[0]
    };
    // An interrupted download: the file ends inside the third page's data,
    // before its directory.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_len(third + 100).expect("truncate");

    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("the file is read");
    assert_eq!(result.page_count, 3);
    for i in [0, 1] {
        assert_eq!(result.pages[i].source, PageSource::Ocr);
        let rate = cer(&result.pages[i].text, &pages[i].text());
        assert!(rate <= 0.02, "page {}: CER {rate:.4}", i + 1);
    }
    assert_unread(&result.pages[2], "corrupt_file", "after page 2");
}

#[test]
fn a_tiff_of_which_no_page_can_be_read_fails_for_its_first_page_s_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages: Vec<_> = (22..24).map(page).collect();
    let path = dir.path().join("ruined.tiff");
    deflated_tiff(&pages, &path);
    damage_tiff_page(&path, 0);
    damage_tiff_page(&path, 1);
    let Err(err) = ocr_file(&path, "eng", Settings::default()) else {
        panic!("a file with nothing to read was read");
    };
    assert!(
        err.starts_with("page 1: ") && err.contains("damaged"),
        "{err}"
    );
}

#[test]
fn a_scan_whose_image_data_is_damaged_is_an_unread_page_not_a_blank_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages: Vec<_> = (24..26).map(page).collect();
    let path = scanned_pdf(&pages, dir.path());
    // Page 2's image stream is garbage from its first byte: poppler draws
    // empty paper where the scan was, with a warning.
    let mut doc = lopdf::Document::load(&path).expect("load");
    let page_2 = doc.get_pages()[&2];
    let (resources, _) = doc.get_page_resources(page_2).expect("resources");
    let image = resources
        .expect("page resources")
        .get(b"XObject")
        .and_then(lopdf::Object::as_dict)
        .and_then(|x| x.get(b"Im0"))
        .and_then(lopdf::Object::as_reference)
        .expect("the page's image");
    let stream = doc
        .get_object_mut(image)
        .and_then(lopdf::Object::as_stream_mut)
        .expect("image stream");
    let garbage = vec![0xff; stream.content.len().min(4096)];
    stream.set_content(garbage);
    doc.save(&path).expect("save");

    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("the file is read");
    assert_eq!(result.pages[0].source, PageSource::Ocr);
    assert!(cer(&result.pages[0].text, &pages[0].text()) <= 0.02);
    assert_unread(&result.pages[1], "corrupt_file", "image is damaged");
}

/// Overwrites the body of `id`'s object in the saved file at `path` with
/// bytes no parser reads as an object, as damage on a disk would.
fn garble_object(path: &Path, id: lopdf::ObjectId) {
    let mut bytes = std::fs::read(path).expect("read");
    let head = format!("{} {} obj", id.0, id.1).into_bytes();
    let start = bytes
        .windows(head.len())
        .position(|w| w == head.as_slice())
        .expect("the object is in the file")
        + head.len();
    let end = start
        + bytes[start..]
            .windows(6)
            .position(|w| w == b"endobj")
            .expect("the object ends");
    bytes[start..end]
        .iter_mut()
        .filter(|b| !b.is_ascii_whitespace())
        .for_each(|b| *b = b'#');
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn a_damaged_page_object_is_an_unread_page_and_the_pages_after_it_keep_their_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages: Vec<_> = (29..32).map(page).collect();
    let path = scanned_pdf(&pages, dir.path());
    let page_2 = lopdf::Document::load(&path).expect("load").get_pages()[&2];
    garble_object(&path, page_2);

    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("the file is read");
    assert_eq!(result.pages.len(), 3);
    assert!(cer(&result.pages[0].text, &pages[0].text()) <= 0.02);
    assert_unread(&result.pages[1], "corrupt_file", "page object is damaged");
    assert_eq!(result.pages[2].source, PageSource::Ocr);
    assert!(
        cer(&result.pages[2].text, &pages[2].text()) <= 0.02,
        "page 3 is read as page 3: {}",
        result.pages[2].text
    );
    let searchable = lopdf::Document::load_mem(&sink.pdf.expect("a searchable PDF"))
        .expect("the searchable PDF loads");
    assert_eq!(searchable.get_pages().len(), 3);
}

#[test]
fn a_page_counted_but_not_in_the_file_is_unread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages: Vec<_> = (32..34).map(page).collect();
    let path = scanned_pdf(&pages, dir.path());
    let mut doc = lopdf::Document::load(&path).expect("load");
    let tree = doc
        .catalog()
        .and_then(|c| c.get(b"Pages"))
        .and_then(lopdf::Object::as_reference)
        .expect("page tree");
    doc.get_dictionary_mut(tree).expect("tree").set("Count", 3);
    doc.save(&path).expect("save");

    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("the file is read");
    let sources: Vec<_> = result.pages.iter().map(|p| p.source).collect();
    assert_eq!(
        sources,
        [PageSource::Ocr, PageSource::Ocr, PageSource::Unread]
    );
    assert!(cer(&result.pages[1].text, &pages[1].text()) <= 0.02);
    assert_unread(&result.pages[2], "corrupt_file", "damaged or missing");
}

#[test]
fn a_tiff_page_over_the_pixel_limit_is_unread_and_the_others_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let small: Vec<_> = (26..28).map(page).collect();
    // 8.5 × 11 in at 300 dpi: 8.4 megapixels, against 2.4 for the others.
    let large = render_page(&page_text(28, 6), DPI, (8.5, 11.0), 12.0).expect("render");
    let images = [
        small[0].image.clone(),
        large.image.clone(),
        small[1].image.clone(),
    ];
    let path = dir.path().join("mixed.tiff");
    tiff_file::write_multipage_deflated(&images, &path).expect("tiff");
    let mut settings = Settings::default();
    settings.limits.max_pixels = 5_000_000;

    let (result, _) = ocr_file(&path, "eng", settings.clone()).expect("the file is read");
    let sources: Vec<_> = result.pages.iter().map(|p| p.source).collect();
    assert_eq!(
        sources,
        [PageSource::Ocr, PageSource::Unread, PageSource::Ocr]
    );
    assert_unread(&result.pages[1], "too_many_pixels", "2550×3300");
    assert!(cer(&result.pages[2].text, &small[1].text()) <= 0.02);

    // With no page within the limit the file is refused at once.
    let path = dir.path().join("large.tiff");
    tiff_file::write_multipage_deflated(&[large.image], &path).expect("tiff");
    let Err(err) = ocr_file(&path, "eng", settings) else {
        panic!("a file with no page within the limit was read");
    };
    assert!(
        err.contains("2550×3300") && !err.starts_with("page"),
        "{err}"
    );
}
